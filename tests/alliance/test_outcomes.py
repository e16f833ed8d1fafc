"""Reliable change, response and remission: worked examples from the published sources, and
properties that hold for any scores."""

import json
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from alliance import outcomes

PHQ9 = outcomes.norms_for("phq-9")
GAD7 = outcomes.norms_for("gad-7")
TODAY = date(2026, 12, 7)


# --- Worked examples -------------------------------------------------------------------------


def test_jacobson_truax_worked_example():
    """The formula as Jacobson & Truax (1991) give it, against the worked figures of the
    suddengains package's tests (Wiedemann et al., define_crit1_cutoff: SD 10.5, r .961 →
    SE 2.073584, S_diff 2.93249, reliable change value 5.747681)."""
    assert outcomes.standard_error(10.5, 0.961) == pytest.approx(2.073584, abs=1e-6)
    assert outcomes.s_diff(10.5, 0.961) == pytest.approx(2.93249, abs=1e-5)
    assert outcomes.Z * outcomes.s_diff(10.5, 0.961) == pytest.approx(5.747681, abs=1e-6)
    # A change of exactly that size sits on the boundary: RCI = 1.96.
    assert outcomes.rci(20, 20 - 5.747681, 10.5, 0.961) == pytest.approx(-1.96, abs=1e-6)


def test_computed_thresholds_equal_the_published_ones():
    """From each instrument's SD and reliability, the smallest reliable change in whole points
    is the one the IAPT manual uses: 6 on the PHQ-9, 4 on the GAD-7."""
    assert PHQ9.threshold == PHQ9.published_threshold == 6
    assert GAD7.threshold == GAD7.published_threshold == 4


def test_every_figure_names_its_source():
    data = json.loads(outcomes.NORMS_FILE.read_text())
    assert "Jacobson" in data["method"]["citation"]
    for key, entry in data["instruments"].items():
        for figure in ("reliability", "sd", "published_threshold", "response", "remission"):
            assert entry[f"{figure}_source"].strip(), (key, figure)


@pytest.mark.parametrize(
    ("baseline", "latest", "improved", "worse"),
    [
        (18, 12, True, False),  # 6 points down: reliable on the PHQ-9
        (18, 13, False, False),  # 5 points: within measurement error
        (8, 14, False, True),  # 6 points up: reliably worse
        (8, 13, False, False),
    ],
)
def test_phq9_reliable_change_at_the_iapt_threshold(baseline, latest, improved, worse):
    result = outcomes.change(PHQ9, baseline, latest)
    assert (result.reliable_improvement, result.reliable_deterioration) == (improved, worse)


@pytest.mark.parametrize(
    ("baseline", "latest", "improved", "worse"),
    [(15, 11, True, False), (15, 12, False, False), (6, 10, False, True), (6, 9, False, False)],
)
def test_gad7_reliable_change_at_the_iapt_threshold(baseline, latest, improved, worse):
    result = outcomes.change(GAD7, baseline, latest)
    assert (result.reliable_improvement, result.reliable_deterioration) == (improved, worse)


@pytest.mark.parametrize(
    ("norms", "baseline", "latest", "response", "remission"),
    [
        # Response: a fall of at least half the baseline (Kroenke et al.; McMillan et al. 2010).
        (PHQ9, 20, 10, True, False),
        (PHQ9, 20, 11, False, False),
        # Remission: below 5 on either measure.
        (PHQ9, 16, 4, True, True),
        (PHQ9, 6, 5, False, False),
        (GAD7, 12, 6, True, False),
        (GAD7, 12, 4, True, True),
        (GAD7, 3, 4, False, True),  # in the minimal band throughout: remission, not response
    ],
)
def test_response_and_remission(norms, baseline, latest, response, remission):
    result = outcomes.change(norms, baseline, latest)
    assert (result.response, result.remission) == (response, remission)


def test_a_reliable_fall_is_not_called_recovery():
    """RCI says the change is real, not that the patient is well: 22 → 15 on the PHQ-9 is a
    reliable improvement with neither response nor remission."""
    result = outcomes.change(PHQ9, 22, 15)
    assert result.reliable_improvement
    assert not result.response
    assert not result.remission


# --- Not on track ----------------------------------------------------------------------------


def _trajectory(norms, scores, weeks_ago):
    start = TODAY - timedelta(weeks=weeks_ago)
    points = [(start + timedelta(weeks=2 * i), s) for i, s in enumerate(scores)]
    return outcomes.trajectory(norms, points, TODAY)


def test_no_reliable_improvement_after_eight_weeks_is_not_on_track():
    stuck = _trajectory(PHQ9, [17, 16, 15, 14, 13], weeks_ago=9)
    assert outcomes.not_on_track([stuck], alliance_concern=False) == [outcomes.NO_IMPROVEMENT]
    early = _trajectory(PHQ9, [17, 16, 15], weeks_ago=5)
    assert outcomes.not_on_track([early], alliance_concern=False) == []
    better = _trajectory(PHQ9, [17, 14, 11], weeks_ago=9)
    assert outcomes.not_on_track([better], alliance_concern=False) == []


def test_a_single_old_score_is_not_on_track():
    """A baseline nine weeks old and nothing since: nobody knows it improved."""
    alone = _trajectory(GAD7, [14], weeks_ago=9)
    assert outcomes.not_on_track([alone], alliance_concern=False) == [outcomes.NO_IMPROVEMENT]


def test_deterioration_and_alliance_concern_are_named_first_and_alone():
    worse = _trajectory(PHQ9, [9, 12, 16], weeks_ago=3)
    assert outcomes.not_on_track([worse], alliance_concern=True) == [
        outcomes.DETERIORATION,
        outcomes.ALLIANCE_CONCERN,
    ]
    assert outcomes.not_on_track([], alliance_concern=True) == [outcomes.ALLIANCE_CONCERN]


def test_the_trajectory_is_read_in_date_order_whatever_order_it_comes_in():
    points = [(TODAY, 9), (TODAY - timedelta(weeks=10), 18), (TODAY - timedelta(weeks=5), 14)]
    t = outcomes.trajectory(PHQ9, points, TODAY)
    assert (t.baseline, t.latest, round(t.weeks)) == (18, 9, 10)
    assert t.change.reliable_improvement and t.change.response


def test_alliance_direction_uses_the_patients_own_baseline():
    definition = {"higher_is_better": True, "reliable_change": 1.0}
    assert outcomes.alliance_direction(definition, [4.5]) == ""
    assert outcomes.alliance_direction(definition, [4.5, 4.4, 4.6, 3.2]) == "worse"
    assert outcomes.alliance_direction(definition, [3.0, 3.1, 4.2]) == "better"
    assert outcomes.alliance_direction(definition, [4.0, 4.3]) == "steady"


# --- Properties ------------------------------------------------------------------------------

sds = st.floats(min_value=0.5, max_value=20, allow_nan=False)
reliabilities = st.floats(min_value=0.0, max_value=0.99, allow_nan=False)
phq = st.integers(min_value=0, max_value=27)
gad = st.integers(min_value=0, max_value=21)


@given(st.floats(-50, 50), st.floats(-50, 50), sds, reliabilities)
def test_rci_is_antisymmetric_and_zero_for_no_change(x1, x2, sd, r):
    assert outcomes.rci(x1, x2, sd, r) == pytest.approx(-outcomes.rci(x2, x1, sd, r))
    assert outcomes.rci(x1, x1, sd, r) == 0


@given(sds, reliabilities, reliabilities)
def test_a_more_reliable_measure_needs_less_change(sd, r1, r2):
    assume(r1 < r2)
    assert outcomes.s_diff(sd, r2) <= outcomes.s_diff(sd, r1)
    assert outcomes.reliable_change_points(sd, r2) <= outcomes.reliable_change_points(sd, r1)


@given(sds, reliabilities)
def test_the_threshold_is_the_smallest_reliable_whole_change(sd, r):
    points = outcomes.reliable_change_points(sd, r)
    assert abs(outcomes.rci(0, points, sd, r)) > outcomes.Z
    assert abs(outcomes.rci(0, points - 1, sd, r)) <= outcomes.Z


@given(phq, phq)
def test_phq9_reliable_change_is_exactly_six_points_or_more(before, after):
    result = outcomes.change(PHQ9, before, after)
    assert result.reliable == (abs(after - before) >= 6)
    assert not (result.reliable_improvement and result.reliable_deterioration)
    assert result.reliable_improvement == (before - after >= 6)


@given(gad, gad)
def test_gad7_reliable_change_is_exactly_four_points_or_more(before, after):
    result = outcomes.change(GAD7, before, after)
    assert result.reliable == (abs(after - before) >= 4)


@given(phq, phq)
def test_response_means_half_gone_and_remission_means_below_five(before, after):
    result = outcomes.change(PHQ9, before, after)
    assert result.remission == (after < 5)
    assert result.response == (before > 0 and 2 * (before - after) >= before)
    if result.response:
        assert after <= before


@given(st.lists(phq, min_size=1, max_size=12), st.integers(0, 30), st.booleans())
def test_not_on_track_reasons_are_known_and_ordered(scores, weeks_ago, concern):
    t = _trajectory(PHQ9, scores, weeks_ago)
    reasons = outcomes.not_on_track([t], alliance_concern=concern)
    order = list(outcomes.REASON_LABELS)
    assert reasons == sorted(set(reasons), key=order.index)
    assert (outcomes.ALLIANCE_CONCERN in reasons) == concern
    if t.change is not None and t.change.reliable_deterioration:
        assert outcomes.DETERIORATION in reasons
