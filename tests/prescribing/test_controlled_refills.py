"""Writing a schedule III–IV prescription: refills that would fall past six months from the
date written are refused with how many fit, and nothing is stored."""

import pytest
from django.urls import reverse

from prescribing import services
from prescribing.models import Prescription

pytestmark = pytest.mark.django_db


@pytest.fixture
def clonazepam(patient, prescriber, time_machine):
    time_machine.move_to("2026-01-10 10:00")
    return services.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Clonazepam",
        strength="0.5 mg",
        form="tablet",
        dose="1 tablet",
        directions="at night when needed",
        schedule="IV",
        reason="Panic at night, short term",
        decided_together=True,
    )


def _write(client, medication, **fields):
    data = {"quantity": 90, "days_supply": 90, "refills_authorised": 3, "written_on": "2026-01-10"}
    data.update(fields)
    return client.post(reverse("prescription_create", args=[medication.uuid]), data)


def test_the_prescriber_is_told_how_many_refills_fit_and_nothing_is_stored(
    client, clonazepam, prescriber
):
    client.force_login(prescriber)
    response = _write(client, clonazepam, refills_authorised=3)
    assert response.status_code == 400
    page = response.content.decode()
    assert "only 2 refills can be filled" in page
    assert "valid only until Jul 10, 2026" in page
    assert not Prescription.objects.filter(medication=clonazepam).exists()
    # What they typed is still in the form.
    assert 'name="days_supply" value="90"' in page


def test_the_refills_that_fit_are_accepted(client, clonazepam, prescriber):
    client.force_login(prescriber)
    response = _write(client, clonazepam, refills_authorised=2)
    assert response.status_code == 302
    assert Prescription.objects.get(medication=clonazepam).refills_authorised == 2
