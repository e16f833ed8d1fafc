"""Reading strength, dose and directions: worked examples and properties of the pure parser."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prescribing import doses


@pytest.mark.parametrize(
    ("dose", "count"),
    [
        ("1/2 tablet", Fraction(1, 2)),
        ("½ tablet", Fraction(1, 2)),
        ("one half tablet", Fraction(1, 2)),
        ("half a tablet", Fraction(1, 2)),
        ("2 capsules", Fraction(2)),
        ("1.5 tablets", Fraction(3, 2)),
        ("1 1/2 tablets", Fraction(3, 2)),
        ("1½ tablets", Fraction(3, 2)),
        ("one and a half tablets", Fraction(3, 2)),
        ("two tablets", Fraction(2)),
        ("1 tablet", Fraction(1)),
        ("1", Fraction(1)),
        ("Two Tabs", Fraction(2)),
    ],
)
def test_count_of_units_is_read_from_the_dose(dose, count):
    assert doses.units_in_dose(dose) == count


@pytest.mark.parametrize(
    "dose", ["50 mg", "5 mL", "as directed", "1-2 tablets", "0 tablets", "1/0 tab", "", "tablet"]
)
def test_a_dose_that_is_not_a_plain_count_is_not_guessed(dose):
    assert doses.units_in_dose(dose) is None


@pytest.mark.parametrize(
    ("strength", "parsed"),
    [
        ("100 mg", (Fraction(100), "mg")),
        ("0.5 mg", (Fraction(1, 2), "mg")),
        ("100mg", (Fraction(100), "mg")),
        ("1,000 mg", (Fraction(1000), "mg")),
        ("25 mcg", (Fraction(25), "mcg")),
        ("1%", None),
        ("10 mg/5 mL", None),
        ("50", None),
        ("", None),
    ],
)
def test_amount_and_unit_are_read_from_the_strength(strength, parsed):
    assert doses.parse_strength(strength) == parsed


@pytest.mark.parametrize(
    ("strength", "dose", "form", "label"),
    [
        ("100 mg", "1/2 tablet", "tablet", "Sertraline 50 mg (1/2 of a 100 mg tablet)"),
        ("100 mg", "½ tablet", "tablet", "Sertraline 50 mg (1/2 of a 100 mg tablet)"),
        ("50 mg", "2 tablets", "tablet", "Sertraline 100 mg (2 × 50 mg tablets)"),
        ("50 mg", "1 tablet", "tablet", "Sertraline 50 mg"),
        ("0.5 mg", "1/2 tablet", "tablet", "Sertraline 0.25 mg (1/2 of a 0.5 mg tablet)"),
        ("100 mg", "1/3 tablet", "tablet", "Sertraline 100 mg"),  # 33.33… mg: not rounded
        ("1%", "1 tablet", "tablet", "Sertraline 1%"),  # not computable: as written
        ("100 mg", "as directed", "tablet", "Sertraline 100 mg"),
    ],
)
def test_label_says_the_dose_taken_or_what_is_written(strength, dose, form, label):
    assert doses.label("Sertraline", strength, dose, form) == label


@pytest.mark.parametrize(
    ("directions", "times"),
    [
        ("once a day in the morning", 1),
        ("daily", 1),
        ("every morning", 1),
        ("at night", 1),
        ("twice a day", 2),
        ("twice daily", 2),
        ("BID", 2),
        ("one in the morning and one at night", 2),
        ("three times a day", 3),
        ("TID", 3),
        ("as needed for panic", None),
        ("take with food", None),
        ("", None),
    ],
)
def test_times_a_day_are_read_from_the_directions(directions, times):
    assert doses.doses_per_day(directions) == (None if times is None else Fraction(times))


amounts = st.fractions(min_value=Fraction(1, 100), max_value=1000, max_denominator=8)
counts = st.integers(min_value=1, max_value=12)
forms = st.sampled_from(["tablet", "tablets", "capsule", "capsules", "tab", ""])
units = st.sampled_from(["mg", "mcg", "g", "mL"])


@given(counts, forms)
def test_whole_counts_are_read_whatever_the_form_word(n, form):
    assert doses.units_in_dose(f"{n} {form}") == n


@given(st.integers(1, 9), st.integers(2, 9), forms)
def test_fractions_are_read_exactly(num, den, form):
    assert doses.units_in_dose(f"{num}/{den} {form}") == Fraction(num, den)


@given(st.integers(1, 5000), units)
def test_an_amount_is_never_read_as_a_count_of_units(n, unit):
    # "50 mg" as a dose is not fifty tablets.
    assert doses.units_in_dose(f"{n} {unit}") is None


@given(counts, st.integers(1, 1000))
def test_dose_taken_is_count_times_strength(n, mg):
    amount, unit = doses.dose_taken(f"{mg} mg", f"{n} tablets").split()
    assert (Fraction(amount.replace(",", "")), unit) == (n * mg, "mg")


@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=20))
def test_any_text_gives_a_label_and_never_an_error(strength, dose, form):
    label = doses.label("Sertraline", strength, dose, form)
    taken = doses.dose_taken(strength, dose)
    assert label.startswith("Sertraline")
    if taken is None:
        assert label == " ".join(p for p in ("Sertraline", strength.strip()) if p)
    else:
        assert label.startswith(f"Sertraline {taken}")


@given(st.integers(1, 9), st.integers(2, 9), st.integers(1, 1000))
def test_a_part_tablet_label_names_both_the_dose_taken_and_the_tablet(num, den, mg):
    taken = doses.dose_taken(f"{mg} mg", f"{num}/{den} tablet")
    label = doses.label("Sertraline", f"{mg} mg", f"{num}/{den} tablet", "tablet")
    if taken is None:  # no exact short decimal: never rounded
        assert (Fraction(num, den) * mg * 1000).denominator != 1
        assert label == f"Sertraline {mg} mg"
    else:
        assert Fraction(taken.split()[0].replace(",", "")) == Fraction(num, den) * mg
        assert f"{mg} mg" in label


@given(st.sampled_from(["once a day", "daily", "twice a day", "BID", "TID"]), counts)
def test_daily_units_are_count_times_frequency(directions, n):
    assert doses.daily_units(f"{n} tablets", directions) == n * doses.doses_per_day(directions)


def test_daily_amounts_compare_in_mg_when_the_strength_changes():
    before = {"strength": "100 mg", "dose": "1 tablet", "directions": "daily"}
    after = {"strength": "50 mg", "dose": "1 tablet", "directions": "daily"}
    assert doses.daily_amounts(before, after) == (100, 50)
    unreadable = {"strength": "1%", "dose": "1 tablet", "directions": "daily"}
    assert doses.daily_amounts(unreadable, {**unreadable, "dose": "2 tablets"}) == (1, 2)
    assert doses.daily_amounts(unreadable, after) == (None, None)
    assert doses.daily_amounts(before, {**before, "directions": "as needed"}) == (None, None)


@pytest.mark.parametrize(
    "strength, dose, form, expected",
    [
        ("100 mcg", "2 puffs", "inhaler", "Salbutamol 200 mcg (2 × 100 mcg puffs)"),
        ("10 mg", "2 capsules", "tablet", "Salbutamol 20 mg (2 × 10 mg capsules)"),
        ("100 mcg", "2", "inhaler", "Salbutamol 100 mcg"),
    ],
)
def test_the_label_names_the_unit_the_dose_names_never_the_wrong_one(
    strength, dose, form, expected
):
    assert doses.label("Salbutamol", strength, dose, form) == expected


@pytest.mark.parametrize(
    "directions",
    ["one tablet in the morning, and another at 2pm", "every morning and then at 14:00"],
)
def test_a_second_dose_in_the_day_is_not_read_as_once_a_day(directions):
    assert doses.doses_per_day(directions) is None
