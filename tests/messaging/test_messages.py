"""Secure messages: who reads a conversation across practices in each release state, the
audit of every read, list and write, notifications that carry no message, the notice that
messages are not for emergencies, the promised reply time, read receipts, the unread count,
a double submit, bad input, and a message recorded as an observation."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from time_machine import travel

from core import nudges
from core.models import AuditEvent, Notification
from messaging import services
from messaging.models import Conversation, Message
from prescribing import services as rx
from prescribing.models import Observation
from referrals import services as referrals
from tests import factories

pytestmark = pytest.mark.django_db

SUBJECT = "Zqsubject dizzy mornings"
TEXT = "Zqtext I feel dizzy every morning since the new dose"


@pytest.fixture
def recipient(db):
    """A therapist at Lakeside, not on the care team: reads only under a release."""
    lakeside = factories.PracticeFactory(name="Lakeside Therapy")
    return factories.TherapistFactory(full_name="Sam Recipient", practice=lakeside)


@pytest.fixture
def colleague(db, patient, prescriber):
    """Another Riverside prescriber on the team: the prescriber's own practice."""
    other = factories.PrescriberFactory(full_name="Dr. Rio Colleague")
    factories.MembershipFactory(patient=patient, clinician=other)
    return other


def _client(client, user):
    client.force_login(user)
    return client


def _start(patient, patient_user, to=None, subject=SUBJECT, text=TEXT):
    return services.conversation_start(
        actor=patient_user, patient=patient, clinician=to, subject=subject, text=text
    )


def _sign(patient, patient_user, discloser, recipient, categories, days=30):
    return referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=discloser,
        recipient=recipient,
        categories=categories,
        purpose="So the people treating me can work together.",
        expires_on=date.today() + timedelta(days=days),
        signed_name="Daniel Brooks",
        mutual=False,
    )


def _release_state(state, patient, patient_user, prescriber, readers):
    """Releases from the prescriber (Riverside) to each of `readers`."""
    for reader in readers:
        if state == "in force":
            _sign(patient, patient_user, prescriber, reader, ["messages"])
        elif state == "another category":
            _sign(patient, patient_user, prescriber, reader, ["observations", "goals"])
        elif state == "revoked":
            release = _sign(patient, patient_user, prescriber, reader, ["messages"])
            referrals.release_revoke(actor=patient_user, release=release)
        elif state == "expired":
            with travel(timezone.now() - timedelta(days=10), tick=True):
                _sign(patient, patient_user, prescriber, reader, ["messages"], days=3)


def _reads(client, user, conversation) -> bool:
    client.force_login(user)
    page = client.get(reverse("conversation", args=[conversation.uuid]))
    api = client.get(reverse("api_conversation", args=[conversation.uuid]))
    listed = client.get(reverse("messages_inbox"))
    in_list = conversation.subject in listed.content.decode()
    assert (page.status_code == 200) == (api.status_code == 200) == in_list, (
        page.status_code,
        api.status_code,
        in_list,
    )
    if page.status_code == 200:
        assert TEXT in page.content.decode()
    else:
        assert page.status_code == 404 and TEXT not in page.content.decode()
    return page.status_code == 200


@pytest.mark.parametrize(
    "state, therapist_reads",
    [
        ("none", False),
        ("in force", True),
        ("another category", False),
        ("revoked", False),
        ("expired", False),
    ],
)
def test_a_message_to_the_prescriber_crosses_practices_only_under_a_release_in_force(
    client,
    patient,
    patient_user,
    prescriber,
    therapist,
    recipient,
    colleague,
    state,
    therapist_reads,
):
    _release_state(state, patient, patient_user, prescriber, [therapist, recipient])
    conversation = _start(patient, patient_user, to=prescriber)
    assert _reads(client, patient_user, conversation)
    assert _reads(client, prescriber, conversation)
    # Her colleague on the team, in the same practice, covers for her.
    assert _reads(client, colleague, conversation)
    # Harbor (on the team, another practice) and Lakeside (off the team) need the release.
    assert _reads(client, therapist, conversation) is therapist_reads
    assert _reads(client, recipient, conversation) is therapist_reads
    unrelated = factories.PrescriberFactory(
        practice=factories.PracticeFactory(name="Hillside Psychiatry")
    )
    assert not _reads(client, unrelated, conversation)


def test_a_message_addressed_to_the_therapist_is_hers_not_the_prescribers(
    client, patient, patient_user, prescriber, therapist
):
    conversation = _start(patient, patient_user, to=therapist)
    assert _reads(client, therapist, conversation)
    assert not _reads(client, prescriber, conversation)
    # The prescriber's release to the therapist does not carry the therapist's own mail back.
    _sign(patient, patient_user, prescriber, therapist, ["messages"])
    assert not _reads(client, prescriber, conversation)


def test_a_message_to_the_whole_team_is_read_by_the_team_and_by_no_release(
    client, patient, patient_user, prescriber, therapist, recipient
):
    _sign(patient, patient_user, prescriber, recipient, ["messages"])
    conversation = _start(patient, patient_user)
    assert _reads(client, prescriber, conversation)
    assert _reads(client, therapist, conversation)
    assert not _reads(client, recipient, conversation)


def test_a_reader_under_a_release_reads_but_cannot_answer(
    client, patient, patient_user, prescriber, recipient
):
    _sign(patient, patient_user, prescriber, recipient, ["messages"])
    conversation = _start(patient, patient_user, to=prescriber)
    client.force_login(recipient)
    page = client.post(reverse("conversation", args=[conversation.uuid]), {"text": "Zqreply"})
    api = client.post(
        reverse("api_conversation", args=[conversation.uuid]),
        {"text": "Zqreply"},
        content_type="application/json",
    )
    assert (page.status_code, api.status_code) == (404, 404)
    assert not Message.objects.filter(text="Zqreply").exists()
    assert AuditEvent.objects.filter(
        actor=recipient, category="messages", action="answer", outcome="denied"
    ).exists()


def test_the_conversation_says_who_can_read_it(
    client, patient, patient_user, prescriber, therapist, recipient
):
    _sign(patient, patient_user, prescriber, recipient, ["messages"])
    conversation = _start(patient, patient_user, to=prescriber)
    page = _client(client, patient_user).get(reverse("conversation", args=[conversation.uuid]))
    readers = page.content.decode().split("Who can read this conversation")[1]
    assert "Dr. Priya Raman" in readers and "it is addressed to them" in readers
    assert "Sam Recipient" in readers and "under the release signed on" in readers
    assert "Jordan Lee" not in readers


def test_reads_lists_and_writes_are_audited(client, patient, patient_user, prescriber):
    _client(client, patient_user).post(
        reverse("message_compose", args=[patient.uuid]),
        {"to": str(prescriber.uuid), "subject": SUBJECT, "text": TEXT},
    )
    conversation = Conversation.objects.get(subject=SUBJECT)
    rows = AuditEvent.objects.filter(patient=patient, category="messages", outcome="allowed")
    assert rows.filter(actor=patient_user, action="create").count() == 1
    client.force_login(prescriber)
    client.get(reverse("messages_inbox"))
    client.get(reverse("conversation", args=[conversation.uuid]))
    client.post(reverse("conversation", args=[conversation.uuid]), {"text": "Zqanswer"})
    client.get(reverse("api_patient_messages", args=[patient.uuid]))
    # The inbox, and the API list (its door and what it sent).
    assert rows.filter(actor=prescriber, action="list").count() >= 2
    assert rows.filter(actor=prescriber, action="read").count() >= 2
    create = rows.filter(actor=prescriber, action="create").get()
    assert create.object_type == "messaging.Message" and create.via == "care_team"
    stranger = factories.PrescriberFactory(practice=factories.PracticeFactory(name="Hillside"))
    client.force_login(stranger)
    assert client.get(reverse("conversation", args=[conversation.uuid])).status_code == 404
    assert AuditEvent.objects.filter(
        actor=stranger, category="messages", action="read", outcome="denied"
    ).exists()


def test_the_notification_and_its_email_carry_a_link_never_the_message(
    client, patient, patient_user, prescriber, therapist
):
    conversation = _start(patient, patient_user, to=prescriber)
    services.message_reply(actor=prescriber, conversation=conversation, text="Zqanswer halve it")
    nudges.deliver()
    told = Notification.objects.filter(kind__in=["message_received", "message_answered"])
    assert {n.recipient_id for n in told} == {prescriber.pk, patient_user.pk}
    words = [n.title + n.link for n in told] + [m.subject + m.body for m in mail.outbox]
    assert len(mail.outbox) == 2
    for said in words:
        for secret in ("Zqsubject", "Zqtext", "dizzy", "Zqanswer"):
            assert secret not in said
    assert all(n.link == f"/messages/{conversation.uuid}/" for n in told)
    # Only who may read it is told: not the therapist of another practice.
    assert not Notification.objects.filter(recipient=therapist).exists()


def test_every_message_page_says_it_is_not_for_emergencies_with_the_crisis_page_one_link_away(
    client, patient, patient_user, prescriber
):
    conversation = _start(patient, patient_user, to=prescriber)
    crisis = f'href="{reverse("crisis_help")}"'
    pages = {
        patient_user: [
            reverse("messages_inbox"),
            reverse("message_compose", args=[patient.uuid]),
            reverse("conversation", args=[conversation.uuid]),
        ],
        prescriber: [
            reverse("messages_inbox"),
            reverse("patient_messages", args=[patient.uuid]),
            reverse("conversation", args=[conversation.uuid]),
        ],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            html = client.get(url).content.decode()
            assert "Messages are not for emergencies." in html, url
            assert crisis in html.split("Messages are not for emergencies.")[1], url
    # A form sent back with a mistake keeps the notice.
    client.force_login(patient_user)
    bad = client.post(reverse("message_compose", args=[patient.uuid]), {"to": "team"})
    assert bad.status_code == 400 and "Messages are not for emergencies." in bad.content.decode()


def test_the_compose_form_shows_the_reply_time_the_practice_promises(
    client, patient, patient_user, prescriber, therapist
):
    riverside = prescriber.practice
    riverside.reply_time = "within one business day"
    riverside.save()
    html = _client(client, patient_user).get(reverse("message_compose", args=[patient.uuid]))
    text = html.content.decode()
    assert "Riverside Psychiatry will be in touch within one business day." in text
    # Harbor promised nothing: no time is made up for it.
    assert "Harbor Counseling will be in touch" not in text


def test_without_a_promised_time_it_says_they_may_not_see_it_straight_away(
    client, patient, patient_user
):
    html = _client(client, patient_user).get(reverse("message_compose", args=[patient.uuid]))
    assert "may not see your message straight away" in html.content.decode()


def test_read_receipts_and_the_unread_count(client, patient, patient_user, prescriber):
    conversation = _start(patient, patient_user, to=prescriber)
    client.force_login(prescriber)
    header = client.get(reverse("messages_inbox")).content.decode()
    assert 'aria-label="1 unread"' in header
    client.force_login(patient_user)
    mine = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert "Not read yet" in mine
    client.force_login(prescriber)
    client.get(reverse("conversation", args=[conversation.uuid]))
    assert 'aria-label="1 unread"' not in client.get(reverse("messages_inbox")).content.decode()
    client.post(reverse("conversation", args=[conversation.uuid]), {"text": "Zqanswer"})
    client.force_login(patient_user)
    assert 'aria-label="1 unread"' in client.get(reverse("messages_inbox")).content.decode()
    mine = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert f"Read by Dr. Priya Raman, {timezone.localdate():%b} {timezone.localdate().day}" in mine


def test_a_double_submit_makes_one_conversation_and_one_reply(
    client, patient, patient_user, prescriber
):
    client.force_login(patient_user)
    form = {"to": "team", "subject": SUBJECT, "text": TEXT}
    for _ in range(2):
        client.post(reverse("message_compose", args=[patient.uuid]), form)
    conversation = Conversation.objects.get(patient=patient)
    for _ in range(2):
        client.post(reverse("conversation", args=[conversation.uuid]), {"text": "Zqagain"})
    assert Message.objects.filter(conversation=conversation).count() == 2


@pytest.mark.parametrize(
    "form, field_message",
    [
        ({"to": "team", "subject": "", "text": TEXT}, "Say in a few words what it is about."),
        ({"to": "team", "subject": SUBJECT, "text": "   "}, "Write your message."),
        ({"to": "not-on-the-team", "subject": SUBJECT, "text": TEXT}, "Choose someone"),
        ({"to": "team", "subject": "x" * 121, "text": TEXT}, "at most 120 characters"),
    ],
)
def test_bad_input_says_what_is_wrong_and_changes_nothing(
    client, patient, patient_user, form, field_message
):
    client.force_login(patient_user)
    response = client.post(reverse("message_compose", args=[patient.uuid]), form)
    assert response.status_code == 400
    assert field_message in response.content.decode()
    assert not Conversation.objects.exists()
    assert not AuditEvent.objects.filter(category="messages", action="create").exists()


def test_a_clinician_answers_but_does_not_start_a_conversation(client, patient, prescriber):
    client.force_login(prescriber)
    response = client.post(
        reverse("api_patient_messages", args=[patient.uuid]),
        {"subject": SUBJECT, "text": TEXT},
        content_type="application/json",
    )
    # The policy's tables refuse it (only the patient starts one), as they refuse a
    # clinician starting a check-in: not found, audited.
    assert response.status_code == 404
    assert not Conversation.objects.exists()


def test_a_message_becomes_an_observation_in_one_step_and_links_to_it(
    client, patient, patient_user, prescriber
):
    medication = rx.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Zqlithium",
        not_coded=True,
        schedule="none",
        strength="300 mg",
        form="tablet",
        dose="1",
        directions="twice a day",
        reason="Mood",
    )
    conversation = _start(patient, patient_user, to=prescriber)
    message = conversation.messages.get()
    client.force_login(prescriber)
    page = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert "Record as an observation" in page
    form = {
        "message": str(message.uuid),
        "medication": str(medication.uuid),
        "kind": "side_effect",
        "severity": "mild",
        "text": TEXT,
    }
    url = reverse("conversation_record", args=[conversation.uuid])
    for _ in range(2):
        response = client.post(url, form)
        assert response.status_code == 302
    observation = Observation.objects.get(medication=medication)
    assert (observation.kind, observation.author) == ("side_effect", prescriber)
    message.refresh_from_db()
    assert message.record_uuid == observation.uuid
    page = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert reverse("medication_detail", args=[medication.uuid]) in page
    client.force_login(patient_user)
    mine = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
    assert "added this to your record" in mine and "Record as an observation" not in mine


def test_recording_needs_a_medicine_and_changes_nothing_without_one(
    client, patient, patient_user, prescriber
):
    conversation = _start(patient, patient_user, to=prescriber)
    message = conversation.messages.get()
    client.force_login(prescriber)
    response = client.post(
        reverse("conversation_record", args=[conversation.uuid]),
        {"message": str(message.uuid), "medication": "", "kind": "response", "text": "x"},
    )
    assert response.status_code == 400
    assert "Choose the medicine it is about." in response.content.decode()
    assert not Observation.objects.exists()


def test_the_fhir_export_carries_the_messages_its_reader_may_read_as_communications(
    client, patient, patient_user, prescriber, therapist
):
    to_prescriber = _start(patient, patient_user, to=prescriber)
    services.message_reply(actor=prescriber, conversation=to_prescriber, text="Zqanswer")
    _start(patient, patient_user, to=therapist, subject="Zqfortherapist", text="Zqtherapisttext")

    def communications(user):
        client.force_login(user)
        bundle = client.get(reverse("api_fhir_export", args=[patient.uuid])).json()
        return [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Communication"
        ]

    mine = communications(patient_user)
    assert [c["payload"][0]["contentString"] for c in mine] == [TEXT, "Zqanswer", "Zqtherapisttext"]
    first, answer = mine[0], mine[1]
    assert first["topic"] == {"text": SUBJECT}
    assert first["recipient"] == [{"display": "Dr. Priya Raman"}]
    assert answer["inResponseTo"] == [{"reference": f"urn:uuid:{first['id']}"}]
    assert answer["sender"] == {"display": "Dr. Priya Raman"}
    assert [c["payload"][0]["contentString"] for c in communications(prescriber)] == [
        TEXT,
        "Zqanswer",
    ]
    assert AuditEvent.objects.filter(
        actor=prescriber, patient=patient, category="messages", action="export"
    ).exists()


def test_a_clinicians_refused_start_is_audited_on_the_page_too(client, patient, prescriber):
    client.force_login(prescriber)
    response = client.post(
        reverse("message_compose", args=[patient.uuid]),
        {"to": "team", "subject": SUBJECT, "text": TEXT},
    )
    assert response.status_code == 404
    assert not Conversation.objects.exists()
    assert AuditEvent.objects.filter(
        actor=prescriber, category="messages", action="create", outcome="denied"
    ).exists()


def test_the_inbox_and_a_conversation_cost_the_same_few_queries_however_many_messages(
    client, patient, patient_user, prescriber, django_assert_max_num_queries
):
    conversations = [
        _start(patient, patient_user, to=prescriber, subject=f"{SUBJECT} {n}") for n in range(8)
    ]
    longest = conversations[-1]
    for n in range(10):
        services.message_reply(actor=prescriber, conversation=longest, text=f"Zqanswer {n}")
    for user in (prescriber, patient_user):
        client.force_login(user)
        with django_assert_max_num_queries(16):
            assert client.get(reverse("messages_inbox")).status_code == 200
        with django_assert_max_num_queries(26):
            assert client.get(reverse("conversation", args=[longest.uuid])).status_code == 200


@pytest.mark.parametrize("state", ["none", "in force", "another category", "revoked", "expired"])
def test_both_sides_and_the_api_say_who_can_read_it_in_each_release_state(
    client, patient, patient_user, prescriber, therapist, recipient, colleague, state
):
    _release_state(state, patient, patient_user, prescriber, [recipient])
    conversation = _start(patient, patient_user, to=prescriber)
    expected = {"Dr. Priya Raman", "Dr. Rio Colleague"} | (
        {"Sam Recipient"} if state == "in force" else set()
    )
    for user in (patient_user, prescriber):
        client.force_login(user)
        page = client.get(reverse("conversation", args=[conversation.uuid])).content.decode()
        section = page.split("Who can read this conversation")[1].split("</section>")[0]
        for name in {"Dr. Rio Colleague", "Sam Recipient", "Jordan Lee"}:
            assert (name in section) is (name in expected), (user, name)
        api = client.get(reverse("api_conversation", args=[conversation.uuid])).json()
        readers = {r["name"]: r["because"] for r in api["readers"]}
        assert set(readers) == expected, user
        assert readers["Dr. Priya Raman"] == "it is addressed to them"
        if state == "in force":
            assert readers["Sam Recipient"].startswith("under the release signed on")
    # To the whole team: the team reads it, whatever the releases.
    team = _start(patient, patient_user, subject="Zqteam")
    api = client.get(reverse("api_conversation", args=[team.uuid])).json()
    assert {r["name"] for r in api["readers"]} == {
        "Dr. Priya Raman",
        "Dr. Rio Colleague",
        "Jordan Lee",
    }
