"""The one access policy. Default deny.

A decision answers: may *actor* do *action* on *category* of *patient*'s record?
Grants come from providers listed in settings.CONCORD_GRANT_PROVIDERS, asked in order, the
way Django asks authentication backends: core provides self and care-team grants; a domain
app (referrals) adds release grants without core importing it.

Three doors, each audited, and one question:

- `get`: what a view shows. The patient (by uuid) or one record (a queryset and a uuid), if
  the actor may do this to it: "not found" alike for what does not exist and what the actor
  may not see; a row in the audit either way.
- `visible`: what a list shows. A queryset filtered to the patients or records the actor may
  do this to; the same rules as `get`, record rules included, so lists and single records
  always agree (tests/core/test_policy_consistency.py).
- `guard`: what a service writes. A refusal is audited at once (before the service opens its
  transaction, so the row survives the refusal) and raised; an allowed write gets a `Permit`
  whose `done(obj)` writes the single allowed row naming what was written, inside the write's
  transaction. A write that did not happen (a conflict, bad input) leaves no allowed row.
- `can`: a yes/no, not audited, for what a page offers (a button, a link in the header):
  templates ask it through `{% can %}`, never through a user's role.

Beyond the category tables, some rules are about one record (only its author edits a note;
only a referral's recipient answers it; a note kept "only me" is its author's): those are the
`RECORD_RULES` below, one condition a line, each a test for one record and a filter for lists.
A model lists the rules that apply to it in `access_rules`.
"""

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.module_loading import import_string

from . import audit
from .exceptions import NotAllowed
from .models import CLINICIAN_ROLES, AuditEvent, CareTeamMembership, Patient, Role


class Category(StrEnum):
    """The fixed vocabulary of kinds of patient information."""

    PROFILE = "profile"  # who the person is: name, date of birth, care team
    # The care team's plain-language summary of the person, and the patient's own written
    # response to it: each its own category, so that a release or a referral naming the
    # profile does not carry them.
    SUMMARY = "summary"
    SUMMARY_RESPONSE = "summary_response"
    MEDICATIONS = "medications"
    REFILLS = "refills"
    OBSERVATIONS = "observations"  # adherence, response, side effects
    # The clinicians' thread about the patient: what the prescriber and the therapist write to
    # each other. Never the patient's to read; a release naming observations carries it.
    THREADS = "threads"
    ALLIANCE = "alliance"
    OUTCOMES = "outcomes"
    # What the prescriber and the therapist agreed about their alliance with the patient:
    # the care team's to write; the patient reads those shared with them.
    CONSULTATIONS = "consultations"
    GOALS = "goals"
    # The patient's safety plan (Stanley–Brown): theirs, written alone or with their care
    # team. Never carried by a release (not in referrals.models.RELEASABLE).
    SAFETY_PLAN = "safety_plan"
    # Secure messages between the patient and their care team (messaging): a conversation
    # addressed to one clinician is that clinician's, as if they wrote it in their practice.
    MESSAGES = "messages"
    # Booked visits and the follow-up cadence (appointments): a visit is the clinician's it is
    # booked with, as if they wrote it in their practice. The team books and records them; the
    # patient reads theirs and asks to move or cancel one (answer), which the team confirms.
    VISITS = "visits"
    NARRATIVE_NOTES = "narrative_notes"
    PSYCHOTHERAPY_NOTES = "psychotherapy_notes"
    REFERRALS = "referrals"
    RELEASES = "releases"
    SUBSTANCE_USE = "substance_use"
    AUDIT = "audit"  # the accounting of who has seen the record
    # What a medicine is for, in the patient's words (with their hopes and worries): the
    # patient's and their prescriber's to write, the therapist's to read.
    PURPOSE = "purpose"
    # Not patient information: a practice's own settings (after-hours help, reply times).
    PRACTICE = "practice"
    # Who signs in as the patient: the address on file invitations go to, and the invitations.
    # The care team's to manage; the patient changes their own address from their account.
    SIGN_IN = "sign_in"
    # How the patient describes themselves (race and ethnicity, language, sex, gender
    # identity), if they wish: the patient's alone to read and write. No care-team rule and no
    # release carries it; the clinic's equity view counts it in aggregate (`reads_equity`).
    SELF_DESCRIPTION = "self_description"
    # Not patient information: a practice's staff accounts (inviting clinicians and admins,
    # deactivating and reactivating them, resetting their two-factor authentication). A clinic
    # admin's, for the practices they run (`staff_q`); never a clinician's or a patient's.
    STAFF = "staff"


class Action(StrEnum):
    READ = "read"
    LIST = "list"
    CREATE = "create"
    UPDATE = "update"
    EXPORT = "export"
    # Write a prescription, start, change or stop a medicine, record a fill: a prescriber's.
    PRESCRIBE = "prescribe"
    # Answer what was addressed to you: accept or decline a referral.
    ANSWER = "answer"
    # Say you have seen a safety alert or an alliance concern and are acting on it.
    ACKNOWLEDGE = "acknowledge"


READS = frozenset({Action.READ, Action.LIST, Action.EXPORT})
WRITES = frozenset({Action.CREATE, Action.UPDATE})
ALL = READS | WRITES
# PRESCRIBE, ANSWER and ACKNOWLEDGE are not in ALL: the tables below name them where given;
# a release gives reads only.

# What a patient may do with their own record. Psychotherapy process notes are absent:
# HIPAA keeps them from the patient portal.
SELF_RULES: dict[Category, frozenset[Action]] = {
    Category.PROFILE: READS | {Action.UPDATE},
    Category.SUMMARY: READS,
    Category.SUMMARY_RESPONSE: READS | {Action.CREATE, Action.UPDATE},
    Category.MEDICATIONS: READS,
    # The patient writes what each medicine is for, in their own words.
    Category.PURPOSE: READS | {Action.UPDATE},
    Category.REFILLS: ALL,
    Category.OBSERVATIONS: ALL,
    # Check-ins are the patient's own answers: theirs to start and to answer.
    Category.ALLIANCE: ALL,
    Category.OUTCOMES: ALL,
    # Only the consultations shared with them (the record rule `consultation_audience`).
    Category.CONSULTATIONS: READS,
    # Accepting a goal a clinician proposed is answering it (the record rule `patient_accepts`).
    Category.GOALS: ALL | {Action.ANSWER},
    Category.SAFETY_PLAN: ALL,
    Category.NARRATIVE_NOTES: ALL,
    Category.REFERRALS: READS,
    Category.RELEASES: ALL,
    Category.SUBSTANCE_USE: READS,
    Category.AUDIT: READS,
    # The patient starts a conversation with their care team (create), writes again in it
    # (answer), and reads what they wrote and were answered.
    Category.MESSAGES: READS | {Action.CREATE, Action.ANSWER},
    Category.SELF_DESCRIPTION: ALL,
    # The patient reads their visits and asks to move or cancel one; booking is the team's.
    Category.VISITS: READS | {Action.ANSWER},
}

# What an active care-team member may do, by their role on the team. Psychotherapy notes
# are absent: only their author sees them (the author rule in `visible`).
_CLINICIAN_COMMON: dict[Category, frozenset[Action]] = {
    Category.PROFILE: READS | {Action.UPDATE},
    # The team writes the summary; the response is the patient's to write, the team's to read.
    Category.SUMMARY: READS | {Action.UPDATE},
    Category.SUMMARY_RESPONSE: READS,
    Category.REFILLS: ALL,
    Category.OBSERVATIONS: ALL,
    # The team reads the patient's check-ins and acknowledges what they raise (a safety alert
    # is an outcome, an alliance concern alliance); the answers are the patient's alone.
    Category.ALLIANCE: READS | {Action.ACKNOWLEDGE},
    Category.OUTCOMES: READS | {Action.ACKNOWLEDGE},
    Category.CONSULTATIONS: READS | {Action.CREATE, Action.UPDATE},
    # A goal is in the patient's words: only the patient accepts a proposed one and changes it
    # (the record rules `patient_accepts`, `patient_or_proposer_edits`).
    Category.GOALS: ALL | {Action.ANSWER},
    # The team writes the safety plan with the patient, and reads it.
    Category.SAFETY_PLAN: READS | {Action.CREATE, Action.UPDATE},
    Category.NARRATIVE_NOTES: ALL,
    # Answering a referral is its recipient's alone (the record rule `recipient_answers`).
    Category.REFERRALS: ALL | {Action.ANSWER},
    # A release is the patient's to sign and to revoke: the team reads it.
    Category.RELEASES: READS,
    Category.THREADS: READS | {Action.CREATE},
    # The patient's messages to the team: read, and answered; only the patient starts one.
    # Making a message a record (an observation, a refill request, a goal proposal, linked
    # from the message) updates it: the team's, not the patient's, and no release's.
    Category.MESSAGES: READS | {Action.ANSWER, Action.UPDATE},
    # The team books visits, sets how often to see the patient, says whether a visit happened
    # and confirms the patient's request to move or cancel one.
    Category.VISITS: READS | {Action.CREATE, Action.UPDATE},
    Category.SUBSTANCE_USE: ALL,
    # A clinician may write (and correct) process notes; reading them is their author's alone.
    Category.PSYCHOTHERAPY_NOTES: frozenset({Action.CREATE, Action.UPDATE}),
    Category.SIGN_IN: ALL,
}
CARE_TEAM_RULES: dict[str, dict[Category, frozenset[Action]]] = {
    CareTeamMembership.TeamRole.PRESCRIBER: {
        **_CLINICIAN_COMMON,
        Category.MEDICATIONS: ALL | {Action.PRESCRIBE},
        Category.PURPOSE: READS | {Action.UPDATE},
    },
    # A therapist sees the medication plan (and what each medicine is for) but does not
    # prescribe.
    CareTeamMembership.TeamRole.THERAPIST: {
        **_CLINICIAN_COMMON,
        Category.MEDICATIONS: READS,
        Category.PURPOSE: READS,
    },
}


# --- Record rules ---------------------------------------------------------------------------
# Conditions on one record, beyond what the tables above give for its category. Each is one
# condition, written twice: `test` for one record (`decide_record`, `get`, `guard`) and `q` for
# lists (`visible`), so that a list never shows what the single record would refuse. A model
# names the rules that apply to it in `access_rules`; a rule limits only the actions it lists.


@dataclass(frozen=True)
class RecordRule:
    actions: frozenset
    test: Callable  # (actor, record) -> bool
    q: Callable  # (actor) -> Q on the record's model
    message: str  # why, for someone who may see the record but not do this to it


def _yours(actor) -> Q:
    return Q(author_id=actor.pk)


RECORD_RULES: dict[str, RecordRule] = {
    # Only its author changes what they wrote (a note, a proposal, an answer).
    "author_edits": RecordRule(
        actions=frozenset({Action.UPDATE}),
        test=lambda actor, record: record.author_id == actor.pk,
        q=_yours,
        message="Only the person who wrote it can change it.",
    ),
    # A note kept "only me" is its author's alone.
    "note_audience": RecordRule(
        actions=READS,
        test=lambda actor, record: record.author_id == actor.pk or record.audience != "only_me",
        q=lambda actor: _yours(actor) | ~Q(audience="only_me"),
        message="Its author kept this note to themselves.",
    ),
    # A note written in another practice reaches a clinician only if its author marked it
    # shareable under a release (a release in force must cover it too: the tables decide that).
    "note_from_elsewhere": RecordRule(
        actions=READS,
        test=lambda actor, record: (
            not actor.is_clinician
            or record.author_id == actor.pk
            or record.practice_id is None
            or record.practice_id == actor.practice_id
            or record.audience == "release"
        ),
        q=lambda actor: (
            Q()
            if not actor.is_clinician
            else _yours(actor)
            | Q(practice__isnull=True)
            | Q(practice_id=actor.practice_id)
            | Q(audience="release")
        ),
        message="Its author has not shared this note beyond their practice.",
    ),
    # A consultation reaches the patient only when shared with them.
    "consultation_audience": RecordRule(
        actions=READS,
        test=lambda actor, record: not actor.is_patient or record.audience == "patient",
        q=lambda actor: Q(audience="patient") if actor.is_patient else Q(),
        message="This consultation was not shared with the patient.",
    ),
    # A check-in is its patient's answers: only they answer it, and until they send it (a
    # draft) only they read it.
    "patient_answers": RecordRule(
        actions=frozenset({Action.UPDATE}),
        test=lambda actor, record: record.author_id == actor.pk,
        q=_yours,
        message="Only the patient can answer their check-in.",
    ),
    "draft_is_the_patients": RecordRule(
        actions=READS,
        test=lambda actor, record: record.status != "draft" or record.author_id == actor.pk,
        q=lambda actor: ~Q(status="draft") | _yours(actor),
        message="The patient has not sent this check-in yet.",
    ),
    # An alliance concern is about one relationship: the clinician it is about takes it up
    # (a safety alert is the whole care team's to acknowledge).
    "concern_of_its_clinician": RecordRule(
        actions=frozenset({Action.ACKNOWLEDGE}),
        test=lambda actor, record: (
            record.kind != "alliance_concern" or record.clinician_id in (None, actor.pk)
        ),
        q=lambda actor: (
            ~Q(kind="alliance_concern") | Q(clinician__isnull=True) | Q(clinician_id=actor.pk)
        ),
        message="Only the clinician this check-in is about can acknowledge the concern.",
    ),
    # Only the clinician a referral was sent to accepts or declines it.
    "recipient_answers": RecordRule(
        actions=frozenset({Action.ANSWER}),
        test=lambda actor, record: record.to_clinician_id == actor.pk,
        q=lambda actor: Q(to_clinician_id=actor.pk),
        message="Only the clinician it was sent to can accept or decline a referral.",
    ),
    # A goal is the patient's to change and to move along; a clinician only the proposal they
    # wrote (and only while it waits for the patient: a state the service checks).
    "patient_or_proposer_edits": RecordRule(
        actions=frozenset({Action.UPDATE}),
        test=lambda actor, record: (
            record.patient.user_id == actor.pk or record.author_id == actor.pk
        ),
        q=lambda actor: Q(patient__user_id=actor.pk) | _yours(actor),
        message=(
            "A goal is in the patient's own words: only the patient can change it or decide "
            "where it stands (and whoever proposed it, until it is accepted)."
        ),
    ),
    # Only the patient accepts a goal proposed to them.
    "patient_accepts": RecordRule(
        actions=frozenset({Action.ANSWER}),
        test=lambda actor, record: record.patient.user_id == actor.pk,
        q=lambda actor: Q(patient__user_id=actor.pk),
        message="Only the patient can accept a proposed goal.",
    ),
    # Only the two clinicians of a referral (who sent it, who received it) start or close it.
    "referral_parties": RecordRule(
        actions=frozenset({Action.UPDATE}),
        test=lambda actor, record: actor.pk in (record.author_id, record.to_clinician_id),
        q=lambda actor: Q(author_id=actor.pk) | Q(to_clinician_id=actor.pk),
        message="Only the two clinicians of a referral move it on.",
    ),
}


def rules_for(model, action: Action) -> list[RecordRule]:
    """The record rules that limit this action on this model's records."""
    names = getattr(model, "access_rules", ())
    return [RECORD_RULES[name] for name in names if action in RECORD_RULES[name].actions]


@dataclass(frozen=True)
class Grant:
    """Why something is allowed, and which of the patient's records it covers.

    `practice_id` limits it to records written in that practice, plus what the patient wrote
    unless `patient_written` is false; `author_ids` limits it to records written by those
    people (a release names people, not practices), plus the patient's own words when
    `patient_written`; `record_ids` limits it to those records alone. A grant for one record
    must cover exactly what the provider's `records_q` lets through for lists.
    """

    via: str
    practice_id: int | None = None
    release_id: str | None = None
    patient_written: bool = True
    record_ids: frozenset[int] | None = None
    author_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class Whose:
    """The fields of a record that say whose it is: who wrote it, and in which practice."""

    author: str = "author_id"
    practice: str = "practice_id"


WRITTEN = Whose()


def about_field(model) -> str | None:
    """The field naming the clinician a record is about, if its model has one.

    A model sets `access_about` when its records rate one clinician (a patient's alliance
    check-in rates one relationship): such a record is that clinician's, as if they wrote it
    in their practice, whoever typed it. Their colleagues read it as they read what the
    clinician wrote; another practice reads it only under a release naming the clinician.
    """
    return getattr(model, "access_about", None)


def _about_whose(field: str) -> Whose:
    return Whose(author=f"{field}_id", practice=f"{field}__practice_id")


class GrantProvider:
    """Base for providers: answer for one patient, and as a filter for lists."""

    # How a list's audit row names this provider's grant (`grants()` names each one's).
    list_via = ""

    def grants(self, actor, action: Action, category: Category, patient: Patient) -> list[Grant]:
        return []

    def patients_q(self, actor, action: Action, category: Category) -> Q | None:
        """A filter on Patient for the patients this provider opens to the actor, or None."""
        return None

    def records_q(
        self, actor, action: Action, category: Category, whose: Whose = WRITTEN
    ) -> Q | None:
        """A filter on records (fields patient, and `whose` names the author and practice
        fields) this provider opens, or None."""
        return None

    def patient_vias(self, actor, action: Action, category: Category, patient_ids) -> dict:
        """{patient id: via} for those of these patients this provider opens: one query."""
        q = self.patients_q(actor, action, category)
        if q is None:
            return {}
        opened = Patient.objects.filter(q, pk__in=list(patient_ids)).values_list("pk", flat=True)
        return {pk: self.list_via for pk in opened}

    def via_details(self, patient: Patient, vias: set[str]) -> dict[str, dict]:
        """{via: facts} for the audit `via` tokens of this provider's grants that the patient's
        accounting names in plain words (a release's signing day): at most one query."""
        return {}


class SelfGrants(GrantProvider):
    """A patient's own record."""

    list_via = "self"

    def _allowed(self, actor, action, category) -> bool:
        if actor.role != Role.PATIENT:
            return False
        return action in SELF_RULES.get(category, frozenset())

    def grants(self, actor, action, category, patient):
        if not self._allowed(actor, action, category):
            return []
        if patient.user_id != actor.pk:
            return []
        return [Grant(via="self")]

    def patients_q(self, actor, action, category):
        if not self._allowed(actor, action, category):
            return None
        return Q(user_id=actor.pk)

    def records_q(self, actor, action, category, whose=WRITTEN):
        if not self._allowed(actor, action, category):
            return None
        return Q(patient__user_id=actor.pk)


def care_team(patient) -> list[CareTeamMembership]:
    """The patient's active care team, members' accounts and practices with them, by role
    and name: read once a request (the grants of its members are judged from it too)."""
    return memo(
        ("care team of", patient.pk),
        lambda: list(
            CareTeamMembership.objects.active()
            .filter(patient_id=patient.pk)
            .select_related("clinician", "practice")
            .order_by("role", "clinician__full_name")
        ),
    )


class CareTeamGrants(GrantProvider):
    """Active care-team membership, limited to what was written in the member's practice."""

    list_via = "care_team"

    def _memberships(self, actor):
        if not actor.is_clinician:
            return CareTeamMembership.objects.none()
        return CareTeamMembership.objects.active().filter(clinician_id=actor.pk)

    def _roles_allowing(self, action, category) -> list[str]:
        return [
            role for role, rules in CARE_TEAM_RULES.items() if action in rules.get(category, ())
        ]

    def grants(self, actor, action, category, patient):
        roles = self._roles_allowing(action, category)
        if not roles or not actor.is_clinician:
            return []
        # The actor's memberships of this patient's team, (role, practice) pairs, from the
        # patient's whole team: read once a request whatever the category asked, and the same
        # read as the team a page shows (`care_team`), so that it costs no query of its own.
        memberships = [
            (m.role, m.practice_id)
            for m in sorted(care_team(patient), key=lambda m: m.pk)
            if m.clinician_id == actor.pk
        ]
        practices = list(dict.fromkeys(p for role, p in memberships if role in roles))
        return [Grant(via="care_team", practice_id=practice) for practice in practices]

    def patients_q(self, actor, action, category):
        roles = self._roles_allowing(action, category)
        if not roles:
            return None
        members = self._memberships(actor).filter(role__in=roles)
        return Q(pk__in=members.values("patient_id"))

    def records_q(self, actor, action, category, whose=WRITTEN):
        roles = self._roles_allowing(action, category)
        if not roles or not actor.is_clinician:
            return None
        members = self._memberships(actor).filter(role__in=roles)
        # Written in the practice of the membership itself (as `grants` decides for one
        # record), or by the patient (no practice).
        written_here = Exists(
            members.filter(patient_id=OuterRef("patient_id"), practice_id=OuterRef(whose.practice))
        )
        by_the_patient = Q(
            **{f"{whose.practice}__isnull": True}, patient_id__in=members.values("patient_id")
        )
        return Q(written_here) | by_the_patient


@cache
def _providers_for(paths: tuple[str, ...]) -> tuple[GrantProvider, ...]:
    return tuple(import_string(path)() for path in paths)


def providers() -> tuple[GrantProvider, ...]:
    return _providers_for(tuple(settings.CONCORD_GRANT_PROVIDERS))


def is_self(actor, patient) -> bool:
    """Is the actor this patient, signed in?"""
    return actor.is_patient and patient.user_id == actor.pk


def practices_q(actor) -> Q | None:
    """A filter on Practice for the practices whose settings the actor runs, or None for none:
    a clinic admin runs their own practice, a clinic-wide admin (no practice) every one."""
    if not getattr(actor, "is_authenticated", False):
        return None
    if not actor.is_clinic_admin:
        return None
    if actor.practice_id is None:
        return Q()
    return Q(pk=actor.practice_id)


def administers_practice(actor, practice) -> bool:
    """May the actor change this practice's settings? The yes/no that `practices_q` filters."""
    q = practices_q(actor)
    if q is None:
        return False
    return type(practice).objects.filter(q, pk=practice.pk).exists()


# Roles a clinic admin may invite to a practice they run (patients are invited by their
# care team, from the patient's page).
STAFF_ROLES = (Role.PRESCRIBER, Role.THERAPIST, Role.ADMIN)


def staff_q(actor) -> Q | None:
    """A filter on User for the staff accounts the actor runs, or None for none: the
    clinicians and admins of the practices the actor administers (`practices_q`). Never a
    patient's account, a superuser's (theirs is the Django admin's), or the actor's own: an
    admin does not deactivate themselves or reset their own second factor from here."""
    practices = practices_q(actor)
    if practices is None:
        return None
    q = Q(role__in=list(STAFF_ROLES), is_superuser=False) & ~Q(pk=actor.pk)
    if actor.practice_id is not None:
        q &= Q(practice_id=actor.practice_id)
    return q


def administers_account(actor, user) -> bool:
    """May the actor invite to, deactivate, reactivate or reset the second factor of this
    staff account? The yes/no that `staff_q` filters."""
    q = staff_q(actor)
    if q is None:
        return False
    return type(user).objects.filter(q, pk=user.pk).exists()


def may_invite(actor, role: str, practice) -> bool:
    """May the actor invite someone in this role to this practice?"""
    if role not in STAFF_ROLES:
        return False
    return administers_practice(actor, practice)


def refuse_staff(actor, action: Action, user_uuid=None):
    """Audit a refused look at or change of a staff account (or the console itself); raises
    Http404 alike for an account that does not exist and one the actor does not run."""
    audit.record(
        actor=actor,
        patient=None,
        category=Category.STAFF,
        action=action,
        outcome=AuditEvent.Outcome.DENIED,
        object_type="core.User",
        object_id=str(user_uuid or ""),
    )
    raise Http404("Not found.")


def runs_the_clinic(actor) -> bool:
    """May the actor change what holds for every practice (the supply policies, the alliance
    settings)? A clinic-wide admin's, one with no practice of their own: a practice's admin
    runs only their practice."""
    if not _signed_in(actor):
        return False
    if not actor.is_clinic_admin:
        return False
    return actor.practice_id is None


def refuse_clinic_settings(actor, action: Action, what: str = ""):
    """Audit a refused look at or change of the clinic-wide settings; raises Http404."""
    audit.record(
        actor=actor,
        patient=None,
        category=Category.PRACTICE,
        action=action,
        outcome=AuditEvent.Outcome.DENIED,
        object_type="clinic settings",
        object_id=what[:64],
    )
    raise Http404("Not found.")


def refuse_practice(actor, action: Action, practice_uuid=None):
    """Audit a refused look at or change of a practice's settings; raises Http404 alike for a
    practice that does not exist and one the actor does not run."""
    audit.record(
        actor=actor,
        patient=None,
        category=Category.PROFILE,
        action=action,
        outcome=AuditEvent.Outcome.DENIED,
        object_type="core.Practice",
        object_id=str(practice_uuid or ""),
    )
    raise Http404("Not found.")


def equity_practices_q(actor) -> Q | None:
    """A filter on Practice for the practices whose equity view (aggregates of patients'
    self-descriptions, never a row about one person) the actor may see, or None for none: a
    clinic admin's practice (every practice for a clinic-wide admin) and a clinic lead's own.
    Nobody else: not a clinician, not a patient."""
    if not _signed_in(actor):
        return None
    if actor.is_clinic_admin:
        return practices_q(actor)
    if actor.is_clinician and actor.is_clinic_lead and actor.practice_id is not None:
        return Q(pk=actor.practice_id)
    return None


def may_lead(person) -> bool:
    """Can this account be named clinic lead (and so see its practice's equity view)? A
    clinician's, not a patient's or an admin's (an admin sees the view already)."""
    return person.is_clinician


def refuse_equity(actor):
    """Audit a refused look at the equity view and raise Http404, as for a page that is not
    there: a clinician or a patient learns nothing from it."""
    audit.record(
        actor=actor,
        patient=None,
        category=Category.SELF_DESCRIPTION,
        action=Action.LIST,
        outcome=AuditEvent.Outcome.DENIED,
        object_type="clinic.EquityView",
    )
    raise Http404("Not found.")


def reads_equity(actor) -> bool:
    """May the actor open the equity view at all? What the header offers; the view asks
    `equity_practices_q` for which practices."""
    return equity_practices_q(actor) is not None


def reads_audit_trail(actor) -> bool:
    """May the actor search the whole audit trail? A clinic admin's work, nobody else's."""
    return _signed_in(actor) and actor.is_clinic_admin


def needs_second_factor(user) -> bool:
    """Must this account use two-factor authentication (where CONCORD_REQUIRE_MFA asks for it)?
    Everyone who may see other people's records: clinicians and admins, not patients."""
    return not user.is_patient


def sees_prescribing_pattern(actor, of_user) -> bool:
    """May the actor see whose needs drove this clinician's prescribing decisions, counted?
    Only the clinician themselves, and only one who may prescribe: a pattern is for its
    prescriber to reflect on, never a score for anyone else to rank (issue 18)."""
    if not _signed_in(actor) or of_user is None:
        return False
    if actor.pk != of_user.pk:
        return False
    return Action.PRESCRIBE in CARE_TEAM_RULES.get(actor.role, {}).get(Category.MEDICATIONS, ())


def may_care_for(user, role: str | None = None) -> bool:
    """Can this account be on a care team (a referral's recipient, a release's discloser or
    recipient, a consultation's prescriber or therapist), in this role if one is named?"""
    if user is None or not user.is_active or not user.is_clinician:
        return False
    return role is None or user.role == role


def care_givers_q(role: str | None = None) -> Q:
    """The filter on User that `may_care_for` answers for one account (a directory of the
    clinicians a referral or a release may name)."""
    roles = [role] if role else sorted(CLINICIAN_ROLES)
    return Q(is_active=True, role__in=roles)


def kind_of(user) -> str:
    """Which header and home a person gets: "patient", "clinician", "admin", or "" when
    signed out. Wording and layout only; what they may do is `can`'s to say."""
    if not _signed_in(user):
        return ""
    if user.is_patient:
        return "patient"
    if user.is_clinician:
        return "clinician"
    return "admin" if user.is_clinic_admin else ""


def writing_practice(actor):
    """Where a record is written: the clinician's practice; none for the patient's own words."""
    return actor.practice if actor.is_clinician else None


_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "concord_access_memo", default=None
)


class request_scope:
    """Within one request, remember the answers of grant lookups: a page that asks the same
    question ten times asks the database once. Nothing outlives the request, so a revocation
    or an expiry takes effect on the very next one."""

    def __enter__(self):
        self._token = _memo.set({})
        return self

    def __exit__(self, *exc):
        _memo.reset(self._token)
        return False


def forget() -> None:
    """Drop what the current request remembered (after a write that may change it)."""
    cache = _memo.get()
    if cache is not None:
        cache.clear()


def memo(key, compute):
    """`compute()`, remembered for the rest of the current request (if there is one)."""
    cache = _memo.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _signed_in(actor) -> bool:
    if actor is None:
        return False
    if not actor.is_authenticated:
        return False
    return actor.is_active


@dataclass(frozen=True)
class Decision:
    allowed: bool
    grants: tuple[Grant, ...] = ()

    @property
    def via(self) -> str:
        return ",".join(sorted({g.via for g in self.grants}))

    def __bool__(self) -> bool:
        return self.allowed


def decide(actor, action: Action, category: Category, patient: Patient) -> Decision:
    """May the actor do this to some of this patient's information of this category?"""
    if not _signed_in(actor):
        return Decision(False)

    def ask() -> Decision:
        found: list[Grant] = []
        for provider in providers():
            found.extend(provider.grants(actor, action, category, patient))
        return Decision(bool(found), tuple(found))

    return memo(("decide", actor.pk, str(action), str(category), patient.pk), ask)


def _patients_visible(
    actor, category: Category = Category.PROFILE, action: Action = Action.LIST
) -> QuerySet:
    """Patients the actor may see this category of. Empty for anyone without a grant."""
    if not _signed_in(actor):
        return Patient.objects.none()
    q = _any(provider.patients_q(actor, action, category) for provider in providers())
    if q is None:
        return Patient.objects.none()
    return Patient.objects.filter(q)


def _records_visible(
    actor, queryset: QuerySet, category: Category, action: Action = Action.LIST
) -> QuerySet:
    """Filter a queryset of records (with fields patient, practice, author) to those the actor
    may do this to. Authors may always read what they wrote; psychotherapy notes are their
    author's alone."""
    if not _signed_in(actor):
        return queryset.none()
    for rule in rules_for(queryset.model, action):
        queryset = queryset.filter(rule.q(actor))
    own = Q(author_id=actor.pk)
    granted = _granted_q(actor, action, category, queryset.model)
    if category == Category.PSYCHOTHERAPY_NOTES:
        if action in READS:
            return queryset.filter(own)
        return queryset.filter(own).filter(granted) if granted is not None else queryset.none()
    if action in READS:
        # A clinician always sees what they wrote.
        return queryset.filter(granted | own) if granted is not None else queryset.filter(own)
    # Changing a record needs a grant in force, authors included.
    return queryset.filter(granted) if granted is not None else queryset.none()


def _granted_q(actor, action: Action, category: Category, model) -> Q | None:
    """What the providers open of these records: a record about a clinician is judged as
    that clinician's (see `about_field`), any other as its author's."""
    plain = _any(provider.records_q(actor, action, category) for provider in providers())
    field = about_field(model)
    if field is None:
        return plain
    theirs = _any(
        provider.records_q(actor, action, category, whose=_about_whose(field))
        for provider in providers()
    )
    about_nobody = Q(**{f"{field}__isnull": True})
    about_someone = Q(**{f"{field}__isnull": False})
    parts = []
    if plain is not None:
        parts.append(about_nobody & plain)
    if theirs is not None:
        parts.append(about_someone & theirs)
    return _any(parts)


def decide_record(actor, action: Action, category: Category, record) -> Decision:
    """May the actor do this to one record (with fields patient, practice, author)?

    Its author may always read it; changing it needs a grant in force today, like anyone's.
    Psychotherapy notes: their author only. Otherwise a grant for the patient must cover the
    practice the record was written in (or the patient wrote it).
    """
    decision, _ = _judge_record(actor, action, category, record)
    return decision


def _judge_record(actor, action: Action, category: Category, record):
    """`decide_record`, and the record rule that refused, if one did (None otherwise)."""
    if not _signed_in(actor):
        return Decision(False), None
    decision = _granted_record(actor, action, category, record)
    if not decision:
        return decision, None
    for rule in rules_for(type(record), action):
        if not rule.test(actor, record):
            return Decision(False), rule
    return decision, None


def _granted_record(actor, action: Action, category: Category, record) -> Decision:
    is_author = record.author_id == actor.pk
    if category == Category.PSYCHOTHERAPY_NOTES and not is_author:
        return Decision(False)
    if is_author and action in READS:
        return Decision(True, (Grant(via="author"),))
    decision = decide(actor, action, category, record.patient)
    covering = tuple(g for g in decision.grants if is_author or _grant_covers(g, record))
    return Decision(bool(covering), covering)


def _grant_covers(grant: Grant, record) -> bool:
    if grant.record_ids is not None:
        return record.pk in grant.record_ids
    field = about_field(record)
    about = getattr(record, field) if field else None
    if about is not None:
        # The clinician's, as if they wrote it in their practice: never the patient's words.
        author_id, practice_id, by_the_patient = about.pk, about.practice_id, False
    else:
        author_id, practice_id = record.author_id, record.practice_id
        by_the_patient = None  # asked only when it matters: it reads the patient
    if grant.author_ids is not None:
        if author_id in grant.author_ids:
            return True
        if by_the_patient is None:
            by_the_patient = record.author_id == record.patient.user_id
        return grant.patient_written and by_the_patient
    if grant.practice_id is None:
        return True
    if practice_id is None:
        return grant.patient_written
    return practice_id == grant.practice_id


def _any(qs) -> Q | None:
    combined = None
    for q in qs:
        if q is None:
            continue
        combined = q if combined is None else combined | q
    return combined


def _patient_or_none(patient_uuid):
    try:
        return Patient.objects.filter(uuid=patient_uuid).first()
    except ValidationError:
        return None


def audit_listed(
    actor, patients, category: Category, action: Action = Action.LIST, *, object_type: str = ""
) -> None:
    """Record a list read once per patient it showed, in that patient's chain, so that the
    patient's accounting names it; a list that showed nobody leaves one row with no patient.
    Call with the patients actually sent (the page, not the whole query)."""
    patients = list(patients)
    if not patients:
        audit.record(
            actor=actor, patient=None, category=category, action=action, object_type=object_type
        )
        return
    # Why each was shown, as `decide` would name it: a query per provider, not per patient.
    vias: dict[int, set[str]] = {}
    ids = {p.pk for p in patients}
    for provider in providers():
        for pk, via in provider.patient_vias(actor, action, category, ids).items():
            vias.setdefault(pk, set()).update(via.split(","))
    audit.record_each(
        actor=actor,
        patients_via=[(p, ",".join(sorted(vias.get(p.pk, ())))) for p in patients],
        category=category,
        action=action,
        object_type=object_type,
    )


# --- The three doors ----------------------------------------------------------------------


def _audit_decision(
    actor, patient, category, action, decision, *, obj=None, object_type="", object_id=""
):
    audit.record(
        actor=actor,
        patient=patient,
        category=category,
        action=action,
        outcome=AuditEvent.Outcome.ALLOWED if decision else AuditEvent.Outcome.DENIED,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        via=decision.via if decision else "",
    )


def get(
    actor,
    action: Action,
    category: Category,
    *,
    patient=None,
    queryset: QuerySet | None = None,
    uuid=None,
    category_of: Callable | None = None,
    showing: bool = False,
):
    """What a view shows: the patient with this uuid (`patient=`), or the record of `queryset`
    with this `uuid`, if the actor may do this to it. A read is audited either way; for a
    write (a form that creates or changes) only a refusal is, since the service's `guard`
    audits the write itself when it happens. Http404 alike for what does not exist and what
    the actor may not see. `showing`: the view shows the record whatever the action (the
    form of a write, opened with GET), so an allowed decision is audited as for a read. `category_of(record)` names the
    category when it depends on the record (a safety alert is an outcome, a concern alliance).
    """
    if queryset is None:
        found = _patient_or_none(patient)
        decision = decide(actor, action, category, found) if found else Decision(False)
        if action in READS or showing or not decision:
            _audit_decision(
                actor,
                found,
                category,
                action,
                decision,
                object_type="core.Patient",
                object_id=str(patient),
            )
        if not decision:
            raise Http404("No such patient.")
        return found
    try:
        record = queryset.filter(uuid=uuid).first()
    except ValidationError:
        record = None
    if record is None:
        _audit_decision(
            actor,
            None,
            category,
            action,
            Decision(False),
            object_type=queryset.model._meta.label,
            object_id=str(uuid),
        )
        raise Http404("Not found.")
    if category_of is not None:
        category = category_of(record)
    decision = decide_record(actor, action, category, record)
    if action in READS or showing or not decision:
        _audit_decision(actor, record.patient, category, action, decision, obj=record)
    if not decision:
        raise Http404("Not found.")
    return record


def visible(
    actor,
    queryset: QuerySet,
    category: Category,
    action: Action = Action.LIST,
    *,
    patient: Patient | None = None,
):
    """What a list shows: `queryset` (of patients, or of records with fields patient, practice
    and author) filtered to what the actor may do this to, record rules included. Not audited:
    audit what was sent with `audit_listed`.

    With `patient`, the list is of that one patient's records: it is filtered by the grants
    `decide` found for the patient (remembered for the request, so a page that lists ten kinds
    of one patient's records asks the providers once per kind, not ten subqueries each), which
    cover exactly what the providers' filters let through."""
    if queryset.model is Patient:
        return queryset.filter(pk__in=_patients_visible(actor, category, action).values("pk"))
    if patient is not None:
        return _patient_records_visible(actor, queryset, category, action, patient)
    return _records_visible(actor, queryset, category, action)


def _patient_records_visible(actor, queryset, category, action, patient) -> QuerySet:
    """`_records_visible` for one patient's records, from the patient's grants."""
    if not _signed_in(actor):
        return queryset.none()
    queryset = queryset.filter(patient_id=patient.pk)
    for rule in rules_for(queryset.model, action):
        queryset = queryset.filter(rule.q(actor))
    own = Q(author_id=actor.pk)
    grants = decide(actor, action, category, patient).grants
    granted = _any(_grant_q(g, patient, queryset.model) for g in grants)
    if category == Category.PSYCHOTHERAPY_NOTES:
        if action in READS:
            return queryset.filter(own)
        return queryset.filter(own).filter(granted) if granted is not None else queryset.none()
    if action in READS:
        return queryset.filter(granted | own) if granted is not None else queryset.filter(own)
    return queryset.filter(granted) if granted is not None else queryset.none()


_NOTHING = Q(pk__in=[])
# Not Q(): an empty Q drops out of an OR ("everything or mine" would become "mine").
_EVERYTHING = Q(pk__isnull=False)


def _grant_q(grant: Grant, patient: Patient, model) -> Q:
    """The records of one patient that a grant covers, as a filter: `_grant_covers` for a
    list. A record about a clinician is judged as that clinician's (see `about_field`)."""
    if grant.record_ids is not None:
        return Q(pk__in=sorted(grant.record_ids))
    field = about_field(model)
    plain = _covered_q(grant, WRITTEN, by_the_patient=Q(author_id=patient.user_id))
    if field is None:
        return plain
    theirs = _covered_q(grant, _about_whose(field), by_the_patient=_NOTHING)
    return (Q(**{f"{field}__isnull": True}) & plain) | (Q(**{f"{field}__isnull": False}) & theirs)


def _covered_q(grant: Grant, whose: Whose, *, by_the_patient: Q) -> Q:
    if grant.author_ids is not None:
        named = Q(**{f"{whose.author}__in": sorted(grant.author_ids)})
        return named | by_the_patient if grant.patient_written else named
    if grant.practice_id is None:
        return _EVERYTHING
    here = Q(**{whose.practice: grant.practice_id})
    if grant.patient_written:
        return here | Q(**{f"{whose.practice}__isnull": True})
    return here


@dataclass(frozen=True)
class Permit:
    """A write `guard` allowed. `done(obj)` audits it, once, naming what was written: call it
    inside the write's transaction, after the save, so that a write that did not happen leaves
    no allowed row."""

    actor: object
    action: Action
    category: Category
    decision: Decision

    @property
    def via(self) -> str:
        return self.decision.via

    def done(
        self,
        obj,
        *,
        action: Action | None = None,
        category: Category | None = None,
        via: str | None = None,
    ) -> None:
        """`action` and `category` name the write when it differs from what was asked (a
        renewal asked to prescribe answers a refill request); `via` adds how it was checked
        ("verified in person") to the grant that allowed it."""
        # What the request remembered may have changed with this write (a care team, a
        # release): answers from here on are asked afresh. A read (a page that reads its
        # record through a guard, as the summary does) changed nothing: the request keeps
        # what it remembered, and the lists read after it are not asked again.
        if (action or self.action) not in READS:
            forget()
        audit.record(
            actor=self.actor,
            patient=obj.patient,
            category=category or self.category,
            action=action or self.action,
            obj=obj,
            via=self.decision.via if via is None else via,
        )


def guard(actor, action: Action, category: Category, target) -> Permit:
    """What a service writes: may the actor do this to this patient (a create) or this record
    (a change)? A refusal is audited now and raised: Http404 when the actor has no grant
    (alike for what they may not see), NotAllowed with the reason when a record rule refuses
    someone who may see the record. Call it before the write's transaction opens."""
    if isinstance(target, Patient):
        decision, rule, patient, obj = decide(actor, action, category, target), None, target, None
    else:
        decision, rule = _judge_record(actor, action, category, target)
        patient, obj = target.patient, target
    if not decision:
        _audit_decision(
            actor,
            patient,
            category,
            action,
            decision,
            obj=obj,
            object_type="" if obj else "core.Patient",
            object_id="" if obj else str(patient.uuid),
        )
        if rule is not None:
            raise NotAllowed(rule.message)
        raise Http404("Not found.")
    return Permit(actor, action, category, decision)


# --- The question ------------------------------------------------------------------------


def can(actor, action: Action, category: Category, target=None) -> bool:
    """May the actor do this: to this patient or record, or (no target) to anyone's? Not
    audited: for what a page offers, never for what it shows (that goes through a door)."""
    action, category = Action(action), Category(category)
    if not _signed_in(actor):
        return False
    if category == Category.PRACTICE:
        return practices_q(actor) is not None
    if category == Category.STAFF:
        return staff_q(actor) is not None
    if target is None:
        if actor.role == Role.PATIENT:
            return action in SELF_RULES.get(category, ())
        return action in CARE_TEAM_RULES.get(actor.role, {}).get(category, ())
    if isinstance(target, Patient):
        return bool(decide(actor, action, category, target))
    return bool(decide_record(actor, action, category, target))


# --- View declarations -------------------------------------------------------------------
# Every URL pattern of ours declares its access decision; tests/core/test_url_access.py walks
# the resolver and fails on a view that does not.

ACCESS_ATTR = "concord_access"
# A page opened with these shows patient information, whatever action it is declared for.
SHOWING_METHODS = frozenset({"GET", "HEAD"})
# Set only by the declarations that make the decision themselves (patient_view, record_view,
# the API bases): the URL meta-test tells them from prose.
ENFORCED_ATTR = "concord_access_enforced"


def patient_view(category: Category, action: Action = Action.READ):
    """Decorate a view taking `patient_uuid`: resolves and audits access, passes `patient`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, patient_uuid, *args, **kwargs):
            patient = get(
                request.user,
                action,
                category,
                patient=patient_uuid,
                showing=request.method in SHOWING_METHODS,
            )
            return view(request, patient, *args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, f"patient:{category}:{action}")
        setattr(wrapper, ENFORCED_ATTR, True)
        return wrapper

    return decorator


def record_view(
    queryset: QuerySet,
    category: Category,
    action: Action = Action.READ,
    *,
    uuid: str,
    category_of: Callable | None = None,
):
    """Decorate a view taking the uuid of one record (keyword `uuid`): resolves it through
    `get` (audited; not found alike for missing and forbidden) and passes the record instead."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            record = get(
                request.user,
                action,
                category,
                queryset=queryset.all(),
                uuid=kwargs.pop(uuid),
                category_of=category_of,
                showing=request.method in SHOWING_METHODS,
            )
            return view(request, record, *args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, f"record:{queryset.model._meta.label}:{category}:{action}")
        setattr(wrapper, ENFORCED_ATTR, True)
        return wrapper

    return decorator


def declare(description: str):
    """Mark a view whose access is decided inside it (lists through `visible`),
    or that touches no patient information at all ("no patient data")."""

    def decorator(view):
        setattr(view, ACCESS_ATTR, description)
        return view

    return decorator
