from datetime import timedelta

from django.db import connection
from django.utils import timezone

from core import access
from core.access import Action, Category
from core.dates import us_date

from .models import LastLook

# Looks closer together than this are one visit: reloading keeps showing the same news.
SAME_LOOK = timedelta(hours=6)
FIRST_LOOK_WINDOW = timedelta(days=30)


def look_begin(*, user, patient, screen: str):
    """Record that this user is looking at this screen now; return since when things count as new."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _look_begin_upsert(user=user, patient=patient, screen=screen, now=now)
    # Two tabs opening the screen at once both find no look; get_or_create lets one insert it.
    look, created = LastLook.objects.get_or_create(
        user=user,
        patient=patient,
        screen=screen,
        defaults={"seen_at": now, "since": now - FIRST_LOOK_WINDOW},
    )
    if created:
        return look.since
    if now - look.seen_at > SAME_LOOK:
        look.since, look.seen_at = look.seen_at, now
        look.save(update_fields=["since", "seen_at"])
    else:
        look.seen_at = now
        look.save(update_fields=["seen_at"])
    return look.since or now - FIRST_LOOK_WINDOW


def _look_begin_upsert(*, user, patient, screen: str, now):
    """`look_begin` in one statement (PostgreSQL): the same rules, one round trip, and two tabs
    opening the screen at once still leave one look."""
    table = LastLook._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS l (user_id, patient_id, screen, seen_at, since) "  # noqa: S608
            "VALUES (%(user)s, %(patient)s, %(screen)s, %(now)s, %(first)s) "
            "ON CONFLICT (user_id, patient_id, screen) DO UPDATE SET "
            "since = CASE WHEN %(now)s - l.seen_at > %(same)s THEN l.seen_at ELSE l.since END, "
            "seen_at = %(now)s "
            "RETURNING since",
            {
                "user": user.pk,
                "patient": patient.pk,
                "screen": screen,
                "now": now,
                "first": now - FIRST_LOOK_WINDOW,
                "same": SAME_LOOK,
            },
        )
        (since,) = cursor.fetchone()
    return since or now - FIRST_LOOK_WINDOW


def _message_record(actor, message, category: Category, patient, make, *, kind, label, path):
    """Make a record of a message and link the message to it, in one transaction: both writes
    or neither. The guards are asked first, outside it, so that a refusal is audited and
    stays so; `make()` calls the owning app's service, which guards and audits its own write.

    Raises ValidationError when the message is already recorded (nothing is written)."""
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from messaging import services as messaging_services

    if message.record_uuid is not None:
        raise ValidationError("This message is already recorded.")
    # Whoever may not make a record of the message (the patient, a reader under a release) or
    # may not write that record leaves nothing behind.
    access.guard(actor, Action.UPDATE, Category.MESSAGES, message.conversation)
    access.guard(actor, Action.CREATE, category, patient)
    with transaction.atomic():
        record = make()
        messaging_services.message_recorded(
            actor=actor,
            message=message,
            kind=kind,
            record_uuid=record.uuid,
            label=label,
            # A path may name the record it leads to, which exists only now.
            path=path.replace("{uuid}", str(record.uuid)),
        )
    return record


def message_observation(*, actor, message, medication, kind: str, severity: str, text: str):
    """A clinician records a patient's message as an observation on one of their medicines, in
    one step, and the message links to it. `medication` was read through a door.

    Raises ValidationError when the message is already recorded, or the observation's input is
    wrong (nothing is written then)."""
    from django.urls import reverse

    from prescribing import services as prescribing_services

    return _message_record(
        actor,
        message,
        Category.OBSERVATIONS,
        medication.patient,
        lambda: prescribing_services.observation_create(
            actor=actor, medication=medication, kind=kind, text=text, severity=severity or "none"
        ),
        kind="observation",
        label=f"Observation on {medication.label}",
        path=reverse("medication_detail", args=[medication.uuid]),
    )


def message_refill_request(*, actor, message, medication, note: str = ""):
    """A clinician turns a patient's message asking for more of a medicine into a refill request
    on their behalf, in one step: the prescriber's queue has it (and the prescriber is told, as
    for any request), the patient's pages show it was asked, and the message links to it.

    Raises ValidationError when the message is already recorded, the medicine cannot be
    refilled or a request for it is already open (nothing is written then)."""
    from django.urls import reverse

    from prescribing import services as prescribing_services

    return _message_record(
        actor,
        message,
        Category.REFILLS,
        medication.patient,
        lambda: prescribing_services.refill_request_create(
            actor=actor, medication=medication, note=_from_message(message, note)
        ),
        kind="refill_request",
        label=f"Refill request for {medication.label}",
        path=reverse("medication_detail", args=[medication.uuid]),
    )


def _from_message(message, note: str) -> str:
    """The request's note says where it came from (so the prescriber can read the message)."""

    said = f"Asked in a message on {us_date(message.created_at)}."
    note = " ".join((note or "").split())
    return f"{said} {note}"[:500] if note else said


def message_goal_proposal(*, actor, message, what: str, why: str = ""):
    """A clinician proposes a goal from what the patient wrote, in one step: it waits, proposed,
    for the patient to accept or rewrite it (stories' own flow), and the message links to it.

    Raises ValidationError when the message is already recorded or the goal is blank or too
    long (nothing is written then)."""
    from django.urls import reverse

    from stories import services as stories_services

    patient = message.conversation.patient
    goal = _message_record(
        actor,
        message,
        Category.GOALS,
        patient,
        lambda: stories_services.goal_create(actor=actor, patient=patient, what=what, why=why),
        kind="goal",
        label="Goal proposed: " + " ".join((what or "").split())[:200],
        path=reverse("goals", args=[patient.uuid]) + "#goal-{uuid}",
    )
    return goal
