"""Reads of goals, notes and the summary, always scoped by core.access and audited."""

import copy

from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404

from core import access, audit
from core.access import Action, Category

from . import scoring
from .models import Goal, GoalRating, GoalRevision, NarrativeNote, NoteRevision, PersonSummary

GOALS = Goal.objects.select_related("patient", "author")
# A goal's progress line shows its newest ratings, this many (stories' `sparkline` tag).
RATINGS_SHOWN = 12
# Notes by the door they are read through: a psychotherapy note is its own category.
NOTES = NarrativeNote.objects.select_related("patient", "author")


def note_category(kind: str) -> Category:
    return (
        Category.PSYCHOTHERAPY_NOTES
        if kind == NarrativeNote.Kind.PSYCHOTHERAPY
        else Category.NARRATIVE_NOTES
    )


def goals_visible(*, actor, patient=None) -> QuerySet:
    """Goals the actor may read (of one patient, when named: the cheaper filter)."""
    return access.visible(actor, Goal.objects.all(), Category.GOALS, Action.READ, patient=patient)


def goal_list(
    *, actor, patient, include_closed: bool = True, recent_ratings: int | None = None
) -> list[Goal]:
    """The patient's goals the actor may see, each with its ratings (oldest first); audited.
    `recent_ratings`: only each goal's newest ratings, this many (what a glance shows, the
    same cost however often the goals were rated)."""
    ratings = _ratings_visible(actor, patient)
    if recent_ratings is not None:
        ratings = ratings.annotate(
            newness=Window(
                RowNumber(),
                partition_by=[F("goal_id")],
                order_by=[F("rated_at").desc(), F("id").desc()],
            )
        ).filter(newness__lte=recent_ratings)
    goals = (
        goals_visible(actor=actor, patient=patient)
        .select_related("author", "patient")
        .prefetch_related(Prefetch("ratings", queryset=ratings))
        .order_by("-created_at")
    )
    if not include_closed:
        goals = goals.filter(
            status__in=[Goal.Status.PROPOSED, Goal.Status.ACTIVE, Goal.Status.ON_HOLD]
        )
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.GOALS,
        action=Action.LIST,
        object_type="stories.Goal",
    )
    return list(goals)


def goal_get(*, actor, goal_uuid, action: Action = Action.READ) -> Goal:
    """One goal, if the actor may do this to it; not found otherwise (audited either way)."""
    return access.get(actor, action, Category.GOALS, queryset=GOALS, uuid=goal_uuid)


def _ratings_visible(actor, patient=None):
    """Ratings are records too: one written in another practice needs a release."""
    ratings = GoalRating.objects.select_related("author").order_by("rated_at", "id")
    return access.visible(actor, ratings, Category.GOALS, Action.READ, patient=patient)


def goal_card(*, actor, goal) -> Goal:
    """A goal the caller already has access to, fresh, with the ratings they may see."""
    return (
        Goal.objects.select_related("author", "patient")
        .prefetch_related(Prefetch("ratings", queryset=_ratings_visible(actor, goal.patient)))
        .get(pk=goal.pk)
    )


def goal_history(*, goal) -> list[GoalRevision]:
    """Earlier versions of a goal the caller already has access to, newest first."""
    return list(goal.revisions.select_related("changed_by").order_by("-version"))


def gas_summary(goals: list[Goal]) -> float | None:
    """The T-score over the active goals' latest ratings (prefetched), or None."""
    latest = []
    for goal in goals:
        ratings = list(goal.ratings.all())
        if goal.status == Goal.Status.ACTIVE and ratings:
            latest.append(ratings[-1].rating)
    return scoring.gas_t_score(latest)


def notes_visible(*, actor, patient=None) -> QuerySet:
    """Notes the actor may read (of one patient, when named), as core.access decides for each
    note: its audience, another practice's only when shareable under a release, process notes
    their author's alone."""
    narrative = access.visible(
        actor,
        NarrativeNote.objects.exclude(kind=NarrativeNote.Kind.PSYCHOTHERAPY),
        Category.NARRATIVE_NOTES,
        Action.READ,
        patient=patient,
    )
    process = access.visible(
        actor,
        NarrativeNote.objects.filter(kind=NarrativeNote.Kind.PSYCHOTHERAPY),
        Category.PSYCHOTHERAPY_NOTES,
        Action.READ,
        patient=patient,
    )
    return NarrativeNote.objects.filter(
        Q(pk__in=narrative.values("pk")) | Q(pk__in=process.values("pk"))
    )


def note_list(*, actor, patient, kind: str = "", author_uuid: str = "") -> list[NarrativeNote]:
    """The patient's notes the actor may read, newest first, filtered by kind and author; audited."""
    notes = (
        notes_visible(actor=actor, patient=patient)
        .filter(patient=patient)
        .select_related("author", "practice")
    )
    if kind in NarrativeNote.Kind.values:
        notes = notes.filter(kind=kind)
    if author_uuid:
        notes = notes.filter(author__uuid=author_uuid) if _is_uuid(author_uuid) else notes.none()
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.NARRATIVE_NOTES,
        action=Action.LIST,
        object_type="stories.NarrativeNote",
    )
    return list(notes.order_by("-created_at", "-id"))


def note_authors(*, actor, patient) -> list:
    """The people whose notes about this patient the actor can read (for the filter)."""
    from core.models import User

    author_ids = notes_visible(actor=actor, patient=patient).filter(patient=patient)
    author_ids = author_ids.values("author_id")
    return list(User.objects.filter(pk__in=author_ids).order_by("full_name"))


def note_get(*, actor, note_uuid, action: Action = Action.READ) -> NarrativeNote:
    """One note the actor may do this to; not found alike for missing and hidden (audited)."""
    return access.get(
        actor,
        action,
        Category.NARRATIVE_NOTES,
        queryset=NOTES,
        uuid=note_uuid,
        category_of=lambda note: note_category(note.kind),
    )


def note_history(*, note) -> list[NoteRevision]:
    return list(note.revisions.select_related("changed_by").order_by("-version"))


def summary_get(*, actor, patient) -> PersonSummary | None:
    """The plain-language summary, if there is one the actor may read; audited either way.

    The patient's response to it is a category of its own: for a reader who may see the
    summary but not the response, the response is left out of what is returned (a copy for
    reading, never saved). None for a reader who may not see the summary."""
    summary = PersonSummary.objects.select_related("author", "patient").filter(patient=patient)
    summary = summary.first()
    if summary is None:
        return None
    if not _read(actor, Category.SUMMARY, summary, summary):
        return None
    if summary.patient_response:
        # The patient's words, not the summary's author's: judged for the patient.
        if not _read(actor, Category.SUMMARY_RESPONSE, patient, summary):
            summary = copy.copy(summary)
            summary.patient_response = ""
            summary.patient_responded_at = None
    return summary


def _read(actor, category: Category, target, obj) -> bool:
    """May the actor read this (the patient's, or this record), audited either way, the row
    naming `obj`? The summary has no uuid of its own to look it up by (`access.get`): the
    same decision, refusal and allowed row, through `guard` and its permit."""
    try:
        permit = access.guard(actor, Action.READ, category, target)
    except Http404:
        return False
    permit.done(obj)
    return True


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def safety_plan_versions(*, actor, patient) -> list:
    """Every version of the patient's safety plan the actor may read, newest first; audited."""
    from .models import SafetyPlan

    plans = list(
        access.visible(
            actor, SafetyPlan.objects.all(), Category.SAFETY_PLAN, Action.READ, patient=patient
        ).select_related("author")
    )
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.SAFETY_PLAN,
        action=Action.LIST,
        object_type="stories.SafetyPlan",
    )
    return plans


def safety_plan_current(*, actor, patient):
    """The newest version the actor may read, or None; audited as a read when there is one."""
    from .models import SafetyPlan

    plan = (
        access.visible(
            actor, SafetyPlan.objects.all(), Category.SAFETY_PLAN, Action.READ, patient=patient
        )
        .select_related("author")
        .order_by("-version")
        .first()
    )
    if plan is not None:
        audit.record(
            actor=actor,
            patient=patient,
            category=Category.SAFETY_PLAN,
            action=Action.READ,
            obj=plan,
        )
    return plan


def goal_attainment_for(*, actor, patients) -> dict:
    """Each patient's goal attainment T-score (`gas_summary` over their active goals' latest
    ratings the actor may see), keyed by patient id; None without a rated active goal.
    Audited as a list, one row per patient; two queries however many patients."""
    patients = list(patients)
    goals = (
        goals_visible(actor=actor)
        .filter(patient_id__in=[p.pk for p in patients], status=Goal.Status.ACTIVE)
        .only("id", "patient_id", "status")
        .prefetch_related(Prefetch("ratings", queryset=_ratings_visible(actor)))
    )
    by_patient: dict = {p.pk: [] for p in patients}
    for goal in goals:
        by_patient[goal.patient_id].append(goal)
    access.audit_listed(actor, patients, Category.GOALS, object_type="stories.Goal")
    return {pk: gas_summary(found) for pk, found in by_patient.items()}
