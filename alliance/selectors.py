"""Reads of instruments, check-ins, trends, flags and consultations, scoped by core.access."""

from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from operator import or_

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import dateformat, timezone

from core import access, audit
from core import selectors as core_selectors
from core.access import Action, Category
from core.models import CareTeamMembership

from . import outcomes, scoring
from .models import AllianceSettings, CheckIn, Consultation, Flag, Instrument, Schedule

# Which check-ins each category holds, and which flags: a safety alert is an outcome's.
# A trend chart shows each series' newest check-ins, this many (alliance's `trend_chart` tag).
POINTS_SHOWN = 20
# The alliance page lists each series' newest scores, this many, and links to them all.
ROWS_SHOWN = 50
_KINDS = {Category.ALLIANCE: Instrument.Kind.ALLIANCE, Category.OUTCOMES: Instrument.Kind.OUTCOME}
_FLAG_KINDS = (
    (Category.OUTCOMES, Flag.Kind.SAFETY),
    (Category.ALLIANCE, Flag.Kind.ALLIANCE_CONCERN),
)


def instruments_offered() -> list[Instrument]:
    """The newest active version of each instrument."""
    newest = {}
    for instrument in Instrument.objects.filter(active=True).order_by("key", "-version"):
        newest.setdefault(instrument.key, instrument)
    return sorted(newest.values(), key=lambda i: (i.kind, i.name))


def show_scores_to_patients() -> bool:
    settings = AllianceSettings.objects.first()
    return settings is None or settings.show_alliance_scores_to_patients


def category_of(instrument: Instrument) -> Category:
    """A check-in's category, by its instrument: alliance check-ins, or outcome measures."""
    return Category.ALLIANCE if instrument.kind == Instrument.Kind.ALLIANCE else Category.OUTCOMES


def check_in_category(check_in: CheckIn) -> Category:
    return category_of(check_in.instrument)


def flag_category(flag: Flag) -> Category:
    """A safety alert is an outcome measure's; an alliance concern, the alliance check-in's."""
    return Category.OUTCOMES if flag.kind == Flag.Kind.SAFETY else Category.ALLIANCE


def check_ins():
    """Check-ins, for `access.get` (with `category_of=check_in_category`)."""
    return CheckIn.objects.select_related("instrument", "clinician", "patient")


def flags():
    """Flags, for `access.get` (with `category_of=flag_category`)."""
    return Flag.objects.select_related("patient", "clinician", "check_in")


def score_shown(*, actor, check_in: CheckIn) -> bool:
    """Does the page show this check-in's score? Always to the care team and for outcome
    measures; an alliance score to the patient unless the clinic keeps those for clinicians."""
    return (
        not access.is_self(actor, check_in.patient)
        or check_in.instrument.kind != Instrument.Kind.ALLIANCE
        or show_scores_to_patients()
    )


@dataclass
class Offer:
    """One check-in the patient may do: an instrument, and for alliance the clinician it is about."""

    instrument: Instrument
    clinician: object = None
    draft: CheckIn | None = None
    last_submitted: date | None = None
    due_on: date | None = None

    @property
    def is_due(self) -> bool:
        return self.due_on is None or self.due_on <= timezone.localdate()


def check_in_offers(*, actor, patient) -> list[Offer]:
    """What the patient can fill in now, due ones first: one alliance check-in per clinician.
    Empty for anyone who may not start this patient's check-ins (they are the patient's own)."""
    offered = [
        i
        for i in instruments_offered()
        if access.can(actor, Action.CREATE, category_of(i), patient)
    ]
    if not offered:
        return []
    access.audit_listed(actor, [patient], Category.ALLIANCE, object_type="alliance.CheckIn")
    team = [m.clinician for m in core_selectors.care_team_for(patient=patient)]
    # Drafts and sent ones of both categories in one query, without their instruments' rows.
    mine = list(
        reduce(
            or_,
            (
                access.visible(
                    actor,
                    CheckIn.objects.filter(instrument__kind=kind),
                    category,
                    patient=patient,
                )
                for category, kind in _KINDS.items()
            ),
        )
        .only("id", "uuid", "instrument_id", "clinician_id", "status", "created_at", "submitted_at")
        .annotate(instrument_key=F("instrument__key"))
        .order_by("created_at")
    )
    schedules = {
        (s.instrument_key, s.clinician_id): s for s in Schedule.objects.filter(patient=patient)
    }
    offers = []
    for instrument in offered:
        for clinician in team if instrument.about_clinician else [None]:
            clinician_id = clinician.pk if clinician else None
            same = [
                c
                for c in mine
                if c.instrument_key == instrument.key and c.clinician_id == clinician_id
            ]
            draft = next((c for c in same if c.status == CheckIn.Status.DRAFT), None)
            submitted = [c for c in same if c.status == CheckIn.Status.SUBMITTED]
            last = timezone.localdate(submitted[-1].submitted_at) if submitted else None
            schedule = schedules.get((instrument.key, clinician_id))
            due = scoring.due_on(
                last,
                schedule.every_weeks if schedule else 4,
                schedule.next_visit_on if schedule else None,
            )
            offers.append(Offer(instrument, clinician, draft, last, due))
    offers.sort(
        key=lambda o: (not o.is_due, o.instrument.kind, getattr(o.clinician, "full_name", ""))
    )
    return offers


def check_in_get(*, actor, check_in_uuid, action: Action = Action.READ) -> CheckIn:
    """One check-in the actor may see (a draft is the patient's own until they send it); not
    found alike for missing and hidden (audited)."""
    return access.get(
        actor,
        action,
        Category.ALLIANCE,
        queryset=check_ins(),
        uuid=check_in_uuid,
        category_of=check_in_category,
    )


@dataclass
class Series:
    instrument: Instrument
    clinician: object
    check_ins: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    # What the alliance page lists of each check-in, newest first (`history` fills it).
    rows: list = field(default_factory=list)
    # How many check-ins the series has in all: more than `check_ins` when only the newest
    # were read (`trends(recent=...)`).
    total: int = 0

    @property
    def latest(self) -> CheckIn | None:
        return self.check_ins[-1] if self.check_ins else None


@dataclass(frozen=True)
class Row:
    """One sent check-in as the alliance page lists it, formatted once."""

    url: str
    sent_on: str
    score: str


def raised_safety_alert(*, check_in: CheckIn) -> bool:
    """Did this sent check-in raise a safety alert? For a caller that has read the check-in."""
    return (
        check_in.status == CheckIn.Status.SUBMITTED
        and check_in.flags.filter(kind=Flag.Kind.SAFETY).exists()
    )


def crisis_help_after(*, actor, check_in: CheckIn) -> dict | None:
    """For the patient who sent a check-in that raised a safety alert: who was told, and the
    practices whose after-hours help and reply times they are shown. None otherwise.

    The check-in was read through `check_in_get`; the care team is the patient's own.
    """
    if not access.is_self(actor, check_in.patient):
        return None
    if not raised_safety_alert(check_in=check_in):
        return None
    team = core_selectors.care_team_for(patient=check_in.patient)
    practices = core_selectors.crisis_help_practices(user=actor)
    return {
        "told": [m.clinician.full_name for m in team],
        "practices": practices,
        "reply_times": [p for p in practices if p.reply_time],
    }


# What a list of sent check-ins reads of each row: what the pages, the visit screen and the
# FHIR export show. Never the instrument's definition (kilobytes of JSON), read once per
# instrument by `_attach`.
_SENT_COLUMNS = (
    "id",
    "uuid",
    "patient_id",
    "author_id",
    "instrument_id",
    "clinician_id",
    "status",
    "answers",
    "open_answer",
    "total",
    "band",
    "submitted_at",
)


def _attach(check_ins) -> None:
    """Give each check-in its instrument: one query for all of them, each definition read
    once (and not again in the same request, `access.memo`: an instrument version never
    changes once imported)."""
    known = access.memo(("alliance", "instruments"), dict)
    missing = {c.instrument_id for c in check_ins} - known.keys()
    if missing:
        known.update(Instrument.objects.in_bulk(missing))
    for check_in in check_ins:
        check_in.instrument = known[check_in.instrument_id]


def _sent(actor, patient):
    """The patient's sent check-ins the actor may list, alliance and outcomes in one query,
    oldest first; audited once per category, as lists are."""
    base = CheckIn.objects.filter(patient=patient, status=CheckIn.Status.SUBMITTED)
    visible = reduce(
        or_,
        (
            access.visible(actor, base.filter(instrument__kind=kind), category, patient=patient)
            for category, kind in _KINDS.items()
        ),
    )
    for category in _KINDS:
        audit.record(
            actor=actor,
            patient=patient,
            category=category,
            action=Action.LIST,
            object_type="alliance.CheckIn",
        )
    return visible.order_by("submitted_at")


def _grouped(check_ins) -> list[Series]:
    """Check-ins (oldest first, instruments attached) per instrument and relationship."""
    series: dict = {}
    for check_in in check_ins:
        key = (check_in.instrument.key, check_in.clinician_id)
        entry = series.setdefault(key, Series(check_in.instrument, check_in.clinician))
        entry.check_ins.append(check_in)
        entry.instrument = check_in.instrument  # the newest version names the series
    return sorted(
        series.values(),
        key=lambda s: (s.instrument.kind, s.instrument.name, getattr(s.clinician, "full_name", "")),
    )


def trends(*, actor, patient, recent: int | None = None) -> list[Series]:
    """Submitted check-ins grouped per instrument and relationship, oldest first; audited.

    A fixed number of queries however long the history: the check-ins in one narrow query
    (`_SENT_COLUMNS`, and the clinician of those about one), each instrument once. `recent`:
    only each series' newest check-ins, this many (what a glance charts, the same cost
    however long the history)."""
    sent = _sent(actor, patient)
    if recent is not None:
        series = [F("instrument__key"), F("clinician_id")]
        sent = sent.annotate(
            newness=Window(
                RowNumber(),
                partition_by=series,
                order_by=[F("submitted_at").desc(), F("id").desc()],
            ),
            in_series=Window(Count("id"), partition_by=series),
        ).filter(newness__lte=recent)
    check_ins = list(sent.only(*_SENT_COLUMNS, "clinician").select_related("clinician"))
    _attach(check_ins)
    grouped = _grouped(check_ins)
    for entry in grouped:
        entry.total = getattr(entry.check_ins[-1], "in_series", len(entry.check_ins))
    return grouped


def check_ins_sent(*, actor, patient) -> list[CheckIn]:
    """Every sent check-in the actor may list, whole (the API's list), in `trends`' order:
    per instrument and relationship, oldest first; audited."""
    check_ins = list(_sent(actor, patient).select_related("clinician"))
    _attach(check_ins)
    return [c for entry in _grouped(check_ins) for c in entry.check_ins]


def history(*, actor, patient, newest: int | None = None) -> tuple[list[Series], list[Flag]]:
    """The alliance page's story: each series (`trends`) with its own open flags attached and
    its rows listed, and all the open flags (`open_flags`); audited by both. `newest`: each
    series' newest check-ins only, this many (its `total` says how many it has)."""
    series = trends(actor=actor, patient=patient, recent=newest)
    flags = open_flags(actor=actor, patient=patient)
    # Every row links to its check-in: the address is made once and filled with each uuid;
    # each date and each score is formatted once, however many rows share it.
    placeholder = "00000000-0000-0000-0000-000000000000"
    link = reverse("check_in", args=[placeholder])
    dates, scores = {}, {}
    for entry in series:
        clinician_id = entry.clinician.pk if entry.clinician else None
        entry.flags = [
            f
            for f in flags
            if f.check_in.instrument.key == entry.instrument.key and f.clinician_id == clinician_id
        ]
        rows = []
        for c in reversed(entry.check_ins):
            day = timezone.localtime(c.submitted_at).date()
            if day not in dates:
                dates[day] = dateformat.format(day, "j M Y")
            if c.total not in scores:
                scores[c.total] = str(floatformat(c.total, -1))
            score = scores[c.total] + (f" · {c.band}" if c.band else "")
            rows.append(Row(link.replace(placeholder, str(c.uuid)), dates[day], score))
        entry.rows = rows
    return series, flags


def _open(actor, queryset, patient=None):
    """Open flags of `queryset` the actor may read, safety alerts and concerns in one query,
    for those who acknowledge flags (the care team): a flag waits for a clinician, it is not
    the patient's to see. Newest first; `_urgent_first` puts safety alerts before concerns."""
    kinds = [
        access.visible(
            actor,
            queryset.filter(kind=kind, acknowledged_at__isnull=True),
            category,
            patient=patient,
        )
        for category, kind in _FLAG_KINDS
        if access.can(actor, Action.ACKNOWLEDGE, category)
    ]
    if not kinds:
        return Flag.objects.none()
    return reduce(or_, kinds).order_by("-created_at")


def _urgent_first(flags: list[Flag]) -> list[Flag]:
    order = {kind: i for i, (_, kind) in enumerate(_FLAG_KINDS)}
    return sorted(flags, key=lambda f: order[f.kind])


def open_flags(*, actor, patient) -> list[Flag]:
    """Unacknowledged concern flags and safety alerts, for clinicians, urgent first; audited.

    One query for the flags (with their check-ins and clinicians, without their instruments'
    definitions); each instrument once per request, as `trends` reads it."""
    flags = _urgent_first(
        list(_open(actor, Flag.objects.all(), patient).select_related("check_in", "clinician"))
    )
    _attach([f.check_in for f in flags])
    for flag in flags:
        flag.patient = flag.check_in.patient = patient
    if flags:
        audit.record(
            actor=actor,
            patient=patient,
            category=Category.ALLIANCE,
            action=Action.LIST,
            object_type="alliance.Flag",
        )
    return flags


def consultations(*, actor, patient) -> list[Consultation]:
    """Consultations the actor may read: the patient reads only those shared with them (the
    record rule `consultation_audience`)."""
    visible = access.visible(
        actor, Consultation.objects.all(), Category.CONSULTATIONS, patient=patient
    )
    return list(visible.select_related("prescriber", "therapist", "author"))


def consultation_pair(*, patient) -> tuple:
    """(prescriber, therapist): the patient's clinicians in those roles on the care team (the
    first of each by name), who hold a consultation; None for a role nobody holds. From the
    care team the request reads once (`core.selectors.care_team_for`, by role and name)."""
    first = {}
    for member in core_selectors.care_team_for(patient=patient):
        first.setdefault(member.role, member.clinician)
    return (
        first.get(CareTeamMembership.TeamRole.PRESCRIBER),
        first.get(CareTeamMembership.TeamRole.THERAPIST),
    )


def may_consult(*, actor, patient) -> bool:
    """Does the page offer this actor to record a consultation: the team has a prescriber and
    a therapist, the actor is one of them, and the policy lets them write one?"""
    pair = consultation_pair(patient=patient)
    return (
        None not in pair
        and actor.pk in (p.pk for p in pair)
        and access.can(actor, Action.CREATE, Category.CONSULTATIONS, patient)
    )


def check_in_nudge_candidates(*, on) -> list:
    """Patients with a visit within a week and no check-in sent since the week before it: one
    query over schedules (set-based), one nudge per patient and relationship."""
    from datetime import timedelta

    from django.db.models import Exists, OuterRef

    from core import nudges

    recent = CheckIn.objects.filter(
        patient_id=OuterRef("patient_id"),
        instrument__key=OuterRef("instrument_key"),
        clinician_id=OuterRef("clinician_id"),
        status=CheckIn.Status.SUBMITTED,
        submitted_at__date__gte=OuterRef("next_visit_on") - timedelta(days=7),
    )
    due = (
        Schedule.objects.filter(
            next_visit_on__gte=on,
            next_visit_on__lte=on + timedelta(days=7),
            patient__user__isnull=False,
        )
        .exclude(Exists(recent))
        .values_list("pk", "patient__uuid", "patient__user_id", "next_visit_on")
    )
    return [
        nudges.reminder(
            "check_in_due",
            subject=f"schedule-{pk}",
            due_on=visit - timedelta(days=7),
            recipient_id=user_id,
            reason=f"visit on {visit}",
            patient=patient_uuid,
        )
        for pk, patient_uuid, user_id, visit in due
    ]


def flagged_patients(*, actor) -> list:
    """Patients with open safety alerts or alliance concerns this clinician may see, urgent
    first; one query."""
    rows = {}
    for flag in _open(actor, Flag.objects.all()).select_related("patient"):
        entry = rows.setdefault(
            flag.patient_id, {"patient": flag.patient, "safety": False, "concern": False}
        )
        entry["safety" if flag.kind == Flag.Kind.SAFETY else "concern"] = True
    for entry in rows.values():
        audit.record(
            actor=actor,
            patient=entry["patient"],
            category=Category.ALLIANCE,
            action=Action.LIST,
            object_type="alliance.Flag",
        )
    return sorted(rows.values(), key=lambda e: (not e["safety"], e["patient"].family_name))


# --- Caseload outcomes -------------------------------------------------------------------------


@dataclass
class PatientOutcomes:
    """One patient's outcome trajectories and alliance trends, as the caseload shows them."""

    outcomes: list = field(default_factory=list)  # [(Instrument, outcomes.Trajectory)]
    alliance: list = field(default_factory=list)  # [AllianceTrend]
    concern: bool = False
    reasons: list = field(default_factory=list)

    @property
    def not_on_track(self) -> bool:
        return bool(self.reasons)

    def trajectory(self, key: str):
        return next((t for i, t in self.outcomes if i.key == key), None)


@dataclass
class AllianceTrend:
    instrument: Instrument
    clinician: object
    latest: float
    direction: str
    concern: bool


def caseload_outcomes(*, actor, patients, today: date | None = None) -> dict:
    """Outcome trajectories (reliable change, response, remission), alliance trends per
    relationship and open alliance concerns for many patients, keyed by patient id; with why
    each is not on track (`outcomes.not_on_track`). Audited as lists, one row per patient
    and category.

    A fixed number of queries however many patients and check-ins: the sent check-ins of both
    categories in one narrow query, the open concerns in one, each instrument once."""
    patients = list(patients)
    today = today or timezone.localdate()
    ids = [p.pk for p in patients]
    base = CheckIn.objects.filter(patient_id__in=ids, status=CheckIn.Status.SUBMITTED)
    sent = list(
        reduce(
            or_,
            (
                access.visible(actor, base.filter(instrument__kind=kind), category)
                for category, kind in _KINDS.items()
            ),
        )
        .only(*_SENT_COLUMNS, "clinician")
        .select_related("clinician")
        .order_by("submitted_at")
    )
    _attach(sent)
    concerns = set(
        _open(actor, Flag.objects.filter(patient_id__in=ids, kind=Flag.Kind.ALLIANCE_CONCERN))
        .filter(kind=Flag.Kind.ALLIANCE_CONCERN)
        .values_list("patient_id", "clinician_id")
    )
    by_patient: dict = {pk: [] for pk in ids}
    for check_in in sent:
        by_patient[check_in.patient_id].append(check_in)
    result = {}
    for pk, check_ins in by_patient.items():
        entry = PatientOutcomes(concern=any(p == pk for p, _ in concerns))
        for series in _grouped(check_ins):
            definition = series.instrument.definition
            totals = [c.total for c in series.check_ins]
            if series.instrument.kind == Instrument.Kind.ALLIANCE:
                clinician_id = series.clinician.pk if series.clinician else None
                entry.alliance.append(
                    AllianceTrend(
                        instrument=series.instrument,
                        clinician=series.clinician,
                        latest=totals[-1],
                        direction=outcomes.alliance_direction(definition, totals),
                        concern=(pk, clinician_id) in concerns,
                    )
                )
                continue
            norms = outcomes.norms_for(series.instrument.key)
            if norms is None:
                continue
            points = [(timezone.localdate(c.submitted_at), c.total) for c in series.check_ins]
            entry.outcomes.append((series.instrument, outcomes.trajectory(norms, points, today)))
        entry.reasons = outcomes.not_on_track(
            [t for _, t in entry.outcomes], alliance_concern=entry.concern
        )
        result[pk] = entry
    for category in _KINDS:
        access.audit_listed(actor, patients, category, object_type="alliance.CheckIn")
    return result
