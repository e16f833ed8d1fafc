"""Pages of core: notifications, the audit trail, who has seen my record, invitations, health."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, audit, selectors, services
from .access import Action, Category
from .forms import AuditSearchForm, InvitationAcceptForm, InviteForm


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
    services.notification_mark_read(
        user=request.user, notification_uuid=request.POST.get("uuid") or None
    )
    return redirect("notifications")


@access.declare("audit trail: clinic admins only, checked in selectors.audit_search")
@login_required
@require_GET
def audit_search(request):
    if not request.user.is_clinic_admin:
        audit.record(
            actor=request.user,
            patient=None,
            category=Category.AUDIT,
            action=Action.LIST,
            outcome="denied",
            object_type="core.AuditEvent",
        )
        raise PermissionDenied
    form = AuditSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.audit_search(
        actor=request.user,
        email=filters.get("email", ""),
        patient_name=filters.get("patient", ""),
        action=filters.get("action", ""),
        outcome=filters.get("outcome", ""),
    )
    audit.record(
        actor=request.user,
        patient=None,
        category=Category.AUDIT,
        action=Action.LIST,
        object_type="core.AuditEvent",
    )
    return render(
        request, "core/audit_search.html", {"form": form, "events": events, "nav": "audit"}
    )


@access.declare("patient's own accounting of disclosures: access.require(AUDIT) in selector")
@login_required
@require_GET
def record_views(request):
    patient = selectors.patient_for_user(user=request.user)
    if patient is None:
        from django.http import Http404

        raise Http404
    events = selectors.record_views_for_patient(actor=request.user, patient=patient)
    return render(
        request,
        "core/record_views.html",
        {"events": events, "patient": patient, "nav": "record_views"},
    )


@login_required
@require_POST
@access.patient_view(Category.PROFILE, Action.UPDATE)
def patient_invite(request, patient):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            services.invitation_create(
                actor=request.user, patient=patient, email=form.cleaned_data["email"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Invitation sent to {form.cleaned_data['email']}. The link works once, for 3 days.",
            )
    else:
        messages.error(request, form.errors["email"][0])
    return redirect("patient_detail", patient_uuid=patient.uuid)


@access.declare("public: the one-time invitation token is the credential")
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    try:
        invitation = services.invitation_get(token=token)
    except services.InvitationInvalid:
        return render(request, "core/invitation_invalid.html", status=410)
    form = InvitationAcceptForm(
        request.POST if request.method == "POST" else None,
        initial={"full_name": invitation.patient.display_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
            )
        except services.InvitationInvalid:
            return render(request, "core/invitation_invalid.html", status=410)
        except ValidationError as error:
            form.add_error("password", error)
        else:
            login(request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
            messages.success(request, "Welcome to Concord. This is your home.")
            return redirect("patient_home")
    return render(request, "core/invitation_accept.html", {"form": form, "email": invitation.email})


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


@access.declare("no patient data for anyone signed out; a patient's own care team, audited")
@require_GET
def crisis_help(request):
    """Crisis help, open to everyone: a patient whose session ended at 2 a.m. still gets it."""
    practices = selectors.crisis_help_practices(user=request.user)
    return render(
        request,
        "core/crisis_help.html",
        {"practices": practices, "nav": "crisis_help"},
    )


@access.declare("no patient data: the practices a clinic admin runs")
@login_required
@require_GET
def practice_list(request):
    practices = selectors.practices_administered(user=request.user)
    if not practices:
        audit.record(
            actor=request.user,
            patient=None,
            category=Category.PROFILE,
            action=Action.LIST,
            outcome="denied",
            object_type="core.Practice",
        )
        raise PermissionDenied
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
    from .forms import PracticeCrisisHelpForm

    practice = next(
        (
            p
            for p in selectors.practices_administered(user=request.user)
            if p.uuid == practice_uuid
        ),
        None,
    )
    if practice is None:
        audit.record(
            actor=request.user,
            patient=None,
            category=Category.PROFILE,
            action=Action.UPDATE if request.method == "POST" else Action.READ,
            outcome="denied",
            object_type="core.Practice",
            object_id=str(practice_uuid),
        )
        raise PermissionDenied
    form = PracticeCrisisHelpForm(request.POST or None, instance=practice)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.practice_crisis_help_update(
                    actor=request.user, practice=practice, data=form.cleaned_data
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Saved. Your patients see this on the crisis help page.")
                return redirect("practice_settings", practice_uuid=practice.uuid)
        status = 400
    return render(
        request,
        "core/practice_settings.html",
        {"form": form, "practice": practice, "nav": "practice_settings"},
        status=status,
    )
