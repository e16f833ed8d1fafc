"""Reads of medication plans, always scoped by core.access and audited."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.utils import timezone

from core import access, audit, nudges
from core import selectors as core_selectors
from core.access import Action, Category
from core.dates import us_date
from stories import selectors as stories_selectors

from . import doses, review, supply
from .models import (
    DecisionRecord,
    Fill,
    Medication,
    Observation,
    Prescription,
    RefillRequest,
    SupplyPolicy,
)


def limits_for(medication: Medication, policies: dict | None = None) -> supply.Limits:
    """The policy row for the prescribing practice's state and the schedule, else the default row."""
    state = medication.practice.state if medication.practice_id else ""
    if policies is None:
        policies = policy_table()
    return (
        policies.get((state, medication.schedule))
        or policies.get(("", medication.schedule))
        or supply.DEFAULT_LIMITS[medication.schedule]
    )


def policy_table() -> dict:
    """Every policy row as limits, by (state, schedule): one query for a whole request."""
    return access.memo(
        ("supply policies",),
        lambda: {(p.state, p.schedule): p.limits() for p in SupplyPolicy.objects.all()},
    )


def _facts(medication: Medication) -> supply.Prescription | None:
    """Supply facts from prefetched prescriptions and fills.

    The run-out comes from the latest fill of any prescription, so a renewal not yet filled
    does not hide it. The refill answer comes from the prescription filled next: the earliest
    unfilled one (a renewal, or the next of a schedule II series), else the newest.
    """
    prescriptions = list(medication.prescriptions.all())  # newest first
    if not prescriptions:
        return None
    fills = [f for p in prescriptions for f in p.fills.all()]
    last = max(fills, key=lambda f: (f.filled_on, f.created_at), default=None)
    current = _next_to_fill(prescriptions)
    return supply.Prescription(
        schedule=medication.schedule,
        written_on=current.written_on,
        refills_authorised=current.refills_authorised,
        fills=len(current.fills.all()),
        days_supply=last.days_supply if last else current.days_supply,
        last_fill_on=last.filled_on if last else None,
        earliest_fill_on=current.earliest_fill_on,
        dose_changes=dose_changes_since(medication, last) if last else (),
    )


def dose_changes_since(medication: Medication, fill: Fill) -> tuple[supply.DoseChange, ...]:
    """The dose changes made after a fill (prefetched decisions), with the daily amount before
    and after each as far as the strength, dose and directions say. A change on the fill's own
    day counts only when it was recorded after the fill: a fill recorded after it was dispensed
    for the new dose."""
    changes = []
    ordered = sorted(medication.decisions.all(), key=lambda d: (d.decided_on, d.created_at, d.pk))
    for decision in ordered:
        if decision.kind != DecisionRecord.Kind.DOSE_CHANGE:
            continue
        if (decision.decided_on, decision.created_at) <= (fill.filled_on, fill.created_at):
            continue
        before, after = doses.daily_amounts(decision.before, decision.after)
        changes.append(supply.DoseChange(on=decision.decided_on, before=before, after=after))
    return tuple(changes)


def _next_to_fill(prescriptions: list[Prescription]) -> Prescription:
    """Of prefetched prescriptions (newest first), the one filled next: the earliest unfilled
    one (a renewal, or the next of a schedule II series), else the newest."""
    unfilled = [p for p in prescriptions if not p.fills.all()]
    if unfilled:
        return min(unfilled, key=lambda p: (p.earliest_fill_on or p.written_on, p.created_at))
    return prescriptions[0]


def _one_prescription_facts(medication: Medication, rx: Prescription) -> supply.Prescription:
    fills = list(rx.fills.all())
    last = max(fills, key=lambda f: (f.filled_on, f.created_at), default=None)
    return supply.Prescription(
        schedule=medication.schedule,
        written_on=rx.written_on,
        refills_authorised=rx.refills_authorised,
        fills=len(fills),
        days_supply=rx.days_supply,
        last_fill_on=last.filled_on if last else None,
        earliest_fill_on=rx.earliest_fill_on,
    )


@dataclass(frozen=True)
class FillChoice:
    """A prescription a fill may be recorded against, said the way the prescriber checks it."""

    prescription: Prescription
    label: str
    fillable_today: bool


def fill_choice_label(rx: supply.Prescription, quantity: int, answer: supply.RefillAnswer) -> str:
    """ "Written 1 Mar 2026 · quantity 30, 30 days’ supply · not before 31 Mar 2026 · ..." """
    parts = [
        f"Written {_day(rx.written_on)}",
        f"quantity {quantity}, {rx.days_supply} days’ supply",
    ]
    if rx.schedule != supply.Schedule.II:
        if rx.fills == 0:
            parts.append(
                f"not filled yet, {rx.refills_authorised} refill{_s(rx.refills_authorised)}"
            )
        else:
            left = supply.refills_remaining(rx)
            parts.append(f"{left} refill{_s(left)} left")
    if rx.earliest_fill_on:
        parts.append(f"not before {_day(rx.earliest_fill_on)}")
    if answer.allowed:
        parts.append("can be filled today")
    return " · ".join(parts)


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def fill_choices(*, medication: Medication, on: date) -> list[FillChoice]:
    """This medication's prescriptions that can still be filled (today, or once their
    earliest-fill date comes), the next to fill first; from prefetched prescriptions.

    One lapsed, out of refills or (schedule II) already filled is left out: it needs renewing.
    """
    limits = limits_for(medication)
    choices = []
    for rx in medication.prescriptions.all():
        facts = _one_prescription_facts(medication, rx)
        answer = supply.fill_answer(facts, on, limits)
        if not answer.allowed and answer.needs_renewal:
            continue
        choices.append(
            FillChoice(rx, fill_choice_label(facts, rx.quantity, answer), answer.allowed)
        )
    choices.sort(
        key=lambda c: (
            not c.fillable_today,
            c.prescription.earliest_fill_on or c.prescription.written_on,
            c.prescription.created_at,
        )
    )
    return choices


def renewal_initial(*, medication: Medication, on: date) -> dict:
    """What a renewal form starts with: the prescription being renewed's quantity, days' supply
    and refills, the refills capped at what the law and the six-month rule let fit from `on`."""
    prescriptions = list(medication.prescriptions.all())
    if not prescriptions:
        return {}
    old = _next_to_fill(prescriptions)
    limits = limits_for(medication)
    refills = old.refills_authorised
    caps = [
        supply.max_refills(medication.schedule, limits),
        supply.refills_that_fit(medication.schedule, on, on, old.days_supply, limits),
    ]
    refills = min([refills, *(c for c in caps if c is not None)])
    return {"quantity": old.quantity, "days_supply": old.days_supply, "refills_authorised": refills}


def awaits_renewal(*, request: RefillRequest | None, medication: Medication) -> bool:
    """Is this request still waiting for a new prescription? Not once one has been written
    since it was asked (by hand on the medicine's page): it is then approved as it is."""
    if request is None or request.status != RefillRequest.Status.REQUESTED:
        return False
    if not request.needs_renewal:
        return False
    return not any(p.created_at > request.requested_at for p in medication.prescriptions.all())


def prescription_to_renew(*, medication: Medication) -> Prescription | None:
    """The prescription a renewal replaces: the one the medicine would be filled from next."""
    prescriptions = list(
        medication.prescriptions.order_by("-written_on", "-created_at").prefetch_related("fills")
    )
    return _next_to_fill(prescriptions) if prescriptions else None


def supply_status_for(
    *, medication: Medication, on: date, policies: dict | None = None
) -> supply.SupplyStatus:
    return supply.supply_status(_facts(medication), on, limits_for(medication, policies))


def schedule_ii_series_days(*, medication: Medication, written_on: date) -> list[int]:
    """Days' supply of the schedule II prescriptions written the same day for this medication."""
    return list(
        medication.prescriptions.filter(written_on=written_on).values_list("days_supply", flat=True)
    )


def _plan_queryset(actor, patient=None, *, glance_since=None) -> QuerySet:
    """Medications with what their pages show prefetched. Goals are the patient's words, shown
    only where the actor may read them. With `patient` (one patient's plan), the observations
    prefetched are those the actor may read (`PlanItem.observations`), and each access filter
    is the one-patient one.

    With `glance_since` (the visit screen's glance at the plan), only what a glance shows is
    read, so that it costs the same however long the history: the current medicines, the last
    clinical decision of each, and the observations recorded since then."""
    if patient is None:
        observations = Observation.objects.all()
    else:
        observations = access.visible(
            actor, Observation.objects.all(), Category.OBSERVATIONS, patient=patient
        )
    visible_goals = stories_selectors.goals_visible(actor=actor, patient=patient)
    decisions = (
        DecisionRecord.objects.select_related("author")
        .prefetch_related(Prefetch("goals", queryset=visible_goals))
        .order_by("-created_at", "-id")
    )
    medications = Medication.objects.all()
    if glance_since is not None:
        medications = medications.filter(status__in=Medication.CURRENT)
        observations = observations.filter(created_at__gte=glance_since)
        # Of each medicine's decisions, what the glance uses: the newest clinical one (a
        # rewording of the purpose is not one), those since its last fill (the supply's dose
        # changes, `dose_changes_since`) and the newest review (which flags it answered, or
        # until when it was put off: `review.review_state`), whatever the length of its history.
        mine = OuterRef("medication_id")
        last_fill_on = (
            Fill.objects.filter(prescription__medication_id=mine)
            .order_by("-filled_on")
            .values("filled_on")[:1]
        )
        newest_clinical = (
            DecisionRecord.objects.filter(medication_id=mine)
            .exclude(kind=DecisionRecord.Kind.PURPOSE)
            .order_by("-created_at", "-id")
            .values("pk")[:1]
        )
        newest_review = (
            DecisionRecord.objects.filter(medication_id=mine)
            .exclude(review_outcome="")
            .order_by("-created_at", "-id")
            .values("pk")[:1]
        )
        decisions = decisions.filter(
            Q(decided_on__gte=Subquery(last_fill_on))
            | Q(pk=Subquery(newest_clinical))
            | Q(pk=Subquery(newest_review))
        )
    return medications.select_related("prescriber", "practice", "patient").prefetch_related(
        Prefetch("goals", queryset=visible_goals),
        Prefetch("decisions", queryset=decisions),
        Prefetch(
            "observations",
            queryset=observations.select_related("author").order_by("-observed_on", "-id"),
        ),
        Prefetch(
            "prescriptions",
            queryset=Prescription.objects.select_related("author")
            .order_by("-written_on", "-created_at")
            .prefetch_related(
                Prefetch(
                    "fills",
                    queryset=Fill.objects.select_related("author").order_by(
                        "-filled_on", "-created_at"
                    ),
                )
            ),
        ),
        Prefetch(
            "refill_requests",
            queryset=access.visible(
                actor,
                RefillRequest.objects.select_related("author", "decided_by"),
                Category.REFILLS,
                patient=patient,
            ).order_by("-requested_at"),
            to_attr="visible_requests",
        ),
    )


def open_request(medication: Medication) -> RefillRequest | None:
    """The open refill request among the prefetched ones, if any."""
    return next((r for r in medication.visible_requests if r.is_open), None)


def last_request(medication: Medication) -> RefillRequest | None:
    """The newest refill request (prefetched), whatever its answer."""
    return next(iter(medication.visible_requests), None)


@dataclass(frozen=True)
class RefillPrompt:
    """One state per medicine for the patient, from the newest request and the supply."""

    state: str
    text: str
    can_ask: bool = False
    ask_label: str = "Ask for a refill"


def _day(d) -> str:
    return us_date(d)


def refill_prompt(
    *,
    status: str,
    supply_status: supply.SupplyStatus,
    last: RefillRequest | None,
    last_fill_at=None,
    awaiting_renewal: bool | None = None,
) -> RefillPrompt:
    """What the patient is told about getting more of a medicine, and whether asking makes
    sense now. A closed request is history once a fill has been recorded after its answer
    (`last_fill_at`: when the newest fill was recorded). `awaiting_renewal` is
    `awaits_renewal(...)` for `last`: a renewal request answered by a prescription written by
    hand is a refill again; left out, the request's own flag decides."""
    if last is not None and last.status == RefillRequest.Status.REQUESTED:
        asked = _day(timezone.localtime(last.requested_at))
        # A request the old prescription cannot answer is a renewal: a refill would be refused.
        renewal = last.needs_renewal if awaiting_renewal is None else awaiting_renewal
        if renewal:
            return RefillPrompt(
                "renewal_requested",
                f"Renewal requested on {asked}: your prescriber will write a new prescription.",
            )
        return RefillPrompt(
            "requested", f"Refill requested on {asked}: your prescriber will answer."
        )
    if last is not None and last.status == RefillRequest.Status.APPROVED:
        if last.needs_renewal or last.renewal_id is not None:
            return RefillPrompt(
                "approved",
                "Renewal approved: your new prescription is being sent to the pharmacy.",
            )
        return RefillPrompt("approved", "Refill approved: being sent to the pharmacy.")
    answered_at = last and (last.sent_at or last.decided_at or last.requested_at)
    filled_since = (
        answered_at is not None and last_fill_at is not None and last_fill_at > answered_at
    )
    if last is not None and not filled_since:
        if last.status == RefillRequest.Status.SENT:
            sent = timezone.localtime(last.sent_at or last.decided_at or last.requested_at)
            return RefillPrompt("sent", f"Sent to the pharmacy on {_day(sent)}.")
        if last.status == RefillRequest.Status.NEEDS_VISIT:
            return RefillPrompt(
                "needs_visit",
                "Your prescriber needs to see you before the next refill: please book a visit.",
            )
        if last.status == RefillRequest.Status.DECLINED:
            asked = _day(timezone.localtime(last.requested_at))
            who = last.decided_by.full_name if last.decided_by else "Your prescriber"
            return RefillPrompt(
                "declined",
                f"Your request of {asked} was declined. {who} wrote: “{last.decision_reason}”",
                can_ask=status == Medication.Status.ACTIVE and supply_status.has_supply,
                ask_label="Ask again",
            )
    if status != Medication.Status.ACTIVE:
        return RefillPrompt("not_active", "")
    if not supply_status.has_supply:
        return RefillPrompt("not_filled", "No fill recorded yet: nothing to refill.")
    if supply_status.answer is not None and supply_status.answer.needs_renewal:
        return RefillPrompt(
            "renewal", supply_status.answer.reason, can_ask=True, ask_label="Ask for a renewal"
        )
    if supply_status.is_late:
        return RefillPrompt(
            "ask_now",
            f"Ask now: the date to ask by, {_day(supply_status.needed_by)}, has passed.",
            can_ask=True,
        )
    return RefillPrompt("ask_by", f"Ask for more by {_day(supply_status.needed_by)}.", can_ask=True)


@dataclass
class PlanItem:
    medication: Medication
    supply: supply.SupplyStatus
    last_decision: DecisionRecord | None
    observations: list = field(default_factory=list)
    open_request: RefillRequest | None = None
    last_request: RefillRequest | None = None

    @property
    def refill(self) -> RefillPrompt:
        return refill_prompt(
            status=self.medication.status,
            supply_status=self.supply,
            last=self.last_request,
            last_fill_at=last_fill_recorded_at(self.medication),
            awaiting_renewal=awaits_renewal(request=self.last_request, medication=self.medication),
        )


def last_fill_recorded_at(medication: Medication):
    """When the newest fill of any of its prescriptions was recorded (prefetched), or None."""
    times = [f.created_at for rx in medication.prescriptions.all() for f in rx.fills.all()]
    return max(times, default=None)


def medication_plan(*, actor, patient, on: date | None = None, glance_since=None) -> list[PlanItem]:
    """The patient's medications the actor may see, current first, with supply; audited.

    `glance_since`: only the current medicines, each with its last clinical decision (and no
    other) and the observations recorded since then, as the visit screen shows them."""
    on = on or timezone.localdate()
    medications = access.visible(
        actor,
        _plan_queryset(actor, patient, glance_since=glance_since),
        Category.MEDICATIONS,
        Action.READ,
        patient=patient,
    )
    policies = policy_table()
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.MEDICATIONS,
        action=Action.LIST,
        object_type="prescribing.Medication",
    )
    items = []
    for medication in medications:
        decisions = list(medication.decisions.all())
        items.append(
            PlanItem(
                medication=medication,
                supply=supply_status_for(medication=medication, on=on, policies=policies),
                # The last clinical decision: a rewording of what the medicine is for is not one.
                last_decision=next(
                    (d for d in decisions if d.kind != DecisionRecord.Kind.PURPOSE), None
                ),
                # Prefetched as the actor may read them (`_plan_queryset` for one patient).
                observations=list(medication.observations.all()),
                open_request=open_request(medication),
                last_request=last_request(medication),
            )
        )
    order = {
        Medication.Status.ACTIVE: 0,
        Medication.Status.PROPOSED: 1,
        Medication.Status.PAUSED: 2,
        Medication.Status.STOPPED: 3,
    }
    items.sort(key=lambda item: (order[item.medication.status], item.medication.drug_name.lower()))
    return items


def medication_get(*, actor, medication_uuid, action: Action = Action.READ) -> Medication:
    """One medication the actor may do this to; not found alike for missing and hidden (audited)."""
    return access.get(
        actor, action, Category.MEDICATIONS, queryset=_plan_queryset(actor), uuid=medication_uuid
    )


def medication_shown(*, actor, medication: Medication, fresh: bool = True) -> Medication:
    """A medication a door already let the actor see (its read audited there), with what its
    page shows prefetched: the goals the actor may see, decisions, prescriptions. `fresh`
    reads it again (after a write); otherwise the door's instance is filled in place."""
    if fresh:
        return _plan_queryset(actor, medication.patient).get(pk=medication.pk)
    lookups = _plan_queryset(actor, medication.patient)._prefetch_related_lookups
    prefetch_related_objects([medication], *lookups)
    return medication


def medications() -> QuerySet:
    """Medications with what every page and answer about one names: for a door to fetch."""
    return Medication.objects.select_related("patient", "practice", "prescriber")


def decisions_of(*, actor, medication: Medication) -> QuerySet:
    """A medication's decisions, newest first, each with the goals it serves that the actor
    may see: part of the medication, read with it."""
    goals = stories_selectors.goals_visible(actor=actor, patient=medication.patient)
    return (
        medication.decisions.select_related("author")
        .prefetch_related(Prefetch("goals", queryset=goals))
        .order_by("-created_at", "-id")
    )


def prescriptions_of(medication: Medication) -> QuerySet:
    """A medication's prescriptions, newest first: part of the medication, read with it."""
    return medication.prescriptions.select_related("author", "renews").order_by(
        "-written_on", "-created_at"
    )


def fills_of(medication: Medication) -> QuerySet:
    """The fills of a medication's prescriptions, newest first."""
    return (
        Fill.objects.filter(prescription__medication=medication)
        .select_related("author", "prescription")
        .order_by("-filled_on", "-created_at")
    )


def observations_listed(*, actor, patient, medication: Medication | None = None) -> QuerySet:
    """The observations of a patient (of one of their medications) the actor may see, newest
    first; the list read audited once, in the patient's chain."""
    observations = Observation.objects.filter(patient=patient)
    if medication is not None:
        observations = observations.filter(medication=medication)
    access.audit_listed(
        actor, [patient], Category.OBSERVATIONS, object_type="prescribing.Observation"
    )
    return access.visible(
        actor, observations.select_related("author"), Category.OBSERVATIONS
    ).order_by("-observed_on", "-created_at")


def prescription_of(*, medication: Medication, prescription_uuid) -> Prescription:
    """One of this medication's prescriptions. Raises ValidationError for any other."""
    found = medication.prescriptions.filter(uuid=prescription_uuid).first()
    if found is None:
        raise ValidationError({"prescription": "Choose a prescription of this medication."})
    return found


@dataclass
class TimelineEntry:
    at: object
    kind: str
    item: object


def medication_timeline(*, actor, medication: Medication) -> list[TimelineEntry]:
    """Decisions, observations, prescriptions, fills and refill requests, newest first by the
    date they happened (a fill recorded today for last month sits last month). `medication` as
    `medication_shown` gives it: its observations are those the actor may read."""
    visible_observations = medication.observations.all()
    entries = [
        TimelineEntry((d.decided_on, d.created_at), "decision", d)
        for d in medication.decisions.all()
    ]
    entries += [
        TimelineEntry((o.observed_on, o.created_at), "observation", o) for o in visible_observations
    ]
    for prescription in medication.prescriptions.all():
        entries.append(
            TimelineEntry(
                (prescription.written_on, prescription.created_at), "prescription", prescription
            )
        )
        entries += [
            TimelineEntry((f.filled_on, f.created_at), "fill", f) for f in prescription.fills.all()
        ]
    entries += [
        TimelineEntry((timezone.localdate(r.requested_at), r.requested_at), "refill_request", r)
        for r in medication.visible_requests
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def refill_queue(*, actor) -> list[RefillRequest]:
    """Open refill requests for medications this prescriber may prescribe, oldest first;
    audited. Empty for anyone who prescribes for nobody."""
    medications = access.visible(
        actor, Medication.objects.all(), Category.MEDICATIONS, Action.PRESCRIBE
    )
    requests = list(
        access.visible(actor, RefillRequest.objects.all(), Category.REFILLS, Action.UPDATE)
        .filter(status__in=RefillRequest.OPEN, medication__in=medications)
        .select_related("medication", "medication__practice", "patient", "author")
        # A renewal's form starts from the prescription it renews.
        .prefetch_related(
            Prefetch(
                "medication__prescriptions",
                queryset=Prescription.objects.order_by(
                    "-written_on", "-created_at"
                ).prefetch_related("fills"),
            )
        )
        .order_by("-late", "requested_at")
    )
    for patient_id in {r.patient_id for r in requests}:
        patient = next(r.patient for r in requests if r.patient_id == patient_id)
        audit.record(
            actor=actor,
            patient=patient,
            category=Category.REFILLS,
            action=Action.LIST,
            object_type="prescribing.RefillRequest",
        )
    return requests


def refill_request_get(*, actor, request_uuid, action: Action = Action.READ) -> RefillRequest:
    """One refill request the actor may do this to; not found alike for missing and hidden (audited)."""
    return access.get(
        actor, action, Category.REFILLS, queryset=refill_requests(), uuid=request_uuid
    )


def refill_requests() -> QuerySet:
    """Refill requests with what their pages show of each."""
    return RefillRequest.objects.select_related("medication", "patient", "medication__practice")


REMIND_DAYS_BEFORE = 3


def _refill_sets(on: date):
    """The three sets behind the refill reminders (see refill_nudge_candidates)."""
    open_request = RefillRequest.objects.filter(
        medication=OuterRef("pk"), status__in=RefillRequest.OPEN
    )
    renewal = Case(
        When(
            Q(schedule="II") | Q(refills_left=0) | Q(fill_valid_until__lt=F("run_out_on")),
            then=Value(True),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )
    base = (
        Medication.objects.filter(status=Medication.Status.ACTIVE, refill_needed_by__isnull=False)
        .exclude(Exists(open_request))
        .annotate(renewal=renewal)
    )
    soon = base.filter(
        refill_needed_by__gte=on,
        refill_needed_by__lte=on + timedelta(days=REMIND_DAYS_BEFORE),
        patient__user__isnull=False,
    )
    today = base.filter(refill_needed_by__lte=on, run_out_on__gte=on, patient__user__isnull=False)
    on_team = core_selectors.memberships_active(on=on).filter(
        patient_id=OuterRef("patient_id"), clinician_id=OuterRef("prescriber_id")
    )
    overdue = base.filter(refill_needed_by__lt=on, run_out_on__gte=on).filter(Exists(on_team))
    return soon, today, overdue


def refill_nudge_rows(*, on: date) -> list:
    """The same reminders as refill_nudge_candidates, as querysets the sweep inserts from in one
    statement on PostgreSQL (no Python object per medication)."""
    soon, today, overdue = _refill_sets(on)

    def word(when: str):
        return Case(
            When(renewal=True, then=Value(f"renewal_ask_{when}")),
            default=Value(f"refill_ask_{when}"),
            output_field=CharField(),
        )

    def shifted(days: int):
        return ExpressionWrapper(
            F("refill_needed_by") + timedelta(days=days), output_field=DateField()
        )

    return [
        nudges.rows(
            soon,
            kind=word("soon"),
            subject=F("uuid"),
            due_on=shifted(-REMIND_DAYS_BEFORE),
            recipient_id=F("patient__user_id"),
        ),
        nudges.rows(
            today,
            kind=word("today"),
            subject=F("uuid"),
            due_on=F("refill_needed_by"),
            recipient_id=F("patient__user_id"),
        ),
        nudges.rows(
            overdue,
            kind=Value("refill_overdue", output_field=CharField()),
            subject=F("uuid"),
            due_on=shifted(1),
            recipient_id=F("prescriber_id"),
        ),
    ]


def refill_nudge_candidates(*, on: date) -> list:
    """Who should hear about refills on `on`, in three set-based queries (no loop over
    medications): the patient a few days before the ask-by date, again on it, and the
    prescriber once it has passed with nothing asked. Renewal instead of refill when no
    refills remain, the medicine is schedule II, or the prescription lapses before it runs out.
    """
    soon, today, overdue = _refill_sets(on)
    fields = ("uuid", "patient__user_id", "prescriber_id", "refill_needed_by", "renewal")
    candidates = []
    for uuid, user_id, _, needed_by, renew in soon.values_list(*fields).iterator(chunk_size=5000):
        word = "renewal" if renew else "refill"
        candidates.append(
            nudges.reminder(
                f"{word}_ask_soon",
                subject=uuid,
                due_on=needed_by - timedelta(days=REMIND_DAYS_BEFORE),
                recipient_id=user_id,
                reason=f"ask by {needed_by}",
            )
        )
    for uuid, user_id, _, needed_by, renew in today.values_list(*fields).iterator(chunk_size=5000):
        word = "renewal" if renew else "refill"
        candidates.append(
            nudges.reminder(
                f"{word}_ask_today",
                subject=uuid,
                due_on=needed_by,
                recipient_id=user_id,
                reason=f"the ask-by date {needed_by} has come",
            )
        )
    for uuid, _, prescriber_id, needed_by, _renew in overdue.values_list(*fields).iterator(
        chunk_size=5000
    ):
        candidates.append(
            nudges.reminder(
                "refill_overdue",
                subject=uuid,
                due_on=needed_by + timedelta(days=1),
                recipient_id=prescriber_id,
                reason=f"nothing asked by {needed_by}",
            )
        )
    return candidates


# --- Deprescribing review ---------------------------------------------------------------------


def _goals_known(actor, patient) -> bool:
    """Whether the reader sees the patient's goals: otherwise "serves no open goal" is not
    something this reader can say."""
    return access.can(actor, Action.LIST, Category.GOALS, patient)


def _reviewable(medication: Medication) -> bool:
    return medication.status in (Medication.Status.ACTIVE, Medication.Status.PAUSED)


def with_reviews(*, actor, patient, items: list[PlanItem], on: date | None = None) -> list:
    """Set `item.review` (a `review.ReviewState`) on each item of a plan as `medication_plan`
    gave it, from what it prefetched: no query of its own. Returns the items."""
    on = on or timezone.localdate()
    known = _goals_known(actor, patient)
    count = sum(1 for item in items if _reviewable(item.medication))
    for item in items:
        item.review = review.review_state(
            item.medication, current_count=count, on=on, goals_known=known
        )
    return items


def _taken_count(actor, patient) -> int:
    """How many medicines the patient takes now (active or paused) that the actor may see."""
    return access.visible(
        actor,
        Medication.objects.filter(
            patient=patient, status__in=[Medication.Status.ACTIVE, Medication.Status.PAUSED]
        ),
        Category.MEDICATIONS,
        patient=patient,
    ).count()


def review_state_shown(*, actor, medication: Medication, on: date) -> review.ReviewState:
    """The review state of a medication as `medication_shown` gives it (goals and decisions
    prefetched): one query, the count of medicines taken."""
    patient = medication.patient
    return review.review_state(
        medication,
        current_count=_taken_count(actor, patient),
        on=on,
        goals_known=_goals_known(actor, patient),
    )


def review_state_for(*, actor, medication: Medication, on: date) -> review.ReviewState:
    """One medicine's review state, read afresh for a service about to answer it: its goals
    the actor may see, its decisions, and how many medicines the patient takes that the actor
    may see."""
    patient = medication.patient
    shown = (
        Medication.objects.filter(pk=medication.pk)
        .prefetch_related(
            Prefetch(
                "goals", queryset=stories_selectors.goals_visible(actor=actor, patient=patient)
            ),
            Prefetch("decisions", queryset=DecisionRecord.objects.order_by("-created_at", "-id")),
        )
        .get()
    )
    return review.review_state(
        shown,
        current_count=_taken_count(actor, patient),
        on=on,
        goals_known=_goals_known(actor, patient),
    )


REVIEW_DUE_DAYS = 7


def review_due_candidates(*, on: date) -> list:
    """The prescriber who put a deprescribing review off until a day, told on that day (or
    in the week after, should the sweeps have missed it: the reminder is sent once): one
    query. A later review of the same medicine, or the medicine no longer taken, ends it."""
    later = DecisionRecord.objects.filter(
        medication=OuterRef("medication"), pk__gt=OuterRef("pk")
    ).exclude(review_outcome="")
    due = (
        DecisionRecord.objects.filter(
            review_outcome=DecisionRecord.Review.SNOOZE,
            review_until__lte=on,
            review_until__gt=on - timedelta(days=REVIEW_DUE_DAYS),
            medication__status__in=[Medication.Status.ACTIVE, Medication.Status.PAUSED],
        )
        .exclude(Exists(later))
        .values_list("medication__uuid", "author_id", "review_until")
    )
    return [
        nudges.reminder(
            "review_due",
            subject=uuid,
            due_on=until,
            recipient_id=author_id,
            reason=f"a review put off until {until}",
        )
        for uuid, author_id, until in due
    ]


# --- Whose need: the prescriber's own pattern ------------------------------------------------


# Whose need, as a decision form offers it: "not recorded" is for old decisions only.
NEED_CHOICES = [
    (key, label)
    for key, label in DecisionRecord.Need.choices
    if key != DecisionRecord.Need.NOT_RECORDED
]


@dataclass(frozen=True)
class NeedCount:
    need: str
    label: str
    count: int


@dataclass(frozen=True)
class NeedsPattern:
    """How often each need drove a prescriber's own starts, increases and switches."""

    decisions: int
    counts: list
    serving_no_goal: int
    since: date | None


def needs_pattern(actor, *, since: date | None = None) -> NeedsPattern:
    """The needs the actor named in their own decisions that ask (starts, restarts, dose
    increases, switches; a switch counted once), counted, with how many served none of the
    patient's goals. Only ever the actor's own: one query, no patient information, never
    anyone else's or a ranking (the policy's OWN_PATTERN)."""
    decisions = DecisionRecord.objects.filter(author=actor).exclude(needs=[])
    # A switch writes a start for the new medicine beside it: the switch is the decision.
    decisions = decisions.exclude(
        kind=DecisionRecord.Kind.START, medication__switched_from__isnull=False
    )
    if since is not None:
        decisions = decisions.filter(decided_on__gte=since)
    rows = list(decisions.values_list("needs", "no_goal_reason"))
    tally = dict.fromkeys(DecisionRecord.Need.values, 0)
    for needs, _ in rows:
        for need in needs:
            if need in tally:
                tally[need] += 1
    labels = dict(DecisionRecord.Need.choices)
    return NeedsPattern(
        decisions=len(rows),
        counts=[NeedCount(n, labels[n], tally[n]) for n in DecisionRecord.Need.values],
        serving_no_goal=sum(1 for _, why in rows if why),
        since=since,
    )
