"""Instruments as data, scored by pure functions: no database, no clock.

A definition (a dict loaded from JSON) names its items, response scales, scoring method,
subscales, cut-off, reliable-change threshold, severity bands and any safety rule.
"""

from dataclasses import dataclass, field
from statistics import median

REQUIRED_KEYS = (
    "key",
    "version",
    "name",
    "kind",
    "licence_note",
    "items",
    "scales",
    "scoring",
    "cutoff",
    "reliable_change",
)


class DefinitionError(ValueError):
    """The instrument definition is not usable; the message says what is wrong."""


def validate_definition(definition: dict) -> None:
    """Raise DefinitionError unless the definition can be given and scored."""
    missing = [key for key in REQUIRED_KEYS if key not in definition]
    if missing:
        raise DefinitionError(f"Missing: {', '.join(missing)}.")
    if definition["kind"] not in ("alliance", "outcome"):
        raise DefinitionError("kind is 'alliance' or 'outcome'.")
    if not str(definition["licence_note"]).strip():
        raise DefinitionError("Every instrument states its license.")
    ids = [item.get("id") for item in definition["items"]]
    if not ids or len(ids) != len(set(ids)):
        raise DefinitionError("Items need unique ids.")
    for item in definition["items"]:
        if item.get("scale") not in definition["scales"]:
            raise DefinitionError(f"Item {item.get('id')} uses an unknown scale.")
        if not item.get("text"):
            raise DefinitionError(f"Item {item.get('id')} has no text.")
    scoring = definition["scoring"]
    if scoring.get("method") not in ("sum", "mean"):
        raise DefinitionError("scoring.method is 'sum' or 'mean'.")
    unknown = set(scoring.get("items", [])) - set(ids)
    for members in scoring.get("subscales", {}).values():
        unknown |= set(members) - set(ids)
    if unknown or not scoring.get("items"):
        raise DefinitionError("Scoring names items the instrument does not have.")
    safety = definition.get("safety")
    if safety and safety.get("item") not in ids:
        raise DefinitionError("The safety rule names an unknown item.")


def item_values(definition: dict, item: dict) -> list[int]:
    """The allowed answers of one item."""
    scale = definition["scales"][item["scale"]]
    if "options" in scale:
        return [value for value, _ in scale["options"]]
    return list(range(scale["min"], scale["max"] + 1))


def missing_items(definition: dict, answers: dict) -> list[dict]:
    """Items without a valid answer, in order."""
    return [
        item
        for item in definition["items"]
        if answers.get(item["id"]) not in item_values(definition, item)
    ]


@dataclass(frozen=True)
class Score:
    total: float
    subscales: dict = field(default_factory=dict)
    band: str = ""
    below_cutoff: bool = False  # "worse than the cut-off", whichever way the instrument points
    safety_alert: bool = False


def _combine(method: str, values: list[int]) -> float:
    if method == "sum":
        return float(sum(values))
    return round(sum(values) / len(values), 2)


def score(definition: dict, answers: dict) -> Score:
    """Score a complete set of answers. Raises ValueError when an answer is missing or invalid."""
    missing = missing_items(definition, answers)
    if missing:
        raise ValueError(f"{len(missing)} question(s) unanswered.")
    scoring = definition["scoring"]
    total = _combine(scoring["method"], [answers[i] for i in scoring["items"]])
    subscales = {
        name: _combine(scoring["method"], [answers[i] for i in members])
        for name, members in scoring.get("subscales", {}).items()
    }
    band = ""
    for floor, label in definition.get("bands", []):
        if total >= floor:
            band = label
    safety = definition.get("safety")
    safety_alert = bool(safety) and answers.get(safety["item"], 0) > safety.get("above", 0)
    return Score(
        total=total,
        subscales=subscales,
        band=band,
        below_cutoff=is_worse_than_cutoff(definition, total),
        safety_alert=safety_alert,
    )


def is_worse_than_cutoff(definition: dict, total: float) -> bool:
    if definition.get("higher_is_better", True):
        return total < definition["cutoff"]
    return total >= definition["cutoff"]


@dataclass(frozen=True)
class FlagDecision:
    below_cutoff: bool
    dropped: bool
    baseline: float | None

    @property
    def raised(self) -> bool:
        return self.below_cutoff or self.dropped

    @property
    def reasons(self) -> list[str]:
        reasons = []
        if self.below_cutoff:
            reasons.append("below_cutoff")
        if self.dropped:
            reasons.append("drop_from_baseline")
        return reasons


def baseline(previous: list[float]) -> float | None:
    """The patient's own baseline: the median of their last three scores before this one."""
    if not previous:
        return None
    return float(median(previous[-3:]))


def flag(definition: dict, total: float, previous: list[float]) -> FlagDecision:
    """Should this score raise a concern? Below (worse than) the cut-off, or worse than the
    patient's own baseline by at least the reliable-change threshold. The first response has
    no baseline, so it can only be flagged by the cut-off."""
    base = baseline(previous)
    dropped = False
    if base is not None:
        change = total - base
        worse = -change if definition.get("higher_is_better", True) else change
        dropped = worse >= definition["reliable_change"]
    return FlagDecision(
        below_cutoff=is_worse_than_cutoff(definition, total), dropped=dropped, baseline=base
    )


def due_on(last_submitted, every_weeks: int, next_visit_on=None, days_before_visit: int = 7):
    """When the next check-in is due: `every_weeks` after the last one, or the week before the
    next visit if that comes sooner and the last one is older than that week. None = now."""
    from datetime import timedelta

    if last_submitted is None:
        return None
    due = last_submitted + timedelta(weeks=every_weeks)
    if next_visit_on is not None:
        window = next_visit_on - timedelta(days=days_before_visit)
        if last_submitted < window < due:
            due = window
    return due
