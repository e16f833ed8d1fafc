"""Issue 13, finding 4: API tokens are made by their owner after a fresh second factor, kept
hashed, expire, are listed and revocable on the account page, and end on a password change,
a deactivation or an MFA reset; authenticator secrets are encrypted at rest."""

import hashlib
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from core import credentials, mfa
from core.models import ApiToken, AuditEvent
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def api_me(client, key):
    return client.get(ME, HTTP_AUTHORIZATION=f"Token {key}")


def refused(response) -> bool:
    """Refused as a credential (DRF answers 403 when session authentication comes first)."""
    return response.status_code in (401, 403) and "email" not in response.json()


def make_on_page(client, user, **fields):
    client.force_login(user)
    data = {"name": "reporting script", "days": "90"} | fields
    return client.post(reverse("api_token_create"), data)


def shown_key(response) -> str:
    page = response.content.decode()
    start = page.index('value="concord_') + len('value="')
    return page[start : page.index('"', start)]


class TestMaking:
    def test_owner_makes_a_token_with_their_password_and_sees_it_once(self, client, prescriber):
        response = make_on_page(client, prescriber, password=PASSWORD)
        assert response.status_code == 200
        key = shown_key(response)
        assert "shown only this once" in response.content.decode()
        token = ApiToken.objects.get(user=prescriber)
        # Only a fingerprint is stored; the key itself is nowhere in the row.
        assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in str(list(ApiToken.objects.values_list()))
        assert token.expires_at - token.created_at == timedelta(days=90)
        assert api_me(client.__class__(), key).json()["email"] == prescriber.email
        # The list shows its prefix, never the key again.
        page = client.get(reverse("account_page")).content.decode()
        assert f"concord_{token.prefix}" in page
        assert key not in page
        assert AuditEvent.objects.filter(
            actor=prescriber, category="account", action="create", outcome="allowed"
        ).exists()

    def test_wrong_password_makes_nothing(self, client, prescriber):
        response = make_on_page(client, prescriber, password="not-my-password")
        assert response.status_code == 400
        assert "not your current password" in response.content.decode()
        assert not ApiToken.objects.exists()
        assert AuditEvent.objects.filter(actor=prescriber, category="account", outcome="denied")

    def test_with_totp_a_fresh_code_is_asked_not_the_password(self, client, prescriber):
        secret = factories.totp_device(prescriber)
        refused = make_on_page(client, prescriber, password=PASSWORD)
        assert refused.status_code == 400
        assert "code" in refused.content.decode().lower()
        assert not ApiToken.objects.exists()
        wrong = make_on_page(
            client,
            prescriber,
            code="000000" if factories.totp_code(secret) != "000000" else "111111",
        )
        assert wrong.status_code == 400
        assert not ApiToken.objects.exists()
        made = make_on_page(client, prescriber, code=factories.totp_code(secret))
        assert made.status_code == 200
        assert api_me(client.__class__(), shown_key(made)).status_code == 200

    def test_the_same_code_does_not_make_a_second_token(self, client, prescriber):
        secret = factories.totp_device(prescriber)
        code = factories.totp_code(secret)
        assert make_on_page(client, prescriber, code=code).status_code == 200
        assert make_on_page(client, prescriber, code=code).status_code == 400
        assert ApiToken.objects.count() == 1

    def test_lifetime_is_at_most_a_year(self, client, prescriber):
        response = make_on_page(client, prescriber, password=PASSWORD, days="3650")
        assert response.status_code == 400
        assert not ApiToken.objects.exists()
        with pytest.raises(Exception, match="Between 1 and 365"):
            credentials.api_token_create(actor=prescriber, name="x", days=366, password=PASSWORD)

    def test_the_service_makes_tokens_for_the_actor_only(self, prescriber, patient_user):
        # There is no way to name another owner: the token is the actor's own.
        token, _ = credentials.api_token_create(actor=prescriber, name="x", password=PASSWORD)
        assert token.user == prescriber
        with pytest.raises(TypeError):
            credentials.api_token_create(
                actor=prescriber, user=patient_user, name="x", password=PASSWORD
            )


class TestRequiredMFA:
    @pytest.fixture(autouse=True)
    def _require(self, settings):
        settings.CONCORD_REQUIRE_MFA = True

    def test_clinician_without_totp_is_refused_a_token(self, client, prescriber):
        response = make_on_page(client, prescriber, password=PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")
        assert not ApiToken.objects.exists()
        with pytest.raises(credentials.NotAllowed):
            credentials.api_token_create(actor=prescriber, name="x", password=PASSWORD)

    def test_a_token_made_before_the_requirement_stops_working(self, client, prescriber, settings):
        settings.CONCORD_REQUIRE_MFA = False
        key = factories.api_token(prescriber)
        settings.CONCORD_REQUIRE_MFA = True
        response = api_me(client, key)
        assert response.status_code in (401, 403)
        assert "two-factor" in response.json()["detail"]

    def test_patient_needs_no_totp(self, client, patient_user):
        response = make_on_page(client, patient_user, password=PASSWORD)
        assert response.status_code == 200


class TestEnding:
    def test_expired_token_is_refused(self, client, prescriber, time_machine):
        key = factories.api_token(prescriber, days=30)
        time_machine.move_to(ApiToken.objects.get().expires_at + timedelta(seconds=1))
        assert refused(api_me(client, key))
        page = client.get(reverse("account_page"), follow=True)
        assert page.status_code == 200

    def test_password_change_on_the_page_ends_every_token(self, client, prescriber):
        keys = [factories.api_token(prescriber), factories.api_token(prescriber)]
        client.force_login(prescriber)
        response = client.post(
            reverse("account_change_password"),
            {
                "oldpassword": PASSWORD,
                "password1": "a-new-long-password-9",
                "password2": "a-new-long-password-9",
            },
        )
        assert response.status_code == 302
        for key in keys:
            assert refused(api_me(client.__class__(), key))
        assert set(ApiToken.objects.values_list("revoked_because", flat=True)) == {"password"}
        assert "Ended: Password changed" in client.get(reverse("account_page")).content.decode()

    def test_password_set_any_other_way_ends_tokens_too(self, client, prescriber):
        key = factories.api_token(prescriber)
        prescriber.set_password("set-from-the-shell-1")
        prescriber.save()
        assert refused(api_me(client, key))

    def test_password_reset_by_mail_ends_tokens(self, client, prescriber):
        from django.core import mail

        key = factories.api_token(prescriber)
        client.post(reverse("account_reset_password"), {"email": prescriber.email})
        link = next(
            line for line in mail.outbox[-1].body.splitlines() if "/password/reset/key/" in line
        ).strip()
        path = link[link.index("/accounts/") :]
        form = client.get(path, follow=True)
        client.post(
            form.redirect_chain[-1][0],
            {"password1": "a-new-long-password-9", "password2": "a-new-long-password-9"},
        )
        assert refused(api_me(client.__class__(), key))

    def test_deactivation_ends_tokens(self, client, prescriber):
        key = factories.api_token(prescriber)
        admin = factories.AdminFactory()
        credentials.account_change_record(
            actor=admin,
            user=_deactivated(prescriber),
            changed=["is_active"],
            reason="left the clinic",
        )
        assert refused(api_me(client, key))
        prescriber.is_active = True
        prescriber.save()
        assert refused(api_me(client, key))  # reactivation does not bring it back

    def test_mfa_reset_ends_tokens(self, client, prescriber):
        secret = factories.totp_device(prescriber)
        token, key = credentials.api_token_create(
            actor=prescriber, name="x", code=factories.totp_code(secret)
        )
        credentials.mfa_reset(actor=factories.AdminFactory(), user=prescriber, reason="lost phone")
        token.refresh_from_db()
        assert token.revoked_because == "mfa_reset"
        assert not Authenticator.objects.filter(user=prescriber).exists()
        assert refused(api_me(client, key))

    def test_removing_totp_oneself_ends_tokens(self, client, prescriber):
        from allauth.mfa.signals import authenticator_removed

        key = factories.api_token(prescriber)
        authenticator = Authenticator.objects.get(
            pk=Authenticator.objects.create(user=prescriber, type="totp", data={}).pk
        )
        authenticator_removed.send(
            sender=Authenticator, request=None, user=prescriber, authenticator=authenticator
        )
        assert refused(api_me(client, key))

    def test_revoke_on_the_account_page(self, client, prescriber):
        key = factories.api_token(prescriber)
        token = ApiToken.objects.get()
        client.force_login(prescriber)
        response = client.post(reverse("api_token_revoke", args=[token.uuid]), follow=True)
        assert "no longer works" in response.content.decode()
        assert refused(api_me(client.__class__(), key))

    def test_nobody_revokes_or_sees_someone_elses_token(self, client, prescriber, therapist):
        factories.api_token(prescriber)
        token = ApiToken.objects.get()
        client.force_login(therapist)
        assert client.post(reverse("api_token_revoke", args=[token.uuid])).status_code == 404
        assert token.prefix not in client.get(reverse("account_page")).content.decode()
        token.refresh_from_db()
        assert token.revoked_at is None

    def test_old_style_and_made_up_tokens_are_refused(self, client):
        for header in ("Token " + "a" * 40, "Token concord_abc_def", "Token", "Token a b"):
            assert refused(client.get(ME, HTTP_AUTHORIZATION=header)), header


def _deactivated(user):
    user.is_active = False
    user.save()
    return user


class TestAuthenticatorSecrets:
    def test_totp_secret_is_encrypted_at_rest_and_still_works(self, prescriber):
        secret = factories.totp_device(prescriber)
        stored = Authenticator.objects.get(user=prescriber).data["secret"]
        assert stored.startswith(mfa.MARK)
        assert secret not in stored
        assert mfa.decrypt(stored) == secret

    def test_recovery_seed_is_encrypted(self, prescriber):
        from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

        codes = RecoveryCodes.activate(prescriber)
        assert codes.instance.data["seed"].startswith(mfa.MARK)
        assert codes.validate_code(codes.generate_codes()[0])

    def test_another_key_does_not_open_it(self, prescriber, settings):
        factories.totp_device(prescriber)
        stored = Authenticator.objects.get(user=prescriber).data["secret"]
        settings.CONCORD_MFA_KEY = "SPn8dDiWJgZbQtHRVC0OX0o4cEa2ldXbl9kUnW1xHWE="
        with pytest.raises(ValueError):
            mfa.decrypt(stored)

    def test_migration_encrypts_secrets_stored_in_clear(self, prescriber):
        import importlib

        from django.apps import apps
        from django.db import connection

        Authenticator.objects.create(
            user=prescriber, type="totp", data={"secret": "JBSWY3DPEHPK3PXP"}
        )
        migration = importlib.import_module("core.migrations.0007_credentials")
        migration.encrypt_authenticator_secrets(apps, type("E", (), {"connection": connection}))
        stored = Authenticator.objects.get(user=prescriber).data["secret"]
        assert mfa.decrypt(stored) == "JBSWY3DPEHPK3PXP"

    def test_production_refuses_to_start_without_the_key(self):
        from tests.core.test_deploy import manage, production

        environment = production()
        environment.pop("CONCORD_MFA_KEY")
        result = manage("check", **environment)
        assert result.returncode != 0
        assert "CONCORD_MFA_KEY" in result.stderr
        bad = manage("check", **production(CONCORD_MFA_KEY="not-a-key"))
        assert bad.returncode != 0
        assert "Fernet" in bad.stderr
