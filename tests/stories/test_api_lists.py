"""Every stories list pages the same way; writes through the API leave one allowed row."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from stories import services

pytestmark = pytest.mark.django_db


def test_goals_notes_and_ratings_page_with_limit_and_offset(client, patient, patient_user):
    goals = [
        services.goal_create(actor=patient_user, patient=patient, what=f"Goal {n}")
        for n in range(3)
    ]
    for n in range(3):
        services.note_create(
            actor=patient_user, patient=patient, kind="story", audience="care_team", body=f"N{n}"
        )
    for rating in (-1, 0, 1):
        services.goal_rate(actor=patient_user, goal=goals[0], rating=rating)
    client.force_login(patient_user)
    for name, arg in (
        ("api_goal_list", patient.uuid),
        ("api_note_list", patient.uuid),
        ("api_goal_ratings", goals[0].uuid),
    ):
        url = reverse(name, args=[arg])
        whole = client.get(url).json()
        assert whole["count"] == 3 and len(whole["results"]) == 3, name
        page = client.get(url, {"limit": 2, "offset": 1}).json()
        assert page["results"] == whole["results"][1:], name
        assert client.get(url, {"limit": 0}).status_code == 400, name


def test_an_api_goal_edit_audits_once_and_a_stale_one_not_at_all(client, patient, patient_user):
    goal = services.goal_create(actor=patient_user, patient=patient, what="Sleep")
    client.force_login(patient_user)
    url = reverse("api_goal_detail", args=[goal.uuid])
    edit = {"what": "Sleep six hours", "version": 1}
    assert client.patch(url, edit, content_type="application/json").status_code == 200
    assert client.patch(url, edit, content_type="application/json").status_code == 409
    updates = AuditEvent.objects.filter(object_id=str(goal.uuid), action="update")
    assert list(updates.values_list("outcome", flat=True)) == ["allowed"]


def test_a_refused_api_note_edit_is_a_403_with_a_denied_row(
    client, patient, patient_user, prescriber
):
    note = services.note_create(
        actor=patient_user, patient=patient, kind="story", audience="care_team", body="Mine"
    )
    client.force_login(prescriber)
    refused = client.patch(
        reverse("api_note_detail", args=[note.uuid]),
        {"body": "Changed", "version": 1},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert "Only the person who wrote it" in refused.json()["detail"]
    updates = AuditEvent.objects.filter(object_id=str(note.uuid), action="update")
    assert list(updates.values_list("outcome", flat=True)) == ["denied"]


def test_the_patient_is_told_the_summary_is_the_teams_to_write(client, patient, patient_user):
    client.force_login(patient_user)
    refused = client.put(
        reverse("api_summary", args=[patient.uuid]),
        {"text": "About me", "version": 0},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert "care team writes" in refused.json()["detail"]
