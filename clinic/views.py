"""Composed pages: home by role, the clinician's patient list, a patient's overview, the patient's home."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alliance import outcomes
from alliance import selectors as alliance_selectors
from appointments import selectors as appointments_selectors
from core import access, pages
from core import selectors as core_selectors
from core.access import Action, Category
from core.htmx import render_page_or_partial, wants_partial
from messaging import selectors as messaging_selectors
from messaging import services as messaging_services
from messaging.forms import ReplyForm
from prescribing import selectors as prescribing_selectors
from prescribing import services as prescribing_services
from referrals import selectors as referrals_selectors
from referrals import services as referrals_services
from referrals.forms import ThreadPostForm
from referrals.models import ThreadPost
from stories import selectors as stories_selectors

from . import equity
from . import fhir as clinic_fhir
from . import pdf as clinic_pdf
from . import selectors as clinic_selectors
from . import services as clinic_services
from .forms import (
    MAKE_GOAL,
    MAKE_OBSERVATION,
    MAKE_REFILL,
    EquityFilterForm,
    MessageGoalForm,
    MessageObservationForm,
    MessageRefillForm,
    VisitActionForm,
)

# The forms of "make this message a record", by what is made (MessageGoalForm takes no
# medicines: it is given them and ignores them).
RECORD_FORMS = {
    MAKE_OBSERVATION: MessageObservationForm,
    MAKE_REFILL: MessageRefillForm,
    MAKE_GOAL: lambda data, medications=(): MessageGoalForm(data),
}

# What each record made of a message is, for the policy.
MAKES = {
    MAKE_OBSERVATION: Category.OBSERVATIONS,
    MAKE_REFILL: Category.REFILLS,
    MAKE_GOAL: Category.GOALS,
}

START_PAGES = {"clinician": "patient_list", "patient": "patient_home", "admin": "console_home"}


@access.declare("no patient data: sends each kind of account to its start page")
@login_required
@require_GET
def home(request):
    start = START_PAGES.get(access.kind_of(request.user))
    if start is None:
        raise Http404
    return redirect(start)


def _for_clinicians(request) -> None:
    """The care team's working screens (the visit, what is shared with them, the day) are
    for those who care for patients: anyone else is told "not found", as for a patient they
    may not see, whatever their own grant to the record."""
    if not access.may_care_for(request.user):
        raise Http404


@access.declare("list: core.selectors.patient_list filters by access.visible and audits")
@login_required
@require_GET
def patient_list(request):
    query = request.GET.get("q", "")[:100]
    patients = core_selectors.patients_listed(
        actor=request.user,
        patients=core_selectors.patient_list(actor=request.user, search=query),
    )
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
        "can_invite": patient.user_id is None
        and access.can(request.user, Action.UPDATE, Category.SIGN_IN, patient),
        "nav": "patients",
    }
    return render(request, "clinic/patient_detail.html", context)


@access.declare("the patient's own home: core.selectors.patient_for_user, then access.get(PROFILE)")
@login_required
@require_GET
def patient_home(request):
    mine = core_selectors.patient_for_user(user=request.user)
    if mine is None:
        raise Http404
    patient = access.get(request.user, Action.READ, Category.PROFILE, patient=mine.uuid)
    context = {
        "patient": patient,
        "care_team": core_selectors.care_team_for(patient=patient),
        "summary": stories_selectors.summary_get(actor=request.user, patient=patient),
        "due": [
            o
            for o in alliance_selectors.check_in_offers(actor=request.user, patient=patient)
            if o.is_due or o.draft
        ],
        "goals": [
            g for g in stories_selectors.goal_list(actor=request.user, patient=patient) if g.is_open
        ],
        "medicines": [
            item
            for item in prescribing_selectors.medication_plan(actor=request.user, patient=patient)
            if item.medication.is_current
        ],
        "releases": [
            v
            for v in referrals_selectors.releases_for_patient(actor=request.user, patient=patient)
            if v.in_force
        ],
        "visits": appointments_selectors.upcoming_for_patient(actor=request.user, patient=patient),
        "notifications": core_selectors.notification_list(user=request.user, limit=5),
        "nav": "home",
    }
    return render(request, "clinic/patient_home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.THREADS, Action.LIST)
def thread(request, patient):
    """The prescriber and therapist's thread: eyes-and-ears reports, questions, answers. The
    clinicians', never the patient's (the policy's THREADS); the service guards each post."""
    medications = [
        item.medication
        for item in prescribing_selectors.medication_plan(actor=request.user, patient=patient)
    ]
    # The eyes-and-ears reports (a side effect, a question for the prescriber) are written
    # by the clinician who does not prescribe; the prescriber replies, notes and asks.
    kinds = ThreadPost.Kind.choices
    if access.can(request.user, Action.PRESCRIBE, Category.MEDICATIONS):
        kinds = [(k, label) for k, label in kinds if k in ("reply", "note", "question")]
    form = ThreadPostForm(
        request.POST if request.method == "POST" else None, kinds=kinds, medications=medications
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            medication = next((m for m in medications if str(m.uuid) == data["medication"]), None)
            reply_to = None
            if data["reply_to"]:
                reply_to = referrals_selectors.thread_post_get(
                    actor=request.user, post_uuid=data["reply_to"]
                )
            # Refused when no one of the other practice could read it: said on the form,
            # what was written kept.
            with pages.attempt(request, form, quiet=True) as result:
                referrals_services.thread_post(
                    actor=request.user,
                    patient=patient,
                    kind=data["kind"],
                    text=data["text"],
                    medication_uuid=medication.uuid if medication else None,
                    medication_name=medication.label if medication else "",
                    reply_to=reply_to,
                )
            if result.ok:
                messages.success(request, "Posted.")
                return redirect("thread", patient_uuid=patient.uuid)
            status = result.status
    context = {
        "patient": patient,
        "posts": referrals_selectors.thread(actor=request.user, patient=patient),
        "readers": referrals_selectors.thread_readers(actor=request.user, patient=patient),
        "refused": status == 403,
        "form": form,
        "nav": "patients",
    }
    return render(request, "clinic/thread.html", context, status=status)


# --- The visit screen ------------------------------------------------------------------------


# `?since=last-visit`: what happened since the last visit the patient attended, instead of
# since this clinician last looked.
SINCE_LAST_VISIT = "last-visit"


def _visit_context(request, patient, **extra):
    since = clinic_services.look_begin(user=request.user, patient=patient, screen="visit")
    around = appointments_selectors.visits_around(actor=request.user, patient=patient)
    from_last_visit = request.GET.get("since") == SINCE_LAST_VISIT and around.last is not None
    if from_last_visit:
        since = around.last.starts_at
    data = clinic_selectors.visit(actor=request.user, patient=patient, since=since)
    return {
        "v": data,
        "around": around,
        "from_last_visit": from_last_visit,
        "patient": patient,
        "nav": "patients",
        "section": "visit",
        **extra,
    }


@login_required
@require_GET
@access.patient_view(Category.MEDICATIONS, Action.READ)
def visit(request, patient):
    """One calm screen for the visit, the patient's words first."""
    _for_clinicians(request)
    return render(request, "clinic/visit.html", _visit_context(request, patient))


def _record_at_visit(actor, data) -> None:
    """What the visit screen's forms record, each through its app's service."""
    if data["action"] == "observation":
        medication = prescribing_selectors.medication_get(
            actor=actor, medication_uuid=data["medication"]
        )
        prescribing_services.observation_create(
            actor=actor,
            medication=medication,
            kind=data["kind"] or "response",
            text=data["text"],
            severity=data["severity"] or "none",
        )
    elif data["action"] == "decision":
        medication = prescribing_selectors.medication_get(
            actor=actor, medication_uuid=data["medication"], action=Action.UPDATE
        )
        prescribing_services.medication_decide(
            actor=actor,
            medication=medication,
            kind=data["status"],
            version=data["version"] or 0,
            reason=data["reason"],
            dose=data["dose"] or None,
            strength=data["strength"] or None,
            decided_together=data["decided_together"] == "yes",
            patient_preference=data["patient_preference"],
            goal_uuids=data["goals"],
            serves_no_goal=data["serves_no_goal"],
            no_goal_reason=data["no_goal_reason"],
            needs=data["needs"],
            need_reflection=data["need_reflection"],
        )
    else:
        refill = prescribing_selectors.refill_request_get(
            actor=actor, request_uuid=data["request"], action=Action.UPDATE
        )
        prescribing_services.refill_request_decide(
            actor=actor, request=refill, status=data["status"], reason=data["reason"]
        )


@login_required
@require_POST
@access.patient_view(Category.MEDICATIONS, Action.READ)
def visit_action(request, patient):
    """Record an observation, a decision or a refill answer without leaving the visit screen."""
    form = VisitActionForm(request.POST)
    valid = form.is_valid()
    # When nothing was recorded, what was typed goes back into the form beside the message.
    # Also after a refused form: the fields that were valid come back as typed.
    typed = dict(form.cleaned_data)
    status = 400
    with pages.attempt(request, form, quiet=True) as result:
        if valid:
            _record_at_visit(request.user, typed)
    error = result.conflict or " ".join(m for errors in form.errors.values() for m in errors)
    if error:
        status = result.status if valid else 400
    draft = typed if error else None
    if not wants_partial(request):
        if not error:
            messages.success(request, "Recorded.")
            return redirect("visit", patient_uuid=patient.uuid)
        messages.error(request, error)
        context = _visit_context(request, patient, draft=draft)
        return render(request, "clinic/visit.html", context, status=status)
    context = _visit_context(
        request,
        patient,
        visit_error=error,
        visit_done=None if error else "Recorded.",
        draft=draft,
    )
    return render(request, "clinic/visit.html#now", context, status=200)


@login_required
@require_GET
@access.patient_view(Category.MEDICATIONS, Action.EXPORT)
def visit_pdf(request, patient):
    _for_clinicians(request)
    since = clinic_services.look_begin(user=request.user, patient=patient, screen="visit")
    data = clinic_selectors.visit(actor=request.user, patient=patient, since=since)
    document = clinic_pdf.visit_summary(visit=data, clinician=request.user)
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="visit-summary.pdf"'
    return response


@login_required
@require_GET
@access.patient_view(Category.PROFILE, Action.READ)
def shared(request, patient):
    """For a co-treating clinician: what the releases let them see, and what changed since."""
    _for_clinicians(request)
    since = clinic_services.look_begin(user=request.user, patient=patient, screen="shared")
    context = {
        "s": clinic_selectors.shared_view(actor=request.user, patient=patient, since=since),
        "patient": patient,
        "nav": "patients",
    }
    return render(request, "clinic/shared.html", context)


@login_required
@require_GET
@access.declare(
    "lists: alliance, prescribing, referrals and appointments selectors filter by the policy "
    "and audit"
)
def today(request):
    _for_clinicians(request)
    day = clinic_selectors.prescriber_day(actor=request.user)
    day.update(appointments_selectors.visits_waiting(actor=request.user))
    day["visits_due"] = appointments_selectors.overdue_patients(actor=request.user)
    # Who does not prescribe starts from their caseload, each patient's shared view.
    caseload = []
    if not access.can(request.user, Action.PRESCRIBE, Category.MEDICATIONS):
        caseload = core_selectors.patients_listed(
            actor=request.user, patients=core_selectors.patient_list(actor=request.user)
        )
    return render(request, "clinic/today.html", {**day, "caseload": caseload, "nav": "today"})


@access.declare("list: clinic.selectors.caseload filters by access.visible and audits each patient")
@login_required
@require_GET
def caseload(request):
    """The clinician's caseload with outcomes beside the alliance, not on track first."""
    _for_clinicians(request)
    load = clinic_selectors.caseload(
        actor=request.user,
        show=request.GET.get("show", "all"),
        sort=request.GET.get("sort", "name"),
        q=request.GET.get("q", "")[:100],
    )
    context = {
        "load": load,
        "shows": clinic_selectors.CASELOAD_SHOW,
        "sorts": clinic_selectors.CASELOAD_SORT,
        "norms": {"phq9": outcomes.norms_for("phq-9"), "gad7": outcomes.norms_for("gad-7")},
        "weeks": outcomes.WEEKS_TO_IMPROVE,
        "nav": "caseload",
    }
    return render(request, "clinic/caseload.html", context)


@login_required
@require_GET
@access.declare("aggregates only: the policy's equity_practices_q names the practices, audited")
def equity_view(request):
    """The clinic's equity view: groups compared, small cells hidden; ?format=csv exports it."""
    practices = clinic_selectors.equity_practices(actor=request.user)
    since, until = equity.default_period(timezone.localdate())
    # The filters, once chosen; the first visit (and a bare ?format=csv) counts the defaults.
    chosen_filters = {k: v for k, v in request.GET.items() if k != "format"}
    form = EquityFilterForm(
        chosen_filters or None,
        dimensions=equity.DIMENSIONS.values(),
        practices=practices,
        initial={"dimension": "race", "since": since, "until": until},
    )
    table, status = None, 200
    if not chosen_filters or form.is_valid():
        data = form.cleaned_data if chosen_filters else {}
        table = clinic_selectors.equity_table(
            actor=request.user,
            practices=form.chosen_practices(practices) if chosen_filters else practices,
            dimension=data.get("dimension", "race"),
            since=data.get("since", since),
            until=data.get("until", until),
        )
        if request.GET.get("format") == "csv":
            response = HttpResponse(equity.as_csv(table), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="concord-equity.csv"'
            return response
    else:
        status = 400
    rows = []
    if table is not None:
        rows = [
            (label, [equity.formatted(table.rows[g][c.key], c) for c in table.columns])
            for g, label in table.groups
        ]
        total = [equity.formatted(table.total[c.key], c) for c in table.columns]
    return render(
        request,
        "clinic/equity.html",
        {
            "form": form,
            "table": table,
            "rows": rows,
            "total": total if table is not None else [],
            "min_cell": equity.MIN_CELL,
            "hidden_mark": equity.HIDDEN_SHOWN,
            "nav": "equity",
        },
        status=status,
    )


@login_required
@require_GET
@access.patient_view(Category.PROFILE, Action.EXPORT)
def fhir_export(request, patient):
    """The patient's record as a FHIR R4 Bundle, with what the caller may see."""
    bundle = clinic_fhir.patient_bundle(actor=request.user, patient=patient)
    response = JsonResponse(bundle, json_dumps_params={"indent": 1})
    response["Content-Disposition"] = f'attachment; filename="concord-{patient.uuid}.fhir.json"'
    return response


# --- Secure messages -------------------------------------------------------------------------
# The conversation page is composed here: beside the messages it offers to record one on a
# medicine (prescribing) and says who reads it under a release (referrals).


def _conversation_context(request, conversation, **extra):
    patient = conversation.patient
    mine = access.is_self(request.user, patient)
    may_answer = access.can(request.user, Action.ANSWER, Category.MESSAGES, conversation)
    may_link = access.can(request.user, Action.UPDATE, Category.MESSAGES, conversation)
    # What a clinician who answers the conversation may make of a message: each as the policy
    # allows them that record (the service asks again).
    may_make = dict.fromkeys(MAKES, False)
    if may_link:
        may_make = {
            make: access.can(request.user, Action.CREATE, category, patient)
            for make, category in MAKES.items()
        }
    medications = []
    if may_make[MAKE_OBSERVATION] or may_make[MAKE_REFILL]:
        medications = [
            item.medication
            for item in prescribing_selectors.medication_plan(actor=request.user, patient=patient)
            if item.medication.is_current
        ]
    return {
        "conversation": conversation,
        "patient": patient,
        "mine": mine,
        "shown": messaging_selectors.messages_of(conversation=conversation),
        "readers": clinic_selectors.conversation_readers(conversation=conversation),
        "may_reply": may_answer,
        "may_make": may_make,
        "may_record": any(may_make.values()),
        "medications": medications,
        "observation_form": MessageObservationForm(medications=medications),
        "refill_request_form": MessageRefillForm(medications=medications),
        "goal_form": MessageGoalForm(),
        "nav": "messages",
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
@access.record_view(
    messaging_selectors.CONVERSATIONS,
    Category.MESSAGES,
    Action.READ,
    uuid="conversation_uuid",
)
def conversation(request, conversation):
    """One conversation between the patient and their care team: the messages, who read
    them, who can read it, and a reply (the service guards the reply)."""
    form = ReplyForm(request.POST if request.method == "POST" else None)
    if access.is_self(request.user, conversation.patient):
        form.fields["text"].label = "Your message"
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            with pages.attempt(request, form, quiet=True) as result:
                messaging_services.message_reply(
                    actor=request.user, conversation=conversation, text=form.cleaned_data["text"]
                )
            if result.ok:
                messages.success(request, "Sent.")
                return redirect("conversation", conversation_uuid=conversation.uuid)
            status = result.status
    else:
        messaging_services.conversation_seen(reader=request.user, conversation=conversation)
    context = _conversation_context(request, conversation, form=form)
    return render(request, "clinic/conversation.html", context, status=status)


@login_required
@require_POST
@access.record_view(
    messaging_selectors.CONVERSATIONS,
    Category.MESSAGES,
    Action.UPDATE,
    uuid="conversation_uuid",
)
def conversation_record(request, conversation):
    """Make one message of the conversation a record, in one step: an observation on a
    medicine, a refill request for the patient, or a goal proposed to them (`make`)."""
    patient = conversation.patient
    make = request.POST.get("make") or MAKE_OBSERVATION
    if make not in RECORD_FORMS:
        make = MAKE_OBSERVATION
    medications = []
    if make != MAKE_GOAL:
        medications = [
            item.medication
            for item in prescribing_selectors.medication_plan(actor=request.user, patient=patient)
            if item.medication.is_current
        ]
    form = RECORD_FORMS[make](request.POST, medications=medications)
    message = None
    if form.is_valid():
        message = messaging_selectors.message_in(
            conversation=conversation, message_uuid=form.cleaned_data["message"]
        )
        if message is None:
            form.add_error(None, "That message is not in this conversation; nothing was recorded.")
    if message is not None and message.record_uuid is not None:
        # Sent twice, or recorded meanwhile by a colleague: the record is there already.
        messages.info(request, f"Already recorded: {message.record_label}.")
        return redirect("conversation", conversation_uuid=conversation.uuid)
    if form.is_valid() and message is not None:
        data = form.cleaned_data
        medication = next((m for m in medications if str(m.uuid) == data.get("medication")), None)
        with pages.attempt(request, form, quiet=True) as result:
            if make == MAKE_OBSERVATION:
                clinic_services.message_observation(
                    actor=request.user,
                    message=message,
                    medication=medication,
                    kind=data["kind"],
                    severity=data["severity"],
                    text=data["text"],
                )
                done = f"Recorded as an observation on {medication.label}."
            elif make == MAKE_REFILL:
                clinic_services.message_refill_request(
                    actor=request.user, message=message, medication=medication, note=data["note"]
                )
                done = f"Refill of {medication.label} requested for {patient.display_name}."
            else:
                clinic_services.message_goal_proposal(
                    actor=request.user, message=message, what=data["what"], why=data["why"]
                )
                done = f"Goal proposed to {patient.display_name}: they can accept or rewrite it."
        if result.ok:
            messages.success(request, done)
            return redirect("conversation", conversation_uuid=conversation.uuid)
        status = result.status
    else:
        status = 400
    context = _conversation_context(
        request,
        conversation,
        form=ReplyForm(),
        record_form=form,
        recording=str(request.POST.get("message", "")),
        making=make,
    )
    return render(request, "clinic/conversation.html", context, status=status)
