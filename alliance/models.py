"""Alliance and outcome check-ins with instruments as data, concern flags, safety alerts and
prescriber–therapist alliance consultations.

Check-ins are written by the patient (no practice); the access categories are `alliance`
and `outcomes` by the instrument's kind. An outcome check-in is the patient's, seen by the
whole care team. An alliance check-in rates one relationship: it is that clinician's (and the
patient's), so the policy judges it as if that clinician wrote it (`access_about`), and
another practice reads it only under a release naming them, while it is in force.
Consultations are their own category, `consultations`: the care team's; the patient reads
those shared with them; a release naming alliance check-ins carries them.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.dates import sensible_date


class Instrument(models.Model):
    """One version of an instrument. A response keeps the version it was given with."""

    class Kind(models.TextChoices):
        ALLIANCE = "alliance", "Alliance"
        OUTCOME = "outcome", "Outcome"

    key = models.SlugField(max_length=60)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    licence_note = models.TextField()
    definition = models.JSONField()
    active = models.BooleanField(default=True, help_text="Offered for new check-ins.")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="instrument_key_version_unique")
        ]

    def __str__(self):
        return f"{self.name} (v{self.version})"

    @property
    def about_clinician(self) -> bool:
        return bool(self.definition.get("about_clinician"))


class AllianceSettings(models.Model):
    """Clinic-wide choices. One row."""

    show_alliance_scores_to_patients = models.BooleanField(
        default=True,
        help_text="Some clinics keep alliance scores for clinicians; patients always see their own answers.",
    )

    class Meta:
        verbose_name_plural = "alliance settings"

    def __str__(self):
        return "Alliance settings"


class Schedule(models.Model):
    """When a patient is asked for a check-in: every N weeks, and before the next visit."""

    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    instrument_key = models.SlugField(max_length=60)
    clinician = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    every_weeks = models.PositiveSmallIntegerField(default=4)
    next_visit_on = models.DateField(null=True, blank=True, validators=[sensible_date])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "instrument_key", "clinician"],
                name="one_schedule_per_relationship",
            ),
            models.CheckConstraint(
                name="schedule_every_weeks_positive", condition=Q(every_weeks__gte=1)
            ),
        ]

    def __str__(self):
        return f"{self.instrument_key} every {self.every_weeks} weeks"


class CheckIn(models.Model):
    # Whose it is for the access policy: the clinician whose relationship it rates, if any.
    access_about = "clinician"
    # The patient's own answers: theirs to answer, and theirs alone until sent.
    access_rules = ("patient_answers", "draft_is_the_patients")

    class Status(models.TextChoices):
        DRAFT = "draft", "In progress"
        SUBMITTED = "submitted", "Submitted"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="check_ins")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="check_ins")
    clinician = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alliance_check_ins",
        help_text="The relationship rated, for alliance instruments.",
    )
    answers = models.JSONField(default=dict, blank=True)
    open_answer = models.TextField(blank=True, max_length=3000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    total = models.FloatField(null=True, blank=True)
    subscales = models.JSONField(default=dict, blank=True)
    band = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-created_at"]
        indexes = [models.Index(fields=["patient", "instrument", "clinician", "submitted_at"])]
        constraints = [
            models.CheckConstraint(
                name="submitted_check_in_is_scored",
                condition=Q(status="draft")
                | (Q(total__isnull=False) & Q(submitted_at__isnull=False)),
            ),
            # One draft per patient, instrument and relationship: resuming finds it again.
            models.UniqueConstraint(
                fields=["patient", "instrument", "clinician"],
                condition=Q(status="draft"),
                name="one_draft_per_check_in",
            ),
        ]

    def __str__(self):
        return f"{self.instrument} {self.get_status_display().lower()}"

    @property
    def category(self) -> str:
        return "alliance" if self.instrument.kind == Instrument.Kind.ALLIANCE else "outcomes"


class Flag(models.Model):
    """An alliance concern (or, for outcomes, a safety alert) waiting for a clinician."""

    # A concern is the clinician's of the relationship, like the check-in that raised it; a
    # safety alert names no clinician and reaches the whole care team.
    access_about = "clinician"
    # Acknowledged by the clinician the concern is about; a safety alert, by anyone on the team.
    access_rules = ("concern_of_its_clinician",)

    class Kind(models.TextChoices):
        ALLIANCE_CONCERN = "alliance_concern", "Alliance concern"
        SAFETY = "safety", "Safety alert"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    check_in = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    clinician = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reasons = models.JSONField(default=list)
    score = models.FloatField()
    baseline = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["acknowledged_at", "-created_at"]
        indexes = [models.Index(fields=["patient", "acknowledged_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["check_in", "kind"], name="one_flag_per_check_in_and_kind"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.patient_id}"

    REASON_LABELS = {
        "below_cutoff": "below the instrument's cut-off",
        "drop_from_baseline": "a reliable drop from the patient's own baseline",
        "safety_item": "PHQ-9 item 9 answered above 0",
    }

    def reason_labels(self) -> list[str]:
        return [self.REASON_LABELS.get(r, r) for r in self.reasons]


class Consultation(models.Model):
    """Prescriber and therapist ask together: are there issues in our alliance with this patient,
    and what can we do to strengthen it?"""

    # The patient reads it only when it is shared with them; its author alone changes it.
    access_rules = ("consultation_audience", "author_edits")

    QUESTION = "Are there issues in our therapeutic alliance with this patient? What can we do to strengthen it?"

    class Audience(models.TextChoices):
        CLINICIANS = "clinicians", "Between the patient's clinicians"
        PATIENT = "patient", "Shared with the patient"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    prescriber = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    issues = models.TextField("Issues we see", max_length=4000)
    actions = models.TextField("What we agreed to do", max_length=4000)
    # Chosen when written; between clinicians unless they decide the patient reads it.
    audience = models.CharField(
        max_length=20, choices=Audience.choices, default=Audience.CLINICIANS
    )
    held_on = models.DateField(default=timezone.localdate, validators=[sensible_date])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-created_at"]

    def __str__(self):
        return f"Consultation on {self.held_on}"
