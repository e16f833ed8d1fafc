"""Instrument scoring against worked examples, properties, and the flag rule."""

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from alliance import scoring

FOLDER = Path(__file__).resolve().parents[2] / "alliance" / "instruments"
PHQ9 = json.loads((FOLDER / "phq9_v1.json").read_text())
GAD7 = json.loads((FOLDER / "gad7_v1.json").read_text())
ALLIANCE = json.loads((FOLDER / "concord_alliance_v1.json").read_text())


def answers(definition, values):
    return {item["id"]: v for item, v in zip(definition["items"], values, strict=True)}


@pytest.mark.parametrize("definition", [PHQ9, GAD7, ALLIANCE])
def test_shipped_definitions_are_valid(definition):
    scoring.validate_definition(definition)


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ([0] * 9, 0, "Minimal"),
        ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "Minimal"),
        ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "Mild"),
        ([2, 2, 2, 1, 1, 1, 0, 0, 0], 9, "Mild"),
        ([2, 2, 2, 2, 2, 0, 0, 0, 0], 10, "Moderate"),
        ([3, 3, 3, 2, 2, 2, 0, 0, 0], 15, "Moderately severe"),
        ([3, 3, 3, 3, 2, 2, 2, 2, 0], 20, "Severe"),
        ([3] * 9, 27, "Severe"),
    ],
)
def test_phq9_totals_and_bands(values, total, band):
    result = scoring.score(PHQ9, answers(PHQ9, values))
    assert (result.total, result.band) == (total, band)
    assert result.safety_alert is (values[8] > 0)


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ([0] * 7, 0, "Minimal"),
        ([1, 1, 1, 1, 1, 0, 0], 5, "Mild"),
        ([2, 2, 2, 2, 1, 1, 0], 10, "Moderate"),
        ([3, 3, 3, 2, 2, 2, 0], 15, "Severe"),
    ],
)
def test_gad7_totals_and_bands(values, total, band):
    result = scoring.score(GAD7, answers(GAD7, values))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item_9_above_zero_is_a_safety_alert(item9):
    assert scoring.score(PHQ9, answers(PHQ9, [0] * 8 + [item9])).safety_alert


def test_alliance_mean_and_subscales():
    result = scoring.score(ALLIANCE, answers(ALLIANCE, [9, 8, 7, 6]))
    assert result.total == 7.5
    assert result.subscales == {"bond": 9, "goals": 8, "tasks": 7, "fit": 6}
    assert not result.below_cutoff
    assert scoring.score(ALLIANCE, answers(ALLIANCE, [6, 6, 7, 6])).below_cutoff


def test_incomplete_or_invalid_answers_are_refused():
    with pytest.raises(ValueError, match="unanswered"):
        scoring.score(PHQ9, answers(PHQ9, [0] * 8 + [None]))
    with pytest.raises(ValueError, match="unanswered"):
        scoring.score(PHQ9, answers(PHQ9, [0] * 8 + [4]))


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=9, max_size=9))
def test_phq9_is_bounded(values):
    assert 0 <= scoring.score(PHQ9, answers(PHQ9, values)).total <= 27


@given(
    st.lists(st.integers(min_value=0, max_value=10), min_size=4, max_size=4),
    st.integers(min_value=0, max_value=3),
)
def test_alliance_is_bounded_and_monotonic(values, i):
    low = scoring.score(ALLIANCE, answers(ALLIANCE, values)).total
    assert 0 <= low <= 10
    assume(values[i] < 10)
    better = list(values)
    better[i] += 1
    assert scoring.score(ALLIANCE, answers(ALLIANCE, better)).total > low


class TestFlagRule:
    def test_below_cutoff(self):
        decision = scoring.flag(ALLIANCE, 6.0, [6.5, 6.5, 6.5])
        assert decision.raised and decision.reasons == ["below_cutoff"]
        assert scoring.flag(ALLIANCE, 6.0, [8, 8, 8]).reasons == [
            "below_cutoff",
            "drop_from_baseline",
        ]

    def test_drop_from_baseline_above_cutoff(self):
        # Baseline is the median of the last three (9.5, 9, 10 → 9.5); 7.5 is a drop of 2 ≥ 1.5.
        decision = scoring.flag(ALLIANCE, 7.5, [6, 9.5, 9, 10])
        assert decision.baseline == 9.5
        assert decision.reasons == ["drop_from_baseline"]

    def test_small_drop_is_not_flagged(self):
        assert not scoring.flag(ALLIANCE, 8.5, [9, 9.5, 9.5]).raised

    def test_no_flag_on_the_first_response_above_cutoff(self):
        decision = scoring.flag(ALLIANCE, 7.0, [])
        assert decision.baseline is None
        assert not decision.raised

    def test_first_response_below_cutoff_is_still_flagged(self):
        assert scoring.flag(ALLIANCE, 3.0, []).reasons == ["below_cutoff"]

    def test_for_outcomes_worse_means_higher(self):
        assert scoring.flag(PHQ9, 14, [6, 7, 8]).dropped
        assert not scoring.flag(PHQ9, 3, [10, 12, 14]).raised

    @given(
        st.lists(st.floats(min_value=0, max_value=10), max_size=6),
        st.floats(min_value=0, max_value=10),
    )
    def test_a_better_score_never_raises_a_drop(self, previous, total):
        base = scoring.baseline(previous)
        assume(base is not None and total >= base)
        assert not scoring.flag(ALLIANCE, total, previous).dropped


class TestDefinitions:
    def test_a_definition_without_licence_is_refused(self):
        bad = dict(ALLIANCE, licence_note=" ")
        with pytest.raises(scoring.DefinitionError, match="license"):
            scoring.validate_definition(bad)

    def test_unknown_item_in_scoring_is_refused(self):
        bad = dict(ALLIANCE, scoring=dict(ALLIANCE["scoring"], items=["bond", "nope"]))
        with pytest.raises(scoring.DefinitionError, match="items the instrument does not have"):
            scoring.validate_definition(bad)


def test_due_dates():
    last = date(2026, 3, 1)
    assert scoring.due_on(None, 4) is None
    assert scoring.due_on(last, 4) == last + timedelta(weeks=4)
    assert scoring.due_on(last, 4, next_visit_on=date(2026, 3, 15)) == date(2026, 3, 8)
    assert scoring.due_on(last, 4, next_visit_on=date(2026, 6, 1)) == last + timedelta(weeks=4)
