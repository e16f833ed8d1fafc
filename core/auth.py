"""Sign-in glue: no open sign-up, and the lockout key for django-axes."""

from allauth.account.adapter import DefaultAccountAdapter


class ClinicAccountAdapter(DefaultAccountAdapter):
    """Accounts are made by invitation only: clinicians by an admin, patients by a clinician."""

    def is_open_for_signup(self, request):
        return False


def axes_username(request, credentials) -> str:
    """allauth authenticates with `email`; the form field is `login`."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("login") or credentials.get("username")
    if not value and request is not None:
        value = request.POST.get("login", "")
    return (value or "").strip().lower()
