"""A consultation's audience is chosen when it is written: between the clinicians unless they
share it, and the patient's pages and API honour it."""

import re

import pytest
from django.urls import reverse

from alliance import services
from alliance.models import Consultation

pytestmark = pytest.mark.django_db


def _consult(prescriber, therapist, patient, actions, **kwargs):
    return services.consultation_create(
        actor=prescriber,
        patient=patient,
        prescriber=prescriber,
        therapist=therapist,
        issues="Dan feels rushed",
        actions=actions,
        **kwargs,
    )


def test_the_default_is_between_clinicians(patient, prescriber, therapist):
    consultation = _consult(prescriber, therapist, patient, "Longer visits")
    assert consultation.audience == Consultation.Audience.CLINICIANS


def test_the_patient_reads_only_what_was_shared_on_pages_and_api(
    client, patient, patient_user, prescriber, therapist
):
    _consult(prescriber, therapist, patient, "Zq-between-us")
    _consult(prescriber, therapist, patient, "Zq-shared", audience="patient")
    client.force_login(patient_user)
    page = client.get(reverse("check_ins", args=[patient.uuid])).content.decode()
    assert "Zq-shared" in page and "Zq-between-us" not in page
    listed = client.get(reverse("api_consultations", args=[patient.uuid])).json()["results"]
    assert [c["actions"] for c in listed] == ["Zq-shared"]
    assert listed[0]["audience"] == "patient"
    # The prescriber who wrote them reads both, each marked with who else reads it.
    client.force_login(prescriber)
    page = client.get(reverse("alliance", args=[patient.uuid])).content.decode()
    assert "Zq-shared" in page and "Zq-between-us" in page
    assert "Between clinicians: the patient does not see it" in page
    assert "Shared with the patient" in page
    listed = client.get(reverse("api_consultations", args=[patient.uuid])).json()["results"]
    assert {c["actions"] for c in listed} == {"Zq-shared", "Zq-between-us"}


def test_the_form_asks_who_reads_it_and_saves_the_choice(client, patient, prescriber, therapist):
    client.force_login(prescriber)
    page = client.get(reverse("alliance", args=[patient.uuid])).content.decode()
    assert "Who reads this" in page
    # Nothing pre-chosen but the safe default: between clinicians.
    assert re.search(r'value="clinicians"[^>]*checked', page)
    assert not re.search(r'value="patient"[^>]*checked', page)
    response = client.post(
        reverse("consultation_create", args=[patient.uuid]),
        {
            "issues": "None",
            "actions": "Keep going",
            "held_on": patient_today(),
            "audience": "patient",
        },
    )
    assert response.status_code == 302
    assert Consultation.objects.get(actions="Keep going").audience == "patient"


def test_a_bad_audience_is_explained_and_nothing_stored(client, patient, prescriber, therapist):
    client.force_login(prescriber)
    response = client.post(
        reverse("consultation_create", args=[patient.uuid]),
        {"issues": "None", "actions": "Keep going", "held_on": patient_today(), "audience": "all"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    response = client.post(
        reverse("api_consultations", args=[patient.uuid]),
        {"issues": "None", "actions": "Keep going", "audience": "everyone"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not Consultation.objects.exists()


def patient_today():
    from django.utils import timezone

    return timezone.localdate().isoformat()
