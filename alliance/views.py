"""Check-in pages for patients; the alliance page for clinicians."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access, pages
from core import selectors as core_selectors
from core.access import Action, Category
from core.dates import us_date

from . import selectors, services
from .forms import AcknowledgeForm, AnswersForm, ConsultationForm, StartForm
from .models import CheckIn


@login_required
@require_GET
@access.patient_view(Category.ALLIANCE, Action.LIST)
def check_ins(request, patient):
    """The patient's check-ins: what is due, what is in progress, what they sent."""
    if not access.is_self(request.user, patient):
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


def _chosen(form, patient):
    """The instrument offered and, for one about a clinician, the clinician on the patient's
    care team that the start form names (None for what is not offered, or nobody)."""
    if not form.is_valid():
        return None, None
    instrument = next(
        (i for i in selectors.instruments_offered() if i.pk == form.cleaned_data["instrument"]),
        None,
    )
    clinician = None
    if instrument is not None and instrument.about_clinician:
        team = {
            m.clinician.uuid: m.clinician for m in core_selectors.care_team_for(patient=patient)
        }
        clinician = team.get(form.cleaned_data["clinician"])
    return instrument, clinician


@login_required
@require_POST
@access.patient_view(Category.ALLIANCE, Action.CREATE)
def check_in_start(request, patient):
    """Start (or resume) a draft, then answer it on its own page."""
    instrument, clinician = _chosen(StartForm(request.POST), patient)
    if instrument is None:
        messages.error(request, "Choose one of the check-ins offered.")
        return redirect("check_ins", patient_uuid=patient.uuid)
    with pages.attempt(request) as result:
        check_in = services.check_in_start(
            actor=request.user, patient=patient, instrument=instrument, clinician=clinician
        )
    if not result.ok:
        return redirect("check_ins", patient_uuid=patient.uuid)
    return redirect("check_in", check_in_uuid=check_in.uuid)


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.ALLIANCE, Action.CREATE)
def check_in_new(request, patient):
    """A check-in's questions before anything is stored. Send starts and sends it in this one
    request; "Save and finish later" keeps a draft with the answers so far."""
    sent = request.POST if request.method == "POST" else request.GET
    instrument, clinician = _chosen(StartForm(sent), patient)
    if instrument is None or (instrument.about_clinician and clinician is None):
        messages.error(request, "Choose one of the check-ins offered.")
        return redirect("check_ins", patient_uuid=patient.uuid)
    check_in = CheckIn(
        patient=patient, author=request.user, instrument=instrument, clinician=clinician
    )
    if request.method == "GET":
        return _answer_page(request, check_in, AnswersForm())
    form = AnswersForm(request.POST)
    if not form.is_valid():
        return _answer_page(request, check_in, form, status=400)
    answers = {
        item["id"]: request.POST.get(item["id"], "") for item in instrument.definition["items"]
    }
    open_answer = request.POST.get("open_answer", "")
    saving = form.cleaned_data["action"] == "save"
    with pages.attempt(request, form) as result:
        if saving:
            done = services.check_in_start(
                actor=request.user,
                patient=patient,
                instrument=instrument,
                clinician=clinician,
                answers=answers,
                open_answer=open_answer,
            )
        else:
            done = services.check_in_submit_new(
                actor=request.user,
                patient=patient,
                instrument=instrument,
                clinician=clinician,
                answers=answers,
                open_answer=open_answer,
            )
    if result.ok:
        return _answered(request, done, saving)
    return _answer_page(
        request, check_in, form, answers=answers, open_answer=open_answer, status=result.status
    )


@login_required
@require_http_methods(["GET", "POST"])
@access.record_view(
    selectors.check_ins(),
    Category.ALLIANCE,
    uuid="check_in_uuid",
    category_of=selectors.check_in_category,
)
def check_in(request, check_in):
    answers = dict(check_in.answers)
    open_answer = check_in.open_answer
    form = AnswersForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        definition = check_in.instrument.definition
        answers = {item["id"]: request.POST.get(item["id"], "") for item in definition["items"]}
        open_answer = request.POST.get("open_answer", "")
        saving = form.cleaned_data["action"] == "save"
        answer = services.check_in_save if saving else services.check_in_submit
        with pages.attempt(request, form) as result:
            sent = answer(
                actor=request.user, check_in=check_in, answers=answers, open_answer=open_answer
            )
        if result.ok:
            return _answered(request, sent, saving)
        status = result.status
    return _answer_page(
        request, check_in, form, answers=answers, open_answer=open_answer, status=status
    )


def _answer_page(request, check_in, form, *, answers=None, open_answer="", status=200):
    """The questions (or, once sent, the answers) of a check-in; a new one (not stored yet)
    sends its instrument and clinician with the answers. After a refused send, what was given
    is kept and each unanswered question is named."""
    definition = check_in.instrument.definition
    answers = answers or {}
    missing_ids = set()
    if status != 200:
        missing_ids = {item["id"] for item in services.unanswered(check_in.instrument, answers)}
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
    stored = check_in.pk is not None
    context = {
        "check_in": check_in,
        "patient": check_in.patient,
        "definition": definition,
        "items": items,
        "open_answer": open_answer,
        "error": " ".join(form.non_field_errors()) or None,
        "show_score": stored and selectors.score_shown(actor=request.user, check_in=check_in),
        "nav": "check_ins" if access.kind_of(request.user) == "patient" else "patients",
        "crisis": stored and selectors.crisis_help_after(actor=request.user, check_in=check_in),
    }
    return render(request, "alliance/check_in.html", context, status=status)


def _answered(request, check_in, saved: bool):
    """Where the patient goes once their answers are kept (saved) or sent."""
    if saved:
        messages.success(request, "Saved. You can finish it later from your check-ins.")
        return redirect("check_ins", patient_uuid=check_in.patient.uuid)
    if check_in.answers_not_sent:
        messages.warning(
            request,
            f"This check-in had already been sent, on "
            f"{us_date(check_in.submitted_at, 'time')}. "
            "Your care team has the answers shown here; the ones you just gave were "
            "not sent. If something has changed, start a new check-in.",
        )
    elif not selectors.raised_safety_alert(check_in=check_in):
        # After a safety alert the page itself thanks them, below the crisis help.
        messages.success(request, "Thank you. Your answers are with your care team.")
    return redirect("check_in", check_in_uuid=check_in.uuid)


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _alliance_context(request, patient, *, consultation_form=None):
    # Each series lists its newest scores, and links to all of them (?scores=all): the page
    # costs the same for a patient with years of check-ins.
    every = request.GET.get("scores") == "all"
    series, flags = selectors.history(
        actor=request.user, patient=patient, newest=None if every else selectors.ROWS_SHOWN
    )
    return {
        "patient": patient,
        "series": series,
        "every_score": every,
        "flags": flags,
        "safety_alerts": [f for f in flags if f.kind == "safety"],
        "consultations": selectors.consultations(actor=request.user, patient=patient),
        "consultation_form": consultation_form or ConsultationForm(),
        "can_consult": selectors.may_consult(actor=request.user, patient=patient),
        "acknowledge_form": AcknowledgeForm(),
        "nav": "patients",
    }


@login_required
@require_GET
@access.patient_view(Category.ALLIANCE, Action.LIST)
def alliance(request, patient):
    """For clinicians: flags, alliance trends per relationship, outcome measures, consultations."""
    if access.is_self(request.user, patient):
        return redirect("check_ins", patient_uuid=patient.uuid)
    return render(request, "alliance/alliance.html", _alliance_context(request, patient))


@login_required
@require_POST
@access.record_view(
    selectors.flags(), Category.ALLIANCE, uuid="flag_uuid", category_of=selectors.flag_category
)
def flag_acknowledge(request, flag):
    form = AcknowledgeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    with pages.attempt(request) as result:
        services.flag_acknowledge(actor=request.user, flag=flag, note=note)
    if result.ok:
        messages.success(request, "Acknowledged. Your name and the time are recorded.")
    return redirect("alliance", patient_uuid=flag.patient.uuid)


@login_required
@require_POST
@access.patient_view(Category.CONSULTATIONS, Action.CREATE)
def consultation_create(request, patient):
    form = ConsultationForm(request.POST)
    prescriber, therapist = selectors.consultation_pair(patient=patient)
    status = 400
    if form.is_valid():
        with pages.attempt(request, form) as result:
            services.consultation_create(
                actor=request.user,
                patient=patient,
                prescriber=prescriber,
                therapist=therapist,
                **form.cleaned_data,
            )
        if result.ok:
            messages.success(request, "Consultation recorded.")
            return redirect("alliance", patient_uuid=patient.uuid)
        status = result.status
    context = _alliance_context(request, patient, consultation_form=form)
    return render(request, "alliance/alliance.html", context, status=status)
