"""Secure messages: conversations the patient starts with their care team (or one clinician
of it), the messages in them, and who has read each message.

A conversation addressed to one clinician is that clinician's (`access_about`): read by them
and their colleagues on the team in the same practice, and elsewhere only under a release in
force that names messages and that clinician. One addressed to the whole team is the
patient's words, read by the whole care team. What a clinician made of a message (an
observation on a medicine, a refill request, a goal proposed to the patient) is kept by
reference: messaging sits below prescribing and beside stories.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

SUBJECT_MAX = 120
TEXT_MAX = 4000


class Conversation(models.Model):
    """One subject between the patient and their care team."""

    # Whose it is, for the policy: the clinician it is addressed to (none: the whole team).
    access_about = "clinician"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    # The practice of the clinician it is addressed to; none for the whole team (the
    # patient's words, like anything else they write).
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(max_length=SUBJECT_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_message_at"]
        indexes = [models.Index(fields=["patient", "-last_message_at"])]
        constraints = [
            models.CheckConstraint(name="conversation_subject_present", condition=~Q(subject="")),
            models.CheckConstraint(
                name="conversation_addressed_in_its_practice",
                condition=Q(clinician__isnull=True, practice__isnull=True)
                | Q(clinician__isnull=False, practice__isnull=False),
            ),
        ]

    def __str__(self):
        return f"Conversation started {self.created_at:%Y-%m-%d}"


class Message(models.Model):
    class RecordKind(models.TextChoices):
        OBSERVATION = "observation", "Observation"
        REFILL_REQUEST = "refill_request", "Refill request"
        GOAL = "goal", "Goal proposal"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="messages"
    )
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    # Where it was written: the clinician's practice; none for the patient's own words.
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=TEXT_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    # The record a clinician made of this message, by reference (kind, uuid, where it is read).
    record_kind = models.CharField(max_length=20, choices=RecordKind.choices, blank=True)
    record_uuid = models.UUIDField(null=True, blank=True)
    record_label = models.CharField(max_length=300, blank=True)
    record_path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"])]
        constraints = [
            models.CheckConstraint(name="message_text_present", condition=~Q(text="")),
        ]

    def __str__(self):
        return f"Message of {self.created_at:%Y-%m-%d}"


class Receipt(models.Model):
    """Someone other than its author opened the conversation with this message in it."""

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="receipts")
    reader = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["read_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "reader"], name="one_receipt_per_reader")
        ]

    def __str__(self):
        return f"Read {self.read_at:%Y-%m-%d}"
