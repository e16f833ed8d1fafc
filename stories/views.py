"""Pages for goals, notes and the summary: access → form → service → render.

The same view answers with the whole page or, for htmx, the partial that changed.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access, pages
from core.access import Action, Category
from core.exceptions import Conflict, NotAllowed
from core.forms import rebind_with_version
from core.htmx import render_page_or_partial, wants_partial

from . import selectors, services
from .forms import (
    GoalForm,
    NoteErrorForm,
    NoteForm,
    RatingForm,
    SafetyPlanForm,
    StatusForm,
    SummaryForm,
    SummaryResponseForm,
)
from .models import Goal, NarrativeNote


def _first_error(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- Goals ---------------------------------------------------------------------------------


def _goals_context(request, patient, *, goal_form=None):
    goals = selectors.goal_list(actor=request.user, patient=patient)
    for goal in goals:
        goal.my_next_statuses = services.transitions_for(request.user, goal)
    summary = selectors.summary_get(actor=request.user, patient=patient)
    return {
        "patient": patient,
        "goals": goals,
        "open_goals": [g for g in goals if g.is_open],
        "closed_goals": [g for g in goals if not g.is_open],
        "t_score": selectors.gas_summary(goals),
        "summary": summary,
        "goal_form": goal_form or GoalForm(),
        "rating_form": RatingForm(),
        "can_add": access.decide(request.user, Action.CREATE, Category.GOALS, patient).allowed,
        "is_patient": request.user.is_patient,
        "nav": "goals" if request.user.is_patient else "patients",
    }


@login_required
@require_GET
@access.patient_view(Category.GOALS, Action.LIST)
def goals(request, patient):
    return render(request, "stories/goals.html", _goals_context(request, patient))


@login_required
@require_POST
@access.patient_view(Category.GOALS, Action.CREATE)
def goal_create(request, patient):
    form = GoalForm(request.POST)
    if form.is_valid():
        try:
            goal = services.goal_create(
                actor=request.user,
                patient=patient,
                what=form.cleaned_data["what"],
                why=form.cleaned_data["why"],
                target_date=form.cleaned_data["target_date"],
                levels=form.levels(),
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            if goal.status == Goal.Status.PROPOSED:
                messages.success(
                    request,
                    "Goal proposed. It becomes active when the patient accepts it in their words.",
                )
            else:
                messages.success(request, "Your goal is saved.")
            return redirect(reverse("goals", args=[patient.uuid]) + f"#goal-{goal.uuid}")
    return render(
        request, "stories/goals.html", _goals_context(request, patient, goal_form=form), status=400
    )


def _card_response(request, goal, *, rating_form=None, error=None):
    """The goal's card for htmx, or back to the goals page."""
    if wants_partial(request):
        card = selectors.goal_card(actor=request.user, goal=goal)
        card.my_next_statuses = services.transitions_for(request.user, card)
        context = {
            "goal": card,
            "patient": card.patient,
            "rating_form": rating_form or RatingForm(),
            "card_error": error,
            "is_patient": request.user.is_patient,
        }
        return render(request, "stories/goals.html#goal-card", context)
    if error:
        messages.error(request, error)
    return redirect(reverse("goals", args=[goal.patient.uuid]) + f"#goal-{goal.uuid}")


@login_required
@require_POST
@access.declare("record: stories.selectors.goal_get → access.require_record")
def goal_rate(request, goal_uuid):
    goal = selectors.goal_get(actor=request.user, goal_uuid=goal_uuid, action=Action.CREATE)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _card_response(
            request,
            goal,
            rating_form=form,
            error=form.errors["rating"][0] if "rating" in form.errors else None,
        )
    try:
        services.goal_rate(
            actor=request.user,
            goal=goal,
            rating=form.cleaned_data["rating"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        return _card_response(request, goal, rating_form=form, error=_first_error(error))
    if not wants_partial(request):
        messages.success(request, "Progress saved.")
    return _card_response(request, goal)


@login_required
@require_POST
@access.declare("record: stories.selectors.goal_get → access.require_record")
def goal_status(request, goal_uuid):
    goal = selectors.goal_get(actor=request.user, goal_uuid=goal_uuid, action=Action.UPDATE)
    form = StatusForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.goal_transition(
                actor=request.user,
                goal=goal,
                status=form.cleaned_data["status"],
                version=form.cleaned_data["version"],
            )
        except (ValidationError, NotAllowed, Conflict) as exc:
            error = _first_error(exc) if isinstance(exc, ValidationError) else exc.message
    else:
        error = "Choose what should happen to this goal."
    return _card_response(request, goal, error=error)


@login_required
@require_http_methods(["GET", "POST"])
@access.declare("record: stories.selectors.goal_get → access.require_record")
def goal_edit(request, goal_uuid):
    goal = selectors.goal_get(
        actor=request.user,
        goal_uuid=goal_uuid,
        action=Action.UPDATE if request.method == "POST" else Action.READ,
    )
    initial = {"what": goal.what, "why": goal.why, "target_date": goal.target_date}
    initial.update({name: getattr(goal, name) for name in GoalForm.LEVELS})

    def saved(goal):
        messages.success(request, "Goal updated. The earlier words are kept in its history.")
        return redirect(reverse("goals", args=[goal.patient.uuid]) + f"#goal-{goal.uuid}")

    return pages.versioned_edit(
        request,
        goal,
        form=lambda data: GoalForm(data, initial={**initial, "version": goal.version}),
        save=lambda data: services.goal_update(
            actor=request.user,
            goal=goal,
            version=data["version"] or 0,
            what=data["what"],
            why=data["why"],
            target_date=data["target_date"],
            levels={name: data.get(name, "") for name in GoalForm.LEVELS},
        ),
        success=saved,
        template="stories/goal_edit.html",
        context=lambda goal: {
            "goal": selectors.goal_card(actor=request.user, goal=goal),
            "patient": goal.patient,
            "current_version": goal.version,
            "history": selectors.goal_history(goal=goal),
            "nav": "goals" if request.user.is_patient else "patients",
        },
    )


# --- Notes ---------------------------------------------------------------------------------


def _kinds_for(user) -> list[str]:
    if user.is_patient:
        return [NarrativeNote.Kind.STORY]
    return [NarrativeNote.Kind.CLINICIAN, NarrativeNote.Kind.PSYCHOTHERAPY]


def _notes_context(request, patient, *, note_form=None):
    kind = request.GET.get("kind", "")
    author = request.GET.get("author", "")
    notes = selectors.note_list(actor=request.user, patient=patient, kind=kind, author_uuid=author)
    return {
        "patient": patient,
        "notes": notes,
        "authors": selectors.note_authors(actor=request.user, patient=patient),
        "kind": kind,
        "author": author,
        "kinds": NarrativeNote.Kind.choices if not request.user.is_patient else [],
        "note_form": note_form or NoteForm(kinds=_kinds_for(request.user)),
        "can_write": access.decide(
            request.user, Action.CREATE, Category.NARRATIVE_NOTES, patient
        ).allowed,
        "nav": "notes" if request.user.is_patient else "patients",
    }


@login_required
@require_GET
@access.patient_view(Category.NARRATIVE_NOTES, Action.LIST)
def notes(request, patient):
    return render_page_or_partial(
        request, "stories/notes.html", "timeline", _notes_context(request, patient)
    )


@login_required
@require_POST
@access.patient_view(Category.NARRATIVE_NOTES, Action.CREATE)
def note_create(request, patient):
    form = NoteForm(request.POST, kinds=_kinds_for(request.user))
    if form.is_valid():
        try:
            services.note_create(
                actor=request.user,
                patient=patient,
                kind=form.cleaned_data["kind"],
                audience=form.cleaned_data["audience"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Note saved.")
            return redirect("notes", patient_uuid=patient.uuid)
    return render(
        request, "stories/notes.html", _notes_context(request, patient, note_form=form), status=400
    )


@login_required
@require_http_methods(["GET", "POST"])
@access.declare("record: stories.selectors.note_get → access.require_record")
def note_edit(request, note_uuid):
    note = selectors.note_get(
        actor=request.user,
        note_uuid=note_uuid,
        action=Action.UPDATE if request.method == "POST" else Action.READ,
    )
    initial = {"kind": note.kind, "audience": note.audience, "title": note.title, "body": note.body}

    def saved(note):
        messages.success(request, "Note updated. The earlier version is kept.")
        return redirect("notes", patient_uuid=note.patient.uuid)

    return pages.versioned_edit(
        request,
        note,
        form=lambda data: NoteForm(
            data, initial={**initial, "version": note.version}, kinds=[note.kind]
        ),
        save=lambda data: services.note_update(
            actor=request.user,
            note=note,
            version=data["version"] or 0,
            title=data["title"],
            body=data["body"],
            audience=data["audience"],
        ),
        success=saved,
        template="stories/note_edit.html",
        context=lambda note: {
            "note": note,
            "patient": note.patient,
            "is_author": note.author_id == request.user.pk,
            "history": selectors.note_history(note=note),
            "nav": "notes" if request.user.is_patient else "patients",
        },
    )


@login_required
@require_POST
@access.declare("record: stories.selectors.note_get → access.require_record")
def note_entered_in_error(request, note_uuid):
    note = selectors.note_get(actor=request.user, note_uuid=note_uuid, action=Action.UPDATE)
    form = NoteErrorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Something was missing from the form; nothing was changed.")
    else:
        try:
            services.note_mark_entered_in_error(
                actor=request.user, note=note, version=form.cleaned_data["version"]
            )
        except (Conflict, NotAllowed) as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, "Marked as entered in error. It stays in the record, struck through."
            )
    return redirect("notes", patient_uuid=note.patient.uuid)


# --- Summary -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.SUMMARY, Action.READ)
def summary_edit(request, patient):
    if not request.user.is_clinician:
        raise NotAllowed("The care team writes this summary; you can respond to it.")
    # A clinician who may read it under a release, not write it: not found, like any refusal.
    access.require(request.user, Action.UPDATE, Category.SUMMARY, patient)
    summary = selectors.summary_get(actor=request.user, patient=patient)

    def saved(summary):
        messages.success(request, "Summary saved.")
        return redirect("goals", patient_uuid=patient.uuid)

    return pages.versioned_edit(
        request,
        summary,
        form=lambda data: SummaryForm(
            data, initial={"text": summary.text if summary else "", "version": _version(summary)}
        ),
        save=lambda data: services.summary_save(
            actor=request.user,
            patient=patient,
            text=data["text"],
            version=data["version"],
            confirm_terms=data["confirm_terms"],
        ),
        success=saved,
        # Not saved yet: the words it found, plainer ways to say them, and "Save anyway".
        warnings=(services.ClinicalTerms,),
        reread=lambda: selectors.summary_get(actor=request.user, patient=patient),
        template="stories/summary_edit.html",
        context=lambda summary: {"patient": patient, "summary": summary, "nav": "patients"},
    )


def _version(record) -> int:
    return record.version if record is not None else 0


@login_required
@require_POST
@access.patient_view(Category.SUMMARY_RESPONSE, Action.UPDATE)
def summary_respond(request, patient):
    form = SummaryResponseForm(request.POST)
    if form.is_valid():
        try:
            services.summary_respond(
                actor=request.user,
                patient=patient,
                response=form.cleaned_data["response"],
                version=form.cleaned_data["version"],
            )
        except Conflict as exc:
            # The summary as it is now, with what they wrote kept in the form to send again.
            context = _goals_context(request, patient)
            context["response_conflict"] = exc.message
            context["response_draft"] = form.cleaned_data["response"]
            return render(request, "stories/goals.html", context, status=409)
        except NotAllowed as exc:
            messages.error(request, exc.message)
        except ValidationError as error:
            messages.error(request, _first_error(error))
        else:
            messages.success(request, "Thank you: your care team will see your response.")
    else:
        messages.error(request, "Something was missing from the form; nothing was saved.")
    return redirect("goals", patient_uuid=patient.uuid)


# --- Safety plan ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.GOALS, Action.READ)
def safety_plan(request, patient):
    """The patient's safety plan: the newest version, a form to write the next, the history."""
    versions = selectors.safety_plan_versions(actor=request.user, patient=patient)
    current = versions[0] if versions else None
    base = current.version if current else 0
    initial = {"version": base}
    if current is not None:
        initial.update({name: getattr(current, name) for name in SafetyPlanForm.HELP})
    form = SafetyPlanForm(request.POST if request.method == "POST" else None, initial=initial)
    conflict = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.safety_plan_save(
                actor=request.user,
                patient=patient,
                based_on=form.cleaned_data["version"],
                sections=form.sections(),
            )
        except Conflict as exc:
            conflict = exc.message
            versions = selectors.safety_plan_versions(actor=request.user, patient=patient)
            current = versions[0] if versions else None
            form = rebind_with_version(
                SafetyPlanForm, request.POST, current.version if current else 0
            )
            status = 409
        except NotAllowed as exc:
            form.add_error(None, exc.message)
            status = 403
        except ValidationError as error:
            form.add_error(None, error.messages)
            status = 400
        else:
            messages.success(
                request,
                "Safety plan saved. It is first on your “Need help now?” page."
                if request.user.is_patient
                else "Safety plan saved. The patient finds it first on their crisis help page.",
            )
            return redirect("safety_plan", patient_uuid=patient.uuid)
    elif request.method == "POST":
        status = 400
    context = {
        "patient": patient,
        "plan": current,
        "versions": versions,
        "form": form,
        "conflict": conflict,
        "can_write": access.decide(request.user, Action.CREATE, Category.GOALS, patient).allowed,
        "nav": "goals" if request.user.is_patient else "patients",
    }
    return render(request, "stories/safety_plan.html", context, status=status)


@login_required
@require_GET
@access.patient_view(Category.GOALS, Action.EXPORT)
def safety_plan_pdf(request, patient):
    """The safety plan on one printable page."""
    from django.http import Http404, HttpResponse
    from django.utils import timezone

    from . import pdf

    plan = selectors.safety_plan_current(actor=request.user, patient=patient)
    if plan is None:
        raise Http404("There is no safety plan to print yet.")
    response = HttpResponse(
        pdf.safety_plan(patient=patient, plan=plan, today=timezone.localdate()),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = 'inline; filename="my-safety-plan.pdf"'
    return response


# --- Crisis help ---------------------------------------------------------------------------


@access.declare(
    "no patient data for anyone signed out; a patient's own plan and care team, audited"
)
@require_GET
def crisis_help(request):
    """Crisis help, open to everyone: a patient whose session ended at 2 a.m. still gets it.
    A signed-in patient sees their own safety plan first, then their clinics' after-hours help."""
    from core import selectors as core_selectors

    patient = core_selectors.patient_for_user(user=request.user)
    plan = None
    if patient is not None:
        plan = selectors.safety_plan_current(actor=request.user, patient=patient)
    return render(
        request,
        "core/crisis_help.html",
        {
            "practices": core_selectors.crisis_help_practices(user=request.user),
            "patient": patient,
            "plan": plan,
            "nav": "crisis_help",
        },
    )
