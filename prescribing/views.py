"""Pages of the medication plan: access → form → service → render."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access, pages
from core.access import Action, Category
from core.forms import rebind_with_version
from stories import selectors as stories_selectors

from . import coding, pdf, selectors, services
from .forms import (
    DecisionForm,
    FillForm,
    MedicationStartForm,
    ObservationForm,
    PrescriptionForm,
    PurposeForm,
    RefillDecisionForm,
    RefillRequestForm,
    RenewalForm,
    ReviewForm,
    SwitchForm,
)
from .models import Medication, RefillRequest

# The record each page is about, fetched (and its read audited) before the view runs; a write
# is checked again, and audited, by its service.
medication_page = access.record_view(
    selectors.medications(), Category.MEDICATIONS, uuid="medication_uuid"
)
refill_page = access.record_view(selectors.refill_requests(), Category.REFILLS, uuid="request_uuid")


def _open_goals(user, patient):
    return [g for g in stories_selectors.goals_visible(actor=user, patient=patient) if g.is_open]


def _nav(user) -> str:
    return "medicines" if access.kind_of(user) == "patient" else "patients"


@login_required
@require_GET
@access.patient_view(Category.MEDICATIONS, Action.LIST)
def medications(request, patient):
    items = selectors.medication_plan(actor=request.user, patient=patient)
    context = {
        "patient": patient,
        "items": selectors.with_reviews(actor=request.user, patient=patient, items=items),
        "today": timezone.localdate(),
        "nav": _nav(request.user),
    }
    mine = access.is_self(request.user, patient)
    template = "prescribing/my_medicines.html" if mine else "prescribing/plan.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.MEDICATIONS, Action.CREATE)
def medication_new(request, patient):
    goals = _open_goals(request.user, patient)
    form = MedicationStartForm(request.POST if request.method == "POST" else None, goals=goals)
    result = pages.attempt(request, form)
    warnings = []
    if request.method == "POST":
        result.status = 400
        if form.is_valid():
            data = dict(form.cleaned_data, schedule=form.cleaned_data["schedule"] or None)
            with result:
                try:
                    medication = services.medication_start(
                        actor=request.user,
                        patient=patient,
                        goal_uuids=data.pop("goals"),
                        confirm_warnings=data.pop("confirm_warnings"),
                        **data,
                    )
                except coding.WarningsToConfirm as exc:
                    # Nothing saved; the page keeps what was typed and asks for confirmation.
                    warnings = exc.warnings
            if warnings:
                result.status = 409
            elif result.ok:
                messages.success(request, f"{medication.drug_name} added to the plan.")
                return redirect("medication_detail", medication_uuid=medication.uuid)
    context = {
        "patient": patient,
        "form": form,
        "warnings": warnings,
        "formulary": coding.formulary_entries(),
        "nav": _nav(request.user),
    }
    return render(request, "prescribing/medication_new.html", context, status=result.status)


def _purpose_initial(medication) -> dict:
    return {
        "version": medication.version,
        "purpose": medication.purpose,
        "hopes": medication.hopes,
        "worries": medication.worries,
        "concerns": medication.concerns,
        "goals": [str(g.uuid) for g in medication.goals.all()],
    }


def _with_goal_uuids(data: dict) -> dict:
    """A form's `goals` as the services name them."""
    data = dict(data)
    data["goal_uuids"] = data.pop("goals", [])
    return data


def _detail_context(request, medication, **forms):
    goals = _open_goals(request.user, medication.patient)
    current = next(iter(medication.prescriptions.all()), None)
    today = timezone.localdate()
    status = selectors.supply_status_for(medication=medication, on=today)
    fill_choices = selectors.fill_choices(medication=medication, on=today)
    fillable_today = next((c for c in fill_choices if c.fillable_today), None)
    open_request = selectors.open_request(medication)
    last_request = selectors.last_request(medication)
    may_prescribe = access.can(request.user, Action.PRESCRIBE, Category.MEDICATIONS, medication)
    context = {
        "medication": medication,
        "patient": medication.patient,
        "supply": status,
        "current_prescription": current,
        "timeline": selectors.medication_timeline(actor=request.user, medication=medication),
        "decision_form": DecisionForm(
            initial={"version": medication.version}, medication=medication, goals=goals
        ),
        "switch_form": SwitchForm(initial={"version": medication.version}, goals=goals),
        "review_form": ReviewForm(initial={"version": medication.version}),
        "review": selectors.review_state_shown(actor=request.user, medication=medication, on=today)
        if may_prescribe
        else None,
        "switch_warnings": [],
        "decision_warnings": [],
        "formulary": coding.formulary_entries() if may_prescribe else [],
        "purpose_form": PurposeForm(
            initial=_purpose_initial(medication),
            goals=goals,
            for_patient=access.is_self(request.user, medication.patient),
        ),
        "observation_form": ObservationForm(),
        "prescription_form": PrescriptionForm(),
        "fill_form": FillForm(
            initial={"prescription": fillable_today.prescription.uuid if fillable_today else None},
            choices=fill_choices,
        ),
        "open_request": open_request,
        "awaits_renewal": selectors.awaits_renewal(request=open_request, medication=medication),
        "renewal_form": RenewalForm(
            initial={
                **selectors.renewal_initial(medication=medication, on=today),
                "back_to": "medication",
            }
        ),
        "refill": selectors.refill_prompt(
            status=medication.status,
            supply_status=status,
            last=last_request,
            last_fill_at=selectors.last_fill_recorded_at(medication),
            awaiting_renewal=selectors.awaits_renewal(request=last_request, medication=medication),
        ),
        "nav": _nav(request.user),
    }
    context.update(forms)
    return context


@login_required
@require_GET
@medication_page
def medication_detail(request, medication):
    medication = selectors.medication_shown(actor=request.user, medication=medication, fresh=False)
    return render(
        request, "prescribing/medication_detail.html", _detail_context(request, medication)
    )


def _on_medication_page(request, medication, form_name, form, save, done):
    """A write from one of the medication page's forms: `save(cleaned_data)` through the
    service, then `done(saved)` (a redirect, with its message). Otherwise the page again with
    that form as typed and why nothing changed: 400 bad input, 403 refused, 409 when someone
    else changed the medication first (the form then against the version now current) or
    when rule warnings need confirming (the form as it was, asking for confirmation)."""
    result = pages.attempt(request, form)
    warnings = []
    if form.is_valid():
        with result:
            try:
                saved = save(form.cleaned_data)
            except coding.WarningsToConfirm as exc:
                warnings = exc.warnings
        if result.ok and not warnings:
            return done(saved)
    return _page_again(
        request,
        medication,
        form_name,
        form,
        status=409 if warnings else (result.status if result.status != 200 else 400),
        conflict=result.conflict,
        warnings=warnings,
    )


def _page_again(request, medication, form_name, form, *, status, conflict=None, warnings=()):
    medication = selectors.medication_shown(actor=request.user, medication=medication)
    if conflict is not None:
        kwargs = {"medication": medication} if isinstance(form, DecisionForm) else {}
        if isinstance(form, DecisionForm | SwitchForm):
            kwargs["goals"] = _open_goals(request.user, medication.patient)
        form = rebind_with_version(type(form), form.data, medication.version, **kwargs)
        form.add_error(None, conflict)
    forms = {form_name: form, f"{form_name.removesuffix('_form')}_warnings": list(warnings)}
    context = _detail_context(request, medication, **forms)
    return render(request, "prescribing/medication_detail.html", context, status=status)


def _back_to(medication, message, request):
    messages.success(request, message)
    return redirect("medication_detail", medication_uuid=medication.uuid)


@login_required
@require_POST
@medication_page
def medication_decide(request, medication):
    return _on_medication_page(
        request,
        medication,
        "decision_form",
        DecisionForm(
            request.POST,
            medication=medication,
            goals=_open_goals(request.user, medication.patient),
        ),
        lambda data: services.medication_decide(
            actor=request.user, medication=medication, **_with_goal_uuids(data)
        ),
        lambda _: _back_to(medication, "Decision recorded.", request),
    )


@login_required
@require_POST
@medication_page
def medication_review(request, medication):
    """A deprescribing review's answer: continue, taper, stop, or review later."""
    return _on_medication_page(
        request,
        medication,
        "review_form",
        ReviewForm(request.POST),
        lambda data: services.medication_review(actor=request.user, medication=medication, **data),
        lambda record: _back_to(
            medication, f"Review recorded: {record.get_review_outcome_display().lower()}.", request
        ),
    )


@login_required
@require_POST
@medication_page
def medication_switch(request, medication):
    def save(data):
        data = _with_goal_uuids(dict(data, schedule=data["schedule"] or None))
        return services.medication_switch(actor=request.user, medication=medication, **data)

    return _on_medication_page(
        request,
        medication,
        "switch_form",
        SwitchForm(request.POST, goals=_open_goals(request.user, medication.patient)),
        save,
        lambda new: _back_to(
            new, f"Switched to {new.drug_name}. {medication.drug_name} is stopped.", request
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
@medication_page
def medication_purpose(request, medication):
    medication = selectors.medication_shown(actor=request.user, medication=medication)
    mine = access.is_self(request.user, medication.patient)
    goals = _open_goals(request.user, medication.patient)

    def saved(_):
        if mine:
            messages.success(request, "Saved in your words.")
            return redirect("medications", patient_uuid=medication.patient.uuid)
        messages.success(request, "Purpose saved.")
        return redirect("medication_detail", medication_uuid=medication.uuid)

    return pages.versioned_edit(
        request,
        medication,
        form=lambda data: PurposeForm(
            data, initial=_purpose_initial(medication), goals=goals, for_patient=mine
        ),
        save=lambda data: services.medication_set_purpose(
            actor=request.user,
            medication=medication,
            version=data["version"],
            purpose=data["purpose"],
            hopes=data["hopes"],
            worries=data["worries"],
            concerns=data["concerns"],
            goal_uuids=data["goals"],
        ),
        success=saved,
        reread=lambda: selectors.medication_shown(actor=request.user, medication=medication),
        template="prescribing/medication_purpose.html",
        context=lambda medication: {
            "medication": medication,
            "patient": medication.patient,
            "nav": _nav(request.user),
        },
    )


@login_required
@require_POST
@medication_page
def observation_create(request, medication):
    return _on_medication_page(
        request,
        medication,
        "observation_form",
        ObservationForm(request.POST),
        lambda data: services.observation_create(actor=request.user, medication=medication, **data),
        lambda _: _back_to(medication, "Observation saved.", request),
    )


@login_required
@require_POST
@medication_page
def prescription_create(request, medication):
    return _on_medication_page(
        request,
        medication,
        "prescription_form",
        PrescriptionForm(request.POST),
        lambda data: services.prescription_write(actor=request.user, medication=medication, **data),
        lambda _: _back_to(medication, "Prescription recorded.", request),
    )


@login_required
@require_POST
@medication_page
def fill_create(request, medication):
    choices = selectors.fill_choices(medication=medication, on=timezone.localdate())

    def save(data):
        return services.fill_record(
            actor=request.user,
            prescription=selectors.prescription_of(
                medication=medication, prescription_uuid=data["prescription"]
            ),
            filled_on=data["filled_on"],
            quantity=data["quantity"],
            days_supply=data["days_supply"],
        )

    return _on_medication_page(
        request,
        medication,
        "fill_form",
        FillForm(request.POST, choices=choices),
        save,
        lambda _: _back_to(medication, "Fill recorded.", request),
    )


@login_required
@require_http_methods(["GET", "POST"])
@medication_page
def refill_request(request, medication):
    form = RefillRequestForm(request.POST if request.method == "POST" else None)
    result = pages.attempt(request, form)
    mine = access.is_self(request.user, medication.patient)
    if request.method == "POST" and form.is_valid():
        with result:
            made = services.refill_request_create(
                actor=request.user, medication=medication, note=form.cleaned_data["note"]
            )
        if result.ok:
            if made.late:
                messages.warning(
                    request,
                    "Your request is sent. It came later than this medicine's notice period, so it is flagged for your "
                    "prescriber; they will do their best, and may call you.",
                )
            else:
                messages.success(
                    request, "Your request is sent. Your prescriber will answer it here."
                )
            if mine:
                return redirect("medications", patient_uuid=medication.patient.uuid)
            return redirect("medication_detail", medication_uuid=medication.uuid)
    medication = selectors.medication_shown(actor=request.user, medication=medication)
    context = {
        "medication": medication,
        "patient": medication.patient,
        "form": form,
        "supply": selectors.supply_status_for(medication=medication, on=timezone.localdate()),
        "open_request": selectors.open_request(medication),
        "today": timezone.localdate(),
        "nav": _nav(request.user),
    }
    return render(request, "prescribing/refill_request.html", context, status=result.status)


@login_required
@access.declare("list: prescribing.selectors.refill_queue filters by access.visible and audits")
@require_GET
def refill_queue(request):
    return _queue_page(request)


def _queue_page(request, failed=None, failed_form=None, status=200, explained=False):
    """The queue; a renewal that failed shows again with what was typed and why."""
    requests = selectors.refill_queue(actor=request.user)
    today = timezone.localdate()
    failed_shown = False
    for r in requests:
        if not selectors.awaits_renewal(request=r, medication=r.medication):
            continue
        if failed is not None and r.pk == failed.pk:
            r.renewal_form = failed_form
            failed_shown = True
        else:
            r.renewal_form = RenewalForm(
                initial=selectors.renewal_initial(medication=r.medication, on=today),
                prefix=f"renew-{r.uuid}",
            )
    if failed is not None and not failed_shown and not explained:
        # No longer waiting for a renewal, or not this person's: the reason goes above the queue.
        reasons = [m for errors in failed_form.errors.values() for m in errors]
        messages.error(request, " ".join(reasons) or "Nothing was renewed.")
    context = {"requests": requests, "nav": "refills", "form": RefillDecisionForm()}
    return render(request, "prescribing/refill_queue.html", context, status=status)


@login_required
@require_POST
@refill_page
def refill_decide(request, refill):
    form = RefillDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do with the request; nothing was changed.")
        return redirect("refill_queue")
    with pages.attempt(request) as result:
        services.refill_request_decide(
            actor=request.user,
            request=refill,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
    if result.ok:
        label = RefillRequest.Status(form.cleaned_data["status"]).label.lower()
        messages.success(
            request, f"{refill.medication.drug_name} for {refill.patient.display_name}: {label}."
        )
    return redirect("refill_queue")


@login_required
@require_GET
@access.patient_view(Category.MEDICATIONS, Action.EXPORT)
def medications_pdf(request, patient):
    items = selectors.medication_plan(actor=request.user, patient=patient)
    current = [item for item in items if item.medication.status != Medication.Status.STOPPED]
    document = pdf.my_medicines(patient=patient, items=current, today=timezone.localdate())
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="my-medicines.pdf"'
    return response


@login_required
@require_POST
@refill_page
def refill_renew(request, refill):
    from_medication = request.POST.get("back_to") == "medication"
    form = RenewalForm(request.POST, prefix=None if from_medication else f"renew-{refill.uuid}")
    result = pages.attempt(request, form)
    result.status = 400
    if form.is_valid():
        with result:
            services.refill_request_renew(
                actor=request.user,
                request=refill,
                quantity=form.cleaned_data["quantity"],
                days_supply=form.cleaned_data["days_supply"],
                refills_authorised=form.cleaned_data["refills_authorised"],
                earliest_fill_on=form.cleaned_data["earliest_fill_on"],
                reason=form.cleaned_data["reason"],
            )
        if result.ok:
            messages.success(
                request,
                f"{refill.medication.drug_name} for {refill.patient.display_name}: renewed with a "
                "new prescription, and the request approved.",
            )
            if from_medication:
                return redirect("medication_detail", medication_uuid=refill.medication.uuid)
            return redirect("refill_queue")
    if from_medication:
        return _page_again(request, refill.medication, "renewal_form", form, status=result.status)
    return _queue_page(
        request,
        failed=refill,
        failed_form=form,
        status=result.status,
        explained=result.error is not None,
    )


@login_required
@access.declare(
    "the prescriber's own pattern: access.sees_prescribing_pattern; counts, no patient data"
)
@require_GET
def my_prescribing_pattern(request):
    """Whose needs drove my own starts, increases and switches, counted: for me alone."""
    if not access.sees_prescribing_pattern(request.user, request.user):
        raise Http404
    today = timezone.localdate()
    year = selectors.needs_pattern(request.user, since=today - timedelta(days=365))
    ever = selectors.needs_pattern(request.user)
    rows = [
        (mine.label, recent.count, mine.count, mine.need)
        for recent, mine in zip(year.counts, ever.counts, strict=True)
        if mine.count or mine.need != "not_recorded"
    ]
    context = {"year": year, "ever": ever, "rows": rows, "nav": "account"}
    return render(request, "prescribing/my_pattern.html", context)
