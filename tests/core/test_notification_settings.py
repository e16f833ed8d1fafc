"""A person's notification settings: the account page saves them, the sweep obeys them, and the
link in a reminder e-mail turns off that one group's e-mails without signing in.

What we chose: every reminder appears in Concord whatever the settings say; a person turns off
e-mails (all, or one group), and quiet hours hold reminders back until they end. Safety alerts
to the care team are no switch anywhere and ignore both."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from core import nudges
from core.models import AuditEvent, Notification, NotificationPreference, Nudge
from core.tasks import sweep_nudges
from prescribing import services as rx

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
SETTINGS = reverse("notification_settings")


def _pref(user) -> NotificationPreference:
    return NotificationPreference.objects.get(user=user)


def _as_saved(pref) -> tuple:
    return (pref.email_enabled, pref.email_off, pref.quiet_from, pref.quiet_until, pref.time_zone)


class TestTheAccountPage:
    def test_a_patient_saves_quiet_hours_and_turns_off_refill_emails(self, client, patient_user):
        client.force_login(patient_user)
        page = client.get(reverse("account_page")).content.decode()
        # Their own groups only, each on until turned off; no clinician's, no safety alert.
        assert re.findall(r'name="email_groups" value="(\w+)"[^>]* checked', page) == [
            "check_ins",
            "messages",
            "refills",
            "releases",
            "visits",
        ]
        assert "referrals" not in re.findall(r'name="email_groups" value="(\w+)"', page)
        assert "safety" not in " ".join(re.findall(r'<input[^>]*type="checkbox"[^>]*>', page))
        assert "Safety alerts cannot be turned off" in page
        assert "America/New York" in page  # the patient's record's time zone

        response = client.post(
            SETTINGS,
            {
                "email_enabled": "on",
                "email_groups": ["check_ins", "messages", "releases", "visits"],
                "quiet_from": "22:00",
                "quiet_until": "07:00",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("account_page") + "#notifications"
        assert _as_saved(_pref(patient_user)) == (True, ["refills"], time(22), time(7), "")
        page = client.get(response["Location"]).content.decode()
        assert "Saved your notification settings." in page
        assert 'value="22:00"' in page and 'value="07:00"' in page
        assert not re.search(r'value="refills"[^>]* checked', page)
        assert AuditEvent.objects.filter(
            actor=patient_user,
            category="account",
            action="update",
            outcome="allowed",
            object_type="core.NotificationPreference",
        ).exists()

    def test_a_clinician_chooses_a_time_zone_and_sees_the_care_team_s_groups(
        self, client, prescriber
    ):
        client.force_login(prescriber)
        page = client.get(reverse("account_page")).content.decode()
        assert re.findall(r'name="email_groups" value="(\w+)"', page) == [
            "alliance",
            "reviews",
            "messages",
            "referrals",
            "refill_requests",
            "releases",
            "visit_requests",
        ]
        client.post(
            SETTINGS,
            {"email_groups": ["referrals"], "time_zone": "America/Chicago"},
        )
        pref = _pref(prescriber)
        assert (pref.email_enabled, pref.time_zone, pref.quiet_from) == (
            False,
            "America/Chicago",
            None,
        )
        assert pref.email_off == [
            "alliance",
            "messages",
            "refill_requests",
            "releases",
            "reviews",
            "visit_requests",
        ]

    @pytest.mark.parametrize(
        "bad, says",
        [
            ({"quiet_from": "22:00"}, "Give an end time too"),
            ({"quiet_until": "07:00"}, "Give a start time too"),
            ({"quiet_from": "22:00", "quiet_until": "22:00"}, "start and end at the same time"),
            ({"quiet_from": "25:99", "quiet_until": "07:00"}, "Enter a time like 22:00."),
            ({"email_groups": ["safety_alert"]}, "That reminder is not one you get."),
            ({"email_groups": ["referrals"]}, "That reminder is not one you get."),
        ],
    )
    def test_bad_input_says_what_is_wrong_and_changes_nothing(
        self, client, patient_user, bad, says
    ):
        NotificationPreference.objects.create(
            user=patient_user, email_off=["check_ins"], quiet_from=time(21), quiet_until=time(8)
        )
        before = _as_saved(_pref(patient_user))
        client.force_login(patient_user)
        response = client.post(SETTINGS, {"email_enabled": "on", **bad})
        assert response.status_code == 400
        page = response.content.decode()
        assert "Nothing was saved." in page and says in page
        assert 'class="form-error error-summary"' in page
        assert _as_saved(_pref(patient_user)) == before
        assert not AuditEvent.objects.filter(object_type="core.NotificationPreference").exists()

    def test_a_clinician_s_unknown_time_zone_is_refused(self, client, prescriber):
        client.force_login(prescriber)
        response = client.post(SETTINGS, {"time_zone": "Mars/Olympus_Mons"})
        assert response.status_code == 400
        assert "Choose a time zone from the list." in response.content.decode()
        assert not NotificationPreference.objects.filter(user=prescriber).exists()

    def test_signed_out_nobody_reaches_the_page_or_saves(self, client, patient_user):
        assert client.get(reverse("account_page")).status_code == 302
        assert client.post(SETTINGS, {"email_enabled": ""}).status_code == 302
        assert not NotificationPreference.objects.exists()

    @pytest.mark.parametrize(
        "who, home", [("patient_user", "patient_home"), ("prescriber", "today")]
    )
    def test_the_header_leads_to_the_settings_for_patient_and_clinician(
        self, client, request, who, home
    ):
        user = request.getfixturevalue(who)
        client.force_login(user)
        page = client.get(reverse(home)).content.decode()
        header = page.split("</header>")[0]
        assert f'href="{reverse("account_page")}"' in header
        account = client.get(reverse("account_page")).content.decode()
        assert f'action="{SETTINGS}"' in account
        assert f'href="{reverse("account_change_password")}"' in account
        assert f'href="{reverse("account_email")}"' in account


def _medicine_due_a_refill_reminder(patient, prescriber) -> date:
    """A medicine filled on 1 March for 30 days; the day the patient is first due a reminder."""
    med = rx.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1",
        directions="daily",
        reason="r",
    )
    prescription = rx.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=3
    )
    rx.fill_record(actor=prescriber, prescription=prescription, filled_on=date(2026, 3, 1))
    day = date(2026, 3, 2)
    while not [c for c in nudges.due(day) if c.kind == "refill_ask_soon"]:
        day += timedelta(days=1)
        assert day < date(2026, 4, 15), "no refill reminder fell due"
    return day


class TestTheSweepObeys:
    def test_quiet_hours_and_refill_emails_off(
        self, client, patient, patient_user, prescriber, time_machine
    ):
        time_machine.move_to(datetime(2026, 3, 1, 9, 0, tzinfo=NY))
        due = _medicine_due_a_refill_reminder(patient, prescriber)
        client.force_login(patient_user)
        client.post(
            SETTINGS,
            {
                "email_enabled": "on",
                "email_groups": ["check_ins", "releases"],
                "quiet_from": "21:00",
                "quiet_until": "08:00",
            },
        )
        mail.outbox.clear()

        time_machine.move_to(datetime(due.year, due.month, due.day, 23, 0, tzinfo=NY))
        sweep_nudges()
        nudge = Nudge.objects.get(kind="refill_ask_soon")
        assert nudge.status == "pending"  # held back, not dropped
        assert nudge.deliver_after == datetime(due.year, due.month, due.day, tzinfo=NY) + timedelta(
            days=1, hours=8
        )
        assert not Notification.objects.filter(recipient=patient_user).exists()

        time_machine.move_to(nudge.deliver_after + timedelta(minutes=1))
        sweep_nudges()
        # In Concord, as always; by e-mail, not: the patient turned refill e-mails off.
        assert Notification.objects.get(recipient=patient_user).title == "Time to ask for a refill"
        assert [m for m in mail.outbox if patient_user.email in m.to] == []

    def test_the_prescriber_hears_of_a_passed_ask_by_date_whatever_the_patient_chose(
        self, patient, patient_user, prescriber, time_machine
    ):
        NotificationPreference.objects.create(
            user=patient_user,
            email_enabled=False,
            email_off=[g.key for g in nudges.groups_for(patient_user)],
        )
        time_machine.move_to(datetime(2026, 3, 1, 9, 0, tzinfo=NY))
        _medicine_due_a_refill_reminder(patient, prescriber)
        day = date(2026, 3, 2)
        while not [c for c in nudges.due(day) if c.kind == "refill_overdue"]:
            day += timedelta(days=1)
            assert day < date(2026, 4, 30), "no overdue alert fell due"
        time_machine.move_to(datetime(day.year, day.month, day.day, 10, 0, tzinfo=NY))
        mail.outbox.clear()
        sweep_nudges()
        assert Notification.objects.filter(recipient=prescriber, kind="refill_overdue").exists()
        assert [m.to for m in mail.outbox] == [[prescriber.email]]

    def test_another_group_still_comes_by_email(self, patient_user, time_machine):
        NotificationPreference.objects.create(user=patient_user, email_off=["refills"])
        nudges.schedule(
            [
                nudges.reminder(
                    "check_in_due",
                    subject="s-1",
                    due_on=date.today(),
                    recipient_id=patient_user.pk,
                    patient="p",
                )
            ]
        )
        nudges.deliver()
        assert [m.subject for m in mail.outbox] == [
            "Concord: A short check-in before your next visit"
        ]

    def test_a_safety_alert_comes_at_once_by_every_channel_whatever_was_chosen(
        self, prescriber, time_machine
    ):
        NotificationPreference.objects.create(
            user=prescriber,
            email_enabled=False,
            email_off=[g.key for g in nudges.groups_for(prescriber)],
            quiet_from=time(0),
            quiet_until=time(23, 59),
        )
        time_machine.move_to(datetime(2026, 3, 3, 3, 0, tzinfo=NY))
        nudges.send("safety_alert", subject="f-1", recipient_ids=[prescriber.pk], patient="p")
        nudges.deliver()
        assert Notification.objects.get(recipient=prescriber).kind == "safety_alert"
        assert [m.to for m in mail.outbox] == [[prescriber.email]]
        # Nothing in it to unsubscribe with: it cannot be turned off.
        assert "List-Unsubscribe" not in mail.outbox[0].extra_headers
        assert "unsubscribe" not in mail.outbox[0].body


def _refill_email(patient_user) -> mail.EmailMessage:
    nudges.schedule(
        [
            nudges.reminder(
                "refill_ask_soon", subject="m-1", due_on=date.today(), recipient_id=patient_user.pk
            )
        ]
    )
    nudges.deliver()
    (message,) = mail.outbox
    return message


def _link(message) -> str:
    return re.search(r"http://[^\s]+/notifications/unsubscribe/[^\s]+/", message.body).group(0)


class TestUnsubscribeLink:
    def test_signed_out_it_asks_then_turns_off_that_one_group_only(self, patient_user):
        NotificationPreference.objects.create(
            user=patient_user, quiet_from=time(22), quiet_until=time(7)
        )
        message = _refill_email(patient_user)
        link = _link(message)
        assert message.extra_headers == {
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        path = link.removeprefix("http://127.0.0.1:8000")
        anonymous = Client()

        page = anonymous.get(path)  # what a mail scanner does: nothing changes
        assert page.status_code == 200
        assert "Stop e-mails about refills?" in page.content.decode()
        assert _pref(patient_user).email_off == []

        done = anonymous.post(path)
        assert done.status_code == 200
        assert "no more e-mails about refills" in done.content.decode()
        assert _as_saved(_pref(patient_user)) == (True, ["refills"], time(22), time(7), "")
        row = AuditEvent.objects.get(object_type="core.NotificationPreference")
        assert (row.actor, row.category, row.outcome, row.object_id) == (
            None,
            "account",
            "allowed",
            str(patient_user.uuid),
        )
        assert "refills" in row.via

    def test_a_mail_program_s_one_click_post_needs_no_session_and_no_csrf_token(self, patient_user):
        path = _link(_refill_email(patient_user)).removeprefix("http://127.0.0.1:8000")
        response = Client(enforce_csrf_checks=True).post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200
        assert _pref(patient_user).email_off == ["refills"]

    @pytest.mark.parametrize(
        "forge",
        [
            pytest.param(
                lambda t, u: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"), id="tampered"
            ),
            pytest.param(
                lambda t, u: signing.dumps({"u": str(u.uuid), "g": "refills"}, salt="other"),
                id="wrong purpose",
            ),
            pytest.param(
                lambda t, u: signing.dumps(
                    {"u": str(u.uuid), "g": "safety_alert"}, salt=nudges.UNSUBSCRIBE_SALT
                ),
                id="no such group",
            ),
            pytest.param(
                lambda t, u: signing.dumps({"u": str(u.uuid), "g": "refills"}),
                id="unsalted",
            ),
        ],
    )
    def test_a_forged_token_is_refused_and_changes_nothing(self, client, patient_user, forge):
        token = nudges.unsubscribe_token(patient_user, "refills")
        path = reverse("unsubscribe", args=[forge(token, patient_user)])
        assert client.get(path).status_code == 400
        response = client.post(path)
        assert response.status_code == 400
        assert "This link no longer works" in response.content.decode()
        assert not NotificationPreference.objects.exists()
        assert AuditEvent.objects.get(object_type="core.NotificationPreference").outcome == "denied"

    def test_an_old_link_is_refused(self, client, patient_user, time_machine):
        time_machine.move_to(datetime(2026, 3, 1, 9, 0, tzinfo=NY))
        path = reverse("unsubscribe", args=[nudges.unsubscribe_token(patient_user, "refills")])
        time_machine.move_to(datetime(2026, 3, 1, 9, 0, tzinfo=NY) + timedelta(days=61))
        response = client.post(path)
        assert response.status_code == 400
        assert "more than two months old" in response.content.decode()
        assert not NotificationPreference.objects.exists()
