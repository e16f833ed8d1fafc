"""Every write to medication plans: decisions, observations, prescriptions, fills, refill requests.

A medication changes only through a decision, which keeps before and after. Each service
checks access (audited) before opening its transaction, so a refusal's audit row stays.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from core import access, audit, nudges, resubmit
from core import services as core_services
from core.access import Action, Category
from core.dates import us_date
from core.exceptions import Conflict, NotAllowed
from stories import selectors as stories_selectors

from . import coding, doses, review, selectors, supply
from .models import (
    DecisionRecord,
    Fill,
    Medication,
    Observation,
    Prescription,
    RefillRequest,
    SupplyPolicy,
)

CLINICAL_FIELDS = (
    "drug_name",
    "rxnorm_code",
    "strength",
    "form",
    "route",
    "dose",
    "directions",
    "schedule",
)
PURPOSE_FIELDS = ("purpose", "hopes", "worries", "concerns")
SNAPSHOT_FIELDS = (*CLINICAL_FIELDS, *PURPOSE_FIELDS, "status", "start_date", "stop_date")


def _snapshot(medication: Medication) -> dict:
    data = {field: getattr(medication, field) for field in SNAPSHOT_FIELDS}
    for key in ("start_date", "stop_date"):
        data[key] = data[key].isoformat() if data[key] else None
    if medication.pk:
        data["goals"] = sorted(str(u) for u in medication.goals.values_list("uuid", flat=True))
    return data


PRESCRIBERS_ONLY = "Only a prescriber can make this decision."


def _may_prescribe(actor, target) -> access.Permit:
    """The one check before a prescribing write (start, change, stop, prescription, fill, a
    refill's answer): may the actor prescribe for this patient, or change this medication?
    Refused, audited, not found; but the patient, who may word what the medicine is for, is
    told why."""
    try:
        return access.guard(actor, Action.PRESCRIBE, Category.MEDICATIONS, target)
    except Http404:
        if isinstance(target, Medication) and access.can(
            actor, Action.UPDATE, Category.PURPOSE, target
        ):
            raise NotAllowed(PRESCRIBERS_ONLY) from None
        raise


def _goals_for(actor, patient, goal_uuids) -> list:
    """The patient's goals named, each of which the actor may see. Raises ValidationError."""
    if not goal_uuids:
        return []
    wanted = {str(u) for u in goal_uuids}
    goals = [
        g
        for g in stories_selectors.goals_visible(actor=actor, patient=patient)
        if str(g.uuid) in wanted
    ]
    if len(goals) != len(wanted):
        raise ValidationError({"goals": "Choose goals from this patient's own goals."})
    return goals


@dataclass(frozen=True)
class WhoseNeed:
    """A decision's answer to "which of the patient's goals does this serve, and whose need is
    driving it?": checked, ready to record."""

    goals: list = field(default_factory=list)
    no_goal_reason: str = ""
    needs: list = field(default_factory=list)
    need_reflection: str = ""


NOT_ASKED = WhoseNeed()
ASKABLE_NEEDS = [n for n in DecisionRecord.Need.values if n != DecisionRecord.Need.NOT_RECORDED]


def _whose_need(
    *,
    actor,
    patient,
    goal_uuids=None,
    serves_no_goal: bool = False,
    no_goal_reason: str = "",
    needs=None,
    need_reflection: str = "",
) -> WhoseNeed:
    """Check the answer a start, restart, dose increase or switch must give: at least one of
    the patient's open goals, or "none of the patient's goals" with why; at least one need
    driving it; a one-line reflection. Raises ValidationError naming each missing part."""
    problems = {}
    goals = _goals_for(actor, patient, goal_uuids)
    if any(not g.is_open for g in goals):
        problems["goals"] = "Choose from the patient's open goals."
    no_goal_reason = (no_goal_reason or "").strip()
    if serves_no_goal and goals:
        problems["goals"] = (
            "Choose the goals it serves, or “none of the patient's goals”, not both."
        )
    elif serves_no_goal and not no_goal_reason:
        problems["no_goal_reason"] = (
            "Say why it serves none of the patient's goals: the explanation is part of the record."
        )
    elif not serves_no_goal and not goals:
        problems["goals"] = (
            "Choose which of the patient's goals this serves, or “none of the patient's goals” "
            "and say why."
        )
    needs = list(dict.fromkeys(needs or []))
    if not needs:
        problems["needs"] = "Say whose need is driving this decision."
    elif set(needs) - set(ASKABLE_NEEDS):
        problems["needs"] = "Choose whose need from the list."
    need_reflection = (need_reflection or "").strip()
    if not need_reflection:
        problems["need_reflection"] = "Add a one-line reflection on whose need this serves."
    if problems:
        raise ValidationError(problems)
    return WhoseNeed(
        goals=goals,
        no_goal_reason=no_goal_reason if serves_no_goal else "",
        needs=needs,
        need_reflection=need_reflection,
    )


def _decision(
    *,
    actor,
    medication,
    kind,
    before,
    reason,
    patient_preference="",
    decided_together=False,
    participants="",
    decided_on=None,
    warnings_confirmed=(),
    warning_reason="",
    whose_need: WhoseNeed = NOT_ASKED,
    review_outcome: str = "",
    review_flags=(),
    review_until=None,
):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why: the reason is part of the record."})
    # A decision made at a visit may be entered later: decided_on is the day it was made,
    # created_at stays the moment it was written down.
    decided_on = decided_on or timezone.localdate()
    if decided_on > timezone.localdate():
        raise ValidationError({"decided_on": "A decision cannot be dated in the future."})
    record = DecisionRecord(
        decided_on=decided_on,
        medication=medication,
        patient=medication.patient,
        practice=access.writing_practice(actor),
        author=actor,
        kind=kind,
        before=before,
        after=_snapshot(medication),
        reason=reason,
        patient_preference=(patient_preference or "").strip(),
        decided_together=bool(decided_together),
        participants=(participants or "").strip(),
        warnings_confirmed=list(warnings_confirmed),
        warning_reason=(warning_reason or "").strip(),
        no_goal_reason=whose_need.no_goal_reason,
        needs=list(whose_need.needs),
        need_reflection=whose_need.need_reflection,
        review_outcome=review_outcome,
        review_flags=list(review_flags),
        review_until=review_until,
    )
    record.full_clean()
    record.save()
    if whose_need.goals:
        record.goals.set(whose_need.goals)
    return record


def medication_start(
    *,
    actor,
    patient,
    drug_name: str,
    strength: str,
    form: str,
    dose: str,
    directions: str,
    reason: str,
    route: str = "by mouth",
    schedule: str | None = None,
    formulary_code: str = "",
    not_coded: bool = False,
    purpose: str = "",
    hopes: str = "",
    worries: str = "",
    concerns: list | None = None,
    goal_uuids: list | None = None,
    serves_no_goal: bool = False,
    no_goal_reason: str = "",
    needs: list | None = None,
    need_reflection: str = "",
    patient_preference: str = "",
    decided_together: bool = False,
    participants: str = "",
    proposed: bool = False,
    start_date: date | None = None,
    decided_on: date | None = None,
    confirm_warnings: list | None = None,
    warning_reason: str = "",
) -> Medication:
    """Add a medication to the plan, with the decision that started (or proposed) it.

    A formulary medicine (by RxNorm `formulary_code` or name) takes its schedule from the
    formulary; free text needs `not_coded` and a schedule. The goals it serves (or none, with
    why), whose need drives it and a reflection are asked, as for every start. Raises
    coding.WarningsToConfirm while a duplicate or combination rule is unconfirmed (nothing
    saved), ValidationError.
    """
    permit = _may_prescribe(actor, patient)
    # Everything wrong with the form said at once: the medicine, and whose need it serves.
    problems: dict = {}
    try:
        whose_need = _whose_need(
            actor=actor,
            patient=patient,
            goal_uuids=goal_uuids,
            serves_no_goal=serves_no_goal,
            no_goal_reason=no_goal_reason,
            needs=needs,
            need_reflection=need_reflection,
        )
    except ValidationError as exc:
        problems = exc.update_error_dict(problems)
    if set(concerns or []) - set(Medication.Concern.values):
        problems.setdefault("concerns", []).append("Choose concerns from the list.")
    try:
        coded = coding.resolve(
            drug_name=drug_name,
            formulary_code=formulary_code,
            not_coded=not_coded,
            schedule=schedule,
        )
    except ValidationError as exc:
        problems = exc.update_error_dict(problems)
    if problems:
        raise ValidationError(problems)
    goals = whose_need.goals
    with transaction.atomic():
        medication = Medication(
            patient=patient,
            practice=actor.practice,
            author=actor,
            prescriber=actor,
            drug_name=coded.drug_name,
            rxnorm_code=coded.rxnorm_code,
            formulary=coded.entry,
            strength=(strength or "").strip(),
            form=(form or "").strip(),
            route=(route or "").strip() or "by mouth",
            dose=(dose or "").strip(),
            directions=(directions or "").strip(),
            schedule=coded.schedule,
            purpose=(purpose or "").strip(),
            hopes=(hopes or "").strip(),
            worries=(worries or "").strip(),
            concerns=list(concerns or []),
            status=Medication.Status.PROPOSED if proposed else Medication.Status.ACTIVE,
            start_date=None if proposed else (start_date or timezone.localdate()),
        )
        medication.full_clean()
        earlier = resubmit.earlier_copy(medication, *CLINICAL_FIELDS, "status")
        if earlier is not None:
            return earlier
        # After earlier_copy, which holds the patient's row: two starts at once see each other.
        confirmed, warning_reason = coding.check(
            actor=actor,
            patient=patient,
            coded=coded,
            confirm_warnings=confirm_warnings,
            warning_reason=warning_reason,
        )
        medication.save()
        medication.goals.set(goals)
        _decision(
            actor=actor,
            medication=medication,
            kind=DecisionRecord.Kind.START,
            before={},
            reason=reason,
            patient_preference=patient_preference,
            decided_together=decided_together,
            participants=participants,
            decided_on=decided_on,
            warnings_confirmed=confirmed,
            warning_reason=warning_reason,
            whose_need=whose_need,
        )
        permit.done(medication, action=Action.CREATE)
    return medication


def _refresh_supply(medication: Medication) -> None:
    """Store the supply dates the reminder sweeps read. Call inside the write's transaction."""
    fresh = Medication.objects.select_related("practice").get(pk=medication.pk)
    status = selectors.supply_status_for(medication=fresh, on=timezone.localdate())
    Medication.objects.filter(pk=medication.pk).update(
        run_out_on=status.run_out,
        refill_needed_by=status.needed_by,
        refills_left=status.refills_left,
        fill_valid_until=status.valid_until,
    )


def _lock(medication: Medication, version: int | None) -> Medication:
    # Only the medication's row: locking the joined patient row too would block the audit rows
    # of every read of this patient, while this write waits for the audit chain they hold.
    locked = (
        Medication.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=medication.pk)
    )
    if version is not None and locked.version != version:
        raise Conflict(
            "This medication was changed by someone else while you were deciding. "
            "Nothing was changed: look at the plan as it is now, then record your decision again."
        )
    return locked


def medication_change_dose(
    *,
    actor,
    medication: Medication,
    version: int,
    reason: str,
    strength: str | None = None,
    dose: str | None = None,
    directions: str | None = None,
    patient_preference: str = "",
    decided_together: bool = False,
    participants: str = "",
    decided_on: date | None = None,
    goal_uuids: list | None = None,
    serves_no_goal: bool = False,
    no_goal_reason: str = "",
    needs: list | None = None,
    need_reflection: str = "",
) -> DecisionRecord:
    """A dose change, recorded as a decision with before and after. An increase (or a change
    whose amounts cannot be read) names the goals it serves and whose need drives it, as a
    start does; a decrease does not. Raises ValidationError, Conflict."""
    permit = _may_prescribe(actor, medication)
    with transaction.atomic():
        locked = _lock(medication, version)
        if locked.status == Medication.Status.STOPPED:
            raise ValidationError(
                {"status": "This medication is stopped: restart it before changing the dose."}
            )
        before = _snapshot(locked)
        new = {"strength": strength, "dose": dose, "directions": directions}
        changed = False
        for field, value in new.items():
            if value is not None and value.strip() and value.strip() != getattr(locked, field):
                setattr(locked, field, value.strip())
                changed = True
        if not changed:
            raise ValidationError(
                {"dose": "Nothing changed: enter the new strength, dose or directions."}
            )
        whose_need = NOT_ASKED
        if review.asks_whose_need(DecisionRecord.Kind.DOSE_CHANGE, before, _snapshot(locked)):
            whose_need = _whose_need(
                actor=actor,
                patient=locked.patient,
                goal_uuids=goal_uuids,
                serves_no_goal=serves_no_goal,
                no_goal_reason=no_goal_reason,
                needs=needs,
                need_reflection=need_reflection,
            )
        locked.version += 1
        locked.full_clean()
        locked.save()
        record = _decision(
            actor=actor,
            medication=locked,
            kind=DecisionRecord.Kind.DOSE_CHANGE,
            decided_on=decided_on,
            before=before,
            reason=reason,
            patient_preference=patient_preference,
            decided_together=decided_together,
            participants=participants,
            whose_need=whose_need,
        )
        # A new daily amount moves the run-out of the supply on hand, and so the nudges.
        _refresh_supply(locked)
        permit.done(locked, action=Action.UPDATE)
        return record


def medication_set_status(
    *,
    actor,
    medication: Medication,
    version: int,
    status: str,
    reason: str,
    patient_preference: str = "",
    decided_together: bool = False,
    participants: str = "",
    confirm_warnings: list | None = None,
    warning_reason: str = "",
    goal_uuids: list | None = None,
    serves_no_goal: bool = False,
    no_goal_reason: str = "",
    needs: list | None = None,
    need_reflection: str = "",
    review_flags: list | None = None,
) -> DecisionRecord:
    """Start a proposed medication, pause, stop or restart it: a decision each time. A start
    or restart names the goals it serves and whose need drives it. `review_flags` (from
    `medication_review`) marks a stop as a deprescribing review's answer.

    Starting or restarting is checked against the rest of the plan as a new start is: raises
    coding.WarningsToConfirm while a rule is unconfirmed (nothing saved).
    """
    permit = _may_prescribe(actor, medication)
    with transaction.atomic():
        if status == Medication.Status.ACTIVE:
            # The patient's row before the medication's, as a start and a switch take them.
            resubmit.hold(medication.patient_id)
        locked = _lock(medication, version)
        if not locked.can_become(status):
            raise ValidationError(
                {
                    "status": f"This medication is {locked.get_status_display().lower()}: it cannot be changed to "
                    f"{Medication.Status(status).label.lower() if status in Medication.Status.values else status}."
                }
            )
        kind = Medication.TRANSITIONS[locked.status][status]
        whose_need = NOT_ASKED
        if review.asks_whose_need(kind):
            whose_need = _whose_need(
                actor=actor,
                patient=locked.patient,
                goal_uuids=goal_uuids,
                serves_no_goal=serves_no_goal,
                no_goal_reason=no_goal_reason,
                needs=needs,
                need_reflection=need_reflection,
            )
        confirmed, confirmed_reason = [], ""
        if status == Medication.Status.ACTIVE:
            confirmed, confirmed_reason = coding.check(
                actor=actor,
                patient=locked.patient,
                coded=coding.coded_of(locked),
                excluding=locked,
                confirm_warnings=confirm_warnings,
                warning_reason=warning_reason,
            )
        before = _snapshot(locked)
        locked.status = status
        today = timezone.localdate()
        if status == Medication.Status.STOPPED:
            locked.stop_date = max(today, locked.start_date) if locked.start_date else today
        if status == Medication.Status.ACTIVE:
            locked.stop_date = None
            locked.start_date = (
                locked.start_date if kind == "restart" and locked.start_date else today
            )
        locked.version += 1
        locked.full_clean()
        locked.save()
        _refresh_supply(locked)
        record = _decision(
            actor=actor,
            medication=locked,
            kind=kind,
            before=before,
            reason=reason,
            patient_preference=patient_preference,
            decided_together=decided_together,
            participants=participants,
            warnings_confirmed=confirmed,
            warning_reason=confirmed_reason,
            whose_need=whose_need,
            review_outcome=DecisionRecord.Review.STOP if review_flags is not None else "",
            review_flags=review_flags or (),
        )
        permit.done(locked, action=Action.UPDATE)
        return record


DOSE_CHANGE = "dose_change"


def medication_decide(
    *,
    actor,
    medication: Medication,
    kind: str,
    version: int,
    reason: str,
    strength: str | None = None,
    dose: str | None = None,
    directions: str | None = None,
    patient_preference: str = "",
    decided_together: bool = False,
    participants: str = "",
    confirm_warnings: list | None = None,
    warning_reason: str = "",
    goal_uuids: list | None = None,
    serves_no_goal: bool = False,
    no_goal_reason: str = "",
    needs: list | None = None,
    need_reflection: str = "",
) -> DecisionRecord:
    """Record a decision on a medication, as the plan's page, the visit screen and the API
    all send one: `kind` "dose_change" changes the dose, any status (active, paused, stopped)
    starts, pauses, stops or restarts it. Raises as those do."""
    common = {
        "actor": actor,
        "medication": medication,
        "version": version,
        "reason": reason,
        "patient_preference": patient_preference,
        "decided_together": decided_together,
        "participants": participants,
        "goal_uuids": goal_uuids,
        "serves_no_goal": serves_no_goal,
        "no_goal_reason": no_goal_reason,
        "needs": needs,
        "need_reflection": need_reflection,
    }
    if kind == DOSE_CHANGE:
        return medication_change_dose(strength=strength, dose=dose, directions=directions, **common)
    return medication_set_status(
        status=kind, confirm_warnings=confirm_warnings, warning_reason=warning_reason, **common
    )


def medication_review(
    *,
    actor,
    medication: Medication,
    version: int,
    outcome: str,
    reason: str = "",
    review_until: date | None = None,
    strength: str | None = None,
    dose: str | None = None,
    directions: str | None = None,
    patient_preference: str = "",
    decided_together: bool = False,
    participants: str = "",
) -> DecisionRecord:
    """A deprescribing review's answer, recorded as a decision that names the flags it
    answered: continue (the reason says why), taper (the plan in the reason, and the first
    lower dose if given), stop (the medicine stops), or review later on `review_until` (after
    today, at most `review.SNOOZE_MAX_DAYS` ahead). Raises ValidationError, Conflict."""
    permit = _may_prescribe(actor, medication)
    today = timezone.localdate()
    Review = DecisionRecord.Review
    if outcome not in Review.values:
        raise ValidationError({"outcome": "Choose continue, taper, stop or review later."})
    state = selectors.review_state_for(actor=actor, medication=medication, on=today)
    flags = [f.key for f in state.raised]
    reason = (reason or "").strip()
    if outcome == Review.STOP:
        return medication_set_status(
            actor=actor,
            medication=medication,
            version=version,
            status=Medication.Status.STOPPED,
            reason=reason,
            patient_preference=patient_preference,
            decided_together=decided_together,
            participants=participants,
            review_flags=flags,
        )
    if outcome == Review.SNOOZE:
        latest = today + timedelta(days=review.SNOOZE_MAX_DAYS)
        if review_until is None:
            raise ValidationError({"review_until": "Choose the day to review it again."})
        if review_until <= today:
            raise ValidationError({"review_until": "Choose a day after today."})
        if review_until > latest:
            raise ValidationError(
                {"review_until": f"A review can wait at most six months: by {us_date(latest)}."}
            )
        reason = reason or f"To review again on {us_date(review_until)}."
    else:
        review_until = None
    if outcome == Review.CONTINUE and not reason:
        raise ValidationError({"reason": "Say why it continues: the reason is part of the record."})
    if outcome == Review.TAPER and not reason:
        raise ValidationError({"reason": "Write the taper plan: how much less, and how fast."})
    with transaction.atomic():
        locked = _lock(medication, version)
        if not locked.is_current or locked.status == Medication.Status.PROPOSED:
            raise ValidationError({"outcome": "Only a medicine being taken is reviewed."})
        before = _snapshot(locked)
        changed = False
        if outcome == Review.TAPER:
            new = {"strength": strength, "dose": dose, "directions": directions}
            for name, value in new.items():
                if value is not None and value.strip() and value.strip() != getattr(locked, name):
                    setattr(locked, name, value.strip())
                    changed = True
            old_amount, new_amount = doses.daily_amounts(before, _snapshot(locked))
            if changed and None not in (old_amount, new_amount) and new_amount >= old_amount:
                raise ValidationError({"dose": "A taper lowers the dose: enter a smaller one."})
        locked.version += 1
        locked.full_clean()
        locked.save()
        record = _decision(
            actor=actor,
            medication=locked,
            kind=DecisionRecord.Kind.REVIEW,
            before=before,
            reason=reason,
            patient_preference=patient_preference,
            decided_together=decided_together,
            participants=participants,
            review_outcome=outcome,
            review_flags=flags,
            review_until=review_until,
        )
        if changed:
            _refresh_supply(locked)
        permit.done(locked, action=Action.UPDATE)
        return record


def medication_switch(
    *,
    actor,
    medication: Medication,
    version: int,
    reason: str,
    drug_name: str,
    strength: str,
    form: str,
    dose: str,
    directions: str,
    route: str = "by mouth",
    schedule: str | None = None,
    formulary_code: str = "",
    not_coded: bool = False,
    patient_preference: str = "",
    decided_together: bool = False,
    participants: str = "",
    confirm_warnings: list | None = None,
    warning_reason: str = "",
    goal_uuids: list | None = None,
    serves_no_goal: bool = False,
    no_goal_reason: str = "",
    needs: list | None = None,
    need_reflection: str = "",
) -> Medication:
    """Stop one medication and start another in its place; the purpose and goals carry over.

    The new medicine is coded and checked as in medication_start (raises the same); the switch
    names the goals it serves and whose need drives it, recorded on both decisions.
    """
    permit = _may_prescribe(actor, medication)
    whose_need = _whose_need(
        actor=actor,
        patient=medication.patient,
        goal_uuids=goal_uuids,
        serves_no_goal=serves_no_goal,
        no_goal_reason=no_goal_reason,
        needs=needs,
        need_reflection=need_reflection,
    )
    coded = coding.resolve(
        drug_name=drug_name, formulary_code=formulary_code, not_coded=not_coded, schedule=schedule
    )
    with transaction.atomic():
        # The patient's row before the medication's, in the order prescription_write takes them.
        resubmit.hold(medication.patient_id)
        old = _lock(medication, version)
        if old.status == Medication.Status.STOPPED:
            raise ValidationError({"status": "This medication is already stopped."})
        confirmed, warning_reason = coding.check(
            actor=actor,
            patient=old.patient,
            coded=coded,
            excluding=old,
            confirm_warnings=confirm_warnings,
            warning_reason=warning_reason,
        )
        new = Medication(
            patient=old.patient,
            practice=actor.practice,
            author=actor,
            prescriber=actor,
            drug_name=coded.drug_name,
            rxnorm_code=coded.rxnorm_code,
            formulary=coded.entry,
            strength=(strength or "").strip(),
            form=(form or "").strip(),
            route=(route or "").strip() or "by mouth",
            dose=(dose or "").strip(),
            directions=(directions or "").strip(),
            schedule=coded.schedule,
            purpose=old.purpose,
            hopes=old.hopes,
            worries=old.worries,
            concerns=old.concerns,
            switched_from=old,
            start_date=timezone.localdate(),
        )
        new.full_clean()
        new.save()
        new.goals.set(old.goals.all())
        before = _snapshot(old)
        old.status = Medication.Status.STOPPED
        old.stop_date = timezone.localdate()
        old.version += 1
        old.save()
        common = {
            "reason": reason,
            "patient_preference": patient_preference,
            "decided_together": decided_together,
            "participants": participants,
            "warnings_confirmed": confirmed,
            "warning_reason": warning_reason,
            "whose_need": whose_need,
        }
        _decision(
            actor=actor, medication=old, kind=DecisionRecord.Kind.SWITCH, before=before, **common
        )
        _decision(actor=actor, medication=new, kind=DecisionRecord.Kind.START, before={}, **common)
        # One row for the switch, naming the medicine that now stands (switched_from: the old).
        permit.done(new, action=Action.CREATE)
    return new


def medication_set_purpose(
    *,
    actor,
    medication: Medication,
    version: int,
    purpose: str,
    hopes: str = "",
    worries: str = "",
    concerns: list | None = None,
    goal_uuids: list | None = None,
    reason: str = "",
) -> DecisionRecord:
    """What the medicine is for, in the patient's words, and the goals it serves.

    The patient may write this themselves; a prescriber records it with them.
    """
    permit = access.guard(actor, Action.UPDATE, Category.PURPOSE, medication)
    goals = _goals_for(actor, medication.patient, goal_uuids)
    unknown = set(concerns or []) - set(Medication.Concern.values)
    if unknown:
        raise ValidationError({"concerns": "Choose concerns from the list."})
    with transaction.atomic():
        locked = _lock(medication, version)
        before = _snapshot(locked)
        locked.purpose = (purpose or "").strip()
        locked.hopes = (hopes or "").strip()
        locked.worries = (worries or "").strip()
        locked.concerns = list(concerns or [])
        locked.version += 1
        locked.full_clean()
        locked.save()
        # Links to goals this person cannot see (written in another practice) stay as they were.
        visible = set(
            stories_selectors.goals_visible(actor=actor, patient=locked.patient).values_list(
                "pk", flat=True
            )
        )
        unseen = [g for g in locked.goals.all() if g.pk not in visible]
        locked.goals.set(unseen + goals)
        by_patient = access.is_self(actor, locked.patient)
        record = _decision(
            actor=actor,
            medication=locked,
            kind=DecisionRecord.Kind.PURPOSE,
            before=before,
            reason=(reason or "").strip()
            or ("In my own words." if by_patient else "Recorded with the patient."),
            # The patient's own entry: not a clinical decision, so never "decided together".
            decided_together=False,
        )
        permit.done(locked)
        return record


def observation_create(
    *,
    actor,
    medication: Medication,
    kind: str,
    text: str,
    severity: str = "none",
    observed_on: date | None = None,
) -> Observation:
    """A response, side effect, adherence note or question about one medication (one the
    actor was shown: callers take it from a door, `access.get`)."""
    permit = access.guard(actor, Action.CREATE, Category.OBSERVATIONS, medication.patient)
    observed_on = observed_on or timezone.localdate()
    if observed_on > timezone.localdate():
        raise ValidationError({"observed_on": "An observation cannot be dated in the future."})
    with transaction.atomic():
        observation = Observation(
            medication=medication,
            patient=medication.patient,
            practice=access.writing_practice(actor),
            author=actor,
            kind=kind,
            severity=severity or Observation.Severity.NONE,
            text=(text or "").strip(),
            observed_on=observed_on,
        )
        observation.full_clean()
        earlier = resubmit.earlier_copy(
            observation, "medication", "kind", "severity", "text", "observed_on"
        )
        if earlier is not None:
            return earlier
        observation.save()
        permit.done(observation)
    return observation


def prescription_write(
    *,
    actor,
    medication: Medication,
    quantity: int,
    days_supply: int,
    refills_authorised: int = 0,
    written_on: date | None = None,
    earliest_fill_on: date | None = None,
) -> Prescription:
    """A new prescription for a medication, within federal and state limits.

    Schedule II: several may be written on one day for up to 90 days in all, each after the
    first with its earliest-fill date.
    """
    permit = _may_prescribe(actor, medication)
    return _write_prescription(
        permit,
        medication=medication,
        quantity=quantity,
        days_supply=days_supply,
        refills_authorised=refills_authorised,
        written_on=written_on,
        earliest_fill_on=earliest_fill_on,
    )


def _write_prescription(
    permit: access.Permit,
    *,
    medication: Medication,
    quantity: int,
    days_supply: int,
    refills_authorised: int = 0,
    written_on: date | None = None,
    earliest_fill_on: date | None = None,
    renews: Prescription | None = None,
) -> Prescription:
    """Write a prescription the permit allows, by hand or as a renewal: the same limits, the
    same one audit row naming it."""
    actor = permit.actor
    limits = selectors.limits_for(medication)
    today = timezone.localdate()
    written_on = written_on or today
    problems = supply.validate_prescription(
        medication.schedule, refills_authorised, days_supply, limits
    )
    if written_on > today:
        problems.append("A prescription cannot be dated in the future.")
    if earliest_fill_on and earliest_fill_on < written_on:
        problems.append("The earliest fill date cannot be before the written date.")
    elif not problems:
        problems += supply.validate_refills_within_validity(
            medication.schedule,
            written_on,
            earliest_fill_on or written_on,
            days_supply,
            refills_authorised,
            limits,
        )
    if medication.status == Medication.Status.STOPPED:
        problems.append("This medication is stopped: restart it before writing a prescription.")
    if problems:
        raise ValidationError({"refills_authorised": problems})
    prescription = Prescription(
        medication=medication,
        patient=medication.patient,
        practice=actor.practice,
        author=actor,
        written_on=written_on,
        earliest_fill_on=earliest_fill_on,
        quantity=quantity,
        days_supply=days_supply,
        refills_authorised=refills_authorised,
        renews=renews,
    )
    prescription.full_clean()
    with transaction.atomic():
        earlier = resubmit.earlier_copy(
            prescription,
            "medication",
            "written_on",
            "earliest_fill_on",
            "quantity",
            "days_supply",
            "refills_authorised",
            "renews",
        )
        # Locked so that two prescriptions written at once are counted against one series.
        _lock(medication, None)
        # The same prescription sent again a moment ago: it passed the series rules already.
        if earlier is not None:
            return earlier
        if medication.schedule == supply.Schedule.II:
            series = selectors.schedule_ii_series_days(medication=medication, written_on=written_on)
            series_problems = supply.validate_schedule_ii_series([*series, days_supply])
            if series and not earliest_fill_on:
                series_problems.append(
                    "This is not the first schedule II prescription written today: give it an earliest fill date."
                )
            if series_problems:
                raise ValidationError({"refills_authorised": series_problems})
        prescription.save()
        _refresh_supply(medication)
        permit.done(prescription, action=Action.CREATE)
    return prescription


def fill_record(
    *,
    actor,
    prescription: Prescription,
    filled_on: date,
    quantity: int | None = None,
    days_supply: int | None = None,
) -> Fill:
    """A dispensing, recorded by the prescriber. A fill the prescription does not allow (too
    late, too early, no refills left, schedule II) is refused with the reason."""
    medication = prescription.medication
    permit = _may_prescribe(actor, medication)
    if filled_on > timezone.localdate():
        raise ValidationError({"filled_on": "A fill cannot be dated in the future."})
    if filled_on < prescription.written_on:
        raise ValidationError(
            {"filled_on": "A fill cannot be before the prescription was written."}
        )
    with transaction.atomic():
        fill = Fill(
            prescription=prescription,
            patient=medication.patient,
            practice=access.writing_practice(actor),
            author=actor,
            filled_on=filled_on,
            quantity=quantity or prescription.quantity,
            days_supply=days_supply or prescription.days_supply,
        )
        earlier = resubmit.earlier_copy(
            fill, "prescription", "filled_on", "quantity", "days_supply"
        )
        if earlier is not None:
            return earlier
        locked = Prescription.objects.select_for_update().get(pk=prescription.pk)
        facts = supply.Prescription(
            schedule=medication.schedule,
            written_on=locked.written_on,
            refills_authorised=locked.refills_authorised,
            fills=locked.fills.count(),
            days_supply=locked.days_supply,
            last_fill_on=None,
            earliest_fill_on=locked.earliest_fill_on,
        )
        answer = supply.fill_answer(facts, filled_on, selectors.limits_for(medication))
        if not answer.allowed:
            raise ValidationError({"filled_on": answer.reason})
        fill.full_clean()
        fill.save()
        _refresh_supply(medication)
        permit.done(fill, action=Action.CREATE)
    return fill


def refill_request_create(*, actor, medication: Medication, note: str = "") -> RefillRequest:
    """Ask for more of a medicine (one the actor was shown, through `access.get`). One open
    request per medicine; late requests are flagged, not refused.

    Raises ValidationError when a request is already open (also under simultaneous submits).
    """
    permit = access.guard(actor, Action.CREATE, Category.REFILLS, medication.patient)
    if medication.status not in (Medication.Status.ACTIVE, Medication.Status.PAUSED):
        raise ValidationError({"medication": "Refills are asked for active medicines only."})
    status = selectors.supply_status_for(medication=medication, on=timezone.localdate())
    request = RefillRequest(
        medication=medication,
        patient=medication.patient,
        practice=access.writing_practice(actor),
        author=actor,
        note=(note or "").strip(),
        run_out_on=status.run_out,
        needed_by=status.needed_by,
        late=status.is_late,
        needs_renewal=bool(status.answer and status.answer.needs_renewal),
    )
    request.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            request.save()
            permit.done(request)
            transaction.on_commit(lambda: _tell_prescriber(request))
    except IntegrityError:
        open_request = RefillRequest.objects.filter(
            medication=medication, status__in=RefillRequest.OPEN
        ).first()
        asked = f" (asked on {us_date(open_request.requested_at, 'day')})" if open_request else ""
        raise ValidationError(
            {
                "medication": f"A refill request for this medicine is already open{asked}. Your prescriber will answer it."
            }
        ) from None
    return request


def _tell_prescriber(request: RefillRequest) -> None:
    """A nudge to the prescriber, once (call after commit); late requests say so. A worker
    delivers it, not the patient's request."""
    nudges.send(
        "refill_requested_late" if request.late else "refill_requested",
        subject=request.uuid,
        recipient_ids=[request.medication.prescriber_id],
        on=timezone.localdate(request.requested_at),
    )


RENEWAL_TITLE = "Your prescriber wrote a new prescription for your request"

REFILL_ANSWER_TITLES = {
    RefillRequest.Status.APPROVED: "Your refill request was approved",
    RefillRequest.Status.DECLINED: "Your refill request was declined: read why",
    RefillRequest.Status.NEEDS_VISIT: "Your prescriber would like to see you before the next refill",
    RefillRequest.Status.SENT: "Your refill was sent to the pharmacy",
}


def _lock_request(request: RefillRequest) -> RefillRequest:
    return (
        RefillRequest.objects.select_for_update(of=("self",))
        .select_related("medication", "medication__practice", "patient")
        .get(pk=request.pk)
    )


def _answer(
    permit: access.Permit, locked: RefillRequest, status: str, reason: str, title: str
) -> RefillRequest:
    """The one step that answers a locked refill request (approve, decline, ask for a visit,
    mark sent), by hand or with a renewal: checked, saved, audited once, the patient told.
    Call inside the write's transaction."""
    if status == RefillRequest.Status.APPROVED and locked.needs_renewal:
        renewed = locked.medication.prescriptions.filter(
            created_at__gt=locked.requested_at
        ).exists()
        if not renewed:
            raise ValidationError(
                {
                    "status": "This request needs a new prescription, not a refill: write one on the medicine's page, then approve."
                }
            )
    if status not in RefillRequest.TRANSITIONS.get(locked.status, ()):
        raise ValidationError(
            {
                "status": f"This request is already {locked.get_status_display().lower()}; it cannot become "
                f"{RefillRequest.Status(status).label.lower() if status in RefillRequest.Status.values else status}."
            }
        )
    locked.status = status
    if status == RefillRequest.Status.SENT:
        locked.sent_at = timezone.now()
    else:
        locked.decision_reason = (reason or "").strip()
        locked.decided_by = permit.actor
        locked.decided_at = timezone.now()
    locked.full_clean(validate_constraints=False)
    locked.save()
    # The request is a refill's record: its row says so, whatever the prescribing check was.
    permit.done(locked, action=Action.UPDATE, category=Category.REFILLS)
    patient_user = locked.patient.user
    if patient_user is not None:
        transaction.on_commit(
            lambda: core_services.notification_send(
                recipient=patient_user,
                kind="refill_answered",
                # What the answer was, never which medicine: titles are e-mailed.
                title=title,
                link=reverse("medications", args=[locked.patient.uuid]),
            )
        )
    return locked


def refill_request_decide(
    *, actor, request: RefillRequest, status: str, reason: str = ""
) -> RefillRequest:
    """Approve, decline (with a reason) or ask for a visit; then mark sent. The patient is told."""
    permit = _may_prescribe(actor, request.medication)
    if status == RefillRequest.Status.DECLINED and not (reason or "").strip():
        raise ValidationError(
            {"reason": "Say why the refill is declined: the patient will read it."}
        )
    with transaction.atomic():
        return _answer(
            permit, _lock_request(request), status, reason, REFILL_ANSWER_TITLES.get(status, "")
        )


def refill_request_renew(
    *,
    actor,
    request: RefillRequest,
    quantity: int,
    days_supply: int,
    refills_authorised: int = 0,
    earliest_fill_on: date | None = None,
    reason: str = "",
) -> RefillRequest:
    """Answer a request with a new prescription, linked to the one it renews, and approve the
    request, in one transaction: the prescription written as by hand, the approval the same
    step as `refill_request_decide`'s, each audited once. Raises ValidationError (nothing
    saved) or NotAllowed.

    The same renewal sent twice (a double click) returns the request the first one approved.
    """
    permit = _may_prescribe(actor, request.medication)
    with transaction.atomic():
        # The patient's row first, as every create takes it (core.resubmit), then the request.
        resubmit.hold(request.patient_id)
        locked = _lock_request(request)
        if locked.status == RefillRequest.Status.APPROVED and locked.renewal_id is not None:
            if locked.decided_by_id == actor.pk:
                return locked
        if RefillRequest.Status.APPROVED not in RefillRequest.TRANSITIONS.get(locked.status, ()):
            raise ValidationError(
                {
                    "status": f"This request is already {locked.get_status_display().lower()}: "
                    "nothing was renewed."
                }
            )
        old = selectors.prescription_to_renew(medication=locked.medication)
        if old is None:
            raise ValidationError(
                {"status": "This medicine has no prescription to renew: write a first one."}
            )
        locked.renewal = _write_prescription(
            permit,
            medication=locked.medication,
            quantity=quantity,
            days_supply=days_supply,
            refills_authorised=refills_authorised,
            earliest_fill_on=earliest_fill_on,
            renews=old,
        )
        return _answer(permit, locked, RefillRequest.Status.APPROVED, reason, RENEWAL_TITLE)


def supply_policy_save(
    *,
    actor,
    state: str,
    schedule: str,
    lead_days: int,
    lead_in_business_days: bool,
    max_refills: int | None,
    validity_months: int | None,
    note: str = "",
) -> SupplyPolicy:
    """A clinic-wide admin sets the refill lead time and a state's limits for one schedule
    (state "" is the default row): the row is made if it is not there. Audited with what it
    now says. Raises Http404 (audited) for anyone else; ValidationError for a limit looser
    than federal law allows (it would be ignored, and mislead whoever reads it)."""
    what = f"{state or 'default'}:{schedule}"
    if not access.runs_the_clinic(actor):
        access.refuse_clinic_settings(actor, Action.UPDATE, f"supply policy {what}")
    federal_refills = supply.FEDERAL_MAX_REFILLS.get(schedule)
    if max_refills is not None and federal_refills is not None and max_refills > federal_refills:
        raise ValidationError(
            {"max_refills": f"Federal law allows at most {federal_refills} for this schedule."}
        )
    federal_months = supply.FEDERAL_VALIDITY_MONTHS.get(schedule)
    if validity_months is not None and federal_months is not None:
        if validity_months > federal_months:
            raise ValidationError(
                {"validity_months": f"Federal law allows at most {federal_months} months."}
            )
    with transaction.atomic():
        policy = (
            SupplyPolicy.objects.select_for_update().filter(state=state, schedule=schedule).first()
        )
        created = policy is None
        policy = policy or SupplyPolicy(state=state, schedule=schedule)
        policy.lead_days = lead_days
        policy.lead_in_business_days = lead_in_business_days
        policy.max_refills = max_refills
        policy.validity_months = validity_months
        policy.note = (note or "").strip()
        policy.full_clean()
        policy.save()
        unit = "business days" if lead_in_business_days else "days"
        audit.record(
            actor=actor,
            patient=None,
            category=Category.PRACTICE,
            action=Action.CREATE if created else Action.UPDATE,
            object_type="prescribing.SupplyPolicy",
            object_id=what,
            via=(
                f"clinic admin: supply policy {what}: lead {lead_days} {unit}, "
                f"refills {'-' if max_refills is None else max_refills}, "
                f"valid {'-' if validity_months is None else validity_months} months"
            ),
        )
    return policy
