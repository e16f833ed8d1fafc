"""Issue 13, finding 12: behind a proxy (PROXY_COUNT=1), failed sign-ins lock out one address
for one account, never the real person elsewhere; per account, many failures from many
addresses slow sign-in ("wait N seconds"), they do not lock it.

The test profile turns allauth's rate limits and the slowdown off; each test here turns on
the production values explicitly."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client

from core import auth
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PROXY = "10.0.0.2"  # the reverse proxy: every request's REMOTE_ADDR
ATTACKER = "203.0.113.7"
CLINICIAN = "198.51.100.20"


@pytest.fixture(autouse=True)
def behind_a_proxy(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = settings.CONCORD_ACCOUNT_RATE_LIMITS
    settings.CONCORD_SIGNIN_SLOWDOWN_AFTER = 20
    settings.CONCORD_SIGNIN_SLOWDOWN_SECONDS = 10
    # The counters live in the cache: a private one, so that clearing it touches no one
    # else's Redis (CI's cache is shared with the broker).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "lockout-tests",
        }
    }
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def sign_in(email, password, address):
    """A fresh browser at `address`, seen through the proxy."""
    client = Client()
    response = client.post(
        LOGIN,
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=address,
    )
    return client, response


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_client_address_is_the_forwarded_one(rf, settings):
    from core.middleware import client_ip

    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{ATTACKER}, {CLINICIAN}")
    assert client_ip(request) == CLINICIAN  # the one the trusted proxy saw
    assert settings.AXES_CLIENT_IP_CALLABLE == "core.middleware.client_ip"


def test_attacker_locks_only_their_own_address_for_that_account(prescriber):
    for attempt in range(1, 6):
        _, failed = sign_in(prescriber.email, "wrong-password", ATTACKER)
        assert failed.status_code == (429 if attempt == 5 else 200)  # the fifth locks
    # The attacker's address is locked for this account, even with the right password.
    attacker, locked = sign_in(prescriber.email, PASSWORD, ATTACKER)
    assert locked.status_code == 429
    assert "too many unsuccessful attempts" in locked.content.decode()
    assert not signed_in(attacker)
    assert AccessAttempt.objects.filter(ip_address=ATTACKER, username=prescriber.email).exists()
    assert not AccessAttempt.objects.filter(ip_address=PROXY).exists()
    # The clinician, at the clinic, signs in at once.
    clinician, response = sign_in(prescriber.email, PASSWORD, CLINICIAN)
    assert response.status_code == 302
    assert signed_in(clinician)


def test_many_failures_from_many_addresses_slow_the_account_not_lock_it(prescriber, time_machine):
    time_machine.move_to("2026-06-01T09:00:00Z", tick=False)
    for n in range(20):
        # Two tries per address: under axes's lockout and allauth's per-address limit.
        address = f"192.0.2.{n // 2 + 1}"
        _, failed = sign_in(prescriber.email, "wrong-password", address)
        assert failed.status_code == 200
    clinician, slowed = sign_in(prescriber.email, PASSWORD, CLINICIAN)
    page = slowed.content.decode()
    assert slowed.status_code == 200
    assert "Wait 10 seconds, then try again" in page
    assert not signed_in(clinician)
    time_machine.shift(timedelta(seconds=4))
    _, still = sign_in(prescriber.email, PASSWORD, CLINICIAN)
    assert "Wait 6 seconds" in still.content.decode()
    # After the wait, the right password works: slowed, never locked.
    time_machine.shift(timedelta(seconds=7))
    clinician, response = sign_in(prescriber.email, PASSWORD, CLINICIAN)
    assert response.status_code == 302
    assert signed_in(clinician)


def test_the_slowdown_is_per_account(prescriber, therapist, time_machine):
    time_machine.move_to("2026-06-01T09:00:00Z", tick=False)
    for n in range(20):
        sign_in(prescriber.email, "wrong", f"192.0.2.{n // 2 + 1}")
    assert auth.signin_wait_seconds(prescriber.email) == 10
    assert auth.signin_wait_seconds(therapist.email) == 0
    colleague, response = sign_in(therapist.email, PASSWORD, CLINICIAN)
    assert response.status_code == 302


def test_allauth_no_longer_blocks_an_account_from_every_address(prescriber):
    # allauth's default 5 failures per account in 5 minutes, from anywhere, kept the real
    # person out; now five failures spread over addresses change nothing for them.
    for n in range(5):
        sign_in(prescriber.email, "wrong-password", f"192.0.2.{n + 1}")
    clinician, response = sign_in(prescriber.email, PASSWORD, CLINICIAN)
    assert response.status_code == 302
    assert signed_in(clinician)
