"""A clinician makes a patient's message a record in one step (one post): an observation on a
medicine, a refill request on the patient's behalf, or a goal proposed to the patient; the
message links to it; nothing is written when any part is refused or wrong."""

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from messaging import services
from messaging.models import Message
from prescribing import services as rx
from prescribing.models import Observation, RefillRequest
from referrals import services as referrals
from stories import services as stories
from stories.models import Goal
from tests import factories

pytestmark = pytest.mark.django_db

TEXT = "Zqtext I am nearly out of sertraline and I want to sleep through the night again"


@pytest.fixture
def medication(patient, prescriber):
    return rx.medication_start(
        actor=prescriber,
        patient=patient,
        drug_name="Zqsertraline",
        not_coded=True,
        schedule="none",
        strength="50 mg",
        form="tablet",
        dose="1",
        directions="every morning",
        reason="Low mood",
        **factories.WHOSE_NEED,
    )


@pytest.fixture
def conversation(patient, patient_user):
    return services.conversation_start(
        actor=patient_user, patient=patient, subject="Zqsubject running out", text=TEXT
    )


def _post(client, conversation, **form):
    message = conversation.messages.get()
    data = {"message": str(message.uuid), **form}
    return client.post(reverse("conversation_record", args=[conversation.uuid]), data)


def test_a_message_becomes_a_refill_request_in_one_step_and_links_to_it(
    client, patient, patient_user, prescriber, medication, conversation
):
    # The prescriber asks on the patient's behalf, from what the patient wrote to the team.
    client.force_login(prescriber)
    page = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert "Ask for a refill for Dan" in page
    form = {"make": "refill_request", "medication": str(medication.uuid), "note": "Zqnote"}
    for _ in range(2):  # a double submit makes one request
        assert _post(client, conversation, **form).status_code == 302
    request = RefillRequest.objects.get(medication=medication)
    assert (request.author, request.status) == (prescriber, "requested")
    assert request.note.startswith("Asked in a message on ") and request.note.endswith("Zqnote")
    message = conversation.messages.get()
    assert (message.record_kind, message.record_uuid) == ("refill_request", request.uuid)
    page = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert "Recorded: Refill request for Zqsertraline" in page
    # The prescriber's queue has it; the patient's medicines say it was asked.
    assert "Zqsertraline" in client.get(reverse("refill_queue")).content.decode()
    client.force_login(patient_user)
    medicines = client.get(reverse("medications", args=[patient.uuid])).content.decode()
    assert "Refill requested on" in medicines
    mine = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert "Your care team asked for this refill for you" in mine
    assert "Make it a record" not in mine
    rows = AuditEvent.objects.filter(actor=prescriber, outcome="allowed")
    assert rows.filter(category="refills", action="create").count() == 1
    assert rows.filter(category="messages", action="update").count() == 1


def test_a_refill_already_asked_for_is_explained_and_nothing_is_linked(
    client, patient, patient_user, prescriber, medication, conversation
):
    rx.refill_request_create(actor=patient_user, medication=medication)
    client.force_login(prescriber)
    response = _post(
        client, conversation, make="refill_request", medication=str(medication.uuid), note=""
    )
    assert response.status_code == 400
    assert "A refill request for this medicine is already open" in response.content.decode()
    assert RefillRequest.objects.count() == 1
    assert conversation.messages.get().record_uuid is None


def test_a_message_becomes_a_goal_the_patient_accepts(
    client, patient, patient_user, prescriber, conversation
):
    client.force_login(prescriber)
    response = _post(
        client,
        conversation,
        make="goal",
        what="Sleep through the night again",
        why="So I can work mornings",
    )
    assert response.status_code == 302
    goal = Goal.objects.get(patient=patient)
    assert (goal.status, goal.author, goal.what) == (
        "proposed",
        prescriber,
        "Sleep through the night again",
    )
    message = conversation.messages.get()
    assert (message.record_kind, message.record_uuid) == ("goal", goal.uuid)
    goals_path = reverse("goals", args=[patient.uuid]) + f"#goal-{goal.uuid}"
    page = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert f'href="{goals_path}"' in page
    # The patient finds it from the message and accepts it: the goals' own flow.
    client.force_login(patient_user)
    mine = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert "proposed a goal from this message" in mine and f'href="{goals_path}"' in mine
    stories.goal_transition(actor=patient_user, goal=goal, status="active")
    goal.refresh_from_db()
    assert goal.status == "active"


def test_a_blank_goal_is_explained_and_nothing_is_written(client, prescriber, conversation):
    client.force_login(prescriber)
    response = _post(client, conversation, make="goal", what="  ", why="")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was recorded." in html and "Write the goal" in html
    assert not Goal.objects.exists()
    assert conversation.messages.get().record_uuid is None


@pytest.mark.parametrize(
    "make, form",
    [
        ("observation", {"kind": "response", "severity": "none", "text": "Zqobs"}),
        ("refill_request", {"note": ""}),
        ("goal", {"what": "Zqgoal"}),
    ],
)
def test_a_reader_under_a_release_makes_no_record(
    client, patient, patient_user, prescriber, medication, make, form
):
    reader = factories.TherapistFactory(practice=factories.PracticeFactory(name="Lakeside"))
    referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=reader,
        categories=["messages", "observations", "goals", "refills", "medications"],
        purpose="So the people treating me can work together.",
        expires_on=timezone.localdate() + timezone.timedelta(days=30),
        signed_name="Daniel Brooks",
        mutual=False,
    )
    conversation = services.conversation_start(
        actor=patient_user, patient=patient, clinician=prescriber, subject="Zqs", text=TEXT
    )
    client.force_login(reader)
    page = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert TEXT in page and "Make it a record" not in page
    response = _post(client, conversation, make=make, medication=str(medication.uuid), **form)
    assert response.status_code == 404
    assert not Observation.objects.exists()
    assert not RefillRequest.objects.exists()
    assert not Goal.objects.exists()
    assert Message.objects.get(conversation=conversation).record_uuid is None


def test_the_patient_makes_no_record_of_their_own_message(
    client, patient_user, medication, conversation
):
    client.force_login(patient_user)
    response = _post(client, conversation, make="goal", what="Zqgoal")
    assert response.status_code == 404
    assert not Goal.objects.exists()
    assert conversation.messages.get().record_uuid is None
    assert AuditEvent.objects.filter(
        actor=patient_user, category="messages", action="update", outcome="denied"
    ).exists()
