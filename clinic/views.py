"""Composed pages: home by role, the clinician's patient list, a patient's overview, the patient's home."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from alliance import selectors as alliance_selectors
from core import access
from core import selectors as core_selectors
from core.access import Action, Category
from core.htmx import render_page_or_partial
from prescribing import selectors as prescribing_selectors
from referrals import selectors as referrals_selectors
from referrals import services as referrals_services
from referrals.forms import ThreadPostForm
from referrals.models import ThreadPost
from stories import selectors as stories_selectors


@access.declare("no patient data: sends each role to its start page")
@login_required
@require_GET
def home(request):
    user = request.user
    if user.is_clinician:
        return redirect("patient_list")
    if user.is_patient:
        return redirect("patient_home")
    if user.is_clinic_admin:
        return redirect("audit_search")
    raise Http404


@access.declare("list: core.selectors.patient_list filters by access.patients_visible and audits")
@login_required
@require_GET
def patient_list(request):
    query = request.GET.get("q", "")[:100]
    patients = core_selectors.patient_list(actor=request.user, search=query)
    context = {"patients": patients, "q": query, "nav": "patients"}
    return render_page_or_partial(request, "clinic/patient_list.html", "results", context)


@login_required
@require_GET
@access.patient_view(Category.PROFILE, Action.READ)
def patient_detail(request, patient):
    context = {
        "patient": patient,
        "care_team": core_selectors.care_team_for(patient=patient),
        "summary": stories_selectors.summary_get(actor=request.user, patient=patient),
        "flags": alliance_selectors.open_flags(actor=request.user, patient=patient),
        "can_invite": access.decide(request.user, Action.UPDATE, Category.PROFILE, patient).allowed
        and patient.user_id is None,
        "nav": "patients",
    }
    return render(request, "clinic/patient_detail.html", context)


@access.declare(
    "the patient's own home: core.selectors.patient_for_user, then access.require(PROFILE)"
)
@login_required
@require_GET
def patient_home(request):
    patient = core_selectors.patient_for_user(user=request.user)
    if patient is None:
        raise Http404
    access.require(request.user, Action.READ, Category.PROFILE, patient, obj=patient)
    context = {
        "patient": patient,
        "care_team": core_selectors.care_team_for(patient=patient),
        "summary": stories_selectors.summary_get(actor=request.user, patient=patient),
        "due": [
            o
            for o in alliance_selectors.check_in_offers(actor=request.user, patient=patient)
            if o.is_due or o.draft
        ],
        "nav": "home",
    }
    return render(request, "clinic/patient_home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.OBSERVATIONS, Action.LIST)
def thread(request, patient):
    """The prescriber and therapist's thread: eyes-and-ears reports, questions, answers."""
    if not request.user.is_clinician:
        raise Http404
    medications = [
        item.medication
        for item in prescribing_selectors.medication_plan(actor=request.user, patient=patient)
    ]
    kinds = (
        ThreadPost.Kind.choices
        if request.user.role == "therapist"
        else [
            (k, label) for k, label in ThreadPost.Kind.choices if k in ("reply", "note", "question")
        ]
    )
    form = ThreadPostForm(
        request.POST if request.method == "POST" else None, kinds=kinds, medications=medications
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            medication = next(
                (m for m in medications if str(m.uuid) == form.cleaned_data["medication"]), None
            )
            reply_to = None
            if form.cleaned_data["reply_to"]:
                reply_to = referrals_selectors.thread_post_get(
                    actor=request.user, post_uuid=form.cleaned_data["reply_to"]
                )
            try:
                referrals_services.thread_post(
                    actor=request.user,
                    patient=patient,
                    kind=form.cleaned_data["kind"],
                    text=form.cleaned_data["text"],
                    medication_uuid=medication.uuid if medication else None,
                    medication_name=f"{medication.drug_name} {medication.strength}"
                    if medication
                    else "",
                    reply_to=reply_to,
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, "Posted.")
                return redirect("thread", patient_uuid=patient.uuid)
        status = 400
    context = {
        "patient": patient,
        "posts": referrals_selectors.thread(actor=request.user, patient=patient),
        "form": form,
        "nav": "patients",
    }
    return render(request, "clinic/thread.html", context, status=status)
