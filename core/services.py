"""Every write to people, invitations and notifications."""

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import time

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from . import access, audit, nudges
from .access import Action, Category
from .credentials import ACCOUNT
from .models import (
    AuditEvent,
    CareTeamMembership,
    Invitation,
    Notification,
    NotificationPreference,
    Patient,
    PatientEmailChange,
    Role,
    SelfDescription,
    User,
)


class InvitationInvalid(Exception):
    """The link is unknown, already used, expired, or closed."""

    def __init__(self, reason: str = ""):
        super().__init__(reason)
        self.reason = reason


class IdentityMismatch(Exception):
    """The date of birth or the code did not match; `remaining` tries are left (0: closed)."""

    def __init__(self, remaining: int):
        super().__init__(remaining)
        self.remaining = remaining


class EmailChangeInvalid(Exception):
    """The confirmation link is unknown, used, expired, or outdated by another change."""


# No 0/O, 1/I/L, 5/S, 2/Z: read aloud or copied from paper, these are the letters people mix up.
CODE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"
CODE_LENGTH = 8


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _hash_code(invitation_uuid, code: str) -> str:
    # Keyed by SECRET_KEY: 8 characters are too few to survive an offline guess of a plain hash.
    return salted_hmac(
        "concord.invitation.code", f"{invitation_uuid}:{code}", algorithm="sha256"
    ).hexdigest()


def normalize_code(value: str) -> str:
    """What the patient typed, as the code is kept: capitals, no spaces or dashes."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    """ABCD-EFGH: two halves are easier to read out and copy."""
    return f"{code[:4]}-{code[4:]}"


def email_in_use(email: str, *, user=None, patient=None) -> bool:
    """Is this address another account's (its User.email or any allauth address), or another
    patient's address on file? `user`/`patient` name the owner asking, who does not count."""
    from allauth.account.models import EmailAddress

    email = (email or "").strip()
    users = User.objects.filter(email__iexact=email)
    addresses = EmailAddress.objects.filter(email__iexact=email)
    patients = Patient.objects.filter(email__iexact=email)
    if user is not None:
        users = users.exclude(pk=user.pk)
        addresses = addresses.exclude(user_id=user.pk)
        patients = patients.exclude(user_id=user.pk)
    if patient is not None:
        patients = patients.exclude(pk=patient.pk)
        if patient.user_id is not None:
            users = users.exclude(pk=patient.user_id)
            addresses = addresses.exclude(user_id=patient.user_id)
    return users.exists() or addresses.exists() or patients.exists()


def _close_open_invitations(patient: Patient, reason: str) -> None:
    Invitation.objects.filter(patient=patient, used_at__isnull=True, closed_at__isnull=True).update(
        closed_at=timezone.now(), closed_reason=reason
    )


def care_team_join(*, patient: Patient, clinician: User) -> CareTeamMembership:
    """Put a clinician on a patient's care team (from today), in their profession's role.

    Call inside the caller's transaction; an active membership already there is returned.
    """
    existing = (
        CareTeamMembership.objects.active().filter(patient=patient, clinician=clinician).first()
    )
    if existing is not None:
        return existing
    # Taken off the team earlier today (a referral closed) and back: that same day's place
    # again, as one start per day is all the table keeps.
    ended_today = CareTeamMembership.objects.filter(
        patient=patient, clinician=clinician, since=timezone.localdate()
    ).first()
    if ended_today is not None:
        ended_today.until = None
        ended_today.save(update_fields=["until"])
        return ended_today
    membership = CareTeamMembership(
        patient=patient,
        clinician=clinician,
        role=clinician.role,
        practice=clinician.practice,
        since=timezone.localdate(),
    )
    membership.full_clean()
    membership.save()
    return membership


def care_team_end(*, membership_id: int) -> CareTeamMembership | None:
    """Take a clinician off a patient's care team from today (`until` is the first day they
    are no longer on it). Returns the membership ended, or None if it had ended already.

    Call inside the caller's transaction; the caller records the audit event."""
    today = timezone.localdate()
    membership = CareTeamMembership.objects.select_for_update().get(pk=membership_id)
    if membership.until is not None and membership.until <= today:
        return None
    membership.until = max(today, membership.since)
    membership.full_clean()
    membership.save(update_fields=["until"])
    return membership


def invitation_create(*, actor, patient: Patient) -> tuple[Invitation, str, str]:
    """Invite a patient to sign in, at their address on file; returns the invitation, its
    one-time link and the code to hand to the patient (shown once, kept only as an HMAC).

    Raises Http404 unless the actor is a clinician on the care team; ValidationError when the
    patient already has a login, has no address on file, or the address is another account's.
    Any earlier invitation still open is closed: only the newest code works.
    """
    # The care team's to manage (Category.SIGN_IN): refused, audited, before the write.
    permit = access.guard(actor, Action.CREATE, Category.SIGN_IN, patient)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.user_id is not None:
            raise ValidationError(
                f"{locked.display_name} already has a Concord sign-in, so there is nothing to "
                "invite them to. If they cannot sign in, they can reset their password from "
                "the sign-in page."
            )
        email = (locked.email or "").strip().lower()
        if not email:
            raise ValidationError(
                "There is no e-mail address on file for this patient. Record one first "
                "(below), then send the invitation."
            )
        if email_in_use(email, patient=locked):
            raise ValidationError(
                "The address on file is already used by another Concord account or patient. "
                "Check the address with the patient and record the right one."
            )
        _close_open_invitations(locked, Invitation.ClosedReason.SUPERSEDED)
        token = secrets.token_urlsafe(32)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        invitation_uuid = uuid.uuid4()
        invitation = Invitation(
            uuid=invitation_uuid,
            patient=locked,
            email=email,
            token_hash=_hash_token(token),
            code_hash=_hash_code(invitation_uuid, code),
            invited_by=actor,
            expires_at=timezone.now() + settings.CONCORD_INVITATION_VALID,
        )
        invitation.full_clean()
        invitation.save()
        permit.done(invitation)
        link = settings.CONCORD_SITE_URL.rstrip("/") + reverse("invitation_accept", args=[token])
        transaction.on_commit(lambda: _send_invitation_email(email, link))
    return invitation, link, format_code(code)


def staff_invitation_create(
    *, actor, email: str, full_name: str, role: str, practice
) -> tuple[Invitation, str, str]:
    """A clinic admin invites someone to join a practice they run as a prescriber, therapist
    or clinic admin: the same single-use link as a patient's, to the address typed, and a
    code for the admin to hand over (shown once, kept only as an HMAC). Returns the
    invitation, its link and the code.

    Raises Http404 (audited) unless the actor runs the practice; ValidationError for a bad
    or taken address or a name with hidden characters. An earlier open invitation to the same
    address is closed: only the newest code works."""
    if not access.may_invite(actor, role, practice):
        access.refuse_staff(actor, Action.CREATE)
    email = (email or "").strip().lower()
    validate_email(email)
    with transaction.atomic():
        if email_in_use(email):
            raise ValidationError(
                {
                    "email": "This address already belongs to a Concord account or a patient. "
                    "Use the person's own work address."
                }
            )
        Invitation.objects.filter(
            patient__isnull=True, email=email, used_at__isnull=True, closed_at__isnull=True
        ).update(closed_at=timezone.now(), closed_reason=Invitation.ClosedReason.SUPERSEDED)
        token = secrets.token_urlsafe(32)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        invitation_uuid = uuid.uuid4()
        invitation = Invitation(
            uuid=invitation_uuid,
            email=email,
            full_name=(full_name or "").strip(),
            role=role,
            practice=practice,
            token_hash=_hash_token(token),
            code_hash=_hash_code(invitation_uuid, code),
            invited_by=actor,
            expires_at=timezone.now() + settings.CONCORD_INVITATION_VALID,
        )
        invitation.full_clean()
        invitation.save()
        audit.record(
            actor=actor,
            patient=None,
            category=Category.STAFF,
            action=Action.CREATE,
            obj=invitation,
            via=f"clinic admin: invited as {role} to practice {practice.uuid}",
        )
        link = settings.CONCORD_SITE_URL.rstrip("/") + reverse("invitation_accept", args=[token])
        practice_name = practice.name
        transaction.on_commit(lambda: _send_staff_invitation_email(email, link, practice_name))
    return invitation, link, format_code(code)


def staff_invitation_withdraw(*, actor, invitation_uuid) -> Invitation:
    """Close a staff invitation not yet used, so that its link and code no longer work.
    Raises Http404 (audited) for one the actor may not manage, or that is not open."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("practice")
            .filter(uuid=invitation_uuid, patient__isnull=True)
            .first()
        )
        allowed = invitation is not None and access.may_invite(
            actor, invitation.role, invitation.practice
        )
        if not allowed or not invitation.is_usable():
            allowed = False
        if allowed:
            invitation.closed_at = timezone.now()
            invitation.closed_reason = Invitation.ClosedReason.WITHDRAWN
            invitation.save(update_fields=["closed_at", "closed_reason"])
            audit.record(
                actor=actor,
                patient=None,
                category=Category.STAFF,
                action=Action.UPDATE,
                obj=invitation,
                via="clinic admin: invitation withdrawn",
            )
    if not allowed:
        access.refuse_staff(actor, Action.UPDATE, invitation_uuid)
    return invitation


def _send_staff_invitation_email(email: str, link: str, practice_name: str) -> None:
    # Never the code: the mailbox alone must not be enough to make the account.
    hours = int(settings.CONCORD_INVITATION_VALID.total_seconds() // 3600)
    send_mail(
        subject="Your invitation to Concord",
        message=(
            f"{practice_name} has invited you to Concord.\n\n"
            f"Set your password here (the link works once, for {hours} hours):\n{link}\n\n"
            "You will be asked for the code your clinic admin gave you, and then to set up "
            "two-factor authentication.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


def _send_invitation_email(email: str, link: str) -> None:
    # The e-mail names no clinician, diagnosis or medicine, and never carries the code: a
    # mailbox alone must not be enough to become the patient.
    hours = int(settings.CONCORD_INVITATION_VALID.total_seconds() // 3600)
    send_mail(
        subject="Your invitation to Concord",
        message=(
            "Your care team has invited you to Concord.\n\n"
            f"Set your password here (the link works once, for {hours} hours):\n{link}\n\n"
            "You will be asked for your date of birth and for the code your clinic gave you.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


def invitation_get(*, token: str) -> Invitation:
    """The usable invitation for this token. Raises InvitationInvalid (with the reason when
    it was closed)."""
    invitation = (
        Invitation.objects.select_related("patient", "practice")
        .filter(token_hash=_hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationInvalid
    if not invitation.is_usable():
        raise InvitationInvalid(invitation.closed_reason)
    return invitation


def _identity_matches(invitation: Invitation, patient, date_of_birth, code: str) -> bool:
    code_ok = constant_time_compare(
        _hash_code(invitation.uuid, normalize_code(code)), invitation.code_hash or "-"
    )
    if patient is None:
        # Staff: the code their clinic admin handed over is what the mailbox alone lacks.
        return bool(invitation.code_hash) and code_ok
    dob_ok = date_of_birth is not None and date_of_birth == patient.date_of_birth
    return bool(invitation.code_hash) and code_ok and dob_ok


def invitation_accept(
    *, token: str, date_of_birth, code: str, full_name: str, password: str
) -> User:
    """Create the patient's login from a one-time link, once they give their date of birth
    and the code from the clinic. Raises InvitationInvalid, IdentityMismatch (the wrong
    answer is counted and kept; the last allowed one closes the invitation) or ValidationError.
    """
    mismatch = None
    with transaction.atomic():
        invitation = (
            # Only the invitation's row: FOR UPDATE through the join would lock the patient's row
            # against the audit rows of every read about them. Holding it also counts parallel
            # guesses one after the other.
            Invitation.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(token_hash=_hash_token(token))
            .first()
        )
        if invitation is None or not invitation.is_usable():
            raise InvitationInvalid(invitation.closed_reason if invitation else "")
        patient = None
        if not invitation.is_for_staff:
            patient = Patient.objects.select_for_update(no_key=True).get(pk=invitation.patient_id)
            if patient.user_id is not None:
                raise InvitationInvalid
        if not _identity_matches(invitation, patient, date_of_birth, code):
            invitation.failed_attempts += 1
            remaining = max(Invitation.MAX_ATTEMPTS - invitation.failed_attempts, 0)
            if remaining == 0:
                invitation.closed_at = timezone.now()
                invitation.closed_reason = Invitation.ClosedReason.TOO_MANY_ATTEMPTS
            invitation.save(update_fields=["failed_attempts", "closed_at", "closed_reason"])
            audit.record(
                actor=None,
                patient=patient,
                category=Category.STAFF if patient is None else Category.PROFILE,
                action=Action.CREATE,
                outcome=AuditEvent.Outcome.DENIED,
                obj=invitation,
                via="invitation: date of birth or code did not match",
            )
            if remaining == 0:
                _tell_inviter_closed(invitation)
            mismatch = IdentityMismatch(remaining)
        elif patient is None:
            user = _create_staff_login(invitation, full_name, password)
        else:
            user = _create_patient_login(invitation, patient, full_name, password)
    if mismatch is not None:
        # Raised after the block, so the counted attempt is committed, not rolled back.
        raise mismatch
    return user


def _login_from_invitation(invitation: Invitation, password, **fields) -> User:
    """The account an invitation makes, and the invitation used up. The link reached this
    mailbox: the address is verified, and allauth's record agrees with User.email from the
    start. ValidationError (nothing made) for a password the validators refuse."""
    from allauth.account.models import EmailAddress

    user = User(email=invitation.email, **fields)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    return user


def _create_patient_login(invitation: Invitation, patient: Patient, full_name, password) -> User:
    """Call holding the invitation's and the patient's row locks."""

    if email_in_use(invitation.email, patient=patient):
        raise ValidationError(
            "This address now belongs to another Concord account. Nothing was created: ask "
            "your clinic to check the address they have for you.",
            code="address_taken",
        )
    user = _login_from_invitation(
        invitation,
        password,
        full_name=full_name.strip() or patient.display_name,
        role=Role.PATIENT,
    )
    patient.user = user
    patient.save(update_fields=["user"])
    audit.record(
        actor=user,
        patient=patient,
        category=Category.PROFILE,
        action=Action.CREATE,
        obj=invitation,
        via="self: invitation with date of birth and code",
    )
    link = reverse("patient_detail", args=[patient.uuid])
    for membership in CareTeamMembership.objects.active().filter(patient=patient):
        # No name in the title: it may be e-mailed. The link leads to who it is.
        notification_send(
            recipient=membership.clinician,
            kind="patient_account_created",
            title="A patient of yours has set up their Concord sign-in",
            link=link,
        )
    return user


def _create_staff_login(invitation: Invitation, full_name, password) -> User:
    """Call holding the invitation's row lock."""

    if email_in_use(invitation.email):
        raise ValidationError(
            "This address now belongs to another Concord account. Nothing was created: ask "
            "your clinic admin to check the address.",
            code="address_taken",
        )
    user = _login_from_invitation(
        invitation,
        password,
        full_name=full_name.strip() or invitation.full_name,
        role=invitation.role,
        practice=invitation.practice,
    )
    audit.record(
        actor=user,
        patient=None,
        category=Category.STAFF,
        action=Action.CREATE,
        obj=invitation,
        via=f"self: staff invitation with code, account {user.uuid} as {user.role}",
    )
    notification_send(
        recipient=invitation.invited_by,
        kind="staff_account_created",
        title=f"{user.full_name} has set up their Concord sign-in",
        link=reverse("console_person", args=[user.uuid]),
    )
    return user


def _tell_inviter_closed(invitation: Invitation) -> None:
    if invitation.is_for_staff:
        link = reverse("console_home")
    else:
        link = reverse("patient_invite", args=[invitation.patient.uuid])
    notification_send(
        recipient=invitation.invited_by,
        kind="invitation_closed",
        title="An invitation you sent was closed after too many wrong answers",
        link=link,
    )


def patient_email_change(
    *, actor, patient: Patient, new_email: str, method: str, proof: str = ""
) -> PatientEmailChange:
    """Change a patient's address on file (the one invitations go to), with proof.

    In person: the acting clinician says what they checked (`proof`); the change applies now
    and the old address, if any, is told. From the old address: a one-time link goes to the
    old address and the change applies only when it is confirmed there. Either way, open
    invitations are closed. Raises Http404 unless the actor is a clinician on the care team;
    ValidationError for a patient who signs in (they change it themselves), a bad or taken
    address, a missing proof, or no old address to confirm from.
    """
    permit = access.guard(actor, Action.UPDATE, Category.SIGN_IN, patient)
    new_email = (new_email or "").strip().lower()
    validate_email(new_email)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.user_id is not None:
            raise ValidationError(
                f"{locked.display_name} signs in to Concord, so the address is theirs to change: "
                "they do it from their account page (E-mail address), confirming from the new "
                "mailbox."
            )
        old_email = (locked.email or "").strip().lower()
        if new_email == old_email:
            raise ValidationError("That is already the address on file.")
        if email_in_use(new_email, patient=locked):
            raise ValidationError(
                "That address is already used by another Concord account or patient. "
                "Check it with the patient."
            )
        now = timezone.now()
        # A newer request replaces any still waiting for confirmation.
        PatientEmailChange.objects.filter(
            patient=locked, applied_at__isnull=True, closed_at__isnull=True
        ).update(closed_at=now)
        change = PatientEmailChange(
            patient=locked,
            old_email=old_email,
            new_email=new_email,
            method=method,
            requested_by=actor,
            requested_at=now,
        )
        if method == PatientEmailChange.Method.IN_PERSON:
            if proof not in PatientEmailChange.Proof.values:
                raise ValidationError("Say how you verified the patient in person.")
            change.verified_by = actor
            change.proof = proof
            change.applied_at = now
        elif method == PatientEmailChange.Method.OLD_ADDRESS:
            if not old_email:
                raise ValidationError(
                    "There is no address on file to confirm from. Record the first address "
                    "in person, with the patient at the clinic."
                )
            token = secrets.token_urlsafe(32)
            change.token_hash = _hash_token(token)
            change.expires_at = now + settings.CONCORD_INVITATION_VALID
        else:
            raise ValidationError("Choose how the change is confirmed.")
        change.full_clean()
        change.save()
        if change.applied_at is not None:
            _apply_email_change(locked, change)
            # The one allowed row, saying how the patient was verified.
            permit.done(
                change,
                action=Action.UPDATE,
                via=f"{permit.via}: verified in person ({change.proof})",
            )
        else:
            # Asked for, not yet applied: it waits for the old address to confirm it.
            permit.done(
                change,
                action=Action.CREATE,
                via=f"{permit.via}: confirmation sent to the old address",
            )
            link = settings.CONCORD_SITE_URL.rstrip("/") + reverse(
                "patient_email_confirm", args=[token]
            )
            transaction.on_commit(lambda: _send_email_change_confirmation(old_email, link))
    return change


def _apply_email_change(patient: Patient, change: PatientEmailChange) -> None:
    """Call holding the patient's row lock."""
    patient.email = change.new_email
    patient.full_clean()
    patient.save(update_fields=["email"])
    _close_open_invitations(patient, Invitation.ClosedReason.ADDRESS_CHANGED)
    if change.old_email:
        old = change.old_email
        transaction.on_commit(lambda: _send_address_changed_notice(old))


def _send_email_change_confirmation(email: str, link: str) -> None:
    send_mail(
        subject="Confirm a change of your e-mail address at Concord",
        message=(
            "Your clinic was asked to send Concord invitations and notices to a new e-mail "
            "address instead of this one.\n\n"
            f"If you asked for this, confirm it here (the link works once):\n{link}\n\n"
            "If you did not, ignore this message and tell your clinic: nothing changes "
            "unless you confirm.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


def _send_address_changed_notice(email: str) -> None:
    send_mail(
        subject="Your e-mail address at Concord was changed",
        message=(
            "The e-mail address Concord has for you was changed, and this address will no "
            "longer be used.\n\n"
            "If you did not ask for this, contact your clinic straight away.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


def patient_email_change_get(*, token: str) -> PatientEmailChange:
    """The pending change this confirmation link is for. Raises EmailChangeInvalid."""
    change = (
        PatientEmailChange.objects.select_related("patient")
        .filter(token_hash=_hash_token(token or "-"))
        .first()
    )
    if change is None or not change.is_pending():
        raise EmailChangeInvalid
    return change


def patient_email_change_confirm(*, token: str) -> PatientEmailChange:
    """The patient confirms, from the old address, a change a clinician asked for.
    Raises EmailChangeInvalid when the link is unknown, used, expired, or outdated."""
    with transaction.atomic():
        change = (
            PatientEmailChange.objects.select_for_update(of=("self",))
            .filter(token_hash=_hash_token(token or "-"))
            .first()
        )
        if change is None or not change.is_pending():
            raise EmailChangeInvalid
        patient = Patient.objects.select_for_update().get(pk=change.patient_id)
        outdated = (
            patient.user_id is not None
            or (patient.email or "").lower() != change.old_email
            or email_in_use(change.new_email, patient=patient)
        )
        if outdated:
            change.closed_at = timezone.now()
            change.save(update_fields=["closed_at"])
            raise_after = True
        else:
            raise_after = False
            change.applied_at = timezone.now()
            change.save(update_fields=["applied_at"])
            _apply_email_change(patient, change)
        audit.record(
            actor=None,
            patient=patient,
            category=Category.PROFILE,
            action=Action.UPDATE,
            outcome=AuditEvent.Outcome.DENIED if raise_after else AuditEvent.Outcome.ALLOWED,
            obj=change,
            via="confirmed from the old address",
        )
        if not raise_after:
            notification_send(
                recipient=change.requested_by,
                kind="patient_email_confirmed",
                title="A patient confirmed the change of their e-mail address",
                link=reverse("patient_invite", args=[patient.uuid]),
            )
    if raise_after:
        raise EmailChangeInvalid
    return change


def account_email_sync(*, user: User) -> None:
    """Make the sign-in address (User.email) the account's one primary, verified allauth
    address: it is the address the invitation reached, or the one the clinic gave its staff.
    allauth's change-of-address flow takes any unverified address for the one being changed
    to, so the current one must never be left unverified."""
    from allauth.account.models import EmailAddress

    if not user.email:
        return
    with transaction.atomic():
        rows = list(EmailAddress.objects.select_for_update().filter(user=user))
        current = next((a for a in rows if a.email.lower() == user.email.lower()), None)
        if current is not None and current.primary and current.verified:
            return
        for other in rows:
            if other is not current and other.primary:
                other.primary = False
                other.save(update_fields=["primary"])
        if current is None:
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        else:
            current.primary = True
            current.verified = True
            current.save(update_fields=["primary", "verified"])


def account_email_changed(*, user: User, old_email: str, new_email: str) -> None:
    """After someone verified a new sign-in address from its mailbox (allauth has made it
    the primary one and set User.email): audit it, keep a patient's address on file the same,
    and tell the old address."""
    with transaction.atomic():
        patient = Patient.objects.select_for_update().filter(user=user).first()
        if patient is not None:
            patient.email = new_email
            patient.save(update_fields=["email"])
        audit.record(
            actor=user,
            patient=patient,
            category=Category.PROFILE,
            action=Action.UPDATE,
            object_type="core.User",
            object_id=str(user.uuid),
            via="self: new address verified from its mailbox",
        )
        if old_email and old_email.lower() != new_email.lower():
            transaction.on_commit(lambda: _send_address_changed_notice(old_email))


def notification_send(
    *, recipient: User, kind: str, title: str, link: str = "", email: bool = True
) -> Notification:
    """An in-app notification, and an e-mail with the link after commit when the user wants one
    (never with `email=False`: the crisis help a patient is offered stays in the app).

    `title` must carry no clinical content: it is shown in lists and sent by e-mail.
    """
    pref = NotificationPreference.objects.filter(user=recipient).first()
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, title=title, link=link
    )
    if email and (pref is None or pref.email_enabled):
        transaction.on_commit(lambda: _email_notification(notification.pk))
    return notification


def _email_notification(notification_id: int) -> None:
    with transaction.atomic():
        # Claim it first: a retry or a second worker finds emailed_at set and sends nothing.
        claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            return
        notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    url = settings.CONCORD_SITE_URL.rstrip("/") + (notification.link or reverse("notifications"))
    send_mail(
        subject="You have a new notification in Concord",
        message=f"{notification.title}\n\nSign in to read it: {url}\n",
        from_email=None,
        recipient_list=[notification.recipient.email],
    )


def notification_mark_read(*, user: User, notification_uuid=None) -> int:
    """Mark one (or, with no uuid, every) unread notification of the user read."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_uuid is not None:
        unread = unread.filter(uuid=notification_uuid)
    return unread.update(read_at=timezone.now())


def practice_crisis_help_update(*, actor: User, practice, data: dict) -> None:
    """A clinic admin of this practice (or a clinic-wide one) sets its state, its after-hours
    help and the reply time it promises (in words, and as days a message may wait unread).
    Raises Http404 (audited) for anyone else and ValidationError for bad input (nothing saved).
    """
    fields = ["state", "after_hours_phone", "after_hours_instructions", "reply_time"]
    if not access.administers_practice(actor, practice):
        access.refuse_practice(actor, Action.UPDATE, practice.uuid)
    with transaction.atomic():
        locked = type(practice).objects.select_for_update().get(pk=practice.pk)
        before = {field: getattr(locked, field) for field in [*fields, "reply_days"]}
        for field in fields:
            if field in data:  # what is not given is left as it is (a practice's state)
                setattr(locked, field, (data.get(field) or "").strip())
        if "reply_days" in data:
            locked.reply_days = data.get("reply_days") or None
        locked.full_clean()
        locked.save(update_fields=[*fields, "reply_days"])
        changed = [f for f in [*fields, "reply_days"] if getattr(locked, f) != before[f]]
        if before["state"] != locked.state:
            # The state decides which prescription limits apply: say from what to what.
            changed[changed.index("state")] = (
                f"state {before['state'] or '-'} to {locked.state or '-'}"
            )
        audit.record(
            actor=actor,
            patient=None,
            category=Category.PROFILE,
            action=Action.UPDATE,
            obj=locked,
            via="clinic admin: practice settings: " + (", ".join(changed) or "nothing changed"),
        )


def notification_settings_save(
    *,
    actor: User,
    email_enabled: bool,
    email_groups: Iterable[str],
    quiet_from: time | None,
    quiet_until: time | None,
    time_zone: str | None = None,
) -> NotificationPreference:
    """The signed-in person's own notification settings: e-mail on or off, the groups of
    reminders they want by e-mail (the others of theirs are turned off; groups they are not
    shown keep their setting), quiet hours and, when given, their time zone. Audited as an
    account change. Raises ValidationError (nothing saved) for a window with one end, or an
    unknown group or time zone."""
    shown = {g.key for g in nudges.groups_for(actor)}
    wanted = set(email_groups)
    if wanted - shown:
        raise ValidationError({"email_groups": "That reminder is not one you get."})
    with transaction.atomic():
        pref, _ = NotificationPreference.objects.select_for_update().get_or_create(user=actor)
        pref.email_enabled = email_enabled
        kept = [key for key in pref.email_off if key not in shown]
        pref.email_off = sorted({*kept, *(shown - wanted)})
        pref.quiet_from, pref.quiet_until = quiet_from, quiet_until
        if time_zone is not None:
            pref.time_zone = time_zone
        pref.full_clean()
        pref.save()
        audit.record(
            actor=actor,
            patient=None,
            category=ACCOUNT,
            action=Action.UPDATE,
            object_type="core.NotificationPreference",
            object_id=str(actor.uuid),
            via="self: notification settings",
        )
    return pref


def notification_email_stop(*, token: str) -> tuple[User, "nudges.ReminderGroup"]:
    """What an unsubscribe link does, signed in or not: that one group's reminder e-mails off
    for the person the link was made for, nothing else. Audited as an account change (no
    actor: the link is the credential). Raises nudges.UnsubscribeInvalid (audited, nothing
    changed) for a link tampered with, made for something else, or too old."""
    try:
        user_uuid, group = nudges.unsubscribe_read(token)
        user = User.objects.filter(uuid=user_uuid, is_active=True).first()
        if user is None:
            raise nudges.UnsubscribeInvalid("invalid")
    except nudges.UnsubscribeInvalid:
        audit.record(
            actor=None,
            patient=None,
            category=ACCOUNT,
            action=Action.UPDATE,
            outcome=AuditEvent.Outcome.DENIED,
            object_type="core.NotificationPreference",
            via="unsubscribe link not usable",
        )
        raise
    with transaction.atomic():
        pref, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        if group.key not in pref.email_off:
            pref.email_off = sorted([*pref.email_off, group.key])
            pref.save(update_fields=["email_off"])
        audit.record(
            actor=None,
            patient=None,
            category=ACCOUNT,
            action=Action.UPDATE,
            object_type="core.NotificationPreference",
            object_id=str(user.uuid),
            via=f"unsubscribe link: e-mails about {group.key} off",
        )
    return user, group


def self_description_save(
    *,
    actor,
    patient: Patient,
    race_ethnicity: Iterable[str] = (),
    race_declined: bool = False,
    preferred_language: str = "",
    sex: str = "",
    gender_identity: str = "",
) -> SelfDescription:
    """How the patient describes themselves, every answer optional; all empty clears it. The
    patient's alone to write (Http404 for anyone else, audited). ValidationError, nothing
    saved, for an answer not among the choices or categories together with "prefer not to
    say"."""
    permit = access.guard(actor, Action.UPDATE, Category.SELF_DESCRIPTION, patient)
    chosen = [c for c in SelfDescription.RaceEthnicity.values if c in set(race_ethnicity)]
    if set(race_ethnicity) - set(chosen):
        raise ValidationError({"race_ethnicity": "Choose from the categories listed."})
    with transaction.atomic():
        found = SelfDescription.objects.select_for_update().filter(patient=patient).first()
        described = found or SelfDescription(patient=patient)
        described.race_ethnicity = chosen
        described.race_declined = bool(race_declined)
        described.preferred_language = preferred_language or ""
        described.sex = sex or ""
        described.gender_identity = gender_identity or ""
        described.updated_at = timezone.now()
        if found is not None:
            described.version += 1
        described.full_clean()
        described.save()
        permit.done(described)
    return described
