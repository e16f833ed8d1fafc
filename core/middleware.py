"""Request id, session timeouts, MFA enforcement and no-store caching."""

import ipaddress
import time
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.shortcuts import redirect
from django.urls import reverse

from . import access, audit

SESSION_STARTED = "concord_started"
SESSION_SEEN = "concord_seen"


def client_ip(request) -> str | None:
    """The client's address: behind PROXY_COUNT trusted proxies, from X-Forwarded-For."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return _valid_ip(forwarded[-proxies])
    return _valid_ip(request.META.get("REMOTE_ADDR"))


def _valid_ip(value) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class RequestIdMiddleware:
    """Give each request an id and bind it, with the address, to the audit context.

    The id is always made here: one sent by the client (X-Request-ID) is ignored, so that
    nobody can make their requests look like someone else's in the audit trail. The answer
    carries the id, for a support request to quote.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = uuid.uuid4().hex
        token = audit.set_context(
            audit.RequestContext(request_id=request.id, ip=client_ip(request))
        )
        try:
            # The request's reads are audited together, before the response leaves.
            with audit.batch(), access.request_scope():
                response = self.get_response(request)
        finally:
            audit.reset_context(token)
        response["X-Request-ID"] = request.id
        return response


# The last-seen stamp is refreshed (and the session row written) at most once a minute: a
# signed-in request that changes nothing else writes nothing. The stamp is then up to a minute
# behind the last request, so an idle person is signed out between the limit less a minute and
# the limit after their last request: exact to the minute, never later than the limit.
SEEN_RESOLUTION = 60


class SessionTimeoutMiddleware:
    """Sign out after CONCORD_IDLE_TIMEOUT without a request, or CONCORD_ABSOLUTE_TIMEOUT in all.

    Idleness is judged from SESSION_SEEN, which is rewritten only when it is SEEN_RESOLUTION
    seconds old or more, so most requests leave the session unmodified and Django does not save
    it (SESSION_SAVE_EVERY_REQUEST stays off).
    """

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
                return redirect(
                    f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}"
                )
            if now - seen >= SEEN_RESOLUTION:
                request.session[SESSION_SEEN] = now
        response = self.get_response(request)
        # Just signed in: the clocks start now, not at the next request. A request signed with
        # an API token (DRF sets its user on the request) has no session to start.
        if (
            request.user.is_authenticated
            and SESSION_KEY in request.session
            and SESSION_SEEN not in request.session
        ):
            now = time.time()
            request.session[SESSION_STARTED] = now
            request.session[SESSION_SEEN] = now
        return response


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
        if not access.needs_second_factor(user):
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


class HtmxRedirectMiddleware:
    """An htmx request that ends in a redirect (say, to sign in after a timeout) must move the
    whole page, not paste the target page into the part being updated."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Read the header itself: this runs outside django-htmx's middleware, so that the
        # session timeout's redirect is caught too.
        htmx = request.headers.get("HX-Request") == "true"
        if htmx and response.status_code in (301, 302, 303) and response.has_header("Location"):
            from django_htmx.http import HttpResponseClientRedirect

            return HttpResponseClientRedirect(response["Location"])
        return response


class RefuseUnstorableInputMiddleware:
    """Answer 400, before any view runs, for a NUL byte or lone surrogate in any query or form
    value or name: every view reading request.GET or request.POST directly is covered, not
    only those that go through a Django form (which refuses NUL itself)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._refused(request):
            return self._bad_request(request)
        return self.get_response(request)

    @staticmethod
    def _refused(request) -> bool:
        from .text import unstorable

        if unstorable(request.path):
            return True
        sources = [request.GET]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            sources.append(request.POST)
        for data in sources:
            for key, values in data.lists():
                if unstorable(key) or any(unstorable(v) for v in values):
                    return True
        return False

    @staticmethod
    def _bad_request(request):
        from django.http import JsonResponse
        from django.shortcuts import render

        from .text import UNSTORABLE_MESSAGE

        if request.path.startswith("/api/"):
            return JsonResponse({"detail": UNSTORABLE_MESSAGE}, status=400)
        return render(request, "400.html", {"message": UNSTORABLE_MESSAGE}, status=400)
