"""Credentials: personal API tokens, and account changes made by an administrator.

Every write here is audited in the no-patient chain under the category "account"; the row
names the person changed in `object_id` (their uuid), never anything about their care.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from . import access, audit
from .exceptions import NotAllowed
from .models import ApiToken, AuditEvent, User

ACCOUNT = "account"  # audit category of changes to a person's account
KEY_START = "concord_"
DEFAULT_DAYS = 90
MAX_DAYS = 365


class TokenNotFound(Exception):
    """No token of this user has that uuid."""


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _record(
    *,
    actor,
    user,
    action,
    outcome=AuditEvent.Outcome.ALLOWED,
    what="",
    reason="",
    category=ACCOUNT,
):
    via = what if not reason else f"{what}; reason: {reason}"
    audit.record(
        actor=actor,
        patient=None,
        category=category,
        action=action,
        outcome=outcome,
        object_type="core.User",
        object_id=str(user.uuid),
        via=via,
    )


def mfa_required(user: User) -> bool:
    """Whether this account must have TOTP before it may see a patient (CONCORD_REQUIRE_MFA)."""
    if not settings.CONCORD_REQUIRE_MFA:
        return False
    return access.needs_second_factor(user)


def _check_fresh_factor(*, user: User, code: str, password: str) -> None:
    """TOTP when the account has it (or must have it); otherwise the password. Raises
    ValidationError with a message for the form, NotAllowed when TOTP is required but absent."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is not None:
        if not code or not TOTP(totp).validate_code(code.strip()):
            raise ValidationError({"code": "That code is not right, or was already used."})
        return
    if mfa_required(user):
        raise NotAllowed("Set up two-factor authentication before you create an API token.")
    if not password or not user.check_password(password):
        raise ValidationError({"password": "That is not your current password."})


def api_token_create(
    *, actor: User, name: str, days: int = DEFAULT_DAYS, code: str = "", password: str = ""
) -> tuple[ApiToken, str]:
    """Make a token for the actor themselves; returns it and its key (shown once, never kept).

    The second factor is checked first, outside the write, so that a refusal stays audited.
    Raises NotAllowed (inactive, or TOTP required but not set up) or ValidationError.
    """
    if not actor.is_active:
        raise NotAllowed("This account is not active.")
    try:
        _check_fresh_factor(user=actor, code=code, password=password)
    except (ValidationError, NotAllowed):
        _record(
            actor=actor,
            user=actor,
            action=AuditEvent.Action.CREATE,
            outcome=AuditEvent.Outcome.DENIED,
            what="api token: second factor refused",
        )
        raise
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": f"Between 1 and {MAX_DAYS} days."})
    return _api_token_save(actor=actor, name=name, days=days)


@transaction.atomic
def _api_token_save(*, actor: User, name: str, days: int) -> tuple[ApiToken, str]:
    prefix = secrets.token_hex(6)
    key = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    token = ApiToken(
        user=actor,
        name=name.strip(),
        prefix=prefix,
        key_hash=_hash_key(key),
        password_stamp=actor.get_session_auth_hash(),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    token.full_clean()
    token.save()
    _record(
        actor=actor,
        user=actor,
        action=AuditEvent.Action.CREATE,
        what=f"api token {prefix}, {days} days",
    )
    return token, key


def api_token_list(*, user: User):
    """The user's own tokens, newest first."""
    return ApiToken.objects.filter(user=user)


def api_token_revoke(*, actor: User, token_uuid) -> ApiToken:
    """End one of the actor's own tokens. Raises TokenNotFound for any other token (audited)."""
    token = _api_token_end_own(actor=actor, token_uuid=token_uuid)
    if token is None:
        _revoke_refused(actor, token_uuid)
        raise TokenNotFound
    return token


@transaction.atomic
def _api_token_end_own(*, actor: User, token_uuid) -> ApiToken | None:
    token = ApiToken.objects.select_for_update().filter(user=actor, uuid=token_uuid).first()
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_because = ApiToken.EndedBecause.OWNER
        token.save(update_fields=["revoked_at", "revoked_because"])
        _record(
            actor=actor,
            user=actor,
            action=AuditEvent.Action.UPDATE,
            what=f"api token {token.prefix} revoked",
        )
    return token


def _revoke_refused(actor: User, token_uuid) -> None:
    audit.record(
        actor=actor,
        patient=None,
        category=ACCOUNT,
        action=AuditEvent.Action.UPDATE,
        outcome=AuditEvent.Outcome.DENIED,
        object_type="core.ApiToken",
        object_id=str(token_uuid),
        via="api token revoke: not one of the actor's",
    )


@transaction.atomic
def api_tokens_revoke_all(*, user: User, because: str, actor: User | None = None) -> int:
    """End every live token of the user (password change, deactivation, MFA reset)."""
    count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_because=because
    )
    if count:
        _record(
            actor=actor,
            user=user,
            action=AuditEvent.Action.UPDATE,
            what=f"{count} api token(s) ended: {because}",
        )
    return count


def api_token_authenticate(key: str) -> ApiToken | None:
    """The live token for a presented key, or None; marks it used at most once a minute."""
    if not key.startswith(KEY_START):
        return None
    prefix, _, secret = key[len(KEY_START) :].partition("_")
    if not prefix or not secret:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not constant_time_compare(token.key_hash, _hash_key(key)):
        return None
    now = timezone.now()
    if not token.is_live(now):
        return None
    user = token.user
    if not user.is_active:
        return None
    # The owner's password changed (admin, shell, reset, any path): the token is over.
    if not constant_time_compare(token.password_stamp, user.get_session_auth_hash()):
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# Account changes made by an administrator: who, to whom, what and why, each audited.


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationError({"reason": "Say why you are making this change (a few words)."})
    return reason[:300]


@transaction.atomic
def account_change_record(*, actor: User, user: User, changed: list[str], reason: str) -> None:
    """Audit an administrator's change to someone's account; end tokens on deactivation.

    Call in the transaction that saves the change. Raises ValidationError without a reason.
    """
    reason = _require_reason(reason)
    _record(
        actor=actor,
        user=user,
        action=AuditEvent.Action.UPDATE,
        what="account changed: " + ", ".join(changed or ["nothing"]),
        reason=reason,
    )
    if not user.is_active:
        api_tokens_revoke_all(user=user, because=ApiToken.EndedBecause.DEACTIVATED, actor=actor)


@transaction.atomic
def account_create_record(*, actor: User, user: User, reason: str) -> None:
    """Audit an administrator's creation of an account. Raises ValidationError without a reason."""
    _record(
        actor=actor,
        user=user,
        action=AuditEvent.Action.CREATE,
        what=f"account created: {user.role}",
        reason=_require_reason(reason),
    )


def password_reset_send(*, actor: User, user: User, reason: str, request) -> None:
    """Send the person allauth's password reset e-mail, to their own address; audited.

    The administrator never learns or sets the password. Raises ValidationError without a reason.
    """
    from allauth.account.forms import ResetPasswordForm

    reason = _require_reason(reason)
    form = ResetPasswordForm(data={"email": user.email})
    if not form.is_valid():
        raise ValidationError("No reset e-mail could be sent to this account's address.")
    form.save(request)
    _record(
        actor=actor,
        user=user,
        action=AuditEvent.Action.UPDATE,
        what="password reset e-mail sent to the account's address",
        reason=reason,
    )


@transaction.atomic
def mfa_reset(*, actor: User, user: User, reason: str, category: str = ACCOUNT) -> int:
    """Remove a person's authenticators (lost phone) and end their tokens; audited.

    Every allauth authenticator of theirs goes: the TOTP app, the recovery codes and any
    security key (allauth's own flows remove only the signed-in owner's, after they sign in
    again). They set TOTP up again at their next sign-in. Raises ValidationError without a
    reason.
    """
    from allauth.mfa.models import Authenticator

    reason = _require_reason(reason)
    removed, _ = Authenticator.objects.filter(user=user).delete()
    _record(
        actor=actor,
        user=user,
        action=AuditEvent.Action.DELETE,
        what=f"two-factor authentication reset ({removed} authenticator(s))",
        reason=reason,
        category=category,
    )
    api_tokens_revoke_all(user=user, because=ApiToken.EndedBecause.MFA_RESET, actor=actor)
    return removed


# The same account changes made by a clinic admin from Clinic settings, for the staff of the
# practices they run (core.access.staff_q): asked of the policy first, a refusal audited.


def _refuse_unless_administers(actor: User, user: User, action) -> None:
    if not access.administers_account(actor, user):
        access.refuse_staff(actor, action, user.uuid)


def account_active_set(*, actor: User, user: User, active: bool, reason: str) -> User:
    """Deactivate a staff account (it can no longer sign in, its sessions and API tokens stop
    working; nothing of it is deleted, so every record and audit row still names it) or
    reactivate it. Raises Http404 (audited) for an account the actor does not run,
    ValidationError without a reason or when it is already so."""
    _refuse_unless_administers(actor, user, AuditEvent.Action.UPDATE)
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active == active:
            state = "active" if active else "deactivated"
            raise ValidationError(f"{locked.full_name}'s account is already {state}.")
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        _record(
            actor=actor,
            user=locked,
            action=AuditEvent.Action.UPDATE,
            what="account reactivated" if active else "account deactivated",
            reason=reason,
            category=access.Category.STAFF,
        )
        if not active:
            api_tokens_revoke_all(
                user=locked, because=ApiToken.EndedBecause.DEACTIVATED, actor=actor
            )
    return locked


def clinic_lead_set(*, actor: User, user: User, lead: bool, reason: str) -> User:
    """Name a clinician of a practice the actor runs its clinic lead (who sees the practice's
    equity view, in aggregate), or no longer. Raises Http404 (audited) for an account the
    actor does not run, ValidationError without a reason, for someone who is not a clinician,
    or when it is already so."""
    _refuse_unless_administers(actor, user, AuditEvent.Action.UPDATE)
    reason = _require_reason(reason)
    if not access.may_lead(user):
        raise ValidationError("Only a prescriber or a therapist can be a clinic lead.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_clinic_lead == lead:
            state = "a clinic lead" if lead else "not a clinic lead"
            raise ValidationError(f"{locked.full_name} is already {state}.")
        locked.is_clinic_lead = lead
        locked.save(update_fields=["is_clinic_lead"])
        _record(
            actor=actor,
            user=locked,
            action=AuditEvent.Action.UPDATE,
            what="named clinic lead" if lead else "no longer clinic lead",
            reason=reason,
            category=access.Category.STAFF,
        )
    return locked


def staff_mfa_reset(*, actor: User, user: User, reason: str) -> int:
    """A clinic admin resets a staff member's two-factor authentication (a lost phone):
    `mfa_reset`, asked of the policy first, and the person is told at their own address so
    that a reset they did not ask for does not go unnoticed. Raises Http404 (audited) for an
    account the actor does not run, ValidationError without a reason."""
    _refuse_unless_administers(actor, user, AuditEvent.Action.DELETE)
    with transaction.atomic():
        removed = mfa_reset(actor=actor, user=user, reason=reason, category=access.Category.STAFF)
        email = user.email
        transaction.on_commit(lambda: _send_mfa_reset_notice(email))
    return removed


def _send_mfa_reset_notice(email: str) -> None:
    from django.core.mail import send_mail

    send_mail(
        subject="Your two-factor authentication at Concord was reset",
        message=(
            "Your clinic admin reset the two-factor authentication of your Concord account, "
            "and your API tokens no longer work. At your next sign-in you will set up an "
            "authenticator app again.\n\n"
            "If you did not ask for this, tell your clinic admin straight away.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )
