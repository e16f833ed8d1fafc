"""Check-in pages for patients; the alliance page for clinicians."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access
from core import selectors as core_selectors
from core.access import Action, Category
from core.exceptions import NotAllowed

from . import selectors, services
from .forms import AcknowledgeForm, ConsultationForm, StartForm
from .models import Instrument

RECORD = "record: alliance.selectors.*_get → access.require_record"


@login_required
@require_GET
@access.patient_view(Category.ALLIANCE, Action.LIST)
def check_ins(request, patient):
    """The patient's check-ins: what is due, what is in progress, what they sent."""
    if not request.user.is_patient:
        return redirect("alliance", patient_uuid=patient.uuid)
    context = {
        "patient": patient,
        "offers": selectors.check_in_offers(actor=request.user, patient=patient),
        "series": selectors.trends(actor=request.user, patient=patient),
        "show_scores": selectors.show_scores_to_patients(),
        "consultations": selectors.consultations(actor=request.user, patient=patient),
        "nav": "check_ins",
    }
    return render(request, "alliance/check_ins.html", context)


@login_required
@require_POST
@access.patient_view(Category.ALLIANCE, Action.CREATE)
def check_in_start(request, patient):
    form = StartForm(request.POST)
    instrument = None
    if form.is_valid():
        instrument = next(
            (i for i in selectors.instruments_offered() if i.pk == form.cleaned_data["instrument"]),
            None,
        )
    if instrument is None:
        messages.error(request, "Choose one of the check-ins offered.")
        return redirect("check_ins", patient_uuid=patient.uuid)
    clinician = None
    if instrument.about_clinician:
        team = {
            m.clinician.uuid: m.clinician for m in core_selectors.care_team_for(patient=patient)
        }
        clinician = team.get(form.cleaned_data["clinician"])
    try:
        check_in = services.check_in_start(
            actor=request.user, patient=patient, instrument=instrument, clinician=clinician
        )
    except (ValidationError, NotAllowed) as error:
        messages.error(
            request,
            " ".join(error.messages) if isinstance(error, ValidationError) else error.message,
        )
        return redirect("check_ins", patient_uuid=patient.uuid)
    return redirect("check_in", check_in_uuid=check_in.uuid)


@login_required
@require_http_methods(["GET", "POST"])
@access.declare(RECORD)
def check_in(request, check_in_uuid):
    action = Action.UPDATE if request.method == "POST" else Action.READ
    check_in = selectors.check_in_get(
        actor=request.user, check_in_uuid=check_in_uuid, action=action
    )
    definition = check_in.instrument.definition
    answers = dict(check_in.answers)
    open_answer = check_in.open_answer
    missing_ids = set()
    error = None
    status = 200
    if request.method == "POST":
        answers = {item["id"]: request.POST.get(item["id"], "") for item in definition["items"]}
        open_answer = request.POST.get("open_answer", "")
        try:
            if request.POST.get("action") == "save":
                services.check_in_save(
                    actor=request.user, check_in=check_in, answers=answers, open_answer=open_answer
                )
                messages.success(request, "Saved. You can finish it later from your check-ins.")
                return redirect("check_ins", patient_uuid=check_in.patient.uuid)
            submitted = services.check_in_submit(
                actor=request.user, check_in=check_in, answers=answers, open_answer=open_answer
            )
        except services.Incomplete as incomplete:
            missing_ids = {item["id"] for item in incomplete.items}
            error = incomplete.messages[0]
            status = 400
        except ValidationError as exc:
            error = " ".join(exc.messages)
            status = 400
        except NotAllowed as exc:
            raise Http404 from exc
        else:
            if submitted.answers_not_sent:
                messages.warning(
                    request,
                    f"This check-in had already been sent, on "
                    f"{date_format(timezone.localtime(submitted.submitted_at), 'j F Y, H:i')}. "
                    "Your care team has the answers shown here; the ones you just gave were "
                    "not sent. If something has changed, start a new check-in.",
                )
            elif not selectors.raised_safety_alert(check_in=submitted):
                # After a safety alert the page itself thanks them, below the crisis help.
                messages.success(request, "Thank you. Your answers are with your care team.")
            return redirect("check_in", check_in_uuid=submitted.uuid)
    items = [
        {
            **item,
            "values": services.scoring.item_values(definition, item),
            "scale": definition["scales"][item["scale"]],
            "answer": _as_int(answers.get(item["id"])),
            "missing": item["id"] in missing_ids,
        }
        for item in definition["items"]
    ]
    context = {
        "check_in": check_in,
        "patient": check_in.patient,
        "definition": definition,
        "items": items,
        "open_answer": open_answer,
        "error": error,
        "show_score": request.user.is_clinician
        or check_in.instrument.kind != Instrument.Kind.ALLIANCE
        or selectors.show_scores_to_patients(),
        "nav": "check_ins" if request.user.is_patient else "patients",
        "crisis": selectors.crisis_help_after(actor=request.user, check_in=check_in),
    }
    return render(request, "alliance/check_in.html", context, status=status)


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _alliance_context(request, patient, *, consultation_form=None):
    series = selectors.trends(actor=request.user, patient=patient)
    flags = selectors.open_flags(actor=request.user, patient=patient)
    for entry in series:
        clinician_id = entry.clinician.pk if entry.clinician else None
        entry.flags = [
            f
            for f in flags
            if f.check_in.instrument.key == entry.instrument.key and f.clinician_id == clinician_id
        ]
    team = core_selectors.care_team_for(patient=patient)
    return {
        "patient": patient,
        "series": series,
        "flags": flags,
        "safety_alerts": [f for f in flags if f.kind == "safety"],
        "consultations": selectors.consultations(actor=request.user, patient=patient),
        "consultation_form": consultation_form or ConsultationForm(),
        "can_consult": any(m.clinician_id == request.user.pk for m in team)
        and {m.role for m in team} >= {"prescriber", "therapist"},
        "acknowledge_form": AcknowledgeForm(),
        "nav": "patients",
    }


@login_required
@require_GET
@access.patient_view(Category.ALLIANCE, Action.LIST)
def alliance(request, patient):
    """For clinicians: flags, alliance trends per relationship, outcome measures, consultations."""
    if request.user.is_patient:
        return redirect("check_ins", patient_uuid=patient.uuid)
    return render(request, "alliance/alliance.html", _alliance_context(request, patient))


@login_required
@require_POST
@access.declare(RECORD)
def flag_acknowledge(request, flag_uuid):
    flag = selectors.flag_get(actor=request.user, flag_uuid=flag_uuid, action=Action.UPDATE)
    form = AcknowledgeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.flag_acknowledge(actor=request.user, flag=flag, note=note)
    except NotAllowed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Acknowledged. Your name and the time are recorded.")
    return redirect("alliance", patient_uuid=flag.patient.uuid)


@login_required
@require_POST
@access.patient_view(Category.ALLIANCE, Action.CREATE)
def consultation_create(request, patient):
    form = ConsultationForm(request.POST)
    team = core_selectors.care_team_for(patient=patient)
    prescriber = next((m.clinician for m in team if m.role == "prescriber"), None)
    therapist = next((m.clinician for m in team if m.role == "therapist"), None)
    if form.is_valid():
        try:
            services.consultation_create(
                actor=request.user,
                patient=patient,
                prescriber=prescriber,
                therapist=therapist,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        except NotAllowed as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Consultation recorded.")
            return redirect("alliance", patient_uuid=patient.uuid)
    context = _alliance_context(request, patient, consultation_form=form)
    return render(request, "alliance/alliance.html", context, status=400)
