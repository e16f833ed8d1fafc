"""Every write of visits and cadences.

Each asks `access.guard` before its transaction (a refusal is audited there and raised); the
write is audited once, with what it wrote, inside its transaction. Whoever is told of a visit
is told through core.nudges: a title and a link, never what the visit is about.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import access, nudges, resubmit
from core import selectors as core_selectors
from core.access import Action, Category

from .models import NOTE_MAX, PLACE_MAX, Cadence, Visit

# A visit booked further back than this is a slip, not a record of one that happened.
BOOK_PAST = timedelta(days=30)


def _membership(patient, clinician, *, field: str):
    membership = next(
        (
            m
            for m in core_selectors.care_team_for(patient=patient)
            if m.clinician_id == clinician.pk
        ),
        None,
    )
    if membership is None:
        raise ValidationError({field: "Choose someone on the patient's care team."})
    return membership


def visit_book(
    *,
    actor,
    patient,
    clinician,
    kind: str,
    starts_at,
    minutes: int = 30,
    place: str = "",
    video_link: str = "",
    also_with=None,
) -> Visit:
    """Book a visit of the patient with the clinician booking it (a joint visit names the other
    clinician of the team in `also_with`); the patient is told.

    Raises Http404 (audited) for anyone but the care team (a patient asks their clinic),
    ValidationError for a visit booked for a colleague, someone not on the team, no place and
    no link, or a time long past."""
    permit = access.guard(actor, Action.CREATE, Category.VISITS, patient)
    if clinician.pk != actor.pk:
        raise ValidationError(
            {"clinician": "Book your own visits; for a joint visit, name the other clinician."}
        )
    membership = _membership(patient, clinician, field="clinician")
    if also_with is not None:
        _membership(patient, also_with, field="also_with")
        if also_with.pk == clinician.pk:
            raise ValidationError({"also_with": "Choose the other clinician, or nobody."})
    if starts_at is None:
        raise ValidationError({"starts_at": "Say when the visit is."})
    if starts_at < timezone.now() - BOOK_PAST:
        raise ValidationError({"starts_at": "That is long past: check the date."})
    place = (place or "").strip()[:PLACE_MAX]
    video_link = (video_link or "").strip()
    if not place and not video_link:
        raise ValidationError({"place": "Say where the visit is, or give the video link."})
    if video_link and not video_link.lower().startswith("https://"):
        raise ValidationError({"video_link": "A video link starts with https://."})
    with transaction.atomic():
        visit = Visit(
            patient=patient,
            practice=membership.practice,
            author=actor,
            clinician=clinician,
            also_with=also_with,
            kind=kind,
            starts_at=starts_at,
            minutes=minutes or 30,
            place=place,
            video_link=video_link,
        )
        visit.full_clean()
        earlier = resubmit.earlier_copy(visit, "starts_at", "kind")
        if earlier is not None:
            return earlier
        visit.save()
        permit.done(visit)
        if patient.user_id and visit.is_upcoming:
            nudges.send("visit_booked", subject=visit.uuid, recipient_ids=[patient.user_id])
    return visit


def visit_record(*, actor, visit: Visit, status: str) -> Visit:
    """Say what became of a booked visit: attended or missed (once it has begun), or cancelled
    by the clinic. A cancelled visit the patient did not ask to cancel tells them.

    Raises Http404 (audited) for anyone the policy does not let record it, ValidationError for
    a change a visit cannot make (one already recorded, attended before it began)."""
    permit = access.guard(actor, Action.UPDATE, Category.VISITS, visit)
    if status not in Visit.Status.values:
        raise ValidationError({"status": "Choose what happened."})
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        if locked.status == status:
            return locked  # sent twice: it is recorded already
        if not locked.can_become(status):
            raise ValidationError(
                {"status": f"This visit is {locked.get_status_display().lower()} already."}
            )
        now = timezone.now()
        if status in (Visit.Status.ATTENDED, Visit.Status.MISSED) and locked.starts_at > now:
            raise ValidationError({"status": "This visit has not begun yet."})
        locked.status = status
        locked.status_changed_at = now
        locked.status_changed_by = actor
        if status == Visit.Status.CANCELLED:
            locked.cancelled_by = actor
        locked.change_asked, locked.change_note, locked.change_asked_at = "", "", None
        locked.full_clean()
        locked.save()
        permit.done(locked)
        if status == Visit.Status.CANCELLED and locked.patient.user_id:
            nudges.send(
                "visit_changed", subject=locked.uuid, recipient_ids=[locked.patient.user_id]
            )
    return locked


def cadence_set(*, actor, patient, every_weeks: int | None) -> Cadence | None:
    """How often the actor wants to see the patient (None: no cadence of theirs). Counting
    starts from the last visit the patient attended with them.

    Raises Http404 (audited) for anyone the policy does not let set it, ValidationError for a
    clinician not on the team or weeks outside 1–52."""
    permit = access.guard(actor, Action.UPDATE, Category.VISITS, patient)
    membership = _membership(patient, actor, field="every_weeks")
    with transaction.atomic():
        cadence = (
            Cadence.objects.select_for_update().filter(patient=patient, clinician=actor).first()
        )
        if every_weeks is None:
            if cadence is not None:
                permit.done(cadence, action=Action.UPDATE)
                cadence.delete()
            return None
        if cadence is None:
            cadence = Cadence(
                patient=patient, clinician=actor, author=actor, practice=membership.practice
            )
        cadence.every_weeks = every_weeks
        cadence.set_on = timezone.localdate()
        cadence.full_clean()
        cadence.save()
        permit.done(cadence)
    return cadence


def visit_change_ask(*, actor, visit: Visit, change: str, note: str = "") -> Visit:
    """The patient asks to move or cancel a booked visit; the clinician it is with is told,
    and the visit stays as booked until the clinic confirms.

    Raises Http404 (audited) for anyone but the patient, ValidationError for a visit that is
    not upcoming or a request already waiting."""
    permit = access.guard(actor, Action.ANSWER, Category.VISITS, visit)
    if change not in Visit.Change.values:
        raise ValidationError({"change": "Choose whether to move or cancel it."})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"Keep it under {NOTE_MAX} characters."})
    if change == Visit.Change.MOVE and not note:
        raise ValidationError({"note": "Say which days or times would suit you."})
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        if locked.change_asked == change and locked.change_note == note:
            return locked  # sent twice
        if not locked.is_upcoming:
            raise ValidationError("This visit is not coming up any more: nothing to change.")
        if locked.change_asked:
            raise ValidationError(
                "You have asked already; the clinic will confirm. Send a message to add to it."
            )
        locked.change_asked = change
        locked.change_note = note
        locked.change_asked_at = timezone.now()
        locked.full_clean()
        locked.save(update_fields=["change_asked", "change_note", "change_asked_at"])
        permit.done(locked, action=Action.ANSWER)
        nudges.send("visit_change_asked", subject=locked.uuid, recipient_ids=[locked.clinician_id])
    return locked


def visit_change_confirm(*, actor, visit: Visit, starts_at=None, decline: bool = False) -> Visit:
    """The clinic answers the patient's request: a move to `starts_at`, a cancellation (by the
    patient), or declined (the visit stays as booked). The patient is told either way.

    Raises Http404 (audited) for anyone the policy does not let change the visit,
    ValidationError when nothing is asked or a move has no new time."""
    permit = access.guard(actor, Action.UPDATE, Category.VISITS, visit)
    with transaction.atomic():
        locked = Visit.objects.select_for_update().select_related("patient").get(pk=visit.pk)
        if not locked.change_asked:
            raise ValidationError("Nothing is waiting to be confirmed for this visit.")
        if decline:
            pass
        elif locked.change_asked == Visit.Change.CANCEL:
            locked.status = Visit.Status.CANCELLED
            locked.cancelled_by = locked.patient.user
            locked.status_changed_at = timezone.now()
            locked.status_changed_by = actor
        else:
            if starts_at is None:
                raise ValidationError({"starts_at": "Say when the visit moves to."})
            if starts_at <= timezone.now():
                raise ValidationError({"starts_at": "Move it to a time still to come."})
            locked.starts_at = starts_at
        locked.change_asked, locked.change_note, locked.change_asked_at = "", "", None
        locked.full_clean()
        locked.save()
        permit.done(locked)
        if locked.patient.user_id:
            nudges.send(
                "visit_changed", subject=locked.uuid, recipient_ids=[locked.patient.user_id]
            )
    return locked
