"""Reads of visits and cadences, scoped by core.access and audited.

Lists go through `access.visible` and audit what they sent (`audit_listed`); one visit is
looked up through `access.get` by the views' declarations (`VISITS` below).
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone

from core import access, audit, nudges
from core import selectors as core_selectors
from core.access import Action, Category

from .models import Cadence, Visit

# The queryset pages and the API look one visit up in (through access.get).
VISITS = Visit.objects.select_related(
    "patient", "patient__user", "clinician", "clinician__practice", "also_with", "practice"
)
# A reminder the day before is not sent before this hour in the patient's own zone (the
# sweep runs from midnight): quiet hours are the person's choice, this is the clinic's manners.
REMINDER_FROM = time(9)


def visit_list(*, actor, patient) -> list[Visit]:
    """A patient's visits the actor may read, soonest last-booked first: upcoming ones first
    (soonest first), then the past (newest first). Audited for the patient."""
    visits = list(
        access.visible(actor, VISITS.all(), Category.VISITS, Action.LIST, patient=patient)
        .select_related("cancelled_by", "status_changed_by")
        .order_by("-starts_at", "-pk")[:200]
    )
    access.audit_listed(
        actor, [patient], Category.VISITS, Action.LIST, object_type="appointments.Visit"
    )
    upcoming = sorted((v for v in visits if v.is_upcoming), key=lambda v: v.starts_at)
    return upcoming + [v for v in visits if not v.is_upcoming]


@dataclass
class Around:
    """The last attended visit and the next booked one, for the visit screen."""

    last: Visit | None = None
    next: Visit | None = None
    cadence: Cadence | None = None
    missed: Visit | None = None  # a visit missed since the last attended one

    @property
    def due_on(self):
        if self.cadence is None:
            return None
        return due_date(self.cadence, self.last)


def visits_around(*, actor, patient) -> Around:
    """The last attended visit, the next booked one and a missed one since (of those the actor
    may read), in one query, and the actor's own cadence for the patient in a second."""
    now = timezone.now()
    mine = access.visible(actor, Visit.objects.all(), Category.VISITS, Action.READ, patient=patient)
    last = mine.filter(status=Visit.Status.ATTENDED).order_by("-starts_at", "-pk").values("pk")[:1]
    upcoming = mine.filter(status=Visit.Status.BOOKED, starts_at__gte=now)
    nxt = upcoming.order_by("starts_at", "pk").values("pk")[:1]
    missed = mine.filter(status=Visit.Status.MISSED).order_by("-starts_at", "-pk").values("pk")[:1]
    rows = list(
        VISITS.filter(Q(pk__in=Subquery(last)) | Q(pk__in=Subquery(nxt)) | Q(pk__in=missed))
    )
    around = Around()
    for visit in rows:
        if visit.status == Visit.Status.ATTENDED:
            around.last = visit
        elif visit.status == Visit.Status.BOOKED:
            around.next = visit
        else:
            around.missed = visit
    if around.missed and around.last and around.missed.starts_at < around.last.starts_at:
        around.missed = None
    if rows:
        # The grants that filtered `mine` were decided (and remembered) for this patient
        # above: the read is audited with them, without asking the providers again.
        audit.record(
            actor=actor,
            patient=patient,
            category=Category.VISITS,
            action=Action.READ,
            object_type="appointments.Visit",
            via=access.decide(actor, Action.READ, Category.VISITS, patient).via,
        )
    if actor.is_authenticated and access.can(actor, Action.UPDATE, Category.VISITS, patient):
        around.cadence = Cadence.objects.filter(patient=patient, clinician_id=actor.pk).first()
    return around


def due_date(cadence: Cadence, last: Visit | None):
    """When the next visit is due: the cadence counted from the last attended visit (from the
    day the cadence was set, before any)."""
    start = cadence.set_on
    if last is not None:
        start = max(start, timezone.localdate(last.starts_at))
    return start + timedelta(weeks=cadence.every_weeks)


def upcoming_for_patient(*, actor, patient, limit: int = 3) -> list[Visit]:
    """The patient's next booked visits, for their home. Audited when any is shown."""
    visits = list(
        access.visible(actor, VISITS.all(), Category.VISITS, Action.LIST, patient=patient)
        .filter(status=Visit.Status.BOOKED, starts_at__gte=timezone.now() - timedelta(hours=1))
        .order_by("starts_at", "pk")[:limit]
    )
    if visits:
        access.audit_listed(
            actor, [patient], Category.VISITS, Action.LIST, object_type="appointments.Visit"
        )
    return visits


@dataclass
class Overdue:
    patient: object
    due_on: object
    every_weeks: int

    @property
    def days_late(self) -> int:
        return (timezone.localdate() - self.due_on).days


def overdue_patients(*, actor, on=None) -> list[Overdue]:
    """The actor's patients due or overdue a visit with them on `on` (today): their cadence,
    counted from the last attended visit with them, has come round and nothing is booked with
    them from today on. Soonest due first; audited per patient shown."""
    on = on or timezone.localdate()
    visits = Visit.objects.filter(patient=OuterRef("patient_id"), clinician_id=actor.pk)
    last_attended = (
        visits.filter(status=Visit.Status.ATTENDED)
        .values("patient")
        .annotate(at=Max("starts_at"))
        .values("at")
    )
    start_of_day = datetime.combine(on, time.min, tzinfo=timezone.get_current_timezone())
    booked = visits.filter(status=Visit.Status.BOOKED, starts_at__gte=start_of_day)
    cadences = (
        access.visible(actor, Cadence.objects.all(), Category.VISITS, Action.LIST)
        .filter(clinician_id=actor.pk)
        .annotate(last_at=Subquery(last_attended[:1]))
        .exclude(patient__in=Subquery(booked.values("patient_id")))
        .select_related("patient")
    )
    due = []
    for cadence in cadences:
        start = cadence.set_on
        if cadence.last_at is not None:
            start = max(start, timezone.localdate(cadence.last_at))
        due_on = start + timedelta(weeks=cadence.every_weeks)
        if due_on <= on:
            due.append(Overdue(cadence.patient, due_on, cadence.every_weeks))
    due.sort(key=lambda o: (o.due_on, o.patient.display_name))
    if due:
        access.audit_listed(
            actor,
            [o.patient for o in due],
            Category.VISITS,
            Action.LIST,
            object_type="appointments.Cadence",
        )
    return due


def visits_waiting(*, actor) -> dict:
    """The actor's visits that wait on them: past ones nobody recorded (did the patient come?)
    and the patients' requests to move or cancel one. Audited per patient shown."""
    now = timezone.now()
    waiting = list(
        access.visible(actor, VISITS.all(), Category.VISITS, Action.LIST)
        .filter(clinician_id=actor.pk, status=Visit.Status.BOOKED)
        .filter(Q(starts_at__lt=now) | ~Q(change_asked=""))
        .order_by("starts_at", "pk")[:100]
    )
    if waiting:
        patients = list({v.patient_id: v.patient for v in waiting}.values())
        access.audit_listed(
            actor, patients, Category.VISITS, Action.LIST, object_type="appointments.Visit"
        )
    return {
        "to_record": [v for v in waiting if v.needs_recording],
        "change_asked": [v for v in waiting if v.change_asked],
    }


def bookable_clinicians(*, patient) -> list:
    """Who a visit may be booked with: the clinicians on the patient's care team today."""
    team = {}
    for membership in core_selectors.care_team_for(patient=patient):
        team.setdefault(membership.clinician_id, membership)
    return list(team.values())


# --- Reminders -------------------------------------------------------------------------------


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def visit_reminder_candidates(*, on):
    """Patients with a booked visit the next day in their own zone, once it is 09:00 there:
    one query over the visits of the next three days, judged by each patient's zone. Due on
    the patient's own today, so the natural key sends it once; a visit moved to another day
    is reminded anew for its new day. (`on`, the clinic's day, is the registry's signature:
    the patient's day is what counts.)"""
    now = timezone.now()
    rows = (
        Visit.objects.filter(
            status=Visit.Status.BOOKED,
            starts_at__gt=now,
            starts_at__lt=now + timedelta(days=3),
            patient__user__isnull=False,
            patient__user__is_active=True,
        )
        .values_list("uuid", "starts_at", "patient__user_id", "patient__time_zone")
        .order_by()
    )
    due = []
    for uuid, starts_at, user_id, zone_name in rows:
        zone = _zone(zone_name)
        today = now.astimezone(zone).date()
        if starts_at.astimezone(zone).date() != today + timedelta(days=1):
            continue
        if now < datetime.combine(today, REMINDER_FROM, tzinfo=zone):
            continue
        due.append(
            nudges.reminder(
                "visit_tomorrow",
                subject=uuid,
                due_on=today,
                recipient_id=user_id,
                reason="visit tomorrow",
            )
        )
    return due


def visits_for_export(*, actor, patient) -> list[Visit]:
    """Every visit of the patient the actor may export (FHIR Appointment), oldest first. The
    caller audits the export of the patient."""
    return list(
        access.visible(actor, VISITS.all(), Category.VISITS, Action.EXPORT, patient=patient)
        .select_related("cancelled_by")
        .order_by("starts_at", "pk")
    )
