"""Every write to goals, ratings, notes and the person's summary.

Each service asks `access.guard` before it opens its transaction, so that a refusal's audit
row is never rolled back with it; then it locks what it changes, keeps the earlier version and,
once saved, writes the one allowed row naming what it wrote (`permit.done`). Stale edits (a
version that is no longer current) raise Conflict, change nothing and leave no allowed row.
Who may change what is core.access's (the tables and the record rules); what a record's state
allows (a goal entered in error, a proposal already accepted) is checked here.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from core import access, audit, resubmit
from core.access import Action, Category
from core.exceptions import Conflict, NotAllowed
from core.models import Patient

from .models import (
    GAS_MAX,
    GAS_MIN,
    Goal,
    GoalRating,
    GoalRevision,
    NarrativeNote,
    NoteRevision,
    PersonSummary,
    SafetyPlan,
    SummaryRevision,
    SummaryTerm,
)
from .selectors import note_category
from .terms import Found, Term, find_terms

LEVEL_FIELDS = ("level_minus2", "level_minus1", "level_0", "level_plus1", "level_plus2")


def goal_create(
    *,
    actor,
    patient,
    what: str,
    why: str = "",
    target_date: date | None = None,
    levels: dict | None = None,
) -> Goal:
    """A goal in the patient's words; a clinician's goal waits, proposed, for the patient to accept."""
    permit = access.guard(actor, Action.CREATE, Category.GOALS, patient)
    with transaction.atomic():
        goal = _goal_new(actor, patient, what, why, target_date, levels)
        earlier = resubmit.earlier_copy(
            goal,
            "what",
            "why",
            "target_date",
            *LEVEL_FIELDS,
            unless=Q(status__in=[Goal.Status.ENTERED_IN_ERROR, Goal.Status.LET_GO]),
        )
        if earlier is not None:
            return earlier
        goal.save()
        permit.done(goal)
    return goal


def _goal_new(actor, patient, what, why, target_date, levels) -> Goal:
    by_patient = access.is_self(actor, patient)
    goal = Goal(
        patient=patient,
        practice=access.writing_practice(actor),
        author=actor,
        proposed_by=Goal.ProposedBy.PATIENT if by_patient else Goal.ProposedBy.CLINICIAN,
        status=Goal.Status.ACTIVE if by_patient else Goal.Status.PROPOSED,
        what=(what or "").strip(),
        why=(why or "").strip(),
        target_date=target_date,
        **{field: (levels or {}).get(field, "").strip() for field in LEVEL_FIELDS},
    )
    goal.full_clean()
    return goal


def _lock_goal(goal: Goal, version: int | None) -> Goal:
    # Only the goal's row: locking the joined patient row too would block the audit rows of
    # every read of this patient, while this write waits for the audit chain they hold.
    locked = Goal.objects.select_for_update(of=("self",)).select_related("patient").get(pk=goal.pk)
    if version is not None and locked.version != version:
        raise Conflict(
            "This goal was changed by someone else while you were editing it. "
            "Nothing was overwritten: look at the current words, then make your change again."
        )
    return locked


def _snapshot(goal: Goal, actor) -> None:
    GoalRevision.objects.create(
        goal=goal,
        version=goal.version,
        what=goal.what,
        why=goal.why,
        status=goal.status,
        target_date=goal.target_date,
        levels=[text for _, text in goal.levels],
        changed_by=actor,
    )


def goal_update(
    *,
    actor,
    goal: Goal,
    version: int,
    what: str,
    why: str = "",
    target_date: date | None = None,
    levels: dict | None = None,
) -> Goal:
    """Change a goal's words. The patient may always; a clinician only their own proposal, until accepted."""
    permit = access.guard(actor, Action.UPDATE, Category.GOALS, goal)
    with transaction.atomic():
        goal = _goal_update(actor, goal, version, what, why, target_date, levels)
        permit.done(goal)
    return goal


def _goal_update(actor, goal, version, what, why, target_date, levels) -> Goal:
    goal = _lock_goal(goal, version)
    # Its proposer (the record rule let them through) only while the patient has not accepted it.
    if not access.is_self(actor, goal.patient) and goal.status != Goal.Status.PROPOSED:
        raise NotAllowed(
            "A goal is in the patient's own words: only the patient can change it once accepted."
        )
    if goal.status == Goal.Status.ENTERED_IN_ERROR:
        raise NotAllowed("This goal was marked entered in error and can no longer be changed.")
    _snapshot(goal, actor)
    goal.what = (what or "").strip()
    goal.why = (why or "").strip()
    goal.target_date = target_date
    for field in LEVEL_FIELDS:
        setattr(goal, field, (levels or {}).get(field, "").strip())
    goal.version += 1
    goal.updated_at = timezone.now()
    goal.full_clean()
    goal.save()
    return goal


def goal_transition(*, actor, goal: Goal, status: str, version: int | None = None) -> Goal:
    """Move a goal along its lifecycle. Accepting a proposed goal (answering the proposal) is
    the patient's alone."""
    accepting = goal.status == Goal.Status.PROPOSED and status == Goal.Status.ACTIVE
    permit = access.guard(
        actor, Action.ANSWER if accepting else Action.UPDATE, Category.GOALS, goal
    )
    with transaction.atomic():
        goal = _goal_transition(actor, goal, status, version)
        permit.done(goal)
    return goal


def _goal_transition(actor, goal, status, version) -> Goal:
    goal = _lock_goal(goal, version)
    if status not in Goal.Status.values:
        raise ValidationError({"status": "Unknown status."})
    if not goal.can_become(status):
        raise ValidationError(
            {
                "status": f"A goal that is {goal.get_status_display().lower()} cannot become {Goal.Status(status).label.lower()}."
            }
        )
    if not access.is_self(actor, goal.patient) and not _may_withdraw(actor, goal, status):
        if goal.status == Goal.Status.PROPOSED and status == Goal.Status.ACTIVE:
            raise NotAllowed("Only the patient can accept a proposed goal.")
        raise NotAllowed(
            "A goal is the patient's own: they decide where it stands. "
            "A clinician can only withdraw a proposal of theirs that was never accepted."
        )
    _snapshot(goal, actor)
    goal.status = status
    goal.version += 1
    goal.updated_at = timezone.now()
    goal.save(update_fields=["status", "version", "updated_at"])
    return goal


def transitions_for(actor, goal: Goal) -> list[tuple[str, str]]:
    """The status changes this person may make to this goal, with their button words."""
    if access.is_self(actor, goal.patient):
        return goal.next_statuses()
    return [
        (status, label)
        for status, label in goal.next_statuses()
        if _may_withdraw(actor, goal, status)
    ]


def _may_withdraw(actor, goal: Goal, status: str) -> bool:
    """A clinician may take back their own proposal while the patient has not accepted it."""
    if goal.author_id != actor.pk:
        return False
    if goal.status != Goal.Status.PROPOSED:
        return False
    return status in (Goal.Status.LET_GO, Goal.Status.ENTERED_IN_ERROR)


def _rating_value(rating) -> int:
    """A whole number from −2 to +2, from an int or its text. Raises ValidationError."""
    message = "Choose a rating from −2 to +2."
    if isinstance(rating, bool) or rating is None:
        raise ValidationError({"rating": message})
    if isinstance(rating, str):
        text = rating.strip().replace("−", "-").lstrip("+")
        if not text.lstrip("-").isdigit():
            raise ValidationError({"rating": message})
        rating = int(text)
    if not isinstance(rating, int):
        raise ValidationError({"rating": message})
    if not GAS_MIN <= rating <= GAS_MAX:
        raise ValidationError({"rating": message})
    return rating


def goal_rate(*, actor, goal: Goal, rating, note: str = "") -> GoalRating:
    """Record progress on an active or paused goal, −2 … +2."""
    permit = access.guard(actor, Action.CREATE, Category.GOALS, goal)
    result = GoalRating(
        goal=goal,
        patient=goal.patient,
        practice=access.writing_practice(actor),
        author=actor,
        rating=_rating_value(rating),
        note=(note or "").strip(),
    )
    result.full_clean()
    with transaction.atomic():
        earlier = resubmit.earlier_copy(result, "goal", "rating", "note", at="rated_at")
        if earlier is not None:
            return earlier
        goal = _lock_goal(goal, None)
        if goal.status not in (Goal.Status.ACTIVE, Goal.Status.ON_HOLD):
            raise ValidationError(
                {
                    "rating": f"Progress is rated on active goals; this one is {goal.get_status_display().lower()}."
                }
            )
        result.save()
        permit.done(result)
    return result


def note_create(
    *, actor, patient, kind: str, audience: str, body: str, title: str = ""
) -> NarrativeNote:
    """A story entry by the patient, or a clinician's note; process notes stay with their author."""
    if kind not in NarrativeNote.Kind.values:
        raise ValidationError({"kind": "Choose what kind of note this is."})
    permit = access.guard(actor, Action.CREATE, note_category(kind), patient)
    with transaction.atomic():
        note = _note_new(actor, patient, kind, audience, body, title)
        earlier = resubmit.earlier_copy(
            note,
            "kind",
            "audience",
            "title",
            "body",
            unless=Q(status=NarrativeNote.Status.ENTERED_IN_ERROR),
        )
        if earlier is not None:
            return earlier
        note.save()
        permit.done(note)
    return note


def _note_new(actor, patient, kind, audience, body, title) -> NarrativeNote:
    if access.is_self(actor, patient) and kind != NarrativeNote.Kind.STORY:
        raise ValidationError({"kind": "Your entries are your story."})
    if not access.is_self(actor, patient) and kind == NarrativeNote.Kind.STORY:
        raise ValidationError(
            {"kind": "Story entries are the patient's own; write a clinician's note."}
        )
    if kind == NarrativeNote.Kind.PSYCHOTHERAPY:
        audience = NarrativeNote.Audience.ONLY_ME
    note = NarrativeNote(
        patient=patient,
        practice=access.writing_practice(actor),
        author=actor,
        kind=kind,
        audience=audience,
        title=(title or "").strip(),
        body=(body or "").strip(),
    )
    note.full_clean()
    return note


def _lock_note(actor, note: NarrativeNote, version: int) -> NarrativeNote:
    """Call inside a transaction, after `access.guard` (only its author changes a note)."""
    locked = NarrativeNote.objects.select_for_update().get(pk=note.pk)
    if locked.status == NarrativeNote.Status.ENTERED_IN_ERROR:
        raise NotAllowed("This note was marked entered in error and can no longer be changed.")
    if locked.version != version:
        raise Conflict(
            "This note was changed elsewhere while you were editing it. "
            "Nothing was overwritten: your text is below; compare it with the current note and save again."
        )
    NoteRevision.objects.create(
        note=locked,
        version=locked.version,
        title=locked.title,
        body=locked.body,
        audience=locked.audience,
        status=locked.status,
        changed_by=actor,
    )
    return locked


def note_update(
    *,
    actor,
    note: NarrativeNote,
    version: int,
    body: str,
    title: str = "",
    audience: str | None = None,
) -> NarrativeNote:
    """Change one's own note; the earlier version is kept."""
    permit = access.guard(actor, Action.UPDATE, note_category(note.kind), note)
    with transaction.atomic():
        note = _note_update(actor, note, version, body, title, audience)
        permit.done(note)
    return note


def _note_update(actor, note, version, body, title, audience) -> NarrativeNote:
    note = _lock_note(actor, note, version)
    note.title = (title or "").strip()
    note.body = (body or "").strip()
    if audience is not None and note.kind != NarrativeNote.Kind.PSYCHOTHERAPY:
        note.audience = audience
    note.version += 1
    note.updated_at = timezone.now()
    note.full_clean()
    note.save()
    return note


def note_mark_entered_in_error(*, actor, note: NarrativeNote, version: int) -> NarrativeNote:
    """Notes are never deleted: their author marks them entered in error."""
    permit = access.guard(actor, Action.UPDATE, note_category(note.kind), note)
    with transaction.atomic():
        note = _note_mark_entered_in_error(actor, note, version)
        permit.done(note)
    return note


def _note_mark_entered_in_error(actor, note, version) -> NarrativeNote:
    note = _lock_note(actor, note, version)
    note.status = NarrativeNote.Status.ENTERED_IN_ERROR
    note.version += 1
    note.updated_at = timezone.now()
    note.save(update_fields=["status", "version", "updated_at"])
    return note


def _guard_saying(actor, action, category, patient, *, why: str, say: bool) -> access.Permit:
    """`access.guard`; a refusal (audited there) is explained in words (NotAllowed, `why`)
    when `say`: to someone who reads this part of the record, not found to anyone else."""
    try:
        return access.guard(actor, action, category, patient)
    except Http404:
        if say:
            raise NotAllowed(why) from None
        raise


def summary_guard(actor, patient) -> access.Permit:
    """May the actor write this patient's summary? The care team writes it (the tables say
    so); the patient is told they respond to it, anyone else finds nothing. Audited refusal."""
    return _guard_saying(
        actor,
        Action.UPDATE,
        Category.SUMMARY,
        patient,
        why="The care team writes this summary; you can respond to it.",
        say=access.is_self(actor, patient),
    )


class ClinicalTerms(ValidationError):
    """The summary uses terms from the clinic's list; nothing was saved. `found` names them,
    so the page and the API can show which, and the author can reword or save anyway."""

    def __init__(self, patient, found: list[Found]):
        self.found = found
        name = patient.preferred_name or patient.given_name
        words = ", ".join(f"“{hit.as_written}”" for hit in found)
        self.message = (
            f"This summary uses clinical terms or labels: {words}. {name} will read it. "
            f"Could you say it the way {name} would, so that {name} would recognize "
            "themselves in it? If these words are right here, save anyway."
        )
        super().__init__({"text": self.message})


def summary_terms() -> list[Term]:
    """The clinic's list of clinical terms and labels the summary warns about."""
    return [
        Term(t.text, t.match_case, t.instead)
        for t in SummaryTerm.objects.only("text", "match_case", "instead")
    ]


@transaction.atomic
def summary_terms_replace(*, terms: list[Term]) -> int:
    """Replace the whole list with `terms` (the clinic's own); returns how many there are.
    Raises ValidationError for an empty list or a term given twice."""
    if not terms:
        raise ValidationError("The list is empty: nothing was replaced.")
    keys = [t.text.lower() for t in terms]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValidationError(f"Given more than once: {', '.join(twice)}. Nothing was replaced.")
    SummaryTerm.objects.all().delete()
    rows = [SummaryTerm(text=t.text, match_case=t.match_case, instead=t.instead) for t in terms]
    for row in rows:
        row.full_clean(validate_unique=False)
    SummaryTerm.objects.bulk_create(rows)
    return len(rows)


def summary_term_add(*, actor, text: str, match_case: bool, instead: str = "") -> SummaryTerm:
    """A clinic-wide admin adds a term to the list the summary warns about. Audited. Raises
    Http404 (audited) for anyone else; ValidationError for an empty term or one listed."""
    if not access.runs_the_clinic(actor):
        access.refuse_clinic_settings(actor, Action.CREATE, "summary terms")
    text = " ".join((text or "").split())
    with transaction.atomic():
        if SummaryTerm.objects.filter(text__iexact=text).exists():
            raise ValidationError({"text": f"“{text}” is on the list already."})
        term = SummaryTerm(text=text, match_case=match_case, instead=(instead or "").strip())
        term.full_clean()
        term.save()
        audit.record(
            actor=actor,
            patient=None,
            category=Category.PRACTICE,
            action=Action.CREATE,
            object_type="stories.SummaryTerm",
            object_id=str(term.pk),
            via=f"clinic admin: summary term added: {text[:60]}",
        )
    return term


def summary_term_remove(*, actor, term_id: int) -> SummaryTerm:
    """A clinic-wide admin takes a term off the list (the summary stops warning about it).
    Audited with the term. Raises Http404 (audited) for anyone else or a term not listed."""
    if not access.runs_the_clinic(actor):
        access.refuse_clinic_settings(actor, Action.UPDATE, "summary terms")
    with transaction.atomic():
        term = SummaryTerm.objects.select_for_update().filter(pk=term_id).first()
        if term is None:
            raise Http404("Not found.")
        audit.record(
            actor=actor,
            patient=None,
            category=Category.PRACTICE,
            action=Action.UPDATE,
            object_type="stories.SummaryTerm",
            object_id=str(term.pk),
            via=f"clinic admin: summary term removed: {term.text[:60]}",
        )
        term.delete()
    return term


def summary_save(
    *, actor, patient, text: str, version: int | None, confirm_terms: bool = False
) -> PersonSummary:
    """Write or rewrite the plain-language summary (care team). `version` None means a new
    summary. Raises ClinicalTerms when it uses the clinic's listed terms, unless the author
    confirms them (`confirm_terms`): then they are kept, and recorded as kept."""
    permit = summary_guard(actor, patient)
    try:
        with transaction.atomic():
            summary = _summary_save(actor, patient, text, version, confirm_terms)
            permit.done(summary)
            return summary
    except IntegrityError:
        # Two people wrote the first summary at the same moment: the other one was first.
        raise Conflict(
            "Someone else wrote this summary a moment ago. Nothing was overwritten: read it, then edit."
        ) from None


def _summary_save(actor, patient, text, version, confirm_terms) -> PersonSummary:
    text = (text or "").strip()
    if not text:
        raise ValidationError(
            {"text": "Write a few plain words about who this person is and what matters to them."}
        )
    found = find_terms(text, summary_terms())
    if found and not confirm_terms:
        raise ClinicalTerms(patient, found)
    terms_kept = ", ".join(hit.term.text for hit in found)[:500]
    summary = PersonSummary.objects.select_for_update().filter(patient=patient).first()
    if summary is None:
        if version not in (None, 0):
            raise Conflict("This summary was removed or never existed. Nothing was saved.")
        summary = PersonSummary(patient=patient, author=actor, text=text, terms_kept=terms_kept)
        # One summary per patient is the database's to keep: a first summary written by someone
        # else a moment ago raises IntegrityError on save, which summary_save makes a Conflict.
        summary.full_clean(validate_unique=False)
        summary.save()
        return summary
    if version != summary.version:
        raise Conflict(
            "Someone else changed this summary while you were editing it. "
            "Nothing was overwritten: read the current summary, then make your change again."
        )
    SummaryRevision.objects.create(
        summary=summary,
        version=summary.version,
        text=summary.text,
        patient_response=summary.patient_response,
        terms_kept=summary.terms_kept,
        changed_by=actor,
    )
    summary.text = text
    summary.terms_kept = terms_kept
    summary.author = actor
    summary.version += 1
    summary.updated_at = timezone.now()
    summary.full_clean()
    summary.save()
    return summary


def summary_respond(*, actor, patient, response: str, version: int) -> PersonSummary:
    """The patient's answer to how the care team describes them."""
    # Their clinicians read the response; only the patient writes it. Said plainly.
    permit = _guard_saying(
        actor,
        Action.UPDATE,
        Category.SUMMARY_RESPONSE,
        patient,
        why="Only the patient can respond to their summary.",
        say=access.can(actor, Action.READ, Category.SUMMARY_RESPONSE, patient),
    )
    with transaction.atomic():
        summary = _summary_respond(actor, patient, response, version)
        permit.done(summary)
    return summary


def _summary_respond(actor, patient, response, version) -> PersonSummary:
    summary = PersonSummary.objects.select_for_update().filter(patient=patient).first()
    if summary is None:
        raise ValidationError({"response": "There is no summary to respond to yet."})
    if version != summary.version:
        raise Conflict(
            "The summary changed while you were writing. Nothing was saved: read it again, then respond."
        )
    SummaryRevision.objects.create(
        summary=summary,
        version=summary.version,
        text=summary.text,
        patient_response=summary.patient_response,
        changed_by=actor,
    )
    summary.patient_response = (response or "").strip()
    summary.patient_responded_at = timezone.now()
    summary.version += 1
    summary.save(update_fields=["patient_response", "patient_responded_at", "version"])
    return summary


def safety_plan_save(*, actor, patient, based_on: int, sections: dict) -> SafetyPlan:
    """A new version of the patient's safety plan, by the patient or a clinician of their care
    team (with them). `based_on` is the version the writer started from (0 for none): if a
    newer one exists, raises Conflict and saves nothing. ValidationError for an empty plan."""
    permit = access.guard(actor, Action.CREATE, Category.SAFETY_PLAN, patient)
    fields = {name: (sections.get(name) or "").strip() for name, _label in SafetyPlan.SECTIONS}
    with transaction.atomic():
        # The patient's row serialises two writers of the same plan.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        current = SafetyPlan.objects.filter(patient=patient).order_by("-version").first()
        current_version = current.version if current else 0
        if based_on != current_version:
            raise Conflict(
                "Someone saved a newer version of this plan while you were writing. "
                "Nothing was overwritten: your words are below, beside theirs."
            )
        if current is not None and all(getattr(current, k) == v for k, v in fields.items()):
            return current
        plan = SafetyPlan(
            patient=patient, practice=None, author=actor, version=current_version + 1, **fields
        )
        plan.full_clean()
        plan.save()
        permit.done(plan)
    return plan
