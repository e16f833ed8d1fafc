"""Issue 13, finding 2: someone else's e-mail address on one's account.

On allauth's address page a signed-in patient could attach the prescriber's address to their
own account, and "Make primary" answered 500. Now an account has one sign-in address, unique
across accounts; a new one opens nothing (sign-in, reset, notices) until it is confirmed from
its mailbox, and then it replaces the old one, which is told; User.email always equals the
allauth primary address; the change is audited; nothing answers 500.
"""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from core import services
from core.models import AuditEvent, Patient, User
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

EMAIL_PAGE = "/accounts/email/"


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    """The test client, running each request's on-commit work (the e-mails) as it ends."""
    for method in ("get", "post"):
        original = getattr(client, method)

        def run(*args, _original=original, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return _original(*args, **kwargs)

        setattr(client, method, run)
    return client


def add(client, email):
    return client.post(EMAIL_PAGE, {"email": email, "action_add": ""}, follow=True)


def confirm_path(to: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [to])
    url = next(word for word in message.body.split() if "/accounts/confirm-email/" in word)
    return "/accounts/" + url.split("/accounts/", 1)[1]


def assert_consistent(user):
    user.refresh_from_db()
    primary = EmailAddress.objects.filter(user=user, primary=True)
    assert [a.email for a in primary] == [user.email]


def test_another_accounts_address_is_refused_on_the_page(client, patient_user, prescriber):
    client.force_login(patient_user)
    response = add(client, prescriber.email)
    assert response.status_code == 200
    assert "already belongs to someone else at Concord" in response.content.decode()
    assert not EmailAddress.objects.filter(user=patient_user, email__iexact=prescriber.email)
    assert not any(prescriber.email in m.to for m in mail.outbox)


def test_the_check_ignores_case(client, patient_user, prescriber):
    client.force_login(patient_user)
    response = add(client, prescriber.email.upper())
    assert "already belongs to someone else" in response.content.decode()
    assert (
        EmailAddress.objects.filter(user=patient_user).exclude(email=patient_user.email).count()
        == 0
    )


def test_another_patients_address_on_file_is_refused(client, patient_user):
    factories.PatientFactory(email="someone.else@example.test")
    client.force_login(patient_user)
    response = add(client, "someone.else@example.test")
    assert "already belongs to someone else" in response.content.decode()


def test_make_primary_on_an_unverified_address_never_answers_500(client, patient_user, prescriber):
    """The review's path, from a row left by the old code: an unverified address of another
    account on the patient's account, then "Make primary"."""
    EmailAddress.objects.create(user=patient_user, email=prescriber.email, verified=False)
    client.force_login(patient_user)
    response = client.post(EMAIL_PAGE, {"email": prescriber.email, "action_primary": ""})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "only after you confirm it" in page.content.decode()
    patient_user.refresh_from_db()
    assert patient_user.email != prescriber.email
    assert User.objects.get(pk=prescriber.pk).email == prescriber.email


def test_a_pending_address_is_used_for_nothing(
    client, patient_user, django_capture_on_commit_callbacks
):
    old = patient_user.email
    client.force_login(patient_user)
    add(client, "new.me@example.test")
    # A confirmation went to the new mailbox, and only there.
    assert [m.to for m in mail.outbox] == [["new.me@example.test"]]
    patient_user.refresh_from_db()
    assert patient_user.email == old
    assert_consistent(patient_user)
    client.logout()
    mail.outbox.clear()
    # No sign-in with it...
    response = client.post(
        reverse("account_login"), {"login": "new.me@example.test", "password": PASSWORD}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200
    # ...no password reset to it...
    client.post(reverse("account_reset_password"), {"email": "new.me@example.test"})
    assert not any("/accounts/password/reset/key/" in m.body for m in mail.outbox)
    # ...and notices still go to the confirmed address.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.notification_send(recipient=patient_user, kind="test", title="A test notice")
    assert [m.to for m in mail.outbox] == [[old]]
    # The confirmed address still works for both.
    assert (
        client.post(reverse("account_login"), {"login": old, "password": PASSWORD}).status_code
        == 302
    )


def test_confirming_from_the_new_mailbox_replaces_the_address_and_tells_the_old(
    client, patient_user, patient
):
    old = patient_user.email
    client.force_login(patient_user)
    add(client, "new.me@example.test")
    path = confirm_path("new.me@example.test")
    mail.outbox.clear()
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302
    patient_user.refresh_from_db()
    assert patient_user.email == "new.me@example.test"
    assert_consistent(patient_user)
    assert list(
        EmailAddress.objects.filter(user=patient_user).values_list("email", "verified")
    ) == [("new.me@example.test", True)]
    # The address on file follows the patient's own sign-in address.
    assert Patient.objects.get(pk=patient.pk).email == "new.me@example.test"
    (notice,) = [m for m in mail.outbox if m.to == [old]]
    assert "was changed" in notice.body
    row = AuditEvent.objects.get(object_type="core.User", object_id=str(patient_user.uuid))
    assert row.actor == patient_user
    assert row.patient_id == patient.pk
    assert "verified" in row.via
    # Sign-in now with the new address, not the old.
    client.logout()
    assert (
        client.post(reverse("account_login"), {"login": old, "password": PASSWORD}).status_code
        == 200
    )
    assert (
        client.post(
            reverse("account_login"), {"login": "new.me@example.test", "password": PASSWORD}
        ).status_code
        == 302
    )


def test_an_address_taken_before_it_is_confirmed_is_not_attached(client, patient_user, patient):
    client.force_login(patient_user)
    add(client, "contested@example.test")
    path = confirm_path("contested@example.test")
    factories.PrescriberFactory(email="contested@example.test")
    response = client.post(path, follow=True)
    assert response.status_code == 200
    assert "already belongs to someone else" in response.content.decode()
    patient_user.refresh_from_db()
    assert patient_user.email != "contested@example.test"


def test_a_clinicians_own_change_is_audited_too(client, prescriber):
    client.force_login(prescriber)
    add(client, "priya.raman@example.test")
    client.post(confirm_path("priya.raman@example.test"))
    prescriber.refresh_from_db()
    assert prescriber.email == "priya.raman@example.test"
    assert_consistent(prescriber)
    assert AuditEvent.objects.filter(
        actor=prescriber, object_type="core.User", object_id=str(prescriber.uuid)
    ).exists()


def test_the_api_shows_the_confirmed_address_only(client, patient_user):
    old = patient_user.email
    client.force_login(patient_user)
    add(client, "new.me@example.test")
    assert client.get(reverse("api_me")).json()["email"] == old
    client.post(confirm_path("new.me@example.test"))
    assert client.get(reverse("api_me")).json()["email"] == "new.me@example.test"


def test_the_confirmation_names_nobody(client, patient_user):
    """The new mailbox may be a stranger's (a typo): the message must not say who asked, nor
    anything about their care."""
    client.force_login(patient_user)
    add(client, "typo.someone@example.test")
    (message,) = [m for m in mail.outbox if m.to == ["typo.someone@example.test"]]
    assert "/accounts/confirm-email/" in message.body
    for part in patient_user.full_name.split():
        assert part not in message.body and part not in message.subject
    assert patient_user.email not in message.body


def test_opening_the_link_alone_does_not_hand_over_the_account(client, patient_user):
    """A typo sends the link to a stranger's mailbox: the stranger, signed out or signed in
    as themselves, cannot confirm it."""
    old = patient_user.email
    client.force_login(patient_user)
    add(client, "stranger@example.test")
    path = confirm_path("stranger@example.test")
    client.logout()
    page = client.get(path)
    assert "Sign in to confirm" in page.content.decode()
    assert client.post(path).status_code in (200, 302)
    assert User.objects.get(pk=patient_user.pk).email == old
    stranger = factories.PatientUserFactory()
    client.force_login(stranger)
    client.post(path)
    assert User.objects.get(pk=patient_user.pk).email == old
    assert User.objects.get(pk=stranger.pk).email != "stranger@example.test"
    # Its owner, signed in, still can.
    client.force_login(patient_user)
    client.post(path)
    assert User.objects.get(pk=patient_user.pk).email == "stranger@example.test"
