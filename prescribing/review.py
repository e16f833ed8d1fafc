"""Pure rules of the collaborator model's two questions about a medicine: does a decision have
to say whose need it serves, and should the medicine be reviewed for deprescribing?

No queries here: callers pass a medication with its goals (the ones the reader may see) and
decisions prefetched, as `selectors.medication_plan` gives them.
"""

from dataclasses import dataclass
from datetime import date

from . import doses

# Five or more current medicines at once: the usual threshold for polypharmacy.
MANY_MEDICINES = 5
# A review may be put off, never for ever: at most this many days ahead.
SNOOZE_MAX_DAYS = 183

ASKING_KINDS = ("start", "restart", "switch")


def is_increase(before: dict, after: dict) -> bool:
    """A dose change that raises the daily amount, or one whose amounts cannot be read (then
    it is asked as an increase: better asked once too often than a rise unexplained)."""
    old, new = doses.daily_amounts(before, after)
    if old is None or new is None:
        return True
    return new > old


def asks_whose_need(kind: str, before: dict | None = None, after: dict | None = None) -> bool:
    """Must this decision name the goals it serves and whose need drives it? A start (a new
    medicine, a proposal, starting a proposed one), a restart, a switch and a dose increase."""
    if kind in ASKING_KINDS:
        return True
    if kind == "dose_change":
        return is_increase(before or {}, after or {})
    return False


@dataclass(frozen=True)
class Flag:
    """One reason to review a medicine. `key` is what a review answers: a goal's flag names
    the goal, so a goal closed after the review raises it again."""

    key: str
    kind: str
    text: str


def _goal_closed(goal) -> bool:
    return goal.status in ("achieved", "let_go")


def raised_flags(medication, *, current_count: int, goals_known: bool = True) -> list[Flag]:
    """Why this medicine may no longer be needed, whatever has been reviewed: it serves no
    open goal; its purpose is not written in the patient's words; a goal it was for has been
    achieved or let go; it is one of five or more at once. Only for a medicine taken now
    (active or paused). `goals_known` False (the reader may not see the goals) leaves the
    goal flags out rather than claiming there are none."""
    if medication.status not in ("active", "paused"):
        return []
    flags = []
    goals = list(medication.goals.all())
    if goals_known:
        if not any(g.is_open for g in goals):
            flags.append(
                Flag("no_open_goal", "no_open_goal", "Serves none of the patient's open goals")
            )
        for goal in goals:
            if _goal_closed(goal):
                word = "achieved" if goal.status == "achieved" else "let go"
                flags.append(
                    Flag(
                        f"goal_closed:{goal.uuid}",
                        "goal_closed",
                        f"Started for “{goal.what}”, since {word}",
                    )
                )
    if not (medication.purpose or "").strip():
        flags.append(
            Flag("no_purpose", "no_purpose", "Its purpose is not written in the patient's words")
        )
    if current_count >= MANY_MEDICINES:
        flags.append(
            Flag(
                "many_medicines",
                "many_medicines",
                f"One of {current_count} medicines taken at once",
            )
        )
    return flags


def last_review(medication):
    """The newest review decision among the prefetched decisions (newest first), or None."""
    return next((d for d in medication.decisions.all() if d.review_outcome), None)


@dataclass(frozen=True)
class ReviewState:
    """What the visit screen and the medicine's page say about reviewing one medicine."""

    flags: list  # the flags still to answer
    raised: list  # every flag raised now, answered or not
    snoozed_until: date | None = None
    last: object = None

    @property
    def due(self) -> bool:
        return bool(self.flags)

    @property
    def asks_patient(self) -> bool:
        """The patient is asked whether it still helps while a review is due or put off."""
        return bool(self.flags) or self.snoozed_until is not None


def review_state(medication, *, current_count: int, on: date, goals_known: bool = True):
    """The flags a review has not answered yet. A review answers the flags it saw: one raised
    since (another goal closed, a fifth medicine) asks again. A "review later" answers
    nothing from its date on: that day every flag raised is back."""
    raised = raised_flags(medication, current_count=current_count, goals_known=goals_known)
    last = last_review(medication)
    if last is None:
        return ReviewState(flags=raised, raised=raised)
    if last.review_outcome == "snooze":
        if last.review_until is not None and on < last.review_until:
            return ReviewState(flags=[], raised=raised, snoozed_until=last.review_until, last=last)
        return ReviewState(flags=raised, raised=raised, last=last)
    answered = set(last.review_flags)
    return ReviewState(flags=[f for f in raised if f.key not in answered], raised=raised, last=last)
