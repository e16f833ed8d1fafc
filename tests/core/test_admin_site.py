"""Issue 13, finding 3: the Django admin is for superusers only, reads no patient information,
sets no password, mints no token, shows no authenticator secret, and audits every account
change with who and why."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.core import mail
from django.urls import reverse

from core.models import ApiToken, AuditEvent, Role, User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return factories.AdminFactory(is_superuser=True)


@pytest.fixture
def clinic_admin(db):
    return factories.AdminFactory(is_superuser=False)


def change_url(user):
    return reverse("admin:core_user_change", args=[user.pk])


def change_form(user, **fields):
    """What the admin's change form posts for this user, with fields changed."""
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "practice": user.practice_id or "",
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "reason": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value not in ("", None, False)}


class TestWhoGetsIn:
    def test_a_clinic_admin_who_is_not_a_superuser_is_refused(self, client, clinic_admin):
        client.force_login(clinic_admin)
        for url in ("/admin/", "/admin/core/user/", "/admin/login/"):
            response = client.get(url)
            assert response.status_code in (302, 403), url
            if response.status_code == 302:
                assert client.get(response["Location"]).status_code == 403

    def test_clinicians_and_patients_are_refused(self, client, prescriber, patient_user):
        for person in (prescriber, patient_user):
            client.force_login(person)
            assert client.get("/admin/login/").status_code == 403

    def test_anonymous_goes_to_the_one_sign_in_page(self, client):
        response = client.get("/admin/", follow=True)
        assert response.redirect_chain[-1][0].startswith(reverse("account_login"))

    def test_the_header_leads_to_clinic_settings_never_the_django_admin(
        self, client, clinic_admin, superuser
    ):
        # The Django admin is out of the everyday path: a superuser reaches it by its address.
        for person in (clinic_admin, superuser):
            client.force_login(person)
            page = client.get(reverse("audit_search")).content.decode()
            assert 'href="/admin/"' not in page
            assert f'href="{reverse("console_home")}"' in page


class TestWhatIsThere:
    def test_no_tokens_no_authenticators_no_patients_no_groups(self, client, superuser):
        labels = {model._meta.label for model in admin.site._registry}
        assert not labels & {
            "authtoken.Token",
            "authtoken.TokenProxy",
            "mfa.Authenticator",
            "core.Patient",
            "core.ApiToken",
            "core.AuditEvent",
            "account.EmailAddress",
            "auth.Group",
            "axes.AccessLog",
            "axes.AccessFailureLog",
        }
        client.force_login(superuser)
        for url in (
            "/admin/mfa/authenticator/",
            "/admin/authtoken/tokenproxy/",
            "/admin/core/patient/",
        ):
            assert client.get(url).status_code == 404, url

    def test_patients_accounts_are_not_listed_or_opened(self, client, superuser, patient):
        client.force_login(superuser)
        listing = client.get("/admin/core/user/").content.decode()
        assert patient.user.email not in listing
        assert client.get(change_url(patient.user)).status_code in (302, 404)

    def test_reminders_show_no_recipient(self, client, superuser, patient):
        from core.models import Nudge

        Nudge.objects.create(
            kind="check_in", subject="x", due_on="2026-01-01", recipient=patient.user, title="t"
        )
        client.force_login(superuser)
        page = client.get("/admin/core/nudge/").content.decode()
        assert patient.user.full_name not in page
        assert patient.user.email not in page


class TestNoPasswordNoSecret:
    def test_there_is_no_set_password_form(self, client, superuser, prescriber):
        client.force_login(superuser)
        page = client.get(change_url(prescriber)).content.decode()
        assert "password/" not in page
        assert "md5$" not in page and "argon2" not in page
        response = client.post(
            f"/admin/core/user/{prescriber.pk}/password/",
            {"password1": "chosen-by-the-admin-1", "password2": "chosen-by-the-admin-1"},
        )
        assert response.status_code in (302, 404)
        prescriber.refresh_from_db()
        assert not prescriber.check_password("chosen-by-the-admin-1")

    def test_reset_sends_the_persons_own_email_and_is_audited(self, client, superuser, prescriber):
        client.force_login(superuser)
        response = client.post(
            change_url(prescriber),
            change_form(prescriber, send_password_reset="on", reason="forgot it, asked by phone"),
        )
        assert response.status_code == 302
        assert [m.to for m in mail.outbox] == [[prescriber.email]]
        assert "/accounts/password/reset/key/" in mail.outbox[0].body
        row = AuditEvent.objects.get(
            actor=superuser, category="account", object_id=str(prescriber.uuid)
        )
        assert "reset e-mail" in row.via
        assert "forgot it, asked by phone" in row.via

    def test_authenticator_secret_is_never_shown(self, client, superuser, prescriber):
        secret = factories.totp_device(prescriber)
        client.force_login(superuser)
        authenticator = Authenticator.objects.get(user=prescriber)
        for url in (
            change_url(prescriber),
            "/admin/mfa/authenticator/",
            f"/admin/mfa/authenticator/{authenticator.pk}/change/",
        ):
            page = client.get(url).content.decode()
            assert secret not in page
            assert authenticator.data["secret"] not in page

    def test_mfa_reset_needs_a_reason_removes_the_authenticator_and_ends_tokens(
        self, client, superuser, prescriber
    ):
        factories.totp_device(prescriber)
        ApiToken.objects.create(
            user=prescriber,
            name="x",
            prefix="p",
            key_hash="h",
            password_stamp="s",
            expires_at="2999-01-01T00:00Z",
        )
        client.force_login(superuser)
        no_reason = client.post(change_url(prescriber), change_form(prescriber, reset_mfa="on"))
        assert no_reason.status_code == 200
        assert Authenticator.objects.filter(user=prescriber).exists()
        done = client.post(
            change_url(prescriber), change_form(prescriber, reset_mfa="on", reason="lost phone")
        )
        assert done.status_code == 302
        assert not Authenticator.objects.filter(user=prescriber).exists()
        assert ApiToken.objects.get().revoked_because == "mfa_reset"
        assert AuditEvent.objects.filter(
            actor=superuser, category="account", action="delete", via__contains="lost phone"
        ).exists()


class TestEveryChangeAudited:
    def test_a_change_without_a_reason_changes_nothing(self, client, superuser, prescriber):
        client.force_login(superuser)
        response = client.post(change_url(prescriber), change_form(prescriber, full_name="Renamed"))
        assert response.status_code == 200
        assert "This field is required" in response.content.decode()
        prescriber.refresh_from_db()
        assert prescriber.full_name != "Renamed"
        assert not AuditEvent.objects.filter(category="account").exists()

    def test_deactivation_is_audited_with_who_and_why_and_ends_tokens(
        self, client, superuser, prescriber
    ):
        key = factories.api_token(prescriber)
        client.force_login(superuser)
        response = client.post(
            change_url(prescriber), change_form(prescriber, is_active="", reason="left the clinic")
        )
        assert response.status_code == 302
        prescriber.refresh_from_db()
        assert not prescriber.is_active
        row = AuditEvent.objects.get(
            actor=superuser, category="account", action="update", via__contains="is_active"
        )
        assert row.object_id == str(prescriber.uuid)
        assert "left the clinic" in row.via
        assert ApiToken.objects.get().revoked_because == "deactivated"
        client.logout()
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code in (
            401,
            403,
        )

    def test_a_new_clinician_chooses_their_own_password(self, client, superuser, prescriber):
        client.force_login(superuser)
        response = client.post(
            reverse("admin:core_user_add"),
            {
                "email": "new.clinician@example.test",
                "full_name": "New Clinician",
                "role": Role.THERAPIST,
                "practice": prescriber.practice_id,
                "reason": "joined the practice",
            },
        )
        assert response.status_code == 302
        user = User.objects.get(email="new.clinician@example.test")
        assert not user.has_usable_password()
        assert [m.to for m in mail.outbox] == [[user.email]]
        assert AuditEvent.objects.filter(
            actor=superuser, category="account", action="create", object_id=str(user.uuid)
        ).exists()

    def test_no_patient_account_is_made_here(self, client, superuser):
        client.force_login(superuser)
        response = client.post(
            reverse("admin:core_user_add"),
            {
                "email": "p@example.test",
                "full_name": "P",
                "role": Role.PATIENT,
                "reason": "because",
            },
        )
        assert response.status_code == 200
        assert not User.objects.filter(email="p@example.test").exists()
