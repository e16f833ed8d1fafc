"""A form sent twice is one record; a person's deliberate choices are each kept."""

import pytest

from referrals import services as referrals
from stories import services as stories
from stories.models import GoalRating, NarrativeNote
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_double_click_is_one_record(patient, patient_user):
    first = stories.goal_create(actor=patient_user, patient=patient, what="Walk daily")
    again = stories.goal_create(actor=patient_user, patient=patient, what="Walk daily")
    assert again == first


def test_going_back_to_an_earlier_answer_is_a_new_answer(patient, patient_user):
    goal = stories.goal_create(actor=patient_user, patient=patient, what="Sleep")
    for rating in (0, 1, 0):
        stories.goal_rate(actor=patient_user, goal=goal, rating=rating)
    ratings = GoalRating.objects.filter(goal=goal).order_by("rated_at", "pk")
    assert [r.rating for r in ratings] == [0, 1, 0]


def test_a_note_entered_again_after_marking_it_in_error_is_kept(patient, prescriber):
    note = stories.note_create(
        actor=prescriber, patient=patient, kind="clinician", audience="care_team", body="Seen"
    )
    stories.note_mark_entered_in_error(actor=prescriber, note=note, version=note.version)
    again = stories.note_create(
        actor=prescriber, patient=patient, kind="clinician", audience="care_team", body="Seen"
    )
    assert again != note
    assert again.status == NarrativeNote.Status.CURRENT


def test_a_referral_sent_again_after_it_was_declined_is_a_new_referral(patient, therapist):
    to = factories.PrescriberFactory(practice=factories.PracticeFactory(name="North"))
    first = referrals.referral_create(actor=therapist, patient=patient, to_clinician=to, reason="r")
    referrals.referral_move(actor=to, referral=first, status="declined", reason="Full")
    again = referrals.referral_create(actor=therapist, patient=patient, to_clinician=to, reason="r")
    assert again != first
    assert again.status == "sent"
