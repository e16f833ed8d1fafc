"""Referrals, releases of information, their revocations, and the collaboration thread.

A signed release is immutable (its table refuses UPDATE and DELETE); revoking it adds a
Revocation row. Whether a release is in force is computed on every request from the signed
row, its expiry and its revocations: nothing cached can outlive a revocation.
"""

import uuid
import zoneinfo
from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.dates import us_date

from . import statements

# Categories a release may cover: the core vocabulary less what a release never carries
# (psychotherapy process notes) and what is not clinical information (the audit, releases).
RELEASABLE = [
    ("profile", "Who I am (name, date of birth, care team)"),
    ("summary", "How my care team describes me (the summary they wrote)"),
    ("summary_response", "What I wrote in response to that summary"),
    ("medications", "My medicines and why I take them"),
    ("refills", "Refill requests"),
    (
        "observations",
        "Observations (how medicines work for me, side effects, adherence) and the team's messages",
    ),
    ("alliance", "Alliance check-ins"),
    ("outcomes", "Outcome questionnaires (PHQ-9, GAD-7)"),
    ("goals", "My goals and progress"),
    ("narrative_notes", "Notes marked as shareable under a release"),
    ("messages", "My messages to the clinician who shares, and their replies"),
    ("visits", "My visits with the clinician who shares (when, where, whether I came)"),
    ("referrals", "Referrals"),
    ("substance_use", "Substance-use disorder information (42 CFR Part 2)"),
]


# How long a release may last: a patient signs for a period they can picture, and the form
# says so. An "until this happens" event may end it sooner, never later.
RELEASE_MAX_YEARS = 10
# The latest instant we ever hand to Python for an expiry: far enough from datetime.max that
# turning it into any time zone (±14 h) cannot overflow. Rows stored before the limit existed
# (9999-12-31 in New York is year 10000 in UTC) are read back as this.
LATEST_EXPIRY = datetime(9999, 12, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))


def patient_zone(patient) -> zoneinfo.ZoneInfo:
    """The patient's own time zone (the clinic's when theirs is missing or unknown)."""
    try:
        return zoneinfo.ZoneInfo(patient.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def latest_end_date(signed_on: date) -> date:
    """The last end date a release signed on `signed_on` may have."""
    return _years_later(signed_on, RELEASE_MAX_YEARS)


def release_end_problem(end: date | None, signed_on: date) -> str | None:
    """What is wrong with this end date for a release signed on `signed_on`, in words, or None.

    `signed_on` is the signing day in the patient's time zone."""
    if end is None:
        return "Choose an end date."
    if end <= signed_on:
        return "Choose an end date after today."
    latest = latest_end_date(signed_on)
    if end > latest:
        return (
            f"A release can last at most {RELEASE_MAX_YEARS} years: choose an end date on or "
            f"before {us_date(latest)}. To share for longer, sign a new release then."
        )
    return None


def end_of_day(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    """The last moment of `day` in `zone`: a release ending on a day is in force all that day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)


class ExpiryField(models.DateTimeField):
    """A DateTimeField that can always be read back.

    PostgreSQL keeps years up to 294276; Python's datetime stops at 9999, and psycopg refuses
    to load a later one, so a single far-future row made every page listing it answer 500.
    The column is read through LEAST(…, LATEST_EXPIRY): storage is unchanged (a signed
    release is never rewritten), what reaches Python is always a date it can format."""

    def select_format(self, compiler, sql, params):
        sql, params = super().select_format(compiler, sql, params)
        if compiler.connection.vendor == "postgresql":
            return f"LEAST({sql}, %s)", (*params, LATEST_EXPIRY)
        return sql, params


class Referral(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        ACTIVE = "active", "Active collaboration"
        CLOSED = "closed", "Closed"

    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine (within a month)"
        SOON = "soon", "Soon (within a week)"
        URGENT = "urgent", "Urgent (within two days)"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.SENT: frozenset({Status.ACCEPTED, Status.DECLINED}),
        Status.ACCEPTED: frozenset({Status.ACTIVE, Status.CLOSED}),
        Status.ACTIVE: frozenset({Status.CLOSED}),
        Status.DECLINED: frozenset(),
        Status.CLOSED: frozenset(),
    }
    # The statuses that answer a referral (Action.ANSWER); the others move it on (UPDATE).
    RECIPIENT_ONLY = frozenset({Status.ACCEPTED, Status.DECLINED})
    # Only its recipient answers it; only its two clinicians start or close it (core.access).
    access_rules = ("recipient_answers", "referral_parties")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey("core.Practice", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    to_clinician = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, related_name="referrals_received"
    )
    reason = models.TextField(max_length=3000)
    questions = models.TextField("Questions to answer", max_length=3000, blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    decline_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The care-team place accepting it gave the recipient (none if they were already on the
    # team): closing the referral ends it.
    membership = models.ForeignKey(
        "core.CareTeamMembership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["to_clinician", "status"]),
            models.Index(fields=["patient", "status"]),
        ]
        constraints = [
            models.CheckConstraint(name="referral_reason_not_blank", condition=~Q(reason="")),
            models.CheckConstraint(
                name="declined_referral_has_reason",
                condition=~Q(status="declined") | ~Q(decline_reason=""),
            ),
        ]

    def __str__(self):
        return f"Referral {self.get_status_display().lower()}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.SENT, self.Status.ACCEPTED, self.Status.ACTIVE)


class Release(models.Model):
    """A signed authorisation (HIPAA 45 CFR 164.508(c); 42 CFR 2.31 when substance-use
    information is in scope). Immutable once written: every field here was signed."""

    STATEMENT_VERSION = statements.CURRENT

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    discloser = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    discloser_practice = models.ForeignKey(
        "core.Practice", on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    recipient_practice = models.ForeignKey(
        "core.Practice", on_delete=models.PROTECT, related_name="+"
    )
    mutual = models.BooleanField(
        default=True, help_text="Information may flow both ways between the two named clinicians."
    )
    categories = models.JSONField()
    purpose = models.TextField(max_length=2000)
    expires_at = ExpiryField()
    expiry_event = models.CharField(
        max_length=300, blank=True, help_text="An earlier event that ends it, if any."
    )
    statement_version = models.PositiveSmallIntegerField(default=STATEMENT_VERSION)
    signed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    signed_user_agent = models.CharField(max_length=400, blank=True)
    signed_by_representative = models.BooleanField(default=False)
    representative_authority = models.CharField(max_length=300, blank=True)
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-signed_at"]
        indexes = [
            models.Index(fields=["recipient", "expires_at"]),
            models.Index(fields=["discloser", "expires_at"]),
            models.Index(fields=["patient", "expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="release_parties_differ", condition=~Q(discloser=models.F("recipient"))
            ),
            models.CheckConstraint(
                name="release_signed_name_present", condition=~Q(signed_name="")
            ),
            models.CheckConstraint(
                name="release_expires_after_signing",
                condition=Q(expires_at__gt=models.F("signed_at")),
            ),
            models.CheckConstraint(
                name="representative_states_authority",
                condition=Q(signed_by_representative=False) | ~Q(representative_authority=""),
            ),
        ]

    def __str__(self):
        return f"Release signed {self.signed_at:%Y-%m-%d}"

    def clean(self):
        zone = patient_zone(self.patient)
        signed_on = timezone.localtime(self.signed_at or timezone.now(), zone).date()
        end = timezone.localtime(min(self.expires_at, LATEST_EXPIRY), zone).date()
        problem = release_end_problem(end, signed_on)
        if problem:
            raise ValidationError({"expires_at": problem})

    @property
    def ends_on(self) -> date:
        """The last day it is in force, in the patient's time zone (as they chose it)."""
        expires = min(self.expires_at, LATEST_EXPIRY)
        return timezone.localtime(expires, patient_zone(self.patient)).date()

    @property
    def covers_substance_use(self) -> bool:
        return "substance_use" in self.categories

    def category_labels(self) -> list[str]:
        labels = dict(RELEASABLE)
        return [labels[c] for c in self.categories if c in labels]


class Revocation(models.Model):
    """The patient's revocation of a release: effective at once. Append-only."""

    release = models.OneToOneField(Release, on_delete=models.PROTECT, related_name="revocation")
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=500, blank=True)

    def __str__(self):
        return f"Revoked {self.revoked_at:%Y-%m-%d}"


class ThreadPost(models.Model):
    """The prescriber and therapist's shared thread about one patient."""

    class Kind(models.TextChoices):
        ADHERENCE = "adherence", "Adherence concern"
        CHANGE = "change", "Change noticed after a medication change"
        SIDE_EFFECT = "side_effect", "Side effect"
        QUESTION = "question", "Question for the prescriber"
        EVALUATION = "evaluation", "Needs a medical evaluation"
        REPLY = "reply", "Reply"
        NOTE = "note", "Note"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey("core.Practice", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField(max_length=4000)
    # The medicine a post is about, by reference: referrals sits below prescribing, so it
    # keeps the uuid and the name as shown when the post was written.
    medication_uuid = models.UUIDField(null=True, blank=True)
    medication_name = models.CharField(max_length=300, blank=True)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["patient", "created_at"])]
        constraints = [models.CheckConstraint(name="thread_post_not_blank", condition=~Q(text=""))]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.created_at:%Y-%m-%d}"
