"""Who may read and change goals and notes is core.access's: the record rules answer the same
for one record (decide_record, get, guard) as for lists (visible), and every write leaves one
allowed row naming what it wrote, a denied row when refused, none when it did not happen."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from core import access
from core.access import Action, Category
from core.exceptions import Conflict, NotAllowed
from core.models import AuditEvent
from referrals import services as referrals
from stories import selectors, services
from stories.models import Goal, NarrativeNote

pytestmark = pytest.mark.django_db


def _rows(obj, action, outcome):
    return AuditEvent.objects.filter(
        object_type=obj._meta.label, object_id=str(obj.uuid), action=action, outcome=outcome
    )


def _release(patient_user, patient, discloser, recipient, categories):
    return referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=discloser,
        recipient=recipient,
        categories=categories,
        purpose="Coordinating care",
        expires_on=date.today() + timedelta(days=30),
        signed_name="Daniel Brooks",
    )


# --- Reading notes: the rules for one note and for lists say the same ----------------------


def test_only_me_story_is_refused_to_the_prescriber_one_by_one_and_in_lists(
    patient, patient_user, prescriber
):
    kept = services.note_create(
        actor=patient_user, patient=patient, kind="story", audience="only_me", body="Mine alone"
    )
    shared = services.note_create(
        actor=patient_user, patient=patient, kind="story", audience="care_team", body="For you"
    )
    assert not access.decide_record(prescriber, Action.READ, Category.NARRATIVE_NOTES, kept)
    assert access.decide_record(prescriber, Action.READ, Category.NARRATIVE_NOTES, shared)
    assert access.decide_record(patient_user, Action.READ, Category.NARRATIVE_NOTES, kept)
    assert selectors.note_list(actor=prescriber, patient=patient) == [shared]
    assert kept not in selectors.notes_visible(actor=prescriber)
    with pytest.raises(Exception) as refused:
        selectors.note_get(actor=prescriber, note_uuid=kept.uuid)
    assert refused.typename == "Http404"
    assert _rows(kept, "read", "denied").filter(actor=prescriber).exists()


def test_another_practices_note_needs_its_release_audience_even_under_a_release(
    client, patient, patient_user, prescriber, therapist
):
    """The therapist (another practice) writes for their care team; a release of notes from
    the therapist to the prescriber carries only the notes marked shareable under a release."""
    assert therapist.practice_id != prescriber.practice_id
    team_only = services.note_create(
        actor=therapist, patient=patient, kind="clinician", audience="care_team", body="Team only"
    )
    shareable = services.note_create(
        actor=therapist, patient=patient, kind="clinician", audience="release", body="Shareable"
    )
    _release(patient_user, patient, therapist, prescriber, ["narrative_notes"])
    assert not access.decide_record(prescriber, Action.READ, Category.NARRATIVE_NOTES, team_only)
    assert access.decide_record(prescriber, Action.READ, Category.NARRATIVE_NOTES, shareable)
    assert selectors.note_list(actor=prescriber, patient=patient) == [shareable]
    client.force_login(prescriber)
    assert client.get(reverse("note_edit", args=[team_only.uuid])).status_code == 404
    assert client.get(reverse("api_note_detail", args=[team_only.uuid])).status_code == 404
    assert client.get(reverse("api_note_detail", args=[shareable.uuid])).status_code == 200


# --- Changing a note: its author's, entered in error included -----------------------------


def test_a_refused_note_edit_leaves_a_denied_row_and_no_allowed_row(
    patient, patient_user, prescriber
):
    note = services.note_create(
        actor=patient_user, patient=patient, kind="story", audience="care_team", body="My words"
    )
    for change in (
        lambda: services.note_update(actor=prescriber, note=note, version=1, body="Changed"),
        lambda: services.note_mark_entered_in_error(actor=prescriber, note=note, version=1),
    ):
        with pytest.raises(NotAllowed, match="Only the person who wrote it"):
            change()
    assert _rows(note, "update", "denied").filter(actor=prescriber).count() == 2
    assert not _rows(note, "update", "allowed").exists()
    note.refresh_from_db()
    assert (note.body, note.status) == ("My words", NarrativeNote.Status.CURRENT)


def test_a_note_edit_leaves_one_allowed_row_and_a_conflicted_one_none(patient, therapist):
    note = services.note_create(
        actor=therapist, patient=patient, kind="clinician", audience="care_team", body="First"
    )
    services.note_update(actor=therapist, note=note, version=1, body="Second")
    assert _rows(note, "update", "allowed").count() == 1
    with pytest.raises(Conflict):
        services.note_update(actor=therapist, note=note, version=1, body="From a stale tab")
    with pytest.raises(Conflict):
        services.note_mark_entered_in_error(actor=therapist, note=note, version=1)
    assert _rows(note, "update", "allowed").count() == 1


# --- Goals: the patient's words; its proposer only while it waits ---------------------------


@pytest.fixture
def goal(patient, patient_user):
    return services.goal_create(actor=patient_user, patient=patient, what="Sleep through")


def test_a_refused_goal_edit_leaves_a_denied_row_and_no_allowed_row(client, goal, therapist):
    with pytest.raises(NotAllowed, match="patient's own words"):
        services.goal_update(actor=therapist, goal=goal, version=1, what="Therapist words")
    client.force_login(therapist)
    page = client.post(reverse("goal_edit", args=[goal.uuid]), {"what": "Again", "version": "1"})
    assert page.status_code == 403
    assert _rows(goal, "update", "denied").filter(actor=therapist).count() == 2
    assert not _rows(goal, "update", "allowed").exists()


def test_a_conflicted_goal_edit_leaves_no_allowed_update_row(client, goal, patient_user):
    """Once there were two "update, allowed" rows for an edit refused with 409."""
    services.goal_update(actor=patient_user, goal=goal, version=1, what="Sleep six hours")
    assert _rows(goal, "update", "allowed").count() == 1
    client.force_login(patient_user)
    stale = client.post(
        reverse("goal_edit", args=[goal.uuid]), {"what": "From the laptop", "version": "1"}
    )
    assert stale.status_code == 409
    assert 'value="From the laptop"' in stale.content.decode()
    with pytest.raises(Conflict):
        services.goal_update(actor=patient_user, goal=goal, version=1, what="Older tab")
    assert _rows(goal, "update", "allowed").count() == 1
    saved = client.post(
        reverse("goal_edit", args=[goal.uuid]), {"what": "From the laptop", "version": "2"}
    )
    assert saved.status_code == 302
    assert _rows(goal, "update", "allowed").count() == 2


def test_only_the_patient_accepts_a_proposed_goal(patient, patient_user, prescriber, therapist):
    proposal = services.goal_create(actor=prescriber, patient=patient, what="Walk daily")
    assert not access.decide_record(prescriber, Action.ANSWER, Category.GOALS, proposal)
    assert access.decide_record(patient_user, Action.ANSWER, Category.GOALS, proposal)
    # The proposer may reword it; a colleague may not.
    assert access.decide_record(prescriber, Action.UPDATE, Category.GOALS, proposal)
    assert not access.decide_record(therapist, Action.UPDATE, Category.GOALS, proposal)
    with pytest.raises(NotAllowed, match="Only the patient can accept"):
        services.goal_transition(actor=prescriber, goal=proposal, status="active", version=1)
    assert _rows(proposal, "answer", "denied").filter(actor=prescriber).exists()
    services.goal_transition(actor=patient_user, goal=proposal, status="active", version=1)
    assert _rows(proposal, "answer", "allowed").filter(actor=patient_user).count() == 1
    assert not _rows(proposal, "update", "allowed").exists()
    # Accepted: the proposer's words are the patient's now (a state the service checks).
    proposal.refresh_from_db()
    with pytest.raises(NotAllowed, match="once accepted"):
        services.goal_update(actor=prescriber, goal=proposal, version=2, what="Run daily")
    assert Goal.objects.get(pk=proposal.pk).what == "Walk daily"


def test_a_goal_rating_is_audited_once_naming_the_rating(goal, prescriber):
    rating = services.goal_rate(actor=prescriber, goal=goal, rating=1)
    assert _rows(rating, "create", "allowed").count() == 1


# --- The summary: the team writes, the patient responds ------------------------------------


def test_the_summary_is_the_teams_to_write_the_response_the_patients(
    client, patient, patient_user, prescriber
):
    assert access.can(prescriber, Action.UPDATE, Category.SUMMARY, patient)
    assert not access.can(patient_user, Action.UPDATE, Category.SUMMARY, patient)
    assert access.can(patient_user, Action.UPDATE, Category.SUMMARY_RESPONSE, patient)
    assert not access.can(prescriber, Action.UPDATE, Category.SUMMARY_RESPONSE, patient)
    with pytest.raises(NotAllowed, match="care team writes"):
        services.summary_save(actor=patient_user, patient=patient, text="Me", version=0)
    assert AuditEvent.objects.filter(
        actor=patient_user, category="summary", action="update", outcome="denied"
    ).exists()
    summary = services.summary_save(actor=prescriber, patient=patient, text="Dan", version=0)
    assert (
        AuditEvent.objects.filter(
            actor=prescriber, category="summary", action="update", outcome="allowed"
        ).count()
        == 1
    )
    with pytest.raises(Conflict):
        services.summary_save(actor=prescriber, patient=patient, text="Stale", version=0)
    assert (
        AuditEvent.objects.filter(
            actor=prescriber, category="summary", action="update", outcome="allowed"
        ).count()
        == 1
    )
    client.force_login(patient_user)
    page = client.get(reverse("goals", args=[patient.uuid])).content.decode()
    assert "Respond to this" in page and "Edit the summary" not in page
    client.force_login(prescriber)
    page = client.get(reverse("goals", args=[patient.uuid])).content.decode()
    assert "Respond to this" not in page and "Edit the summary" in page
    assert summary.version == 1
