"""The safety plan through the API: every version (paged, newest first), the next version
against the one it started from (409 when someone saved one since), the care team's with the
patient, never a release's."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from referrals import services as referrals
from stories import services
from stories.models import SafetyPlan
from tests import factories

pytestmark = pytest.mark.django_db


def _url(patient):
    return reverse("api_safety_plan", args=[patient.uuid])


def _post(client, patient, **data):
    return client.post(_url(patient), data, content_type="application/json")


def test_the_patient_writes_versions_and_reads_them_newest_first(client, patient, patient_user):
    client.force_login(patient_user)
    first = _post(client, patient, version=0, coping="Walk the dog")
    assert first.status_code == 201
    assert (first.json()["version"], first.json()["coping"]) == (1, "Walk the dog")
    second = _post(client, patient, version=1, coping="Call Ana", people="Ana 555-0142")
    assert second.status_code == 201
    listed = client.get(_url(patient)).json()
    assert listed["count"] == 2
    assert [v["version"] for v in listed["results"]] == [2, 1]
    paged = client.get(_url(patient), {"limit": 1, "offset": 1}).json()
    assert [v["coping"] for v in paged["results"]] == ["Walk the dog"]
    row = AuditEvent.objects.get(action="create", object_id=second.json()["uuid"])
    assert (row.category, row.outcome, row.object_type) == (
        "safety_plan",
        "allowed",
        "stories.SafetyPlan",
    )


def test_a_version_saved_meanwhile_is_a_conflict_and_nothing_is_saved(
    client, patient, patient_user, therapist
):
    services.safety_plan_save(
        actor=patient_user, patient=patient, based_on=0, sections={"coping": "Music"}
    )
    client.force_login(therapist)
    written = _post(client, patient, version=1, coping="Music, then a walk")
    assert written.status_code == 201
    stale = _post(client, patient, version=1, coping="From an old tab")
    assert stale.status_code == 409
    assert "newer version" in stale.json()["detail"]
    assert SafetyPlan.objects.filter(patient=patient).count() == 2
    plan = SafetyPlan.objects.get(patient=patient, version=2)
    assert (
        not AuditEvent.objects.filter(
            actor=therapist, action="create", outcome="allowed", object_type="stories.SafetyPlan"
        )
        .exclude(object_id=str(plan.uuid))
        .exists()
    )
    unknown = _post(client, patient, version=7, coping="x")
    assert unknown.status_code == 409


def test_the_same_words_again_are_the_same_version(client, patient, patient_user):
    client.force_login(patient_user)
    _post(client, patient, version=0, coping="Music")
    again = _post(client, patient, version=1, coping="Music")
    assert again.status_code == 200
    assert again.json()["version"] == 1


def test_bad_input_is_a_400(client, patient, patient_user):
    client.force_login(patient_user)
    assert _post(client, patient, version=0).status_code == 400  # an empty plan
    assert _post(client, patient, coping="x").status_code == 400  # no version
    assert _post(client, patient, version=-1, coping="x").status_code == 400
    assert _post(client, patient, version=0, coping="x" * 2001).status_code == 400
    assert not SafetyPlan.objects.exists()


def test_outsiders_and_release_readers_find_nothing(client, patient, patient_user, prescriber):
    services.safety_plan_save(
        actor=patient_user, patient=patient, based_on=0, sections={"coping": "Music"}
    )
    outsider = factories.TherapistFactory()
    # A release of everything a release may carry: the safety plan is not among it.
    referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=outsider,
        categories=["profile", "goals", "narrative_notes"],
        purpose="Second opinion",
        expires_on=date.today() + timedelta(days=30),
        signed_name="Daniel Brooks",
    )
    client.force_login(outsider)
    assert client.get(reverse("api_goal_list", args=[patient.uuid])).status_code == 200
    assert client.get(_url(patient)).status_code == 404
    assert _post(client, patient, version=1, coping="x").status_code == 404
    assert client.get(reverse("safety_plan", args=[patient.uuid])).status_code == 404
    assert SafetyPlan.objects.count() == 1
    assert AuditEvent.objects.filter(
        actor=outsider, category="safety_plan", outcome="denied"
    ).exists()


def test_the_schema_has_the_safety_plan_with_its_errors(client, patient_user):
    client.force_login(patient_user)
    schema = client.get(reverse("api_schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    path = schema.json()["paths"]["/api/v1/patients/{patient_uuid}/safety-plan/"]
    assert {"200", "404"} <= set(path["get"]["responses"])
    assert {"201", "400", "404", "409"} <= set(path["post"]["responses"])
    assert {p["name"] for p in path["get"]["parameters"]} >= {"limit", "offset"}
