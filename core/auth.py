"""Sign-in glue: no open sign-up, and the lockout key for django-axes."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction


class ClinicAccountAdapter(DefaultAccountAdapter):
    """Accounts are made by invitation only: clinicians by an admin, patients by a clinician.

    A new sign-in address counts only once confirmed from its mailbox; confirming it replaces
    the old one (ACCOUNT_CHANGE_EMAIL), which is told, and the change is audited.
    """

    def is_open_for_signup(self, request):
        return False

    def confirm_email(self, request, email_address):
        from core import services

        user = email_address.user
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


def axes_username(request, credentials) -> str:
    """allauth authenticates with `email`; the form field is `login`."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("login") or credentials.get("username")
    if not value and request is not None:
        value = request.POST.get("login", "")
    return (value or "").strip().lower()
