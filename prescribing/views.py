"""Pages of the medication plan: access → form → service → render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access
from core.access import Action, Category
from core.exceptions import Conflict, NotAllowed
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
    SwitchForm,
)
from .models import Medication, RefillRequest

RECORD = "record: prescribing.selectors.*_get → access.require_record"


def _messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


def _open_goals(user, patient):
    return [
        g for g in stories_selectors.goals_visible(actor=user).filter(patient=patient) if g.is_open
    ]


def _nav(user) -> str:
    return "medicines" if user.is_patient else "patients"


@login_required
@require_GET
@access.patient_view(Category.MEDICATIONS, Action.LIST)
def medications(request, patient):
    context = {
        "patient": patient,
        "items": selectors.medication_plan(actor=request.user, patient=patient),
        "can_add": request.user.role == "prescriber"
        and access.decide(request.user, Action.CREATE, Category.MEDICATIONS, patient).allowed,
        "today": timezone.localdate(),
        "nav": _nav(request.user),
    }
    template = (
        "prescribing/my_medicines.html" if request.user.is_patient else "prescribing/plan.html"
    )
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.MEDICATIONS, Action.CREATE)
def medication_new(request, patient):
    goals = _open_goals(request.user, patient)
    form = MedicationStartForm(request.POST if request.method == "POST" else None, goals=goals)
    status = 200
    warnings = []
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                medication = services.medication_start(
                    actor=request.user,
                    patient=patient,
                    drug_name=data["drug_name"],
                    strength=data["strength"],
                    form=data["form"],
                    route=data["route"],
                    dose=data["dose"],
                    directions=data["directions"],
                    schedule=data["schedule"] or None,
                    not_coded=data["not_coded"],
                    confirm_warnings=data["confirm_warnings"],
                    warning_reason=data["warning_reason"],
                    purpose=data["purpose"],
                    hopes=data["hopes"],
                    worries=data["worries"],
                    concerns=data["concerns"],
                    goal_uuids=data["goals"],
                    reason=data["reason"],
                    patient_preference=data["patient_preference"],
                    decided_together=data["decided_together"],
                    participants=data["participants"],
                    proposed=data["proposed"],
                )
            except coding.WarningsToConfirm as exc:
                # Nothing saved; the page keeps what was typed and asks for confirmation.
                warnings = exc.warnings
                status = 409
            except ValidationError as error:
                _add_errors(form, error)
                status = 400
            else:
                messages.success(request, f"{medication.drug_name} added to the plan.")
                return redirect("medication_detail", medication_uuid=medication.uuid)
        else:
            status = 400
    context = {
        "patient": patient,
        "form": form,
        "warnings": warnings,
        "formulary": coding.formulary_entries(),
        "nav": _nav(request.user),
    }
    return render(request, "prescribing/medication_new.html", context, status=status)


def _add_errors(form, error: ValidationError) -> None:
    """A service's refusal on the form: by field where the form has that field."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            form.add_error(target, [m for e in errors for m in e.messages])
    else:
        form.add_error(None, error.messages)


def _detail_context(request, medication, **forms):
    goals = _open_goals(request.user, medication.patient)
    current = next(iter(medication.prescriptions.all()), None)
    today = timezone.localdate()
    status = selectors.supply_status_for(medication=medication, on=today)
    fill_choices = selectors.fill_choices(medication=medication, on=today)
    fillable_today = next((c for c in fill_choices if c.fillable_today), None)
    is_prescriber = (
        request.user.role == "prescriber"
        and access.decide_record(
            request.user, Action.UPDATE, Category.MEDICATIONS, medication
        ).allowed
    )
    context = {
        "medication": medication,
        "patient": medication.patient,
        "supply": status,
        "current_prescription": current,
        "timeline": selectors.medication_timeline(actor=request.user, medication=medication),
        "is_prescriber": is_prescriber,
        "is_patient": request.user.is_patient,
        "decision_form": DecisionForm(
            initial={"version": medication.version}, medication=medication
        ),
        "switch_form": SwitchForm(initial={"version": medication.version}),
        "switch_warnings": [],
        "decision_warnings": [],
        "formulary": coding.formulary_entries() if is_prescriber else [],
        "purpose_form": PurposeForm(
            initial={
                "version": medication.version,
                "purpose": medication.purpose,
                "hopes": medication.hopes,
                "worries": medication.worries,
                "concerns": medication.concerns,
                "goals": [str(g.uuid) for g in medication.goals.all()],
            },
            goals=goals,
            for_patient=request.user.is_patient,
        ),
        "observation_form": ObservationForm(),
        "prescription_form": PrescriptionForm(),
        "fill_form": FillForm(
            initial={"prescription": fillable_today.prescription.uuid if fillable_today else None},
            choices=fill_choices,
        ),
        "open_request": selectors.open_request(medication),
        "awaits_renewal": selectors.awaits_renewal(
            request=selectors.open_request(medication), medication=medication
        ),
        "renewal_form": RenewalForm(
            initial={
                **selectors.renewal_initial(medication=medication, on=today),
                "back_to": "medication",
            }
        ),
        "refill": selectors.refill_prompt(
            status=medication.status,
            supply_status=status,
            last=selectors.last_request(medication),
            last_fill_at=selectors.last_fill_recorded_at(medication),
            awaiting_renewal=selectors.awaits_renewal(
                request=selectors.last_request(medication), medication=medication
            ),
        ),
        "nav": _nav(request.user),
    }
    context.update(forms)
    return context


@login_required
@require_GET
@access.declare(RECORD)
def medication_detail(request, medication_uuid):
    medication = selectors.medication_get(actor=request.user, medication_uuid=medication_uuid)
    return render(
        request, "prescribing/medication_detail.html", _detail_context(request, medication)
    )


def _after_write(request, medication, form_name, form, error_message=None, status=400, warnings=()):
    """Re-render the medication page with the failing form and its message, nothing changed.

    After a conflict (409) the form keeps what was typed, against the version now current;
    after rule warnings (409 too) it keeps it as it was, and asks for confirmation.
    """
    medication = selectors.medication_get(actor=request.user, medication_uuid=medication.uuid)
    if status == 409 and not warnings:
        kwargs = {"medication": medication} if isinstance(form, DecisionForm) else {}
        form = rebind_with_version(type(form), form.data, medication.version, **kwargs)
    if error_message:
        form.add_error(None, error_message)
    return render(
        request,
        "prescribing/medication_detail.html",
        _detail_context(
            request,
            medication,
            **{form_name: form, f"{form_name.removesuffix('_form')}_warnings": list(warnings)},
        ),
        status=status,
    )


@login_required
@require_POST
@access.declare(RECORD)
def medication_decide(request, medication_uuid):
    medication = selectors.medication_get(
        actor=request.user, medication_uuid=medication_uuid, action=Action.UPDATE
    )
    form = DecisionForm(request.POST, medication=medication)
    if not form.is_valid():
        return _after_write(request, medication, "decision_form", form)
    data = form.cleaned_data
    common = {
        "actor": request.user,
        "medication": medication,
        "version": data["version"],
        "reason": data["reason"],
        "patient_preference": data["patient_preference"],
        "decided_together": data["decided_together"],
        "participants": data["participants"],
    }
    try:
        if data["kind"] == "dose_change":
            services.medication_change_dose(
                strength=data["strength"],
                dose=data["dose"],
                directions=data["directions"],
                **common,
            )
        else:
            services.medication_set_status(
                status=data["kind"],
                confirm_warnings=data["confirm_warnings"],
                warning_reason=data["warning_reason"],
                **common,
            )
    except coding.WarningsToConfirm as exc:
        return _after_write(
            request, medication, "decision_form", form, status=409, warnings=exc.warnings
        )
    except ValidationError as error:
        return _after_write(request, medication, "decision_form", form, _messages_of(error))
    except (Conflict, NotAllowed) as exc:
        return _after_write(
            request,
            medication,
            "decision_form",
            form,
            exc.message,
            status=409 if isinstance(exc, Conflict) else 403,
        )
    messages.success(request, "Decision recorded.")
    return redirect("medication_detail", medication_uuid=medication.uuid)


@login_required
@require_POST
@access.declare(RECORD)
def medication_switch(request, medication_uuid):
    medication = selectors.medication_get(
        actor=request.user, medication_uuid=medication_uuid, action=Action.UPDATE
    )
    form = SwitchForm(request.POST)
    if not form.is_valid():
        return _after_write(request, medication, "switch_form", form)
    data = dict(form.cleaned_data, schedule=form.cleaned_data["schedule"] or None)
    try:
        new = services.medication_switch(actor=request.user, medication=medication, **data)
    except coding.WarningsToConfirm as exc:
        return _after_write(
            request, medication, "switch_form", form, status=409, warnings=exc.warnings
        )
    except ValidationError as error:
        return _after_write(request, medication, "switch_form", form, _messages_of(error))
    except Conflict as exc:
        return _after_write(request, medication, "switch_form", form, exc.message, status=409)
    except NotAllowed as exc:
        return _after_write(request, medication, "switch_form", form, exc.message, status=403)
    messages.success(request, f"Switched to {new.drug_name}. {medication.drug_name} is stopped.")
    return redirect("medication_detail", medication_uuid=new.uuid)


@login_required
@require_http_methods(["GET", "POST"])
@access.declare(RECORD)
def medication_purpose(request, medication_uuid):
    action = Action.UPDATE if request.method == "POST" else Action.READ
    medication = selectors.medication_get(
        actor=request.user, medication_uuid=medication_uuid, action=action
    )
    goals = _open_goals(request.user, medication.patient)
    initial = {
        "version": medication.version,
        "purpose": medication.purpose,
        "hopes": medication.hopes,
        "worries": medication.worries,
        "concerns": medication.concerns,
        "goals": [str(g.uuid) for g in medication.goals.all()],
    }
    for_patient = request.user.is_patient
    form = PurposeForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        goals=goals,
        for_patient=for_patient,
    )
    status = 200
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.medication_set_purpose(
                actor=request.user,
                medication=medication,
                version=data["version"],
                purpose=data["purpose"],
                hopes=data["hopes"],
                worries=data["worries"],
                concerns=data["concerns"],
                goal_uuids=data["goals"],
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
            status = 400
        except Conflict as exc:
            conflict = exc.message
            medication = selectors.medication_get(
                actor=request.user, medication_uuid=medication.uuid
            )
            form = rebind_with_version(
                PurposeForm, request.POST, medication.version, goals=goals, for_patient=for_patient
            )
            status = 409
        except NotAllowed as exc:
            form.add_error(None, exc.message)
            status = 403
        else:
            messages.success(
                request, "Saved in your words." if request.user.is_patient else "Purpose saved."
            )
            if request.user.is_patient:
                return redirect("medications", patient_uuid=medication.patient.uuid)
            return redirect("medication_detail", medication_uuid=medication.uuid)
    elif request.method == "POST":
        status = 400
    context = {
        "medication": medication,
        "patient": medication.patient,
        "form": form,
        "conflict": conflict,
        "nav": _nav(request.user),
    }
    return render(request, "prescribing/medication_purpose.html", context, status=status)


@login_required
@require_POST
@access.declare(RECORD)
def observation_create(request, medication_uuid):
    medication = selectors.medication_get(actor=request.user, medication_uuid=medication_uuid)
    form = ObservationForm(request.POST)
    if not form.is_valid():
        return _after_write(request, medication, "observation_form", form)
    try:
        services.observation_create(actor=request.user, medication=medication, **form.cleaned_data)
    except ValidationError as error:
        return _after_write(request, medication, "observation_form", form, _messages_of(error))
    messages.success(request, "Observation saved.")
    return redirect("medication_detail", medication_uuid=medication.uuid)


@login_required
@require_POST
@access.declare(RECORD)
def prescription_create(request, medication_uuid):
    medication = selectors.medication_get(
        actor=request.user, medication_uuid=medication_uuid, action=Action.UPDATE
    )
    form = PrescriptionForm(request.POST)
    if not form.is_valid():
        return _after_write(request, medication, "prescription_form", form)
    try:
        services.prescription_write(actor=request.user, medication=medication, **form.cleaned_data)
    except ValidationError as error:
        return _after_write(request, medication, "prescription_form", form, _messages_of(error))
    except NotAllowed as exc:
        return _after_write(request, medication, "prescription_form", form, exc.message, status=403)
    messages.success(request, "Prescription recorded.")
    return redirect("medication_detail", medication_uuid=medication.uuid)


@login_required
@require_POST
@access.declare(RECORD)
def fill_create(request, medication_uuid):
    medication = selectors.medication_get(actor=request.user, medication_uuid=medication_uuid)
    form = FillForm(
        request.POST,
        choices=selectors.fill_choices(medication=medication, on=timezone.localdate()),
    )
    if not form.is_valid():
        return _after_write(request, medication, "fill_form", form)
    prescription = next(
        (p for p in medication.prescriptions.all() if p.uuid == form.cleaned_data["prescription"]),
        None,
    )
    if prescription is None:
        return _after_write(
            request, medication, "fill_form", form, "Choose a prescription of this medication."
        )
    try:
        services.fill_record(
            actor=request.user,
            prescription=prescription,
            filled_on=form.cleaned_data["filled_on"],
            quantity=form.cleaned_data["quantity"],
            days_supply=form.cleaned_data["days_supply"],
        )
    except ValidationError as error:
        return _after_write(request, medication, "fill_form", form, _messages_of(error))
    messages.success(request, "Fill recorded.")
    return redirect("medication_detail", medication_uuid=medication.uuid)


@login_required
@require_http_methods(["GET", "POST"])
@access.declare(RECORD)
def refill_request(request, medication_uuid):
    medication = selectors.medication_get(actor=request.user, medication_uuid=medication_uuid)
    form = RefillRequestForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            made = services.refill_request_create(
                actor=request.user, medication=medication, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
            status = 400
        else:
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
            if request.user.is_patient:
                return redirect("medications", patient_uuid=medication.patient.uuid)
            return redirect("medication_detail", medication_uuid=medication.uuid)
    context = {
        "medication": medication,
        "patient": medication.patient,
        "form": form,
        "supply": selectors.supply_status_for(medication=medication, on=timezone.localdate()),
        "open_request": selectors.open_request(medication),
        "today": timezone.localdate(),
        "nav": _nav(request.user),
    }
    return render(request, "prescribing/refill_request.html", context, status=status)


@login_required
@access.declare(
    "list: prescribing.selectors.refill_queue filters by access.records_visible and audits"
)
@require_GET
def refill_queue(request):
    return _queue_page(request)


def _queue_page(request, failed=None, failed_form=None, status=200):
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
    if failed is not None and not failed_shown:
        # No longer waiting for a renewal, or not this person's: the reason goes above the queue.
        messages.error(request, " ".join(failed_form.non_field_errors()) or "Nothing was renewed.")
    context = {"requests": requests, "nav": "refills", "form": RefillDecisionForm()}
    return render(request, "prescribing/refill_queue.html", context, status=status)


@login_required
@require_POST
@access.declare(RECORD)
def refill_decide(request, request_uuid):
    refill = selectors.refill_request_get(
        actor=request.user, request_uuid=request_uuid, action=Action.UPDATE
    )
    form = RefillDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do with the request; nothing was changed.")
        return redirect("refill_queue")
    try:
        services.refill_request_decide(
            actor=request.user,
            request=refill,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, _messages_of(error))
    except NotAllowed as exc:
        messages.error(request, exc.message)
    else:
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
@access.declare(RECORD)
def refill_renew(request, request_uuid):
    refill = selectors.refill_request_get(
        actor=request.user, request_uuid=request_uuid, action=Action.UPDATE
    )
    from_medication = request.POST.get("back_to") == "medication"
    form = RenewalForm(request.POST, prefix=None if from_medication else f"renew-{refill.uuid}")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.refill_request_renew(
                actor=request.user,
                request=refill,
                quantity=data["quantity"],
                days_supply=data["days_supply"],
                refills_authorised=data["refills_authorised"],
                earliest_fill_on=data["earliest_fill_on"],
                reason=data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, _messages_of(error))
        except NotAllowed as exc:
            form.add_error(None, exc.message)
            status = 403
        else:
            messages.success(
                request,
                f"{refill.medication.drug_name} for {refill.patient.display_name}: renewed with a "
                "new prescription, and the request approved.",
            )
            if from_medication:
                return redirect("medication_detail", medication_uuid=refill.medication.uuid)
            return redirect("refill_queue")
    if from_medication:
        return _after_write(request, refill.medication, "renewal_form", form, status=status)
    return _queue_page(request, failed=refill, failed_form=form, status=status)
