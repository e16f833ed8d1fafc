"""In-app notifications with an unread count, and e-mails that carry a link only."""

import pytest
from django.core import mail
from django.urls import reverse

from core import services
from core.models import Notification, NotificationPreference

pytestmark = pytest.mark.django_db


def test_unread_count_in_header_and_mark_read(client, prescriber):
    services.notification_send(
        recipient=prescriber, kind="test", title="A new referral is waiting", link="/patients/"
    )
    services.notification_send(
        recipient=prescriber, kind="test", title="A refill request is waiting"
    )
    client.force_login(prescriber)
    page = client.get(reverse("patient_list")).content.decode()
    assert 'aria-label="2 unread"' in page
    inbox = client.get(reverse("notifications")).content.decode()
    assert "A new referral is waiting" in inbox
    client.post(reverse("notifications_read"))
    assert 'unread"' not in client.get(reverse("patient_list")).content.decode().split("</nav>")[0]
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_notifications_are_private(client, prescriber, therapist):
    services.notification_send(recipient=prescriber, kind="test", title="For the prescriber only")
    client.force_login(therapist)
    assert "For the prescriber only" not in client.get(reverse("notifications")).content.decode()
    mine = Notification.objects.get()
    client.post(reverse("notifications_read"), {"uuid": str(mine.uuid)})
    assert Notification.objects.get().read_at is None


def test_email_carries_a_link_and_is_sent_once(prescriber, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = services.notification_send(
            recipient=prescriber,
            kind="test",
            title="Something needs your attention",
            link="/notifications/",
        )
    assert len(mail.outbox) == 1
    assert "http://127.0.0.1:8000/notifications/" in mail.outbox[0].body
    callbacks[0]()  # a retry of the same delivery
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_email_respects_preference(prescriber, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=prescriber, email_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.notification_send(recipient=prescriber, kind="test", title="In-app only")
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=prescriber).count() == 1
