import pytest

from prescribing import services
from stories import services as stories_services


@pytest.fixture
def goal(patient, patient_user):
    return stories_services.goal_create(
        actor=patient_user, patient=patient, what="Sleep through the night"
    )


@pytest.fixture
def sertraline(patient, prescriber, goal):
    return services.medication_start(
        needs=["patient_goals"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="once a day in the morning",
        purpose="To feel less on edge so I can sleep",
        goal_uuids=[goal.uuid],
        reason="Nightmares and hypervigilance; Dan wants to sleep",
        patient_preference="Something that won't make me groggy at work",
        decided_together=True,
    )


@pytest.fixture
def colleague_therapist(patient, prescriber):
    """A therapist of the prescriber's own practice on the team: sees the plan, does not
    prescribe."""
    from tests import factories

    therapist = factories.TherapistFactory(full_name="Sam Ortiz", practice=prescriber.practice)
    factories.MembershipFactory(patient=patient, clinician=therapist)
    return therapist
