"""Reads of people and the audit trail, always scoped by the access policy."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from . import access, accounting, audit
from .access import Action, Category
from .models import (
    AuditEvent,
    CareTeamMembership,
    Invitation,
    Notification,
    NotificationPreference,
    Patient,
    Practice,
    SelfDescription,
    User,
)


def patient_list(*, actor, search: str = "") -> QuerySet:
    """Patients the actor may see, optionally matching a name. Not audited yet: pass what is
    shown to `patients_listed`."""
    patients = access.visible(actor, Patient.objects.all(), Category.PROFILE)
    search = search.strip()
    for word in search.split()[:4]:
        patients = patients.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(preferred_name__icontains=word)
        )
    patients = patients.prefetch_related(
        Prefetch(
            "care_team",
            queryset=CareTeamMembership.objects.active().select_related("clinician", "practice"),
            to_attr="active_team",
        )
    ).order_by("family_name", "given_name")
    return patients


def patients_listed(*, actor, patients) -> list[Patient]:
    """Audit a list of patients as shown (one row per patient, which their accounting shows)."""
    patients = list(patients)
    access.audit_listed(actor, patients, Category.PROFILE, object_type="core.Patient")
    return patients


def care_team_for(*, patient: Patient) -> list[CareTeamMembership]:
    """Active care-team members of a patient the caller already has access to (read once a
    request)."""
    return list(access.care_team(patient))


def clinics_for(*, patient: Patient, first=None) -> list:
    """The practices a printed document of this patient names at its foot: `first` (the
    practice issuing it), then those of the active care team, each once."""
    practices = [first] if first is not None else []
    for member in care_team_for(patient=patient):
        if member.practice not in practices:
            practices.append(member.practice)
    return practices


def is_on_care_team(*, patient: Patient, clinician) -> bool:
    """Is this clinician an active member of the patient's care team today?"""
    return CareTeamMembership.objects.active().filter(patient=patient, clinician=clinician).exists()


def patient_for_user(*, user) -> Patient | None:
    """The patient record linked to a signed-in patient, or None (for anyone else: only a
    patient's account is linked to a record)."""
    if not user.is_authenticated:
        return None
    return Patient.objects.filter(user=user).first()


def record_views_for_patient(*, actor, patient: Patient, disclosures_only: bool = False):
    """Who has seen this patient's record, for the patient: groups of others' reads by person,
    day and reason, newest first, in plain words (a lazy sequence to page; see core.accounting).
    `disclosures_only` keeps the reads a release or a referral allowed. Raises Http404 for
    anyone but the patient."""
    access.get(actor, Action.READ, Category.AUDIT, patient=patient.uuid)
    return accounting.RecordViews(
        patient=patient,
        viewer=actor,
        disclosures_only=disclosures_only,
        providers=access.providers(),
    )


def audit_search(
    *,
    actor,
    email: str = "",
    patient_name: str = "",
    action: str = "",
    outcome: str = "",
    limit: int = 200,
):
    """The audit trail for clinic admins, newest first; the search itself audited, allowed or
    refused. Raises PermissionDenied for anyone else."""
    from django.core.exceptions import PermissionDenied

    allowed = access.reads_audit_trail(actor)
    audit.record(
        actor=actor,
        patient=None,
        category=Category.AUDIT,
        action=Action.LIST,
        outcome="allowed" if allowed else "denied",
        object_type="core.AuditEvent",
    )
    if not allowed:
        raise PermissionDenied
    events = AuditEvent.objects.all()
    if action:
        events = events.filter(action=action)
    if outcome:
        events = events.filter(outcome=outcome)
    # Whom the search names, found first: matching the text over a join while walking the
    # trail newest first reads the whole table when the person matched has few events.
    people: dict[str, list[int]] = {}
    broad = Q()
    if email:
        found = _first_ids(User.objects.filter(email__icontains=email.strip()))
        people["actor_id"] = found
        broad &= Q(actor__email__icontains=email.strip())
    if patient_name:
        patients = Patient.objects.all()
        for word in patient_name.split()[:3]:
            patients = patients.filter(
                Q(given_name__icontains=word) | Q(family_name__icontains=word)
            )
            broad &= Q(patient__given_name__icontains=word) | Q(
                patient__family_name__icontains=word
            )
        people["patient_id"] = _first_ids(patients)
    if not people:
        # The newest of all: every month's (at) index read from its end, merged.
        return list(events.select_related("actor", "patient").order_by("-at", "-pk")[:limit])
    if any(not ids for ids in people.values()):
        return []
    narrow = {field: ids for field, ids in people.items() if len(ids) <= AUDIT_SEARCH_PEOPLE}
    if not narrow:
        # Many people match, so their events are common: the newest are found in a recent
        # window, widened only while it holds too few.
        return _newest_in_windows(events.filter(broad), limit)
    if len(narrow) < len(people):
        events = events.filter(broad)
    field, ids = min(narrow.items(), key=lambda item: len(item[1]))
    for other, other_ids in narrow.items():
        if other != field:
            events = events.filter(**{f"{other}__in": other_ids})
    return _newest_of_each(events, field, ids, limit)


# At most this many people named by a search are looked up one by one (see audit_search).
AUDIT_SEARCH_PEOPLE = 50


# The windows a broad search looks back over, in turn: each bounds the rows read (and the
# partitions), whatever the planner guesses about the text matched.
SEARCH_WINDOWS = (
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=7),
    timedelta(days=31),
    timedelta(days=366),
    None,
)


def _newest_in_windows(events, limit: int) -> list[AuditEvent]:
    now = timezone.now()
    for window in SEARCH_WINDOWS:
        recent = events if window is None else events.filter(at__gte=now - window)
        found = list(recent.select_related("actor", "patient").order_by("-at", "-pk")[:limit])
        if len(found) >= limit:
            break
    return found


def _first_ids(queryset) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True)[: AUDIT_SEARCH_PEOPLE + 1])


def _newest_of_each(events, field: str, ids: list[int], limit: int) -> list[AuditEvent]:
    """The newest `limit` events among those of these people: each person's newest `limit`
    read down their own (person, at) index in every month's partition, merged, then those
    rows fetched. Two queries, whatever the size of the trail."""
    parts = [
        events.filter(**{field: person}).order_by("-at").values_list("pk", "at")[:limit]
        for person in ids
    ]
    newest = (
        parts[0].union(*parts[1:], all=True).order_by("-at")[:limit] if len(parts) > 1 else parts[0]
    )
    keys = list(newest)
    if not keys:
        return []
    return list(
        AuditEvent.objects.select_related("actor", "patient")
        .filter(pk__in=[pk for pk, _ in keys])
        .filter(at__gte=min(at for _, at in keys), at__lte=max(at for _, at in keys))
        .order_by("-at", "-pk")
    )


def unread_notification_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_list(*, user, limit: int = 100) -> QuerySet:
    return notifications(user=user)[:limit]


def notifications(*, user, unread_only: bool = False) -> QuerySet:
    """The user's own notifications, newest first (all of them, to page through)."""
    mine = Notification.objects.filter(recipient=user)
    if unread_only:
        mine = mine.filter(read_at__isnull=True)
    return mine.order_by("-created_at", "-id")


def notification_get(*, user, uuid) -> Notification | None:
    """One of the user's own notifications, or None (another's is not theirs to know of)."""
    return Notification.objects.filter(recipient=user, uuid=uuid).first()


def notification_settings_get(*, user) -> NotificationPreference:
    """The person's own notification settings; the defaults (unsaved) if they never chose."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


def quiet_hours_zone(*, user, pref: NotificationPreference) -> str:
    """The time zone the person's quiet hours are read in (as the reminder delivery reads it)."""
    from . import nudges

    return nudges.zone_of(user, pref).key


def clinician_directory(*, exclude=None) -> QuerySet:
    """Active prescribers and therapists of every practice (names and practices only)."""
    from .models import User

    clinicians = User.objects.filter(access.care_givers_q()).select_related("practice")
    if exclude is not None:
        clinicians = clinicians.exclude(pk=exclude.pk)
    return clinicians.order_by("role", "full_name")


def memberships_active(*, on=None) -> QuerySet:
    """Care-team memberships in force on a day (for set-based queries of other apps)."""
    return CareTeamMembership.objects.active(on)


def crisis_help_practices(*, user) -> list:
    """The practices whose after-hours help a signed-in patient is shown: those of their
    active care team. A read of the patient's own care team, so audited; [] for anyone else."""
    from .models import Practice

    patient = patient_for_user(user=user)
    if patient is None:
        return []
    access.get(user, Action.READ, Category.PROFILE, patient=patient.uuid)
    practice_ids = CareTeamMembership.objects.active().filter(patient=patient).values("practice_id")
    return list(Practice.objects.filter(pk__in=practice_ids).order_by("name"))


def practices_administered(*, user) -> list:
    """The practices whose settings a clinic admin may change: their own practice, or every
    practice for a clinic-wide admin (no practice of their own). [] for anyone else."""
    from .models import Practice

    q = access.practices_q(user)
    if q is None:
        return []
    return list(Practice.objects.filter(q).order_by("name"))


def practice_administered_get(*, user, practice_uuid, action: Action = Action.READ):
    """One practice the user runs, by uuid; refused (audited, Http404) otherwise."""
    from .models import Practice

    q = access.practices_q(user)
    practice = Practice.objects.filter(q, uuid=practice_uuid).first() if q is not None else None
    if practice is None:
        access.refuse_practice(user, action, practice_uuid)
    return practice


def patient_email_change_pending(*, patient: Patient):
    """The address change waiting for the patient's confirmation from the old address, if any,
    for a patient the caller already has access to."""
    from .models import PatientEmailChange

    for change in PatientEmailChange.objects.filter(
        patient=patient, applied_at__isnull=True, closed_at__isnull=True
    )[:1]:
        if change.is_pending():
            return change
    return None


def self_description_get(*, user) -> SelfDescription | None:
    """The signed-in patient's own self-description (an unsaved, empty one before they write
    any), read through the policy and audited; None for anyone without a patient record."""
    patient = patient_for_user(user=user)
    if patient is None:
        return None
    access.get(user, Action.READ, Category.SELF_DESCRIPTION, patient=patient.uuid)
    found = SelfDescription.objects.filter(patient=patient).first()
    return found or SelfDescription(patient=patient)


# --- Clinic settings: the staff accounts a clinic admin runs (no patient information) ------


def staff_list(*, user) -> list:
    """The staff accounts the user runs (`access.staff_q`), active first, each with
    `uses_totp` (whether they have an authenticator app): [] for anyone else."""
    from allauth.mfa.models import Authenticator

    q = access.staff_q(user)
    if q is None:
        return []
    totp = Authenticator.objects.filter(user_id=OuterRef("pk"), type=Authenticator.Type.TOTP)
    return list(
        User.objects.filter(q)
        .select_related("practice")
        .annotate(uses_totp=Exists(totp))
        .order_by("-is_active", "full_name", "email")
    )


def staff_get(*, user, person_uuid, action: Action = Action.READ):
    """One staff account the user runs, by uuid, with `uses_totp`; refused (audited,
    Http404) alike for one that does not exist and one the user does not run."""
    from allauth.mfa.models import Authenticator

    q = access.staff_q(user)
    person = None
    if q is not None:
        totp = Authenticator.objects.filter(user_id=OuterRef("pk"), type=Authenticator.Type.TOTP)
        person = (
            User.objects.filter(q, uuid=person_uuid)
            .select_related("practice")
            .annotate(uses_totp=Exists(totp))
            .first()
        )
    if person is None:
        access.refuse_staff(user, action, person_uuid)
    return person


def staff_invitations_open(*, user) -> list:
    """Staff invitations not yet used, closed or expired, to the practices the user runs."""
    q = access.practices_q(user)
    if q is None:
        return []
    return list(
        Invitation.objects.filter(
            patient__isnull=True,
            practice__in=Practice.objects.filter(q),
            used_at__isnull=True,
            closed_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("practice")
        .order_by("-created_at")
    )


def caseload(*, actor) -> QuerySet:
    """The patients the actor is on the active care team of (a release alone does not make a
    patient theirs), as far as the policy lets them see them; by name. Not audited: pass what
    is shown to `patients_listed` or audit it as the page's lists do."""
    members = CareTeamMembership.objects.active().filter(clinician_id=actor.pk)
    patients = Patient.objects.filter(pk__in=members.values("patient_id"))
    return access.visible(actor, patients, Category.PROFILE).order_by("family_name", "given_name")
