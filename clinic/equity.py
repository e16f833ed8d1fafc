"""The clinic's equity view: does prescribing, the alliance and the outcome differ between
groups of patients, as the patients describe themselves?

Aggregates only. Every figure is counted by group in the database; nothing here returns, shows
or exports a row about one person. Small cells are suppressed before anything leaves this
module (`suppress`): a count under 11 is never shown, a rate resting on fewer than 11 is never
shown, and when one cell of a column is hidden a second is hidden with it, so that the hidden
one cannot be had by subtracting the others from the total.

The self-description is read here in aggregate only (the policy's `equity_practices_q` says
who may ask, and for which practices); no clinical page reads it at all.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from alliance.models import CheckIn, Flag
from core.dates import us_date
from core.models import Patient, SelfDescription
from prescribing import doses
from prescribing.models import DecisionRecord, DrugClass, Medication
from prescribing.supply import Schedule
from stories.models import Goal

# The smallest group or count that may be shown (CMS's cell-size rule: 1 to 10 never shown;
# here 0 is hidden too, so that "none of this group" is not told either).
MIN_CELL = 11
HIDDEN = "hidden"

OUTCOME_KEY = "phq-9"
ALLIANCE_KEY = "concord-alliance"


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    groups: tuple[tuple[str, str], ...]  # (value, label), in the order shown


NOT_DESCRIBED = ("", "Not described")
DIMENSIONS: dict[str, Dimension] = {
    d.key: d
    for d in (
        Dimension(
            "race",
            "Race and ethnicity",
            (
                *SelfDescription.RaceEthnicity.choices,
                (SelfDescription.MULTIPLE, "More than one"),
                (SelfDescription.DECLINED, "Prefer not to say"),
                NOT_DESCRIBED,
            ),
        ),
        Dimension(
            "language", "Preferred language", (*SelfDescription.Language.choices, NOT_DESCRIBED)
        ),
        Dimension(
            "age",
            "Age",
            (
                ("under_18", "Under 18"),
                ("18_25", "18 to 25"),
                ("26_34", "26 to 34"),
                ("35_49", "35 to 49"),
                ("50_64", "50 to 64"),
                ("65_up", "65 and over"),
            ),
        ),
        Dimension("sex", "Sex assigned at birth", (*SelfDescription.Sex.choices, NOT_DESCRIBED)),
        Dimension("gender", "Gender identity", (*SelfDescription.Gender.choices, NOT_DESCRIBED)),
    )
}
_FIELDS = {
    "race": "race_group",
    "language": "preferred_language",
    "sex": "sex",
    "gender": "gender_identity",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # "count": a number of people or events, hidden under MIN_CELL. "rate": a figure resting
    # on `basis` (a count kept beside it, never shown itself unless it is a column too).
    kind: str
    basis: str = ""
    unit: str = ""
    digits: int = 1


COLUMNS: tuple[Column, ...] = (
    Column("patients", "Patients", "count"),
    Column("medicines_per_patient", "Medicines per patient", "rate", basis="patients"),
    Column("controlled", "Patients on a controlled substance", "count"),
    Column("antipsychotic_starts", "Antipsychotic starts", "count"),
    Column("dose_increases", "Dose increases", "count"),
    Column("days_to_goal", "Days to the first goal (mean)", "rate", basis="with_goal", digits=0),
    Column("alliance_mean", "Alliance (mean, 0–10)", "rate", basis="alliance_check_ins"),
    Column(
        "concerns_per_100",
        "Alliance concerns per 100 check-ins",
        "rate",
        basis="alliance_check_ins",
    ),
    Column(
        "phq9_change",
        "PHQ-9 change, first to last (mean)",
        "rate",
        basis="with_two_phq9",
    ),
)


# --- Suppression: a pure function of the table -----------------------------------------------


def suppress(rows: dict[str, dict], total: dict, columns=COLUMNS) -> tuple[dict, dict]:
    """The table as it may be shown: each cell its value or HIDDEN.

    `rows` maps a group to its figures (every column's key, and each rate's basis); `total`
    the same for everyone. Rules, applied until nothing changes:
    1. a group of fewer than MIN_CELL patients is hidden whole;
    2. a count under MIN_CELL is hidden; a rate is hidden when what it rests on is under
       MIN_CELL, or is hidden;
    3. complementary: in a column whose total is shown, one hidden cell never stands alone;
       the smallest shown cell of that column (by the count it rests on) is hidden with it,
       and a group whose patient count is hidden in that way is hidden whole.
    The total row follows rule 2 alone (and is hidden whole under MIN_CELL patients).
    """
    shown_total = _suppressed_row(total, columns, whole=total.get("patients", 0) < MIN_CELL)
    shown = {
        g: _suppressed_row(r, columns, whole=r.get("patients", 0) < MIN_CELL)
        for g, r in rows.items()
    }
    changed = True
    while changed:
        changed = False
        for column in columns:
            if shown_total[column.key] == HIDDEN:
                continue
            hidden = [g for g in shown if shown[g][column.key] == HIDDEN]
            if len(hidden) != 1:
                continue
            candidates = [g for g in shown if shown[g][column.key] != HIDDEN]
            if not candidates:
                continue
            weight = column.key if column.kind == "count" else column.basis
            smallest = min(candidates, key=lambda g: (rows[g].get(weight) or 0, g))
            if column.key == "patients":
                shown[smallest] = _suppressed_row(rows[smallest], columns, whole=True)
            else:
                shown[smallest][column.key] = HIDDEN
            changed = True
    return shown, shown_total


def _suppressed_row(row: dict, columns, *, whole: bool) -> dict:
    out = {}
    for column in columns:
        value = row.get(column.key)
        if whole:
            out[column.key] = HIDDEN
        elif column.kind == "count":
            out[column.key] = HIDDEN if (value or 0) < MIN_CELL else value
        else:
            basis = row.get(column.basis) or 0
            out[column.key] = HIDDEN if basis < MIN_CELL or value is None else value
    return out


# --- The figures, by group, counted in the database ------------------------------------------


@dataclass
class EquityTable:
    dimension: Dimension
    since: date
    until: date
    practices: list
    groups: list[tuple[str, str]]  # (value, label) of the rows shown, in order
    rows: dict[str, dict]  # group -> column -> value or HIDDEN
    total: dict
    columns: tuple[Column, ...] = COLUMNS


def _group(dimension: str, prefix: str, until: date):
    """The expression that names a row's group, for a query on a model `prefix` away from the
    patient ("" for Patient itself, "patient__" for a medicine)."""
    if dimension == "age":
        born = f"{prefix}date_of_birth"

        def years_ago(n):
            try:
                return until.replace(year=until.year - n)
            except ValueError:  # 29 February
                return until.replace(year=until.year - n, day=28)

        bands = [(18, "under_18"), (26, "18_25"), (35, "26_34"), (50, "35_49"), (65, "50_64")]
        return Case(
            *[When(**{f"{born}__gt": years_ago(age)}, then=Value(band)) for age, band in bands],
            default=Value("65_up"),
            output_field=CharField(),
        )
    path = f"{prefix}self_description__{_FIELDS[dimension]}"
    return Coalesce(F(path), Value(""), output_field=CharField())


def _counted(queryset: QuerySet, group, **aggregates) -> dict[str, dict]:
    """{group: {name: value}}, one GROUP BY query: the rows that come back are groups."""
    found = queryset.annotate(_g=group).values("_g").annotate(**aggregates).order_by()
    return {row.pop("_g"): row for row in found}


def _total(queryset: QuerySet, **aggregates) -> dict:
    return queryset.aggregate(**aggregates)


def equity_table(*, practices, dimension: str, since: date, until: date) -> EquityTable:
    """The figures for these practices and dates, by the groups of one dimension, suppressed.
    `practices`: a queryset of Practice the caller has already limited through the policy."""
    dim = DIMENSIONS[dimension]
    practice_ids = list(practices.values_list("pk", flat=True))
    in_care = Q(
        care_team__practice__in=practice_ids,
        care_team__since__lte=until,
    ) & (Q(care_team__until__isnull=True) | Q(care_team__until__gt=since))
    population = Patient.objects.filter(pk__in=Patient.objects.filter(in_care).values("pk"))
    figures: dict[str, dict] = {}
    total: dict = {}

    def gather(model_qs: QuerySet, prefix: str, **aggregates):
        for g, values in _counted(model_qs, _group(dimension, prefix, until), **aggregates).items():
            figures.setdefault(g, {}).update(values)
        total.update(_total(model_qs, **aggregates))

    gather(population, "", patients=Count("pk", distinct=True))

    in_use = (
        Medication.objects.filter(
            patient__in=population,
            practice__in=practice_ids,
        )
        .exclude(status=Medication.Status.PROPOSED)
        .filter(
            Q(start_date__isnull=True) | Q(start_date__lte=until),
            Q(stop_date__isnull=True) | Q(stop_date__gte=since),
        )
    )
    gather(
        in_use,
        "patient__",
        medicines=Count("pk"),
        controlled=Count(
            "patient", distinct=True, filter=Q(schedule__in=sorted(Schedule.CONTROLLED))
        ),
    )

    decided = DecisionRecord.objects.filter(
        patient__in=population,
        practice__in=practice_ids,
        decided_on__gte=since,
        decided_on__lte=until,
    )
    gather(
        decided.filter(
            kind=DecisionRecord.Kind.START,
            medication__formulary__drug_class=DrugClass.ANTIPSYCHOTIC,
        ),
        "patient__",
        antipsychotic_starts=Count("pk"),
    )
    # Whether a dose change went up is read from the doses written before and after: the one
    # figure summed here rather than in the database, from (group, before, after) with no
    # person named.
    increases: dict[str, int] = {}
    for g, before, after in (
        decided.filter(kind=DecisionRecord.Kind.DOSE_CHANGE)
        .annotate(_g=_group(dimension, "patient__", until))
        .values_list("_g", "before", "after")
    ):
        was, now = doses.daily_amounts(before or {}, after or {})
        if was is not None and now is not None and Fraction(now) > Fraction(was):
            increases[g] = increases.get(g, 0) + 1
    for g, n in increases.items():
        figures.setdefault(g, {})["dose_increases"] = n
    total["dose_increases"] = sum(increases.values())

    first_goal = (
        Goal.objects.filter(patient=OuterRef("pk"))
        .exclude(status__in=[Goal.Status.PROPOSED, Goal.Status.ENTERED_IN_ERROR])
        .order_by("created_at")
        .values("created_at")[:1]
    )
    with_goal = population.annotate(_first=Subquery(first_goal)).filter(
        _first__isnull=False, _first__gte=F("created_at"), _first__date__lte=until
    )
    gather(
        with_goal,
        "",
        with_goal=Count("pk"),
        _goal_time=Avg(
            ExpressionWrapper(F("_first") - F("created_at"), output_field=DurationField()),
            output_field=DurationField(),
        ),
    )

    alliance = CheckIn.objects.filter(
        patient__in=population,
        practice__in=practice_ids,
        status=CheckIn.Status.SUBMITTED,
        instrument__key=ALLIANCE_KEY,
        submitted_at__date__gte=since,
        submitted_at__date__lte=until,
    )
    gather(alliance, "patient__", alliance_check_ins=Count("pk"), alliance_mean=Avg("total"))
    concerns = Flag.objects.filter(
        patient__in=population,
        kind=Flag.Kind.ALLIANCE_CONCERN,
        check_in__in=alliance,
    )
    gather(concerns, "patient__", _concerns=Count("pk"))

    outcome = CheckIn.objects.filter(
        patient=OuterRef("pk"),
        status=CheckIn.Status.SUBMITTED,
        instrument__key=OUTCOME_KEY,
        submitted_at__date__gte=since,
        submitted_at__date__lte=until,
    )
    with_two = population.annotate(
        _first=Subquery(outcome.order_by("submitted_at", "pk").values("total")[:1]),
        _last=Subquery(outcome.order_by("-submitted_at", "-pk").values("total")[:1]),
        _n=Subquery(outcome.order_by().values("patient").annotate(c=Count("pk")).values("c")[:1]),
    ).filter(_n__gte=2)
    gather(
        with_two,
        "",
        with_two_phq9=Count("pk"),
        phq9_change=Avg(F("_last") - F("_first"), output_field=FloatField()),
    )

    for row in [*figures.values(), total]:
        _derive(row)
    order = [value for value, _label in dim.groups]
    labels = dict(dim.groups)
    # Every group of the dimension is a row, empty or not: a row shown only when someone is in
    # it would tell, hidden figures and all, that the practice has such a patient.
    rows = {}
    for g in order:
        rows[g] = figures.get(g) or {"patients": 0}
        if g not in figures:
            _derive(rows[g])
    shown, shown_total = suppress(rows, total)
    return EquityTable(
        dimension=dim,
        since=since,
        until=until,
        practices=list(practices),
        groups=[(g, labels[g]) for g in order],
        rows=shown,
        total=shown_total,
    )


def _derive(row: dict) -> None:
    """Rates from the counts beside them; each rests on the basis its column names."""
    patients = row.get("patients") or 0
    row.setdefault("medicines", 0)
    for key in ("controlled", "antipsychotic_starts", "dose_increases", "with_goal"):
        row[key] = row.get(key) or 0
    row["medicines_per_patient"] = row["medicines"] / patients if patients else None
    waited = row.pop("_goal_time", None)
    row["days_to_goal"] = waited.total_seconds() / 86400 if waited is not None else None
    check_ins = row.get("alliance_check_ins") or 0
    row["alliance_check_ins"] = check_ins
    row.setdefault("alliance_mean", None)
    row["concerns_per_100"] = (
        (row.pop("_concerns", 0) or 0) * 100 / check_ins if check_ins else None
    )
    row["with_two_phq9"] = row.get("with_two_phq9") or 0
    row.setdefault("phq9_change", None)


# --- Showing it -------------------------------------------------------------------------------


HIDDEN_SHOWN = f"< {MIN_CELL}"  # on the page, where the caption says what it means
HIDDEN_WRITTEN = f"fewer than {MIN_CELL}"  # in the CSV, read without the page


def formatted(value, column: Column, *, hidden: str = HIDDEN_SHOWN) -> str:
    if value == HIDDEN:
        return hidden
    if value is None:
        return "—"
    if column.kind == "count":
        return f"{int(value):,}"
    if column.key == "phq9_change":
        return f"{value:+.{column.digits}f}"
    return f"{value:,.{column.digits}f}"


def as_csv(table: EquityTable) -> str:
    """The same table, suppressed the same way, as CSV (hidden cells say so)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            f"Concord equity view · {table.dimension.label} · {us_date(table.since)} to "
            f"{us_date(table.until)} · "
            + ", ".join(p.name for p in table.practices)
            + f" · counts under {MIN_CELL} hidden"
        ]
    )
    writer.writerow([table.dimension.label, *[c.label for c in table.columns]])
    for g, label in table.groups:
        writer.writerow(
            [
                label,
                *[formatted(table.rows[g][c.key], c, hidden=HIDDEN_WRITTEN) for c in table.columns],
            ]
        )
    writer.writerow(
        [
            "All patients",
            *[formatted(table.total[c.key], c, hidden=HIDDEN_WRITTEN) for c in table.columns],
        ]
    )
    return out.getvalue()


def default_period(today: date) -> tuple[date, date]:
    return today - timedelta(days=365), today
