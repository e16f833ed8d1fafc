"""Clinic settings: a clinic admin's console, in Concord's own pages.

Inviting clinicians and admins (the single-use invitation patients have), deactivating and
reactivating their accounts (never deleting: the records and the audit name them), resetting a
second factor with a reason, and each practice's own settings. Every decision is
`core.access`'s (`staff_q`, `practices_q`): the admins of a practice run its staff, nobody
else; every change is audited by its service. No page here shows patient information. The
Django admin stays for superusers.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access, credentials, pages, services
from core import selectors as core_selectors
from core.access import Action, Category
from core.models import Practice

from .forms import ReasonForm, StaffInviteForm


def _runs_staff(request, action: Action) -> None:
    """Anyone but a clinic admin is told "not found" (audited), as for a page that is not."""
    if not access.can(request.user, action, Category.STAFF):
        access.refuse_staff(request.user, action)


@access.declare("no patient data: the staff accounts a clinic admin runs (access.staff_q)")
@login_required
@require_GET
def console_home(request):
    _runs_staff(request, Action.LIST)
    return render(
        request,
        "clinic/console/home.html",
        {
            "people": core_selectors.staff_list(user=request.user),
            "invitations": core_selectors.staff_invitations_open(user=request.user),
            "practices": core_selectors.practices_administered(user=request.user),
            "nav": "console",
        },
    )


def _invite_form(request, data=None):
    practices = Practice.objects.filter(access.practices_q(request.user)).order_by("name")
    return StaffInviteForm(data, practices=practices)


@access.declare("no patient data: a clinic admin invites staff to a practice they run")
@login_required
@require_http_methods(["GET", "POST"])
def console_invite(request):
    _runs_staff(request, Action.CREATE)
    form = _invite_form(request, request.POST if request.method == "POST" else None)
    context = {"form": form, "nav": "console"}
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            with pages.attempt(request, form) as result:
                invitation, _link, code = services.staff_invitation_create(
                    actor=request.user,
                    email=form.cleaned_data["email"],
                    full_name=form.cleaned_data["full_name"],
                    role=form.cleaned_data["role"],
                    practice=form.cleaned_data["practice"],
                )
            if result.ok:
                # The code is shown in this answer only: never stored in clear, never put in a
                # message, a URL or the e-mail.
                context.update(
                    sent={"invitation": invitation, "code": code}, form=_invite_form(request)
                )
                status = 200
            else:
                status = result.status
    return render(request, "clinic/console/invite.html", context, status=status)


@access.declare("no patient data: a clinic admin closes a staff invitation of their practice")
@login_required
@require_POST
def console_invitation_withdraw(request, invitation_uuid):
    invitation = services.staff_invitation_withdraw(
        actor=request.user, invitation_uuid=invitation_uuid
    )
    messages.success(
        request, f"The invitation to {invitation.email} was withdrawn: its link no longer works."
    )
    return redirect("console_home")


def _person_page(request, person, *, active_form=None, mfa_form=None, status=200):
    return render(
        request,
        "clinic/console/person.html",
        {
            "person": person,
            "active_form": active_form or ReasonForm(prefix="active"),
            "mfa_form": mfa_form or ReasonForm(prefix="mfa"),
            "nav": "console",
        },
        status=status,
    )


@access.declare("no patient data: a staff account its clinic admin runs (core.selectors.staff_get)")
@login_required
@require_GET
def console_person(request, person_uuid):
    person = core_selectors.staff_get(user=request.user, person_uuid=person_uuid)
    return _person_page(request, person)


@access.declare("no patient data: a staff account its clinic admin runs (core.selectors.staff_get)")
@login_required
@require_POST
def console_person_active(request, person_uuid):
    """Deactivate or reactivate: the button says which, the reason says why."""
    person = core_selectors.staff_get(
        user=request.user, person_uuid=person_uuid, action=Action.UPDATE
    )
    form = ReasonForm(request.POST, prefix="active")
    activate = request.POST.get("active") == "1"
    if form.is_valid():
        with pages.attempt(request, form) as result:
            credentials.account_active_set(
                actor=request.user,
                user=person,
                active=activate,
                reason=form.cleaned_data["reason"],
            )
        if result.ok:
            if activate:
                done = f"{person.full_name} can sign in again."
            else:
                done = (
                    f"{person.full_name}'s account is deactivated: they can no longer sign in, "
                    "and their API tokens no longer work. Everything they wrote still names them."
                )
            messages.success(request, done)
            return redirect("console_person", person_uuid=person.uuid)
    return _person_page(request, person, active_form=form, status=400)


@access.declare("no patient data: a staff account its clinic admin runs (core.selectors.staff_get)")
@login_required
@require_POST
def console_person_mfa_reset(request, person_uuid):
    person = core_selectors.staff_get(
        user=request.user, person_uuid=person_uuid, action=Action.UPDATE
    )
    form = ReasonForm(request.POST, prefix="mfa")
    if form.is_valid():
        with pages.attempt(request, form) as result:
            credentials.staff_mfa_reset(
                actor=request.user, user=person, reason=form.cleaned_data["reason"]
            )
        if result.ok:
            messages.success(
                request,
                f"{person.full_name}'s two-factor authentication was reset. They set up an "
                "authenticator app again at their next sign-in; we told them by e-mail.",
            )
            return redirect("console_person", person_uuid=person.uuid)
    return _person_page(request, person, mfa_form=form, status=400)
