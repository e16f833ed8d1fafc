"""Referrals and releases: pages for clinicians and for the patient signing on a phone."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access, pages
from core import selectors as core_selectors
from core.access import Action, Category
from core.middleware import client_ip

from . import pdf, selectors, services, statements
from .forms import ReferralForm, ReferralMoveForm, ReleaseForm, RevokeForm
from .models import Referral, patient_zone
from .selectors import REFERRALS, RELEASES, ReleaseView


def _nav(user):
    return "releases" if access.kind_of(user) == "patient" else "patients"


# --- Referrals -------------------------------------------------------------------------------


@login_required
@require_GET
@access.declare("list: referrals.selectors.referral_inbox filters by access.visible and audits")
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
    result = pages.attempt(request, form)
    if request.method == "POST":
        result.status = 400
        if form.is_valid():
            data = form.cleaned_data
            to = next((c for c in clinicians if str(c.uuid) == data["to_clinician"]), None)
            with result:
                services.referral_create(
                    actor=request.user,
                    patient=patient,
                    to_clinician=to,
                    reason=data["reason"],
                    questions=data["questions"],
                    urgency=data["urgency"],
                )
            if result.ok:
                messages.success(request, f"Referral sent to {to.full_name}.")
                return redirect("patient_referrals", patient_uuid=patient.uuid)
    context = {
        "patient": patient,
        "referrals": selectors.referrals_for_patient(actor=request.user, patient=patient),
        "form": form,
        "nav": "patients",
    }
    return render(request, "referrals/patient_referrals.html", context, status=result.status)


@login_required
@require_GET
@access.record_view(REFERRALS, Category.REFERRALS, uuid="referral_uuid")
def referral(request, item):
    context = {"referral": item, "patient": item.patient, "nav": "referrals"}
    return render(request, "referrals/referral.html", context)


@login_required
@require_POST
@access.record_view(REFERRALS, Category.REFERRALS, uuid="referral_uuid")
def referral_move(request, item):
    """The referral is found as a read; the service guards the answer or the move itself."""
    form = ReferralMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do with the referral; nothing was changed.")
        return redirect("referral", referral_uuid=item.uuid)
    with pages.attempt(request) as result:
        moved = services.referral_move(
            actor=request.user,
            referral=item,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
    if result.ok and moved.status == Referral.Status.ACCEPTED:
        messages.success(
            request, f"Accepted. You are now on {moved.patient.display_name}’s care team."
        )
    elif result.ok:
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
        # What was shared under them: the accounting is the patient's to read.
        "disclosures": selectors.disclosures(actor=request.user, patient=patient)
        if access.can(request.user, Action.READ, Category.AUDIT, patient)
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
    result = pages.attempt(request, form)
    if request.method == "POST":
        result.status = 400
        if form.is_valid():
            data = form.cleaned_data
            by_uuid = {str(c.uuid): c for c in clinicians}
            with result:
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
            if result.ok:
                messages.success(
                    request,
                    "Signed. Your release is in force now; you can revoke it here at any time.",
                )
                return redirect("release", release_uuid=release.uuid)
    context = {
        "patient": patient,
        "form": form,
        "statements": statements.statements(substance_use=True),
        "nav": _nav(request.user),
    }
    return render(request, "referrals/release_new.html", context, status=result.status)


@login_required
@require_GET
@access.record_view(RELEASES, Category.RELEASES, uuid="release_uuid")
def release(request, signed):
    view = ReleaseView(signed)
    context = {
        "view": view,
        "release": signed,
        "patient": signed.patient,
        "statements": statements.statements(
            substance_use=signed.covers_substance_use, version=signed.statement_version
        ),
        "revoke_form": RevokeForm(),
        "can_revoke": not view.revoked
        and access.can(request.user, Action.UPDATE, Category.RELEASES, signed),
        "nav": _nav(request.user),
    }
    return render(request, "referrals/release.html", context)


@login_required
@require_POST
@access.record_view(RELEASES, Category.RELEASES, uuid="release_uuid")
def release_revoke(request, signed):
    """The release is found as a read; the service guards the revocation itself."""
    form = RevokeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    with pages.attempt(request) as result:
        services.release_revoke(actor=request.user, release=signed, note=note)
    if result.ok:
        messages.success(
            request, "Revoked. From now on, nothing more is shared under this release."
        )
    return redirect("release", release_uuid=signed.uuid)


@login_required
@require_GET
@access.record_view(RELEASES, Category.RELEASES, Action.EXPORT, uuid="release_uuid")
def release_pdf(request, signed):
    view = ReleaseView(signed)
    response = HttpResponse(pdf.release_document(view=view), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="release-{signed.signed_at:%Y-%m-%d}.pdf"'
    return response
