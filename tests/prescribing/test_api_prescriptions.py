"""The prescribing API as a prescriber, a patient and a therapist notice it: prescriptions,
fills, observations and the formulary, through the same services and policy as the pages."""

from datetime import date

import pytest
from django.urls import reverse

from core.models import AuditEvent
from prescribing.models import Fill, Prescription

pytestmark = pytest.mark.django_db


def _post(client, url, data):
    return client.post(url, data, content_type="application/json")


def _allowed(**filters):
    return AuditEvent.objects.filter(outcome=AuditEvent.Outcome.ALLOWED, **filters)


def test_a_prescription_written_through_the_api_shows_on_the_page_and_in_the_list(
    client, sertraline, prescriber
):
    client.force_login(prescriber)
    url = reverse("api_prescriptions", args=[sertraline.uuid])
    made = _post(client, url, {"quantity": 30, "days_supply": 30, "refills_authorised": 2})
    assert made.status_code == 201, made.content
    written = Prescription.objects.get(uuid=made.json()["uuid"])
    assert (written.quantity, written.refills_authorised, written.author) == (30, 2, prescriber)
    listed = client.get(url).json()
    assert listed["count"] == 1 and listed["results"][0]["uuid"] == str(written.uuid)
    page = client.get(reverse("medication_detail", args=[sertraline.uuid])).content.decode()
    assert "Quantity 30, 30 days’ supply, 2 refills" in page
    # One allowed row names the prescription; none says the medication was changed.
    assert (
        _allowed(object_type="prescribing.Prescription", object_id=str(written.uuid)).count() == 1
    )
    assert not _allowed(action="update", object_id=str(sertraline.uuid)).exists()


def test_a_fill_recorded_through_the_api_is_listed_and_moves_the_run_out(
    client, sertraline, prescriber
):
    client.force_login(prescriber)
    rx = _post(
        client,
        reverse("api_prescriptions", args=[sertraline.uuid]),
        {"quantity": 30, "days_supply": 30},
    ).json()
    filled_on = date.today().isoformat()
    made = _post(
        client,
        reverse("api_fills", args=[sertraline.uuid]),
        {"prescription": rx["uuid"], "filled_on": filled_on},
    )
    assert made.status_code == 201, made.content
    assert made.json()["quantity"] == 30
    listed = client.get(reverse("api_fills", args=[sertraline.uuid])).json()
    assert [f["filled_on"] for f in listed["results"]] == [filled_on]
    sertraline.refresh_from_db()
    assert sertraline.run_out_on is not None
    assert _allowed(object_type="prescribing.Fill").count() == 1


def test_a_fill_of_another_medications_prescription_is_refused(client, sertraline, prescriber):
    client.force_login(prescriber)
    made = _post(
        client,
        reverse("api_fills", args=[sertraline.uuid]),
        {"prescription": "00000000-0000-4000-8000-000000000000", "filled_on": "2026-01-01"},
    )
    assert made.status_code == 400
    assert "Choose a prescription of this medication." in str(made.json())
    assert not Fill.objects.exists()


def test_a_therapist_cannot_prescribe_through_the_api_and_the_refusal_is_audited(
    client, sertraline, colleague_therapist
):
    therapist = colleague_therapist
    client.force_login(therapist)
    url = reverse("api_prescriptions", args=[sertraline.uuid])
    # She reads the plan's prescriptions, and is not found a door to write one.
    assert client.get(url).status_code == 200
    refused = _post(client, url, {"quantity": 30, "days_supply": 30})
    assert refused.status_code == 404
    assert not Prescription.objects.exists()
    assert AuditEvent.objects.filter(
        actor=therapist, action="prescribe", outcome=AuditEvent.Outcome.DENIED
    ).exists()
    assert not _allowed(actor=therapist, object_type="prescribing.Prescription").exists()
    assert not _allowed(actor=therapist, action__in=["create", "update", "prescribe"]).exists()


def test_another_practices_therapist_does_not_see_the_prescriptions(client, sertraline, therapist):
    client.force_login(therapist)
    assert client.get(reverse("api_prescriptions", args=[sertraline.uuid])).status_code == 404


def test_the_patient_is_told_only_a_prescriber_writes_prescriptions(
    client, sertraline, patient_user
):
    client.force_login(patient_user)
    refused = _post(
        client,
        reverse("api_prescriptions", args=[sertraline.uuid]),
        {"quantity": 30, "days_supply": 30},
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only a prescriber can make this decision."
    # The patient reads their prescriptions.
    assert client.get(reverse("api_prescriptions", args=[sertraline.uuid])).status_code == 200


def test_an_outsider_finds_nothing(client, sertraline, patient):
    from tests import factories

    client.force_login(factories.PrescriberFactory())
    for name, arg in (
        ("api_prescriptions", sertraline.uuid),
        ("api_fills", sertraline.uuid),
        ("api_observations", sertraline.uuid),
        ("api_patient_observations", patient.uuid),
    ):
        assert client.get(reverse(name, args=[arg])).status_code == 404, name
    refused = _post(
        client,
        reverse("api_prescriptions", args=[sertraline.uuid]),
        {"quantity": 30, "days_supply": 30},
    )
    assert refused.status_code == 404
    assert not Prescription.objects.exists()


def test_observations_are_listed_for_a_medication_and_for_the_patient(
    client, sertraline, patient, patient_user, prescriber
):
    client.force_login(patient_user)
    made = _post(
        client,
        reverse("api_observations", args=[sertraline.uuid]),
        {"kind": "side_effect", "severity": "mild", "text": "Dry mouth in the mornings"},
    )
    assert made.status_code == 201, made.content
    client.force_login(prescriber)
    for url in (
        reverse("api_observations", args=[sertraline.uuid]),
        reverse("api_patient_observations", args=[patient.uuid]),
    ):
        listed = client.get(url, {"limit": 10}).json()
        assert [o["text"] for o in listed["results"]] == ["Dry mouth in the mornings"], url
    assert AuditEvent.objects.filter(
        actor=prescriber, patient=patient, category="observations", action="list"
    ).exists()


def test_the_formulary_is_listed_for_prescribers_only(client, prescriber, therapist, patient_user):
    client.force_login(prescriber)
    listed = client.get(reverse("api_formulary"), {"limit": 5}).json()
    assert len(listed["results"]) == 5 and listed["count"] > 5
    assert {"name", "schedule", "drug_class"} <= set(listed["results"][0])
    for someone in (therapist, patient_user):
        client.force_login(someone)
        assert client.get(reverse("api_formulary")).status_code == 403
