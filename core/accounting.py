"""The patient's accounting: who has seen their record, grouped by person and day, in plain words.

Grouping is done in SQL (one row per person, day and reason), so that a page of groups costs
the same handful of queries whether the patient has ten audit rows or ten thousand; only the
rows of the groups on the page are read back, to name what was seen and to count visits.

A *visit* is one sitting: reads by the same person, for the same reason, on the same day, less
than `VISIT_GAP` apart. Ten pages opened during one appointment are one visit, not ten.

A *disclosure* (45 CFR 164.528) is a read that a release or a referral allowed: someone outside
the patient's care team, or a clinician of another practice reading what the patient's other
clinician wrote. A clinician reading her own plan, or the care team reading the record, is not.
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from .access import Action, Category
from .dates import us_date
from .models import AuditEvent, Patient, User

VISIT_GAP = timedelta(minutes=30)
PER_PAGE = 20


class Reason:
    """Why a group of reads was allowed, as the accounting groups them (stable API values)."""

    RELEASE = "release"
    REFERRAL = "referral"
    NAMED_IN_RELEASE = "named_in_release"
    CARE_TEAM = "care_team"
    WROTE_IT = "wrote_it"
    OTHER = "other"

    CHOICES = [RELEASE, REFERRAL, NAMED_IN_RELEASE, CARE_TEAM, WROTE_IT, OTHER]
    DISCLOSURES = frozenset({RELEASE, REFERRAL, NAMED_IN_RELEASE})


# The audit row's `via` names every grant that allowed it, sorted and comma-joined
# ("care_team,release:<uuid>"). A care-team member's reads are the care team's, even when a
# mutual release was in force too (a prescriber reading her own plan is no disclosure); a read
# that only a release allowed is one, whoever made it: a clinician of another practice reading
# what the patient's other clinician wrote (one record at a time, the access policy names
# only the grants that cover it).
_REFERRAL = Q(via="referral") | Q(via__startswith="referral,") | Q(via__contains=",referral")
# A list that the access policy filtered record by record is audited with no `via`: the grant
# that opened it is on the page's own decision, a row of the same request (same person, same
# patient, written in the same batch, seconds apart). Such a row takes its reason from there.
REQUEST_SPAN = timedelta(minutes=2)


def _same_request(condition: Q) -> Exists:
    return Exists(
        AuditEvent.objects.filter(
            condition,
            patient_id=OuterRef("patient_id"),
            actor_id=OuterRef("actor_id"),
            request_id=OuterRef("request_id"),
            at__gte=OuterRef("at") - REQUEST_SPAN,
            at__lte=OuterRef("at") + REQUEST_SPAN,
            outcome=AuditEvent.Outcome.ALLOWED,
        )
    )


_UNNAMED = Q(via="") & ~Q(request_id="")
REASON = Case(
    When(via__contains="care_team", then=Value(Reason.CARE_TEAM)),
    When(via__contains="release:", then=Value(Reason.RELEASE)),
    When(_REFERRAL, then=Value(Reason.REFERRAL)),
    # Reading what one wrote oneself groups with the care team's reads of that day (one line
    # for a clinician's visit); `_build` says "what they wrote" when that is all it was.
    When(via="author", then=Value(Reason.CARE_TEAM)),
    When(via__contains="named in release", then=Value(Reason.NAMED_IN_RELEASE)),
    When(
        _UNNAMED & _same_request(Q(via__contains="care_team") | Q(via="author")),
        then=Value(Reason.CARE_TEAM),
    ),
    When(_UNNAMED & _same_request(Q(via__contains="release:")), then=Value(Reason.RELEASE)),
    When(_UNNAMED & _same_request(_REFERRAL), then=Value(Reason.REFERRAL)),
    default=Value(Reason.OTHER),
    output_field=CharField(),
)

# What the patient reads for each kind of information: "your medicines", never a code.
# Psychotherapy notes and the accounting itself never appear (see `_events`).
INFORMATION = {
    Category.PROFILE: "your details",
    Category.SUMMARY: "the care team's summary of you",
    Category.SUMMARY_RESPONSE: "your reply to the summary",
    Category.MEDICATIONS: "your medicines",
    Category.PURPOSE: "what your medicines are for",
    Category.REFILLS: "your refill requests",
    Category.OBSERVATIONS: "how your medicines are working",
    Category.ALLIANCE: "your check-ins",
    Category.OUTCOMES: "your questionnaires",
    Category.GOALS: "your goals",
    Category.NARRATIVE_NOTES: "your notes",
    Category.REFERRALS: "your referrals",
    Category.RELEASES: "your releases",
    Category.SUBSTANCE_USE: "your substance-use information",
    # Kinds the policy came to name apart, said as the patient has always read them (a read
    # of the clinicians' thread was one of how the medicines work; a consultation, of the
    # check-ins; the safety plan, of the goals), so that the accounting reads as it did.
    Category.THREADS: "how your medicines are working",
    Category.CONSULTATIONS: "your check-ins",
    Category.SAFETY_PLAN: "your goals",
    Category.MESSAGES: "your messages",
    Category.VISITS: "your visits",
}
# The order a person reads them in: what matters most to them first, who they are last.
_ORDER = {
    str(c): i
    for i, c in enumerate(
        [
            Category.MEDICATIONS,
            Category.PURPOSE,
            Category.GOALS,
            Category.SAFETY_PLAN,
            Category.NARRATIVE_NOTES,
            Category.MESSAGES,
            Category.VISITS,
            Category.ALLIANCE,
            Category.CONSULTATIONS,
            Category.OUTCOMES,
            Category.OBSERVATIONS,
            Category.THREADS,
            Category.REFILLS,
            Category.SUBSTANCE_USE,
            Category.SUMMARY,
            Category.SUMMARY_RESPONSE,
            Category.REFERRALS,
            Category.RELEASES,
            Category.PROFILE,
        ]
    )
}
# A visit screen opens a dozen kinds at once: the line names the first few, the rest are
# counted (and listed in full beside it, and in the API's `did`).
NAMED_IN_LINE = 4

LOOKED_AT = "looked at"
DOWNLOADED = "printed or downloaded"
IN_A_LIST = "saw you in a list of patients"


def information_label(category: str) -> str:
    return INFORMATION.get(category, "other information in your record")


def join_words(items: list[str]) -> str:
    """Words joined as a sentence says them: a; a and b; a, b and c."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def join_information(labels: list[str]) -> str:
    """Kinds of information joined, a repeated "your" said once: your medicines and goals."""
    shortened = []
    for i, label in enumerate(labels):
        if i and label.startswith("your ") and labels[i - 1].startswith("your "):
            label = label.removeprefix("your ")
        shortened.append(label)
    return join_words(shortened)


@dataclass(frozen=True)
class Did:
    """One thing a person did in a group: "looked at" these kinds of information."""

    action: str
    information: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if not self.information:
            return self.action
        named = list(self.information)
        if len(named) > NAMED_IN_LINE:
            rest = len(named) - (NAMED_IN_LINE - 1)
            named = [*named[: NAMED_IN_LINE - 1], f"{rest} other parts of your record"]
        return f"{self.action} {join_information(named)}"

    @property
    def shortened(self) -> bool:
        return len(self.information) > NAMED_IN_LINE

    @property
    def full_text(self) -> str:
        if not self.information:
            return self.action
        return f"{self.action} {join_information(list(self.information))}"


@dataclass(frozen=True)
class ReleaseSeen:
    signed_on: date
    url: str = ""


@dataclass(frozen=True)
class Group:
    """One line of the accounting: a person, a day, a reason; what they saw, how many visits."""

    who: str
    practice: str | None
    day: date
    first_at: datetime
    last_at: datetime
    times: int
    did: tuple[Did, ...]
    reason: str
    releases: tuple[ReleaseSeen, ...] = field(default=())

    @property
    def disclosure(self) -> bool:
        return self.reason in Reason.DISCLOSURES

    @property
    def what(self) -> str:
        texts = [d.text for d in self.did]
        if len(texts) <= 2:
            return ", and ".join(texts)
        return ", ".join(texts[:-1]) + ", and " + texts[-1]

    @property
    def shortened(self) -> bool:
        return any(d.shortened for d in self.did)

    @property
    def times_text(self) -> str:
        if self.times == 1:
            return "once"
        if self.times == 2:
            return "twice"
        return f"{self.times} times"

    @property
    def day_text(self) -> str:
        return _day_text(self.day)

    @property
    def sentence(self) -> str:
        times = f", {self.times_text}" if self.times > 1 else ""
        return f"{self.who} {self.what}{times} on {self.day_text}"

    @property
    def because(self) -> str:
        if self.reason == Reason.RELEASE:
            days = sorted({r.signed_on for r in self.releases})
            if not days:
                return "under a release you signed"
            signed = join_words([_day_text(d) for d in days])
            noun = "release" if len(days) == 1 else "releases"
            return f"under the {noun} you signed on {signed}"
        return {
            Reason.REFERRAL: "because you were referred to them",
            Reason.NAMED_IN_RELEASE: "because a release you signed names them",
            Reason.CARE_TEAM: "because they are on your care team",
            Reason.WROTE_IT: "to read what they wrote themselves",
        }.get(self.reason, "with the clinic's permission")


def _day_text(day: date) -> str:
    if day.year == timezone.localdate().year:
        return us_date(day, "day")
    return us_date(day)


def patient_zone(patient: Patient) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(patient.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _events(patient: Patient, viewer) -> QuerySet:
    """The rows the accounting counts: others' allowed reads, lists and exports.

    Psychotherapy (process) notes are left out: only their author may read them, so every such
    row is the therapist reading their own notes, no disclosure to account for, and HIPAA keeps
    the notes out of the patient's right of access. Listing those reads, under any name, would
    tell the patient that process notes exist and when they were opened. The clinic's own
    audit search still shows them. The accounting's own reads are left out too.
    """
    return (
        AuditEvent.objects.filter(patient=patient, outcome=AuditEvent.Outcome.ALLOWED)
        .filter(action__in=[Action.READ, Action.LIST, Action.EXPORT])
        .exclude(actor_id=viewer.pk)
        .exclude(category=Category.AUDIT)
        .exclude(category=Category.PSYCHOTHERAPY_NOTES)
        .annotate(day=TruncDate("at", tzinfo=patient_zone(patient)), reason=REASON)
    )


class RecordViews:
    """The patient's accounting as a lazy, sliceable sequence of `Group`s, newest first.

    Django's Paginator and DRF's pagination both take it. The groups' keys (person, day,
    reason, first and last time) come from one aggregate query, shared with `disclosures()`:
    a few hundred small rows for years of care, whatever the number of audit rows. A slice
    then costs three more (the page's rows, the people, the releases named).
    """

    def __init__(
        self, *, patient: Patient, viewer, disclosures_only: bool = False, providers=(), _keys=None
    ):
        self.patient = patient
        self.providers = providers
        self.disclosures_only = disclosures_only
        self._viewer = viewer
        self._events = _events(patient, viewer)
        self._shared = _keys if _keys is not None else {}

    def disclosures(self) -> "RecordViews":
        """The same accounting, only the reads a release or a referral allowed."""
        return RecordViews(
            patient=self.patient,
            viewer=self._viewer,
            disclosures_only=True,
            providers=self.providers,
            _keys=self._shared,
        )

    def _keys(self) -> list[dict]:
        if "all" not in self._shared:
            self._shared["all"] = list(
                self._events.values("actor_id", "day", "reason")
                .annotate(first_at=Min("at"), last_at=Max("at"), n=Count("id"))
                .order_by("-last_at", "actor_id", "reason")
            )
        keys = self._shared["all"]
        if self.disclosures_only:
            return [k for k in keys if k["reason"] in Reason.DISCLOSURES]
        return keys

    def count(self) -> int:
        return len(self._keys())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        return self._build(self._keys()[index])

    def _build(self, keys: list[dict]) -> list[Group]:
        if not keys:
            return []
        actor_ids = {k["actor_id"] for k in keys}
        people = Q(actor_id__in=[a for a in actor_ids if a is not None])
        if None in actor_ids:
            people |= Q(actor__isnull=True)
        rows = (
            self._events.filter(people)
            .filter(at__gte=min(k["first_at"] for k in keys))
            .filter(at__lte=max(k["last_at"] for k in keys))
            .order_by("at", "id")
            .values_list("actor_id", "day", "reason", "at", "category", "action", "via")
        )
        wanted = {(k["actor_id"], k["day"], k["reason"]): k for k in keys}
        seen: dict[tuple, dict] = {key: {"at": [], "pairs": set(), "vias": set()} for key in wanted}
        for actor_id, day, reason, at, category, action, via in rows:
            bucket = seen.get((actor_id, day, reason))
            if bucket is None:  # another group of the same person in the same span
                continue
            bucket["at"].append(at)
            bucket["pairs"].add((action, category))
            if reason == Reason.RELEASE:
                bucket["vias"].update(t for t in via.split(",") if t.startswith("release:"))
            if via != "author":
                bucket["not_only_own"] = True
        users = {
            u.pk: u
            for u in User.objects.filter(pk__in=[a for a in actor_ids if a is not None])
            .select_related("practice")
            .only("pk", "full_name", "practice__name")
        }
        releases = self._release_details(set().union(*(b["vias"] for b in seen.values())))
        groups = []
        for key, k in wanted.items():
            bucket = seen[key]
            user = users.get(k["actor_id"])
            groups.append(
                Group(
                    who=(user.full_name if user else "") or "Concord",
                    practice=user.practice.name if user and user.practice_id else None,
                    day=k["day"],
                    first_at=k["first_at"],
                    last_at=k["last_at"],
                    times=_visits(bucket["at"]) or 1,
                    did=_did(bucket["pairs"]),
                    reason=(
                        Reason.WROTE_IT
                        if k["reason"] == Reason.CARE_TEAM and not bucket.get("not_only_own")
                        else k["reason"]
                    ),
                    releases=tuple(
                        sorted(
                            (releases[v] for v in bucket["vias"] if v in releases),
                            key=lambda r: r.signed_on,
                        )
                    ),
                )
            )
        return groups

    def _release_details(self, vias: set[str]) -> dict[str, ReleaseSeen]:
        """What the grant providers can say about the releases these rows name (their signing
        day): one query at most, and only about this patient's releases."""
        if not vias:
            return {}
        found: dict[str, ReleaseSeen] = {}
        for provider in self.providers:
            for via, facts in provider.via_details(self.patient, vias).items():
                found[via] = ReleaseSeen(signed_on=facts["signed_on"], url=facts.get("url", ""))
        return found


def _visits(times: list[datetime]) -> int:
    """Sittings in a sorted list of times: a gap longer than VISIT_GAP starts a new one."""
    visits = 0
    previous = None
    for at in times:
        if previous is None or at - previous > VISIT_GAP:
            visits += 1
        previous = at
    return visits


def _did(pairs: set[tuple[str, str]]) -> tuple[Did, ...]:
    looked, downloaded, listed = set(), set(), False
    for action, category in pairs:
        if action == Action.LIST and category == Category.PROFILE:
            listed = True
        elif action == Action.EXPORT:
            downloaded.add(category)
        else:
            looked.add(category)

    def labels(categories):
        # Each said once: two kinds may read alike ("your goals": the goals, the safety plan).
        ordered = sorted(categories, key=lambda c: _ORDER.get(c, 99))
        return tuple(dict.fromkeys(information_label(c) for c in ordered))

    did = []
    if looked:
        did.append(Did(LOOKED_AT, labels(looked)))
    if downloaded:
        did.append(Did(DOWNLOADED, labels(downloaded)))
    if listed:
        did.append(Did(IN_A_LIST))
    return tuple(did)
