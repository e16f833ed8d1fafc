"""Sign-ins and failed sign-ins, in the audit trail (the no-patient chain, category "account").

Django and allauth announce them with signals; nothing else tells us. A row names the account
(its uuid) and, from the request context, the client's address. No password is ever stored,
and an address that belongs to no account is stored only as a keyed digest: enough to see
that one unknown address was tried many times, not what it was.
"""

import hashlib
import hmac

from django.conf import settings

from . import audit
from .models import AuditEvent, User

ACCOUNT = "account"  # the audit category of events about a person's account


def connect() -> None:
    from allauth.account.signals import user_logged_in
    from django.contrib.auth.signals import user_login_failed

    # allauth's signal, not django.contrib.auth's: it is sent once the whole sign-in is done
    # (password, then TOTP when the account has it), and not for a test's force_login.
    user_logged_in.connect(signed_in, dispatch_uid="concord-audit-sign-in")
    user_login_failed.connect(sign_in_failed, dispatch_uid="concord-audit-sign-in-failed")


def signed_in(sender, request=None, user=None, **kwargs) -> None:
    if user is None:
        return
    audit.record(
        actor=user,
        patient=None,
        category=ACCOUNT,
        action=AuditEvent.Action.SIGN_IN,
        object_type="core.User",
        object_id=str(user.uuid),
        via="signed in",
    )


def sign_in_failed(sender, credentials=None, request=None, **kwargs) -> None:
    """Django sends the credentials with the password already masked; only the login is read."""
    credentials = credentials or {}
    login = str(credentials.get("email") or credentials.get("username") or "").strip()
    user = User.objects.filter(email__iexact=login).first() if login else None
    if user is not None:
        object_type, object_id, via = "core.User", str(user.uuid), "wrong password or locked out"
    else:
        object_type, object_id, via = "sign-in address", address_digest(login), "no such account"
    audit.record(
        actor=None,
        patient=None,
        category=ACCOUNT,
        action=AuditEvent.Action.SIGN_IN,
        outcome=AuditEvent.Outcome.DENIED,
        object_type=object_type,
        object_id=object_id,
        via=via,
    )


def address_digest(login: str) -> str:
    """A keyed digest of an address tried at sign-in: the same address gives the same digest."""
    digest = hmac.new(
        settings.CONCORD_AUDIT_KEY.encode(),
        b"concord-sign-in-address:" + login.lower().encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"hmac:{digest[:40]}"
