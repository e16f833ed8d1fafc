"""Supply and refill rules: worked cases across month ends and leap days, and properties."""

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prescribing import supply
from prescribing.supply import DEFAULT_LIMITS, Limits, Schedule

ORDINARY = DEFAULT_LIMITS[Schedule.NONE]


def rx(
    schedule=Schedule.NONE,
    written=date(2026, 1, 10),
    refills=3,
    fills=1,
    days=30,
    last=date(2026, 1, 10),
):
    return supply.Prescription(
        schedule=schedule,
        written_on=written,
        refills_authorised=refills,
        fills=fills,
        days_supply=days,
        last_fill_on=last,
    )


class TestDates:
    @pytest.mark.parametrize(
        ("filled", "days", "runs_out"),
        [
            (date(2026, 3, 1), 30, date(2026, 3, 31)),
            (date(2026, 1, 31), 30, date(2026, 3, 2)),  # across February
            (date(2028, 2, 1), 29, date(2028, 3, 1)),  # leap year: 29 days in February 2028
            (date(2027, 2, 1), 28, date(2027, 3, 1)),
            (date(2026, 12, 15), 30, date(2027, 1, 14)),  # across the year end
        ],
    )
    def test_run_out(self, filled, days, runs_out):
        assert supply.run_out_date(filled, days) == runs_out

    def test_needed_by_in_calendar_days(self):
        assert supply.needed_by_date(date(2026, 3, 2), Limits(lead_days=7)) == date(2026, 2, 23)

    def test_needed_by_in_business_days_skips_weekends(self):
        # Monday 16 March 2026 minus 10 business days is Monday 2 March.
        assert supply.needed_by_date(
            date(2026, 3, 16), Limits(lead_days=10, lead_in_business_days=True)
        ) == date(2026, 3, 2)

    def test_controlled_lead_time_moves_the_date_earlier(self):
        run_out = date(2026, 6, 30)
        assert supply.needed_by_date(run_out, DEFAULT_LIMITS[Schedule.IV]) < supply.needed_by_date(
            run_out, ORDINARY
        )

    @pytest.mark.parametrize(
        ("start", "months", "end"),
        [
            (date(2026, 1, 31), 1, date(2026, 2, 28)),
            (date(2028, 1, 31), 1, date(2028, 2, 29)),
            (date(2026, 8, 31), 6, date(2027, 2, 28)),
            (date(2026, 3, 15), 6, date(2026, 9, 15)),
        ],
    )
    def test_add_months_clamps_to_month_end(self, start, months, end):
        assert supply.add_months(start, months) == end

    def test_zero_days_supply_is_refused(self):
        with pytest.raises(ValueError, match="at least one day"):
            supply.run_out_date(date(2026, 1, 1), 0)


class TestControlledSubstances:
    def test_schedule_ii_refill_is_refused_with_a_clear_message(self):
        answer = supply.refill_answer(
            rx(Schedule.II, refills=0), date(2026, 1, 20), DEFAULT_LIMITS[Schedule.II]
        )
        assert not answer.allowed
        assert answer.needs_renewal
        assert "Schedule II medicines cannot be refilled" in answer.reason

    def test_schedule_ii_prescription_with_refills_is_invalid(self):
        problems = supply.validate_prescription(Schedule.II, 1, 30, DEFAULT_LIMITS[Schedule.II])
        assert problems and "cannot have refills" in problems[0]

    def test_schedule_ii_series_up_to_90_days(self):
        assert supply.validate_schedule_ii_series([30, 30, 30]) == []
        assert "at most 90 days" in supply.validate_schedule_ii_series([30, 30, 31])[0]

    def test_schedule_iii_sixth_refill_is_refused(self):
        limits = DEFAULT_LIMITS[Schedule.III]
        assert "at most 5 refills" in supply.validate_prescription(Schedule.III, 6, 30, limits)[0]
        five_used = rx(Schedule.III, refills=5, fills=6, written=date(2026, 1, 10))
        answer = supply.refill_answer(five_used, date(2026, 5, 1), limits)
        assert not answer.allowed and answer.needs_renewal

    def test_schedule_iii_refill_after_six_months_is_refused(self):
        limits = DEFAULT_LIMITS[Schedule.III]
        written = date(2026, 1, 10)
        fresh = rx(Schedule.III, refills=5, fills=2, written=written)
        # "Not more than six months after the date issued": 10 July is the last day.
        assert supply.refill_answer(fresh, date(2026, 7, 10), limits).allowed
        late = supply.refill_answer(fresh, date(2026, 7, 11), limits)
        assert not late.allowed
        assert "valid until Jul 10, 2026" in late.reason

    def test_a_state_may_be_stricter_than_federal_law(self):
        strict = Limits(lead_days=10, max_refills=2, validity_months=3)
        assert "at most 2 refills" in supply.validate_prescription(Schedule.IV, 3, 30, strict)[0]
        assert supply.validity_end(Schedule.IV, date(2026, 1, 10), strict) == date(2026, 4, 11)

    def test_a_state_cannot_loosen_federal_law(self):
        loose = Limits(lead_days=10, max_refills=11, validity_months=12)
        assert supply.max_refills(Schedule.III, loose) == 5
        assert supply.validity_end(Schedule.III, date(2026, 1, 10), loose) == date(2026, 7, 11)

    def test_no_refills_left_needs_a_renewal_not_a_refill(self):
        answer = supply.refill_answer(rx(refills=2, fills=3), date(2026, 3, 1), ORDINARY)
        assert not answer.allowed and answer.needs_renewal
        assert "No refills remain" in answer.reason


dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(dates, st.integers(min_value=1, max_value=365))
def test_run_out_is_exactly_days_supply_later(filled, days):
    assert (supply.run_out_date(filled, days) - filled).days == days


@given(dates, st.integers(min_value=0, max_value=30), st.booleans())
def test_needed_by_is_never_after_run_out_and_at_least_lead_days_before(run_out, lead, business):
    needed = supply.needed_by_date(run_out, Limits(lead_days=lead, lead_in_business_days=business))
    assert needed <= run_out
    assert (run_out - needed).days >= lead
    if business and lead:
        assert needed.weekday() < 5


@given(dates, st.integers(min_value=0, max_value=60))
def test_add_months_is_monotonic_and_clamped(start, months):
    end = supply.add_months(start, months)
    assert end >= start
    assert end.day <= start.day
    assert (end.year - start.year) * 12 + end.month - start.month == months


@given(
    st.sampled_from([Schedule.III, Schedule.IV]),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=1, max_value=6),
    dates,
    st.integers(min_value=0, max_value=400),
)
def test_schedule_iii_iv_never_refillable_after_six_months_or_five_refills(
    schedule, refills, fills, written, offset
):
    on = written + timedelta(days=offset)
    facts = rx(schedule, written=written, refills=refills, fills=fills, last=written)
    answer = supply.refill_answer(facts, on, Limits(lead_days=10))
    if answer.allowed:
        assert on <= supply.add_months(written, 6)
        assert fills - 1 < min(refills, 5)


class TestFills:
    def test_first_fill_needs_only_a_valid_prescription(self):
        first = supply.Prescription(Schedule.II, date(2026, 1, 10), 0, 0, 30, None)
        assert supply.fill_answer(first, date(2026, 1, 12), DEFAULT_LIMITS[Schedule.II]).allowed

    def test_first_fill_after_six_months_is_refused(self):
        first = supply.Prescription(Schedule.IV, date(2026, 1, 10), 5, 0, 30, None)
        answer = supply.fill_answer(first, date(2026, 9, 1), DEFAULT_LIMITS[Schedule.IV])
        assert not answer.allowed and answer.needs_renewal

    def test_first_fill_before_the_earliest_fill_date_is_refused(self):
        series = supply.Prescription(
            Schedule.II, date(2026, 1, 10), 0, 0, 30, None, earliest_fill_on=date(2026, 2, 9)
        )
        answer = supply.fill_answer(series, date(2026, 2, 1), DEFAULT_LIMITS[Schedule.II])
        assert not answer.allowed
        assert "before Feb 9, 2026" in answer.reason


class TestRefillsThatFitTheSixMonths:
    """21 CFR 1306.22: a schedule III–IV prescription is not filled more than six months after
    the date written, so refills that could only fall later are refused when it is written."""

    LIMITS = DEFAULT_LIMITS[Schedule.IV]

    def _problems(self, days, refills, written=date(2026, 1, 10), first=None):
        return supply.validate_refills_within_validity(
            Schedule.IV, written, first or written, days, refills, self.LIMITS
        )

    def test_the_boundary_for_a_90_day_supply(self):
        # Valid until 10 July (181 days): refills due on day 90 and 180 fit, day 270 does not.
        assert self._problems(90, 2) == []
        [message] = self._problems(90, 3)
        assert "only 2 refills can be filled" in message
        assert "valid only until Jul 10, 2026, 6 months after it was written" in message
        assert "Write at most 2." in message

    def test_a_refill_due_on_the_last_valid_day_still_fits(self):
        # Written 10 Jan, valid through 10 July: a 181-day gap lands exactly on it.
        assert (
            supply.refills_that_fit(
                Schedule.IV, date(2026, 1, 10), date(2026, 1, 10), 181, self.LIMITS
            )
            == 1
        )
        assert (
            supply.refills_that_fit(
                Schedule.IV, date(2026, 1, 10), date(2026, 1, 10), 182, self.LIMITS
            )
            == 0
        )

    def test_no_refill_fits_a_supply_longer_than_six_months(self):
        [message] = self._problems(200, 1)
        assert "no refill can be filled" in message and "Write it without refills." in message
        assert self._problems(200, 0) == []

    def test_a_later_earliest_fill_date_leaves_room_for_fewer(self):
        assert self._problems(30, 5) == []
        # 1 March to 10 July is 131 days: refills on days 30, 60, 90 and 120.
        assert "only 4 refills" in self._problems(30, 5, first=date(2026, 3, 1))[0]

    def test_schedule_ii_and_unlimited_prescriptions_are_not_its_business(self):
        never_lapses = Limits(lead_days=7)
        assert (
            supply.refills_that_fit(
                Schedule.NONE, date(2026, 1, 1), date(2026, 1, 1), 30, never_lapses
            )
            is None
        )

    @given(
        written=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
        delay=st.integers(min_value=0, max_value=200),
        days=st.integers(min_value=1, max_value=400),
        refills=st.integers(min_value=0, max_value=5),
    )
    def test_every_refill_of_an_accepted_prescription_can_be_filled(
        self, written, delay, days, refills
    ):
        first = written + timedelta(days=delay)
        if supply.validate_refills_within_validity(
            Schedule.III, written, first, days, refills, self.LIMITS
        ):
            fit = supply.refills_that_fit(Schedule.III, written, first, days, self.LIMITS)
            assert refills > fit
            return
        end = supply.validity_end(Schedule.III, written, self.LIMITS)
        for k in range(1, refills + 1):
            assert first + timedelta(days=k * days) < end


# Run-out after a dose change: the supply on hand at the change lasts (on hand ÷ new daily
# amount) days from it.


def test_doubling_the_dose_halves_what_is_left():
    # 30 days from 1 March at 1 a day; on 11 March, 20 left, at 2 a day: 10 days.
    moved = supply.run_out_after_dose_changes(
        date(2026, 3, 1), 30, [supply.DoseChange(date(2026, 3, 11), 1, 2)]
    )
    assert moved == supply.RunOut(date(2026, 3, 21), recalculated=True)


def test_halving_the_dose_doubles_what_is_left():
    moved = supply.run_out_after_dose_changes(
        date(2026, 3, 1), 30, [supply.DoseChange(date(2026, 3, 11), 2, 1)]
    )
    assert moved.run_out == date(2026, 4, 20)


def test_two_changes_follow_each_other():
    moved = supply.run_out_after_dose_changes(
        date(2026, 3, 1),
        30,
        [
            supply.DoseChange(date(2026, 3, 21), 2, 1),
            supply.DoseChange(date(2026, 3, 11), 1, 2),
        ],
    )
    # 11 March: 20 left at 2 a day → 21 March; 21 March: nothing left, nothing moves.
    assert moved.run_out == date(2026, 3, 21)


def test_an_unreadable_change_keeps_the_date_and_says_so():
    moved = supply.run_out_after_dose_changes(
        date(2026, 3, 1), 30, [supply.DoseChange(date(2026, 3, 11), 1, None)]
    )
    assert moved == supply.RunOut(date(2026, 3, 31), not_recalculated=True)


def test_a_change_before_the_fill_is_the_fills_own_business():
    moved = supply.run_out_after_dose_changes(
        date(2026, 3, 1), 30, [supply.DoseChange(date(2026, 2, 20), 1, 2)]
    )
    assert moved == supply.RunOut(date(2026, 3, 31))


def test_supply_status_uses_the_moved_date():
    facts = supply.Prescription(
        schedule=Schedule.NONE,
        written_on=date(2026, 3, 1),
        refills_authorised=2,
        fills=1,
        days_supply=30,
        last_fill_on=date(2026, 3, 1),
        dose_changes=(supply.DoseChange(date(2026, 3, 11), 1, 2),),
    )
    status = supply.supply_status(facts, date(2026, 3, 11), ORDINARY)
    assert (status.run_out, status.needed_by) == (date(2026, 3, 21), date(2026, 3, 14))
    assert status.recalculated and not status.not_recalculated


rates = st.fractions(min_value=Fraction(1, 4), max_value=12, max_denominator=4)
fills = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@given(fills, st.integers(1, 180), st.integers(0, 200), rates, rates)
def test_run_out_after_a_change_is_never_before_the_change(filled, days, after, old, new):
    on = filled + timedelta(days=after)
    moved = supply.run_out_after_dose_changes(filled, days, [supply.DoseChange(on, old, new)])
    original = supply.run_out_date(filled, days)
    # Never a negative supply: a change inside the supply leaves the run-out on or after it.
    assert moved.run_out >= min(on, original)
    assert moved.run_out >= filled


@given(fills, st.integers(1, 180), st.integers(0, 200), rates, rates)
def test_a_higher_daily_amount_never_lengthens_the_supply(filled, days, after, old, new):
    on = filled + timedelta(days=after)
    original = supply.run_out_date(filled, days)
    moved = supply.run_out_after_dose_changes(filled, days, [supply.DoseChange(on, old, new)])
    if new > old:
        assert moved.run_out <= original
    elif new < old:
        assert moved.run_out >= original


@given(fills, st.integers(1, 180), st.integers(0, 200), rates)
def test_the_same_daily_amount_leaves_the_date_unchanged(filled, days, after, rate):
    on = filled + timedelta(days=after)
    moved = supply.run_out_after_dose_changes(filled, days, [supply.DoseChange(on, rate, rate)])
    assert moved == supply.RunOut(supply.run_out_date(filled, days))


@given(fills, st.integers(1, 180), st.integers(0, 200), rates, rates, rates)
def test_more_a_day_means_an_earlier_or_equal_run_out(filled, days, after, old, a, b):
    on = filled + timedelta(days=after)
    low, high = sorted((a, b))
    at_low = supply.run_out_after_dose_changes(filled, days, [supply.DoseChange(on, old, low)])
    at_high = supply.run_out_after_dose_changes(filled, days, [supply.DoseChange(on, old, high)])
    assert at_high.run_out <= at_low.run_out
