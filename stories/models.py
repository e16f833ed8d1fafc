"""Goals in the patient's own words, their progress, the narrative, and the person's summary.

Every record carries `patient`, `practice` (where it was written; empty when the patient wrote
it) and `author`: the fields core.access filters on. Nothing here is ever deleted: goals are
let go or marked entered-in-error, notes are marked entered-in-error, and every edit keeps
the earlier version.
"""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.dates import sensible_date
from core.text import refuse_bidi_controls
from stories.markdown import MAX_CHARS, too_long_message

GAS_MIN, GAS_MAX = -2, 2
LEVEL_NAMES = ("minus2", "minus1", "0", "plus1", "plus2")


class Goal(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        ACHIEVED = "achieved", "Achieved"
        LET_GO = "let_go", "Let go"
        ENTERED_IN_ERROR = "entered_in_error", "Entered in error"

    # Allowed status changes, as data. A goal is never deleted.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PROPOSED: frozenset({Status.ACTIVE, Status.LET_GO, Status.ENTERED_IN_ERROR}),
        Status.ACTIVE: frozenset(
            {Status.ON_HOLD, Status.ACHIEVED, Status.LET_GO, Status.ENTERED_IN_ERROR}
        ),
        Status.ON_HOLD: frozenset(
            {Status.ACTIVE, Status.ACHIEVED, Status.LET_GO, Status.ENTERED_IN_ERROR}
        ),
        Status.ACHIEVED: frozenset({Status.ACTIVE}),
        Status.LET_GO: frozenset({Status.ACTIVE}),
        Status.ENTERED_IN_ERROR: frozenset(),
    }
    # Words on the buttons that make each change.
    TRANSITION_LABELS = {
        Status.ACTIVE: "Make it active",
        Status.ON_HOLD: "Put on hold",
        Status.ACHIEVED: "Mark achieved",
        Status.LET_GO: "Let it go",
        Status.ENTERED_IN_ERROR: "Entered in error",
    }

    class ProposedBy(models.TextChoices):
        PATIENT = "patient", "The patient"
        CLINICIAN = "clinician", "A clinician"

    # Who changes a goal and who accepts one (core.access.RECORD_RULES): the patient; its
    # proposer only their own proposal. What state allows which change is the service's.
    access_rules = ("patient_or_proposer_edits", "patient_accepts")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="goals")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    proposed_by = models.CharField(max_length=10, choices=ProposedBy.choices)
    what = models.CharField("What I want", max_length=500)
    why = models.TextField("Why it matters to me", blank=True, max_length=2000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    target_date = models.DateField(null=True, blank=True, validators=[sensible_date])
    level_minus2 = models.CharField("Much less than I hoped (−2)", max_length=300, blank=True)
    level_minus1 = models.CharField("Somewhat less than I hoped (−1)", max_length=300, blank=True)
    level_0 = models.CharField("What I expect (0)", max_length=300, blank=True)
    level_plus1 = models.CharField("Somewhat more than I hoped (+1)", max_length=300, blank=True)
    level_plus2 = models.CharField("Much more than I hoped (+2)", max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "status"])]
        constraints = [
            models.CheckConstraint(name="goal_what_not_blank", condition=~Q(what="")),
        ]

    def __str__(self):
        return self.what

    def clean(self):
        if not self.what.strip():
            raise ValidationError({"what": "Write what you want, in your own words."})
        refuse_bidi_controls(self, "what", *(f"level_{n}" for n in LEVEL_NAMES))

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())

    def next_statuses(self) -> list[tuple[str, str]]:
        order = [s for s in self.Status.values if s in self.TRANSITIONS[self.status]]
        return [(s, self.TRANSITION_LABELS[s]) for s in order]

    @property
    def levels(self) -> list[tuple[int, str]]:
        return [
            (-2, self.level_minus2),
            (-1, self.level_minus1),
            (0, self.level_0),
            (1, self.level_plus1),
            (2, self.level_plus2),
        ]

    @property
    def has_levels(self) -> bool:
        return any(text for _, text in self.levels)

    @property
    def latest_rating(self):
        """The newest rating; uses prefetched ratings (oldest first) when there are some."""
        ratings = list(self.ratings.all())
        return ratings[-1] if ratings else None

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PROPOSED, self.Status.ACTIVE, self.Status.ON_HOLD)


class GoalRevision(models.Model):
    """The goal as it was before an edit or status change."""

    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="revisions")
    version = models.PositiveIntegerField()
    what = models.CharField(max_length=500)
    why = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Goal.Status.choices)
    target_date = models.DateField(null=True, blank=True)
    levels = models.JSONField(default=list)
    changed_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["goal", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "version"], name="goal_revision_unique")
        ]

    def __str__(self):
        return f"{self.goal_id} v{self.version}"


class GoalRating(models.Model):
    """Progress on a goal at one moment, on the goal attainment scale −2 … +2."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="ratings")
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    rating = models.SmallIntegerField(
        validators=[MinValueValidator(GAS_MIN), MaxValueValidator(GAS_MAX)]
    )
    note = models.CharField(max_length=500, blank=True)
    rated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rated_at"]
        indexes = [models.Index(fields=["goal", "rated_at"])]
        constraints = [
            models.CheckConstraint(
                name="gas_rating_in_range", condition=Q(rating__gte=GAS_MIN, rating__lte=GAS_MAX)
            ),
        ]

    def __str__(self):
        return f"{self.rating:+d}"


class NarrativeNote(models.Model):
    class Kind(models.TextChoices):
        STORY = "story", "My story"
        CLINICIAN = "clinician", "Clinician's note"
        PSYCHOTHERAPY = "psychotherapy", "Psychotherapy process note"

    class Audience(models.TextChoices):
        ONLY_ME = "only_me", "Only me"
        CARE_TEAM = "care_team", "My care team"
        RELEASE = "release", "Shareable under a release"

    class Status(models.TextChoices):
        CURRENT = "current", "Current"
        ENTERED_IN_ERROR = "entered_in_error", "Entered in error"

    # Who reads a note (its audience; another practice's only if shareable under a release)
    # and who changes it, entered in error included: its author (core.access.RECORD_RULES).
    access_rules = ("note_audience", "note_from_elsewhere", "author_edits")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "core.Patient", on_delete=models.PROTECT, related_name="narrative_notes"
    )
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    audience = models.CharField(max_length=20, choices=Audience.choices)
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(max_length=MAX_CHARS)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CURRENT)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "-created_at"])]
        constraints = [
            # Process notes stay with their author: never the care team, never a release.
            models.CheckConstraint(
                name="psychotherapy_note_only_author",
                condition=~Q(kind="psychotherapy") | Q(audience="only_me"),
            ),
            models.CheckConstraint(name="note_body_not_blank", condition=~Q(body="")),
        ]

    def __str__(self):
        return self.title or f"{self.get_kind_display()} of {self.created_at:%Y-%m-%d}"

    def clean(self):
        refuse_bidi_controls(self, "title")
        if not self.body.strip():
            raise ValidationError({"body": "The note is empty. Write something, or cancel."})
        # A TextField's max_length is not checked by full_clean; the renderer relies on it.
        if len(self.body) > MAX_CHARS:
            raise ValidationError({"body": too_long_message(len(self.body))})
        if self.kind == self.Kind.PSYCHOTHERAPY and self.audience != self.Audience.ONLY_ME:
            raise ValidationError(
                {"audience": "Psychotherapy process notes are kept for their author alone."}
            )


class NoteRevision(models.Model):
    note = models.ForeignKey(NarrativeNote, on_delete=models.PROTECT, related_name="revisions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    audience = models.CharField(max_length=20, choices=NarrativeNote.Audience.choices)
    status = models.CharField(max_length=20, choices=NarrativeNote.Status.choices)
    changed_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["note", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["note", "version"], name="note_revision_unique")
        ]

    def __str__(self):
        return f"{self.note_id} v{self.version}"


class PersonSummary(models.Model):
    """Who the person is and what matters to them, in plain words, by the care team.

    Written with and for the patient, it belongs to the whole care team (no practice).
    """

    patient = models.OneToOneField(
        "core.Patient", on_delete=models.PROTECT, related_name="person_summary"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=3000)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)
    patient_response = models.TextField(blank=True, max_length=3000)
    patient_responded_at = models.DateTimeField(null=True, blank=True)
    # The clinical terms the author was warned about and chose to keep ("Save anyway"),
    # as the list named them; empty when the words were plain.
    terms_kept = models.CharField(max_length=500, blank=True)

    def __str__(self):
        return f"Summary of {self.patient}"

    @property
    def practice_id(self) -> None:
        """Written for the whole care team, in no one practice (what core.access asks of a
        record); a release carries it only when its author is the party the release names."""
        return None


class SummaryRevision(models.Model):
    summary = models.ForeignKey(PersonSummary, on_delete=models.PROTECT, related_name="revisions")
    version = models.PositiveIntegerField()
    text = models.TextField()
    patient_response = models.TextField(blank=True)
    terms_kept = models.CharField(max_length=500, blank=True)
    changed_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["summary", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["summary", "version"], name="summary_revision_unique")
        ]

    def __str__(self):
        return f"{self.summary_id} v{self.version}"


class SummaryTerm(models.Model):
    """One clinical term or label the summary warns about (stories.terms finds them).

    The clinic's own list: shipped in stories/data/summary_terms.csv, replaced with
    `manage.py summary_terms_import`. Not patient data.
    """

    text = models.CharField(max_length=60, unique=True)
    match_case = models.BooleanField(
        default=False, help_text="Abbreviations (SI, MDD) match only as written."
    )
    instead = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["text"]

    def __str__(self):
        return self.text


class SafetyPlan(models.Model):
    """One version of the patient's safety plan (Stanley–Brown), in their words, written alone
    or with a clinician. Each save is a new version; none is ever changed or deleted.

    The plan is the patient's own document, wherever it was written: `practice` stays empty,
    so the whole care team reads it under the rules for what the patient wrote (as goals).
    """

    SECTIONS = [
        ("warning_signs", "Warning signs that a crisis may be starting"),
        ("coping", "Things I can do on my own to take my mind off my problems"),
        ("distractions", "People and places that help me feel better"),
        ("people", "People I can ask for help"),
        ("professionals", "Professionals and crisis lines I can call"),
        ("safer_environment", "Making my surroundings safer"),
        ("reasons_for_living", "My reasons for living"),
    ]

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    warning_signs = models.TextField(max_length=2000, blank=True)
    coping = models.TextField(max_length=2000, blank=True)
    distractions = models.TextField(max_length=2000, blank=True)
    people = models.TextField(max_length=2000, blank=True)
    professionals = models.TextField(max_length=2000, blank=True)
    safer_environment = models.TextField(max_length=2000, blank=True)
    reasons_for_living = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="one_safety_plan_version"),
            models.CheckConstraint(name="safety_plan_is_the_patients", condition=Q(practice=None)),
        ]

    def __str__(self):
        return f"Safety plan v{self.version}"

    def clean(self):
        if not any(getattr(self, name).strip() for name, _label in self.SECTIONS):
            raise ValidationError("Write at least one part of the plan; each can be short.")

    @property
    def sections(self) -> list[tuple[str, str]]:
        return [(label, getattr(self, name)) for name, label in self.SECTIONS]
