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

    def test_opt_out_skips_reminders_but_not_safety_alerts(self, prescriber, time_machine):
        NotificationPreference.objects.create(
            user=prescriber, reminders_opt_out=True, quiet_from=time(0), quiet_until=time(23, 59)
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
        assert (counts["skipped"], counts["sent"]) == (1, 1)
        assert [m.subject for m in mail.outbox] == ["Concord: Urgent"]

    def test_channels(self, patient_user):
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
