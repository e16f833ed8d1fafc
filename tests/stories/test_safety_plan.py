"""The safety plan (Stanley–Brown): written by the patient alone or with a clinician, every
version kept, read by the care team like goals, first on the crisis page, one printable page,
and offered after a self-harm answer on the visit screen when there is none."""

import io

import pytest
from django.urls import reverse

from alliance import services as alliance_services
from core.models import AuditEvent
from stories import services
from stories.models import SafetyPlan
from tests import factories
from tests.alliance.conftest import answer_all

pytestmark = pytest.mark.django_db

PLAN = {
    "warning_signs": "Not sleeping, staying in my room",
    "coping": "Walk the dog round the park",
    "people": "My sister Ana 555-0142",
    "reasons_for_living": "My daughter's graduation",
}


def _post(client, patient, version=0, **sections):
    return client.post(
        reverse("safety_plan", args=[patient.uuid]), {"version": version, **sections}
    )


def test_the_patient_writes_it_and_finds_it_first_on_the_crisis_page(client, patient, patient_user):
    client.force_login(patient_user)
    assert _post(client, patient, **PLAN).status_code == 302
    plan = SafetyPlan.objects.get(patient=patient)
    assert (plan.version, plan.author, plan.practice) == (1, patient_user, None)
    page = client.get(reverse("crisis_help")).content.decode()
    main = page[page.index('<main id="main"') :]
    assert main.index("My safety plan") < main.index('href="tel:988"')
    assert "Walk the dog round the park" in main
    assert "My daughter&#x27;s graduation" in main or "My daughter's graduation" in main
    assert AuditEvent.objects.filter(
        actor=patient_user, object_type="stories.SafetyPlan", action="create"
    ).exists()


def test_every_version_is_kept(client, patient, patient_user):
    client.force_login(patient_user)
    _post(client, patient, **PLAN)
    _post(client, patient, version=1, **{**PLAN, "coping": "Call Ana, then walk the dog"})
    assert list(SafetyPlan.objects.filter(patient=patient).values_list("version", "coping")) == [
        (2, "Call Ana, then walk the dog"),
        (1, "Walk the dog round the park"),
    ]
    page = client.get(reverse("safety_plan", args=[patient.uuid])).content.decode()
    assert "Version 2" in page and "Earlier versions" in page and "Version 1 ·" in page


def test_an_empty_plan_is_explained_and_nothing_saved(client, patient, patient_user):
    client.force_login(patient_user)
    response = _post(client, patient, warning_signs="  ")
    assert response.status_code == 400
    assert "Write at least one part of the plan" in response.content.decode()
    assert not SafetyPlan.objects.exists()


def test_a_stale_version_overwrites_nothing_and_keeps_what_was_typed(
    client, patient, patient_user, prescriber
):
    client.force_login(patient_user)
    _post(client, patient, **PLAN)
    client.force_login(prescriber)
    _post(client, patient, version=1, **{**PLAN, "professionals": "Dr. Raman, weekdays"})
    client.force_login(patient_user)
    response = _post(client, patient, version=1, **{**PLAN, "coping": "Bake bread"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Nothing was overwritten" in page
    assert "Bake bread" in page
    assert SafetyPlan.objects.filter(patient=patient).count() == 2
    # Sent again from the page, it is saved on top of the newer version.
    assert _post(client, patient, version=2, **{**PLAN, "coping": "Bake bread"}).status_code == 302


def test_the_care_team_reads_it_and_writes_it_with_the_patient(
    client, patient, patient_user, prescriber, therapist
):
    client.force_login(prescriber)
    assert _post(client, patient, **PLAN).status_code == 302
    for user in (therapist, patient_user):
        client.force_login(user)
        page = client.get(reverse("safety_plan", args=[patient.uuid])).content.decode()
        assert "Walk the dog round the park" in page
        assert f"written by {prescriber.full_name}" in page


def test_a_clinician_off_the_team_finds_nothing(client, patient, patient_user):
    client.force_login(patient_user)
    _post(client, patient, **PLAN)
    client.force_login(factories.PrescriberFactory(practice=factories.PracticeFactory()))
    assert client.get(reverse("safety_plan", args=[patient.uuid])).status_code == 404
    assert client.get(reverse("safety_plan_pdf", args=[patient.uuid])).status_code == 404
    assert _post(client, patient, version=1, coping="x").status_code == 404
    assert SafetyPlan.objects.count() == 1


def test_it_prints_on_one_page(client, patient, patient_user):
    from pypdf import PdfReader

    client.force_login(patient_user)
    _post(client, patient, **{name: f"{PLAN.get(name, 'Something')} " * 12 for name in PLAN})
    response = client.get(reverse("safety_plan_pdf", args=[patient.uuid]))
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "My safety plan" in text and "Walk the dog round the park" in text
    assert "988" in text


def test_after_a_self_harm_answer_the_visit_screen_offers_it_until_one_exists(
    client, patient, patient_user, prescriber
):
    alliance_services.install_shipped()
    from alliance.selectors import instruments_offered

    phq9 = next(i for i in instruments_offered() if i.key == "phq-9")
    check_in = alliance_services.check_in_start(
        actor=patient_user, patient=patient, instrument=phq9
    )
    answers = {**answer_all(phq9, 0), "phq9_9": 1}
    alliance_services.check_in_submit(actor=patient_user, check_in=check_in, answers=answers)
    client.force_login(patient_user)
    page = client.get(reverse("check_in", args=[check_in.uuid])).content.decode()
    assert reverse("safety_plan", args=[patient.uuid]) in page
    client.force_login(prescriber)
    visit = client.get(reverse("visit", args=[patient.uuid])).content.decode()
    assert "No safety plan yet." in visit
    services.safety_plan_save(actor=prescriber, patient=patient, based_on=0, sections=PLAN)
    visit = client.get(reverse("visit", args=[patient.uuid])).content.decode()
    assert "No safety plan yet." not in visit
    assert "Safety plan: version 1" in visit


def test_a_version_sent_for_a_plan_that_does_not_exist_is_a_conflict_not_an_error(
    client, patient, patient_user
):
    # A stale tab, or a hand-edited hidden field: nothing saved, what was typed kept.
    client.force_login(patient_user)
    response = _post(client, patient, version=3, coping="Call Ana")
    assert response.status_code == 409
    assert "Call Ana" in response.content.decode()
    assert not SafetyPlan.objects.exists()
