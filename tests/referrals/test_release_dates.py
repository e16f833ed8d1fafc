"""A release's end date: refused outside what the form allows, with a message; every release
that can be signed can be revoked, through the page and the API; a row stored before the
limit existed still renders and revokes; the end of day is the patient's.

Issue 13, findings 5 and 14: a release ending 9999-12-31 was accepted, then /me/, the releases
page and API answered 500 and the release could not be revoked; the end of day was the
clinic's, not the patient's."""

import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import AuditEvent
from referrals import services
from referrals.models import Release, Revocation, latest_end_date
from stories import services as stories

pytestmark = pytest.mark.django_db

UTC = zoneinfo.ZoneInfo("UTC")
# Time zones at the edges of the day: the earliest and the latest on Earth, and the clinic's.
ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York", "Asia/Tokyo"]


def _form(prescriber, therapist, patient, day, **extra):
    return {
        "discloser": str(prescriber.uuid),
        "recipient": str(therapist.uuid),
        "mutual": "on",
        "categories": ["goals"],
        "purpose": "So my prescriber and therapist can treat me together.",
        "expires_on": str(day),
        "signed_name": f"{patient.given_name} {patient.family_name}",
        **extra,
    }


def _api_body(prescriber, therapist, patient, day):
    body = _form(prescriber, therapist, patient, day)
    body["mutual"] = True
    return body


def _my_pages_answer(client, patient):
    """The patient's own pages that list releases all render."""
    for url in (
        reverse("patient_home"),
        reverse("releases", args=[patient.uuid]),
        reverse("api_releases", args=[patient.uuid]),
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


@pytest.mark.parametrize(
    "day, says",
    [
        (date(9999, 12, 31), "at most 10 years"),
        (date(1, 1, 1), "after today"),
        ("today", "after today"),
        ("ten years and a day", "at most 10 years"),
    ],
)
def test_an_end_date_out_of_range_is_refused_with_a_message_on_the_page_and_the_api(
    client, patient, patient_user, prescriber, therapist, day, says
):
    today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(patient.time_zone)).date()
    if day == "today":
        day = today
    elif day == "ten years and a day":
        day = latest_end_date(today) + timedelta(days=1)
    client.force_login(patient_user)
    page = client.post(
        reverse("release_new", args=[patient.uuid]), _form(prescriber, therapist, patient, day)
    )
    assert page.status_code == 400
    assert says in page.content.decode()
    api = client.post(
        reverse("api_releases", args=[patient.uuid]),
        _api_body(prescriber, therapist, patient, day),
        content_type="application/json",
    )
    assert api.status_code == 400, api.content
    assert says in api.content.decode()
    assert not Release.objects.exists()
    _my_pages_answer(client, patient)


def test_the_last_allowed_day_is_accepted(client, patient, patient_user, prescriber, therapist):
    today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(patient.time_zone)).date()
    client.force_login(patient_user)
    response = client.post(
        reverse("api_releases", args=[patient.uuid]),
        _api_body(prescriber, therapist, patient, latest_end_date(today)),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert Release.objects.get().ends_on == latest_end_date(today)


def test_the_form_says_the_limit_and_the_date_field_carries_it(client, patient, patient_user):
    client.force_login(patient_user)
    body = client.get(reverse("release_new", args=[patient.uuid])).content.decode()
    assert "at most 10 years" in body
    today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(patient.time_zone)).date()
    assert f'max="{latest_end_date(today)}"' in body
    assert "How my care team describes me" in body
    assert "What I wrote in response to that summary" in body


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    days=st.integers(min_value=1, max_value=3653),
    zone=st.sampled_from(ZONES),
    through=st.sampled_from(["page", "api"]),
)
def test_every_release_that_can_be_signed_can_be_revoked(
    client, patient, patient_user, prescriber, therapist, days, zone, through
):
    """Across the whole allowed range of end dates and the patient's time zone: sign it, see
    the pages, revoke it through the page or the API, see the pages again."""
    patient.time_zone = zone
    patient.save(update_fields=["time_zone"])
    today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(zone)).date()
    day = min(today + timedelta(days=days), latest_end_date(today))
    client.force_login(patient_user)
    response = client.post(
        reverse("release_new", args=[patient.uuid]), _form(prescriber, therapist, patient, day)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    release = Release.objects.order_by("-pk").first()
    assert release.ends_on == day
    _my_pages_answer(client, patient)
    assert client.get(reverse("release", args=[release.uuid])).status_code == 200
    if through == "page":
        response = client.post(reverse("release_revoke", args=[release.uuid]), {"note": ""})
        assert response.status_code == 302
    else:
        response = client.post(reverse("api_release_revoke", args=[release.uuid]))
        assert response.status_code == 200, response.content
        assert response.json()["revoked_at"]
    assert Revocation.objects.filter(release=release).exists()
    _my_pages_answer(client, patient)


def _stored_directly(patient, prescriber, therapist, expires_at) -> Release:
    """A release row as one signed before the limit existed: saved without the checks."""
    release = Release(
        patient=patient,
        author=patient.user,
        discloser=prescriber,
        discloser_practice=prescriber.practice,
        recipient=therapist,
        recipient_practice=therapist.practice,
        categories=["goals"],
        purpose="Old release",
        expires_at=expires_at,
        signed_name="Daniel Brooks",
        content_hash="0" * 64,
    )
    release.save()
    return release


def _renders_and_revokes(client, patient, patient_user, first, second):
    client.force_login(patient_user)
    _my_pages_answer(client, patient)
    for release in (first, second):
        assert client.get(reverse("release", args=[release.uuid])).status_code == 200
        pdf = client.get(reverse("release_pdf", args=[release.uuid]))
        assert pdf.status_code == 200
    assert client.post(reverse("release_revoke", args=[first.uuid])).status_code == 302
    api = client.post(reverse("api_release_revoke", args=[second.uuid]))
    assert api.status_code == 200, api.content
    assert Revocation.objects.filter(release__in=[first, second]).count() == 2
    # Each revocation is in the patient's audit, with the release it ended.
    for release in (first, second):
        assert AuditEvent.objects.filter(
            actor=patient_user,
            category="releases",
            action="update",
            object_id=str(release.uuid),
            outcome=AuditEvent.Outcome.ALLOWED,
        ).exists()
    _my_pages_answer(client, patient)
    page = client.get(reverse("release", args=[first.uuid])).content.decode()
    assert "Revoked on" in page


def test_a_stored_out_of_range_release_still_renders_and_revokes(
    client, patient, patient_user, prescriber, therapist
):
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    first = _stored_directly(patient, prescriber, therapist, last)
    second = _stored_directly(patient, prescriber, therapist, last)
    # A patient east of UTC: the stored instant is already in year 10000 where they live.
    patient.time_zone = "Pacific/Kiritimati"
    patient.save(update_fields=["time_zone"])
    _renders_and_revokes(client, patient, patient_user, first, second)


def test_a_release_stored_past_year_9999_in_utc_still_renders_and_revokes(
    require_postgresql, client, patient, patient_user, prescriber, therapist
):
    """The review's case: 9999-12-31 end of day in New York is year 10000 in UTC, which
    PostgreSQL stores and psycopg refuses to read back."""
    late = datetime(9999, 12, 31, 23, 59, 59, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    first = _stored_directly(patient, prescriber, therapist, late)
    second = _stored_directly(patient, prescriber, therapist, late)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(year FROM expires_at AT TIME ZONE 'UTC') FROM referrals_release "
            "WHERE id = %s",
            [first.pk],
        )
        assert cursor.fetchone()[0] == 10000
    _renders_and_revokes(client, patient, patient_user, first, second)


# --- Finding 14: the end of the day is the patient's ---------------------------------------


def _sign_until(patient, patient_user, prescriber, therapist, day):
    return services.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        categories=["goals"],
        purpose="p",
        expires_on=day,
        signed_name="Daniel Brooks",
    )


@pytest.mark.parametrize("zone", ["Pacific/Honolulu", "Asia/Tokyo"])
def test_a_release_is_in_force_through_the_end_of_its_last_day_where_the_patient_lives(
    client, patient, patient_user, prescriber, therapist, time_machine, zone
):
    """The clinic is in New York; the patient is not. "Until 10 March" means through the end
    of 10 March in the patient's time zone, to the second, page and API alike."""
    here = zoneinfo.ZoneInfo(zone)
    patient.time_zone = zone
    patient.save(update_fields=["time_zone"])
    time_machine.move_to(datetime(2027, 3, 1, 12, 0, tzinfo=here))
    stories.goal_create(actor=prescriber, patient=patient, what="Back to night shifts")
    release = _sign_until(patient, patient_user, prescriber, therapist, date(2027, 3, 10))
    assert release.ends_on == date(2027, 3, 10)
    client.force_login(therapist)
    goals = reverse("api_goal_list", args=[patient.uuid])

    def sees() -> bool:
        client.force_login(therapist)  # a fresh session: days pass between the looks
        response = client.get(goals)
        assert response.status_code == 200
        return "Back to night shifts" in response.content.decode()

    time_machine.move_to(datetime(2027, 3, 10, 23, 59, 58, tzinfo=here))
    assert sees(), "the last second of the patient's last day"
    time_machine.move_to(datetime(2027, 3, 11, 0, 0, 1, tzinfo=here))
    assert not sees(), "the first second of the next day where the patient lives"
    client.force_login(patient_user)
    page = client.get(reverse("release", args=[release.uuid])).content.decode()
    assert "Ended on Mar 10, 2027" in page
