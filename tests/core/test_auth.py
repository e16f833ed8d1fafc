"""Sign-in: MFA for clinicians, lockout with cool-off, session timeouts, invitations, reset."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core import services
from core.models import AuditEvent, Invitation, Patient, Role, User
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(LOGIN, {"login": email, "password": password}, **extra)


def test_sign_in_by_email_lands_on_role_home(client, prescriber, patient):
    response = sign_in(client, prescriber.email)
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).redirect_chain[-1][0] == reverse(
        "patient_list"
    )


def test_wrong_password_gives_a_clear_message_and_no_session(client, prescriber):
    response = sign_in(client, prescriber.email, "not-the-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_no_open_sign_up(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.test", "password1": "x" * 12, "password2": "x" * 12},
    )
    assert not User.objects.filter(email="new@example.test").exists()
    assert response.status_code in (200, 302, 403)


class TestMFA:
    @pytest.fixture(autouse=True)
    def _require_mfa(self, settings):
        settings.CONCORD_REQUIRE_MFA = True

    def test_clinician_without_mfa_is_sent_to_set_it_up(self, client, prescriber, patient):
        sign_in(client, prescriber.email)
        response = client.get(reverse("patient_detail", args=[patient.uuid]))
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")
        assert not AuditEvent.objects.filter(actor=prescriber, patient=patient).exists()

    def test_api_refuses_clinician_without_mfa(self, client, prescriber, patient):
        client.force_login(prescriber)
        response = client.get(reverse("api_patient_list"))
        assert response.status_code == 403
        assert "two-factor" in response.json()["detail"]

    def test_clinician_with_totp_gets_through(self, client, prescriber, patient):
        from allauth.mfa.models import Authenticator

        Authenticator.objects.create(
            user=prescriber, type=Authenticator.Type.TOTP, data={"secret": "x"}
        )
        client.force_login(prescriber)
        assert client.get(reverse("patient_detail", args=[patient.uuid])).status_code == 200

    def test_setup_is_reachable_after_confirming_the_password(self, client, prescriber):
        sign_in(client, prescriber.email)
        first = client.get(reverse("mfa_activate_totp"))
        assert first["Location"].startswith(reverse("account_reauthenticate"))
        confirmed = client.post(first["Location"], {"password": PASSWORD}, follow=True)
        assert confirmed.redirect_chain[-1][0] == reverse("mfa_activate_totp")
        assert "authenticator" in confirmed.content.decode().lower()

    def test_patients_are_not_forced(self, client, patient_user, patient):
        client.force_login(patient_user)
        assert client.get(reverse("patient_home")).status_code == 200


class TestLockout:
    def test_locked_after_repeated_failures_then_released_after_cooloff(
        self, client, prescriber, settings, time_machine
    ):
        time_machine.move_to(timezone.now())
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, prescriber.email, "wrong-password")
        locked = sign_in(client, prescriber.email)
        assert locked.status_code == 429
        assert "too many unsuccessful attempts" in locked.content.decode()
        assert "_auth_user_id" not in client.session

        time_machine.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
        released = sign_in(client, prescriber.email)
        assert released.status_code == 302
        assert client.session["_auth_user_id"] == str(prescriber.pk)

    def test_still_locked_just_before_the_cooloff_ends(
        self, client, prescriber, settings, time_machine
    ):
        time_machine.move_to(timezone.now())
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, prescriber.email, "wrong-password")
        time_machine.shift(settings.AXES_COOLOFF_TIME - timedelta(seconds=5))
        assert sign_in(client, prescriber.email).status_code == 429

    def test_lockout_is_per_account(self, client, prescriber, therapist, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, prescriber.email, "wrong-password")
        assert sign_in(client, therapist.email).status_code == 302


class TestSessionTimeouts:
    def test_idle_timeout(self, client, prescriber, patient, settings, time_machine):
        time_machine.move_to(timezone.now())
        sign_in(client, prescriber.email)
        assert client.get(reverse("patient_list")).status_code == 200
        time_machine.shift(settings.CONCORD_IDLE_TIMEOUT - timedelta(seconds=30))
        assert client.get(reverse("patient_list")).status_code == 200  # activity resets the clock
        time_machine.shift(settings.CONCORD_IDLE_TIMEOUT - timedelta(seconds=30))
        assert client.get(reverse("patient_list")).status_code == 200
        time_machine.shift(settings.CONCORD_IDLE_TIMEOUT + timedelta(seconds=1))
        response = client.get(reverse("patient_list"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        assert "_auth_user_id" not in client.session

    def test_absolute_timeout_despite_activity(self, client, prescriber, settings, time_machine):
        time_machine.move_to(timezone.now())
        sign_in(client, prescriber.email)
        step = settings.CONCORD_IDLE_TIMEOUT - timedelta(minutes=1)
        elapsed = timedelta(0)
        while elapsed < settings.CONCORD_ABSOLUTE_TIMEOUT:
            assert client.get(reverse("patient_list")).status_code == 200
            time_machine.shift(step)
            elapsed += step
        assert client.get(reverse("patient_list")).status_code == 302


def invitation_code(response) -> str:
    """The one-time code the invitation page shows the clinician (once)."""
    found = re.search(r'class="invite-code__code"[^>]*>([A-Z0-9-]+)<', response.content.decode())
    assert found, "the page shows no invitation code"
    return found.group(1)


class TestInvitation:
    @pytest.fixture
    def unregistered(self, prescriber):
        p = factories.PatientFactory(
            given_name="Aisha", family_name="Karim", email="aisha@example.test"
        )
        factories.MembershipFactory(patient=p, clinician=prescriber)
        return p

    @pytest.fixture(autouse=True)
    def _run_on_commit(self, django_capture_on_commit_callbacks):
        self.capture = django_capture_on_commit_callbacks

    def _invite(self, client, prescriber, patient):
        client.force_login(prescriber)
        with self.capture(execute=True):
            response = client.post(reverse("patient_invite", args=[patient.uuid]))
        self.code = invitation_code(response) if response.status_code == 200 else None
        return response

    def _link(self):
        body = mail.outbox[-1].body
        return next(word for word in body.split() if "/invite/" in word)

    def _form(self, patient, **extra):
        return {
            "date_of_birth": patient.date_of_birth.isoformat(),
            "code": self.code,
            "full_name": "Aisha Karim",
            "password": "river-stone-lantern",
            "password_again": "river-stone-lantern",
            **extra,
        }

    def test_invitation_email_carries_a_link_and_no_clinical_content(
        self, client, prescriber, unregistered
    ):
        response = self._invite(client, prescriber, unregistered)
        text = re.sub(r"<[^>]+>", "", response.content.decode())
        assert "Invitation sent to aisha@example.test" in text
        message = mail.outbox[-1]
        assert message.to == ["aisha@example.test"]
        assert "/invite/" in message.body
        assert "Karim" not in message.body
        assert prescriber.full_name not in message.body
        # The mailbox alone is not enough: the code is handed over at the clinic.
        assert self.code.replace("-", "") not in message.body.replace("-", "")

    def test_link_sets_password_once(self, client, prescriber, unregistered):
        self._invite(client, prescriber, unregistered)
        path = self._link().split("127.0.0.1:8000", 1)[-1]
        client.logout()
        response = client.post(path, self._form(unregistered))
        assert response.status_code == 302
        assert response["Location"] == reverse("patient_home")
        user = User.objects.get(email="aisha@example.test")
        assert user.role == Role.PATIENT
        assert Patient.objects.get(pk=unregistered.pk).user == user
        client.logout()
        again = client.post(path, self._form(unregistered))
        assert again.status_code == 410
        assert "no longer works" in again.content.decode()
        assert User.objects.filter(email="aisha@example.test").count() == 1

    def test_link_expires(self, client, prescriber, unregistered, settings, time_machine):
        time_machine.move_to(timezone.now())
        self._invite(client, prescriber, unregistered)
        path = self._link().split("127.0.0.1:8000", 1)[-1]
        client.logout()
        time_machine.shift(settings.CONCORD_INVITATION_VALID + timedelta(seconds=1))
        response = client.get(path)
        assert response.status_code == 410
        assert not User.objects.filter(email="aisha@example.test").exists()

    def test_unknown_token(self, client):
        assert client.get(reverse("invitation_accept", args=["made-up"])).status_code == 410

    def test_weak_or_mismatched_password_is_explained_and_nothing_created(
        self, client, prescriber, unregistered
    ):
        self._invite(client, prescriber, unregistered)
        path = self._link().split("127.0.0.1:8000", 1)[-1]
        client.logout()
        weak = client.post(
            path, self._form(unregistered, password="password", password_again="password")
        )
        assert weak.status_code == 400
        assert "too common" in weak.content.decode() or "too short" in weak.content.decode()
        differ = client.post(path, self._form(unregistered, password_again="other-stone-lantern"))
        assert "The two passwords differ" in differ.content.decode()
        assert not User.objects.filter(email="aisha@example.test").exists()
        invitation = Invitation.objects.get()
        assert invitation.used_at is None
        # A right date of birth and code with a weak password is not a wrong answer.
        assert invitation.failed_attempts == 0

    def test_no_address_on_file_is_explained(self, client, prescriber, unregistered):
        Patient.objects.filter(pk=unregistered.pk).update(email="")
        response = self._invite(client, prescriber, unregistered)
        assert response.status_code == 400
        assert "no e-mail address on file" in response.content.decode()
        assert not Invitation.objects.exists()
        assert mail.outbox == []

    def test_only_the_care_team_can_invite(self, client, unregistered):
        outsider = factories.PrescriberFactory()
        client.force_login(outsider)
        response = client.post(reverse("patient_invite", args=[unregistered.uuid]))
        assert response.status_code == 404
        assert not Invitation.objects.exists()

    def test_patient_with_login_cannot_be_invited_again(self, prescriber, patient):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError, match="already has a Concord sign-in"):
            services.invitation_create(actor=prescriber, patient=patient)


def test_password_reset_sends_a_link(client, prescriber):
    response = client.post(reverse("account_reset_password"), {"email": prescriber.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_sign_out_needs_post_and_ends_session(client, prescriber):
    client.force_login(prescriber)
    client.post(reverse("account_logout"))
    assert client.get(reverse("patient_list")).status_code == 302
