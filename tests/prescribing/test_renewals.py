"""Schedule II fills name their prescription; a request the old prescription cannot answer is
renewed in one step (a new prescription linked to the old, the request approved), and the
patient reads "renewal requested", not a refill. Pages and API; bad input changes nothing."""

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from core.models import AuditEvent, Notification
from prescribing import selectors, services
from prescribing.models import Fill, Prescription, RefillRequest
from prescribing.selectors import refill_prompt
from prescribing.supply import RefillAnswer, SupplyStatus
from tests import factories

pytestmark = pytest.mark.django_db


def _start(prescriber, patient, name, schedule):
    return services.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name=name,
        strength="10 mg",
        form="tablet",
        dose="1 tablet",
        directions="each morning",
        schedule=schedule,
        reason="Agreed together",
    )


@pytest.fixture
def series(patient, prescriber, time_machine):
    """Methylphenidate, schedule II: three prescriptions written on 1 March, 30 days each, the
    second and third not to be filled before 31 March and 30 April."""
    time_machine.move_to("2026-03-01 10:00")
    med = _start(prescriber, patient, "Methylphenidate", "II")
    for i in range(3):
        services.prescription_write(
            actor=prescriber,
            medication=med,
            quantity=30,
            days_supply=30,
            earliest_fill_on=date(2026, 3, 1) + timedelta(days=30 * i) if i else None,
        )
    return med


def _fill_section(html: str) -> str:
    return html.split('id="fill"', 1)[1].split("</details>", 1)[0]


# --- Schedule II: "Record a fill" names its prescription ---------------------------------


def test_record_a_fill_offers_each_prescription_and_defaults_to_the_one_fillable_today(
    client, series, prescriber, time_machine
):
    client.force_login(prescriber)
    fill = _fill_section(
        client.get(reverse("medication_detail", args=[series.uuid])).content.decode()
    )
    first, second, third = series.prescriptions.order_by("created_at")
    # Each labelled with its written date, quantity and days, and its earliest-fill date.
    assert "Written Mar 1, 2026 · quantity 30, 30 days’ supply · can be filled today" in fill
    assert "not before Mar 31, 2026" in fill and "not before Apr 30, 2026" in fill
    checked = fill.split(" checked", 1)[0].rsplit("<input", 1)[1]
    assert str(first.uuid) in checked
    assert fill.count(" checked") == 1

    # Once the first is filled and its date has come, the second is the default; the filled
    # one is no longer offered (schedule II: each fill needs its own prescription).
    services.fill_record(actor=prescriber, prescription=first, filled_on=date(2026, 3, 1))
    time_machine.move_to("2026-03-31 10:00")
    client.force_login(prescriber)  # the session of a month ago has ended
    fill = _fill_section(
        client.get(reverse("medication_detail", args=[series.uuid])).content.decode()
    )
    assert str(first.uuid) not in fill
    checked = fill.split(" checked", 1)[0].rsplit("<input", 1)[1]
    assert str(second.uuid) in checked
    assert str(third.uuid) in fill


def test_a_fill_of_a_prescription_not_yet_due_is_refused_with_its_date_and_nothing_saved(
    client, series, prescriber, time_machine
):
    time_machine.move_to("2026-03-10 10:00")
    second = series.prescriptions.order_by("created_at")[1]
    client.force_login(prescriber)
    response = client.post(
        reverse("fill_create", args=[series.uuid]),
        {"prescription": str(second.uuid), "filled_on": "2026-03-10"},
    )
    assert response.status_code == 400
    assert "This prescription cannot be filled before Mar 31, 2026." in response.content.decode()
    assert not Fill.objects.exists()
    # No prescription chosen at all: said, nothing saved.
    response = client.post(reverse("fill_create", args=[series.uuid]), {"filled_on": "2026-03-10"})
    assert response.status_code == 400
    assert "Choose the prescription this fill is of." in response.content.decode()
    assert not Fill.objects.exists()


def test_the_fill_goes_to_the_prescription_chosen(client, series, prescriber):
    first = series.prescriptions.order_by("created_at")[0]
    client.force_login(prescriber)
    response = client.post(
        reverse("fill_create", args=[series.uuid]),
        {"prescription": str(first.uuid), "filled_on": "2026-03-01"},
    )
    assert response.status_code == 302
    assert list(Fill.objects.values_list("prescription", flat=True)) == [first.pk]


# --- A renewal in one step ----------------------------------------------------------------


@pytest.fixture
def ran_out(patient, patient_user, prescriber, time_machine):
    """Sertraline, one prescription without refills, filled on 1 March; on 20 March Dan asks
    for more, which only a new prescription can give."""
    time_machine.move_to("2026-03-01 10:00")
    med = _start(prescriber, patient, "Sertraline", "none")
    rx = services.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=0
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
    time_machine.move_to("2026-03-20 10:00")
    request = services.refill_request_create(actor=patient_user, medication=med)
    assert request.needs_renewal
    return med, rx, request


def test_renewal_writes_a_linked_prescription_and_approves_the_request(
    ran_out, prescriber, patient_user, time_machine, django_capture_on_commit_callbacks
):
    med, old, request = ran_out
    with django_capture_on_commit_callbacks(execute=True):
        renewed = services.refill_request_renew(
            actor=prescriber, request=request, quantity=30, days_supply=30, refills_authorised=2
        )
    new = Prescription.objects.get(renews=old)
    assert (renewed.status, renewed.renewal, renewed.decided_by) == ("approved", new, prescriber)
    assert (new.quantity, new.days_supply, new.refills_authorised) == (30, 30, 2)
    assert AuditEvent.objects.filter(
        actor=prescriber, action="create", object_type="prescribing.Prescription"
    ).exists()
    assert AuditEvent.objects.filter(
        actor=prescriber, action="update", object_type="prescribing.RefillRequest"
    ).exists()
    told = Notification.objects.get(recipient=patient_user, kind="refill_answered")
    assert told.title == "Your prescriber wrote a new prescription for your request"
    # The run-out still follows the last fill until the renewal is filled; then it is recalculated.
    med.refresh_from_db()
    assert med.run_out_on == date(2026, 3, 31)
    time_machine.move_to("2026-03-30 10:00")
    services.fill_record(actor=prescriber, prescription=new, filled_on=date(2026, 3, 30))
    med.refresh_from_db()
    assert (med.run_out_on, med.refills_left) == (date(2026, 4, 29), 2)
    # Sent twice (a double click): the first renewal stands, no second prescription.
    again = services.refill_request_renew(
        actor=prescriber, request=request, quantity=30, days_supply=30, refills_authorised=2
    )
    assert again.renewal == new and Prescription.objects.filter(renews=old).count() == 1


def test_a_renewal_beyond_the_six_month_rule_is_refused_and_nothing_saved(
    patient, patient_user, prescriber, time_machine
):
    time_machine.move_to("2026-01-10 10:00")
    med = _start(prescriber, patient, "Clonazepam", "IV")
    rx = services.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=0
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 1, 10))
    time_machine.move_to("2026-02-01 10:00")
    request = services.refill_request_create(actor=patient_user, medication=med)
    assert request.needs_renewal
    # 90 days a fill from 1 February: the second refill would come after 1 August.
    with pytest.raises(ValidationError, match="only 2 refills can be filled"):
        services.refill_request_renew(
            actor=prescriber, request=request, quantity=90, days_supply=90, refills_authorised=3
        )
    request.refresh_from_db()
    assert (request.status, request.renewal) == ("requested", None)
    assert Prescription.objects.filter(medication=med).count() == 1
    # The form starts within the limits: the old refills, capped at what fits.
    assert selectors.renewal_initial(medication=med, on=date(2026, 2, 1)) == {
        "quantity": 30,
        "days_supply": 30,
        "refills_authorised": 0,
    }


def test_the_queue_renews_in_one_step_and_the_patient_reads_renewal(
    client, ran_out, prescriber, patient_user, patient
):
    med, old, request = ran_out
    client.force_login(patient_user)
    mine = client.get(reverse("medications", args=[patient.uuid])).content.decode()
    assert (
        "Renewal requested on Mar 20, 2026: your prescriber will write a new prescription." in mine
    )
    assert "Refill requested" not in mine

    client.force_login(prescriber)
    queue = client.get(reverse("refill_queue")).content.decode()
    assert "Renew and approve" in queue
    # Prefilled from the old prescription.
    assert f'name="renew-{request.uuid}-quantity" value="30"' in queue
    assert 'value="approved"' not in queue  # a refill would be refused: no Approve offered
    prefix = f"renew-{request.uuid}-"
    response = client.post(
        reverse("refill_renew", args=[request.uuid]),
        {
            f"{prefix}quantity": "30",
            f"{prefix}days_supply": "30",
            f"{prefix}refills_authorised": "3",
        },
        follow=True,
    )
    assert "renewed with a new prescription, and the request approved" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "approved"
    assert request.renewal.renews == old and request.renewal.refills_authorised == 3

    client.force_login(patient_user)
    mine = client.get(reverse("medications", args=[patient.uuid])).content.decode()
    assert "Renewal approved: your new prescription is being sent to the pharmacy." in mine


def test_bad_renewal_input_on_the_queue_is_explained_and_changes_nothing(
    client, ran_out, prescriber
):
    med, old, request = ran_out
    client.force_login(prescriber)
    prefix = f"renew-{request.uuid}-"
    response = client.post(
        reverse("refill_renew", args=[request.uuid]),
        {f"{prefix}quantity": "0", f"{prefix}days_supply": "", f"{prefix}refills_authorised": "1"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "At least 1." in page and "The days&#x27; supply is needed." in page
    assert f'name="{prefix}refills_authorised" value="1"' in page  # what was typed is kept
    request.refresh_from_db()
    assert request.status == "requested"
    assert Prescription.objects.filter(medication=med).count() == 1


def test_the_medication_page_renews_too(client, ran_out, prescriber):
    med, old, request = ran_out
    client.force_login(prescriber)
    page = client.get(reverse("medication_detail", args=[med.uuid])).content.decode()
    assert "Renewal requested, asked Mar 20" in page
    assert "Renew and approve" in page
    # The prescription without refills is spent: nothing is offered to fill.
    assert "Record a fill" not in page
    # Bad input: the medication page again, with the message; nothing saved.
    bad = client.post(
        reverse("refill_renew", args=[request.uuid]),
        {
            "back_to": "medication",
            "quantity": "30",
            "days_supply": "30",
            "refills_authorised": "-1",
        },
    )
    assert bad.status_code == 400
    assert "Ensure this value is greater than or equal to 0." in bad.content.decode()
    assert Prescription.objects.filter(medication=med).count() == 1
    done = client.post(
        reverse("refill_renew", args=[request.uuid]),
        {"back_to": "medication", "quantity": "30", "days_supply": "30", "refills_authorised": "1"},
    )
    assert done.status_code == 302 and done.url == reverse("medication_detail", args=[med.uuid])
    request.refresh_from_db()
    assert request.status == "approved" and request.renewal.renews == old
    page = client.get(reverse("medication_detail", args=[med.uuid])).content.decode()
    assert "Renew and approve" not in page
    assert "Record a fill" in page
    # The timeline tells the renewal from a first prescription, and the request from a refill.
    assert "Renewal written" in page and "Prescription written" in page
    assert "Renewal asked for" in page and "answered with a new prescription" in page


def test_the_decision_api_renews_and_refuses_bad_input(client, ran_out, prescriber):
    med, old, request = ran_out
    client.force_login(prescriber)
    url = reverse("api_refill_decide", args=[request.uuid])
    for bad in (
        {
            "status": "approved",
            "renewal": {"quantity": 30, "days_supply": 0, "refills_authorised": 0},
        },
        {
            "status": "declined",
            "reason": "x",
            "renewal": {"quantity": 30, "days_supply": 30, "refills_authorised": 0},
        },
        {"status": "approved"},  # a refill: refused, it needs a new prescription
    ):
        response = client.post(url, bad, content_type="application/json")
        assert response.status_code == 400, bad
    assert "needs a new prescription" in str(response.json())
    request.refresh_from_db()
    assert request.status == "requested"
    assert Prescription.objects.filter(medication=med).count() == 1

    response = client.post(
        url,
        {
            "status": "approved",
            "renewal": {"quantity": 60, "days_supply": 30, "refills_authorised": 1},
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    new = Prescription.objects.get(renews=old)
    assert (body["status"], body["renewal"]) == ("approved", str(new.uuid))
    assert new.quantity == 60


def test_the_api_answers_a_renewal_with_no_renewal_field_as_null(client, ran_out, prescriber):
    med, old, request = ran_out
    client.force_login(prescriber)
    queue = client.get(reverse("api_refill_queue")).json()["results"]
    assert queue[0]["renewal"] is None and queue[0]["needs_renewal"] is True


def test_a_patient_cannot_renew(client, ran_out, patient_user):
    med, old, request = ran_out
    client.force_login(patient_user)
    prefix = f"renew-{request.uuid}-"
    response = client.post(
        reverse("refill_renew", args=[request.uuid]),
        {
            f"{prefix}quantity": "30",
            f"{prefix}days_supply": "30",
            f"{prefix}refills_authorised": "1",
        },
    )
    assert response.status_code == 403
    assert "Only a prescriber can make this decision." in response.content.decode()
    request.refresh_from_db()
    assert request.status == "requested"
    assert Prescription.objects.filter(medication=med).count() == 1


# --- The patient's words ------------------------------------------------------------------

NY = ZoneInfo("America/New_York")
NO_REFILLS = SupplyStatus(
    has_supply=True,
    run_out=date(2026, 3, 31),
    needed_by=date(2026, 3, 24),
    refills_left=0,
    answer=RefillAnswer(False, True, "No refills remain on this prescription."),
    lead_days=7,
    last_fill_on=date(2026, 3, 1),
)


def test_an_open_request_needing_renewal_says_renewal_requested_not_refill():
    asked = datetime(2026, 3, 20, 9, tzinfo=NY)
    renewal = RefillRequest(status="requested", requested_at=asked, needs_renewal=True)
    prompt = refill_prompt(status="active", supply_status=NO_REFILLS, last=renewal)
    assert prompt.text == (
        "Renewal requested on Mar 20, 2026: your prescriber will write a new prescription."
    )
    assert not prompt.can_ask
    refill = RefillRequest(status="requested", requested_at=asked, needs_renewal=False)
    prompt = refill_prompt(status="active", supply_status=NO_REFILLS, last=refill)
    assert prompt.text.startswith("Refill requested on Mar 20, 2026")
    # Before asking, the button already says what it asks for.
    prompt = refill_prompt(status="active", supply_status=NO_REFILLS, last=None)
    assert (prompt.can_ask, prompt.ask_label) == (True, "Ask for a renewal")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_renewals_of_one_request_make_one_prescription(require_postgresql):
    prescriber = factories.PrescriberFactory()
    patient_user = factories.PatientUserFactory()
    patient = factories.PatientFactory(user=patient_user)
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    med = _start(prescriber, patient, "Sertraline", "none")
    rx = services.prescription_write(actor=prescriber, medication=med, quantity=30, days_supply=30)
    services.fill_record(actor=prescriber, prescription=rx, filled_on=rx.written_on)
    request = services.refill_request_create(actor=patient_user, medication=med)
    barrier = threading.Barrier(5)
    outcomes = []

    def renew():
        try:
            barrier.wait()
            done = services.refill_request_renew(
                actor=prescriber, request=request, quantity=30, days_supply=30, refills_authorised=1
            )
            outcomes.append(str(done.renewal.uuid))
        except Exception as error:  # noqa: BLE001 - reported in the assertion
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=renew) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    new = Prescription.objects.get(renews=rx)
    assert outcomes == [str(new.uuid)] * 5
    request.refresh_from_db()
    assert (request.status, request.renewal) == ("approved", new)


def test_a_renewal_answered_by_a_prescription_written_by_hand_no_longer_says_renewal():
    asked = datetime(2026, 3, 20, 9, tzinfo=NY)
    renewal = RefillRequest(status="requested", requested_at=asked, needs_renewal=True)
    prompt = refill_prompt(
        status="active", supply_status=NO_REFILLS, last=renewal, awaiting_renewal=False
    )
    assert prompt.text.startswith("Refill requested on Mar 20, 2026")
    assert "new prescription" not in prompt.text
