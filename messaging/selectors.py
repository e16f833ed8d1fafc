"""Reads of secure messages, scoped by core.access and audited.

A conversation is read whole: whoever may read it reads every message in it (the policy
decides on the conversation, whose it is being the clinician it is addressed to).
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q

from core import access
from core import selectors as core_selectors
from core.access import Action, Category

from .models import Conversation, Message, Receipt

# The queryset pages and the API look one conversation up in (through access.get).
CONVERSATIONS = Conversation.objects.select_related(
    "patient", "patient__user", "clinician", "clinician__practice", "practice", "author"
)


def _unread_q(user) -> Q:
    """Messages someone else wrote that this user has not opened."""
    seen = Receipt.objects.filter(message=OuterRef("pk"), reader_id=user.pk)
    return ~Q(author_id=user.pk) & ~Exists(seen)


def conversation_list(*, actor, patient=None) -> list[Conversation]:
    """The conversations the actor may read (of one patient, or of everyone's they may),
    newest first, each with `unread`: messages the actor has not opened. Audited per patient."""
    visible = access.visible(
        actor, CONVERSATIONS.all(), Category.MESSAGES, Action.LIST, patient=patient
    )
    unread = Message.objects.filter(_unread_q(actor), conversation=OuterRef("pk"))
    conversations = list(
        visible.annotate(
            unread=Count("messages", filter=Q(messages__in=unread.values("pk")), distinct=True)
        ).order_by("-last_message_at", "-pk")[:200]
    )
    if patient is not None:
        shown = [patient]
    else:
        shown = list({c.patient_id: c.patient for c in conversations}.values())
    access.audit_listed(
        actor, shown, Category.MESSAGES, Action.LIST, object_type="messaging.Conversation"
    )
    return conversations


def unread_count(*, user) -> int:
    """Messages in the conversations the user may read that they have not opened: the header's
    count. Not audited: a number, no patient's information."""
    if access.kind_of(user) not in ("patient", "clinician"):
        return 0
    conversations = access.visible(user, Conversation.objects.all(), Category.MESSAGES, Action.READ)
    return Message.objects.filter(_unread_q(user), conversation__in=conversations).count()


@dataclass
class Shown:
    """A message as its reader sees it: with who read it (for the patient's own words)."""

    message: Message
    read_by: list = field(default_factory=list)  # receipts by others, first reader first

    @property
    def first_read(self):
        return self.read_by[0] if self.read_by else None


def messages_of(*, conversation: Conversation) -> list[Shown]:
    """The messages of a conversation the caller resolved through a door, oldest first, with
    the receipts of readers other than their author."""
    messages = list(
        conversation.messages.select_related("author", "practice").prefetch_related(
            "receipts__reader"
        )
    )
    return [Shown(m, [r for r in m.receipts.all() if r.reader_id != m.author_id]) for m in messages]


def message_in(*, conversation: Conversation, message_uuid) -> Message | None:
    """One message of a conversation the caller resolved through a door (None if not in it)."""
    try:
        return conversation.messages.filter(uuid=message_uuid).first()
    except ValidationError:  # a malformed uuid is "not in it"
        return None


@dataclass
class Reader:
    clinician: object
    practice: object
    because: str


def conversation_readers(*, conversation: Conversation, others=()) -> list[Reader]:
    """The clinicians who may read the conversation now, as the policy decides for each:
    the care team, and `others` ((clinician, why) pairs a caller knows of, such as those a
    release names), each kept only if the policy lets them read it."""
    readers = []
    seen = set()
    for membership in core_selectors.care_team_for(patient=conversation.patient):
        clinician = membership.clinician
        if clinician.pk in seen:
            continue
        seen.add(clinician.pk)
        if not access.can(clinician, Action.READ, Category.MESSAGES, conversation):
            continue
        if conversation.clinician_id == clinician.pk:
            because = "it is addressed to them"
        elif conversation.clinician_id is None:
            because = "on your care team"
        else:
            because = "on your care team, in the same practice"
        readers.append(Reader(clinician, membership.practice, because))
    for clinician, why in others:
        if clinician.pk in seen:
            continue
        seen.add(clinician.pk)
        if access.can(clinician, Action.READ, Category.MESSAGES, conversation):
            readers.append(Reader(clinician, clinician.practice, why))
    return readers


def reply_times(*, patient) -> list:
    """The practices of the patient's care team that say when they reply, with their words."""
    practices = {}
    for membership in core_selectors.care_team_for(patient=patient):
        practices.setdefault(membership.practice_id, membership.practice)
    return sorted((p for p in practices.values() if p.reply_time), key=lambda p: p.name)


def addressees(*, patient) -> list:
    """Who the patient may write to: the clinicians on their care team today."""
    team = {}
    for membership in core_selectors.care_team_for(patient=patient):
        team.setdefault(membership.clinician_id, membership)
    return list(team.values())


def communications(*, actor, patient) -> list[Message]:
    """Every message of the patient the actor may read, for an export (FHIR Communication),
    oldest first. The caller audited the export of the patient."""
    conversations = access.visible(
        actor, Conversation.objects.all(), Category.MESSAGES, Action.EXPORT, patient=patient
    )
    return list(
        Message.objects.filter(conversation__in=conversations)
        .select_related("conversation", "author", "conversation__clinician")
        .order_by("created_at", "id")
    )
