"""One refill state per medicine, from the newest request: the patient's home, Medicines page,
medicine page and PDF say the same thing, offer "Ask" only when asking makes sense, and never
on a clinician's page. Notifications say what the answer was."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from core.models import Notification
from prescribing import services
from prescribing.models import Medication, RefillRequest
from prescribing.selectors import refill_prompt
from prescribing.supply import RefillAnswer, SupplyStatus

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
FILLED = SupplyStatus(
    has_supply=True,
    run_out=date(2026, 3, 31),
    needed_by=date(2026, 3, 24),
    refills_left=2,
    answer=RefillAnswer(True, False, "A refill can be requested."),
    lead_days=7,
    last_fill_on=date(2026, 3, 1),
)


def _request(status, asked=datetime(2026, 3, 20, 9, tzinfo=NY), **fields):
    return RefillRequest(status=status, requested_at=asked, **fields)


ACTIVE = Medication.Status.ACTIVE


@pytest.mark.parametrize(
    "last, state, words, can_ask",
    [
        (None, "ask_by", "Ask for more by Mar 24, 2026.", True),
        (_request("requested"), "requested", "Refill requested on Mar 20, 2026", False),
        (_request("approved"), "approved", "Refill approved: being sent to the pharmacy.", False),
        (
            _request("sent", sent_at=datetime(2026, 3, 21, 15, tzinfo=NY)),
            "sent",
            "Sent to the pharmacy on Mar 21, 2026.",
            False,
        ),
        (
            _request("declined", decision_reason="Let's talk about the dose first"),
            "declined",
            "declined. Your prescriber wrote: “Let's talk about the dose first”",
            True,
        ),
        (_request("needs_visit"), "needs_visit", "please book a visit", False),
    ],
)
def test_every_request_state_says_what_happened(last, state, words, can_ask):
    prompt = refill_prompt(status=ACTIVE, supply_status=FILLED, last=last)
    assert (prompt.state, prompt.can_ask) == (state, can_ask)
    assert words in prompt.text


def test_a_closed_request_is_history_once_a_fill_is_recorded_after_its_answer():
    sent = _request("sent", sent_at=datetime(2026, 3, 21, 15, tzinfo=NY))
    before = datetime(2026, 3, 21, 14, tzinfo=NY)
    after = datetime(2026, 3, 22, 11, tzinfo=NY)
    prompt = refill_prompt(status=ACTIVE, supply_status=FILLED, last=sent, last_fill_at=before)
    assert prompt.state == "sent"
    prompt = refill_prompt(status=ACTIVE, supply_status=FILLED, last=sent, last_fill_at=after)
    assert (prompt.state, prompt.can_ask) == ("ask_by", True)


def test_an_open_request_stays_whatever_was_filled():
    asked = _request("requested")
    later = datetime(2026, 3, 25, 9, tzinfo=NY)
    prompt = refill_prompt(status=ACTIVE, supply_status=FILLED, last=asked, last_fill_at=later)
    assert prompt.state == "requested"


def test_past_the_ask_by_date_it_says_ask_now():
    late = SupplyStatus(**{**FILLED.__dict__, "is_late": True})
    prompt = refill_prompt(status=ACTIVE, supply_status=late, last=None)
    assert prompt.text == "Ask now: the date to ask by, Mar 24, 2026, has passed."
    assert prompt.can_ask


def test_no_refills_left_asks_for_a_renewal():
    renewal = SupplyStatus(
        **{**FILLED.__dict__, "answer": RefillAnswer(False, True, "No refills remain.")}
    )
    prompt = refill_prompt(status=ACTIVE, supply_status=renewal, last=None)
    assert (prompt.state, prompt.ask_label, prompt.text) == (
        "renewal",
        "Ask for a renewal",
        "No refills remain.",
    )


def test_never_filled_or_not_taken_now_offers_no_refill():
    never = SupplyStatus(has_supply=False)
    assert not refill_prompt(status=ACTIVE, supply_status=never, last=None).can_ask
    paused = refill_prompt(status=Medication.Status.PAUSED, supply_status=FILLED, last=None)
    assert (paused.state, paused.can_ask) == ("not_active", False)


@pytest.fixture
def filled(patient, prescriber, time_machine):
    time_machine.move_to("2026-03-01 10:00")
    med = services.medication_start(
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
        directions="each morning",
        reason="Low mood",
        decided_together=True,
    )
    rx = services.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=2
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
    return med


def _pages(client, patient, medication):
    urls = [
        reverse("patient_home"),
        reverse("medications", args=[patient.uuid]),
        reverse("medication_detail", args=[medication.uuid]),
    ]
    return [client.get(url).content.decode() for url in urls]


def test_the_patients_pages_and_pdf_agree_on_one_state(
    client,
    patient,
    patient_user,
    prescriber,
    filled,
    time_machine,
    django_capture_on_commit_callbacks,
):
    from pypdf import PdfReader

    ask = reverse("refill_request", args=[filled.uuid])
    client.force_login(patient_user)
    for page in _pages(client, patient, filled):
        assert "Ask for more by Mar 24, 2026." in page
        assert f'href="{ask}"' in page
    request = services.refill_request_create(actor=patient_user, medication=filled)
    with django_capture_on_commit_callbacks(execute=True):
        services.refill_request_decide(
            actor=prescriber, request=request, status="declined", reason="Book a visit first"
        )
    assert Notification.objects.get(recipient=patient_user).title == (
        "Your refill request was declined: read why"
    )
    for page in _pages(client, patient, filled):
        assert "Your request of Mar 1, 2026 was declined." in page
        assert "“Book a visit first”" in page
        assert "Ask for more by" not in page
    response = client.get(reverse("medications_pdf", args=[patient.uuid]))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Your request of Mar 1, 2026 was declined." in " ".join(text.split())


def test_a_medicine_never_filled_offers_no_refill(client, patient, patient_user, prescriber):
    med = services.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Melatonin",
        not_coded=True,  # not in the formulary: free text
        schedule="none",
        strength="3 mg",
        form="tablet",
        dose="1",
        directions="at night",
        reason="Sleep",
        decided_together=True,
    )
    client.force_login(patient_user)
    for page in _pages(client, patient, med):
        assert reverse("refill_request", args=[med.uuid]) not in page


def test_a_clinicians_medicine_page_never_offers_to_ask(client, patient, prescriber, filled):
    client.force_login(prescriber)
    page = client.get(reverse("medication_detail", args=[filled.uuid])).content.decode()
    assert reverse("refill_request", args=[filled.uuid]) not in page
    assert "Ask for a refill" not in page
