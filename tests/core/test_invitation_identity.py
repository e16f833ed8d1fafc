"""Issue 13, finding 1: taking over a patient's account through the invitation.

A clinician on the care team could send the invitation to an address of their choosing and
accept it with only a name and a password. Now: the invitation goes to the address on file
only; changing that address is its own audited step (in person, or confirmed from the old
address); accepting asks for the date of birth and the clinic's code, five wrong answers
close it; a patient with an account is not invited again; the care team is told.
"""

import hashlib
import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from core import services
from core.models import AuditEvent, Invitation, Notification, Patient, PatientEmailChange, User
from tests import factories

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "river-stone-lantern"


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


@pytest.fixture
def aisha(prescriber, therapist):
    patient = factories.PatientFactory(
        given_name="Aisha",
        family_name="Karim",
        date_of_birth=date(1994, 11, 2),
        email="aisha@example.test",
    )
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    factories.MembershipFactory(patient=patient, clinician=therapist)
    return patient


def invite(client, clinician, patient, data=None):
    client.force_login(clinician)
    return client.post(reverse("patient_invite", args=[patient.uuid]), data or {})


def code_of(response) -> str:
    found = re.search(r'class="invite-code__code"[^>]*>([A-Z0-9-]+)<', response.content.decode())
    assert found, response.content.decode()[:2000]
    return found.group(1)


def text_of(response) -> str:
    """The page's text, without its tags."""
    return re.sub(r"<[^>]+>", "", response.content.decode())


def link_path(message) -> str:
    url = next(word for word in message.body.split() if "/invite/" in word)
    return url.split("127.0.0.1:8000", 1)[-1]


def accept_form(patient, code, **extra):
    return {
        "date_of_birth": patient.date_of_birth.isoformat(),
        "code": code,
        "full_name": "Aisha Karim",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        **extra,
    }


# ---- Sending: only to the address on file ------------------------------------------------


def test_invitation_goes_to_the_address_on_file_whatever_the_clinician_types(
    client, prescriber, aisha
):
    response = invite(client, prescriber, aisha, {"email": "prescriber-owned@example.test"})
    assert response.status_code == 200
    assert "Invitation sent to aisha@example.test" in text_of(response)
    assert [m.to for m in mail.outbox] == [["aisha@example.test"]]
    assert Invitation.objects.get().email == "aisha@example.test"
    assert not any(
        "prescriber-owned" in m.body or m.to == ["prescriber-owned@example.test"]
        for m in mail.outbox
    )


def test_invite_page_offers_no_address_to_type_for_the_invitation(client, prescriber, aisha):
    client.force_login(prescriber)
    page = client.get(reverse("patient_invite", args=[aisha.uuid])).content.decode()
    invite_form = page.split('id="invite-h"', 1)[1].split("</section>", 1)[0]
    assert 'name="email"' not in invite_form
    assert "aisha@example.test" in invite_form


def test_no_address_on_file_means_record_one_first(client, prescriber, aisha):
    Patient.objects.filter(pk=aisha.pk).update(email="")
    response = invite(client, prescriber, aisha)
    assert response.status_code == 400
    assert "There is no e-mail address on file for this patient. Record one first" in (
        response.content.decode()
    )
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_a_patient_with_an_account_is_not_invited_again(client, prescriber, patient):
    response = invite(client, prescriber, patient)
    assert response.status_code == 400
    assert "already has a Concord sign-in, so there is nothing to invite them to" in (
        response.content.decode()
    )
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_the_code_is_shown_once_and_kept_only_as_a_keyed_hash(client, prescriber, aisha):
    response = invite(client, prescriber, aisha)
    code = code_of(response)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert not set(code.replace("-", "")) & set("01ILOSZ25")
    invitation = Invitation.objects.get()
    plain = code.replace("-", "")
    assert plain not in invitation.code_hash
    assert invitation.code_hash != hashlib.sha256(plain.encode()).hexdigest()
    # Not in the e-mail, not in a message kept in the session for the next page.
    assert plain not in mail.outbox[0].body.replace("-", "")
    next_page = client.get(reverse("patient_invite", args=[aisha.uuid])).content.decode()
    assert code not in next_page


def test_a_newer_invitation_closes_the_older_one(client, prescriber, aisha):
    first_code = code_of(invite(client, prescriber, aisha))
    first = link_path(mail.outbox[0])
    second_code = code_of(invite(client, prescriber, aisha))
    client.logout()
    old = client.post(first, accept_form(aisha, first_code))
    assert old.status_code == 410
    assert "This invitation was replaced" in old.content.decode()
    new = client.post(link_path(mail.outbox[1]), accept_form(aisha, second_code))
    assert new.status_code == 302


def test_sending_is_audited_with_who(client, prescriber, aisha):
    invite(client, prescriber, aisha)
    row = AuditEvent.objects.get(object_type="core.Invitation", action="create", outcome="allowed")
    assert row.actor == prescriber
    assert row.patient_id == aisha.pk


# ---- Accepting: date of birth and code, attempts limited -----------------------------------


def test_accepting_with_name_and_password_only_is_refused(client, prescriber, aisha):
    invite(client, prescriber, aisha)
    client.logout()
    response = client.post(
        link_path(mail.outbox[0]),
        {"full_name": "Dr Mallory", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="aisha@example.test").exists()
    assert Patient.objects.get(pk=aisha.pk).user is None


@pytest.mark.parametrize(
    "wrong", [{"date_of_birth": "1990-01-01"}, {"code": "ABCD-EFGH"}], ids=["dob", "code"]
)
def test_a_wrong_date_of_birth_or_code_is_counted_and_explained(client, prescriber, aisha, wrong):
    code = code_of(invite(client, prescriber, aisha))
    client.logout()
    path = link_path(mail.outbox[0])
    response = client.post(path, {**accept_form(aisha, code), **wrong})
    assert response.status_code == 400
    body = response.content.decode()
    assert "The date of birth or the code does not match what your clinic has" in body
    assert "you have 4 more tries" in body
    assert Invitation.objects.get().failed_attempts == 1
    assert not User.objects.filter(email="aisha@example.test").exists()
    denied = AuditEvent.objects.get(object_type="core.Invitation", outcome="denied")
    assert denied.patient_id == aisha.pk
    assert denied.actor is None
    # The right answers still work after a wrong one.
    assert client.post(path, accept_form(aisha, code)).status_code == 302


def test_the_code_is_forgiving_about_case_spaces_and_dashes(client, prescriber, aisha):
    code = code_of(invite(client, prescriber, aisha))
    client.logout()
    typed = " " + code.replace("-", " ").lower() + " "
    response = client.post(link_path(mail.outbox[0]), accept_form(aisha, typed))
    assert response.status_code == 302


def test_five_wrong_answers_close_the_invitation_for_good(client, prescriber, aisha):
    code = code_of(invite(client, prescriber, aisha))
    client.logout()
    path = link_path(mail.outbox[0])
    for attempt in range(1, 5):
        response = client.post(path, accept_form(aisha, "WXYZ-WXYZ"))
        assert response.status_code == 400
        left = 5 - attempt
        assert ("1 more try" if left == 1 else f"{left} more tries") in response.content.decode()
    fifth = client.post(path, accept_form(aisha, "WXYZ-WXYZ"))
    assert fifth.status_code == 410
    body = fifth.content.decode()
    assert "This invitation is closed" in body
    assert "did not match 5 times" in body
    assert "ask for a new invitation" in body
    # Even the right answers now get nothing.
    after = client.post(path, accept_form(aisha, code))
    assert after.status_code == 410
    assert "This invitation is closed" in after.content.decode()
    assert not User.objects.filter(email="aisha@example.test").exists()
    invitation = Invitation.objects.get()
    assert invitation.closed_reason == Invitation.ClosedReason.TOO_MANY_ATTEMPTS
    assert AuditEvent.objects.filter(object_type="core.Invitation", outcome="denied").count() >= 5
    # The clinician who sent it hears of it (no name in the title) and can send a new one.
    notice = Notification.objects.get(recipient=prescriber, kind="invitation_closed")
    assert "Karim" not in notice.title
    again = invite(client, prescriber, aisha)
    assert again.status_code == 200


def test_attempts_are_counted_under_a_lock_in_one_place(prescriber, aisha):
    invitation, link, code = services.invitation_create(actor=prescriber, patient=aisha)
    token = link.rsplit("/invite/", 1)[1].strip("/")
    for _ in range(Invitation.MAX_ATTEMPTS):
        with pytest.raises(services.IdentityMismatch):
            services.invitation_accept(
                token=token,
                date_of_birth=date(2000, 1, 1),
                code=code,
                full_name="x",
                password=NEW_PASSWORD,
            )
    with pytest.raises(services.InvitationInvalid):
        services.invitation_accept(
            token=token,
            date_of_birth=aisha.date_of_birth,
            code=code,
            full_name="x",
            password=NEW_PASSWORD,
        )


def test_the_care_team_is_told_when_the_account_is_made(client, prescriber, therapist, aisha):
    code = code_of(invite(client, prescriber, aisha))
    path = link_path(mail.outbox[0])
    client.logout()
    sent_before = len(mail.outbox)
    assert client.post(path, accept_form(aisha, code)).status_code == 302
    for clinician in (prescriber, therapist):
        notice = Notification.objects.get(recipient=clinician, kind="patient_account_created")
        assert notice.link == reverse("patient_detail", args=[aisha.uuid])
        assert "Aisha" not in notice.title and "Karim" not in notice.title
    told = mail.outbox[sent_before:]
    assert {address for m in told for address in m.to} == {prescriber.email, therapist.email}
    for message in told:
        assert "Karim" not in message.body


def test_accepted_account_has_one_verified_primary_address_matching_user_email(
    client, prescriber, aisha
):
    from allauth.account.models import EmailAddress

    code = code_of(invite(client, prescriber, aisha))
    client.logout()
    client.post(link_path(mail.outbox[0]), accept_form(aisha, code))
    user = User.objects.get(email="aisha@example.test")
    (address,) = EmailAddress.objects.filter(user=user)
    assert (address.email, address.primary, address.verified) == (user.email, True, True)


def test_the_old_attack_fails_end_to_end(client, prescriber, aisha):
    """The review's path: the prescriber invites 'the patient' at their own address, then
    accepts with a name and a password. Neither step works any more."""
    invite(client, prescriber, aisha, {"email": prescriber.email})
    assert all(m.to == ["aisha@example.test"] for m in mail.outbox)
    assert not any(prescriber.email in m.to for m in mail.outbox)
    client.force_login(prescriber)
    client.post(
        reverse("patient_email_change", args=[aisha.uuid]),
        {"new_email": "mallory@example.test", "method": "old_address"},
    )
    # A change from the old address waits for the patient; nothing is sent to the new one.
    assert Patient.objects.get(pk=aisha.pk).email == "aisha@example.test"
    assert not any("mallory@example.test" in m.to for m in mail.outbox)


# ---- The address on file: its own audited action ----------------------------------------


def change(client, clinician, patient, **data):
    client.force_login(clinician)
    return client.post(reverse("patient_email_change", args=[patient.uuid]), data)


def test_in_person_change_records_who_when_and_how_and_tells_the_old_address(
    client, prescriber, aisha
):
    invite(client, prescriber, aisha)
    pending = Invitation.objects.get()
    mail.outbox.clear()
    response = change(
        client,
        prescriber,
        aisha,
        new_email="aisha.k@example.test",
        method="in_person",
        proof="photo_id",
    )
    assert response.status_code == 302
    assert Patient.objects.get(pk=aisha.pk).email == "aisha.k@example.test"
    record = PatientEmailChange.objects.get()
    assert record.verified_by == prescriber
    assert record.proof == PatientEmailChange.Proof.PHOTO_ID
    assert record.applied_at is not None
    assert (record.old_email, record.new_email) == ("aisha@example.test", "aisha.k@example.test")
    row = AuditEvent.objects.get(object_id=str(record.uuid), action="update")
    assert row.actor == prescriber
    assert "in person" in row.via
    assert [m.to for m in mail.outbox] == [["aisha@example.test"]]
    assert "was changed" in mail.outbox[0].body
    # The invitation sent to the old address no longer works.
    pending.refresh_from_db()
    assert pending.closed_reason == Invitation.ClosedReason.ADDRESS_CHANGED


def test_in_person_change_needs_what_was_checked(client, prescriber, aisha):
    response = change(client, prescriber, aisha, new_email="x@example.test", method="in_person")
    assert response.status_code == 400
    assert "Say what you checked when you saw the patient in person" in response.content.decode()
    assert Patient.objects.get(pk=aisha.pk).email == "aisha@example.test"
    assert not PatientEmailChange.objects.exists()


def test_change_from_the_old_address_waits_for_the_patient(client, prescriber, aisha):
    response = change(
        client, prescriber, aisha, new_email="aisha.k@example.test", method="old_address"
    )
    assert response.status_code == 302
    assert Patient.objects.get(pk=aisha.pk).email == "aisha@example.test"
    (message,) = mail.outbox
    assert message.to == ["aisha@example.test"]
    url = next(word for word in message.body.split() if "/email-change/" in word)
    path = url.split("127.0.0.1:8000", 1)[-1]
    # The link carries a token, not the address.
    assert "aisha.k" not in path and "%40" not in path and "@" not in path
    client.logout()
    page = client.get(path)
    assert page.status_code == 200
    assert "aisha.k@example.test" in page.content.decode()
    assert Patient.objects.get(pk=aisha.pk).email == "aisha@example.test"  # GET changes nothing
    done = client.post(path)
    assert done.status_code == 200
    assert Patient.objects.get(pk=aisha.pk).email == "aisha.k@example.test"
    record = PatientEmailChange.objects.get()
    assert record.applied_at is not None and record.verified_by is None
    assert AuditEvent.objects.filter(
        object_type="core.PatientEmailChange",
        action="update",
        outcome="allowed",
        via="confirmed from the old address",
    ).exists()
    assert Notification.objects.filter(
        recipient=prescriber, kind="patient_email_confirmed"
    ).exists()
    assert client.post(path).status_code == 410


def test_change_from_the_old_address_needs_an_old_address(client, prescriber, aisha):
    Patient.objects.filter(pk=aisha.pk).update(email="")
    response = change(client, prescriber, aisha, new_email="a@example.test", method="old_address")
    assert response.status_code == 400
    assert "There is no address on file to confirm from" in response.content.decode()
    assert mail.outbox == []


def test_an_address_of_another_account_is_refused(client, prescriber, aisha):
    response = change(
        client, prescriber, aisha, new_email=prescriber.email, method="in_person", proof="photo_id"
    )
    assert response.status_code == 400
    assert "already used by another Concord account" in response.content.decode()
    assert Patient.objects.get(pk=aisha.pk).email == "aisha@example.test"


def test_the_clinic_cannot_change_the_address_of_a_patient_who_signs_in(
    client, prescriber, patient
):
    before = Patient.objects.get(pk=patient.pk).email
    response = change(
        client,
        prescriber,
        patient,
        new_email="new@example.test",
        method="in_person",
        proof="photo_id",
    )
    assert response.status_code == 400
    assert "the address is theirs to change" in response.content.decode()
    assert Patient.objects.get(pk=patient.pk).email == before
    assert patient.user.email != "new@example.test"


@pytest.mark.parametrize("who", ["unrelated_prescriber", "the_patient", "admin"])
def test_only_the_care_team_manages_the_sign_in(client, aisha, who):
    actor = {
        "unrelated_prescriber": factories.PrescriberFactory,
        "admin": factories.AdminFactory,
    }.get(who)
    if actor is None:
        # A patient who signs in, looking at their own record's pages.
        user = factories.PatientUserFactory()
        Patient.objects.filter(pk=aisha.pk).update(user=user)
        aisha.refresh_from_db()
        actor = user
    else:
        actor = actor()
    client.force_login(actor)
    assert client.get(reverse("patient_invite", args=[aisha.uuid])).status_code == 404
    assert client.post(reverse("patient_invite", args=[aisha.uuid])).status_code == 404
    response = client.post(
        reverse("patient_email_change", args=[aisha.uuid]),
        {"new_email": "x@example.test", "method": "in_person", "proof": "photo_id"},
    )
    assert response.status_code == 404
    assert not Invitation.objects.exists()
    assert not PatientEmailChange.objects.exists()
    assert AuditEvent.objects.filter(actor=actor, outcome="denied").count() >= 3


def test_expired_change_link_changes_nothing(client, prescriber, aisha, time_machine, settings):
    from django.utils import timezone

    time_machine.move_to(timezone.now())
    change(client, prescriber, aisha, new_email="aisha.k@example.test", method="old_address")
    url = next(w for w in mail.outbox[0].body.split() if "/email-change/" in w)
    client.logout()
    time_machine.shift(settings.CONCORD_INVITATION_VALID + timedelta(seconds=1))
    response = client.post(url.split("127.0.0.1:8000", 1)[-1])
    assert response.status_code == 410
    assert Patient.objects.get(pk=aisha.pk).email == "aisha@example.test"


# ---- The API offers no way around it ------------------------------------------------------


def test_the_api_cannot_change_addresses_or_invite(client, prescriber, aisha):
    client.force_login(prescriber)
    me = client.patch(
        reverse("api_me"), {"email": "other@example.test"}, content_type="application/json"
    )
    assert me.status_code == 405
    detail = client.patch(
        reverse("api_patient_detail", args=[aisha.uuid]),
        {"email": "other@example.test"},
        content_type="application/json",
    )
    assert detail.status_code == 405
    assert User.objects.get(pk=prescriber.pk).email == prescriber.email
    assert Patient.objects.get(pk=aisha.pk).email == "aisha@example.test"


# ---- Guesses sent at once (PostgreSQL) --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_guesses_at_once_get_five_answers_then_a_closed_door(require_postgresql):
    """The attempt counter is read and written under the invitation's row lock: guesses sent
    together are counted one after the other, and no more than five are ever judged."""
    import threading

    from django.db import connection
    from django.test import Client

    clinician = factories.PrescriberFactory()
    patient = factories.PatientFactory(
        email="together@example.test", date_of_birth=date(1990, 1, 1)
    )
    factories.MembershipFactory(patient=patient, clinician=clinician)
    _invitation, link, _code = services.invitation_create(actor=clinician, patient=patient)
    path = "/invite/" + link.rsplit("/invite/", 1)[1]
    guess = {
        "date_of_birth": "1990-01-01",
        "code": "WXYZ-WXYZ",
        "full_name": "x",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    barrier = threading.Barrier(10)
    answers = [None] * 10

    def run(index):
        try:
            barrier.wait(timeout=30)
            answers[index] = Client().post(path, guess).status_code
        except Exception as error:  # noqa: BLE001 - reported below, in the test's thread
            answers[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(a, int) for a in answers), answers
    assert sorted(answers) == [400] * 4 + [410] * 6
    invitation = Invitation.objects.get()
    assert invitation.failed_attempts == Invitation.MAX_ATTEMPTS
    assert invitation.closed_reason == Invitation.ClosedReason.TOO_MANY_ATTEMPTS
    assert not User.objects.filter(email="together@example.test").exists()
