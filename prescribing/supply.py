"""Supply and refill rules as pure functions: no database, no clock.

Federal rules for controlled substances are invariants here; lead times and stricter state
limits come from the clinic's policy table (prescribing.models.SupplyPolicy) as `Limits`.
"""

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from core.dates import us_date


class Schedule:
    NONE = "none"
    II = "II"
    III = "III"
    IV = "IV"
    V = "V"
    CONTROLLED = frozenset({II, III, IV, V})
    ALL = (NONE, II, III, IV, V)


FEDERAL_MAX_REFILLS = {Schedule.II: 0, Schedule.III: 5, Schedule.IV: 5}
FEDERAL_VALIDITY_MONTHS = {Schedule.III: 6, Schedule.IV: 6}
SCHEDULE_II_SERIES_MAX_DAYS = 90


@dataclass(frozen=True)
class Limits:
    """What the policy table says for one state and schedule."""

    lead_days: int
    lead_in_business_days: bool = False
    max_refills: int | None = None
    validity_months: int | None = None


@dataclass(frozen=True)
class Prescription:
    schedule: str
    written_on: date
    refills_authorised: int
    fills: int  # fills so far, the first included
    days_supply: int
    last_fill_on: date | None
    earliest_fill_on: date | None = None
    # Changes of the daily amount on or after the last fill, which move its run-out.
    dose_changes: tuple["DoseChange", ...] = ()


@dataclass(frozen=True)
class RefillAnswer:
    allowed: bool
    needs_renewal: bool
    reason: str


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def subtract_business_days(day: date, n: int) -> date:
    """`n` weekdays before `day` (weekends skipped; holidays are not known here)."""
    while n > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def run_out_date(last_fill_on: date, days_supply: int) -> date:
    """The first day without medicine: a 30-day fill on 1 March runs out on 31 March."""
    if days_supply <= 0:
        raise ValueError("Days' supply must be at least one day.")
    return last_fill_on + timedelta(days=days_supply)


def needed_by_date(run_out: date, limits: Limits) -> date:
    """The last day to ask for more so that the clinic's lead time is respected."""
    if limits.lead_in_business_days:
        return subtract_business_days(run_out, limits.lead_days)
    return run_out - timedelta(days=limits.lead_days)


def max_refills(schedule: str, limits: Limits) -> int | None:
    """The most refills a prescription may carry: the stricter of federal law and the state."""
    caps = [c for c in (FEDERAL_MAX_REFILLS.get(schedule), limits.max_refills) if c is not None]
    return min(caps) if caps else None


def validity_end(schedule: str, written_on: date, limits: Limits) -> date | None:
    """The first day on which the prescription can no longer be filled, or None.

    Federal law forbids filling "more than six months after the date issued": the day six
    months on is still allowed, the day after is not.
    """
    months = [
        m for m in (FEDERAL_VALIDITY_MONTHS.get(schedule), limits.validity_months) if m is not None
    ]
    if not months:
        return None
    return add_months(written_on, min(months)) + timedelta(days=1)


def fill_answer(rx: Prescription, on: date, limits: Limits) -> RefillAnswer:
    """May the prescription be dispensed on `on`? The first fill needs only a valid
    prescription on or after its earliest fill date; every later one is a refill."""
    if rx.fills == 0:
        end = validity_end(rx.schedule, rx.written_on, limits)
        if end is not None and on >= end:
            return RefillAnswer(
                False,
                True,
                f"This prescription was valid until {_long(end - timedelta(days=1))}: it needs renewing.",
            )
        if rx.earliest_fill_on and on < rx.earliest_fill_on:
            return RefillAnswer(
                False,
                False,
                f"This prescription cannot be filled before {_long(rx.earliest_fill_on)}.",
            )
        return RefillAnswer(True, False, "It can be filled.")
    return refill_answer(rx, on, limits)


def validate_prescription(
    schedule: str, refills_authorised: int, days_supply: int, limits: Limits
) -> list[str]:
    """What is wrong with a new prescription, in words a prescriber reads; empty when it is fine."""
    problems = []
    if schedule not in Schedule.ALL:
        problems.append("Choose the controlled-substance schedule, or none.")
        return problems
    if refills_authorised < 0:
        problems.append("Refills cannot be negative.")
    if days_supply <= 0:
        problems.append("Days' supply must be at least one day.")
    cap = max_refills(schedule, limits)
    if schedule == Schedule.II and refills_authorised > 0:
        problems.append(
            "Schedule II medicines cannot have refills: write a new prescription for each fill "
            "(several may be written at once, with earliest-fill dates, for up to 90 days)."
        )
    elif cap is not None and refills_authorised > cap:
        problems.append(f"Schedule {schedule} allows at most {cap} refills here.")
    return problems


def refills_that_fit(
    schedule: str, written_on: date, first_fill_on: date, days_supply: int, limits: Limits
) -> int | None:
    """How many refills can still be filled before the prescription lapses, when each fill
    lasts `days_supply` and the first is on `first_fill_on`; None when it never lapses.

    The k-th refill is due when the fill before it runs out, `k * days_supply` days after the
    first, and must come before `validity_end` (21 CFR 1306.22 for schedules III and IV).
    """
    end = validity_end(schedule, written_on, limits)
    if end is None or days_supply <= 0:
        return None
    last_day = end - timedelta(days=1)
    if first_fill_on > last_day:
        return 0
    return (last_day - first_fill_on).days // days_supply


def validate_refills_within_validity(
    schedule: str,
    written_on: date,
    first_fill_on: date,
    days_supply: int,
    refills_authorised: int,
    limits: Limits,
) -> list[str]:
    """Refills the patient could never fill are refused, with how many do fit and until when."""
    fit = refills_that_fit(schedule, written_on, first_fill_on, days_supply, limits)
    if fit is None or refills_authorised <= fit:
        return []
    last_day = validity_end(schedule, written_on, limits) - timedelta(days=1)
    months = min(
        m for m in (FEDERAL_VALIDITY_MONTHS.get(schedule), limits.validity_months) if m is not None
    )
    lapses = f"this prescription is valid only until {_long(last_day)}, {months} months after it was written"
    if fit == 0:
        return [
            f"With {days_supply} days' supply, no refill can be filled: {lapses}. "
            "Write it without refills."
        ]
    return [
        f"With {days_supply} days' supply, only {fit} refill{'s' if fit != 1 else ''} can be "
        f"filled: {lapses}. Write at most {fit}."
    ]


def validate_schedule_ii_series(days_supplies: list[int]) -> list[str]:
    """Several schedule II prescriptions written together may cover at most 90 days."""
    total = sum(days_supplies)
    if total > SCHEDULE_II_SERIES_MAX_DAYS:
        return [
            f"Schedule II prescriptions written together may cover at most 90 days; these cover {total}."
        ]
    return []


def refills_remaining(rx: Prescription) -> int:
    return max(rx.refills_authorised - max(rx.fills - 1, 0), 0)


def refill_answer(rx: Prescription, on: date, limits: Limits) -> RefillAnswer:
    """May this prescription be refilled on `on`? If not, does the patient need a renewal?"""
    if rx.schedule == Schedule.II:
        return RefillAnswer(
            False,
            True,
            "Schedule II medicines cannot be refilled: each fill needs a new prescription from your prescriber.",
        )
    end = validity_end(rx.schedule, rx.written_on, limits)
    if end is not None and on >= end:
        return RefillAnswer(
            False,
            True,
            f"This prescription was valid until {_long(end - timedelta(days=1))}: it needs renewing by your prescriber.",
        )
    if refills_remaining(rx) <= 0:
        return RefillAnswer(
            False,
            True,
            "No refills remain on this prescription: it needs renewing by your prescriber.",
        )
    cap = max_refills(rx.schedule, limits)
    if cap is not None and rx.fills - 1 >= cap:
        return RefillAnswer(
            False, True, f"Schedule {rx.schedule} allows at most {cap} refills: it needs renewing."
        )
    return RefillAnswer(True, False, "A refill can be requested.")


def _long(day: date) -> str:
    return us_date(day)


# Used when the clinic's policy table has no row (the same values its migration seeds).
DEFAULT_LIMITS = {
    Schedule.NONE: Limits(lead_days=7, validity_months=12),
    Schedule.II: Limits(lead_days=10, lead_in_business_days=True, max_refills=0),
    Schedule.III: Limits(
        lead_days=10, lead_in_business_days=True, max_refills=5, validity_months=6
    ),
    Schedule.IV: Limits(lead_days=10, lead_in_business_days=True, max_refills=5, validity_months=6),
    Schedule.V: Limits(lead_days=10, lead_in_business_days=True, validity_months=12),
}


@dataclass(frozen=True)
class SupplyStatus:
    """Where a medication's supply stands on one day, for pages, PDFs and nudges."""

    has_supply: bool
    run_out: date | None = None
    needed_by: date | None = None
    refills_left: int | None = None
    answer: RefillAnswer | None = None
    lead_days: int = 0
    lead_in_business_days: bool = False
    is_late: bool = False  # past the needed-by date: inside the lead time
    valid_until: date | None = None  # the last day the next fill's prescription may be filled
    last_fill_on: date | None = None
    # A dose change after the last fill moved the run-out; or could not be measured, so the
    # run-out is the old one: said to the prescriber only ("say how many a day").
    recalculated: bool = False
    not_recalculated: bool = False


def supply_status(rx: Prescription | None, on: date, limits: Limits) -> SupplyStatus:
    """Run-out, needed-by and the answer for the next fill, if the medicine was ever filled."""
    end = validity_end(rx.schedule, rx.written_on, limits) if rx is not None else None
    valid_until = end - timedelta(days=1) if end is not None else None
    if rx is None or rx.last_fill_on is None:
        return SupplyStatus(
            has_supply=False,
            answer=fill_answer(rx, on, limits) if rx is not None else None,
            lead_days=limits.lead_days,
            lead_in_business_days=limits.lead_in_business_days,
            valid_until=valid_until,
        )
    moved = run_out_after_dose_changes(rx.last_fill_on, rx.days_supply, rx.dose_changes)
    run_out = moved.run_out
    needed_by = needed_by_date(run_out, limits)
    return SupplyStatus(
        has_supply=True,
        run_out=run_out,
        needed_by=needed_by,
        refills_left=0 if rx.schedule == Schedule.II else refills_remaining(rx),
        answer=fill_answer(rx, on, limits),
        lead_days=limits.lead_days,
        lead_in_business_days=limits.lead_in_business_days,
        is_late=on > needed_by,
        valid_until=valid_until,
        last_fill_on=rx.last_fill_on,
        recalculated=moved.recalculated,
        not_recalculated=moved.not_recalculated,
    )


@dataclass(frozen=True)
class DoseChange:
    """A change of the daily amount on one day; None where the amount could not be read."""

    on: date
    before: Fraction | None
    after: Fraction | None


@dataclass(frozen=True)
class RunOut:
    run_out: date
    recalculated: bool = False  # a dose change moved it
    not_recalculated: bool = False  # a dose change could not be measured: the date is the old one


def run_out_after_dose_changes(
    last_fill_on: date, days_supply: int, changes: "list[DoseChange] | tuple[DoseChange, ...]"
) -> RunOut:
    """The run-out date when the daily amount changed after the last fill.

    The supply on hand on the day of a change is what the days left would have lasted at the
    old amount (the fill's quantity, less what was taken since at the rate it was dispensed
    for); it lasts (on hand ÷ new daily amount) days from the change, whole days only. A change
    on or after the run-out finds nothing on hand and moves nothing. A change whose amounts
    cannot be read keeps the date as it was and says so.
    """
    run_out = run_out_date(last_fill_on, days_supply)
    recalculated = not_recalculated = False
    for change in sorted(changes, key=lambda c: c.on):
        if change.on < last_fill_on or change.on >= run_out:
            continue
        if change.before is None or change.after is None or change.before <= 0 or change.after <= 0:
            not_recalculated = True
            continue
        if change.before == change.after:
            continue
        days_left = (run_out - change.on).days
        on_hand = days_left * change.before
        run_out = change.on + timedelta(days=math.floor(on_hand / change.after))
        recalculated = True
    return RunOut(run_out, recalculated, not_recalculated)
