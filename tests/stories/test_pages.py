"""Goals, notes and summary pages and their API: access, bad input, htmx partials, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stories import services
from stories.models import Goal, GoalRating, NarrativeNote
from tests import factories

pytestmark = pytest.mark.django_db


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_patient_writes_a_goal_and_rates_it(client, patient, patient_user, prescriber):
    client.force_login(patient_user)
    response = client.post(
        reverse("goal_create", args=[patient.uuid]),
        {
            "what": "Sleep through the night",
            "why": "I want to be rested for work",
            "level_0": "Five hours most nights",
        },
        follow=True,
    )
    assert "Your goal is saved." in response.content.decode()
    goal = Goal.objects.get()
    client.post(reverse("goal_rate", args=[goal.uuid]), {"rating": "1", "note": "Better this week"})
    assert GoalRating.objects.get().rating == 1

    client.force_login(prescriber)
    page = client.get(reverse("goals", args=[patient.uuid])).content.decode()
    assert "Sleep through the night" in page
    assert "Better this week" in page
    assert "Progress ratings, oldest to newest: +1" in page


def test_empty_goal_is_explained_and_nothing_saved(client, patient, patient_user):
    client.force_login(patient_user)
    response = client.post(
        reverse("goal_create", args=[patient.uuid]), {"what": "", "why": "because"}
    )
    assert response.status_code == 400
    assert "Write what you want, in your own words." in response.content.decode()
    assert 'value=""' not in response.content.decode().split('name="why"')[0][-5:]
    assert not Goal.objects.exists()


def test_bad_rating_through_htmx_returns_the_card_with_a_message(client, patient, patient_user):
    goal = services.goal_create(actor=patient_user, patient=patient, what="Walk daily")
    client.force_login(patient_user)
    response = client.post(
        reverse("goal_rate", args=[goal.uuid]), {"rating": "7"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith("<article")
    assert "Choose a rating from −2 to +2." in body
    assert not GoalRating.objects.exists()


def test_htmx_rating_returns_the_updated_card_only(client, patient, patient_user):
    goal = services.goal_create(actor=patient_user, patient=patient, what="Walk daily")
    client.force_login(patient_user)
    response = client.post(
        reverse("goal_rate", args=[goal.uuid]), {"rating": "-1"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert f'id="goal-{goal.uuid}"' in body
    assert "<html" not in body
    assert "Latest: <strong>−1</strong>" in body


def test_stale_goal_edit_shows_conflict_and_keeps_current_words(client, patient, patient_user):
    goal = services.goal_create(actor=patient_user, patient=patient, what="Original")
    services.goal_update(actor=patient_user, goal=goal, version=1, what="Changed on my phone")
    client.force_login(patient_user)
    response = client.post(
        reverse("goal_edit", args=[goal.uuid]), {"what": "Changed on my laptop", "version": "1"}
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed by someone else" in body
    assert "Changed on my phone" in body  # the current words are shown
    assert 'value="Changed on my laptop"' in body  # what they typed is not lost
    goal.refresh_from_db()
    assert goal.what == "Changed on my phone"


def test_therapist_cannot_edit_patients_goal_page(client, patient, patient_user, therapist):
    goal = services.goal_create(actor=patient_user, patient=patient, what="Original")
    client.force_login(therapist)
    response = client.post(
        reverse("goal_edit", args=[goal.uuid]), {"what": "Therapist words", "version": "1"}
    )
    assert response.status_code == 403
    assert "only the patient can change it" in response.content.decode()
    goal.refresh_from_db()
    assert goal.what == "Original"


def test_outsider_gets_not_found_on_every_stories_page(client, patient, patient_user):
    goal = services.goal_create(actor=patient_user, patient=patient, what="Private")
    note = services.note_create(
        actor=patient_user, patient=patient, kind="story", audience="care_team", body="x"
    )
    client.force_login(factories.TherapistFactory())
    for url in (
        reverse("goals", args=[patient.uuid]),
        reverse("notes", args=[patient.uuid]),
        reverse("goal_edit", args=[goal.uuid]),
        reverse("note_edit", args=[note.uuid]),
        reverse("api_goal_list", args=[patient.uuid]),
        reverse("api_goal_detail", args=[goal.uuid]),
        reverse("api_note_detail", args=[note.uuid]),
        reverse("api_note_list", args=[patient.uuid]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("goal_rate", args=[goal.uuid]), {"rating": "1"}).status_code == 404
    assert not GoalRating.objects.exists()


def test_psychotherapy_note_not_found_for_patient_and_co_treating_prescriber(
    client, patient, patient_user, prescriber, therapist
):
    note = services.note_create(
        actor=therapist,
        patient=patient,
        kind="psychotherapy",
        audience="only_me",
        body="Zq-process-material",
    )
    for reader in (patient_user, prescriber):
        client.force_login(reader)
        assert client.get(reverse("note_edit", args=[note.uuid])).status_code == 404
        assert client.get(reverse("api_note_detail", args=[note.uuid])).status_code == 404
        assert (
            "Zq-process-material"
            not in client.get(reverse("notes", args=[patient.uuid])).content.decode()
        )
    client.force_login(therapist)
    assert client.get(reverse("note_edit", args=[note.uuid])).status_code == 200


def test_notes_filter_by_kind_and_author(client, patient, patient_user, therapist):
    services.note_create(
        actor=patient_user,
        patient=patient,
        kind="story",
        audience="care_team",
        body="Patient story",
    )
    services.note_create(
        actor=therapist,
        patient=patient,
        kind="clinician",
        audience="care_team",
        body="Therapist note",
    )
    client.force_login(therapist)
    url = reverse("notes", args=[patient.uuid])
    assert [n.body for n in client.get(url, {"kind": "story"}).context["notes"]] == [
        "Patient story"
    ]
    by_therapist = client.get(url, {"author": str(therapist.uuid)}).context["notes"]
    assert [n.body for n in by_therapist] == ["Therapist note"]
    partial = client.get(url, {"kind": "clinician"}, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="timeline"')


def test_editing_another_persons_note_page_refuses(client, patient, patient_user, therapist):
    note = services.note_create(
        actor=patient_user, patient=patient, kind="story", audience="care_team", body="Mine"
    )
    client.force_login(therapist)
    response = client.post(
        reverse("note_edit", args=[note.uuid]),
        {"kind": "story", "audience": "care_team", "body": "Theirs", "version": "1"},
    )
    assert response.status_code == 403
    note.refresh_from_db()
    assert note.body == "Mine"


def test_goals_page_query_count_is_the_same_for_1_and_200_goals(client, patient, patient_user):
    client.force_login(patient_user)
    url = reverse("goals", args=[patient.uuid])
    goal = services.goal_create(actor=patient_user, patient=patient, what="Goal 0")
    services.goal_rate(actor=patient_user, goal=goal, rating=0)
    client.get(url)
    one = _count_queries(client, url)
    for i in range(199):
        g = Goal.objects.create(
            patient=patient, author=patient_user, proposed_by="patient", what=f"Goal {i + 1}"
        )
        GoalRating.objects.bulk_create(
            [GoalRating(goal=g, patient=patient, author=patient_user, rating=r) for r in (-1, 0, 1)]
        )
    many = _count_queries(client, url)
    assert one == many


def test_notes_page_query_count_is_the_same_for_1_and_200_notes(
    client, patient, patient_user, therapist
):
    client.force_login(therapist)
    url = reverse("notes", args=[patient.uuid])
    services.note_create(
        actor=therapist, patient=patient, kind="clinician", audience="care_team", body="First"
    )
    client.get(url)
    one = _count_queries(client, url)
    NarrativeNote.objects.bulk_create(
        [
            NarrativeNote(
                patient=patient,
                author=therapist,
                practice=therapist.practice,
                kind="clinician",
                audience="care_team",
                body=f"n{i}",
            )
            for i in range(100)
        ]
        + [
            NarrativeNote(
                patient=patient,
                author=patient_user,
                kind="story",
                audience="care_team",
                body=f"s{i}",
            )
            for i in range(99)
        ]
    )
    many = _count_queries(client, url)
    assert one == many


def test_summary_page_for_clinician_and_response_by_patient(
    client, patient, prescriber, patient_user
):
    client.force_login(prescriber)
    response = client.post(
        reverse("summary_edit", args=[patient.uuid]),
        {"text": "Dan fixes boats.", "version": "0"},
        follow=True,
    )
    assert "Dan fixes boats." in response.content.decode()
    client.force_login(patient_user)
    assert client.get(reverse("summary_edit", args=[patient.uuid])).status_code == 403
    client.post(
        reverse("summary_respond", args=[patient.uuid]), {"response": "And I sing.", "version": "1"}
    )
    page = client.get(reverse("goals", args=[patient.uuid])).content.decode()
    assert "And I sing." in page


class TestAPI:
    def test_goal_lifecycle_through_the_api(self, client, patient, patient_user, prescriber):
        client.force_login(prescriber)
        created = client.post(
            reverse("api_goal_list", args=[patient.uuid]),
            {"what": "Run a 5k"},
            content_type="application/json",
        )
        assert created.status_code == 201
        assert created.json()["status"] == "proposed"
        uuid = created.json()["uuid"]
        refused = client.post(
            reverse("api_goal_status", args=[uuid]),
            {"status": "active", "version": 1},
            content_type="application/json",
        )
        assert refused.status_code == 403
        client.force_login(patient_user)
        accepted = client.post(
            reverse("api_goal_status", args=[uuid]),
            {"status": "active", "version": 1},
            content_type="application/json",
        )
        assert accepted.json()["status"] == "active"
        rated = client.post(
            reverse("api_goal_ratings", args=[uuid]), {"rating": 2}, content_type="application/json"
        )
        assert rated.status_code == 201
        bad = client.post(
            reverse("api_goal_ratings", args=[uuid]), {"rating": 3}, content_type="application/json"
        )
        assert bad.status_code == 400
        assert "rating" in bad.json()
        stale = client.patch(
            reverse("api_goal_detail", args=[uuid]),
            {"what": "x", "version": 1},
            content_type="application/json",
        )
        assert stale.status_code == 409
        assert "Nothing was overwritten" in stale.json()["detail"]

    def test_a_patch_changes_only_what_it_sends(self, client, patient, patient_user):
        goal = services.goal_create(
            actor=patient_user,
            patient=patient,
            what="Sleep through",
            why="So I can work",
            levels={"level_0": "Five nights a week"},
        )
        note = services.note_create(
            actor=patient_user,
            patient=patient,
            kind="story",
            audience="care_team",
            title="The move",
            body="First draft",
        )
        client.force_login(patient_user)
        client.patch(
            reverse("api_goal_detail", args=[goal.uuid]),
            {"what": "Sleep through the night", "version": goal.version},
            content_type="application/json",
        )
        client.patch(
            reverse("api_note_detail", args=[note.uuid]),
            {"body": "Second draft", "version": note.version},
            content_type="application/json",
        )
        goal.refresh_from_db()
        note.refresh_from_db()
        assert (goal.what, goal.why, goal.level_0) == (
            "Sleep through the night",
            "So I can work",
            "Five nights a week",
        )
        assert (note.title, note.body) == ("The move", "Second draft")

    def test_bad_transition_is_a_clear_400(self, client, patient, patient_user):
        goal = services.goal_create(actor=patient_user, patient=patient, what="x")
        client.force_login(patient_user)
        response = client.post(
            reverse("api_goal_status", args=[goal.uuid]),
            {"status": "proposed", "version": 1},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "cannot become proposed" in response.json()["status"][0]

    def test_notes_api_respects_audience(self, client, patient, patient_user, prescriber):
        client.force_login(patient_user)
        for audience in ("only_me", "care_team"):
            client.post(
                reverse("api_note_list", args=[patient.uuid]),
                {"kind": "story", "audience": audience, "body": audience},
                content_type="application/json",
            )
        client.force_login(prescriber)
        listed = client.get(reverse("api_note_list", args=[patient.uuid])).json()
        bodies = [n["body"] for n in listed["results"]]
        assert bodies == ["care_team"]

    def test_schema_lists_the_stories_endpoints(self, client, patient_user):
        client.force_login(patient_user)
        paths = client.get(
            reverse("api_schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json"
        ).json()["paths"]
        assert "/api/v1/patients/{patient_uuid}/goals/" in paths
        assert "/api/v1/goals/{goal_uuid}/ratings/" in paths
        assert "/api/v1/patients/{patient_uuid}/summary/" in paths
