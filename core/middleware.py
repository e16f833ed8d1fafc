"""Request id, session timeouts, MFA enforcement and no-store caching."""

import time
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from . import audit

SESSION_STARTED = "concord_started"
SESSION_SEEN = "concord_seen"


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class RequestIdMiddleware:
    """Give each request an id and bind it, with the address, to the audit context."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = request.META.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex
        token = audit.set_context(
            audit.RequestContext(request_id=request.id, ip=_client_ip(request))
        )
        try:
            response = self.get_response(request)
        finally:
            audit.reset_context(token)
        response["X-Request-ID"] = request.id
        return response


class SessionTimeoutMiddleware:
    """Sign out after CONCORD_IDLE_TIMEOUT without a request, or CONCORD_ABSOLUTE_TIMEOUT in all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.setdefault(SESSION_STARTED, now)
            seen = request.session.get(SESSION_SEEN, now)
            idle = now - seen > settings.CONCORD_IDLE_TIMEOUT.total_seconds()
            too_long = now - started > settings.CONCORD_ABSOLUTE_TIMEOUT.total_seconds()
            if idle or too_long:
                logout(request)
                messages.info(
                    request,
                    "You were signed out after a period without activity. Please sign in again.",
                )
                return redirect(f"{reverse('account_login')}?next={request.path}")
            request.session[SESSION_SEEN] = now
        return self.get_response(request)


_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/health/")


class RequireMFAMiddleware:
    """With CONCORD_REQUIRE_MFA, a clinician or admin without TOTP sets it up before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.CONCORD_REQUIRE_MFA and self._needs_setup(request):
            if request.path.startswith("/api/"):
                from django.http import JsonResponse

                return JsonResponse(
                    {"detail": "Set up two-factor authentication first."}, status=403
                )
            messages.warning(
                request, "Set up two-factor authentication before you see any patient."
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    def _needs_setup(self, request) -> bool:
        user = request.user
        if not user.is_authenticated:
            return False
        if user.is_patient:
            return False
        if request.path.startswith(_MFA_EXEMPT_PREFIXES):
            return False
        from allauth.mfa.utils import is_mfa_enabled

        return not is_mfa_enabled(user)


class NoStoreMiddleware:
    """Pages and API answers about patients must not sit in shared or browser caches."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response.setdefault("Cache-Control", "no-store")
        return response
