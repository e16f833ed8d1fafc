"""Every write of secure messages.

Each asks `access.guard` before its transaction (a refusal is audited there and raised); the
write is audited once, with what it made, inside its transaction. Whoever is told of a new
message is told through core.nudges: a title and a link, never what was written.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import access, nudges, resubmit
from core import selectors as core_selectors
from core.access import Action, Category

from .models import SUBJECT_MAX, TEXT_MAX, Conversation, Message, Receipt


def _clinicians_told(conversation: Conversation, *, besides) -> list[int]:
    """The care-team clinicians who may read the conversation (the policy's answer for each)."""
    told = []
    for membership in core_selectors.care_team_for(patient=conversation.patient):
        clinician = membership.clinician
        if clinician.pk == besides.pk or clinician.pk in told:
            continue
        if access.can(clinician, Action.READ, Category.MESSAGES, conversation):
            told.append(clinician.pk)
    return told


def _text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write your message."})
    if len(text) > TEXT_MAX:
        raise ValidationError({"text": f"Keep a message under {TEXT_MAX} characters."})
    return text


def conversation_start(*, actor, patient, subject: str, text: str, clinician=None) -> Conversation:
    """The patient writes to their care team (`clinician` None) or to one clinician of it.

    Raises Http404 (audited) for anyone but the patient (the team answers a conversation, it
    does not start one), ValidationError for a blank subject or text, or an addressee not on the team today."""
    # Only the patient starts a conversation (the policy's tables: the team answers one).
    permit = access.guard(actor, Action.CREATE, Category.MESSAGES, patient)
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError({"subject": "Say in a few words what it is about."})
    if len(subject) > SUBJECT_MAX:
        raise ValidationError({"subject": f"Keep the subject under {SUBJECT_MAX} characters."})
    text = _text(text)
    practice = None
    if clinician is not None:
        membership = next(
            (
                m
                for m in core_selectors.care_team_for(patient=patient)
                if m.clinician_id == clinician.pk
            ),
            None,
        )
        if membership is None:
            raise ValidationError({"to": "Choose someone on your care team."})
        practice = membership.practice
    with transaction.atomic():
        conversation = Conversation(
            patient=patient,
            practice=practice,
            author=actor,
            clinician=clinician,
            subject=subject,
        )
        conversation.full_clean()
        earlier = resubmit.earlier_copy(conversation, "subject", "clinician_id")
        if earlier is not None:
            first = earlier.messages.order_by("created_at", "id").first()
            if first is not None and first.text == text:
                return earlier
        conversation.save()
        message = Message(
            conversation=conversation,
            patient=patient,
            practice=None,
            author=actor,
            text=text,
            created_at=conversation.created_at,
        )
        message.full_clean()
        message.save()
        permit.done(conversation)
        nudges.send(
            "message_received",
            subject=conversation.uuid,
            recipient_ids=_clinicians_told(conversation, besides=actor),
        )
    return conversation


def message_reply(*, actor, conversation: Conversation, text: str) -> Message:
    """A message in a conversation: the patient's, or a reply of a clinician who may answer it
    (the care team, of the practice it is addressed to). A release lets one read, not answer.

    Raises Http404 (audited) when the actor may not write in it, ValidationError for a blank
    or overlong text."""
    permit = access.guard(actor, Action.ANSWER, Category.MESSAGES, conversation)
    text = _text(text)
    with transaction.atomic():
        message = Message(
            conversation=conversation,
            patient=conversation.patient,
            practice=access.writing_practice(actor),
            author=actor,
            text=text,
        )
        message.full_clean()
        earlier = resubmit.earlier_copy(message, "conversation_id", "text")
        if earlier is not None:
            return earlier
        message.save()
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
        # The writer has read what came before.
        _receipts(reader=actor, conversation=conversation)
        permit.done(message, action=Action.CREATE)
        if access.is_self(actor, conversation.patient):
            nudges.send(
                "message_received",
                subject=conversation.uuid,
                recipient_ids=_clinicians_told(conversation, besides=actor),
            )
        elif conversation.patient.user_id:
            nudges.send(
                "message_answered",
                subject=conversation.uuid,
                recipient_ids=[conversation.patient.user_id],
            )
    return message


def _receipts(*, reader, conversation: Conversation) -> int:
    unread = conversation.messages.exclude(author_id=reader.pk).exclude(
        receipts__reader_id=reader.pk
    )
    now = timezone.now()
    made = Receipt.objects.bulk_create(
        [
            Receipt(message_id=pk, reader_id=reader.pk, read_at=now)
            for pk in unread.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    return len(made)


def conversation_seen(*, reader, conversation: Conversation) -> int:
    """Mark what others wrote in a conversation as read by `reader`, who was just shown it
    through a door (whose read was audited there). Returns how many were new to them."""
    with transaction.atomic():
        return _receipts(reader=reader, conversation=conversation)


def message_recorded(
    *, actor, message: Message, kind: str, record_uuid, label: str, path: str
) -> Message:
    """Link a message to the record a clinician made of it (an observation on a medicine, a
    refill request, a goal proposed to the patient).
    The caller made that record through its own service in the same transaction.

    Raises Http404 (audited) when the actor may not make a record of the conversation's
    messages (the care team's, as it answers it), ValidationError when the message already
    links to a record."""
    permit = access.guard(actor, Action.UPDATE, Category.MESSAGES, message.conversation)
    if kind not in Message.RecordKind.values:
        raise ValidationError({"kind": "Choose what to record."})
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.record_uuid is not None and locked.record_uuid != record_uuid:
            raise ValidationError("This message is already recorded.")
        locked.record_kind = kind
        locked.record_uuid = record_uuid
        locked.record_label = (label or "")[:300]
        locked.record_path = (path or "")[:300]
        locked.full_clean()
        locked.save(update_fields=["record_kind", "record_uuid", "record_label", "record_path"])
        permit.done(locked, action=Action.UPDATE)
    return locked
