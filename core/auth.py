"""Sign-in glue: no open sign-up, the lockout key for django-axes, and the per-account slowdown.

Three limits apply to failed sign-ins (see settings):
- axes: per account AND client address, AXES_FAILURE_LIMIT failures lock that address out of
  that account for AXES_COOLOFF_TIME; the same person elsewhere still signs in;
- allauth: per client address, 10 failures a minute (any accounts) pause that address;
- here: per account, from anywhere, after CONCORD_SIGNIN_SLOWDOWN_AFTER failures in
  CONCORD_SIGNIN_SLOWDOWN_WINDOW each attempt waits CONCORD_SIGNIN_SLOWDOWN_SECONDS after the
  last failure: it slows, it never locks.
"""

import hashlib
import math
import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction


class ClinicAccountAdapter(DefaultAccountAdapter):
    """Accounts are made by invitation only: clinicians by an admin, patients by a clinician.

    A new sign-in address counts only once confirmed from its mailbox; confirming it replaces
    the old one (ACCOUNT_CHANGE_EMAIL), which is told, and the change is audited.
    """

    def is_open_for_signup(self, request):
        return False

    def pre_authenticate(self, request, **credentials):
        super().pre_authenticate(request, **credentials)
        wait = signin_wait_seconds(_login_of(credentials))
        if wait:
            raise forms.ValidationError(
                "There have been many failed sign-ins for this account. "
                f"Wait {wait} seconds, then try again.",
                code="signin_slowed",
            )

    def authentication_failed(self, request, **credentials):
        super().authentication_failed(request, **credentials)
        signin_failure_count(_login_of(credentials))

    def confirm_email(self, request, email_address):
        from core import services

        user = email_address.user
        if not request.user.is_authenticated or request.user.pk != user.pk:
            # The new mailbox may be a stranger's (a typo): opening the link alone must not
            # hand them the account. Its owner confirms, signed in.
            self.add_message(
                request,
                messages.ERROR,
                message="To confirm, sign in to the account that asked for this change, then "
                "open the link again. Nothing was changed.",
            )
            return False
        if services.email_in_use(email_address.email, user=user):
            # Taken by someone else since it was added: never attach it, never 500 on the
            # unique User.email.
            self.add_message(
                request,
                messages.ERROR,
                message="This address cannot be used: it already belongs to someone else at "
                "Concord. Nothing was changed.",
            )
            return False
        old_email = user.email
        with transaction.atomic():
            confirmed = super().confirm_email(request, email_address)
            if confirmed:
                user.refresh_from_db(fields=["email"])
                if user.email.lower() != (old_email or "").lower():
                    services.account_email_changed(
                        user=user, old_email=old_email, new_email=user.email
                    )
        return confirmed


class SignInAddressBackend(AuthenticationBackend):
    """allauth's backend, matching a person by their sign-in address (User.email) only: an
    address added and not yet verified opens nothing."""

    def _authenticate_by_email(self, email, password):
        if not email:
            return None
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            self._mitigate_timing_attack(password)
            return None
        return self._check_password(user, password)


def _login_of(credentials) -> str:
    value = credentials.get("email") or credentials.get("username") or ""
    return value.strip().lower()


def _signin_keys(login: str) -> tuple[str, str]:
    digest = hashlib.sha256(login.encode()).hexdigest()[:32]
    return f"concord:signin-failures:{digest}", f"concord:signin-last-failure:{digest}"


def signin_failure_count(login: str) -> int:
    """Count one failed sign-in for the account, from any address; returns the count."""
    if not login or not settings.CONCORD_SIGNIN_SLOWDOWN_AFTER:
        return 0
    window = int(settings.CONCORD_SIGNIN_SLOWDOWN_WINDOW.total_seconds())
    count_key, last_key = _signin_keys(login)
    cache.add(count_key, 0, timeout=window)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, timeout=window)
        count = 1
    cache.set(last_key, time.time(), timeout=window)
    return count


def signin_wait_seconds(login: str) -> int:
    """Seconds this account's next sign-in must wait (0: go ahead)."""
    after = settings.CONCORD_SIGNIN_SLOWDOWN_AFTER
    if not login or not after:
        return 0
    count_key, last_key = _signin_keys(login)
    if (cache.get(count_key) or 0) < after:
        return 0
    last = cache.get(last_key)
    if last is None:
        return 0
    remaining = settings.CONCORD_SIGNIN_SLOWDOWN_SECONDS - (time.time() - last)
    return max(0, math.ceil(remaining))


def axes_username(request, credentials) -> str:
    """allauth authenticates with `email`; the form field is `login`."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("login") or credentials.get("username")
    if not value and request is not None:
        value = request.POST.get("login", "")
    return (value or "").strip().lower()
