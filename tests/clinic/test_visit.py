"""The visit screen, the therapist's shared view, the prescriber's day and the FHIR export."""

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance import selectors as alliance_selectors
from alliance import services as alliance
from prescribing import services as rx
from prescribing.models import Observation, RefillRequest
from referrals import services as referrals
from stories import services as stories
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(patient, patient_user, prescriber, therapist):
    """A week of care: a goal, a medicine with purpose, a release, an observation, a check-in, a refill."""
    alliance.install_shipped()
    goal = stories.goal_create(actor=patient_user, patient=patient, what="Sleep through the night")
    stories.goal_rate(actor=patient_user, goal=goal, rating=1)
    stories.summary_save(
        actor=prescriber, patient=patient, text="Dan builds furniture.", version=None
    )
    med = rx.medication_start(
        needs=["patient_goals"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="each morning",
        purpose="To feel less on guard",
        goal_uuids=[goal.uuid],
        reason="agreed",
    )
    prescription = rx.prescription_write(
        actor=prescriber,
        medication=med,
        quantity=30,
        days_supply=30,
        refills_authorised=2,
        written_on=date.today() - timedelta(days=25),
    )
    rx.fill_record(
        actor=prescriber, prescription=prescription, filled_on=date.today() - timedelta(days=25)
    )
    referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        categories=["medications", "observations"],
        purpose="Team care",
        expires_on=date.today() + timedelta(days=60),
        signed_name="Daniel Brooks",
    )
    referrals.thread_post(
        actor=therapist,
        patient=patient,
        kind="adherence",
        text="Missed doses on weekends",
        medication_uuid=med.uuid,
        medication_name="Sertraline 50 mg",
    )
    rx.observation_create(
        actor=patient_user, medication=med, kind="response", text="Sleeping better"
    )
    instrument = next(
        i for i in alliance_selectors.instruments_offered() if i.key == "concord-alliance"
    )
    check_in = alliance.check_in_start(
        actor=patient_user, patient=patient, instrument=instrument, clinician=prescriber
    )
    alliance.check_in_submit(
        actor=patient_user, check_in=check_in, answers={"bond": 9, "goals": 8, "tasks": 8, "fit": 9}
    )
    refill = rx.refill_request_create(actor=patient_user, medication=med, note="Away next week")
    return {"goal": goal, "med": med, "refill": refill, "instrument": instrument}


def test_visit_screen_shows_the_week(client, history, prescriber, patient):
    client.force_login(prescriber)
    page = client.get(reverse("visit", args=[patient.uuid])).content.decode()
    for text in (
        "Dan builds furniture.",  # the summary first
        "Sleep through the night",  # goals
        "“To feel less on guard”",  # purpose in the patient's words
        "Missed doses on weekends",  # what the therapist shared
        "Sleeping better",  # an observation since the last visit
        "Away next week",  # the pending refill
        '<svg class="chart"',  # the alliance trend for this relationship
    ):
        assert text in page, text


def test_record_without_leaving_the_screen(client, history, prescriber, patient):
    client.force_login(prescriber)
    url = reverse("visit_action", args=[patient.uuid])
    part = client.post(
        url,
        {
            "action": "observation",
            "medication": history["med"].uuid,
            "kind": "side_effect",
            "text": "Vivid dreams",
        },
        HTTP_HX_REQUEST="true",
    )
    assert part.content.decode().lstrip().startswith('<div id="now">')
    assert "Recorded." in part.content.decode()
    assert Observation.objects.filter(text="Vivid dreams", author=prescriber).exists()
    client.post(
        url,
        {"action": "refill", "request": history["refill"].uuid, "status": "approved"},
        HTTP_HX_REQUEST="true",
    )
    history["refill"].refresh_from_db()
    assert history["refill"].status == "approved"
    refused = client.post(
        url,
        {
            "action": "decision",
            "medication": history["med"].uuid,
            "status": "paused",
            "version": 99,
            "reason": "x",
            "decided_together": "yes",
        },
        HTTP_HX_REQUEST="true",
    )
    assert "changed by someone else" in refused.content.decode()


def test_visit_screen_query_count_does_not_grow_with_history(
    client, history, prescriber, patient, patient_user
):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("visit", args=[patient.uuid])).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(prescriber)
    client.get(reverse("visit", args=[patient.uuid]))
    few = count()
    # The screen's budget: 36 before visits, and visits' two (the last, next and missed
    # visit in one; the clinician's cadence in the other).
    assert few <= 38
    med, goal, instrument = history["med"], history["goal"], history["instrument"]
    Observation.objects.bulk_create(
        [
            Observation(
                medication=med, patient=patient, author=patient_user, kind="response", text=f"o{i}"
            )
            for i in range(200)
        ]
    )
    for i in range(100):
        stories.goal_rate(actor=patient_user, goal=goal, rating=i % 3 - 1)
    for i in range(50):
        rx.medication_change_dose(
            actor=prescriber,
            medication=med,
            version=med.version + i,
            dose=f"{i % 3 + 1} tablets",
            reason="r",
            **factories.WHOSE_NEED,
        )
    for _ in range(150):
        check_in = alliance.check_in_start(
            actor=patient_user, patient=patient, instrument=instrument, clinician=prescriber
        )
        alliance.check_in_submit(
            actor=patient_user,
            check_in=check_in,
            answers={"bond": 9, "goals": 9, "tasks": 9, "fit": 9},
        )
    assert count() == few
    assert few <= VISIT_QUERIES


# What the visit screen reads (as a test counts them: audit rows one by one, in the test's
# transaction): the session, the user, the patient, its care team (the decision's
# memberships and the team shown), the releases naming the actor, the last look; the open
# goals and their newest ratings; the supply policies, the current medicines and their goals,
# last decisions, recent observations, prescriptions, fills and refill requests; the
# check-ins, their instruments, the open flags; the posts shared since, the patient's
# releases and those the actor may read; the summary; the referrals; the safety plan; the
# header's notices; and the audit rows. Then the visits around today (the last attended, the
# next, any missed since: two) and the goals each medicine's decisions served (one).
VISIT_QUERIES = 36


def test_the_visit_screen_shows_the_same_of_a_long_history_as_it_reads_of_it(
    client, history, prescriber, patient, patient_user
):
    """The visit screen reads only what it shows of each history (the last clinical decision,
    the ratings its progress line draws, the check-ins its chart draws): what it shows is
    the newest of each, whatever came before."""
    med, goal, instrument = history["med"], history["goal"], history["instrument"]
    for i in range(3):
        rx.medication_change_dose(
            actor=prescriber,
            medication=med,
            version=med.version + i,
            dose=f"{i + 2} tablets",
            reason=f"change {i}",
            **factories.WHOSE_NEED,
        )
    med.refresh_from_db()
    # A rewording of what the medicine is for, after them, is not the last decision.
    rx.medication_set_purpose(
        actor=prescriber, medication=med, version=med.version, purpose="To feel at ease"
    )
    ratings = [(-2, -1, 0, 1, 2)[i % 5] for i in range(30)]
    for rating in ratings:
        stories.goal_rate(actor=patient_user, goal=goal, rating=rating)
    for score in range(30):
        check_in = alliance.check_in_start(
            actor=patient_user, patient=patient, instrument=instrument, clinician=prescriber
        )
        alliance.check_in_submit(
            actor=patient_user,
            check_in=check_in,
            answers={"bond": score % 10 + 1, "goals": 5, "tasks": 5, "fit": 5},
        )
    client.force_login(prescriber)
    page = client.get(reverse("visit", args=[patient.uuid])).content.decode()
    assert "Why: change 2" in page
    assert "change 1" not in page
    signed = {-2: "−2", -1: "−1", 0: "0", 1: "+1", 2: "+2"}
    newest = ", ".join(signed[r] for r in ratings[-12:])
    assert f'aria-label="Progress ratings, oldest to newest: {newest}"' in page
    chart = page.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<circle") == 20  # the chart's newest 20 of 31 check-ins


def test_shared_view_shows_changes_since_last_look(client, history, therapist, prescriber, patient):
    client.force_login(therapist)
    first = client.get(reverse("shared", args=[patient.uuid])).content.decode()
    assert "Sertraline" in first
    rx.medication_change_dose(
        actor=prescriber,
        medication=history["med"],
        version=history["med"].version,
        strength="100 mg",
        reason="partial response",
        **factories.WHOSE_NEED,
    )
    again = client.get(reverse("shared", args=[patient.uuid])).content.decode()
    assert "50 mg → 100 mg" in again


def test_prescriber_day(client, history, prescriber, patient, patient_user):
    check_in = alliance.check_in_start(
        actor=patient_user, patient=patient, instrument=history["instrument"], clinician=prescriber
    )
    alliance.check_in_submit(
        actor=patient_user, check_in=check_in, answers={"bond": 2, "goals": 2, "tasks": 2, "fit": 2}
    )
    client.force_login(prescriber)
    page = client.get(reverse("today")).content.decode()
    assert "Alliance concern" in page
    assert "Sertraline" in page  # the refill request waiting


class TestFhir:
    def test_bundle_validates_and_carries_the_week(self, client, history, patient_user, patient):
        from fhir.resources.R4B.bundle import Bundle

        client.force_login(patient_user)
        response = client.get(reverse("fhir_export", args=[patient.uuid]))
        bundle = Bundle.model_validate(json.loads(response.content))
        kinds = {e.resource.__resource_type__ for e in bundle.entry}
        assert {
            "Patient",
            "MedicationRequest",
            "MedicationDispense",
            "Goal",
            "Consent",
            "QuestionnaireResponse",
            "Observation",
        } <= kinds

    def test_therapist_without_a_release_gets_no_medication_data(
        self, client, patient, patient_user, prescriber, therapist
    ):
        from fhir.resources.R4B.bundle import Bundle

        rx.medication_start(
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
            dose="1",
            directions="bd",
            reason="r",
        )
        client.force_login(therapist)
        for url in (
            reverse("fhir_export", args=[patient.uuid]),
            reverse("api_fhir_export", args=[patient.uuid]),
        ):
            body = client.get(url).content.decode()
            Bundle.model_validate(json.loads(body))
            assert "Lithium" not in body
            assert "MedicationRequest" not in body

    def test_referral_becomes_a_service_request_and_export_is_audited(
        self, client, patient, therapist, prescriber
    ):
        from fhir.resources.R4B.bundle import Bundle

        from core.models import AuditEvent

        referrals.referral_create(
            actor=therapist,
            patient=patient,
            to_clinician=factories.PrescriberFactory(),
            reason="Nightmares",
        )
        client.force_login(therapist)
        bundle = Bundle.model_validate(
            client.get(reverse("api_fhir_export", args=[patient.uuid])).json()
        )
        assert "ServiceRequest" in {e.resource.__resource_type__ for e in bundle.entry}
        assert AuditEvent.objects.filter(
            actor=therapist, action="export", category="referrals"
        ).exists()

    def test_outsider_gets_not_found(self, client, patient):
        client.force_login(factories.TherapistFactory())
        assert client.get(reverse("fhir_export", args=[patient.uuid])).status_code == 404


def test_visit_pdf(client, history, prescriber, patient):
    import io

    from pypdf import PdfReader

    client.force_login(prescriber)
    response = client.get(reverse("visit_pdf", args=[patient.uuid]))
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split()
    )
    assert "Visit summary: Dan Brooks" in text
    assert "To feel less on guard" in text
    assert RefillRequest.objects.count() == 1


def test_visit_pdf_carries_open_safety_alerts_and_what_others_noticed(
    client, history, prescriber, patient, patient_user
):
    import io

    from pypdf import PdfReader

    from stories import services as stories_services

    phq9 = next(i for i in alliance_selectors.instruments_offered() if i.key == "phq-9")
    check_in = alliance.check_in_start(actor=patient_user, patient=patient, instrument=phq9)
    answers = {item["id"]: 0 for item in phq9.definition["items"]}
    alliance.check_in_submit(
        actor=patient_user, check_in=check_in, answers={**answers, "phq9_9": 2}
    )

    def pdf_text():
        response = client.get(reverse("visit_pdf", args=[patient.uuid]))
        pages = PdfReader(io.BytesIO(response.content)).pages
        return " ".join(" ".join(p.extract_text() for p in pages).split())

    client.force_login(prescriber)
    text = pdf_text()
    assert "Open safety alert" in text and "No safety plan yet." in text
    # The therapist's observation and the patient's own, since the prescriber last looked.
    assert "What others noticed since" in text
    assert "Missed doses on weekends" in text and "Sleeping better" in text
    stories_services.safety_plan_save(
        actor=patient_user, patient=patient, based_on=0, sections={"coping": "Walk"}
    )
    text = pdf_text()
    assert "Safety plan: version 1" in text and "No safety plan yet." not in text


def test_reloading_the_visit_screen_keeps_the_news(
    client, history, prescriber, patient, time_machine
):
    client.force_login(prescriber)
    url = reverse("visit", args=[patient.uuid])
    for _ in range(2):
        page = client.get(url).content.decode()
        assert "Sleeping better" in page and "Missed doses on weekends" in page
    client.post(
        reverse("visit_action", args=[patient.uuid]),
        {"action": "refill", "request": history["refill"].uuid, "status": "approved"},
        HTTP_HX_REQUEST="true",
    )
    assert "Sleeping better" in client.get(url).content.decode()
    time_machine.move_to(timezone.now() + timedelta(days=7))  # the next visit
    client.force_login(prescriber)  # a week later the old session has long timed out
    page = client.get(url).content.decode()
    assert "Sleeping better" not in page
    assert "Nothing new shared." in page


def test_bad_input_to_the_visit_actions_is_explained_and_changes_nothing(
    client, history, prescriber, patient
):
    client.force_login(prescriber)
    url = reverse("visit_action", args=[patient.uuid])
    med = history["med"]
    for payload in (
        {
            "action": "decision",
            "medication": med.uuid,
            "status": "paused",
            "version": "abc",
            "reason": "x",
        },
        {"action": "observation", "medication": "not-a-uuid", "kind": "response", "text": "x"},
        {"action": "refill", "request": history["refill"].uuid, "status": "nonsense"},
        {"action": "teleport"},
    ):
        response = client.post(url, payload, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, payload
        assert 'role="alert"' in response.content.decode(), payload
    med.refresh_from_db()
    assert med.status == "active"
    history["refill"].refresh_from_db()
    assert history["refill"].status == "requested"


def test_two_open_concerns_read_as_one_line_with_a_count(client, patient, patient_user, prescriber):
    """Two low alliance check-ins about the same clinician: one "Concern flagged 2 times" line
    on the visit screen, not the same words twice."""
    from alliance.models import Flag
    from tests.alliance.conftest import answer_all

    alliance.install_shipped()
    instrument = next(
        i for i in alliance_selectors.instruments_offered() if i.key == "concord-alliance"
    )
    for _ in range(2):
        check_in = alliance.check_in_start(
            actor=patient_user, patient=patient, instrument=instrument, clinician=prescriber
        )
        alliance.check_in_submit(
            actor=patient_user, check_in=check_in, answers=answer_all(instrument, 2)
        )
    assert Flag.objects.filter(kind=Flag.Kind.ALLIANCE_CONCERN).count() == 2
    client.force_login(prescriber)
    page = " ".join(client.get(reverse("visit", args=[patient.uuid])).content.decode().split())
    assert page.count("Concern flagged") == 1
    assert "Concern flagged 2 times" in page
    assert "Review them" in page
