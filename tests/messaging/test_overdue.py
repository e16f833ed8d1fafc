"""A patient's message that nobody on the care team opens within the days their practice
promised: overdue on the clinicians' Today page ("waiting 3 days, promised 2") and one reminder
to the care team who reads it, whatever the sweeps and days that follow. Time is frozen at the
boundaries, in the clinic's time zone."""

import zoneinfo
from datetime import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from time_machine import travel

from core import nudges
from core.models import AuditEvent, Notification, Nudge
from messaging import selectors, services
from referrals import services as referrals
from tests import factories

pytestmark = pytest.mark.django_db

CLINIC = zoneinfo.ZoneInfo("America/New_York")
SUBJECT = "Zqsubject the new dose"
TEXT = "Zqtext since the new dose I cannot sleep"


def at(day, hour=10, minute=0):
    """A moment in December 2026 in the clinic's zone (the 7th is a Monday)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=CLINIC)


@pytest.fixture
def promises(prescriber, therapist):
    """Riverside (the prescriber's) promises 2 days; Harbor (the therapist's) promises nothing."""
    riverside = prescriber.practice
    riverside.reply_time = "within two days"
    riverside.reply_days = 2
    riverside.save()
    return riverside


def _write(patient, patient_user, when, to=None):
    with travel(when, tick=False):
        return services.conversation_start(
            actor=patient_user, patient=patient, clinician=to, subject=SUBJECT, text=TEXT
        )


def _today(client, user, when) -> str:
    with travel(when, tick=False):
        client.logout()
        client.force_login(user)  # signed in then: sessions time out
        response = client.get(reverse("today"))
        assert response.status_code == 200, (response.status_code, response.get("Location"))
        html = response.content.decode()
    return html.split('id="overdue-h"')[1].split("</section>")[0]


@pytest.mark.parametrize(
    "sent, looked, overdue",
    [
        (at(7, 10), at(9, 23, 59), False),  # Wednesday night: waiting 2 days, as promised
        (at(7, 10), at(10, 0, 1), True),  # Thursday, just after midnight: waiting 3
        (at(7, 23, 59), at(10, 0, 0), True),  # sent last thing Monday: a day is a day
        (at(8, 0, 0), at(10, 23, 59), False),  # sent first thing Tuesday: still on time
    ],
)
def test_the_boundary_is_the_promised_number_of_whole_days(
    client, patient, patient_user, prescriber, promises, sent, looked, overdue
):
    _write(patient, patient_user, sent, to=prescriber)
    section = _today(client, prescriber, looked)
    assert (SUBJECT in section) is overdue
    if overdue:
        assert "waiting 3 days, promised 2" in section
        assert "Dan Brooks" in section


def test_it_shows_to_those_who_read_it_and_goes_once_opened_by_the_team(
    client, patient, patient_user, prescriber, therapist, promises
):
    colleague = factories.PrescriberFactory(full_name="Dr. Rio Colleague")
    factories.MembershipFactory(patient=patient, clinician=colleague)
    conversation = _write(patient, patient_user, at(7), to=prescriber)
    # Her colleague in the same practice sees it too; the therapist elsewhere does not read it.
    assert SUBJECT in _today(client, colleague, at(10))
    assert SUBJECT not in _today(client, therapist, at(10))
    assert AuditEvent.objects.filter(
        actor=colleague, patient=patient, category="messages", action="list"
    ).exists()
    # The colleague opens it: it is no longer where nobody reads it.
    with travel(at(10, 9), tick=False):
        client.force_login(colleague)
        client.get(reverse("conversation", args=[conversation.uuid]))
    assert SUBJECT not in _today(client, prescriber, at(11))


def test_a_reader_under_a_release_does_not_count_as_the_team(
    client, patient, patient_user, prescriber, promises
):
    reader = factories.TherapistFactory(practice=factories.PracticeFactory(name="Lakeside"))
    with travel(at(6), tick=False):
        referrals.release_sign(
            actor=patient_user,
            patient=patient,
            discloser=prescriber,
            recipient=reader,
            categories=["messages"],
            purpose="So the people treating me can work together.",
            expires_on=at(31).date(),
            signed_name="Daniel Brooks",
            mutual=False,
        )
    conversation = _write(patient, patient_user, at(7), to=prescriber)
    with travel(at(8), tick=False):
        client.force_login(reader)
        assert client.get(reverse("conversation", args=[conversation.uuid])).status_code == 200
    assert SUBJECT in _today(client, prescriber, at(10))


def test_an_answer_is_a_reading_and_a_later_message_waits_anew(
    client, patient, patient_user, prescriber, promises
):
    conversation = _write(patient, patient_user, at(7), to=prescriber)
    with travel(at(8), tick=False):
        services.message_reply(actor=prescriber, conversation=conversation, text="Zqanswer")
    with travel(at(9), tick=False):
        services.message_reply(actor=patient_user, conversation=conversation, text="Zqagain")
    assert SUBJECT not in _today(client, prescriber, at(11, 23))
    section = _today(client, prescriber, at(12, 8))
    assert SUBJECT in section and "waiting 3 days, promised 2" in section


def test_to_the_whole_team_the_shortest_promise_holds_and_without_one_nothing_is_overdue(
    client, patient, patient_user, prescriber, therapist, promises
):
    _write(patient, patient_user, at(7))
    assert SUBJECT in _today(client, therapist, at(10))
    promises.reply_days = None
    promises.save()
    assert SUBJECT not in _today(client, prescriber, at(31))
    assert selectors.overdue_nudge_candidates(on=at(31).date()) == []


def test_the_team_that_reads_it_is_reminded_once_with_a_link_and_no_message(
    client, patient, patient_user, prescriber, therapist, promises
):
    colleague = factories.PrescriberFactory(full_name="Dr. Rio Colleague")
    factories.MembershipFactory(patient=patient, clinician=colleague)
    conversation = _write(patient, patient_user, at(7), to=prescriber)
    mail.outbox.clear()
    with travel(at(9, 23), tick=False):  # not yet overdue: nothing
        nudges.sweep()
    assert not Nudge.objects.filter(kind="message_overdue").exists()
    for day in (10, 11, 12):  # overdue for three days, swept again and again
        with travel(at(day, 9), tick=False):
            nudges.sweep()
            nudges.sweep()
            nudges.deliver()
    told = Notification.objects.filter(kind="message_overdue")
    assert sorted(n.recipient.full_name for n in told) == ["Dr. Priya Raman", "Dr. Rio Colleague"]
    assert {n.link for n in told} == {f"/messages/{conversation.uuid}/"}
    sent = [m for m in mail.outbox if "waiting past" in m.subject]
    assert len(sent) == 2
    for said in [n.title for n in told] + [m.subject + m.body for m in sent]:
        assert "Zq" not in said and "sleep" not in said
    assert not Notification.objects.filter(recipient=therapist, kind="message_overdue").exists()


def test_today_costs_the_same_few_queries_however_many_messages_wait(
    client, patient, patient_user, prescriber, promises, django_assert_max_num_queries
):
    def today_queries(count):
        for n in range(count):
            other = factories.PatientFactory(user=factories.PatientUserFactory())
            factories.MembershipFactory(patient=other, clinician=prescriber)
            with travel(at(7), tick=False):
                services.conversation_start(
                    actor=other.user, patient=other, clinician=prescriber, subject=f"S{n}", text="t"
                )
        with travel(at(10), tick=False):
            client.logout()
            client.force_login(prescriber)
            with CaptureQueriesContext(connection) as seen:
                assert client.get(reverse("today")).status_code == 200
        return len(seen)

    few = today_queries(1)
    many = today_queries(8)
    assert many <= few + 2, (few, many)
    with travel(at(10), tick=False), django_assert_max_num_queries(40):
        client.get(reverse("today"))


@pytest.mark.parametrize(
    "days, saved, said",
    [
        ("2", 2, ""),
        ("", None, ""),
        ("0", "unchanged", "greater than or equal to 1"),
        ("31", "unchanged", "less than or equal to 30"),
        ("two", "unchanged", "Enter a whole number"),
    ],
)
def test_the_clinic_admin_sets_the_days_and_bad_input_changes_nothing(
    client, prescriber, promises, days, saved, said
):
    admin = factories.UserFactory(role="admin", practice=prescriber.practice)
    client.force_login(admin)
    response = client.post(
        reverse("practice_settings", args=[prescriber.practice.uuid]),
        {"reply_time": "within two days", "reply_days": days},
    )
    promises.refresh_from_db()
    if saved == "unchanged":
        assert response.status_code == 400 and said in response.content.decode()
        assert promises.reply_days == 2
    else:
        assert response.status_code == 302
        assert promises.reply_days == saved
