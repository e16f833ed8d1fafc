"""The authorization matrix: every actor × every kind of patient data × every action × every
release state (and the referral states: sent and not yet accepted, closed), driven through the
real pages and the real API, compared with one policy table.

The table below is the product's promise written out by hand, not read from core.access: a
wrong decision is a difference between what the table says and what a person gets from the
running application. A case is allowed when the person sees the record (list, read, export),
or when the write is stored (create, update, delete); anything else is a refusal, and a
refusal must change nothing. Every request a signed-in person makes here must leave an audit
row. `make proof` prints the figures."""

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from time_machine import travel

from alliance import selectors as alliance_selectors
from alliance import services as alliance
from appointments import services as appointments
from appointments.models import Visit
from core.models import AuditEvent, Practice, SelfDescription
from messaging import services as messaging
from messaging.models import Conversation, Message
from prescribing import services as rx
from prescribing.models import Medication, RefillRequest
from referrals import services as referrals
from referrals.models import Referral, Release, Revocation
from stories import services as stories
from stories.models import Goal, NarrativeNote, PersonSummary
from tests import factories
from tests.proof.figures import report

pytestmark = pytest.mark.django_db

ACTORS = [
    "anonymous",
    "patient",
    "other_patient",
    "prescriber",  # treating, Riverside Psychiatry; writes most of the record
    "unrelated_prescriber",
    "therapist",  # treating, Harbor Counseling: on the care team, another practice
    "recipient",  # a therapist at Lakeside, not on the team, named in the patient's release
    # A Harbor therapist, colleague of the treating therapist and of the Harbor therapist a
    # mutual release names ("in force"), named in no release and on no team.
    "unnamed_colleague",
    "referred",  # the prescriber the therapist referred the patient to: sent, not accepted
    "closed_referral_prescriber",  # referred, accepted, on the team, then the referral closed
    "admin",
]
STATES = [
    "none",
    "in_force",
    "profile_only",
    "other_category",
    "expired",
    "revoked",
    "other_recipient",
]
ACTIONS = ["list", "read", "create", "update", "delete", "export"]


@dataclass(frozen=True)
class Kind:
    """One kind of patient data: who may do what with it, whatever the release state, and the
    release category that opens it (read, list, export) to a release's recipients, if any.
    A release discloses what the prescriber it names wrote: not what anyone else at Riverside
    or at Harbor wrote, and not the patient's own words, except in the one category that is
    the patient's words by name (their response to the summary)."""

    may: dict[str, frozenset[str]]
    category: str | None = None
    origin: str = "riverside"  # written by the prescriber, at harbor, or by the patient
    # Those whose new record is kept only while a release in force carries the category to
    # the other practice on the team (a thread post nobody there could read is refused).
    create_when_released: frozenset[str] = frozenset()


def _may(**actions: str) -> dict[str, frozenset[str]]:
    return {action: frozenset(who.split()) for action, who in actions.items()}


# ---- The policy table -------------------------------------------------------------------
POLICY: dict[str, Kind] = {
    # A goal the prescriber proposed: the patient's to accept and word; the proposer may
    # still reword it while it is a proposal. Nobody deletes a goal (it is marked instead).
    "goal proposed by the prescriber": Kind(
        _may(
            list="patient prescriber",
            read="patient prescriber",
            create="patient prescriber therapist",
            update="patient prescriber",
            export="patient prescriber",
        ),
        category="goals",
    ),
    # A goal the treating therapist (Harbor) proposed. The mutual release "in force" between
    # the prescriber and another Harbor therapist does not open it: it names that therapist,
    # not their practice.
    "goal proposed by the therapist": Kind(
        _may(
            list="patient therapist",
            read="patient therapist",
            update="patient therapist",
            export="patient therapist",
        ),
        category="goals",
        origin="harbor",
    ),
    # The patient's own goal: the whole care team sees it; only the patient rewrites it.
    "goal written by the patient": Kind(
        _may(
            list="patient prescriber therapist",
            read="patient prescriber therapist",
            update="patient",
            export="patient prescriber therapist",
        ),
        category="goals",
        origin="patient",
    ),
    # The prescriber's note, marked shareable under a release.
    "shareable note by the prescriber": Kind(
        _may(
            list="patient prescriber",
            read="patient prescriber",
            create="patient prescriber therapist",
            update="prescriber",
        ),
        category="narrative_notes",
    ),
    # The therapist's note for the care team: another practice's note reaches the prescriber
    # only if it is marked shareable and released; Riverside's release does not disclose it.
    "care-team note by the therapist": Kind(
        _may(
            list="patient therapist",
            read="patient therapist",
            update="therapist",
        ),
        category="narrative_notes",
        origin="harbor",
    ),
    # Psychotherapy process notes: their author's alone, never released, not even to the patient.
    "psychotherapy note by the therapist": Kind(
        _may(
            list="therapist",
            read="therapist",
            create="prescriber therapist",
            update="therapist",
        ),
        origin="harbor",
    ),
    # The medication plan: only a prescriber starts or changes a medicine.
    "medication": Kind(
        _may(
            list="patient prescriber",
            read="patient prescriber",
            create="prescriber",
            update="prescriber",
            export="patient prescriber",
        ),
        category="medications",
    ),
    # Refill requests: the prescriber decides them.
    "refill request": Kind(
        _may(list="prescriber", update="prescriber"),
    ),
    # The prescriber–therapist thread is for clinicians; the patient is not in it. A post is
    # kept only when a clinician of the other practice on the team can read it: the
    # prescriber's while her release to the therapist covers observations; the therapist's
    # never here (no release carries Harbor's observations to Riverside).
    "thread post by the prescriber": Kind(
        _may(list="prescriber"),
        category="observations",
        create_when_released=frozenset({"prescriber"}),
    ),
    # Consultations are between the two clinicians of the team.
    "consultation": Kind(
        _may(list="patient prescriber", create="prescriber therapist"),
        category="alliance",
    ),
    # An outcome questionnaire (PHQ-9) is the patient's own answers, the whole team's to read.
    "check-in": Kind(
        _may(
            list="patient prescriber therapist",
            read="patient prescriber therapist",
            create="patient",
            export="patient prescriber therapist",
        ),
        category="outcomes",
        origin="patient",
    ),
    # An alliance check-in rates one relationship: the one about the prescriber is hers (and
    # the patient's). The therapist, of another practice, reads it only under a release in
    # force from the prescriber that covers alliance check-ins, like anything she wrote.
    "alliance check-in about the prescriber": Kind(
        _may(
            list="patient prescriber",
            read="patient prescriber",
            export="patient prescriber",
        ),
        category="alliance",
    ),
    # The one about the therapist is the therapist's: Riverside's releases do not carry it.
    "alliance check-in about the therapist": Kind(
        _may(
            list="patient therapist",
            read="patient therapist",
            export="patient therapist",
        ),
        category="alliance",
        origin="harbor",
    ),
    # A release the patient signed (here: Harbor to Riverside). Only the patient signs or
    # revokes; the clinicians of the team read it.
    "release": Kind(
        _may(
            list="patient prescriber therapist",
            read="patient prescriber therapist",
            create="patient",
            update="patient",
            export="patient prescriber therapist",
        ),
        origin="patient",
    ),
    # The therapist's referral to another prescriber. Riverside does not see Harbor's
    # referral, and Riverside's release does not disclose it. The prescriber it was sent to
    # reads it while it waits for their answer.
    "referral by the therapist": Kind(
        _may(
            list="patient therapist referred",
            read="patient therapist referred",
            create="prescriber therapist",
        ),
        category="referrals",
        origin="harbor",
    ),
    # Who the patient is. The referred prescriber sees it while the referral waits for an
    # answer (to answer it), not to export the record; a closed referral shows nothing.
    "profile": Kind(
        _may(
            list="patient prescriber therapist referred",
            read="patient prescriber therapist referred",
            export="patient prescriber therapist",
        ),
        category="profile",
    ),
    # The team's plain-language summary of the person (the prescriber wrote it): its own
    # category, not part of the profile, not for a referral waiting for an answer.
    "summary": Kind(
        _may(
            read="patient prescriber therapist",
            update="prescriber therapist",
        ),
        category="summary",
    ),
    # The patient's written response to the summary: the patient's words, theirs to write;
    # a release carries it only when it names it.
    "summary response": Kind(
        _may(
            read="patient prescriber therapist",
            update="patient",
        ),
        category="summary_response",
        origin="patient",
    ),
    # A message the patient wrote to the prescriber is hers (and the patient's): her
    # practice's colleagues on the team would read it, Harbor's therapist only under a release
    # in force from her that names messages, like anything she wrote. Only those who may read
    # it answer it (a release lets one read, not answer). Making a message a record (update:
    # the message links to it) is for whoever answers it and may write that record.
    "message to the prescriber": Kind(
        _may(
            list="patient prescriber",
            read="patient prescriber",
            create="patient prescriber",
            update="prescriber",
            export="patient prescriber",
        ),
        category="messages",
    ),
    # A message to the whole care team: the patient's words, the whole team's to read; no
    # release carries it. Only the patient starts a conversation.
    "message to the care team": Kind(
        _may(
            list="patient prescriber therapist",
            read="patient prescriber therapist",
            create="patient",
            update="prescriber therapist",
            export="patient prescriber therapist",
        ),
        category="messages",
        origin="patient",
    ),
    # A visit booked with the prescriber is hers, as if she wrote it at Riverside: the patient
    # and her practice's colleagues on the team see it, Harbor's therapist and Lakeside only
    # under a release in force from her that names visits. A clinician books their own visits
    # (the therapist books hers, not the prescriber's); only those who see it record what
    # became of it.
    "visit with the prescriber": Kind(
        _may(
            list="patient prescriber",
            read="patient prescriber",
            create="prescriber",
            update="prescriber",
            export="patient prescriber",
        ),
        category="visits",
    ),
    # The accounting of who has looked at the record: the patient's, and the clinic admin's.
    "audit trail": Kind(_may(read="patient", list="admin")),
    # How the patient describes themselves: theirs alone to read and write; in no export, no
    # release; counted in groups (never a row about one person) in the equity view, which is
    # the clinic admin's: that is the one "list" there is.
    "self-description": Kind(_may(read="patient", update="patient", list="admin")),
    # The patient's safety plan: their own words, the whole care team's to read and to write
    # the next version of with them; no release carries it, whatever it names.
    "safety plan": Kind(
        _may(
            list="patient prescriber therapist",
            read="patient prescriber therapist",
            create="patient prescriber therapist",
            export="patient prescriber therapist",
        ),
        origin="patient",
    ),
}

RELEASE_READS = frozenset({"list", "read", "export"})
# The categories each state's releases (prescriber to the treating therapist and to the
# Lakeside therapist) list and have in force.
RELEASED_IN: dict[str, frozenset[str]] = {}  # filled below, once ALL_RELEASED is known
PATIENT_WORDS = frozenset({"summary_response"})


def expected(actor: str, kind: str, action: str, state: str) -> bool:
    rule = POLICY[kind]
    if actor in rule.may.get(action, frozenset()):
        return True
    if action == "create" and actor in rule.create_when_released:
        return rule.category in RELEASED_IN.get(state, frozenset())
    if rule.category not in RELEASED_IN.get(state, frozenset()):
        return False
    written_by_the_named_party = rule.origin == "riverside"
    patient_words_by_name = rule.origin == "patient" and rule.category in PATIENT_WORDS
    return (
        (written_by_the_named_party or patient_words_by_name)
        and actor in ("therapist", "recipient")
        and action in RELEASE_READS
    )


# ---- The world --------------------------------------------------------------------------


@dataclass
class World:
    state: str
    users: dict
    patient: object
    other_patient: object
    records: dict = field(default_factory=dict)
    n: int = 0

    def marker(self, what: str) -> str:
        self.n += 1
        return f"Zq{what}{self.n}x"


ALL_RELEASED = [
    "profile",
    "medications",
    "refills",
    "observations",
    "alliance",
    "outcomes",
    "goals",
    "narrative_notes",
    "referrals",
    "summary",
    "summary_response",
    "messages",
    "visits",
]
RELEASED_IN.update(in_force=frozenset(ALL_RELEASED), profile_only=frozenset({"profile"}))


def _sign(w, recipient, categories, days=30, mutual=False, **extra):
    return referrals.release_sign(
        actor=w.users["patient"],
        patient=w.patient,
        discloser=w.users["prescriber"],
        recipient=recipient,
        categories=categories,
        purpose="So the people treating me can work together.",
        expires_on=timezone.localdate() + timedelta(days=days),
        signed_name=w.patient.given_name + " " + w.patient.family_name,
        mutual=mutual,
        **extra,
    )


def _medication(w, name):
    return rx.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=w.users["prescriber"],
        patient=w.patient,
        drug_name=name,
        not_coded=True,  # not in the formulary: free text
        schedule="none",
        strength="300 mg",
        form="tablet",
        dose="1",
        directions="twice a day",
        reason="Mood stability",
    )


def _visit(w, place):
    return appointments.visit_book(
        actor=w.users["prescriber"],
        patient=w.patient,
        clinician=w.users["prescriber"],
        kind="medication",
        starts_at=timezone.now() + timedelta(days=3),
        place=place,
    )


def build_world(state: str, users: dict) -> World:
    patient = factories.PatientFactory(
        given_name="Daniel", family_name=f"Zqbrooks{state.replace('_', '')}", user=None
    )
    patient_user = factories.PatientUserFactory(full_name="Daniel " + patient.family_name)
    patient.user = patient_user
    patient.save()
    factories.MembershipFactory(patient=patient, clinician=users["prescriber"])
    factories.MembershipFactory(patient=patient, clinician=users["therapist"])
    other_user = factories.PatientUserFactory(full_name="Olive Other")
    other = factories.PatientFactory(given_name="Olive", family_name="Other", user=other_user)
    factories.MembershipFactory(patient=other, clinician=users["unrelated_prescriber"])
    w = World(
        state,
        {**users, "patient": patient_user, "other_patient": other_user},
        patient,
        other,
    )
    u = w.users
    r = w.records
    r["goal proposed by the prescriber"] = stories.goal_create(
        actor=u["prescriber"], patient=patient, what="Zqgoalriverside"
    )
    r["goal written by the patient"] = stories.goal_create(
        actor=patient_user, patient=patient, what="Zqgoalpatient"
    )
    r["self-description"] = SelfDescription.objects.create(
        patient=patient, race_ethnicity=["nhpi"], preferred_language="ht"
    )
    r["goal proposed by the therapist"] = stories.goal_create(
        actor=u["therapist"], patient=patient, what="Zqgoalharbor"
    )
    r["shareable note by the prescriber"] = stories.note_create(
        actor=u["prescriber"],
        patient=patient,
        kind="clinician",
        audience="release",
        body="Zqnoteriverside",
    )
    r["care-team note by the therapist"] = stories.note_create(
        actor=u["therapist"],
        patient=patient,
        kind="clinician",
        audience="care_team",
        body="Zqnoteharbor",
    )
    r["psychotherapy note by the therapist"] = stories.note_create(
        actor=u["therapist"],
        patient=patient,
        kind="psychotherapy",
        audience="only_me",
        body="Zqprocess",
    )
    r["medication"] = _medication(w, "Zqlithium")
    rx.prescription_write(
        actor=u["prescriber"],
        medication=r["medication"],
        quantity=30,
        days_supply=30,
        refills_authorised=2,
    )
    r["refill request"] = rx.refill_request_create(actor=patient_user, medication=r["medication"])
    # Posted while an earlier release let the therapist read it (a post no one of the other
    # practice could read is refused); the patient revoked that release, which opens nothing.
    earlier = _sign(w, u["therapist"], ["observations"])
    r["thread post by the prescriber"] = referrals.thread_post(
        actor=u["prescriber"], patient=patient, kind="note", text="Zqthreadriverside"
    )
    referrals.release_revoke(actor=patient_user, release=earlier)
    r["consultation"] = alliance.consultation_create(
        actor=u["prescriber"],
        patient=patient,
        prescriber=u["prescriber"],
        therapist=u["therapist"],
        issues="Zqconsultissues",
        actions="Zqconsultation",
        audience="patient",
    )
    offered = {i.key: i for i in alliance_selectors.instruments_offered()}
    check_in = alliance.check_in_start(
        actor=patient_user, patient=patient, instrument=offered["phq-9"]
    )
    r["check-in"] = alliance.check_in_submit(
        actor=patient_user, check_in=check_in, answers={f"phq9_{i}": 1 for i in range(1, 10)}
    )
    for kind, clinician, comment in (
        ("alliance check-in about the prescriber", u["prescriber"], "Zqalliancepriya"),
        ("alliance check-in about the therapist", u["therapist"], "Zqalliancejordan"),
    ):
        started = alliance.check_in_start(
            actor=patient_user,
            patient=patient,
            instrument=offered["concord-alliance"],
            clinician=clinician,
        )
        r[kind] = alliance.check_in_submit(
            actor=patient_user,
            check_in=started,
            answers={item: 3 for item in ("bond", "goals", "tasks", "fit")},
            open_answer=comment,
        )
    r["safety plan"] = stories.safety_plan_save(
        actor=patient_user, patient=patient, based_on=0, sections={"coping": "Zqsafetyplan"}
    )
    r["message to the prescriber"] = messaging.conversation_start(
        actor=patient_user,
        patient=patient,
        clinician=u["prescriber"],
        subject="Zqmsgsubjectriverside",
        text="Zqmsgriverside",
    )
    r["message to the care team"] = messaging.conversation_start(
        actor=patient_user, patient=patient, subject="Zqmsgsubjectteam", text="Zqmsgteam"
    )
    r["visit with the prescriber"] = _visit(w, "Zqvisitplace")
    r["release"] = referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=u["therapist"],
        recipient=u["prescriber"],
        categories=["substance_use"],
        part2_consent=True,
        purpose="Zqreleasepurpose",
        expires_on=timezone.localdate() + timedelta(days=60),
        signed_name="Daniel " + patient.family_name,
        mutual=False,
    )
    r["referral by the therapist"] = referrals.referral_create(
        actor=u["therapist"], patient=patient, to_clinician=u["referred"], reason="Zqreferral"
    )
    summary = stories.summary_save(
        actor=u["prescriber"], patient=patient, text="Zqsummary: likes early visits", version=0
    )
    stories.summary_respond(
        actor=patient_user,
        patient=patient,
        response="Zqresponse: please keep the Army part between us",
        version=summary.version,
    )
    # The referral states: the therapist's referral to "referred" waits for an answer; one to
    # another prescriber was accepted, started and closed.
    closed = referrals.referral_create(
        actor=u["therapist"],
        patient=patient,
        to_clinician=u["closed_referral_prescriber"],
        reason="A second look at the plan",
    )
    for who, status in (
        ("closed_referral_prescriber", "accepted"),
        ("closed_referral_prescriber", "active"),
        ("therapist", "closed"),
    ):
        referrals.referral_move(actor=u[who], referral=closed, status=status)
    # The release state of this world: releases from Riverside to the treating therapist and to
    # the Lakeside therapist (or, for "other recipient", to a Lakeside colleague only).
    recipients = [u["therapist"], u["recipient"]]
    if state == "in_force":
        for who in recipients:
            _sign(w, who, ALL_RELEASED)
        # Both ways between the prescriber and a Harbor therapist off the team: it opens to
        # the prescriber what that therapist wrote (nothing here), not what Harbor wrote.
        _sign(w, u["harbor_partner"], ALL_RELEASED, mutual=True)
    elif state == "profile_only":
        for who in recipients:
            _sign(w, who, ["profile"])
    elif state == "other_category":
        for who in recipients:
            _sign(w, who, ["substance_use"], part2_consent=True)
    elif state == "expired":
        with travel(timezone.now() - timedelta(days=10), tick=True):
            for who in recipients:
                _sign(w, who, ALL_RELEASED, days=3)
    elif state == "revoked":
        for who in recipients:
            referrals.release_revoke(actor=patient_user, release=_sign(w, who, ALL_RELEASED))
    elif state == "other_recipient":
        _sign(w, u["colleague"], ALL_RELEASED)
    return w


# ---- The probes: one real request each, and how a person tells it worked ----------------


@dataclass(frozen=True)
class Probe:
    kind: str
    action: str
    channel: str  # page or api
    run: object  # (client, world, actor) -> bool: did it work for this person?
    scoped: bool = True  # names a patient or a record (not a list across patients)


PROBES: list[Probe] = []


def probe(kind, action, channel, scoped=True):
    def register(run):
        PROBES.append(Probe(kind, action, channel, run, scoped))
        return run

    return register


def _shows(response, text) -> bool:
    return response.status_code == 200 and text in response.content.decode()


def _api(client, method, url, data=None):
    return getattr(client, method)(url, data=data, content_type="application/json")


P = "patient_uuid"


def _url(name, *args):
    return reverse(name, args=[str(a) for a in args])


# Goals
for _kind, _marker in (
    ("goal proposed by the prescriber", "Zqgoalriverside"),
    ("goal proposed by the therapist", "Zqgoalharbor"),
    ("goal written by the patient", "Zqgoalpatient"),
):

    @probe(_kind, "list", "api")
    def _(c, w, a, marker=_marker):
        return _shows(c.get(_url("api_goal_list", w.patient.uuid)), marker)

    @probe(_kind, "list", "page")
    def _(c, w, a, marker=_marker):
        return _shows(c.get(_url("goals", w.patient.uuid)), marker)

    @probe(_kind, "read", "api")
    def _(c, w, a, marker=_marker, kind=_kind):
        return _shows(c.get(_url("api_goal_detail", w.records[kind].uuid)), marker)

    @probe(_kind, "update", "api")
    def _(c, w, a, marker=_marker, kind=_kind):
        goal = Goal.objects.get(pk=w.records[kind].pk)
        text = f"{marker} {w.marker('edit')}"
        _api(
            c, "patch", _url("api_goal_detail", goal.uuid), {"what": text, "version": goal.version}
        )
        return Goal.objects.get(pk=goal.pk).what == text

    @probe(_kind, "delete", "api")
    def _(c, w, a, kind=_kind):
        c.delete(_url("api_goal_detail", w.records[kind].uuid))
        return not Goal.objects.filter(pk=w.records[kind].pk).exists()

    @probe(_kind, "export", "api")
    def _(c, w, a, marker=_marker):
        return _shows(c.get(_url("api_fhir_export", w.patient.uuid)), marker)


@probe("goal proposed by the prescriber", "create", "api")
def _(c, w, a):
    text = w.marker("newgoal")
    _api(c, "post", _url("api_goal_list", w.patient.uuid), {"what": text})
    return Goal.objects.filter(what=text).exists()


@probe("goal proposed by the prescriber", "create", "page")
def _(c, w, a):
    text = w.marker("newgoal")
    c.post(_url("goal_create", w.patient.uuid), {"what": text})
    return Goal.objects.filter(what=text).exists()


# Notes
for _kind, _marker in (
    ("shareable note by the prescriber", "Zqnoteriverside"),
    ("care-team note by the therapist", "Zqnoteharbor"),
    ("psychotherapy note by the therapist", "Zqprocess"),
):

    @probe(_kind, "list", "api")
    def _(c, w, a, marker=_marker):
        return _shows(c.get(_url("api_note_list", w.patient.uuid)), marker)

    @probe(_kind, "list", "page")
    def _(c, w, a, marker=_marker):
        return _shows(c.get(_url("notes", w.patient.uuid)), marker)

    @probe(_kind, "read", "api")
    def _(c, w, a, marker=_marker, kind=_kind):
        return _shows(c.get(_url("api_note_detail", w.records[kind].uuid)), marker)

    @probe(_kind, "update", "api")
    def _(c, w, a, marker=_marker, kind=_kind):
        note = NarrativeNote.objects.get(pk=w.records[kind].pk)
        text = f"{marker} {w.marker('edit')}"
        _api(
            c, "patch", _url("api_note_detail", note.uuid), {"body": text, "version": note.version}
        )
        return NarrativeNote.objects.get(pk=note.pk).body == text

    @probe(_kind, "delete", "api")
    def _(c, w, a, kind=_kind):
        c.delete(_url("api_note_detail", w.records[kind].uuid))
        return not NarrativeNote.objects.filter(pk=w.records[kind].pk).exists()


@probe("shareable note by the prescriber", "create", "api")
def _(c, w, a):
    body = w.marker("newnote")
    kind = "story" if a in ("patient", "other_patient") else "clinician"
    _api(
        c,
        "post",
        _url("api_note_list", w.patient.uuid),
        {"kind": kind, "audience": "care_team", "body": body},
    )
    return NarrativeNote.objects.filter(body=body).exists()


@probe("shareable note by the prescriber", "create", "page")
def _(c, w, a):
    body = w.marker("newnote")
    kind = "story" if a in ("patient", "other_patient") else "clinician"
    c.post(
        _url("note_create", w.patient.uuid),
        {"kind": kind, "audience": "care_team", "title": "", "body": body},
    )
    return NarrativeNote.objects.filter(body=body).exists()


@probe("psychotherapy note by the therapist", "create", "api")
def _(c, w, a):
    body = w.marker("newprocess")
    _api(
        c,
        "post",
        _url("api_note_list", w.patient.uuid),
        {"kind": "psychotherapy", "audience": "only_me", "body": body},
    )
    return NarrativeNote.objects.filter(body=body).exists()


# Medications
@probe("medication", "list", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_medication_list", w.patient.uuid)), "Zqlithium")


@probe("medication", "list", "page")
def _(c, w, a):
    return _shows(c.get(_url("medications", w.patient.uuid)), "Zqlithium")


@probe("medication", "read", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_medication_detail", w.records["medication"].uuid)), "Zqlithium")


@probe("medication", "read", "page")
def _(c, w, a):
    return _shows(c.get(_url("medication_detail", w.records["medication"].uuid)), "Zqlithium")


@probe("medication", "create", "api")
def _(c, w, a):
    name = w.marker("newdrug")
    _api(
        c,
        "post",
        _url("api_medication_list", w.patient.uuid),
        {
            "drug_name": name,
            # A made-up name: free text, which needs saying so and its schedule.
            "not_coded": True,
            "schedule": "none",
            "strength": "10 mg",
            "form": "tablet",
            "dose": "1",
            "directions": "at night",
            "reason": "Sleep",
            "decided_together": True,
            **factories.WHOSE_NEED,
        },
    )
    return Medication.objects.filter(drug_name=name).exists()


@probe("medication", "update", "api")
def _(c, w, a):
    medication = Medication.objects.get(pk=w.records["medication"].pk)
    dose = w.marker("dose")
    _api(
        c,
        "post",
        _url("api_medication_decisions", medication.uuid),
        {
            "kind": "dose_change",
            "version": medication.version,
            "reason": "r",
            "dose": dose,
            "decided_together": True,
            **factories.WHOSE_NEED,
        },
    )
    return Medication.objects.get(pk=medication.pk).dose == dose


@probe("medication", "delete", "api")
def _(c, w, a):
    c.delete(_url("api_medication_detail", w.records["medication"].uuid))
    return not Medication.objects.filter(pk=w.records["medication"].pk).exists()


@probe("medication", "export", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_fhir_export", w.patient.uuid)), "Zqlithium")


# Refill requests
@probe("refill request", "list", "api", scoped=False)
def _(c, w, a):
    # The queue spans every world this run built for the same prescriber: ask for all of it.
    queue = reverse("api_refill_queue") + "?limit=200"
    return _shows(c.get(queue), str(w.records["refill request"].uuid))


@probe("refill request", "list", "page", scoped=False)
def _(c, w, a):
    return _shows(c.get(reverse("refill_queue")), "Zqlithium")


@probe("refill request", "update", "api")
def _(c, w, a):
    # A fresh open request for each try: a decided request cannot be decided again.
    medication = _medication(w, w.marker("refilldrug"))
    request = rx.refill_request_create(actor=w.users["patient"], medication=medication)
    _api(c, "post", _url("api_refill_decide", request.uuid), {"status": "needs_visit"})
    return RefillRequest.objects.get(pk=request.pk).status == "needs_visit"


# The thread
@probe("thread post by the prescriber", "list", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_thread", w.patient.uuid)), "Zqthreadriverside")


@probe("thread post by the prescriber", "list", "page")
def _(c, w, a):
    return _shows(c.get(_url("thread", w.patient.uuid)), "Zqthreadriverside")


@probe("thread post by the prescriber", "create", "page")
def _(c, w, a):
    from referrals.models import ThreadPost

    text = w.marker("post")
    c.post(_url("thread", w.patient.uuid), {"kind": "note", "text": text})
    # This world's patient: markers repeat from one world to the next.
    return ThreadPost.objects.filter(patient=w.patient, text=text).exists()


@probe("thread post by the prescriber", "create", "api")
def _(c, w, a):
    from referrals.models import ThreadPost

    text = w.marker("apipost")
    _api(c, "post", _url("api_thread", w.patient.uuid), {"kind": "note", "text": text})
    # This world's patient: markers repeat from one world to the next.
    return ThreadPost.objects.filter(patient=w.patient, text=text).exists()


# Consultations
@probe("consultation", "list", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_consultations", w.patient.uuid)), "Zqconsultation")


@probe("consultation", "list", "page")
def _(c, w, a):
    # The patient is taken to their own check-ins page, which shows what was agreed.
    return _shows(c.get(_url("alliance", w.patient.uuid), follow=True), "Zqconsultation")


@probe("consultation", "create", "api")
def _(c, w, a):
    from alliance.models import Consultation

    text = w.marker("consult")
    _api(
        c,
        "post",
        _url("api_consultations", w.patient.uuid),
        {"issues": "i", "actions": text, "held_on": str(date.today())},
    )
    return Consultation.objects.filter(actions=text).exists()


# Check-ins
@probe("check-in", "list", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_check_ins", w.patient.uuid)), str(w.records["check-in"].uuid))


@probe("check-in", "read", "api")
def _(c, w, a):
    return _shows(
        c.get(_url("api_check_in", w.records["check-in"].uuid)), str(w.records["check-in"].uuid)
    )


@probe("check-in", "read", "page")
def _(c, w, a):
    return _shows(c.get(_url("check_in", w.records["check-in"].uuid)), "PHQ-9")


@probe("check-in", "create", "api")
def _(c, w, a):
    from alliance.models import CheckIn

    before = CheckIn.objects.filter(patient=w.patient).count()
    _api(c, "post", _url("api_check_ins", w.patient.uuid), {"instrument": "gad-7"})
    return CheckIn.objects.filter(patient=w.patient).count() > before


@probe("check-in", "export", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_fhir_export", w.patient.uuid)), str(w.records["check-in"].uuid))


# Alliance check-ins: each about one clinician, with the patient's comment on it
for _kind, _marker in (
    ("alliance check-in about the prescriber", "Zqalliancepriya"),
    ("alliance check-in about the therapist", "Zqalliancejordan"),
):

    @probe(_kind, "list", "api")
    def _(c, w, a, marker=_marker):
        return _shows(c.get(_url("api_check_ins", w.patient.uuid)), marker)

    @probe(_kind, "list", "page")
    def _(c, w, a, kind=_kind):
        # The patient is taken to their own check-ins page; clinicians see the trends.
        page = c.get(_url("alliance", w.patient.uuid), follow=True)
        return _shows(page, str(w.records[kind].uuid))

    @probe(_kind, "read", "api")
    def _(c, w, a, marker=_marker, kind=_kind):
        return _shows(c.get(_url("api_check_in", w.records[kind].uuid)), marker)

    @probe(_kind, "read", "page")
    def _(c, w, a, marker=_marker, kind=_kind):
        return _shows(c.get(_url("check_in", w.records[kind].uuid)), marker)

    @probe(_kind, "export", "api")
    def _(c, w, a, kind=_kind):
        return _shows(c.get(_url("api_fhir_export", w.patient.uuid)), str(w.records[kind].uuid))


# Releases
@probe("release", "list", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_releases", w.patient.uuid)), "Zqreleasepurpose")


@probe("release", "list", "page")
def _(c, w, a):
    return _shows(c.get(_url("releases", w.patient.uuid)), str(w.records["release"].uuid))


@probe("release", "read", "page")
def _(c, w, a):
    return _shows(c.get(_url("release", w.records["release"].uuid)), "Zqreleasepurpose")


@probe("release", "create", "api")
def _(c, w, a):
    purpose = w.marker("purpose")
    _api(
        c,
        "post",
        _url("api_releases", w.patient.uuid),
        {
            "discloser": str(w.users["prescriber"].uuid),
            "recipient": str(w.users["therapist"].uuid),
            "categories": ["goals"],
            "purpose": purpose,
            "expires_on": str(timezone.localdate() + timedelta(days=5)),
            "signed_name": "Daniel " + w.patient.family_name,
            "mutual": False,
        },
    )
    return Release.objects.filter(purpose=purpose).exists()


@probe("release", "update", "api")
def _(c, w, a):
    release = w.records["release"]
    if Revocation.objects.filter(release=release).exists():
        # Revoked earlier in this world: a fresh one to revoke.
        release = referrals.release_sign(
            actor=w.users["patient"],
            patient=w.patient,
            discloser=w.users["therapist"],
            recipient=w.users["prescriber"],
            categories=["substance_use"],
            part2_consent=True,
            purpose="Zqreleasepurpose again",
            expires_on=timezone.localdate() + timedelta(days=60),
            signed_name="Daniel " + w.patient.family_name,
            mutual=False,
        )
        w.records["release"] = release
    _api(c, "post", _url("api_release_revoke", release.uuid), {})
    return Revocation.objects.filter(release=release).exists()


@probe("release", "export", "page")
def _(c, w, a):
    response = c.get(_url("release_pdf", w.records["release"].uuid))
    return response.status_code == 200 and response["Content-Type"] == "application/pdf"


# Referrals
@probe("referral by the therapist", "list", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_referrals", w.patient.uuid)), "Zqreferral")


@probe("referral by the therapist", "read", "page")
def _(c, w, a):
    return _shows(
        c.get(_url("referral", w.records["referral by the therapist"].uuid)), "Zqreferral"
    )


@probe("referral by the therapist", "create", "api")
def _(c, w, a):
    reason = w.marker("referral")
    _api(
        c,
        "post",
        _url("api_referrals", w.patient.uuid),
        {"to_clinician": str(w.users["referred"].uuid), "reason": reason},
    )
    return Referral.objects.filter(reason=reason).exists()


# Profile and summary
@probe("profile", "list", "api", scoped=False)
def _(c, w, a):
    return _shows(c.get(reverse("api_patient_list")), w.patient.family_name)


@probe("profile", "list", "page", scoped=False)
def _(c, w, a):
    return _shows(c.get(reverse("patient_list")), w.patient.family_name)


@probe("profile", "read", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_patient_detail", w.patient.uuid)), w.patient.family_name)


@probe("profile", "read", "page")
def _(c, w, a):
    return _shows(c.get(_url("patient_detail", w.patient.uuid)), w.patient.family_name)


@probe("profile", "export", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_fhir_export", w.patient.uuid)), w.patient.family_name)


# The safety plan
@probe("safety plan", "list", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_safety_plan", w.patient.uuid)), "Zqsafetyplan")


@probe("safety plan", "read", "page")
def _(c, w, a):
    return _shows(c.get(_url("safety_plan", w.patient.uuid)), "Zqsafetyplan")


@probe("safety plan", "export", "page")
def _(c, w, a):
    response = c.get(_url("safety_plan_pdf", w.patient.uuid))
    return response.status_code == 200 and response["Content-Type"] == "application/pdf"


def _next_plan_version(w) -> int:
    from stories.models import SafetyPlan

    newest = SafetyPlan.objects.filter(patient=w.patient).order_by("-version").first()
    return newest.version if newest else 0


def _plan_written(w, text) -> bool:
    from stories.models import SafetyPlan

    return SafetyPlan.objects.filter(patient=w.patient, coping=text).exists()


@probe("safety plan", "create", "api")
def _(c, w, a):
    text = w.marker("plan")
    body = {"version": _next_plan_version(w), "coping": text}
    _api(c, "post", _url("api_safety_plan", w.patient.uuid), body)
    return _plan_written(w, text)


@probe("safety plan", "create", "page")
def _(c, w, a):
    text = w.marker("plan")
    c.post(_url("safety_plan", w.patient.uuid), {"version": _next_plan_version(w), "coping": text})
    return _plan_written(w, text)


# The summary and the patient's response to it
def _summary_page(w, a):
    """Where each person reads the summary: the patient at home, a clinician on the
    patient's page."""
    if a in ("patient", "other_patient"):
        return reverse("patient_home")
    return _url("patient_detail", w.patient.uuid)


for _kind, _marker in (("summary", "Zqsummary"), ("summary response", "Zqresponse")):

    @probe(_kind, "read", "api")
    def _(c, w, a, marker=_marker):
        return _shows(c.get(_url("api_summary", w.patient.uuid)), marker)

    @probe(_kind, "read", "page")
    def _(c, w, a, marker=_marker):
        return _shows(c.get(_summary_page(w, a)), marker)


@probe("summary", "update", "api")
def _(c, w, a):
    summary = PersonSummary.objects.get(patient=w.patient)
    text = w.marker("summary")
    _api(c, "put", _url("api_summary", w.patient.uuid), {"text": text, "version": summary.version})
    return PersonSummary.objects.get(patient=w.patient).text == text


@probe("summary response", "update", "api")
def _(c, w, a):
    summary = PersonSummary.objects.get(patient=w.patient)
    text = w.marker("response")
    _api(
        c,
        "post",
        _url("api_summary_response", w.patient.uuid),
        {"response": text, "version": summary.version},
    )
    return PersonSummary.objects.get(patient=w.patient).patient_response == text


@probe("summary response", "update", "page")
def _(c, w, a):
    summary = PersonSummary.objects.get(patient=w.patient)
    text = w.marker("response")
    c.post(_url("summary_respond", w.patient.uuid), {"response": text, "version": summary.version})
    return PersonSummary.objects.get(patient=w.patient).patient_response == text


# Secure messages
for _kind, _subject, _marker in (
    ("message to the prescriber", "Zqmsgsubjectriverside", "Zqmsgriverside"),
    ("message to the care team", "Zqmsgsubjectteam", "Zqmsgteam"),
):

    @probe(_kind, "list", "api")
    def _(c, w, a, subject=_subject):
        return _shows(c.get(_url("api_patient_messages", w.patient.uuid)), subject)

    @probe(_kind, "list", "page")
    def _(c, w, a, subject=_subject):
        # The patient is taken to their own inbox.
        return _shows(c.get(_url("patient_messages", w.patient.uuid), follow=True), subject)

    @probe(_kind, "read", "api")
    def _(c, w, a, marker=_marker, kind=_kind):
        return _shows(c.get(_url("api_conversation", w.records[kind].uuid)), marker)

    @probe(_kind, "read", "page")
    def _(c, w, a, marker=_marker, kind=_kind):
        return _shows(c.get(_url("conversation", w.records[kind].uuid)), marker)

    @probe(_kind, "export", "api")
    def _(c, w, a, marker=_marker):
        return _shows(c.get(_url("api_fhir_export", w.patient.uuid)), marker)


@probe("message to the prescriber", "create", "page")
def _(c, w, a):
    text = w.marker("reply")
    c.post(_url("conversation", w.records["message to the prescriber"].uuid), {"text": text})
    return Message.objects.filter(patient=w.patient, text=text).exists()


@probe("message to the prescriber", "create", "api")
def _(c, w, a):
    text = w.marker("apireply")
    url = _url("api_conversation", w.records["message to the prescriber"].uuid)
    _api(c, "post", url, {"text": text})
    return Message.objects.filter(patient=w.patient, text=text).exists()


for _kind in ("message to the prescriber", "message to the care team"):

    @probe(_kind, "update", "page")
    def _(c, w, a, kind=_kind):
        # One post makes the patient's first message a goal proposal and links it; the link
        # an earlier case made is undone first, so each case asks afresh.
        conversation = w.records[kind]
        first = Message.objects.filter(conversation=conversation).order_by("created_at").first()
        Message.objects.filter(pk=first.pk).update(record_kind="", record_uuid=None)
        what = w.marker("goalfrommessage")
        c.post(
            _url("conversation_record", conversation.uuid),
            {"make": "goal", "message": str(first.uuid), "what": what},
        )
        return Goal.objects.filter(patient=w.patient, what=what).exists()


@probe("message to the care team", "create", "page")
def _(c, w, a):
    subject = w.marker("subject")
    c.post(_url("message_compose", w.patient.uuid), {"to": "team", "subject": subject, "text": "t"})
    return Conversation.objects.filter(patient=w.patient, subject=subject).exists()


@probe("message to the care team", "create", "api")
def _(c, w, a):
    subject = w.marker("apisubject")
    _api(c, "post", _url("api_patient_messages", w.patient.uuid), {"subject": subject, "text": "t"})
    return Conversation.objects.filter(patient=w.patient, subject=subject).exists()


# The self-description: the "me" routes are nobody else's (not patient-scoped: whoever asks
# gets their own, or nothing); the export is this patient's and must never carry it.
_DESCRIBED = re.compile(r'value="nhpi"[^>]*checked')


@probe("self-description", "read", "page", scoped=False)
def _(c, w, a):
    response = c.get(reverse("account_page"))
    return response.status_code == 200 and bool(_DESCRIBED.search(response.content.decode()))


@probe("self-description", "read", "api", scoped=False)
def _(c, w, a):
    return _shows(c.get(reverse("api_self_description")), '"nhpi"')


def _described_afresh(w):
    SelfDescription.objects.filter(patient=w.patient).update(
        race_ethnicity=["nhpi"], race_group="nhpi"
    )


def _described_as(w, race) -> bool:
    return SelfDescription.objects.filter(patient=w.patient, race_group=race).exists()


@probe("self-description", "update", "page", scoped=False)
def _(c, w, a):
    _described_afresh(w)
    c.post(reverse("self_description"), {"race_ethnicity": ["asian"]})
    return _described_as(w, "asian")


@probe("self-description", "update", "api", scoped=False)
def _(c, w, a):
    _described_afresh(w)
    _api(c, "put", reverse("api_self_description"), {"race_ethnicity": ["black"]})
    return _described_as(w, "black")


@probe("self-description", "export", "api")
def _(c, w, a):
    response = c.get(_url("api_fhir_export", w.patient.uuid))
    text = response.content.decode()
    return response.status_code == 200 and ("nhpi" in text or "Native Hawaiian" in text)


@probe("self-description", "list", "page", scoped=False)
def _(c, w, a):
    return _shows(c.get(reverse("equity")), "Native Hawaiian or Pacific Islander")


@probe("self-description", "list", "api", scoped=False)
def _(c, w, a):
    return _shows(c.get(reverse("api_equity")), '"nhpi"')
# Visits
_VISIT = "visit with the prescriber"


@probe(_VISIT, "list", "page")
def _(c, w, a):
    # The list links each visit it shows.
    return _shows(c.get(_url("patient_visits", w.patient.uuid)), str(w.records[_VISIT].uuid))


@probe(_VISIT, "list", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_patient_visits", w.patient.uuid)), "Zqvisitplace")


@probe(_VISIT, "read", "page")
def _(c, w, a):
    return _shows(c.get(_url("visit_detail", w.records[_VISIT].uuid)), "Zqvisitplace")


@probe(_VISIT, "read", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_visit", w.records[_VISIT].uuid)), "Zqvisitplace")


@probe(_VISIT, "export", "page")
def _(c, w, a):
    return _shows(c.get(_url("visit_calendar", w.records[_VISIT].uuid)), "Zqvisitplace")


@probe(_VISIT, "export", "api")
def _(c, w, a):
    return _shows(c.get(_url("api_fhir_export", w.patient.uuid)), "Zqvisitplace")


@probe(_VISIT, "create", "page")
def _(c, w, a):
    place = w.marker("visitplace")
    day = timezone.localdate() + timedelta(days=5)
    c.post(
        _url("visit_book", w.patient.uuid),
        {
            "kind": "medication",
            "also_with": "",
            "on": day.isoformat(),
            "at": "10:00",
            "minutes": "30",
            "place": place,
        },
    )
    return Visit.objects.filter(
        patient=w.patient, place=place, clinician=w.users["prescriber"]
    ).exists()


@probe(_VISIT, "create", "api")
def _(c, w, a):
    place = w.marker("apivisitplace")
    _api(
        c,
        "post",
        _url("api_patient_visits", w.patient.uuid),
        {
            "kind": "medication",
            "starts_at": (timezone.now() + timedelta(days=6)).isoformat(),
            "place": place,
        },
    )
    return Visit.objects.filter(
        patient=w.patient, place=place, clinician=w.users["prescriber"]
    ).exists()


@probe(_VISIT, "update", "page")
def _(c, w, a):
    # A visit of its own for each case: cancelling one is for good.
    visit = _visit(w, w.marker("visitplace"))
    c.post(_url("visit_record", visit.uuid), {"status": "cancelled"})
    visit.refresh_from_db()
    return visit.status == "cancelled"


@probe(_VISIT, "update", "api")
def _(c, w, a):
    visit = _visit(w, w.marker("visitplace"))
    _api(c, "post", _url("api_visit_status", visit.uuid), {"status": "cancelled"})
    visit.refresh_from_db()
    return visit.status == "cancelled"


# The audit trail
@probe("audit trail", "read", "page", scoped=False)
def _(c, w, a):
    return _shows(c.get(reverse("record_views")), w.users["prescriber"].full_name)


@probe("audit trail", "list", "page", scoped=False)
def _(c, w, a):
    return _shows(c.get(reverse("audit_search"), {"q": w.patient.family_name}), "Zqbrooks")


# ---- The run ----------------------------------------------------------------------------


@pytest.fixture
def users(db):
    lakeside = factories.PracticeFactory(name="Lakeside Therapy", kind=Practice.Kind.THERAPY)
    return {
        "prescriber": factories.PrescriberFactory(full_name="Dr. Priya Zqraman"),
        "therapist": factories.TherapistFactory(full_name="Jordan Lee"),
        "recipient": factories.TherapistFactory(full_name="Sam Recipient", practice=lakeside),
        "colleague": factories.TherapistFactory(full_name="Casey Colleague", practice=lakeside),
        "unrelated_prescriber": factories.PrescriberFactory(
            full_name="Dr. Una Related",
            practice=factories.PracticeFactory(name="Hillside Psychiatry"),
        ),
        "referred": factories.PrescriberFactory(
            full_name="Dr. Referred", practice=factories.PracticeFactory(name="Summit Psychiatry")
        ),
        "closed_referral_prescriber": factories.PrescriberFactory(
            full_name="Dr. Closed Referral",
            practice=factories.PracticeFactory(name="Northside Psychiatry"),
        ),
        # Harbor, like the treating therapist: one named in the mutual release, one in none.
        "harbor_partner": factories.TherapistFactory(full_name="Harper Partner"),
        "unnamed_colleague": factories.TherapistFactory(full_name="Uma Unnamed"),
        "admin": factories.AdminFactory(full_name="Ada Admin"),
    }


class _Client(Client):
    """Remembers the status of its last response: a 405 reaches no data and decides nothing."""

    status = None

    def request(self, **request):
        response = super().request(**request)
        self.status = response.status_code
        return response


def _client(w, actor):
    client = _Client()
    if actor != "anonymous":
        client.force_login(w.users[actor])
    return client


READ_FIRST = {"list": 0, "read": 0, "export": 0, "create": 1, "update": 2, "delete": 3}


def test_every_decision_matches_the_policy_table(users):
    alliance.install_shipped()
    cases = wrong = unaudited = 0
    mistakes: list[str] = []
    covered = set()
    for state in STATES:
        w = build_world(state, users)
        clients = {actor: _client(w, actor) for actor in ACTORS}
        # Reads first, so that a write allowed in one case cannot hide a record from another.
        for p, actor in itertools.product(
            sorted(PROBES, key=lambda p: READ_FIRST[p.action]), ACTORS
        ):
            before = AuditEvent.objects.count()
            got = p.run(clients[actor], w, actor)
            want = expected(actor, p.kind, p.action, state)
            cases += 1
            covered.add((p.kind, p.action))
            if got != want:
                wrong += 1
                mistakes.append(
                    f"{state:15} {actor:20} {p.action:6} {p.channel:4} {p.kind}: "
                    f"{'allowed' if got else 'refused'}, the table says "
                    f"{'allow' if want else 'refuse'}"
                )
            decided = clients[actor].status != 405 and (p.scoped or got)
            if actor != "anonymous" and decided and AuditEvent.objects.count() == before:
                unaudited += 1
                mistakes.append(
                    f"{state:15} {actor:20} {p.action:6} {p.channel:4} {p.kind}: no audit row"
                )
    report(
        f"authorization matrix: {cases} cases ({len(ACTORS)} actors × {len(POLICY)} kinds of "
        f"data × {len(ACTIONS)} actions × {len(STATES)} release states, with a referral "
        f"waiting and one closed, pages and API), {wrong} wrong, {unaudited} unaudited"
    )
    assert not mistakes, "\n".join(mistakes)
    assert cases >= 1000
    # Every kind of data is probed, and every action somewhere.
    assert {k for k, _ in covered} == set(POLICY)
    assert {a for _, a in covered} == set(ACTIONS)


# The world's care team today: the closed referral's membership has ended, and the referral
# still waiting made none.
ON_THE_TEAM = frozenset({"prescriber", "therapist"})


def test_the_caseload_shows_no_more_than_the_table(users):
    """The caseload, page and API, lists a patient only to a clinician on their care team (a
    release makes no patient one's caseload), and shows of each kind of check-in only what
    the table lets that person list, in every release state."""
    alliance.install_shipped()
    mistakes: list[str] = []
    cases = 0
    for state in STATES:
        w = build_world(state, users)
        name = w.patient.family_name
        for actor in ACTORS:
            client = _client(w, actor)
            api = client.get(reverse("api_caseload"), {"q": name, "limit": 200})
            page = client.get(reverse("caseload"), {"q": name})
            rows = api.json()["results"] if api.status_code == 200 else []
            row = next((r for r in rows if r["patient"] == str(w.patient.uuid)), None)
            # The row's link to the visit screen (the search box repeats the name).
            on_page = _shows(page, _url("visit", w.patient.uuid))
            listed = actor in ON_THE_TEAM
            cases += 1
            if (row is not None, on_page) != (listed, listed):
                mistakes.append(
                    f"{state:15} {actor:20} listed: api {row is not None}, page {on_page}"
                )
                continue
            if row is None:
                continue
            about = {a["clinician"] for a in row["alliance"]}
            shown = {
                "check-in": any(o["instrument"] == "phq-9" for o in row["outcomes"]),
                "alliance check-in about the prescriber": str(users["prescriber"].uuid) in about,
                "alliance check-in about the therapist": str(users["therapist"].uuid) in about,
            }
            for kind, got in shown.items():
                cases += 1
                if got != expected(actor, kind, "list", state):
                    mistakes.append(f"{state:15} {actor:20} caseload {kind}: shown {got}")
    report(f"caseload: {cases} cases (actors × release states × kinds of check-in), page and API")
    assert not mistakes, "\n".join(mistakes)
