"""Two people, or two tabs, at the same moment, on PostgreSQL.

Every race below is real: one thread per person or tab, each with its own test client and its
own database connection, released together by a barrier.

- Simultaneous edits of one record (each kind with a version: goals, notes, the summary and the
  patient's response to it, a medication's purpose and its decisions): exactly one edit is
  stored; the other person gets a plain conflict message, the record as it is now, and what
  they typed back in the form. Nothing is overwritten silently.
- The same form sent twice at once (a double click, a browser's retry): the records the product
  means to make, once.

Prints `concurrency: N races, 0 lost writes, 0 duplicates` (shown with `pytest -s`).
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from alliance import scoring
from alliance import selectors as alliance_selectors
from alliance import services as alliance
from alliance.models import CheckIn, Consultation
from prescribing import services as rx
from prescribing.models import (
    DecisionRecord,
    Fill,
    Medication,
    Observation,
    Prescription,
    RefillRequest,
)
from referrals import services as referrals
from referrals.models import Referral, Release, ThreadPost
from stories import services as stories
from stories.models import Goal, GoalRating, GoalRevision, NarrativeNote, PersonSummary
from tests import factories
from tests.proof.figures import report

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.services,
    pytest.mark.xdist_group("concurrency"),
]


class Proof:
    """Counts the races and keeps every failure, so that one run names them all."""

    def __init__(self):
        self.races = 0
        self.lost_writes: list[str] = []
        self.duplicates: list[str] = []
        self.problems: list[str] = []

    def line(self) -> str:
        return (
            f"concurrency: {self.races} races, {len(self.lost_writes)} lost writes, "
            f"{len(self.duplicates)} duplicates"
        )

    def mark(self) -> tuple[int, int, int, int]:
        return (self.races, len(self.lost_writes), len(self.duplicates), len(self.problems))

    def check(self, mark) -> None:
        """Fail with every lost write, duplicate and problem found since `mark`."""
        races, lost, duplicates, problems = mark
        failures = self.lost_writes[lost:] + self.duplicates[duplicates:] + self.problems[problems:]
        assert self.races > races
        assert not failures, self.line() + "\n" + "\n".join(failures)


PROOF = Proof()


@pytest.fixture(scope="module", autouse=True)
def figure():
    yield
    if PROOF.races:
        report(PROOF.line())


@pytest.fixture
def world(require_postgresql, patient, patient_user, prescriber, therapist):
    med = rx.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="every morning",
        reason="Low mood most days",
    )
    return {
        "patient": patient,
        "patient_user": patient_user,
        "prescriber": prescriber,
        "therapist": therapist,
        "med": med,
    }


def tab(user) -> Client:
    """A browser tab signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


def same_browser(client: Client) -> Client:
    """A second tab of the same browser: the same session cookie."""
    twin = Client()
    twin.cookies.load(client.cookies)
    return twin


def at_once(*sends):
    """Call each `send` in its own thread, all released together; their answers, in order.

    A server error in any thread fails the test with that error.
    """
    barrier = threading.Barrier(len(sends))
    answers: list = [None] * len(sends)

    def run(index, send):
        try:
            barrier.wait(timeout=30)
            answers[index] = send()
        except Exception as error:  # noqa: BLE001 - re-raised below, in the test's thread
            answers[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, send)) for i, send in enumerate(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for answer in answers:
        if isinstance(answer, BaseException):
            raise AssertionError(f"a request failed with {answer!r}") from answer
        assert answer is not None, "a request did not finish"
        assert answer.status_code < 500, answer.status_code
    return answers


def _text(response) -> str:
    return response.content.decode()


def edit_race(
    name,
    sends,
    *,
    typed,
    stored,
    messages,
    expect=None,
    page=True,
    conflict_status=409,
    saved=None,
):
    """Two edits of one record at once.

    `typed[i]` is what person i typed, `expect[i]` what `stored()` returns if i's edit wins
    (default: `typed[i]`), `messages[i]` the message i reads if the other one wins. On a page
    the refused person also sees what they typed and what the winner wrote.
    """
    PROOF.races += 1
    expect = expect or typed
    responses = at_once(*sends)
    refused = [
        i
        for i, r in enumerate(responses)
        if r.status_code == conflict_status and messages[i] in _text(r)
    ]
    won = [
        i
        for i, r in enumerate(responses)
        if i not in refused and (saved(r) if saved else r.status_code in (200, 201, 302))
    ]
    codes = [r.status_code for r in responses]
    if len(won) != 1 or len(refused) != 1:
        # Both "saved" means one of them was overwritten without a word.
        where = PROOF.lost_writes if len(won) > 1 else PROOF.problems
        where.append(f"{name}: expected one saved and one refused, got {codes}")
        return
    winner, loser = won[0], refused[0]
    now = stored()
    if now != expect[winner]:
        PROOF.lost_writes.append(
            f"{name}: stored {now!r}; the edit that won was {expect[winner]!r}"
        )
    if page:
        body = _text(responses[loser])
        missing = [t for t in (escape(typed[loser]), escape(typed[winner])) if t not in body]
        if missing:
            PROOF.problems.append(
                f"{name}: the refused person's page does not show {missing} "
                "(their own words back, and the record as it is now)"
            )


def twice(name, client, send, *, count, refused_says=()):
    """`send(tab)` from two tabs of `client`'s browser at once (a double click):
    `count()` rows afterwards must be exactly one.

    Each answer is a success, or a refusal that says plainly one of `refused_says`.
    """
    PROOF.races += 1
    tabs = [client, same_browser(client)]
    responses = at_once(*[lambda one=one: send(one) for one in tabs])
    rows = count()
    if rows != 1:
        PROOF.duplicates.append(f"{name}: {rows} rows from one form sent twice")
    for response in responses:
        ok = response.status_code in (200, 201, 302)
        plain = any(words in _text(response) for words in refused_says)
        if not ok and not plain:
            PROOF.problems.append(f"{name}: answered {response.status_code}")


# --- Simultaneous edits through the pages -----------------------------------------------------


def test_simultaneous_edits_through_the_pages_keep_one_and_tell_the_other(world):
    start = PROOF.mark()
    patient, patient_user = world["patient"], world["patient_user"]
    prescriber, therapist, med = world["prescriber"], world["therapist"], world["med"]

    # A goal the prescriber proposed: the patient and the prescriber may both still reword it.
    goal = stories.goal_create(actor=prescriber, patient=patient, what="Walk after lunch")
    url = reverse("goal_edit", args=[goal.uuid])
    typed = ["Walk after lunch, three days a week", "Walk after lunch with my sister"]
    a, b = tab(patient_user), tab(prescriber)
    edit_race(
        "goal, patient and prescriber",
        [
            lambda: a.post(url, {"what": typed[0], "version": 1}),
            lambda: b.post(url, {"what": typed[1], "version": 1}),
        ],
        typed=typed,
        expect=[(t, 2, 1) for t in typed],
        stored=lambda: (
            Goal.objects.get(pk=goal.pk).what,
            Goal.objects.get(pk=goal.pk).version,
            GoalRevision.objects.filter(goal=goal, what="Walk after lunch").count(),
        ),
        messages=["This goal was changed by someone else"] * 2,
    )

    note = stories.note_create(
        actor=prescriber, patient=patient, kind="clinician", audience="care_team", body="Tired."
    )
    url = reverse("note_edit", args=[note.uuid])
    typed = ["Tired; sleeping five hours.", "Tired since the dose went up."]
    a = tab(prescriber)
    b = same_browser(a)
    form = {"kind": "clinician", "audience": "care_team", "title": "", "version": 1}
    edit_race(
        "note, two tabs of its author",
        [
            lambda: a.post(url, {**form, "body": typed[0]}),
            lambda: b.post(url, {**form, "body": typed[1]}),
        ],
        typed=typed,
        stored=lambda: NarrativeNote.objects.get(pk=note.pk).body,
        messages=["This note was changed elsewhere"] * 2,
    )

    # The first summary, written by two clinicians at once: one of them creates it.
    url = reverse("summary_edit", args=[patient.uuid])
    typed = ["Dan fixes bicycles and loves his dog.", "Dan coaches his niece's football team."]
    a, b = tab(prescriber), tab(therapist)
    edit_race(
        "first summary, prescriber and therapist",
        [
            lambda: a.post(url, {"text": typed[0], "version": 0}),
            lambda: b.post(url, {"text": typed[1], "version": 0}),
        ],
        typed=typed,
        stored=lambda: PersonSummary.objects.get(patient=patient).text,
        messages=["Nothing was overwritten"] * 2,
    )
    summary = PersonSummary.objects.get(patient=patient)
    typed = ["Dan fixes bicycles; his dog is called Biscuit.", "Dan coaches football on Sundays."]
    edit_race(
        "summary, prescriber and therapist",
        [
            lambda: a.post(url, {"text": typed[0], "version": summary.version}),
            lambda: b.post(url, {"text": typed[1], "version": summary.version}),
        ],
        typed=typed,
        stored=lambda: PersonSummary.objects.get(patient=patient).text,
        messages=["Someone else changed this summary"] * 2,
    )

    # The patient answers the summary while the prescriber rewrites it.
    summary = PersonSummary.objects.get(patient=patient)
    typed = ["Yes, and I am learning to cook.", "Dan fixes bicycles and is learning to cook."]
    a, b = tab(patient_user), tab(prescriber)
    edit_race(
        "summary, the patient's response and the prescriber's rewrite",
        [
            lambda: a.post(
                reverse("summary_respond", args=[patient.uuid]),
                {"response": typed[0], "version": summary.version},
            ),
            lambda: b.post(url, {"text": typed[1], "version": summary.version}),
        ],
        typed=typed,
        expect=[(summary.text, typed[0]), (typed[1], "")],
        stored=lambda: tuple(
            PersonSummary.objects.filter(patient=patient).values_list("text", "patient_response")[0]
        ),
        messages=[
            "The summary changed while you were writing",
            "Someone else changed this summary",
        ],
    )

    # What the medicine is for, in the patient's words: the patient and the prescriber at once.
    url = reverse("medication_purpose", args=[med.uuid])
    typed = ["So I can get up in the morning", "To lift his mood so he can work again"]
    a, b = tab(patient_user), tab(prescriber)
    edit_race(
        "medication purpose, patient and prescriber",
        [
            lambda: a.post(url, {"purpose": typed[0], "version": med.version}),
            lambda: b.post(url, {"purpose": typed[1], "version": med.version}),
        ],
        typed=typed,
        stored=lambda: Medication.objects.get(pk=med.pk).purpose,
        messages=["This medication was changed by someone else"] * 2,
    )

    # Two decisions about one medicine from two tabs: a dose change and a pause.
    med = rx.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Lithium",
        not_coded=True,  # not in the formulary: free text
        schedule="none",
        strength="300 mg",
        form="tablet",
        dose="1 tablet",
        directions="twice a day",
        reason="Mood swings",
    )
    url = reverse("medication_decide", args=[med.uuid])
    typed = ["Partial response after six weeks", "Travelling without supplies for a week"]
    a = tab(prescriber)
    b = same_browser(a)
    edit_race(
        "medication decision, two tabs",
        [
            lambda: a.post(
                url,
                {
                    "kind": "dose_change",
                    "strength": "100 mg",
                    "reason": typed[0],
                    "version": 1,
                    "decided_together": "yes",
                },
            ),
            lambda: b.post(
                url, {"kind": "paused", "reason": typed[1], "version": 1, "decided_together": "no"}
            ),
        ],
        typed=typed,
        stored=lambda: " | ".join(
            DecisionRecord.objects.filter(medication=med)
            .exclude(kind__in=["start", "purpose"])
            .values_list("reason", flat=True)
        ),
        messages=["This medication was changed by someone else"] * 2,
    )

    # The same on the visit screen, through htmx: its partial answers 200 with the message.
    med.refresh_from_db()
    before = DecisionRecord.objects.filter(medication=med).count()
    url = reverse("visit_action", args=[patient.uuid])
    typed = ["Nausea in the mornings since the change", "He prefers to stop and think"]
    a = tab(prescriber)
    b = same_browser(a)
    common = {
        "action": "decision",
        "medication": med.uuid,
        "version": med.version,
        "decided_together": "yes",
        **factories.WHOSE_NEED_POST,
    }
    new_status = "paused" if med.status == "active" else "active"
    edit_race(
        "medication decision on the visit screen, two tabs",
        [
            lambda: a.post(
                url,
                {**common, "status": "dose_change", "dose": "2 tablets", "reason": typed[0]},
                HTTP_HX_REQUEST="true",
            ),
            lambda: b.post(
                url, {**common, "status": new_status, "reason": typed[1]}, HTTP_HX_REQUEST="true"
            ),
        ],
        typed=typed,
        stored=lambda: " | ".join(
            DecisionRecord.objects.filter(medication=med)
            .order_by("id")[before:]
            .values_list("reason", flat=True)
        ),
        messages=["This medication was changed by someone else"] * 2,
        conflict_status=200,
        saved=lambda r: "Recorded." in _text(r),
    )
    PROOF.check(start)


# --- Simultaneous edits through the API -------------------------------------------------------


def test_simultaneous_edits_through_the_api_answer_409_to_one(world):
    start = PROOF.mark()
    patient, patient_user = world["patient"], world["patient_user"]
    prescriber, therapist, med = world["prescriber"], world["therapist"], world["med"]
    api = {"content_type": "application/json"}

    goal = stories.goal_create(actor=prescriber, patient=patient, what="Call my brother")
    url = reverse("api_goal_detail", args=[goal.uuid])
    typed = ["Call my brother on Sundays", "Call his brother once a week"]
    a, b = tab(patient_user), tab(prescriber)
    edit_race(
        "goal, patient and prescriber",
        [
            lambda: a.patch(url, {"what": typed[0], "version": 1}, **api),
            lambda: b.patch(url, {"what": typed[1], "version": 1}, **api),
        ],
        typed=typed,
        stored=lambda: Goal.objects.get(pk=goal.pk).what,
        messages=["This goal was changed by someone else"] * 2,
        page=False,
    )

    # The patient's phone (the API) and laptop (the page) at once.
    goal = stories.goal_create(actor=patient_user, patient=patient, what="Swim")
    typed = ["Swim on Tuesdays", "Swim twice a week"]
    phone, laptop = tab(patient_user), tab(patient_user)
    edit_race(
        "goal, the patient's phone and laptop",
        [
            lambda: phone.patch(
                reverse("api_goal_detail", args=[goal.uuid]),
                {"what": typed[0], "version": 1},
                **api,
            ),
            lambda: laptop.post(
                reverse("goal_edit", args=[goal.uuid]), {"what": typed[1], "version": 1}
            ),
        ],
        typed=typed,
        stored=lambda: Goal.objects.get(pk=goal.pk).what,
        messages=["This goal was changed by someone else"] * 2,
        page=False,
    )

    status_url = reverse("api_goal_status", args=[goal.uuid])
    goal.refresh_from_db()
    edit_race(
        "goal status, two tabs",
        [
            lambda: phone.post(status_url, {"status": "achieved", "version": goal.version}, **api),
            lambda: laptop.post(status_url, {"status": "on_hold", "version": goal.version}, **api),
        ],
        typed=["achieved", "on_hold"],
        stored=lambda: Goal.objects.get(pk=goal.pk).status,
        messages=["This goal was changed by someone else"] * 2,
        page=False,
    )

    note = stories.note_create(
        actor=therapist, patient=patient, kind="clinician", audience="care_team", body="Calm."
    )
    url = reverse("api_note_detail", args=[note.uuid])
    typed = ["Calm; talked about work.", "Calm, less guarded than last week."]
    a = tab(therapist)
    b = same_browser(a)
    edit_race(
        "note, two tabs of its author",
        [
            lambda: a.patch(url, {"body": typed[0], "version": 1}, **api),
            lambda: b.patch(url, {"body": typed[1], "version": 1}, **api),
        ],
        typed=typed,
        stored=lambda: NarrativeNote.objects.get(pk=note.pk).body,
        messages=["This note was changed elsewhere"] * 2,
        page=False,
    )

    url = reverse("api_summary", args=[patient.uuid])
    typed = ["Dan restores old radios.", "Dan walks his dog at dawn."]
    a, b = tab(prescriber), tab(therapist)
    edit_race(
        "first summary, prescriber and therapist",
        [
            lambda: a.put(url, {"text": typed[0]}, **api),
            lambda: b.put(url, {"text": typed[1]}, **api),
        ],
        typed=typed,
        stored=lambda: PersonSummary.objects.get(patient=patient).text,
        messages=["Nothing was overwritten"] * 2,
        page=False,
    )
    summary = PersonSummary.objects.get(patient=patient)
    typed = ["I fix radios for friends too.", "Dan restores old radios and walks his dog."]
    patient_tab = tab(patient_user)
    edit_race(
        "summary, the patient's response and the prescriber's rewrite",
        [
            lambda: patient_tab.post(
                reverse("api_summary_response", args=[patient.uuid]),
                {"response": typed[0], "version": summary.version},
                **api,
            ),
            lambda: a.put(url, {"text": typed[1], "version": summary.version}, **api),
        ],
        typed=typed,
        expect=[(summary.text, typed[0]), (typed[1], "")],
        stored=lambda: tuple(
            PersonSummary.objects.filter(patient=patient).values_list("text", "patient_response")[0]
        ),
        messages=[
            "The summary changed while you were writing",
            "Someone else changed this summary",
        ],
        page=False,
    )

    url = reverse("api_medication_decisions", args=[med.uuid])
    typed = ["Partial response", "Wants a break over the holidays"]
    a = tab(prescriber)
    b = same_browser(a)
    edit_race(
        "medication decision, two tabs",
        [
            lambda: a.post(
                url,
                {
                    "kind": "dose_change",
                    "strength": "100 mg",
                    "reason": typed[0],
                    "version": 1,
                    "decided_together": True,
                    **factories.WHOSE_NEED,
                },
                **api,
            ),
            lambda: b.post(
                url,
                {"kind": "paused", "reason": typed[1], "version": 1, "decided_together": False},
                **api,
            ),
        ],
        typed=typed,
        stored=lambda: " | ".join(
            DecisionRecord.objects.filter(medication=med)
            .exclude(kind="start")
            .values_list("reason", flat=True)
        ),
        messages=["This medication was changed by someone else"] * 2,
        page=False,
    )
    PROOF.check(start)


# --- The same form sent twice at once --------------------------------------------------------


def test_a_form_sent_twice_at_once_makes_one_record(world, time_machine):
    start = PROOF.mark()
    patient, patient_user = world["patient"], world["patient_user"]
    prescriber, therapist, med = world["prescriber"], world["therapist"], world["med"]
    today = timezone.localdate()
    me, doc, ther = tab(patient_user), tab(prescriber), tab(therapist)

    what = "Cook dinner twice a week"
    twice(
        "goal",
        me,
        lambda one: one.post(reverse("goal_create", args=[patient.uuid]), {"what": what}),
        count=lambda: Goal.objects.filter(what=what).count(),
    )
    goal = Goal.objects.filter(what=what).first()
    twice(
        "goal rating",
        me,
        lambda one: one.post(
            reverse("goal_rate", args=[goal.uuid]), {"rating": "1", "note": "Twice!"}
        ),
        count=lambda: GoalRating.objects.filter(goal=goal).count(),
    )
    body = "Talked about his sister's wedding."
    twice(
        "note",
        doc,
        lambda one: one.post(
            reverse("note_create", args=[patient.uuid]),
            {"kind": "clinician", "audience": "care_team", "body": body},
        ),
        count=lambda: NarrativeNote.objects.filter(body=body).count(),
    )
    # The prescriber reads the therapist's posts under a release (a post no one of the other
    # practice could read is refused).
    referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=therapist,
        recipient=prescriber,
        categories=["observations"],
        purpose="So my therapist can tell my prescriber what she notices.",
        expires_on=timezone.localdate() + timedelta(days=30),
        signed_name=f"{patient.given_name} {patient.family_name}",
    )
    text = "He said he skips the evening dose at weekends."
    twice(
        "thread post",
        ther,
        lambda one: one.post(
            reverse("thread", args=[patient.uuid]), {"kind": "adherence", "text": text}
        ),
        count=lambda: ThreadPost.objects.filter(text=text).count(),
    )
    text = "Headache in the afternoons"
    twice(
        "observation",
        me,
        lambda one: one.post(
            reverse("observation_create", args=[med.uuid]),
            {"kind": "side_effect", "severity": "mild", "text": text, "observed_on": today},
        ),
        count=lambda: Observation.objects.filter(text=text).count(),
    )
    twice(
        "medication",
        doc,
        lambda one: one.post(
            reverse("medication_new", args=[patient.uuid]),
            {
                "drug_name": "Prazosin",
                "strength": "1 mg",
                "form": "capsule",
                "route": "by mouth",
                "dose": "1 capsule",
                "directions": "at bedtime",
                "schedule": "none",
                "reason": "Nightmares",
                "decided_together": "yes",
                **factories.WHOSE_NEED_POST,
            },
        ),
        count=lambda: Medication.objects.filter(drug_name="Prazosin").count(),
    )
    twice(
        "prescription",
        doc,
        lambda one: one.post(
            reverse("prescription_create", args=[med.uuid]),
            {"quantity": 30, "days_supply": 30, "refills_authorised": 2, "written_on": today},
        ),
        count=lambda: Prescription.objects.filter(medication=med).count(),
    )
    prescription = Prescription.objects.filter(medication=med).first()
    twice(
        "fill",
        doc,
        lambda one: one.post(
            reverse("fill_create", args=[med.uuid]),
            {"prescription": prescription.uuid, "filled_on": today},
        ),
        count=lambda: Fill.objects.filter(prescription=prescription).count(),
    )
    twice(
        "refill request",
        me,
        lambda one: one.post(reverse("refill_request", args=[med.uuid]), {"note": "Running low"}),
        count=lambda: RefillRequest.objects.filter(medication=med).count(),
        # The second tab learns that the request is in: from the service's refusal, or from
        # the page, which shows the open request in place of the form.
        refused_says=["already open", "You asked on"],
    )
    alliance.install_shipped()
    instrument = next(i for i in alliance_selectors.instruments_offered() if i.key == "gad-7")
    twice(
        "check-in start",
        me,
        lambda one: one.post(
            reverse("check_in_start", args=[patient.uuid]), {"instrument": instrument.pk}
        ),
        count=lambda: CheckIn.objects.filter(patient=patient, instrument=instrument).count(),
    )
    check_in = CheckIn.objects.get(patient=patient, instrument=instrument)
    definition = instrument.definition
    answers = {item["id"]: scoring.item_values(definition, item)[1] for item in definition["items"]}
    twice(
        "check-in submit",
        me,
        lambda one: one.post(
            reverse("check_in", args=[check_in.uuid]), {**answers, "action": "submit"}
        ),
        count=lambda: CheckIn.objects.filter(patient=patient, status="submitted").count(),
    )
    twice(
        "consultation",
        ther,
        lambda one: one.post(
            reverse("consultation_create", args=[patient.uuid]),
            {
                "issues": "He feels rushed",
                "actions": "Longer visits",
                "held_on": today,
                "audience": "clinicians",
            },
        ),
        count=lambda: Consultation.objects.filter(patient=patient).count(),
    )
    twice(
        "referral",
        ther,
        lambda one: one.post(
            reverse("patient_referrals", args=[patient.uuid]),
            {
                "to_clinician": prescriber.uuid,
                "reason": "Sleep has not improved",
                "urgency": "soon",
            },
        ),
        count=lambda: Referral.objects.filter(patient=patient).count(),
    )
    twice(
        "release of information",
        me,
        lambda one: one.post(
            reverse("release_new", args=[patient.uuid]),
            {
                "discloser": prescriber.uuid,
                "recipient": therapist.uuid,
                "mutual": "on",
                "categories": ["medications"],
                "purpose": "So they can treat me together.",
                "expires_on": today + timedelta(days=90),
                "signed_name": f"{patient.given_name} {patient.family_name}",
            },
        ),
        count=lambda: Release.objects.filter(
            patient=patient, purpose="So they can treat me together."
        ).count(),
    )

    # The same words again later are a new entry, not a double click.
    time_machine.move_to(timezone.now() + timedelta(minutes=3))
    doc.post(
        reverse("note_create", args=[patient.uuid]),
        {"kind": "clinician", "audience": "care_team", "body": body},
    )
    assert NarrativeNote.objects.filter(body=body).count() == 2

    api = {"content_type": "application/json"}
    what = "Read before bed"
    twice(
        "goal (API)",
        me,
        lambda one: one.post(reverse("api_goal_list", args=[patient.uuid]), {"what": what}, **api),
        count=lambda: Goal.objects.filter(what=what).count(),
    )
    body = "Phone call: feels steadier."
    twice(
        "note (API)",
        doc,
        lambda one: one.post(
            reverse("api_note_list", args=[patient.uuid]),
            {"kind": "clinician", "audience": "care_team", "body": body},
            **api,
        ),
        count=lambda: NarrativeNote.objects.filter(body=body).count(),
    )
    text = "Dry mouth"
    twice(
        "observation (API)",
        me,
        lambda one: one.post(
            reverse("api_observations", args=[med.uuid]),
            {"kind": "side_effect", "text": text},
            **api,
        ),
        count=lambda: Observation.objects.filter(text=text).count(),
    )
    PROOF.check(start)
