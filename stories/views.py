"""Pages for goals, notes, the summary and the safety plan: access → form → service → render.

The same view answers with the whole page or, for htmx, the partial that changed. A page that
changes a record reads it through its door (`access.record_view`, a read); the service asks
for the write itself (`access.guard`) and audits it once, when it happened.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access, pages
from core.access import Action, Category
from core.htmx import render_page_or_partial, wants_partial

from . import pdf, selectors, services
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

goal_view = access.record_view(selectors.GOALS, Category.GOALS, Action.READ, uuid="goal_uuid")
note_view = access.record_view(
    selectors.NOTES,
    Category.NARRATIVE_NOTES,
    Action.READ,
    uuid="note_uuid",
    category_of=lambda note: selectors.note_category(note.kind),
)


def _nav(request, patient, mine: str) -> str:
    """The header's current item: the patient's own section, or the clinician's patients."""
    return mine if access.is_self(request.user, patient) else "patients"


# --- Goals ---------------------------------------------------------------------------------


def _goals_context(request, patient, *, goal_form=None):
    goals = selectors.goal_list(actor=request.user, patient=patient)
    for goal in goals:
        goal.my_next_statuses = services.transitions_for(request.user, goal)
    return {
        "patient": patient,
        "goals": goals,
        "open_goals": [g for g in goals if g.is_open],
        "closed_goals": [g for g in goals if not g.is_open],
        "t_score": selectors.gas_summary(goals),
        "summary": selectors.summary_get(actor=request.user, patient=patient),
        "goal_form": goal_form or GoalForm(),
        "rating_form": RatingForm(),
        "can_add": access.can(request.user, Action.CREATE, Category.GOALS, patient),
        "mine": access.is_self(request.user, patient),
        "nav": _nav(request, patient, "goals"),
    }


def _to_goal(goal):
    return redirect(reverse("goals", args=[goal.patient.uuid]) + f"#goal-{goal.uuid}")


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
    result = pages.attempt(request, form)
    if form.is_valid():
        with result:
            goal = services.goal_create(
                actor=request.user,
                patient=patient,
                what=form.cleaned_data["what"],
                why=form.cleaned_data["why"],
                target_date=form.cleaned_data["target_date"],
                levels=form.levels(),
            )
        if result.ok:
            messages.success(
                request,
                "Goal proposed. It becomes active when the patient accepts it in their words."
                if goal.status == Goal.Status.PROPOSED
                else "Your goal is saved.",
            )
            return _to_goal(goal)
    context = _goals_context(request, patient, goal_form=form)
    return render(request, "stories/goals.html", context, status=400)


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
            "mine": access.is_self(request.user, card.patient),
        }
        return render(request, "stories/goals.html#goal-card", context)
    if error:
        messages.error(request, error)
    return _to_goal(goal)


@login_required
@require_POST
@goal_view
def goal_rate(request, goal):
    form = RatingForm(request.POST)
    if not form.is_valid():
        error = form.errors["rating"][0] if "rating" in form.errors else None
        return _card_response(request, goal, rating_form=form, error=error)
    # The card shows what went wrong, not the page's messages.
    with pages.attempt(request, quiet=True) as result:
        services.goal_rate(
            actor=request.user,
            goal=goal,
            rating=form.cleaned_data["rating"],
            note=form.cleaned_data["note"],
        )
    if not result.ok:
        return _card_response(request, goal, rating_form=form, error=result.message)
    if not wants_partial(request):
        messages.success(request, "Progress saved.")
    return _card_response(request, goal)


@login_required
@require_POST
@goal_view
def goal_status(request, goal):
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _card_response(request, goal, error="Choose what should happen to this goal.")
    with pages.attempt(request, quiet=True) as result:
        services.goal_transition(
            actor=request.user,
            goal=goal,
            status=form.cleaned_data["status"],
            version=form.cleaned_data["version"],
        )
    return _card_response(request, goal, error=None if result.ok else result.message)


@login_required
@require_http_methods(["GET", "POST"])
@goal_view
def goal_edit(request, goal):
    initial = {"what": goal.what, "why": goal.why, "target_date": goal.target_date}
    initial.update({name: getattr(goal, name) for name in GoalForm.LEVELS})

    def saved(goal):
        messages.success(request, "Goal updated. The earlier words are kept in its history.")
        return _to_goal(goal)

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
            "nav": _nav(request, goal.patient, "goals"),
        },
    )


# --- Notes ---------------------------------------------------------------------------------


def _kinds_for(user, patient) -> list[str]:
    if access.is_self(user, patient):
        return [NarrativeNote.Kind.STORY]
    return [NarrativeNote.Kind.CLINICIAN, NarrativeNote.Kind.PSYCHOTHERAPY]


def _notes_context(request, patient, *, note_form=None):
    kind = request.GET.get("kind", "")
    author = request.GET.get("author", "")
    notes = selectors.note_list(actor=request.user, patient=patient, kind=kind, author_uuid=author)
    mine = access.is_self(request.user, patient)
    return {
        "patient": patient,
        "notes": notes,
        "authors": selectors.note_authors(actor=request.user, patient=patient),
        "kind": kind,
        "author": author,
        "kinds": [] if mine else NarrativeNote.Kind.choices,
        "note_form": note_form or NoteForm(kinds=_kinds_for(request.user, patient)),
        "can_write": access.can(request.user, Action.CREATE, Category.NARRATIVE_NOTES, patient),
        "nav": _nav(request, patient, "notes"),
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
    form = NoteForm(request.POST, kinds=_kinds_for(request.user, patient))
    result = pages.attempt(request, form)
    if form.is_valid():
        with result:
            services.note_create(
                actor=request.user,
                patient=patient,
                kind=form.cleaned_data["kind"],
                audience=form.cleaned_data["audience"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        if result.ok:
            messages.success(request, "Note saved.")
            return redirect("notes", patient_uuid=patient.uuid)
    context = _notes_context(request, patient, note_form=form)
    return render(request, "stories/notes.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
@note_view
def note_edit(request, note):
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
            "may_edit": access.can(
                request.user, Action.UPDATE, selectors.note_category(note.kind), note
            ),
            "history": selectors.note_history(note=note),
            "nav": _nav(request, note.patient, "notes"),
        },
    )


@login_required
@require_POST
@note_view
def note_entered_in_error(request, note):
    form = NoteErrorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Something was missing from the form; nothing was changed.")
        return redirect("notes", patient_uuid=note.patient.uuid)
    with pages.attempt(request) as result:
        services.note_mark_entered_in_error(
            actor=request.user, note=note, version=form.cleaned_data["version"]
        )
    if result.ok:
        messages.success(
            request, "Marked as entered in error. It stays in the record, struck through."
        )
    return redirect("notes", patient_uuid=note.patient.uuid)


# --- Summary -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.SUMMARY, Action.READ)
def summary_edit(request, patient):
    # The care team writes it: the patient is told they respond to it; a clinician who may
    # read it under a release, not write it, finds nothing, like any refusal (audited).
    services.summary_guard(request.user, patient)
    summary = selectors.summary_get(actor=request.user, patient=patient)

    def saved(summary):
        messages.success(request, "Summary saved.")
        return redirect("goals", patient_uuid=patient.uuid)

    return pages.versioned_edit(
        request,
        summary,
        form=lambda data: SummaryForm(
            data,
            initial={"text": summary.text, "version": summary.version}
            if summary
            else {"version": 0},
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


@login_required
@require_POST
@access.patient_view(Category.SUMMARY_RESPONSE, Action.READ)
def summary_respond(request, patient):
    form = SummaryResponseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Something was missing from the form; nothing was saved.")
        return redirect("goals", patient_uuid=patient.uuid)
    with pages.attempt(request, quiet=True) as result:
        services.summary_respond(
            actor=request.user,
            patient=patient,
            response=form.cleaned_data["response"],
            version=form.cleaned_data["version"],
        )
    if result.conflict is not None:
        # The summary as it is now, with what they wrote kept in the form to send again.
        context = _goals_context(request, patient)
        context["response_conflict"] = result.conflict
        context["response_draft"] = form.cleaned_data["response"]
        return render(request, "stories/goals.html", context, status=409)
    if result.ok:
        messages.success(request, "Thank you: your care team will see your response.")
    else:
        messages.error(request, result.message)
    return redirect("goals", patient_uuid=patient.uuid)


# --- Safety plan ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.SAFETY_PLAN, Action.READ)
def safety_plan(request, patient):
    """The patient's safety plan: the newest version, a form to write the next, the history."""
    versions = selectors.safety_plan_versions(actor=request.user, patient=patient)
    current = versions[0] if versions else None
    initial = {name: getattr(current, name) for name in SafetyPlanForm.HELP} if current else {}
    mine = access.is_self(request.user, patient)

    def reread():
        nonlocal versions
        versions = selectors.safety_plan_versions(actor=request.user, patient=patient)
        return versions[0] if versions else None

    def saved(plan):
        messages.success(
            request,
            "Safety plan saved. It is first on your “Need help now?” page."
            if mine
            else "Safety plan saved. The patient finds it first on their crisis help page.",
        )
        return redirect("safety_plan", patient_uuid=patient.uuid)

    return pages.versioned_edit(
        request,
        current,
        form=lambda data: SafetyPlanForm(
            data, initial={**initial, "version": current.version if current else 0}
        ),
        save=lambda data: services.safety_plan_save(
            actor=request.user,
            patient=patient,
            based_on=data["version"],
            sections={name: data.get(name, "") for name in SafetyPlanForm.HELP},
        ),
        success=saved,
        reread=reread,
        template="stories/safety_plan.html",
        context=lambda plan: {
            "patient": patient,
            "plan": plan,
            "versions": versions,
            "can_write": access.can(request.user, Action.CREATE, Category.SAFETY_PLAN, patient),
            "nav": _nav(request, patient, "goals"),
        },
    )


@login_required
@require_GET
@access.patient_view(Category.SAFETY_PLAN, Action.EXPORT)
def safety_plan_pdf(request, patient):
    """The safety plan on one printable page."""
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
