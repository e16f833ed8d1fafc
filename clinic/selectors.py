"""What the composed screens show, gathered from each app's selectors (each one scoped by the
access policy and audited there). Every piece runs a fixed number of queries, so a screen's
query count does not grow with the patient's history."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from alliance import outcomes
from alliance import selectors as alliance_selectors
from core import access, audit
from core import selectors as core_selectors
from core.access import Action, Category
from messaging import selectors as messaging_selectors
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
    # The open goals (the goal attainment counts the active ones among them), each with the
    # ratings its progress line shows.
    goals = stories_selectors.goal_list(
        actor=actor,
        patient=patient,
        include_closed=False,
        recent_ratings=stories_selectors.RATINGS_SHOWN,
    )
    plan = prescribing_selectors.medication_plan(actor=actor, patient=patient, glance_since=since)
    # Deprescribing flags, from what the plan prefetched (prescribing.review).
    prescribing_selectors.with_reviews(actor=actor, patient=patient, items=plan)
    for item in plan:
        item.new_observations = [o for o in item.observations if o.created_at >= since]
    series = alliance_selectors.trends(
        actor=actor, patient=patient, recent=alliance_selectors.POINTS_SHOWN
    )
    flags = alliance_selectors.open_flags(actor=actor, patient=patient)
    for entry in series:
        clinician_id = entry.clinician.pk if entry.clinician else None
        entry.flags = [
            f
            for f in flags
            if f.check_in.instrument.key == entry.instrument.key and f.clinician_id == clinician_id
        ]
    posts = referrals_selectors.thread(actor=actor, patient=patient, shared_since=since)
    releases = referrals_selectors.releases_for_patient(actor=actor, patient=patient)
    horizon = timezone.now() + timedelta(days=referrals_selectors.RELEASE_WARNING_DAYS)
    return Visit(
        patient=patient,
        since=since,
        summary=stories_selectors.summary_get(actor=actor, patient=patient),
        goals=goals,
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
        shared=posts,
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
    """The prescriber's day: patients with safety alerts or concern flags, patients' messages
    waiting past the promised reply time, the refill queue, new referrals."""
    flagged = alliance_selectors.flagged_patients(actor=actor)
    return {
        "flagged": flagged,
        "overdue": messaging_selectors.overdue_for(actor=actor),
        "refills": prescribing_selectors.refill_queue(actor=actor),
        "referrals": [
            r
            for r in referrals_selectors.referral_inbox(actor=actor)["received"]
            if r.status == "sent"
        ],
    }


# --- The equity view: aggregates only ---------------------------------------------------------


def equity_practices(*, actor):
    """The practices whose equity view the actor may see (the policy's `equity_practices_q`);
    anyone else is refused, audited, not found."""
    from core.models import Practice

    q = access.equity_practices_q(actor)
    if q is None:
        access.refuse_equity(actor)
    return Practice.objects.filter(q).order_by("name")


def equity_table(*, actor, practices, dimension: str, since, until):
    """The equity table for these practices (already limited by `equity_practices`), audited
    as one aggregate read: no patient is named, since no row is about one."""
    from . import equity

    table = equity.equity_table(practices=practices, dimension=dimension, since=since, until=until)
    audit.record(
        actor=actor,
        patient=None,
        category=Category.SELF_DESCRIPTION,
        action=Action.LIST,
        object_type="clinic.EquityView",
        object_id=",".join(str(p.uuid) for p in table.practices),
        via=f"aggregate by {dimension}, {since:%Y-%m-%d} to {until:%Y-%m-%d}, "
        f"cells under {equity.MIN_CELL} hidden",
    )
    return table


def conversation_readers(*, conversation) -> list:
    """Who can read a conversation of secure messages now, and why: the care team as the policy
    decides for each, and the clinicians a release in force opens it to (when it is addressed
    to one clinician: one to the whole team goes with no release). For its page and its API."""
    under_releases = []
    if conversation.clinician_id is not None:
        under_releases = referrals_selectors.release_readers(
            patient=conversation.patient,
            category=Category.MESSAGES,
            party_id=conversation.clinician_id,
        )
    return messaging_selectors.conversation_readers(
        conversation=conversation, others=under_releases
    )


# --- The caseload ------------------------------------------------------------------------------

CASELOAD_SHOW = {
    "all": "Everyone",
    "not_on_track": "Not on track",
    "remission": "In remission",
}
CASELOAD_SORT = {
    "name": "Name",
    "phq9": "Latest PHQ-9, highest first",
    "gad7": "Latest GAD-7, highest first",
    "change": "Least improved first (PHQ-9)",
}


@dataclass
class CaseloadRow:
    patient: object
    outcomes: object  # alliance.selectors.PatientOutcomes
    t_score: float | None

    @property
    def reasons(self) -> list[str]:
        return self.outcomes.reasons

    @property
    def reason_labels(self) -> list[str]:
        return [outcomes.REASON_LABELS[r] for r in self.outcomes.reasons]

    @property
    def phq9(self):
        return self.outcomes.trajectory("phq-9")

    @property
    def gad7(self):
        return self.outcomes.trajectory("gad-7")

    @property
    def in_remission(self) -> bool:
        found = [t for t in (self.phq9, self.gad7) if t is not None]
        return bool(found) and all(
            t.latest < outcomes.norms_for(t.key).remission_below for t in found
        )


@dataclass
class Caseload:
    rows: list
    total: int
    not_on_track: int
    not_on_track_hidden: int
    show: str
    sort: str
    q: str


def _caseload_key(sort: str):
    worst = list(outcomes.REASON_LABELS)

    def latest(trajectory) -> float:
        return -trajectory.latest if trajectory is not None else 1

    def least_improved(row) -> float:
        t = row.phq9
        return -(t.change.change if t is not None and t.change is not None else -999)

    def key(row):
        # Not on track first, whatever the sort, worst reason first: a patient getting worse
        # never waits below the fold (H-68).
        track = (0, worst.index(row.reasons[0])) if row.reasons else (1, 0)
        name = (row.patient.family_name.lower(), row.patient.given_name.lower())
        then = {
            "phq9": (latest(row.phq9),),
            "gad7": (latest(row.gad7),),
            "change": (least_improved(row),),
        }.get(sort, ())
        return (*track, *then, *name)

    return key


def caseload(*, actor, show: str = "all", sort: str = "name", q: str = "") -> Caseload:
    """The clinician's caseload (patients whose care team they are on) with outcomes beside
    the alliance: not on track first, then by `sort`; `show` and `q` narrow what is listed
    but never the count of patients not on track, which is over the whole caseload. Every
    patient read is audited (profile, outcomes, alliance, goals). A fixed number of queries
    however large the caseload."""
    show = show if show in CASELOAD_SHOW else "all"
    sort = sort if sort in CASELOAD_SORT else "name"
    patients = core_selectors.patients_listed(
        actor=actor, patients=core_selectors.caseload(actor=actor)
    )
    read = alliance_selectors.caseload_outcomes(actor=actor, patients=patients)
    attainment = stories_selectors.goal_attainment_for(actor=actor, patients=patients)
    rows = [CaseloadRow(p, read[p.pk], attainment[p.pk]) for p in patients]
    behind = [r for r in rows if r.reasons]
    shown = rows
    if show == "not_on_track":
        shown = behind
    elif show == "remission":
        shown = [r for r in rows if r.in_remission]
    words = q.strip().lower().split()[:4]
    if words:
        shown = [
            r
            for r in shown
            if all(
                w
                in f"{r.patient.given_name} {r.patient.family_name} {r.patient.preferred_name}".lower()
                for w in words
            )
        ]
    shown = sorted(shown, key=_caseload_key(sort))
    return Caseload(
        rows=shown,
        total=len(rows),
        not_on_track=len(behind),
        not_on_track_hidden=len({id(r) for r in behind} - {id(r) for r in shown}),
        show=show,
        sort=sort,
        q=q,
    )
