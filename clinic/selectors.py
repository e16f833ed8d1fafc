"""What the composed screens show, gathered from each app's selectors (each one scoped by the
access policy and audited there). Every piece runs a fixed number of queries, so a screen's
query count does not grow with the patient's history."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from alliance import selectors as alliance_selectors
from core import selectors as core_selectors
from prescribing import review as prescribing_review
from prescribing import selectors as prescribing_selectors
from referrals import selectors as referrals_selectors
from stories import selectors as stories_selectors


@dataclass
class Visit:
    patient: object
    since: object
    summary: object = None
    goals: list = field(default_factory=list)
    t_score: float | None = None
    medications: list = field(default_factory=list)
    alliance: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    shared: list = field(default_factory=list)
    refills: list = field(default_factory=list)
    referrals: list = field(default_factory=list)
    releases_ending: list = field(default_factory=list)
    team: list = field(default_factory=list)
    safety_plan: object = None
    viewer_id: int | None = None

    @property
    def need_choices(self) -> list:
        return prescribing_selectors.NEED_CHOICES

    @property
    def to_review(self) -> list:
        """The medicines with deprescribing flags still to answer."""
        return [item for item in self.medications if item.review.due]

    @property
    def many_medicines(self) -> int:
        """How many medicines are taken at once, when that is itself a reason to review."""
        taken = [i for i in self.medications if i.medication.status in ("active", "paused")]
        return len(taken) if len(taken) >= prescribing_review.MANY_MEDICINES else 0

    @property
    def safety_alerts(self) -> list:
        return [f for f in self.flags if f.kind == "safety"]

    @property
    def seen_by_others(self) -> list:
        """Observations others recorded since `since`, across the current medicines."""
        return [
            o
            for item in self.medications
            for o in getattr(item, "new_observations", [])
            if o.author_id != self.viewer_id
        ]

    @property
    def safety_plan_needed(self) -> bool:
        """An open safety alert and no safety plan: offer to write one with the patient."""
        return self.safety_plan is None and bool(self.safety_alerts)


def visit(*, actor, patient, since) -> Visit:
    """Everything the visit screen shows, for a clinician, in the patient's words first;
    observations and shared posts count as new after `since`."""
    goals = stories_selectors.goal_list(actor=actor, patient=patient)
    open_goals = [g for g in goals if g.is_open]
    plan = [
        item
        for item in prescribing_selectors.medication_plan(actor=actor, patient=patient)
        if item.medication.is_current
    ]
    # Deprescribing flags, from what the plan prefetched (prescribing.review).
    prescribing_selectors.with_reviews(actor=actor, patient=patient, items=plan)
    for item in plan:
        item.new_observations = [o for o in item.observations if o.created_at >= since]
    series = alliance_selectors.trends(actor=actor, patient=patient)
    flags = alliance_selectors.open_flags(actor=actor, patient=patient)
    for entry in series:
        clinician_id = entry.clinician.pk if entry.clinician else None
        entry.flags = [
            f
            for f in flags
            if f.check_in.instrument.key == entry.instrument.key and f.clinician_id == clinician_id
        ]
    posts = referrals_selectors.thread(actor=actor, patient=patient)
    releases = referrals_selectors.releases_for_patient(actor=actor, patient=patient)
    horizon = timezone.now() + timedelta(days=referrals_selectors.RELEASE_WARNING_DAYS)
    return Visit(
        patient=patient,
        since=since,
        summary=stories_selectors.summary_get(actor=actor, patient=patient),
        goals=open_goals,
        t_score=stories_selectors.gas_summary(goals),
        medications=plan,
        alliance=[
            s
            for s in series
            if s.instrument.kind == "alliance"
            and (s.clinician is None or s.clinician.pk == actor.pk)
        ],
        outcomes=[s for s in series if s.instrument.kind == "outcome"],
        flags=flags,
        shared=[p for p in posts if p.created_at >= since and p.practice_id != actor.practice_id],
        refills=[item.open_request for item in plan if item.open_request is not None],
        referrals=[
            r
            for r in referrals_selectors.referrals_for_patient(actor=actor, patient=patient)
            if r.is_open
        ],
        releases_ending=[v for v in releases if v.in_force and v.release.expires_at <= horizon],
        team=core_selectors.care_team_for(patient=patient),
        safety_plan=stories_selectors.safety_plan_current(actor=actor, patient=patient),
        viewer_id=actor.pk,
    )


@dataclass
class SharedView:
    patient: object
    since: object
    releases: list = field(default_factory=list)
    medications: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    posts: list = field(default_factory=list)


def shared_view(*, actor, patient, since) -> SharedView:
    """What a co-treating clinician may see from the other practice, and what changed since
    they last looked (`since`)."""
    plan = prescribing_selectors.medication_plan(actor=actor, patient=patient)
    changed = []
    for item in plan:
        for decision in item.medication.decisions.all():
            if decision.created_at >= since:
                changed.append((item.medication, decision))
    notes = [
        n
        for n in stories_selectors.note_list(actor=actor, patient=patient)
        if n.created_at >= since and n.author_id != actor.pk
    ]
    return SharedView(
        patient=patient,
        since=since,
        releases=[
            v
            for v in referrals_selectors.releases_for_patient(actor=actor, patient=patient)
            if v.in_force
        ],
        medications=[item for item in plan if item.medication.is_current],
        changed=sorted(changed, key=lambda pair: pair[1].created_at, reverse=True),
        notes=notes,
        posts=referrals_selectors.thread(actor=actor, patient=patient),
    )


def prescriber_day(*, actor) -> dict:
    """The prescriber's day: patients with safety alerts or concern flags, the refill queue,
    new referrals."""
    flagged = alliance_selectors.flagged_patients(actor=actor)
    return {
        "flagged": flagged,
        "refills": prescribing_selectors.refill_queue(actor=actor),
        "referrals": [
            r
            for r in referrals_selectors.referral_inbox(actor=actor)["received"]
            if r.status == "sent"
        ],
    }
