"""Every write to people, invitations and notifications."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from . import access, audit
from .access import Action, Category
from .models import CareTeamMembership, Invitation, Notification, Patient, Role, User


class InvitationInvalid(Exception):
    """The link is unknown, already used, or expired."""


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def care_team_join(*, patient: Patient, clinician: User) -> CareTeamMembership:
    """Put a clinician on a patient's care team (from today), in their profession's role.

    Call inside the caller's transaction; an active membership already there is returned.
    """
    existing = (
        CareTeamMembership.objects.active().filter(patient=patient, clinician=clinician).first()
    )
    if existing is not None:
        return existing
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


def invitation_create(*, actor, patient: Patient, email: str) -> tuple[Invitation, str]:
    """Invite a patient to sign in; returns the invitation and its one-time link.

    Raises Http404 if the actor may not update this patient's profile, ValidationError on
    a bad address or when the patient already has a login.
    """
    access.require(actor, Action.UPDATE, Category.PROFILE, patient)
    email = (email or "").strip().lower()
    from django.core.validators import validate_email

    validate_email(email)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.user_id is not None:
            raise ValidationError("This patient already has a Concord sign-in.")
        if User.objects.filter(email=email).exists():
            raise ValidationError("That e-mail address already belongs to another account.")
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            patient=locked,
            email=email,
            token_hash=_hash_token(token),
            invited_by=actor,
            expires_at=timezone.now() + settings.CONCORD_INVITATION_VALID,
        )
        if not locked.email:
            locked.email = email
            locked.save(update_fields=["email"])
        link = settings.CONCORD_SITE_URL.rstrip("/") + reverse("invitation_accept", args=[token])
        transaction.on_commit(lambda: _send_invitation_email(email, link))
    return invitation, link


def _send_invitation_email(email: str, link: str) -> None:
    # The e-mail names no clinician, diagnosis or medicine: only that a link awaits.
    send_mail(
        subject="Your invitation to Concord",
        message=(
            "Your care team has invited you to Concord.\n\n"
            f"Set your password here (the link works once, for {settings.CONCORD_INVITATION_VALID.days} days):\n{link}\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


def invitation_get(*, token: str) -> Invitation:
    """The usable invitation for this token. Raises InvitationInvalid."""
    invitation = (
        Invitation.objects.select_related("patient").filter(token_hash=_hash_token(token)).first()
    )
    if invitation is None or not invitation.is_usable():
        raise InvitationInvalid
    return invitation


def invitation_accept(*, token: str, full_name: str, password: str) -> User:
    """Create the patient's login from a one-time link. Raises InvitationInvalid or ValidationError."""
    with transaction.atomic():
        invitation = (
            # Only the invitation's row: FOR UPDATE through the join would lock the patient's row
            # against the audit rows of every read about them.
            Invitation.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(token_hash=_hash_token(token))
            .first()
        )
        if invitation is None or not invitation.is_usable():
            raise InvitationInvalid
        patient = Patient.objects.select_for_update(no_key=True).get(pk=invitation.patient_id)
        if patient.user_id is not None:
            raise InvitationInvalid
        user = User(
            email=invitation.email,
            full_name=full_name.strip() or patient.display_name,
            role=Role.PATIENT,
        )
        validate_password(password, user)
        user.set_password(password)
        user.full_clean()
        user.save()
        patient.user = user
        patient.save(update_fields=["user"])
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        audit.record(
            actor=user,
            patient=patient,
            category=Category.PROFILE,
            action=Action.UPDATE,
            obj=patient,
            via="self",
        )
    return user


def notification_send(
    *, recipient: User, kind: str, title: str, link: str = "", email: bool = True
) -> Notification:
    """An in-app notification, and an e-mail with the link after commit when the user wants one
    (never with `email=False`: the crisis help a patient is offered stays in the app).

    `title` must carry no clinical content: it is shown in lists and sent by e-mail.
    """
    from .models import NotificationPreference

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
    """A clinic admin of this practice (or a clinic-wide one) sets its after-hours help.
    Raises PermissionDenied for anyone else and ValidationError for bad input (nothing saved)."""
    fields = ["after_hours_phone", "after_hours_instructions", "reply_time"]
    if not actor.is_clinic_admin or actor.practice_id not in (None, practice.pk):
        audit.record(
            actor=actor,
            patient=None,
            category=Category.PROFILE,
            action=Action.UPDATE,
            outcome="denied",
            object_type="core.Practice",
        )
        raise PermissionDenied
    with transaction.atomic():
        locked = type(practice).objects.select_for_update().get(pk=practice.pk)
        for field in fields:
            setattr(locked, field, (data.get(field) or "").strip())
        locked.full_clean()
        locked.save(update_fields=fields)
        audit.record(
            actor=actor,
            patient=None,
            category=Category.PROFILE,
            action=Action.UPDATE,
            obj=locked,
        )
