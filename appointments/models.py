"""Booked visits and the follow-up cadence a clinician keeps with a patient.

A visit is booked with one clinician of the care team and is that clinician's (`access_about`):
read by them and their colleagues on the team in the same practice, by the patient, and
elsewhere only under a release in force that names visits and that clinician, like anything
they wrote. The patient asks to move or cancel a visit (the policy's ANSWER); the clinic
confirms (UPDATE). What a visit was about is never stored here: a visit has a kind, a time and
a place, no clinical content, so that its calendar file can carry it safely.
"""

import uuid
from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.dates import sensible_date

PLACE_MAX = 200
NOTE_MAX = 300


class Visit(models.Model):
    # Whose it is, for the policy: the clinician it is booked with.
    access_about = "clinician"

    class Kind(models.TextChoices):
        MEDICATION = "medication", "Medication visit"
        THERAPY = "therapy", "Therapy session"
        JOINT = "joint", "Prescriber and therapist together"

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        ATTENDED = "attended", "Attended"
        CANCELLED = "cancelled", "Cancelled"
        MISSED = "missed", "Missed"

    class Change(models.TextChoices):
        MOVE = "move", "Move it"
        CANCEL = "cancel", "Cancel it"

    # Where a booked visit may go, and nowhere else: a visit that happened (or did not) stays.
    TRANSITIONS = {
        Status.BOOKED: {Status.ATTENDED, Status.CANCELLED, Status.MISSED},
        Status.ATTENDED: set(),
        Status.CANCELLED: set(),
        Status.MISSED: set(),
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    # The practice of the clinician it is booked with.
    practice = models.ForeignKey("core.Practice", on_delete=models.PROTECT, related_name="+")
    # A clinician books their own visits (a joint one names the other in `also_with`): who
    # wrote the record and whom it is with are one person, a constraint below.
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    # A joint visit: the other clinician in the room (shown, not a second owner).
    also_with = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    starts_at = models.DateTimeField(validators=[sensible_date])
    minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    place = models.CharField(max_length=PLACE_MAX, blank=True)
    video_link = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who cancelled it (the patient, through a request the clinic confirmed, or the clinic).
    cancelled_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The patient's request to move or cancel it, waiting for the clinic to confirm.
    change_asked = models.CharField(max_length=10, choices=Change.choices, blank=True)
    change_note = models.CharField(max_length=NOTE_MAX, blank=True)
    change_asked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["clinician", "status", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="visit_has_a_place_or_a_link",
                condition=~Q(place="") | ~Q(video_link=""),
            ),
            models.CheckConstraint(
                name="visit_cancelled_by_only_when_cancelled",
                condition=Q(cancelled_by__isnull=True) | Q(status="cancelled"),
            ),
            models.CheckConstraint(
                name="visit_change_asked_only_while_booked",
                condition=Q(change_asked="") | Q(status="booked"),
            ),
            models.CheckConstraint(
                name="visit_minutes_in_range", condition=Q(minutes__gte=5, minutes__lte=240)
            ),
            models.CheckConstraint(
                name="visit_is_its_clinician_s", condition=Q(author=models.F("clinician"))
            ),
        ]

    def __str__(self):
        return f"Visit of {self.starts_at:%Y-%m-%d}"

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def is_upcoming(self) -> bool:
        return self.status == self.Status.BOOKED and self.ends_at > timezone.now()

    @property
    def needs_recording(self) -> bool:
        """Its time has passed and nobody said whether the patient came."""
        return self.status == self.Status.BOOKED and self.ends_at <= timezone.now()

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, set())


class Cadence(models.Model):
    """How often a clinician wants to see a patient: one per clinician and patient."""

    access_about = "clinician"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey("core.Practice", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    every_weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    # Counting starts here when the patient has had no visit with the clinician yet.
    set_on = models.DateField(default=timezone.localdate)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "clinician"], name="one_cadence_each"),
            models.CheckConstraint(
                name="cadence_weeks_in_range", condition=Q(every_weeks__gte=1, every_weeks__lte=52)
            ),
        ]

    def __str__(self):
        return f"Every {self.every_weeks} weeks"
