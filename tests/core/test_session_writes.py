"""The session row is written only when the session changes or its last-seen stamp is a minute
old; the idle timeout still signs a person out at the limit, exact to the minute."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.middleware import SEEN_RESOLUTION
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PAGE = "patient_list"


def sign_in(client, user):
    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    # The first page shows (and so removes from the session) the "signed in" message: a change.
    assert client.get(response["Location"], follow=True).status_code == 200


def session_writes(queries) -> int:
    return sum(
        1
        for q in queries
        if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
        and "django_session" in q["sql"]
    )


def get_page(client):
    return client.get(reverse(PAGE))


@pytest.fixture
def frozen(time_machine):
    """The clock stands still between shifts, so that boundaries are exact to the second."""
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


def test_requests_within_a_minute_write_the_session_at_most_once(
    client, prescriber, patient, frozen
):
    sign_in(client, prescriber)
    frozen.shift(timedelta(seconds=30))  # the stamp is refreshed somewhere in this minute
    with CaptureQueriesContext(connection) as queries:
        for _ in range(12):
            assert get_page(client).status_code == 200
            frozen.shift(timedelta(seconds=5))
    assert session_writes(queries) <= 1


def test_requests_right_after_sign_in_write_nothing(client, prescriber, patient, frozen):
    sign_in(client, prescriber)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            assert get_page(client).status_code == 200
            frozen.shift(timedelta(seconds=5))
    assert session_writes(queries) == 0


def test_a_steady_clicker_writes_about_once_a_minute(client, prescriber, patient, frozen):
    sign_in(client, prescriber)
    minutes = 5
    with CaptureQueriesContext(connection) as queries:
        for _ in range(minutes * 6):
            frozen.shift(timedelta(seconds=10))
            assert get_page(client).status_code == 200
    assert session_writes(queries) <= minutes


@pytest.mark.parametrize("lag", [0, SEEN_RESOLUTION - 1], ids=["fresh-stamp", "stale-stamp"])
def test_idle_person_is_not_signed_out_a_minute_before_the_limit(
    client, prescriber, patient, settings, frozen, lag
):
    sign_in(client, prescriber)
    frozen.shift(timedelta(seconds=lag))
    assert get_page(client).status_code == 200  # the last activity
    frozen.shift(settings.CONCORD_IDLE_TIMEOUT - timedelta(seconds=SEEN_RESOLUTION - 1))
    assert get_page(client).status_code == 200
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize("lag", [0, SEEN_RESOLUTION - 1], ids=["fresh-stamp", "stale-stamp"])
def test_idle_person_is_signed_out_at_the_limit(client, prescriber, patient, settings, frozen, lag):
    sign_in(client, prescriber)
    frozen.shift(timedelta(seconds=lag))
    assert get_page(client).status_code == 200  # the last activity
    frozen.shift(settings.CONCORD_IDLE_TIMEOUT + timedelta(seconds=1))
    response = get_page(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_active_person_clicking_past_the_limit_stays_signed_in(
    client, prescriber, patient, settings, frozen
):
    sign_in(client, prescriber)
    elapsed = timedelta(0)
    step = timedelta(seconds=25)
    while elapsed < settings.CONCORD_IDLE_TIMEOUT * 2:
        frozen.shift(step)
        elapsed += step
        assert get_page(client).status_code == 200, f"signed out after {elapsed} of activity"
    assert "_auth_user_id" in client.session


def test_a_stamp_a_minute_old_is_refreshed_and_the_rest_kept(client, prescriber, patient, frozen):
    sign_in(client, prescriber)
    session = client.session
    session["concord_test_flag"] = "x"
    session.save()
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse(PAGE))
        frozen.shift(timedelta(seconds=SEEN_RESOLUTION))
        client.get(reverse(PAGE))  # the stamp is a minute old: refreshed, written
    assert session_writes(queries) == 1
    assert client.session["concord_test_flag"] == "x"
