"""Reminders: once each, quiet hours deferred, opt-outs honoured, safety alerts always."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from core import nudges
from core.models import Notification, NotificationPreference, Nudge

NY = ZoneInfo("America/New_York")


class TestQuietHours:
    def test_inside_overnight_quiet_hours(self):
        end = nudges.quiet_end(datetime(2026, 3, 3, 23, 30, tzinfo=NY), time(22), time(7))
        assert end == datetime(2026, 3, 4, 7, 0, tzinfo=NY)
        assert nudges.quiet_end(
            datetime(2026, 3, 4, 6, 0, tzinfo=NY), time(22), time(7)
        ) == datetime(2026, 3, 4, 7, 0, tzinfo=NY)

    def test_outside(self):
        assert nudges.quiet_end(datetime(2026, 3, 3, 12, 0, tzinfo=NY), time(22), time(7)) is None
        assert nudges.quiet_end(datetime(2026, 3, 3, 12, 0, tzinfo=NY), None, None) is None

    @given(
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)),
        st.times(),
        st.times(),
    )
    def test_the_end_is_never_inside_and_never_more_than_a_day_away(self, naive, start, stop):
        now = naive.replace(tzinfo=NY)
        end = nudges.quiet_end(now, start, stop)
        if end is not None:
            assert now < end <= now + timedelta(days=1)
            assert end.time() == stop


def _nudge(user, **extra):
    nudges.schedule(
        [
            nudges.Candidate(
                kind="refill_ask_soon",
                subject="m-1",
                due_on=date(2026, 3, 1),
                recipient_id=user.pk,
                title="Time to ask for a refill",
                link="/x/",
                **extra,
            )
        ]
    )
    return Nudge.objects.get(recipient=user)


@pytest.mark.django_db
class TestDelivery:
    def test_scheduling_three_times_sends_once(self, patient_user):
        for _ in range(3):
            _nudge(patient_user)
            nudges.deliver()
        assert Nudge.objects.count() == 1
        assert Notification.objects.filter(recipient=patient_user).count() == 1
        assert len(mail.outbox) == 1
        assert mail.outbox[0].body.startswith("Time to ask for a refill")

    def test_quiet_hours_defer_not_drop(self, patient_user, patient, time_machine):
        NotificationPreference.objects.create(
            user=patient_user, quiet_from=time(21), quiet_until=time(8)
        )
        time_machine.move_to(datetime(2026, 3, 3, 23, 0, tzinfo=NY))
        nudge = _nudge(patient_user)
        assert nudges.deliver()["deferred"] == 1
        nudge.refresh_from_db()
        assert nudge.status == "pending"
        assert nudge.deliver_after == datetime(2026, 3, 4, 8, 0, tzinfo=NY)
        assert mail.outbox == []
        time_machine.move_to(datetime(2026, 3, 4, 8, 1, tzinfo=NY))
        assert nudges.deliver()["sent"] == 1
        assert len(mail.outbox) == 1

    def test_emails_off_and_quiet_hours_hold_reminders_back_but_never_safety_alerts(
        self, prescriber
    ):
        NotificationPreference.objects.create(
            user=prescriber,
            email_enabled=False,
            email_off=["refills"],
            quiet_from=time(0),
            quiet_until=time(23, 59),
        )
        _nudge(prescriber)
        nudges.schedule(
            [
                nudges.Candidate(
                    kind="safety_alert",
                    subject="f-1",
                    due_on=date(2026, 3, 1),
                    recipient_id=prescriber.pk,
                    title="Urgent",
                    essential=True,
                )
            ]
        )
        counts = nudges.deliver()
        assert (counts["deferred"], counts["sent"]) == (1, 1)
        assert [m.subject for m in mail.outbox] == ["Concord: Urgent"]
        assert list(Notification.objects.values_list("kind", flat=True)) == ["safety_alert"]

    def test_channels(self, patient_user):
        """E-mail off: the reminder still appears in Concord (in-app is always on)."""
        NotificationPreference.objects.create(user=patient_user, email_enabled=False)
        _nudge(patient_user)
        nudges.deliver()
        assert mail.outbox == []
        assert Notification.objects.filter(recipient=patient_user).count() == 1

    def test_a_failing_send_is_retried_with_backoff_and_then_visible(self, patient_user, settings):
        settings.EMAIL_BACKEND = "tests.core.failing_mail.Backend"
        nudge = _nudge(patient_user)
        for _ in range(nudges.MAX_ATTEMPTS):
            Nudge.objects.filter(pk=nudge.pk).update(deliver_after=timezone.now())
            nudges.deliver()
        nudge.refresh_from_db()
        assert (nudge.status, nudge.attempts) == ("failed", nudges.MAX_ATTEMPTS)
        assert "SMTP down" in nudge.last_error
        assert not Notification.objects.exists()  # rolled back with the failed send


class TestRegistry:
    def test_every_kind_is_registered_once_with_its_words_link_and_schedule(self):
        registered = {k.kind: k for k in nudges.kinds()}
        swept = {
            "refill_ask_soon",
            "renewal_ask_soon",
            "refill_ask_today",
            "renewal_ask_today",
            "refill_overdue",
            "check_in_due",
            "referral_unanswered",
            "release_expiring",
            "message_overdue",
            "review_due",
            "visit_tomorrow",
        }
        sent_when_it_happens = {
            "refill_requested",
            "refill_requested_late",
            "safety_alert",
            "alliance_concern",
            "message_received",
            "message_answered",
            "visit_booked",
            "visit_changed",
            "visit_change_asked",
        }
        assert set(registered) == swept | sent_when_it_happens
        assert {k for k, e in registered.items() if e.candidates} == swept
        assert all(registered[k].every == 15 for k in swept)
        assert all(registered[k].every is None for k in sent_when_it_happens)
        assert {k for k, e in registered.items() if e.essential} == {"safety_alert"}
        assert all(e.title and e.link.startswith("/") for e in registered.values())
        assert nudges.sweep_intervals() == [15]

    def test_every_reminder_one_may_turn_off_is_in_a_group_and_no_safety_alert_is(self):
        """What the settings page offers is the registry's groups: a kind outside every group
        could be neither turned off nor unsubscribed from; an essential one must never be."""
        grouped = {k.kind: k.group for k in nudges.kinds()}
        assert grouped == {
            "check_in_due": "check_ins",
            "refill_ask_soon": "refills",
            "renewal_ask_soon": "refills",
            "refill_ask_today": "refills",
            "renewal_ask_today": "refills",
            "release_expiring": "releases",
            "refill_overdue": "refill_requests",
            "refill_requested": "refill_requests",
            "refill_requested_late": "refill_requests",
            "referral_unanswered": "referrals",
            "review_due": "reviews",
            "alliance_concern": "alliance",
            "message_received": "messages",
            "message_answered": "messages",
            "message_overdue": "messages",
            "visit_tomorrow": "visits",
            "visit_booked": "visits",
            "visit_changed": "visits",
            "visit_change_asked": "visit_requests",
            "safety_alert": "",
        }
        with pytest.raises(ValueError, match="cannot be turned off"):
            nudges.register("test_essential", title="x", link="/", essential=True, group="refills")
        with pytest.raises(ValueError, match="register its group"):
            nudges.register("test_orphan", title="x", link="/", group="no_such_group")

    def test_a_kind_registered_twice_differently_is_refused(self):
        with pytest.raises(ValueError, match="twice"):
            nudges.register("safety_alert", title="Something else", link="/")
        with pytest.raises(KeyError):
            nudges.reminder("never_registered", subject="x", due_on=date.today(), recipient_id=1)


@pytest.fixture
def ping_kind(patient_user):
    """A kind no app has: one registration, as an app's ready() would make it."""

    def who_is_due(*, on):
        return [
            nudges.reminder(
                "test_ping", subject="p-1", due_on=on, recipient_id=patient_user.pk, word="hello"
            )
        ]

    nudges.register(
        "test_ping", title="A ping", link="/ping/{subject}/{word}/", candidates=who_is_due, every=5
    )
    yield
    nudges.unregister("test_ping")


@pytest.mark.django_db
class TestSweep:
    def test_a_newly_registered_kind_is_swept_and_delivered_once(self, ping_kind, patient_user):
        from core.tasks import sweep_nudges

        assert nudges.sweep_intervals() == [5, 15]
        for _ in range(3):
            sweep_nudges()
        nudge = Nudge.objects.get(kind="test_ping")
        assert (nudge.status, nudge.recipient, nudge.link) == (
            "sent",
            patient_user,
            "/ping/p-1/hello/",
        )
        assert Notification.objects.get(recipient=patient_user).title == "A ping"
        assert len(mail.outbox) == 1 and "/ping/p-1/hello/" in mail.outbox[0].body

    def test_a_sweep_at_one_interval_leaves_the_kinds_of_another(self, ping_kind):
        from core.tasks import sweep_nudges

        sweep_nudges(every=15)
        assert not Nudge.objects.filter(kind="test_ping").exists()
        sweep_nudges(every=5)
        assert Nudge.objects.filter(kind="test_ping").count() == 1

    def test_the_loop_command_sweeps_every_registered_kind(self, ping_kind, capsys):
        from django.core.management import call_command

        call_command("nudges", "--dry-run")
        assert "test_ping" in capsys.readouterr().out
        call_command("nudges")
        assert Nudge.objects.get(kind="test_ping").status == "sent"

    def test_beat_has_one_entry_per_interval_and_none_of_the_old_per_app_sweeps(self, ping_kind):
        import json

        from django_celery_beat.models import PeriodicTask

        from core.apps import _reminder_beat

        PeriodicTask.objects.filter(task="core.tasks.sweep_nudges").delete()
        _reminder_beat(sender=None)
        entries = {
            t.name: (t.interval.every, json.loads(t.kwargs))
            for t in PeriodicTask.objects.filter(task="core.tasks.sweep_nudges")
        }
        assert entries == {
            "Reminders swept every 5 minutes": (5, {"every": 5}),
            "Reminders swept every 15 minutes": (15, {"every": 15}),
        }
        assert (
            not PeriodicTask.objects.filter(task__contains="sweep_")
            .exclude(task="core.tasks.sweep_nudges")
            .exists()
        )
        assert PeriodicTask.objects.filter(task="core.tasks.deliver_nudges").exists()


@pytest.mark.django_db
def test_a_patient_s_check_in_delivers_nobody_else_s_reminder(
    client, patient, patient_user, prescriber, therapist, django_capture_on_commit_callbacks
):
    """The submit (even one raising a safety alert) sends only the patient's own crisis help;
    another patient's due reminder and the care team's alert go out with the next sweep."""
    from django.urls import reverse

    from alliance import selectors as alliance_selectors
    from alliance import services as alliance_services
    from alliance.models import Flag
    from core.tasks import sweep_nudges
    from tests import factories
    from tests.alliance.conftest import answer_all

    other = factories.PatientUserFactory(email="someone.else@example.test")
    nudges.schedule(
        [
            nudges.reminder(
                "refill_ask_soon", subject="m-9", due_on=timezone.localdate(), recipient_id=other.pk
            )
        ]
    )
    alliance_services.install_shipped()
    phq9 = next(i for i in alliance_selectors.instruments_offered() if i.key == "phq-9")
    check_in = alliance_services.check_in_start(
        actor=patient_user, patient=patient, instrument=phq9
    )
    answers = {**answer_all(phq9, 0), "phq9_9": 1}
    client.force_login(patient_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("check_in", args=[check_in.uuid]), {**answers, "action": "submit"}
        )
    assert response.status_code in (200, 302)
    assert Nudge.objects.get(recipient=other).status == "pending"
    assert set(Nudge.objects.filter(kind="safety_alert").values_list("status", flat=True)) == {
        "pending"
    }
    flag = Flag.objects.get(kind="safety")
    assert set(Nudge.objects.filter(kind="safety_alert").values_list("link", flat=True)) == {
        reverse("alliance", args=[patient.uuid]) + f"#flag-{flag.uuid}"
    }
    assert list(Notification.objects.values_list("recipient", "kind")) == [
        (patient_user.pk, "crisis_help")
    ]
    assert mail.outbox == []

    sweep_nudges()
    assert Nudge.objects.get(recipient=other).status == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [other.email, prescriber.email, therapist.email]
    )


@pytest.mark.django_db
def test_the_registered_words_and_links_are_what_the_sweep_schedules(
    patient, patient_user, prescriber
):
    """The check-in reminder's link names the patient, not its subject (the schedule)."""
    from datetime import timedelta

    from alliance.models import Schedule

    today = timezone.localdate()
    Schedule.objects.create(
        patient=patient,
        author=prescriber,
        instrument_key="phq-9",
        clinician=prescriber,
        next_visit_on=today + timedelta(days=3),
    )
    nudges.sweep()
    nudge = Nudge.objects.get(kind="check_in_due")
    assert (nudge.recipient, nudge.title, nudge.link, nudge.due_on) == (
        patient_user,
        "A short check-in before your next visit",
        f"/patients/{patient.uuid}/check-ins/",
        today - timedelta(days=4),
    )


@pytest.mark.django_db
def test_delivery_reads_in_batches_and_sends_each_due_once_oldest_first(patient_user):
    now = timezone.now()
    nudges.schedule(
        nudges.Candidate(
            kind="refill_ask_soon",
            subject=f"m-{i}",
            due_on=date(2026, 3, 1),
            recipient_id=patient_user.pk,
            title="Time to ask for a refill",
            link="/x/",
        )
        for i in range(7)
    )
    for i, nudge in enumerate(Nudge.objects.order_by("subject")):
        Nudge.objects.filter(pk=nudge.pk).update(deliver_after=now - timedelta(minutes=10 - i))
    first = nudges.deliver(now=now, limit=5, batch=2)
    assert first["sent"] == 5
    assert sorted(Nudge.objects.filter(status="pending").values_list("subject", flat=True)) == [
        "m-5",
        "m-6",
    ]
    assert nudges.deliver(now=now, batch=2)["sent"] == 2
    assert nudges.deliver(now=now, batch=2)["sent"] == 0
    assert Notification.objects.filter(recipient=patient_user).count() == 7
    assert len(mail.outbox) == 7
