"""Referrals, releases of information, their revocations, and the collaboration thread.

A signed release is immutable (its table refuses UPDATE and DELETE); revoking it adds a
Revocation row. Whether a release is in force is computed on every request from the signed
row, its expiry and its revocations: nothing cached can outlive a revocation.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

# Categories a release may cover: the core vocabulary less what a release never carries
# (psychotherapy process notes) and what is not clinical information (the audit, releases).
RELEASABLE = [
    ("profile", "Who I am (name, date of birth, care team)"),
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
    ("referrals", "Referrals"),
    ("substance_use", "Substance-use disorder information (42 CFR Part 2)"),
]


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
    # Who moves a referral on: its recipient answers it; either side may start or close.
    RECIPIENT_ONLY = frozenset({Status.ACCEPTED, Status.DECLINED})

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

    STATEMENT_VERSION = 1

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
    expires_at = models.DateTimeField()
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
