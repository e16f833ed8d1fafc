"""Medication pages, refill flow, the queue, the PDF and the API: access, bad input, query counts."""

import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from prescribing import services
from prescribing.models import DecisionRecord, Medication, Observation, RefillRequest
from tests import factories

pytestmark = pytest.mark.django_db


def _start(prescriber, patient, name="Sertraline", **extra):
    # Which goals it serves and whose need: asked of every start.
    if not extra.get("goal_uuids"):
        extra.setdefault("serves_no_goal", True)
        extra.setdefault("no_goal_reason", "No goal written yet.")
    extra.setdefault("needs", ["patient_request"])
    extra.setdefault("need_reflection", "What the patient asked for.")
    return services.medication_start(
        actor=prescriber,
        patient=patient,
        drug_name=name,
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="each morning",
        reason="Agreed together",
        **extra,
    )


def test_prescriber_adds_a_medication_with_purpose_linked_to_a_goal(
    client, patient, prescriber, goal
):
    client.force_login(prescriber)
    response = client.post(
        reverse("medication_new", args=[patient.uuid]),
        {
            "drug_name": "Sertraline",
            "strength": "50 mg",
            "form": "tablet",
            "route": "by mouth",
            "dose": "1 tablet",
            "directions": "once a day",
            "schedule": "none",
            "purpose": "So I can sleep",
            "goals": [str(goal.uuid)],
            "needs": ["patient_goals"],
            "need_reflection": "His sleep, as he asked.",
            "reason": "Nightmares",
            "decided_together": "yes",
        },
        follow=True,
    )
    assert "Sertraline added to the plan." in response.content.decode()
    medication = Medication.objects.get()
    assert list(medication.goals.all()) == [goal]
    plan = client.get(reverse("medications", args=[patient.uuid])).content.decode()
    assert "“So I can sleep”" in plan
    assert goal.what in plan


def test_missing_fields_are_explained_and_nothing_saved(client, patient, prescriber):
    client.force_login(prescriber)
    response = client.post(
        reverse("medication_new", args=[patient.uuid]), {"drug_name": "", "schedule": "none"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "The medicine&#x27;s name is needed." in body or "The medicine's name is needed." in body
    assert "Say why: the reason is part of the record." in body
    assert not Medication.objects.exists()


def test_dose_change_through_the_decision_form(client, patient, prescriber):
    med = _start(prescriber, patient)
    client.force_login(prescriber)
    response = client.post(
        reverse("medication_decide", args=[med.uuid]),
        {
            "kind": "dose_change",
            "strength": "100 mg",
            "reason": "Partial response",
            "decided_together": "yes",
            "version": med.version,
            **factories.WHOSE_NEED_POST,
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Decision recorded." in body
    assert "<del>50 mg</del> → <ins>100 mg</ins>" in body


def test_stale_decision_form_shows_conflict(client, patient, prescriber):
    med = _start(prescriber, patient)
    services.medication_set_status(
        actor=prescriber, medication=med, version=1, status="paused", reason="Travel"
    )
    client.force_login(prescriber)
    response = client.post(
        reverse("medication_decide", args=[med.uuid]),
        {
            "kind": "dose_change",
            "strength": "100 mg",
            "reason": "x",
            "version": 1,
            "decided_together": "yes",
        },
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert DecisionRecord.objects.filter(kind="dose_change").count() == 0


def test_patient_asks_for_a_refill_and_prescriber_approves_from_the_queue(
    client, patient, patient_user, prescriber, time_machine
):
    time_machine.move_to("2026-03-01 10:00")
    med = _start(prescriber, patient)
    rx = services.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=2
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
    time_machine.move_to("2026-03-20 10:00")
    client.force_login(patient_user)
    page = client.get(reverse("refill_request", args=[med.uuid])).content.decode()
    assert "7 days’ notice" in page
    done = client.post(
        reverse("refill_request", args=[med.uuid]), {"note": "Away next week"}, follow=True
    )
    assert "Your request is sent." in done.content.decode()
    again = client.post(reverse("refill_request", args=[med.uuid]), {"note": "again"})
    assert RefillRequest.objects.count() == 1
    assert again.status_code in (200, 400)

    client.force_login(prescriber)
    queue = client.get(reverse("refill_queue")).content.decode()
    assert "Away next week" in queue
    request = RefillRequest.objects.get()
    client.post(reverse("refill_decide", args=[request.uuid]), {"status": "approved"})
    request.refresh_from_db()
    assert request.status == "approved"


def test_late_request_is_explained_to_the_patient(
    client, patient, patient_user, prescriber, time_machine
):
    time_machine.move_to("2026-03-01 10:00")
    med = _start(prescriber, patient)
    rx = services.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=2
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
    time_machine.move_to("2026-03-28 10:00")
    client.force_login(patient_user)
    assert (
        "past the “ask by” date"
        in client.get(reverse("refill_request", args=[med.uuid])).content.decode()
    )
    response = client.post(reverse("refill_request", args=[med.uuid]), {}, follow=True)
    assert "flagged for your prescriber" in response.content.decode()
    assert RefillRequest.objects.get().late


def test_decline_without_reason_is_refused(client, patient, patient_user, prescriber):
    med = _start(prescriber, patient)
    request = services.refill_request_create(actor=patient_user, medication=med)
    client.force_login(prescriber)
    response = client.post(
        reverse("refill_decide", args=[request.uuid]), {"status": "declined"}, follow=True
    )
    assert "Say why the refill is declined" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "requested"


def test_outsiders_get_not_found_everywhere(client, patient, prescriber, patient_user):
    med = _start(prescriber, patient)
    request = services.refill_request_create(actor=patient_user, medication=med)
    client.force_login(factories.PrescriberFactory())
    for url in (
        reverse("medications", args=[patient.uuid]),
        reverse("medication_detail", args=[med.uuid]),
        reverse("refill_request", args=[med.uuid]),
        reverse("medications_pdf", args=[patient.uuid]),
        reverse("api_medication_list", args=[patient.uuid]),
        reverse("api_medication_detail", args=[med.uuid]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            reverse("refill_decide", args=[request.uuid]), {"status": "approved"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("observation_create", args=[med.uuid]), {"kind": "response", "text": "x"}
        ).status_code
        == 404
    )
    assert not Observation.objects.exists()
    assert client.get(reverse("refill_queue")).context["requests"] == []


def test_plan_page_query_count_is_the_same_for_1_and_50_medications(
    client, patient, prescriber, patient_user, goal
):
    def build(n):
        for _ in range(n):
            med = _start(
                prescriber,
                patient,
                # A new name each time: the same one twice is a duplicate to confirm.
                name=f"Medicine {Medication.objects.count()}",
                not_coded=True,
                schedule="none",
                goal_uuids=[goal.uuid],
            )
            for j in range(3):
                services.medication_change_dose(
                    actor=prescriber,
                    medication=med,
                    version=med.version + j,
                    dose=f"{j + 2} tablets",
                    reason="r",
                    goal_uuids=[goal.uuid],
                    needs=["patient_goals"],
                    need_reflection="r",
                )
            services.observation_create(
                actor=patient_user, medication=med, kind="response", text="ok"
            )
            rx = services.prescription_write(
                actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=2
            )
            services.fill_record(actor=prescriber, prescription=rx, filled_on=date.today())
            services.refill_request_create(actor=patient_user, medication=med)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(prescriber)
    url = reverse("medications", args=[patient.uuid])
    build(1)
    client.get(url)
    one = count()
    build(49)
    assert count() == one


def test_medication_page_query_count_is_the_same_for_a_short_and_a_long_history(
    client, patient, prescriber, therapist, patient_user, goal, time_machine
):
    """The medication page reads each kind of its history once: who wrote each prescription
    and fill comes with it, not one query per row (a second prescriber writes some)."""
    time_machine.move_to("2026-01-05 09:00")
    colleague = factories.PrescriberFactory(practice=prescriber.practice)
    factories.MembershipFactory(patient=patient, clinician=colleague)
    med = _start(prescriber, patient, goal_uuids=[goal.uuid])
    url = reverse("medication_detail", args=[med.uuid])

    def build(n):
        nonlocal med
        for i in range(n):
            writer = (prescriber, colleague)[i % 2]
            med.refresh_from_db()
            dose = f"{DecisionRecord.objects.filter(medication=med).count() + 1} tablets"
            services.medication_change_dose(
                actor=writer,
                medication=med,
                version=med.version,
                dose=dose,
                reason="r",
                goal_uuids=[goal.uuid],
                needs=["patient_goals", "clinician_concern"],
                need_reflection="r",
            )
            rx = services.prescription_write(
                actor=writer, medication=med, quantity=30, days_supply=30, refills_authorised=0
            )
            services.fill_record(actor=writer, prescription=rx, filled_on=date(2026, 1, 5))
            services.observation_create(
                actor=patient_user, medication=med, kind="response", text="ok"
            )

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(prescriber)
    build(1)
    client.get(url)
    one = count()
    build(12)
    assert count() == one
    # 20, the header's count of unopened messages, the goals each decision served (one
    # query for all of them) and how many medicines the patient takes (the review's count).
    assert one <= 23


def test_pdf_contains_purpose_and_run_out_date(
    client, patient, patient_user, prescriber, time_machine
):
    from pypdf import PdfReader

    time_machine.move_to("2026-03-01 10:00")
    med = _start(prescriber, patient, purpose="So I can stop checking the locks all night")
    rx = services.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=2
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
    client.force_login(patient_user)
    response = client.get(reverse("medications_pdf", args=[patient.uuid]))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert "My medicines and why I take them" in text
    assert "So I can stop checking the locks all night" in text
    assert "Mar 31, 2026" in text  # runs out
    assert "Mar 24, 2026" in text  # ask by


def test_pdf_export_is_audited(client, patient, patient_user, prescriber):
    from core.models import AuditEvent

    _start(prescriber, patient)
    client.force_login(patient_user)
    client.get(reverse("medications_pdf", args=[patient.uuid]))
    assert AuditEvent.objects.filter(
        actor=patient_user, action="export", category="medications"
    ).exists()


class TestAPI:
    def test_plan_and_refill_through_the_api(self, client, patient, patient_user, prescriber):
        med = _start(prescriber, patient)
        client.force_login(patient_user)
        listed = client.get(reverse("api_medication_list", args=[patient.uuid])).json()["results"]
        assert [m["drug_name"] for m in listed] == ["Sertraline"]
        made = client.post(
            reverse("api_refill_requests", args=[med.uuid]),
            {"note": "please"},
            content_type="application/json",
        )
        assert made.status_code == 201
        dup = client.post(
            reverse("api_refill_requests", args=[med.uuid]), {}, content_type="application/json"
        )
        assert dup.status_code == 400
        assert "already open" in str(dup.json())
        client.force_login(prescriber)
        queue = client.get(reverse("api_refill_queue")).json()["results"]
        assert [r["uuid"] for r in queue] == [made.json()["uuid"]]
        decided = client.post(
            reverse("api_refill_decide", args=[made.json()["uuid"]]),
            {"status": "declined"},
            content_type="application/json",
        )
        assert decided.status_code == 400

    def test_decision_api(self, client, patient, prescriber):
        med = _start(prescriber, patient)
        client.force_login(prescriber)
        response = client.post(
            reverse("api_medication_decisions", args=[med.uuid]),
            {"kind": "dose_change", "strength": "100 mg", "reason": "r", "version": 1},
            content_type="application/json",
        )
        # Whether it was decided together is asked every time: no default to lean on.
        assert response.status_code == 400
        assert "decided_together" in str(response.json())
        response = client.post(
            reverse("api_medication_decisions", args=[med.uuid]),
            {
                "kind": "dose_change",
                "strength": "100 mg",
                "reason": "r",
                "version": 1,
                "decided_together": False,
                **factories.WHOSE_NEED,
            },
            content_type="application/json",
        )
        assert response.status_code == 201
        assert response.json()["decided_together"] is False
        stale = client.post(
            reverse("api_medication_decisions", args=[med.uuid]),
            {"kind": "paused", "reason": "r", "version": 1, "decided_together": True},
            content_type="application/json",
        )
        assert stale.status_code == 409


def test_a_patient_cannot_switch_a_medicine(client, patient, prescriber):
    """Refused as not allowed (403), not as a conflict to resolve by sending again (409)."""
    medication = _start(prescriber, patient)
    client.force_login(patient.user)
    response = client.post(
        reverse("medication_switch", args=[medication.uuid]),
        {
            "drug_name": "Escitalopram",
            "strength": "10 mg",
            "form": "tablet",
            "route": "by mouth",
            "dose": "1",
            "directions": "daily",
            "schedule": "none",
            "reason": "Side effects",
            "version": medication.version,
            "decided_together": "no",
        },
    )
    assert response.status_code == 403
    assert not Medication.objects.filter(drug_name="Escitalopram").exists()
