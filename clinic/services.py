from datetime import timedelta

from django.db import connection
from django.utils import timezone

from core import access
from core.access import Action, Category

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


def message_observation(*, actor, message, medication, kind: str, severity: str, text: str):
    """A clinician records a patient's message as an observation on one of their medicines, in
    one step, and the message links to it. `medication` was read through a door; the two
    services each guard and audit their own write.

    Raises ValidationError when the message is already recorded, or the observation's input is
    wrong (nothing is written then); a resent form returns the observation it already made."""
    from django.core.exceptions import ValidationError
    from django.urls import reverse

    from messaging import services as messaging_services
    from prescribing import services as prescribing_services

    if message.record_uuid is not None:
        raise ValidationError("This message is already recorded.")
    # Checked before the observation is written, so that a clinician who may not answer the
    # conversation leaves no observation behind.
    access.guard(actor, Action.ANSWER, Category.MESSAGES, message.conversation)
    observation = prescribing_services.observation_create(
        actor=actor, medication=medication, kind=kind, text=text, severity=severity or "none"
    )
    messaging_services.message_recorded(
        actor=actor,
        message=message,
        kind="observation",
        record_uuid=observation.uuid,
        label=f"Observation on {medication.label}",
        path=reverse("medication_detail", args=[medication.uuid]),
    )
    return observation
