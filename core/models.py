"""People and access: users, practices, patients, care teams, the audit trail, notifications."""

import uuid
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .states import US_STATES
from .text import refuse_bidi_controls


class Role(models.TextChoices):
    PRESCRIBER = "prescriber", "Prescriber"
    THERAPIST = "therapist", "Therapist"
    PATIENT = "patient", "Patient"
    ADMIN = "admin", "Clinic admin"


CLINICIAN_ROLES = frozenset({Role.PRESCRIBER, Role.THERAPIST})


class Practice(models.Model):
    class Kind(models.TextChoices):
        PSYCHIATRY = "psychiatry", "Psychiatry practice"
        THERAPY = "therapy", "Therapy practice"
        PRIMARY_CARE = "primary_care", "Primary care practice"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(
        max_length=2,
        blank=True,
        choices=US_STATES,
        help_text="Selects the state's prescription limits for the medicines prescribed here.",
    )
    # Crisis help: what a patient of this practice is told after hours. Shown only when set.
    after_hours_phone = models.CharField(
        "after-hours phone",
        max_length=30,
        blank=True,
        validators=[
            RegexValidator(
                r"^\+?[0-9(][0-9 ().-]{5,28}$",
                "Enter a phone number with digits, spaces, brackets or dashes, e.g. (555) 010-0199.",
            )
        ],
    )
    after_hours_instructions = models.TextField(
        "after-hours instructions",
        max_length=1000,
        blank=True,
        help_text="What a patient should do out of hours, in plain words.",
    )
    reply_time = models.CharField(
        "when the care team replies",
        max_length=120,
        blank=True,
        help_text="Completes the sentence “Your care team will be in touch …”, "
        "e.g. “within one business day”. Promise no more than the practice keeps.",
    )
    # The same promise as a number the clinic is held to: a patient's message its team has not
    # opened for longer is overdue (the care team's Today page, one reminder). None: no promise.
    reply_days = models.PositiveSmallIntegerField(
        "days a message may wait unread",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="After this many days unread by the care team, a patient's message shows as "
        "overdue on their Today page and they are reminded once. Leave empty for no limit.",
    )

    def __str__(self):
        return self.name

    @property
    def after_hours_tel(self) -> str:
        """The after-hours phone as a tel: link wants it: digits, and a leading + if any."""
        digits = "".join(c for c in self.after_hours_phone if c.isdigit())
        return ("+" if self.after_hours_phone.startswith("+") else "") + digits


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("role", Role.ADMIN)
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in. Patients get a User once they accept an invitation."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role.choices)
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    # A clinician who leads the practice's quality work: with the clinic admins, the only one
    # who sees the practice's equity view (aggregates only).
    is_clinic_lead = models.BooleanField("clinic lead", default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="clinician_has_practice",
                condition=~Q(role__in=["prescriber", "therapist"]) | Q(practice__isnull=False),
            ),
        ]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        # A name is shown alone, in lists and headings: reversed text there passes for real.
        refuse_bidi_controls(self, "full_name")

    @property
    def is_clinician(self) -> bool:
        return self.role in CLINICIAN_ROLES

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == Role.ADMIN


class Patient(models.Model):
    """A person in care. The record may exist before the patient has a login."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="patient_record"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [models.Index(fields=["family_name", "given_name"])]

    def __str__(self):
        return self.display_name

    def clean(self):
        refuse_bidi_controls(self, "given_name", "family_name", "preferred_name")

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.given_name
        return f"{first} {self.family_name}"


class SelfDescription(models.Model):
    """How a patient describes themselves, if they wish: every answer optional, none asked for
    on a clinical page, none shown on one. Read only by the patient (a category of its own in
    the policy) and counted, never listed, in the clinic's equity view (`clinic/equity.py`).

    Race and ethnicity follow the US federal categories of 2024 (OMB SPD 15: one combined
    question, several answers allowed). `race_group` is what the equity view counts by: the
    one category chosen, "multiple", "declined", or "" when the question was left alone."""

    class RaceEthnicity(models.TextChoices):
        AMERICAN_INDIAN = "aian", "American Indian or Alaska Native"
        ASIAN = "asian", "Asian"
        BLACK = "black", "Black or African American"
        HISPANIC = "hispanic", "Hispanic or Latino"
        MIDDLE_EASTERN = "mena", "Middle Eastern or North African"
        PACIFIC_ISLANDER = "nhpi", "Native Hawaiian or Pacific Islander"
        WHITE = "white", "White"

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        SPANISH = "es", "Spanish"
        CHINESE = "zh", "Chinese"
        VIETNAMESE = "vi", "Vietnamese"
        TAGALOG = "tl", "Tagalog"
        ARABIC = "ar", "Arabic"
        HAITIAN_CREOLE = "ht", "Haitian Creole"
        OTHER = "other", "Another language"
        DECLINED = "declined", "Prefer not to say"

    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        INTERSEX = "intersex", "Intersex"
        DECLINED = "declined", "Prefer not to say"

    class Gender(models.TextChoices):
        WOMAN = "woman", "Woman"
        MAN = "man", "Man"
        TRANSGENDER_WOMAN = "trans_woman", "Transgender woman"
        TRANSGENDER_MAN = "trans_man", "Transgender man"
        NONBINARY = "nonbinary", "Non-binary"
        ANOTHER = "another", "Another gender identity"
        DECLINED = "declined", "Prefer not to say"

    MULTIPLE = "multiple"
    DECLINED = "declined"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.OneToOneField(
        Patient, on_delete=models.PROTECT, related_name="self_description"
    )
    race_ethnicity = models.JSONField(
        "race and ethnicity", default=list, blank=True, help_text="Choose all that apply."
    )
    race_declined = models.BooleanField("prefer not to say", default=False)
    race_group = models.CharField(max_length=12, blank=True, editable=False, db_index=True)
    preferred_language = models.CharField(max_length=10, choices=Language.choices, blank=True)
    sex = models.CharField("sex assigned at birth", max_length=10, choices=Sex.choices, blank=True)
    gender_identity = models.CharField(max_length=12, choices=Gender.choices, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Self-description of {self.patient_id}"

    def save(self, *args, **kwargs):
        self.race_group = self.group_of(self.race_ethnicity, self.race_declined)
        super().save(*args, **kwargs)

    def clean(self):
        chosen = list(self.race_ethnicity or [])
        known = set(self.RaceEthnicity.values)
        if not isinstance(self.race_ethnicity, list) or any(c not in known for c in chosen):
            raise ValidationError({"race_ethnicity": "Choose from the categories listed."})
        if len(set(chosen)) != len(chosen):
            raise ValidationError({"race_ethnicity": "Choose each category once."})
        if chosen and self.race_declined:
            raise ValidationError(
                {"race_declined": "Choose categories or “prefer not to say”, not both."}
            )

    @classmethod
    def group_of(cls, chosen, declined: bool) -> str:
        """The one group the equity view counts a person in, so that groups add up to the whole."""
        if declined:
            return cls.DECLINED
        if not chosen:
            return ""
        return chosen[0] if len(chosen) == 1 else cls.MULTIPLE

    @property
    def is_empty(self) -> bool:
        return not (
            self.race_ethnicity
            or self.race_declined
            or self.preferred_language
            or self.sex
            or self.gender_identity
        )


class CareTeamMembershipQuerySet(models.QuerySet):
    def active(self, on=None):
        """On the team on `on`: from `since` (included) to `until` (the first day off the
        team, excluded), so a membership ended today gives nothing today."""
        on = on or timezone.localdate()
        return self.filter(Q(since__lte=on), Q(until__isnull=True) | Q(until__gt=on))


class CareTeamMembership(models.Model):
    class TeamRole(models.TextChoices):
        PRESCRIBER = "prescriber", "Prescriber"
        THERAPIST = "therapist", "Therapist"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team")
    clinician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=TeamRole.choices)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="memberships")
    since = models.DateField(default=timezone.localdate)
    until = models.DateField(null=True, blank=True)

    objects = CareTeamMembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "clinician", "since"], name="one_membership_start_per_day"
            ),
            models.CheckConstraint(
                name="membership_until_after_since",
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
            ),
        ]
        indexes = [models.Index(fields=["clinician", "patient"])]

    def __str__(self):
        return f"{self.clinician} · {self.get_role_display()} for {self.patient}"


class Invitation(models.Model):
    """A single-use link that lets a patient, or a member of a practice's staff, set a
    password. Only the token's hash is kept.

    A patient's goes to their address on file, nowhere else, and asks for their date of birth
    and the code handed over at the clinic. A staff invitation (no patient: `role`, `practice`
    and `full_name` say who the account is for) is sent by a clinic admin from Clinic settings
    to the address they typed, and asks for the code the admin handed over."""

    class ClosedReason(models.TextChoices):
        TOO_MANY_ATTEMPTS = "too_many_attempts", "Closed after too many wrong answers"
        SUPERSEDED = "superseded", "Replaced by a newer invitation"
        ADDRESS_CHANGED = "address_changed", "The address on file changed"
        WITHDRAWN = "withdrawn", "Withdrawn by the clinic admin"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="invitations"
    )
    # A staff invitation: the account it makes (a patient's takes these from the record).
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    full_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # What only the patient has: a short code handed to them at the clinic (kept as an HMAC,
    # keyed by the server's secret) and their date of birth. Wrong answers are counted; at
    # MAX_ATTEMPTS the invitation is closed for good.
    code_hash = models.CharField(max_length=64, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=20, choices=ClosedReason.choices, blank=True)

    MAX_ATTEMPTS = 5

    class Meta:
        constraints = [
            # For a patient (their record says who they are), or for staff of a practice in a
            # role other than patient: never both, never neither.
            models.CheckConstraint(
                name="invitation_for_a_patient_or_staff",
                condition=(Q(patient__isnull=False) & Q(role="") & Q(practice__isnull=True))
                | (
                    Q(patient__isnull=True)
                    & Q(role__in=["prescriber", "therapist", "admin"])
                    & Q(practice__isnull=False)
                ),
            ),
        ]

    def __str__(self):
        return f"Invitation for {self.email}"

    def clean(self):
        refuse_bidi_controls(self, "full_name")

    @property
    def is_for_staff(self) -> bool:
        return self.patient_id is None

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.closed_at is None and now < self.expires_at


class PatientEmailChange(models.Model):
    """A change of a patient's address on file (the one invitations go to), and its proof.

    Either a clinician verified the person in person (who, when, how), or the patient
    confirmed it from the old address through a one-time link (only the token's hash is kept).
    """

    class Method(models.TextChoices):
        IN_PERSON = "in_person", "Verified in person at the clinic"
        OLD_ADDRESS = "old_address", "Confirmed by the patient from the old address"

    class Proof(models.TextChoices):
        PHOTO_ID = "photo_id", "Photo ID seen"
        KNOWN_IN_PERSON = "known_in_person", "Known to me in person, face to face"
        INSURANCE_CARD = "insurance_card", "Insurance card and date of birth checked"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="email_changes")
    old_email = models.EmailField(blank=True)
    new_email = models.EmailField()
    method = models.CharField(max_length=20, choices=Method.choices)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    # In person: the clinician who saw the patient, and what they checked.
    verified_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proof = models.CharField(max_length=20, choices=Proof.choices, blank=True)
    # From the old address: the link's token (hashed) and how long it works.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # When the change took effect; a request replaced or outdated is closed instead.
    applied_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                name="email_change_in_person_names_who_and_how",
                condition=~Q(method="in_person")
                | (Q(verified_by__isnull=False) & ~Q(proof="") & Q(applied_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="email_change_old_address_has_token",
                condition=~Q(method="old_address")
                | (~Q(token_hash="") & Q(expires_at__isnull=False) & ~Q(old_email="")),
            ),
        ]

    def __str__(self):
        return f"Address change for patient {self.patient_id} ({self.get_method_display()})"

    def is_pending(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.applied_at is None
            and self.closed_at is None
            and self.expires_at is not None
            and now < self.expires_at
        )


class AuditEvent(models.Model):
    """One read, list, export, write or denial of patient information. Append-only.

    Rows of one chain (one patient, or the no-patient chain) are hash-linked: each stores
    the previous row's hash. UPDATE, DELETE and TRUNCATE are refused by database triggers.
    No clinical content is ever stored here.
    """

    class HashVersion(models.IntegerChoices):
        # Rows written before migration core.0008 keep the hash they were written with:
        # rewriting an append-only table to re-hash it is what tampering looks like.
        SHA256 = 1, "SHA-256 (legacy)"
        HMAC = 2, "HMAC-SHA256 with CONCORD_AUDIT_KEY"

    class Action(models.TextChoices):
        READ = "read", "Read"
        LIST = "list", "List"
        EXPORT = "export", "Export"
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        SIGN_IN = "sign_in", "Sign-in"
        PRESCRIBE = "prescribe", "Prescribe"
        ANSWER = "answer", "Answer"
        ACKNOWLEDGE = "acknowledge", "Acknowledge"

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        DENIED = "denied", "Denied"

    chain = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(max_length=40)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    via = models.CharField(
        max_length=400, blank=True, help_text="What allowed it: self, care team, release:<id>"
    )
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    v = models.PositiveSmallIntegerField(choices=HashVersion.choices, default=HashVersion.HMAC)

    class Meta:
        ordering = ["chain", "seq"]
        # On PostgreSQL the table is partitioned by month (migration core.0011): a unique
        # constraint must include the partition key there, so (chain, seq) is an index and its
        # uniqueness is kept by the chain head's lock and checked by audit_verify.
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")
        ]
        indexes = [
            models.Index(fields=["patient", "-at"], name="audit_patient_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
            models.Index(fields=["-at"], name="audit_at"),
        ]

    def __str__(self):
        return f"{self.chain}#{self.seq} {self.action} {self.category} {self.outcome}"


class AuditChainHead(models.Model):
    """The last link of one audit chain; locked while a row is appended to that chain only."""

    chain = models.CharField(max_length=40, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self):
        return f"{self.chain} at #{self.seq}"


class Notification(models.Model):
    """An in-app message. Its title is never clinical: the link leads to the content."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.title


class NotificationPreference(models.Model):
    """How a person wants to hear from Concord, as they set it on their account page.

    Every reminder appears in Concord (there is no switch for that); what a person chooses is
    whether reminders also come by e-mail (all of them, or group by group: `email_off` names
    the groups of `core.nudges` they turned off) and quiet hours, when reminders wait.
    Essential kinds (safety alerts to the care team) ignore all of it.
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_enabled = models.BooleanField(default=True)
    email_off = models.JSONField(
        default=list,
        blank=True,
        help_text="Groups of reminders (core.nudges group keys) not sent by e-mail.",
    )
    quiet_from = models.TimeField(null=True, blank=True, help_text="No nudges from this time…")
    quiet_until = models.TimeField(
        null=True, blank=True, help_text="…until this time (in the person's time zone)."
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="Empty: a patient's record's time zone, or the clinic's for anyone else.",
    )

    class Meta:
        constraints = [
            # Quiet hours are a window: both ends or neither, and not an empty one.
            models.CheckConstraint(
                name="quiet_hours_both_or_neither",
                condition=Q(quiet_from__isnull=True, quiet_until__isnull=True)
                | (
                    Q(quiet_from__isnull=False, quiet_until__isnull=False)
                    & ~Q(quiet_from=models.F("quiet_until"))
                ),
            ),
        ]

    def __str__(self):
        return f"Preferences of {self.user}"

    def clean(self):
        errors = {}
        if (self.quiet_from is None) != (self.quiet_until is None):
            missing = "quiet_until" if self.quiet_until is None else "quiet_from"
            errors[missing] = "Give both times, or clear both for no quiet hours."
        elif self.quiet_from is not None and self.quiet_from == self.quiet_until:
            errors["quiet_until"] = "The quiet hours start and end at the same time."
        if not isinstance(self.email_off, list) or not all(
            isinstance(key, str) for key in self.email_off
        ):
            errors["email_off"] = "A list of reminder groups."
        if self.time_zone:
            try:
                zoneinfo.ZoneInfo(self.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                errors["time_zone"] = "Choose a time zone from the list."
        if errors:
            raise ValidationError(errors)

    def emails(self, group: str) -> bool:
        """Whether reminders of this group go by e-mail too."""
        return self.email_enabled and group not in self.email_off


class Nudge(models.Model):
    """One reminder or alert to one person, sent once.

    Its natural key (kind, subject, due date, recipient) is unique, so scheduling it twice
    makes one row; delivery claims the row before sending and marks it sent in the same
    transaction, so retries, restarts and two workers send it once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped (opted out)"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=64, help_text="The uuid of what it is about.")
    due_on = models.DateField()
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="nudges")
    title = models.CharField(max_length=200, help_text="No clinical content: it may be e-mailed.")
    link = models.CharField(max_length=300, blank=True)
    essential = models.BooleanField(
        default=False, help_text="Safety alerts: no opt-out, no quiet hours."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    deliver_after = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    notification = models.OneToOneField(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["deliver_after", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject", "due_on", "recipient"], name="nudge_natural_key"
            ),
        ]
        indexes = [models.Index(fields=["status", "deliver_after"], name="nudge_pending")]

    def __str__(self):
        return f"{self.kind} for {self.recipient_id} on {self.due_on}"


class ApiToken(models.Model):
    """A personal API credential. Only a SHA-256 of the key is kept; the key is shown once.

    The key is `concord_<prefix>_<secret>`: the prefix finds the row (and names the token in
    lists), the hash of the whole key proves it. `password_stamp` is the owner's session hash
    when the token was made, so any change of password, by whatever path, ends the token.
    """

    class EndedBecause(models.TextChoices):
        OWNER = "owner", "Revoked by you"
        PASSWORD = "password", "Password changed"
        DEACTIVATED = "deactivated", "Account deactivated"
        MFA_RESET = "mfa_reset", "Two-factor authentication removed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    password_stamp = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_because = models.CharField(max_length=20, choices=EndedBecause.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="api_token_expires_after_created",
                condition=Q(expires_at__gt=models.F("created_at")),
            ),
        ]
        indexes = [models.Index(fields=["user", "revoked_at"], name="api_token_user_live")]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and now < self.expires_at
