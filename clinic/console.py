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

from alliance import selectors as alliance_selectors
from alliance import services as alliance_services
from core import access, credentials, pages, services
from core import selectors as core_selectors
from core.access import Action, Category
from core.models import Practice
from core.states import US_STATES
from prescribing import services as prescribing_services
from prescribing.models import ScheduleChoices, SupplyPolicy
from stories import services as stories_services
from stories.models import SummaryTerm

from .forms import (
    AllianceSettingsForm,
    ReasonForm,
    StaffInviteForm,
    SummaryTermForm,
    SummaryTermRemoveForm,
    SupplyPolicyForm,
)


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
            "runs_the_clinic": access.runs_the_clinic(request.user),
            "alliance_form": AllianceSettingsForm(
                initial={
                    "show_alliance_scores_to_patients": (
                        alliance_selectors.show_scores_to_patients()
                    )
                }
            ),
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


def _person_page(
    request, person, *, active_form=None, mfa_form=None, lead_form=None, status=200
):
    return render(
        request,
        "clinic/console/person.html",
        {
            "person": person,
            "active_form": active_form or ReasonForm(prefix="active"),
            "mfa_form": mfa_form or ReasonForm(prefix="mfa"),
            "lead_form": lead_form or ReasonForm(prefix="lead"),
            "may_lead": access.may_lead(person),
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
def console_person_lead(request, person_uuid):
    """Name a clinician clinic lead (the equity view of their practice), or no longer."""
    person = core_selectors.staff_get(
        user=request.user, person_uuid=person_uuid, action=Action.UPDATE
    )
    form = ReasonForm(request.POST, prefix="lead")
    lead = request.POST.get("lead") == "1"
    if form.is_valid():
        with pages.attempt(request, form) as result:
            credentials.clinic_lead_set(
                actor=request.user, user=person, lead=lead, reason=form.cleaned_data["reason"]
            )
        if result.ok:
            messages.success(
                request,
                f"{person.full_name} is now clinic lead: they see the equity view of "
                f"{person.practice.name}."
                if lead
                else f"{person.full_name} is no longer clinic lead.",
            )
            return redirect("console_person", person_uuid=person.uuid)
    return _person_page(request, person, lead_form=form, status=400)


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


# --- What holds for every practice: a clinic-wide admin's (access.runs_the_clinic) ---------

STATE_NAMES = dict(US_STATES)


def _runs_the_clinic(request, action: Action, what: str) -> None:
    if not access.runs_the_clinic(request.user):
        access.refuse_clinic_settings(request.user, action, what)


@access.declare("no patient data: the supply policies, a clinic-wide admin's (runs_the_clinic)")
@login_required
@require_GET
def console_supply(request):
    _runs_the_clinic(request, Action.LIST, "supply policies")
    policies = list(SupplyPolicy.objects.all())
    for policy in policies:
        policy.state_name = STATE_NAMES.get(policy.state, policy.state) or "Every state (default)"
    return render(
        request,
        "clinic/console/supply.html",
        {
            "policies": policies,
            "states": US_STATES,
            "schedules": ScheduleChoices.choices,
            "nav": "console",
        },
    )


@access.declare("no patient data: one supply policy, a clinic-wide admin's (runs_the_clinic)")
@login_required
@require_http_methods(["GET", "POST"])
def console_supply_edit(request):
    """One row, named by its state ("" for the default) and schedule in the query string."""
    _runs_the_clinic(request, Action.UPDATE, "supply policy")
    state = request.GET.get("state", "")
    schedule = request.GET.get("schedule", "")
    if (state and state not in STATE_NAMES) or schedule not in ScheduleChoices.values:
        return render(
            request,
            "400.html",
            {"message": "Choose a state and a schedule from the lists."},
            status=400,
        )
    policy = SupplyPolicy.objects.filter(state=state, schedule=schedule).first()
    default = policy or SupplyPolicy.objects.filter(state="", schedule=schedule).first()
    initial = {}
    if default is not None:
        initial = {
            "lead_days": default.lead_days,
            "lead_in_business_days": default.lead_in_business_days,
            "max_refills": default.max_refills if policy else None,
            "validity_months": default.validity_months if policy else None,
            "note": default.note if policy else "",
        }
    form = SupplyPolicyForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            with pages.attempt(request, form) as result:
                prescribing_services.supply_policy_save(
                    actor=request.user, state=state, schedule=schedule, **form.cleaned_data
                )
            if result.ok:
                messages.success(request, "Saved. New requests and prescriptions follow it now.")
                return redirect("console_supply")
    return render(
        request,
        "clinic/console/supply_edit.html",
        {
            "form": form,
            "policy": policy,
            "state": state,
            "state_name": STATE_NAMES.get(state, "Every state (default)"),
            "schedule": schedule,
            "schedule_name": ScheduleChoices(schedule).label,
            "nav": "console",
        },
        status=status,
    )


@access.declare("no patient data: the alliance settings, a clinic-wide admin's (runs_the_clinic)")
@login_required
@require_POST
def console_alliance(request):
    _runs_the_clinic(request, Action.UPDATE, "alliance settings")
    form = AllianceSettingsForm(request.POST)
    form.is_valid()  # a checkbox: absent is off, anything else on
    alliance_services.alliance_settings_update(
        actor=request.user,
        show_alliance_scores_to_patients=form.cleaned_data["show_alliance_scores_to_patients"],
    )
    messages.success(request, "Saved the alliance setting.")
    return redirect("console_home")


def _terms_page(request, form=None, status=200):
    return render(
        request,
        "clinic/console/terms.html",
        {"terms": SummaryTerm.objects.all(), "form": form or SummaryTermForm(), "nav": "console"},
        status=status,
    )


@access.declare("no patient data: the summary's word list, a clinic-wide admin's")
@login_required
@require_http_methods(["GET", "POST"])
def console_terms(request):
    """The clinical terms and labels the plain-language summary warns about; add one."""
    _runs_the_clinic(request, Action.UPDATE if request.method == "POST" else Action.LIST, "terms")
    if request.method == "GET":
        return _terms_page(request)
    form = SummaryTermForm(request.POST)
    if form.is_valid():
        with pages.attempt(request, form) as result:
            term = stories_services.summary_term_add(actor=request.user, **form.cleaned_data)
        if result.ok:
            messages.success(request, f"Added “{term.text}”: the summary now warns about it.")
            return redirect("console_terms")
    return _terms_page(request, form, status=400)


@access.declare("no patient data: the summary's word list, a clinic-wide admin's")
@login_required
@require_POST
def console_term_remove(request):
    _runs_the_clinic(request, Action.UPDATE, "terms")
    form = SummaryTermRemoveForm(request.POST)
    if not form.is_valid():
        return render(request, "400.html", {"message": "No such term."}, status=400)
    term = stories_services.summary_term_remove(
        actor=request.user, term_id=form.cleaned_data["term"]
    )
    messages.success(request, f"Removed “{term.text}”: the summary no longer warns about it.")
    return redirect("console_terms")
