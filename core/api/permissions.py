from django.conf import settings
from rest_framework.permissions import BasePermission

from core import access


class IsVerifiedUser(BasePermission):
    """Signed in, active, and (where MFA is required) a clinician or admin with TOTP set up.

    Per-patient decisions are the access policy's, made in each view's queryset.
    """

    message = "Sign in first."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if settings.CONCORD_REQUIRE_MFA and access.needs_second_factor(user):
            from allauth.mfa.utils import is_mfa_enabled

            if not is_mfa_enabled(user):
                self.message = "Set up two-factor authentication first."
                return False
        return True
