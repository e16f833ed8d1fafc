"""The signed-in person's notifications in the API: the list the Notifications page shows,
mark one read, mark all read. Each person's own inbox only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


def _note(user, title, *, minutes_ago=0, read=False):
    return Notification.objects.create(
        recipient=user,
        kind="test",
        title=title,
        link="/today/",
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        read_at=timezone.now() if read else None,
    )


def test_the_list_is_mine_newest_first_and_paginated(client, prescriber, therapist):
    older = _note(prescriber, "Older", minutes_ago=10)
    newer = _note(prescriber, "Newer", minutes_ago=1, read=True)
    _note(therapist, "Not yours")
    client.force_login(prescriber)
    body = client.get(reverse("api_notifications")).json()
    assert body["count"] == 2
    assert [n["uuid"] for n in body["results"]] == [str(newer.uuid), str(older.uuid)]
    assert body["results"][0]["read"] is True and body["results"][1]["read"] is False
    assert body["results"][1]["title"] == "Older" and body["results"][1]["link"] == "/today/"
    page = client.get(reverse("api_notifications"), {"limit": 1, "offset": 1}).json()
    assert [n["uuid"] for n in page["results"]] == [str(older.uuid)]
    unread = client.get(reverse("api_notifications"), {"unread": "true"}).json()
    assert [n["uuid"] for n in unread["results"]] == [str(older.uuid)]


def test_bad_filter_and_paging_are_400(client, prescriber):
    client.force_login(prescriber)
    assert client.get(reverse("api_notifications"), {"unread": "maybe"}).status_code == 400
    assert client.get(reverse("api_notifications"), {"limit": "-1"}).status_code == 400


def _read(client, **body):
    return client.post(reverse("api_notifications_read"), body, content_type="application/json")


def test_mark_one_read(client, prescriber):
    mine = _note(prescriber, "Mine")
    other = _note(prescriber, "Other")
    client.force_login(prescriber)
    response = _read(client, uuid=str(mine.uuid))
    assert response.status_code == 200
    assert response.json() == {"marked": 1}
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.read_at is not None and other.read_at is None
    # Again: nothing more to mark, and no error.
    assert _read(client, uuid=str(mine.uuid)).json() == {"marked": 0}
    listed = client.get(reverse("api_notifications")).json()["results"]
    assert {n["uuid"]: n["read"] for n in listed} == {str(mine.uuid): True, str(other.uuid): False}


def test_another_persons_notification_is_not_found_and_stays_unread(client, prescriber, therapist):
    theirs = _note(therapist, "Theirs")
    client.force_login(prescriber)
    assert _read(client, uuid=str(theirs.uuid)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert _read(client, uuid="not-a-uuid").status_code == 400


def test_mark_all_read_marks_only_mine(client, prescriber, therapist):
    for title in ("One", "Two"):
        _note(prescriber, title)
    _note(prescriber, "Read already", read=True)
    theirs = _note(therapist, "Theirs")
    client.force_login(prescriber)
    response = _read(client)
    assert response.status_code == 200
    assert response.json() == {"marked": 2}
    assert not Notification.objects.filter(recipient=prescriber, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    # The page's badge agrees.
    assert client.get(reverse("api_notifications"), {"unread": "true"}).json()["count"] == 0


def test_signed_out_gets_nothing(client, prescriber):
    _note(prescriber, "Mine")
    assert client.get(reverse("api_notifications")).status_code in (401, 403)
    assert client.post(reverse("api_notifications_read")).status_code in (401, 403)


def test_with_a_token(client, patient_user):
    _note(patient_user, "Your check-in is due")
    key = factories.api_token(patient_user)
    body = client.get(reverse("api_notifications"), HTTP_AUTHORIZATION=f"Token {key}").json()
    assert [n["title"] for n in body["results"]] == ["Your check-in is due"]


def test_in_the_schema(client, prescriber):
    client.force_login(prescriber)
    paths = client.get(reverse("api_schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = paths.json()["paths"]
    listing = paths["/api/v1/me/notifications/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"limit", "offset", "unread"}
    marking = paths["/api/v1/me/notifications/read/"]["post"]
    assert {"200", "400", "404"} <= set(marking["responses"])
