"""Reads of secure messages, scoped by core.access and audited.

A conversation is read whole: whoever may read it reads every message in it (the policy
decides on the conversation, whose it is being the clinician it is addressed to).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, When
from django.utils import timezone

from core import access
from core import selectors as core_selectors
from core.access import Action, Category
from core.models import CareTeamMembership

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


# --- Overdue: a patient's message its care team has not opened past the promised time -------


@dataclass
class Overdue:
    """The oldest message of a conversation the patient wrote that nobody on the care team has
    opened, waiting longer than the practice promised (in days)."""

    message: Message
    waiting: int  # whole days since the day it was sent
    promised: int

    @property
    def conversation(self):
        return self.message.conversation

    @property
    def sent_on(self) -> date:
        return timezone.localdate(self.message.created_at)


def _overdue_messages(messages, *, on: date) -> list[Overdue]:
    """Of `messages`, each conversation's oldest one written by the patient, opened by nobody on
    their care team, and waiting more whole days than promised (the practice it is addressed
    to; for the whole team, the shortest promise of the team's practices). One query.

    Counted in the clinic's days: a message sent on Monday to a practice that promised 2 days
    is overdue from Thursday (waiting 3 days)."""
    team = CareTeamMembership.objects.active(on)
    team_read = Receipt.objects.filter(message=OuterRef("pk")).filter(
        Exists(
            team.filter(
                clinician_id=OuterRef("reader_id"), patient_id=OuterRef(OuterRef("patient_id"))
            )
        )
    )
    team_promise = (
        team.filter(patient_id=OuterRef("patient_id"), practice__reply_days__isnull=False)
        .order_by("practice__reply_days")
        .values("practice__reply_days")[:1]
    )
    start_of_day = timezone.make_aware(datetime.combine(on, time.min))
    candidates = (
        messages.filter(author_id=F("patient__user_id"), created_at__lt=start_of_day)
        .exclude(Exists(team_read))
        .annotate(
            promised=Case(
                When(conversation__practice__isnull=True, then=Subquery(team_promise)),
                default=F("conversation__practice__reply_days"),
            )
        )
        .filter(promised__isnull=False)
        .select_related("conversation", "conversation__patient", "conversation__practice")
        .order_by("conversation_id", "created_at", "id")
    )
    found, seen = [], set()
    for message in candidates:
        if message.conversation_id in seen:
            continue
        seen.add(message.conversation_id)
        waiting = (on - timezone.localdate(message.created_at)).days
        if waiting > message.promised:
            found.append(Overdue(message, waiting, message.promised))
    return sorted(found, key=lambda o: (-(o.waiting - o.promised), o.message.created_at))


def overdue_for(*, actor, on: date | None = None) -> list[Overdue]:
    """The overdue messages in the conversations the actor may read, longest past its promise
    first: for their Today page. Audited per patient shown."""
    on = on or timezone.localdate()
    conversations = access.visible(
        actor, Conversation.objects.all(), Category.MESSAGES, Action.LIST
    )
    overdue = _overdue_messages(Message.objects.filter(conversation__in=conversations), on=on)
    shown = list({o.conversation.patient_id: o.conversation.patient for o in overdue}.values())
    access.audit_listed(
        actor, shown, Category.MESSAGES, Action.LIST, object_type="messaging.Conversation"
    )
    return overdue


def overdue_nudge_candidates(*, on: date) -> list:
    """One reminder per overdue message to each clinician on the care team who reads it (the
    practice it is addressed to, or the whole team), keyed by the day it was sent: so it is
    sent once, however many days it stays overdue. Two queries."""
    from core import nudges

    overdue = _overdue_messages(Message.objects.all(), on=on)
    patients = {o.conversation.patient_id for o in overdue}
    team = list(
        CareTeamMembership.objects.active(on)
        .filter(patient_id__in=patients)
        .values_list("patient_id", "clinician_id", "practice_id")
    )
    due = []
    for o in overdue:
        conversation = o.conversation
        # Who reads it, as the policy says (H-56): the team of the practice it is addressed
        # to, or the whole team.
        told = set()
        for patient_id, clinician_id, practice_id in team:
            if patient_id != conversation.patient_id:
                continue
            if conversation.practice_id not in (None, practice_id):
                continue
            told.add(clinician_id)
        due.extend(
            nudges.reminder(
                "message_overdue",
                subject=o.message.uuid,
                due_on=o.sent_on,
                recipient_id=clinician_id,
                reason=f"waiting {o.waiting} days, promised {o.promised}",
                conversation=conversation.uuid,
            )
            for clinician_id in sorted(told)
        )
    return due
