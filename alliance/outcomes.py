"""Reading change in outcome measures, as pure functions: no database, no clock.

Reliable change is Jacobson & Truax's (1991): RCI = (x2 − x1) / S_diff, with
S_diff = √(2·SE²) and SE = SD·√(1 − r_xx); |RCI| > 1.96 is change larger than the
instrument's measurement error would give one time in twenty. It says the change is real,
not that it matters clinically or that the patient is well: response (a fall of half or more)
and remission (below the instrument's floor) are separate answers, shown separately.

Each instrument's SD, reliability, response and remission rules and their sources are data,
in `instruments/norms/reliable_change.json`, beside the instrument definitions.
"""

import json
import math
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from . import scoring

NORMS_FILE = Path(__file__).resolve().parent / "instruments" / "norms" / "reliable_change.json"
Z = 1.96  # two-tailed, p < .05
WEEKS_TO_IMPROVE = 8  # no reliable improvement by then: not on track


@dataclass(frozen=True)
class Norms:
    """How to read change on one instrument, with where each figure comes from."""

    key: str
    sd: float
    reliability: float
    higher_is_better: bool
    published_threshold: int | None
    response_drop: float
    remission_below: float
    sources: dict = field(default_factory=dict, compare=False)

    @property
    def s_diff(self) -> float:
        return s_diff(self.sd, self.reliability)

    @property
    def threshold(self) -> int:
        """The smallest whole-point change that is reliable."""
        return reliable_change_points(self.sd, self.reliability)


@cache
def _load(path: str) -> dict:
    data = json.loads(Path(path).read_text())
    norms = {}
    for key, entry in data["instruments"].items():
        norms[key] = Norms(
            key=key,
            sd=float(entry["sd"]),
            reliability=float(entry["reliability"]),
            higher_is_better=bool(entry.get("higher_is_better", False)),
            published_threshold=entry.get("published_threshold"),
            response_drop=float(entry["response_drop"]),
            remission_below=float(entry["remission_below"]),
            sources={
                k: v for k, v in entry.items() if k.endswith(("_source", "_kind", "_checked"))
            },
        )
    return norms


def all_norms() -> dict[str, Norms]:
    return _load(str(NORMS_FILE))


def norms_for(key: str) -> Norms | None:
    """The reliable-change figures of an instrument (by key), or None when it has none."""
    return all_norms().get(key)


def standard_error(sd: float, reliability: float) -> float:
    """SE = SD·√(1 − r). Raises ValueError for an SD below 0 or a reliability outside 0 … 1."""
    if sd < 0:
        raise ValueError("A standard deviation is not negative.")
    if not 0 <= reliability <= 1:
        raise ValueError("Reliability is between 0 and 1.")
    return sd * math.sqrt(1 - reliability)


def s_diff(sd: float, reliability: float) -> float:
    """The standard error of the difference between two scores: √(2·SE²)."""
    return math.sqrt(2 * standard_error(sd, reliability) ** 2)


def rci(before: float, after: float, sd: float, reliability: float) -> float:
    """Jacobson & Truax's reliable change index. Raises ValueError when S_diff is 0 (a
    perfectly reliable or constant measure has no measurement error to compare with)."""
    spread = s_diff(sd, reliability)
    if spread == 0:
        raise ValueError("S_diff is 0: reliable change is undefined.")
    return (after - before) / spread


def reliable_change_points(sd: float, reliability: float, z: float = Z) -> int:
    """The smallest whole-point change with |RCI| > z (whole-number totals)."""
    return math.floor(z * s_diff(sd, reliability)) + 1


@dataclass(frozen=True)
class Change:
    """One instrument's change from baseline to the latest score, read every way we show."""

    baseline: float
    latest: float
    rci: float
    reliable_improvement: bool
    reliable_deterioration: bool
    response: bool
    remission: bool

    @property
    def change(self) -> float:
        return self.latest - self.baseline

    @property
    def reliable(self) -> bool:
        return self.reliable_improvement or self.reliable_deterioration


def change(norms: Norms, baseline: float, latest: float) -> Change:
    """Baseline to latest: reliable improvement or deterioration (|RCI| > 1.96 in that
    direction), response (a fall of at least `response_drop` of the baseline; none from a
    baseline of 0) and remission (latest below the floor)."""
    index = rci(baseline, latest, norms.sd, norms.reliability)
    better = index > 0 if norms.higher_is_better else index < 0
    reliable = abs(index) > Z
    if norms.higher_is_better:
        response = False  # response is defined for symptom measures only
        remission = False
    else:
        response = baseline > 0 and (baseline - latest) >= norms.response_drop * baseline
        remission = latest < norms.remission_below
    return Change(
        baseline=baseline,
        latest=latest,
        rci=index,
        reliable_improvement=reliable and better,
        reliable_deterioration=reliable and not better,
        response=response,
        remission=remission,
    )


# Why a patient is not on track, in the order the page names them.
NO_IMPROVEMENT = "no_reliable_improvement"
DETERIORATION = "reliable_deterioration"
ALLIANCE_CONCERN = "alliance_concern"
REASON_LABELS = {
    DETERIORATION: "Reliably worse",
    NO_IMPROVEMENT: f"No reliable improvement after {WEEKS_TO_IMPROVE} weeks",
    ALLIANCE_CONCERN: "Alliance concern",
}


@dataclass(frozen=True)
class Trajectory:
    """One patient's outcome instrument over time: scores (oldest first) and what they say."""

    key: str
    points: tuple  # ((date, total), …), oldest first
    change: Change | None
    weeks: float

    @property
    def latest(self) -> float:
        return self.points[-1][1]

    @property
    def baseline(self) -> float:
        return self.points[0][1]


def trajectory(norms: Norms, points, today: date) -> Trajectory:
    """Read a series of (date, total), oldest first. The baseline is the first score;
    `weeks` runs from it to `today`. Raises ValueError on an empty series."""
    points = tuple(sorted(points, key=lambda p: p[0]))
    if not points:
        raise ValueError("A trajectory needs at least one score.")
    weeks = (today - points[0][0]).days / 7
    measured = change(norms, points[0][1], points[-1][1]) if len(points) > 1 else None
    return Trajectory(key=norms.key, points=points, change=measured, weeks=weeks)


def not_on_track(trajectories, *, alliance_concern: bool) -> list[str]:
    """Why a patient is not on track, worst first (empty when on track): reliable
    deterioration on any instrument; no reliable improvement on an instrument whose baseline
    is at least `WEEKS_TO_IMPROVE` weeks old (counting a patient with no score since); an
    open alliance concern."""
    reasons = []
    if any(t.change is not None and t.change.reliable_deterioration for t in trajectories):
        reasons.append(DETERIORATION)
    if any(
        t.weeks >= WEEKS_TO_IMPROVE
        and not (t.change is not None and t.change.reliable_improvement)
        and not (t.change is not None and t.change.reliable_deterioration)
        for t in trajectories
    ):
        reasons.append(NO_IMPROVEMENT)
    if alliance_concern:
        reasons.append(ALLIANCE_CONCERN)
    return reasons


def alliance_direction(definition: dict, totals: list[float]) -> str:
    """The alliance trend of one relationship: "better", "worse" or "steady", the latest score
    against the patient's own baseline (the median of the three before it) by the
    instrument's reliable-change threshold; "" with fewer than two scores."""
    if len(totals) < 2:
        return ""
    base = scoring.baseline(totals[:-1])
    moved = totals[-1] - base
    if not definition.get("higher_is_better", True):
        moved = -moved
    if moved >= definition["reliable_change"]:
        return "better"
    if -moved >= definition["reliable_change"]:
        return "worse"
    return "steady"
