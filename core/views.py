"""Pages of core: notifications, the audit trail, who has seen my record, invitations, health."""

from allauth.account.views import EmailView
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, accounting, audit, credentials, nudges, pages, selectors, services
from .access import Action, Category
from .forms import (
    ApiTokenCreateForm,
    AuditSearchForm,
    InvitationAcceptForm,
    NotificationReadForm,
    NotificationSettingsForm,
    PatientEmailChangeForm,
    PracticeCrisisHelpForm,
    SelfDescriptionForm,
)


@access.declare("no patient data: the user's own inbox")
@login_required
@require_GET
def notifications(request):
    items = selectors.notification_list(user=request.user)
    return render(request, "core/notifications.html", {"items": items, "nav": "notifications"})


@access.declare("no patient data: the user's own inbox")
@login_required
@require_POST
def notifications_read(request):
    form = NotificationReadForm(request.POST)
    if not form.is_valid():
        message = "That notification could not be found. Nothing was marked read."
        return render(request, "400.html", {"message": message}, status=400)
    services.notification_mark_read(user=request.user, notification_uuid=form.cleaned_data["uuid"])
    return redirect("notifications")


@access.declare("audit trail: core.selectors.audit_search asks access.reads_audit_trail, audited")
@login_required
@require_GET
def audit_search(request):
    form = AuditSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.audit_search(
        actor=request.user,
        email=filters.get("email", ""),
        patient_name=filters.get("patient", ""),
        action=filters.get("action", ""),
        outcome=filters.get("outcome", ""),
    )
    return render(
        request, "core/audit_search.html", {"form": form, "events": events, "nav": "audit"}
    )


@access.declare("patient's own accounting of disclosures: access.get(AUDIT) in the selector")
@login_required
@require_GET
def record_views(request):
    """Who has seen my record: everyone, or only what was disclosed outside the care team."""
    patient = selectors.patient_for_user(user=request.user)
    if patient is None:
        raise Http404
    showing = "disclosures" if request.GET.get("show") == "disclosures" else "everyone"
    everyone = selectors.record_views_for_patient(actor=request.user, patient=patient)
    disclosures = everyone.disclosures()
    listed = disclosures if showing == "disclosures" else everyone
    page = Paginator(listed, accounting.PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "core/record_views.html",
        {
            "page": page,
            "groups": list(page.object_list),
            "showing": showing,
            "disclosure_count": disclosures.count(),
            "patient": patient,
            "nav": "record_views",
        },
    )


def _invite_page(request, patient, *, email_form=None, sent=None, status=200):
    email_form = email_form or PatientEmailChangeForm()
    if not patient.email:
        # The first address is recorded in person: there is no old address to confirm from.
        email_form.fields["method"].choices = [
            c for c in email_form.fields["method"].choices if c[0] == "in_person"
        ]
    context = {
        "patient": patient,
        "email_form": email_form,
        "pending_change": selectors.patient_email_change_pending(patient=patient),
        "sent": sent,
        "nav": "patients",
    }
    return render(request, "core/patient_invite.html", context, status=status)


def _audit_refusal(request, patient, object_type: str) -> None:
    """A refusal the service raised inside its transaction (which rolled back with it):
    recorded here, after, so that every refused account change leaves its row."""
    audit.record(
        actor=request.user,
        patient=patient,
        category=Category.SIGN_IN,
        action=Action.UPDATE,
        outcome="denied",
        object_type=object_type,
        object_id=str(patient.uuid),
        via="refused: see the message shown",
    )


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.SIGN_IN, Action.UPDATE)
def patient_invite(request, patient):
    """The patient's sign-in, for their care team: the address on file, the invitation."""
    if request.method == "GET":
        return _invite_page(request, patient)
    with pages.attempt(request) as result:
        invitation, _link, code = services.invitation_create(actor=request.user, patient=patient)
    if not result.ok:
        _audit_refusal(request, patient, "core.Invitation")
        return _invite_page(request, patient, status=result.status)
    # The code is shown here once and never stored in clear, nor put in a message or a URL.
    return _invite_page(request, patient, sent={"invitation": invitation, "code": code})


@login_required
@require_POST
@access.patient_view(Category.SIGN_IN, Action.UPDATE)
def patient_email_change(request, patient):
    form = PatientEmailChangeForm(request.POST)
    if not form.is_valid():
        return _invite_page(request, patient, email_form=form, status=400)
    with pages.attempt(request, form) as result:
        change = services.patient_email_change(
            actor=request.user,
            patient=patient,
            new_email=form.cleaned_data["new_email"],
            method=form.cleaned_data["method"],
            proof=form.cleaned_data.get("proof", ""),
        )
    if not result.ok:
        _audit_refusal(request, patient, "core.PatientEmailChange")
        return _invite_page(request, patient, email_form=form, status=result.status)
    if change.applied_at:
        messages.success(
            request,
            f"The address on file is now {change.new_email}. Any invitation not yet used was "
            "closed; send a new one when ready.",
        )
    else:
        messages.success(
            request,
            f"We sent a confirmation link to the old address, {change.old_email}. The address "
            "on file changes when the patient confirms it there (within 3 days).",
        )
    return redirect("patient_invite", patient_uuid=patient.uuid)


@access.declare("public: the one-time token sent to the old address is the credential")
@require_http_methods(["GET", "POST"])
def patient_email_confirm(request, token):
    try:
        change = services.patient_email_change_get(token=token)
    except services.EmailChangeInvalid:
        return render(request, "core/email_change_invalid.html", status=410)
    if request.method == "POST":
        try:
            change = services.patient_email_change_confirm(token=token)
        except services.EmailChangeInvalid:
            return render(request, "core/email_change_invalid.html", status=410)
        return render(request, "core/email_change_confirm.html", {"change": change, "done": True})
    return render(request, "core/email_change_confirm.html", {"change": change, "done": False})


ATTEMPTS_CLOSED = "too_many_attempts"


@access.declare("public: the one-time invitation token is the credential")
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    try:
        invitation = services.invitation_get(token=token)
    except services.InvitationInvalid as invalid:
        if request.method == "POST":
            audit.record(
                actor=None,
                patient=None,
                category=Category.PROFILE,
                action=Action.CREATE,
                outcome="denied",
                object_type="core.Invitation",
                via="invitation link not usable",
            )
        return render(
            request, "core/invitation_invalid.html", {"reason": invalid.reason}, status=410
        )
    for_staff = invitation.is_for_staff
    form = InvitationAcceptForm(
        request.POST if request.method == "POST" else None,
        initial={
            "full_name": invitation.full_name if for_staff else invitation.patient.display_name
        },
        for_staff=for_staff,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user = services.invitation_accept(
                    token=token,
                    date_of_birth=form.cleaned_data.get("date_of_birth"),
                    code=form.cleaned_data["code"],
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password"],
                )
            except services.InvitationInvalid as invalid:
                return render(
                    request, "core/invitation_invalid.html", {"reason": invalid.reason}, status=410
                )
            except services.IdentityMismatch as mismatch:
                if mismatch.remaining == 0:
                    return render(
                        request,
                        "core/invitation_invalid.html",
                        {"reason": ATTEMPTS_CLOSED},
                        status=410,
                    )
                tries = (
                    "1 more try" if mismatch.remaining == 1 else f"{mismatch.remaining} more tries"
                )
                asked = (
                    "The code does not" if for_staff else "The date of birth or the code does not"
                )
                form.add_error(
                    None,
                    f"{asked} match what your clinic has. Check and try again: you have "
                    f"{tries}. After that this invitation is closed and your clinic will have to "
                    "send a new one.",
                )
            except ValidationError as error:
                if getattr(error, "code", None) == "address_taken":
                    form.add_error(None, error)
                else:
                    form.add_error("password", error)
            else:
                login(request, user, backend="core.auth.SignInAddressBackend")
                if for_staff:
                    messages.success(request, "Welcome to Concord.")
                    return redirect("home")
                messages.success(request, "Welcome to Concord. This is your home.")
                return redirect("patient_home")
    return render(
        request,
        "core/invitation_accept.html",
        {
            "form": form,
            "email": invitation.email,
            "max_attempts": invitation.MAX_ATTEMPTS,
            "for_staff": for_staff,
            "invitation": invitation,
        },
        status=status,
    )


class AccountEmailView(EmailView):
    """allauth's address page, with one address per account (ACCOUNT_CHANGE_EMAIL): a new
    one replaces it only once verified from its mailbox. "Make primary" has no place here:
    an unverified address can never become the sign-in address."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            services.account_email_sync(user=request.user)
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        self._audit_add(outcome="allowed")
        return super().form_valid(form)

    def form_invalid(self, form):
        self._audit_add(outcome="denied")
        return super().form_invalid(form)

    def _audit_add(self, *, outcome: str) -> None:
        # A new address asked for (pending until verified), or refused; never the address.
        audit.record(
            actor=self.request.user,
            patient=selectors.patient_for_user(user=self.request.user),
            category=Category.PROFILE,
            action=Action.UPDATE,
            outcome=outcome,
            object_type="account.EmailAddress",
            object_id=str(self.request.user.uuid),
            via="self: new sign-in address asked for",
        )

    def _action_primary(self, request, *args, **kwargs):
        self._audit_add(outcome="denied")
        messages.error(
            request,
            "An address becomes your sign-in address only after you confirm it with the link "
            "we e-mailed to it.",
        )
        return redirect("account_email")


account_email = access.declare("no patient data: the signed-in person's own address")(
    AccountEmailView.as_view()
)


@access.declare("public: service health, no patient data")
@require_GET
def health(request):
    from django.conf import settings

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - health reports any failure as such
        checks["database"] = "failing"
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001
            checks["redis"] = "failing"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": checks}, status=200 if healthy else 503
    )


@access.declare("no patient data: the practices a clinic admin runs")
@login_required
@require_GET
def practice_list(request):
    practices = selectors.practices_administered(user=request.user)
    if not practices:
        access.refuse_practice(request.user, Action.LIST)
    if len(practices) == 1:
        return redirect("practice_settings", practice_uuid=practices[0].uuid)
    return render(
        request,
        "core/practice_list.html",
        {"practices": practices, "nav": "practice_settings"},
    )


@access.declare("no patient data: a practice its clinic admin runs")
@login_required
@require_http_methods(["GET", "POST"])
def practice_settings(request, practice_uuid):
    practice = selectors.practice_administered_get(
        user=request.user,
        practice_uuid=practice_uuid,
        action=Action.UPDATE if request.method == "POST" else Action.READ,
    )
    form = PracticeCrisisHelpForm(request.POST or None, instance=practice)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            with pages.attempt(request, form) as result:
                services.practice_crisis_help_update(
                    actor=request.user, practice=practice, data=form.cleaned_data
                )
            if result.ok:
                messages.success(request, "Saved. Your patients see this on the crisis help page.")
                return redirect("practice_settings", practice_uuid=practice.uuid)
        status = 400
    return render(
        request,
        "core/practice_settings.html",
        {"form": form, "practice": practice, "nav": "practice_settings"},
        status=status,
    )


def _settings_form(request, data=None):
    user = request.user
    groups = nudges.groups_for(user)
    pref = selectors.notification_settings_get(user=user)
    return NotificationSettingsForm(
        data,
        groups=groups,
        choose_zone=access.kind_of(user) != "patient",  # a patient's is on their record
        initial=NotificationSettingsForm.initial_for(pref, groups),
    )


def _about_you_form(request, data=None):
    described = selectors.self_description_get(user=request.user)
    if described is None:
        return None
    return SelfDescriptionForm(data, initial=SelfDescriptionForm.initial_for(described))


def _account_context(request, form=None, new_key=None, settings_form=None, about_form=None):
    user = request.user
    uses_totp = is_mfa_enabled(user)
    must_set_up = credentials.mfa_required(user) and not uses_totp
    pref = selectors.notification_settings_get(user=user)
    return {
        "nav": "account",
        "tokens": credentials.api_token_list(user=user),
        "form": form or ApiTokenCreateForm(uses_totp=uses_totp),
        "uses_totp": uses_totp,
        "must_set_up_mfa": must_set_up,
        "new_key": new_key,
        "settings_form": settings_form or _settings_form(request),
        "quiet_zone": selectors.quiet_hours_zone(user=user, pref=pref).replace("_", " "),
        "about_form": about_form or _about_you_form(request),
    }


@access.declare("no patient data: the user's own account and API tokens")
@login_required
@require_GET
def account_page(request):
    return render(request, "core/account.html", _account_context(request))


@access.declare("no patient data: the signed-in person's own notification settings")
@login_required
@require_POST
def notification_settings(request):
    form = _settings_form(request, request.POST)
    if form.is_valid():
        with pages.attempt(request, form) as result:
            services.notification_settings_save(
                actor=request.user,
                email_enabled=form.cleaned_data["email_enabled"],
                email_groups=form.cleaned_data["email_groups"],
                quiet_from=form.cleaned_data["quiet_from"],
                quiet_until=form.cleaned_data["quiet_until"],
                time_zone=form.cleaned_data.get("time_zone"),
            )
        if result.ok:
            messages.success(request, "Saved your notification settings.")
            return redirect(reverse("account_page") + "#notifications")
    context = _account_context(request, settings_form=form)
    return render(request, "core/account.html", context, status=400)


@access.declare("the patient's own self-description: read and written through the policy inside")
@login_required
@require_POST
def self_description(request):
    """How a patient describes themselves, from their account page. Anyone else: not found."""
    patient = selectors.patient_for_user(user=request.user)
    if patient is None:
        raise Http404("Not found.")
    form = SelfDescriptionForm(request.POST)
    if form.is_valid():
        with pages.attempt(request, form) as result:
            services.self_description_save(actor=request.user, patient=patient, **form.cleaned_data)
        if result.ok:
            messages.success(request, "Saved how you describe yourself.")
            return redirect(reverse("account_page") + "#about-you")
    context = _account_context(request, about_form=form)
    return render(request, "core/account.html", context, status=400)


# A mail program's one-click unsubscribe (RFC 8058) posts with no session and no CSRF token;
# the signed link is the credential, and all it can do is turn one group's e-mails off.
@access.declare("public: the signed unsubscribe link is the credential; the person's own setting")
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET asks (a mail scanner opening the link changes nothing); POST turns it off."""
    if request.method == "GET":
        try:
            _uuid, group = nudges.unsubscribe_read(token)
        except nudges.UnsubscribeInvalid as invalid:
            return render(request, "core/unsubscribe.html", {"invalid": invalid.reason}, status=400)
        return render(request, "core/unsubscribe.html", {"group": group, "done": False})
    try:
        _user, group = services.notification_email_stop(token=token)
    except nudges.UnsubscribeInvalid as invalid:
        return render(request, "core/unsubscribe.html", {"invalid": invalid.reason}, status=400)
    return render(request, "core/unsubscribe.html", {"group": group, "done": True})


@access.declare("no patient data: the user's own API tokens; made for the signed-in user only")
@login_required
@require_POST
def api_token_create(request):
    form = ApiTokenCreateForm(request.POST, uses_totp=is_mfa_enabled(request.user))
    if form.is_valid():
        with pages.attempt(request, form) as result:
            token, key = credentials.api_token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                code=form.cleaned_data.get("code", ""),
                password=form.cleaned_data.get("password", ""),
            )
        if result.status == 403:  # the reason is in the page's messages
            return redirect("account_page")
        if result.ok:
            # Shown in this answer only (no-store), never put in the session or a message.
            context = _account_context(request, new_key=key)
            context["new_token"] = token
            return render(request, "core/account.html", context)
    return render(request, "core/account.html", _account_context(request, form=form), status=400)


@access.declare("no patient data: the user's own API tokens, looked up among theirs only")
@login_required
@require_POST
def api_token_revoke(request, token_uuid):
    try:
        token = credentials.api_token_revoke(actor=request.user, token_uuid=token_uuid)
    except credentials.TokenNotFound as error:
        raise Http404 from error
    messages.success(request, f"The token “{token.name}” no longer works.")
    return redirect("account_page")


def not_found(request, exception=None):
    """A 404 for a path no route matches: JSON under /api/, as the API's own refusals are
    (the schema documents them so), the site's page everywhere else."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
