"""The record says what happened: "decided together" only when the prescriber says so, each
time, and a patient's own words about a medicine are their entry, not a clinical decision."""

import re

import pytest
from django.urls import reverse

from prescribing import services
from prescribing.models import DecisionRecord
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sertraline(patient, prescriber):
    return services.medication_start(
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
        reason="Low mood and poor sleep for months",
        decided_together=True,
    )


def test_the_decision_form_chooses_nothing_for_the_prescriber(client, sertraline, prescriber):
    client.force_login(prescriber)
    page = client.get(reverse("medication_detail", args=[sertraline.uuid])).content.decode()
    assert "Decided together with the patient?" in page
    assert not re.search(r'name="decided_together"[^>]*checked', page)


def test_without_an_answer_nothing_is_recorded_and_what_was_typed_stays(
    client, sertraline, prescriber
):
    client.force_login(prescriber)
    response = client.post(
        reverse("medication_decide", args=[sertraline.uuid]),
        {"kind": "dose_change", "dose": "2 tablets", "reason": "Only partly better", "version": 1},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Say whether you decided this together with the patient." in page
    assert "Only partly better" in page
    assert sertraline.decisions.count() == 1


@pytest.mark.parametrize("answer, together", [("yes", True), ("no", False)])
def test_the_answer_given_is_the_one_recorded(client, sertraline, prescriber, answer, together):
    client.force_login(prescriber)
    response = client.post(
        reverse("medication_decide", args=[sertraline.uuid]),
        {
            "kind": "dose_change",
            "dose": "2 tablets",
            "reason": "Only partly better",
            "version": 1,
            "decided_together": answer,
            **factories.WHOSE_NEED_POST,
        },
    )
    assert response.status_code == 302
    assert sertraline.decisions.first().decided_together is together


def test_the_visit_screen_asks_too_and_keeps_the_reason_typed(
    client, sertraline, prescriber, patient
):
    client.force_login(prescriber)
    url = reverse("visit_action", args=[patient.uuid])
    response = client.post(
        url,
        {
            "action": "decision",
            "medication": sertraline.uuid,
            "status": "paused",
            "version": 1,
            "reason": "Nausea every morning",
        },
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "Say whether you decided this together with the patient." in page
    assert 'value="Nausea every morning"' in page
    assert sertraline.decisions.count() == 1
    visit = client.get(reverse("visit", args=[patient.uuid])).content.decode()
    assert not re.search(r'name="decided_together"[^>]*checked', visit)


def test_a_patient_rewording_the_purpose_is_their_entry_not_a_decision(
    client, sertraline, patient_user, prescriber
):
    services.medication_set_purpose(
        actor=patient_user,
        medication=sertraline,
        version=1,
        purpose="So I can get up for work without dreading it",
    )
    entry = sertraline.decisions.first()
    assert (entry.kind, entry.decided_together) == (DecisionRecord.Kind.PURPOSE, False)
    client.force_login(prescriber)
    page = client.get(reverse("medication_detail", args=[sertraline.uuid])).content.decode()
    timeline = page[page.index('id="tl-h"') :]
    first = timeline[: timeline.index("</li>")]
    assert f"{patient_user.full_name} rewrote what this medicine is for" in first
    assert "decided together" not in first
    # The last clinical decision is still the one shown on the plan.
    plan = client.get(reverse("medications", args=[sertraline.patient.uuid])).content.decode()
    assert "Last decision: start" in plan
    assert "Low mood and poor sleep" in plan
    client.force_login(patient_user)
    page = client.get(reverse("medication_detail", args=[sertraline.uuid])).content.decode()
    assert "You rewrote what this medicine is for" in page
