"""Goals, ratings, notes and the summary: transitions, bad input, who may do what, stale edits."""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from core.exceptions import Conflict, NotAllowed
from core.models import AuditEvent
from stories import selectors, services
from stories.models import Goal, GoalRating, GoalRevision, NarrativeNote, NoteRevision
from tests import factories

pytestmark = pytest.mark.django_db

G = Goal.Status


@pytest.fixture
def goal(patient, patient_user):
    return services.goal_create(
        actor=patient_user,
        patient=patient,
        what="Sleep through the night",
        why="To be present for my kids",
    )


class TestGoals:
    def test_patient_goal_is_active_and_in_their_words(self, goal, patient_user):
        assert goal.status == G.ACTIVE
        assert goal.proposed_by == Goal.ProposedBy.PATIENT
        assert goal.practice is None
        assert goal.author == patient_user

    def test_clinician_goal_is_proposed_until_the_patient_accepts(
        self, patient, prescriber, patient_user
    ):
        proposed = services.goal_create(
            actor=prescriber, patient=patient, what="Walk three times a week"
        )
        assert proposed.status == G.PROPOSED
        with pytest.raises(NotAllowed, match="Only the patient can accept"):
            services.goal_transition(
                actor=prescriber, goal=proposed, status=G.ACTIVE, version=proposed.version
            )
        accepted = services.goal_transition(
            actor=patient_user, goal=proposed, status=G.ACTIVE, version=proposed.version
        )
        assert accepted.status == G.ACTIVE

    def test_patient_rewrites_a_proposed_goal(self, patient, prescriber, patient_user):
        proposed = services.goal_create(actor=prescriber, patient=patient, what="Exercise more")
        rewritten = services.goal_update(
            actor=patient_user,
            goal=proposed,
            version=1,
            what="Walk the dog every morning",
            why="She needs it, and so do I",
        )
        assert rewritten.what == "Walk the dog every morning"
        assert GoalRevision.objects.get(goal=proposed).what == "Exercise more"

    @pytest.mark.parametrize(
        ("path", "allowed"),
        [
            (
                [G.ON_HOLD, G.ACTIVE, G.ACHIEVED, G.ACTIVE, G.LET_GO, G.ACTIVE, G.ENTERED_IN_ERROR],
                True,
            ),
            ([G.ACHIEVED, G.ON_HOLD], False),
            ([G.LET_GO, G.ACHIEVED], False),
            ([G.ENTERED_IN_ERROR, G.ACTIVE], False),
            ([G.PROPOSED], False),
        ],
    )
    def test_transitions(self, goal, patient_user, path, allowed):
        outcome = True
        try:
            for status in path:
                goal = services.goal_transition(
                    actor=patient_user, goal=goal, status=status, version=goal.version
                )
        except ValidationError as error:
            outcome = False
            assert "cannot become" in error.message_dict["status"][0]
        assert outcome is allowed
        assert goal.revisions.count() == (len(path) if allowed else path.index(path[-1]))

    def test_transitions_table_covers_every_status(self):
        assert set(Goal.TRANSITIONS) == set(G.values)
        for targets in Goal.TRANSITIONS.values():
            assert targets <= set(G.values)

    def test_empty_goal_is_refused_and_nothing_saved(self, patient, patient_user):
        with pytest.raises(ValidationError) as error:
            services.goal_create(actor=patient_user, patient=patient, what="   ")
        assert "own words" in str(error.value)
        assert not Goal.objects.exists()

    @pytest.mark.parametrize("bad", [3, -3, "a lot", None, 1.5])
    def test_rating_outside_the_scale_is_refused(self, goal, patient_user, bad):
        with pytest.raises(ValidationError, match="−2 to \\+2"):
            services.goal_rate(actor=patient_user, goal=goal, rating=bad)
        assert not GoalRating.objects.exists()

    def test_rating_is_kept_with_who_and_when(self, goal, prescriber):
        rating = services.goal_rate(actor=prescriber, goal=goal, rating=1, note="Sleeping 6 hours")
        assert (rating.rating, rating.author, rating.practice) == (
            1,
            prescriber,
            prescriber.practice,
        )

    def test_a_let_go_goal_cannot_be_rated(self, goal, patient_user):
        goal = services.goal_transition(
            actor=patient_user, goal=goal, status=G.LET_GO, version=goal.version
        )
        with pytest.raises(ValidationError, match="active goals"):
            services.goal_rate(actor=patient_user, goal=goal, rating=0)

    def test_clinician_cannot_rewrite_the_patients_words(self, goal, prescriber):
        with pytest.raises(NotAllowed, match="patient's own words"):
            services.goal_update(
                actor=prescriber, goal=goal, version=goal.version, what="Something else"
            )
        goal.refresh_from_db()
        assert goal.what == "Sleep through the night"

    def test_stale_edit_is_a_conflict_and_overwrites_nothing(self, goal, patient_user):
        services.goal_update(
            actor=patient_user, goal=goal, version=1, what="Sleep six hours", why=""
        )
        with pytest.raises(Conflict, match="changed by someone else"):
            services.goal_update(
                actor=patient_user, goal=goal, version=1, what="Older tab's words", why=""
            )
        goal.refresh_from_db()
        assert (goal.what, goal.version) == ("Sleep six hours", 2)

    def test_unrelated_clinician_cannot_touch_goals(self, goal, patient):
        outsider = factories.PrescriberFactory()
        with pytest.raises(Http404):
            services.goal_rate(actor=outsider, goal=goal, rating=1)
        with pytest.raises(Http404):
            services.goal_create(actor=outsider, patient=patient, what="Mine now")
        assert AuditEvent.objects.filter(actor=outsider, outcome="denied").count() == 2

    def test_goals_are_never_deleted_through_the_model_api(self, goal):
        from django.db.models import ProtectedError

        services.goal_rate(actor=goal.author, goal=goal, rating=0)
        with pytest.raises(ProtectedError):
            goal.delete()


class TestNotes:
    def test_psychotherapy_note_is_visible_to_its_author_alone(
        self, patient, patient_user, prescriber, therapist
    ):
        note = services.note_create(
            actor=therapist,
            patient=patient,
            kind="psychotherapy",
            audience="care_team",
            body="Process material",
        )
        assert note.audience == NarrativeNote.Audience.ONLY_ME  # forced, whatever was asked
        assert selectors.note_get(actor=therapist, note_uuid=note.uuid) == note
        colleague = factories.TherapistFactory(practice=therapist.practice)
        factories.MembershipFactory(patient=patient, clinician=colleague)
        for reader in (patient_user, prescriber, colleague):
            with pytest.raises(Http404):
                selectors.note_get(actor=reader, note_uuid=note.uuid)
            assert note not in selectors.note_list(actor=reader, patient=patient)

    def test_the_database_refuses_a_shared_process_note(self, patient, therapist):
        from django.db import IntegrityError

        with pytest.raises(IntegrityError):
            NarrativeNote.objects.create(
                patient=patient,
                author=therapist,
                practice=therapist.practice,
                kind="psychotherapy",
                audience="release",
                body="x",
            )

    def test_only_me_notes_stay_with_their_author(self, patient, patient_user, prescriber):
        private = services.note_create(
            actor=patient_user,
            patient=patient,
            kind="story",
            audience="only_me",
            body="Just for me",
        )
        shared = services.note_create(
            actor=patient_user,
            patient=patient,
            kind="story",
            audience="care_team",
            body="For my team",
        )
        assert set(selectors.note_list(actor=patient_user, patient=patient)) == {private, shared}
        assert selectors.note_list(actor=prescriber, patient=patient) == [shared]

    def test_clinician_notes_from_another_practice_need_a_release(
        self, patient, prescriber, therapist, patient_user
    ):
        note = services.note_create(
            actor=therapist,
            patient=patient,
            kind="clinician",
            audience="care_team",
            body="Session went well",
        )
        assert selectors.note_list(actor=therapist, patient=patient) == [note]
        assert selectors.note_list(actor=patient_user, patient=patient) == [note]
        assert (
            selectors.note_list(actor=prescriber, patient=patient) == []
        )  # other practice, no release yet

    def test_editing_another_persons_note_is_refused(self, patient, prescriber, patient_user):
        note = services.note_create(
            actor=patient_user, patient=patient, kind="story", audience="care_team", body="My words"
        )
        with pytest.raises(NotAllowed, match="Only the person who wrote"):
            services.note_update(actor=prescriber, note=note, version=1, body="Changed")
        note.refresh_from_db()
        assert note.body == "My words"
        assert not NoteRevision.objects.exists()

    def test_edit_keeps_the_earlier_version_and_stale_edit_conflicts(self, patient, therapist):
        note = services.note_create(
            actor=therapist, patient=patient, kind="clinician", audience="care_team", body="First"
        )
        services.note_update(actor=therapist, note=note, version=1, body="Second")
        with pytest.raises(Conflict, match="Nothing was overwritten"):
            services.note_update(actor=therapist, note=note, version=1, body="From a stale tab")
        note.refresh_from_db()
        assert note.body == "Second"
        assert [r.body for r in note.revisions.all()] == ["First"]

    def test_entered_in_error_instead_of_delete(self, patient, therapist):
        note = services.note_create(
            actor=therapist,
            patient=patient,
            kind="clinician",
            audience="care_team",
            body="Wrong patient",
        )
        services.note_mark_entered_in_error(actor=therapist, note=note, version=1)
        note.refresh_from_db()
        assert note.status == NarrativeNote.Status.ENTERED_IN_ERROR
        with pytest.raises(NotAllowed, match="entered in error"):
            services.note_update(actor=therapist, note=note, version=note.version, body="x")

    def test_empty_note_and_wrong_kinds_are_refused(self, patient, patient_user, prescriber):
        with pytest.raises(ValidationError, match="empty"):
            services.note_create(
                actor=patient_user, patient=patient, kind="story", audience="care_team", body="  "
            )
        with pytest.raises(ValidationError, match="your story"):
            services.note_create(
                actor=patient_user,
                patient=patient,
                kind="clinician",
                audience="care_team",
                body="x",
            )
        with pytest.raises(Http404):  # patients cannot write process notes at all
            services.note_create(
                actor=patient_user,
                patient=patient,
                kind="psychotherapy",
                audience="only_me",
                body="x",
            )
        with pytest.raises(ValidationError, match="patient's own"):
            services.note_create(
                actor=prescriber, patient=patient, kind="story", audience="care_team", body="x"
            )
        assert not NarrativeNote.objects.exists()

    def test_markdown_is_sanitised(self):
        from stories.markdown import render

        html = render(
            "**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
        )
        assert "<strong>bold</strong>" in html
        assert "<script" not in html
        assert "javascript:" not in html
        assert "onerror" not in html


class TestSummary:
    def test_care_team_writes_patient_responds(self, patient, prescriber, therapist, patient_user):
        summary = services.summary_save(
            actor=prescriber, patient=patient, text="Dan is a carpenter and a dad.", version=None
        )
        summary = services.summary_save(
            actor=therapist,
            patient=patient,
            text="Dan builds furniture; his daughters matter most.",
            version=1,
        )
        assert summary.version == 2
        with pytest.raises(NotAllowed):
            services.summary_save(actor=patient_user, patient=patient, text="x", version=2)
        summary = services.summary_respond(
            actor=patient_user, patient=patient, response="Yes, and I fish.", version=2
        )
        assert summary.patient_response == "Yes, and I fish."
        with pytest.raises(NotAllowed):
            services.summary_respond(
                actor=prescriber, patient=patient, response="x", version=summary.version
            )

    def test_stale_summary_edit_conflicts(self, patient, prescriber, therapist):
        services.summary_save(actor=prescriber, patient=patient, text="First words", version=None)
        services.summary_save(actor=therapist, patient=patient, text="Second words", version=1)
        with pytest.raises(Conflict):
            services.summary_save(actor=prescriber, patient=patient, text="Stale words", version=1)
        assert selectors.summary_get(actor=prescriber, patient=patient).text == "Second words"

    def test_empty_summary_refused(self, patient, prescriber):
        with pytest.raises(ValidationError, match="plain words"):
            services.summary_save(actor=prescriber, patient=patient, text=" ", version=None)


class TestOnlyThePatientDecidesWhereTheirGoalStands:
    def test_clinician_cannot_activate_by_way_of_let_go(self, patient, prescriber, patient_user):
        proposed = services.goal_create(actor=prescriber, patient=patient, what="Exercise")
        withdrawn = services.goal_transition(
            actor=prescriber, goal=proposed, status=G.LET_GO, version=1
        )
        with pytest.raises(NotAllowed):
            services.goal_transition(
                actor=prescriber, goal=withdrawn, status=G.ACTIVE, version=withdrawn.version
            )
        withdrawn.refresh_from_db()
        assert withdrawn.status == G.LET_GO

    def test_clinician_cannot_close_or_void_the_patients_goal(self, goal, prescriber):
        for status in (G.ACHIEVED, G.ON_HOLD, G.ENTERED_IN_ERROR, G.LET_GO):
            with pytest.raises(NotAllowed, match="the patient's own"):
                services.goal_transition(
                    actor=prescriber, goal=goal, status=status, version=goal.version
                )
        goal.refresh_from_db()
        assert goal.status == G.ACTIVE

    def test_buttons_offered_match_the_rule(self, goal, patient, prescriber, patient_user):
        proposal = services.goal_create(actor=prescriber, patient=patient, what="Exercise")
        assert services.transitions_for(prescriber, goal) == []
        assert [s for s, _ in services.transitions_for(prescriber, proposal)] == [
            G.LET_GO,
            G.ENTERED_IN_ERROR,
        ]
        assert G.ACTIVE in [s for s, _ in services.transitions_for(patient_user, proposal)]
