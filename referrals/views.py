"""Referrals and releases: pages for clinicians and for the patient signing on a phone."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access
from core import selectors as core_selectors
from core.access import Action, Category
from core.exceptions import NotAllowed
from core.middleware import client_ip

from . import pdf, selectors, services, statements
from .forms import ReferralForm, ReferralMoveForm, ReleaseForm, RevokeForm
from .models import Referral, patient_zone

RECORD = "record: referrals.selectors.*_get → access.require_record"


def _nav(user):
    return "releases" if user.is_patient else "patients"


# --- Referrals -------------------------------------------------------------------------------


@login_required
@require_GET
@access.declare(
    "list: referrals.selectors.referral_inbox filters by access.records_visible and audits"
)
def referral_inbox(request):
    return render(
        request,
        "referrals/inbox.html",
        {**selectors.referral_inbox(actor=request.user), "nav": "referrals"},
    )


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.REFERRALS, Action.LIST)
def patient_referrals(request, patient):
    clinicians = list(selectors.referral_recipients(actor=request.user))
    form = ReferralForm(request.POST if request.method == "POST" else None, clinicians=clinicians)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            to = next(
                (c for c in clinicians if str(c.uuid) == form.cleaned_data["to_clinician"]), None
            )
            try:
                services.referral_create(
                    actor=request.user,
                    patient=patient,
                    to_clinician=to,
                    reason=form.cleaned_data["reason"],
                    questions=form.cleaned_data["questions"],
                    urgency=form.cleaned_data["urgency"],
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, f"Referral sent to {to.full_name}.")
                return redirect("patient_referrals", patient_uuid=patient.uuid)
        status = 400
    context = {
        "patient": patient,
        "referrals": selectors.referrals_for_patient(actor=request.user, patient=patient),
        "form": form,
        "can_refer": request.user.is_clinician
        and access.decide(request.user, Action.CREATE, Category.REFERRALS, patient).allowed,
        "nav": "patients",
    }
    return render(request, "referrals/patient_referrals.html", context, status=status)


@login_required
@require_GET
@access.declare(RECORD)
def referral(request, referral_uuid):
    item = selectors.referral_get(actor=request.user, referral_uuid=referral_uuid)
    context = {
        "referral": item,
        "patient": item.patient,
        "nav": "referrals",
        "is_recipient": item.to_clinician_id == request.user.pk,
        "is_sender": item.author_id == request.user.pk,
    }
    return render(request, "referrals/referral.html", context)


@login_required
@require_POST
@access.declare(RECORD)
def referral_move(request, referral_uuid):
    item = selectors.referral_get(
        actor=request.user, referral_uuid=referral_uuid, action=Action.UPDATE
    )
    form = ReferralMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do with the referral; nothing was changed.")
        return redirect("referral", referral_uuid=item.uuid)
    try:
        moved = services.referral_move(
            actor=request.user,
            referral=item,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except NotAllowed as exc:
        messages.error(request, exc.message)
    else:
        if moved.status == Referral.Status.ACCEPTED:
            messages.success(
                request, f"Accepted. You are now on {moved.patient.display_name}’s care team."
            )
        else:
            messages.success(request, f"Referral {moved.get_status_display().lower()}.")
    return redirect("referral", referral_uuid=item.uuid)


# --- Releases --------------------------------------------------------------------------------


@login_required
@require_GET
@access.patient_view(Category.RELEASES, Action.LIST)
def releases(request, patient):
    context = {
        "patient": patient,
        "releases": selectors.releases_for_patient(actor=request.user, patient=patient),
        "disclosures": selectors.disclosures(actor=request.user, patient=patient)
        if request.user.is_patient
        else [],
        "nav": _nav(request.user),
    }
    return render(request, "referrals/releases.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.RELEASES, Action.CREATE)
def release_new(request, patient):
    team = [m.clinician for m in core_selectors.care_team_for(patient=patient)]
    clinicians = list(core_selectors.clinician_directory())
    form = ReleaseForm(
        request.POST if request.method == "POST" else None,
        team=team,
        clinicians=clinicians,
        today=timezone.localtime(timezone.now(), patient_zone(patient)).date(),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            by_uuid = {str(c.uuid): c for c in clinicians}
            try:
                release = services.release_sign(
                    actor=request.user,
                    patient=patient,
                    discloser=by_uuid.get(data["discloser"]),
                    recipient=by_uuid.get(data["recipient"]),
                    categories=data["categories"],
                    purpose=data["purpose"],
                    expires_on=data["expires_on"],
                    expiry_event=data["expiry_event"],
                    mutual=data["mutual"],
                    signed_name=data["signed_name"],
                    signed_by_representative=data["signed_by_representative"],
                    representative_authority=data["representative_authority"],
                    part2_consent=data["part2_consent"],
                    ip=client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            except NotAllowed as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    "Signed. Your release is in force now; you can revoke it here at any time.",
                )
                return redirect("release", release_uuid=release.uuid)
        status = 400
    context = {
        "patient": patient,
        "form": form,
        "statements": statements.statements(substance_use=True),
        "nav": _nav(request.user),
    }
    return render(request, "referrals/release_new.html", context, status=status)


@login_required
@require_GET
@access.declare(RECORD)
def release(request, release_uuid):
    view = selectors.release_get(actor=request.user, release_uuid=release_uuid)
    context = {
        "view": view,
        "release": view.release,
        "patient": view.release.patient,
        "statements": statements.statements(substance_use=view.release.covers_substance_use),
        "revoke_form": RevokeForm(),
        "can_revoke": access.is_self(request.user, view.release.patient) and not view.revoked,
        "nav": _nav(request.user),
    }
    return render(request, "referrals/release.html", context)


@login_required
@require_POST
@access.declare(RECORD)
def release_revoke(request, release_uuid):
    view = selectors.release_get(
        actor=request.user, release_uuid=release_uuid, action=Action.UPDATE
    )
    form = RevokeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.release_revoke(actor=request.user, release=view.release, note=note)
    except NotAllowed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, "Revoked. From now on, nothing more is shared under this release."
        )
    return redirect("release", release_uuid=view.release.uuid)


@login_required
@require_GET
@access.declare(RECORD + " (EXPORT)")
def release_pdf(request, release_uuid):
    view = selectors.release_get(
        actor=request.user, release_uuid=release_uuid, action=Action.EXPORT
    )
    response = HttpResponse(pdf.release_document(view=view), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="release-{view.release.signed_at:%Y-%m-%d}.pdf"'
    )
    return response
