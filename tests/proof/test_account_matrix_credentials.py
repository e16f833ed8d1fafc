"""The account matrix, credentials part: seven people × eight account actions, through the real
pages, the Django admin and the API, compared with a hand-written table (issue 13, findings 3
and 4).

The table is the promise written out, not read from the code. "allowed" means the person got
what the action asks for (a working token of their own; a reset e-mail sent, by the admin, to
the person it is for); "refused" means they did not, and nothing changed: no token for anyone
else, no password changed, no secret shown. Every account change that happened is audited
with who did it. Two-factor authentication is required of clinicians and admins here, as in
production; each of them has TOTP set up. `make proof` prints the figure."""

from collections import Counter
from datetime import time, timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail, signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import credentials, nudges
from core.models import ApiToken, AuditEvent, NotificationPreference
from tests import factories
from tests.factories import PASSWORD
from tests.proof.figures import report

pytestmark = pytest.mark.django_db

ACTORS = [
    "anonymous",
    "patient",
    "other_patient",
    "treating_prescriber",
    "unrelated_prescriber",
    "clinic_admin",  # role admin, not a superuser
    "superuser",
]
ACTIONS = [
    "create_token_for_self",
    "create_token_for_someone_else",
    "use_token_after_password_change",
    "use_expired_token",
    "reset_someone_elses_password",
    "view_authenticator_secret_in_admin",
    "change_own_notification_settings",
    "turn_off_someone_elses_reminder_emails",
]

A, R, NA = "allowed", "refused", "n/a"  # n/a: the anonymous caller has no account of its own
EXPECTED = {
    #                        self  other  after-pw  expired  reset  secret  own-notif  their-mail
    "anonymous":            (R,    R,     NA,       NA,      R,     R,      R,         R),
    "patient":              (A,    R,     R,        R,       R,     R,      A,         R),
    "other_patient":        (A,    R,     R,        R,       R,     R,      A,         R),
    "treating_prescriber":  (A,    R,     R,        R,       R,     R,      A,         R),
    "unrelated_prescriber": (A,    R,     R,        R,       R,     R,      A,         R),
    "clinic_admin":         (A,    R,     R,        R,       R,     R,      A,         R),
    # The superuser's reset is the e-mail to the person, audited; never a password they set.
    "superuser":            (A,    R,     R,        R,       A,     R,      A,         R),
}  # fmt: skip

NEW_PASSWORD = "a-new-long-password-9"
TALLY = Counter()


@pytest.fixture(scope="module", autouse=True)
def figure():
    yield
    if TALLY["cases"]:
        report(
            f"credentials matrix: {len(ACTORS)} people × {len(ACTIONS)} account actions = "
            f"{TALLY['cases']} cases, {TALLY['allowed']} allowed, {TALLY['refused']} refused, "
            f"{TALLY['n/a']} not applicable, {TALLY['audited']} audit rows checked, "
            f"{TALLY['wrong']} wrong"
        )


@pytest.fixture
def world(db, settings):
    settings.CONCORD_REQUIRE_MFA = True
    # allauth remembers used TOTP codes in the cache: a private one, cleared between tokens,
    # so that no shared Redis is touched.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "credentials-matrix",
        }
    }
    cache.clear()
    prescriber = factories.PrescriberFactory()
    patient_user = factories.PatientUserFactory()
    patient = factories.PatientFactory(user=patient_user)
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    other = factories.PatientFactory(user=factories.PatientUserFactory())
    people = {
        "anonymous": None,
        "patient": patient_user,
        "other_patient": other.user,
        "treating_prescriber": prescriber,
        "unrelated_prescriber": factories.PrescriberFactory(),
        "clinic_admin": factories.AdminFactory(is_superuser=False),
        "superuser": factories.AdminFactory(is_superuser=True),
    }
    # Someone else, for the actions done to another person: a colleague at the practice.
    colleague = factories.TherapistFactory(practice=prescriber.practice)
    secrets = {}
    for user in [*people.values(), colleague]:
        if user is not None and not user.is_patient:
            secrets[user.pk] = factories.totp_device(user)
    return {"people": people, "colleague": colleague, "victim": patient_user, "secrets": secrets}


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _fresh_factor(world, user) -> dict:
    secret = world["secrets"].get(user.pk)
    return {"code": factories.totp_code(secret)} if secret else {"password": PASSWORD}


def _token_for(world, user, *, days=90) -> str:
    _, key = credentials.api_token_create(
        actor=user, name="matrix", days=days, **_fresh_factor(world, user)
    )
    cache.clear()  # the code was used; the next one in this 30 s window must be accepted
    return key


def _me(key):
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    return response.json().get("email") if response.status_code == 200 else None


def _audited(actor, action: str) -> bool:
    return AuditEvent.objects.filter(actor=actor, category="account", action=action).exists()


# Each action returns (outcome, audited): outcome "allowed" or "refused"; audited whether the
# account change that happened (a token made, tokens ended by a new password, a reset e-mail
# sent) left its audit row naming the actor; None when nothing happened to audit.


def create_token_for_self(world, actor):
    client = _client(actor)
    data = {"name": "my script", "days": "90"}
    if actor is not None:
        data |= _fresh_factor(world, actor)
    response = client.post(reverse("api_token_create"), data)
    if actor is None:
        assert not ApiToken.objects.exists()
        return R, None
    page = response.content.decode()
    if 'value="concord_' not in page:
        return R, None
    start = page.index('value="concord_') + len('value="')
    key = page[start : page.index('"', start)]
    works = _me(key) == actor.email
    return (A if works else R), _audited(actor, "create")


def create_token_for_someone_else(world, actor):
    victim = world["victim"] if actor != world["victim"] else world["colleague"]
    client = _client(actor)
    before = ApiToken.objects.count()
    # 1. The account page, told whose token it should be.
    data = {"name": "for them", "days": "90", "user": str(victim.uuid), "user_id": victim.pk}
    if actor is not None:
        data |= _fresh_factor(world, actor)
    client.post(reverse("api_token_create"), data)
    # 2. The Django admin's token pages, as rest_framework.authtoken had them.
    for url in ("/admin/authtoken/token/add/", "/admin/authtoken/tokenproxy/add/"):
        client.post(url, {"user": victim.pk})
    # 3. The admin's change form of the person, with a token field slipped in.
    client.post(
        f"/admin/core/user/{victim.pk}/change/",
        {"email": victim.email, "full_name": victim.full_name, "role": victim.role,
         "is_active": "on", "reason": "a token for them", "token": "x"},
    )  # fmt: skip
    theirs = ApiToken.objects.filter(user=victim).exists()
    made_for_actor_only = ApiToken.objects.exclude(user=actor).count() == 0
    assert ApiToken.objects.count() - before <= 1
    return (A if theirs or not made_for_actor_only else R), None


def use_token_after_password_change(world, actor):
    if actor is None:
        return NA, None
    key = _token_for(world, actor)
    assert _me(key) == actor.email
    client = _client(actor)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    ended = AuditEvent.objects.filter(
        actor=actor, category="account", action="update", via__contains="password"
    )
    return (A if _me(key) else R), ended.exists()


def use_expired_token(world, actor):
    if actor is None:
        return NA, None
    key = _token_for(world, actor, days=1)
    token = ApiToken.objects.get(user=actor)
    # Made a day and a second ago (moved back in the row, as the clock cannot go forward
    # for the whole application in one request here).
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=token.created_at - timedelta(days=1, seconds=1),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    return (A if _me(key) else R), None


def reset_someone_elses_password(world, actor):
    target = world["colleague"]
    client = _client(actor)
    mail.outbox.clear()
    # Setting it directly: the admin's set-password form.
    client.post(
        f"/admin/core/user/{target.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    # Sending the person the reset e-mail, through the admin, with a reason.
    client.post(
        f"/admin/core/user/{target.pk}/change/",
        {"email": target.email, "full_name": target.full_name, "role": target.role,
         "practice": target.practice_id, "is_active": "on", "send_password_reset": "on",
         "reason": "forgot it, asked by phone"},
    )  # fmt: skip
    target.refresh_from_db()
    assert not target.check_password(NEW_PASSWORD), "someone set another person's password"
    actor_email = getattr(actor, "email", None)
    assert not any(actor_email in m.to for m in mail.outbox if actor_email)
    sent = [m for m in mail.outbox if m.to == [target.email] and "/password/reset/key/" in m.body]
    if not sent:
        return R, None
    row = AuditEvent.objects.filter(
        actor=actor, category="account", object_id=str(target.uuid), via__contains="reset"
    )
    return A, row.exists()


def view_authenticator_secret_in_admin(world, actor):
    target = world["colleague"]
    authenticator = Authenticator.objects.get(user=target, type="totp")
    secret = world["secrets"][target.pk]
    stored = authenticator.data["secret"]
    client = _client(actor)
    pages = [
        client.get(url).content.decode()
        for url in (
            "/admin/mfa/authenticator/",
            f"/admin/mfa/authenticator/{authenticator.pk}/change/",
            f"/admin/core/user/{target.pk}/change/",
            reverse("account_page"),
        )
    ]
    shown = any(secret in page or stored in page for page in pages)
    return (A if shown else R), None


def change_own_notification_settings(world, actor):
    _client(actor).post(
        reverse("notification_settings"), {"quiet_from": "22:00", "quiet_until": "07:00"}
    )
    if actor is None:
        assert not NotificationPreference.objects.exists()
        return R, None
    if not NotificationPreference.objects.filter(user=actor, quiet_from=time(22)).exists():
        return R, None
    row = AuditEvent.objects.filter(
        actor=actor, category="account", object_type="core.NotificationPreference"
    )
    return A, row.exists()


def turn_off_someone_elses_reminder_emails(world, actor):
    victim = world["victim"] if actor != world["victim"] else world["colleague"]
    client = _client(actor)
    # 1. The settings page, told whose settings they are.
    client.post(
        reverse("notification_settings"),
        {"user": str(victim.uuid), "user_id": victim.pk, "quiet_from": "01:00",
         "quiet_until": "02:00"},
    )  # fmt: skip
    # 2. One's own unsubscribe link, rewritten to name them.
    if actor is not None:
        _, stamp, signature = nudges.unsubscribe_token(actor, "releases").rsplit(":", 2)
        theirs = nudges.unsubscribe_token(victim, "releases").rsplit(":", 2)[0]
        client.post(reverse("unsubscribe", args=[f"{theirs}:{stamp}:{signature}"]))
    # 3. A value signed by the server for another purpose, naming them.
    other_purpose = signing.dumps({"u": str(victim.uuid), "g": "releases"})
    client.post(reverse("unsubscribe", args=[other_purpose]))
    changed = NotificationPreference.objects.filter(user=victim).exists()
    return (A if changed else R), None


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("who", ACTORS)
def test_credentials_matrix(world, who, action):
    actor = world["people"][who]
    expected = EXPECTED[who][ACTIONS.index(action)]
    outcome, audited = globals()[action](world, actor)
    TALLY["cases"] += 1
    TALLY[outcome] += 1
    if outcome != expected:
        TALLY["wrong"] += 1
    assert outcome == expected, f"{who} × {action}: got {outcome}, the table says {expected}"
    if audited is not None:
        TALLY["audited"] += 1
        assert audited, f"{who} × {action}: the account changed but the audit has no row"
