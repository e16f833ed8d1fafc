"""Reads of goals, notes and the summary, always scoped by core.access and audited."""

import copy

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from core import access, audit
from core.access import Action, Category
from core.models import AuditEvent

from . import scoring
from .models import Goal, GoalRating, GoalRevision, NarrativeNote, NoteRevision, PersonSummary


def goals_visible(*, actor) -> QuerySet:
    return access.records_visible(actor, Goal.objects.all(), Category.GOALS, Action.READ)


def goal_list(*, actor, patient, include_closed: bool = True) -> list[Goal]:
    """The patient's goals the actor may see, each with its ratings (oldest first); audited."""
    goals = (
        goals_visible(actor=actor)
        .filter(patient=patient)
        .select_related("author", "patient")
        .prefetch_related(Prefetch("ratings", queryset=_ratings_visible(actor)))
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
    return access.record_get(
        actor, Goal.objects.select_related("patient", "author"), goal_uuid, Category.GOALS, action
    )


def _ratings_visible(actor):
    """Ratings are records too: one written in another practice needs a release."""
    ratings = GoalRating.objects.select_related("author").order_by("rated_at", "id")
    return access.records_visible(actor, ratings, Category.GOALS, Action.READ)


def goal_card(*, actor, goal) -> Goal:
    """A goal the caller already has access to, fresh, with the ratings they may see."""
    return (
        Goal.objects.select_related("author", "patient")
        .prefetch_related(Prefetch("ratings", queryset=_ratings_visible(actor)))
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


def notes_visible(*, actor) -> QuerySet:
    """Notes the actor may read: their own, psychotherapy notes only if theirs, and others'
    narrative notes the policy opens, except those their author kept to themselves. A note
    written in another practice reaches a clinician only if its author marked it shareable
    under a release (and a release in force covers it)."""
    narrative = access.records_visible(
        actor,
        NarrativeNote.objects.exclude(kind=NarrativeNote.Kind.PSYCHOTHERAPY),
        Category.NARRATIVE_NOTES,
        Action.READ,
    ).filter(Q(author_id=actor.pk) | ~Q(audience=NarrativeNote.Audience.ONLY_ME))
    if actor.is_clinician:
        from_elsewhere = (
            Q(practice__isnull=False) & ~Q(practice_id=actor.practice_id) & ~Q(author_id=actor.pk)
        )
        narrative = narrative.exclude(from_elsewhere & ~Q(audience=NarrativeNote.Audience.RELEASE))
    own_process = access.records_visible(
        actor,
        NarrativeNote.objects.filter(kind=NarrativeNote.Kind.PSYCHOTHERAPY),
        Category.PSYCHOTHERAPY_NOTES,
        Action.READ,
    )
    return NarrativeNote.objects.filter(
        Q(pk__in=narrative.values("pk")) | Q(pk__in=own_process.values("pk"))
    )


def note_list(*, actor, patient, kind: str = "", author_uuid: str = "") -> list[NarrativeNote]:
    """The patient's notes the actor may read, newest first, filtered by kind and author; audited."""
    notes = notes_visible(actor=actor).filter(patient=patient).select_related("author", "practice")
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

    author_ids = notes_visible(actor=actor).filter(patient=patient).values("author_id")
    return list(User.objects.filter(pk__in=author_ids).order_by("full_name"))


def note_get(*, actor, note_uuid, action: Action = Action.READ) -> NarrativeNote:
    """One note the actor may read; not found alike for missing and hidden (audited)."""
    note = (
        notes_visible(actor=actor)
        .select_related("patient", "author")
        .filter(uuid=note_uuid)
        .first()
        if _is_uuid(note_uuid)
        else None
    )
    if note is None:
        hidden = (
            NarrativeNote.objects.select_related("patient").filter(uuid=note_uuid).first()
            if _is_uuid(note_uuid)
            else None
        )
        audit.record(
            actor=actor,
            patient=hidden.patient if hidden else None,
            category=Category.NARRATIVE_NOTES,
            action=action,
            outcome="denied",
            object_type="stories.NarrativeNote",
            object_id=str(note_uuid),
        )
        raise Http404("Not found.")
    from .services import note_category

    access.require_record(actor, action, note_category(note.kind), note)
    return note


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
    decision = access.decide_record(actor, Action.READ, Category.SUMMARY, summary)
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.SUMMARY,
        action=Action.READ,
        outcome=AuditEvent.Outcome.ALLOWED if decision else AuditEvent.Outcome.DENIED,
        obj=summary,
        via=decision.via,
    )
    if not decision:
        return None
    if summary.patient_response:
        response = access.decide(actor, Action.READ, Category.SUMMARY_RESPONSE, patient)
        audit.record(
            actor=actor,
            patient=patient,
            category=Category.SUMMARY_RESPONSE,
            action=Action.READ,
            outcome=AuditEvent.Outcome.ALLOWED if response else AuditEvent.Outcome.DENIED,
            obj=summary,
            via=response.via,
        )
        if not response:
            summary = copy.copy(summary)
            summary.patient_response = ""
            summary.patient_responded_at = None
    return summary


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
        access.records_visible(
            actor, SafetyPlan.objects.filter(patient=patient), Category.GOALS, Action.READ
        ).select_related("author")
    )
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.GOALS,
        action=Action.LIST,
        object_type="stories.SafetyPlan",
    )
    return plans


def safety_plan_current(*, actor, patient):
    """The newest version the actor may read, or None; audited as a read when there is one."""
    from .models import SafetyPlan

    plan = (
        access.records_visible(
            actor, SafetyPlan.objects.filter(patient=patient), Category.GOALS, Action.READ
        )
        .select_related("author")
        .order_by("-version")
        .first()
    )
    if plan is not None:
        audit.record(
            actor=actor, patient=patient, category=Category.GOALS, action=Action.READ, obj=plan
        )
    return plan
