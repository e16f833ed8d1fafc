"""Medication plans: each medicine with its purpose in the patient's words, the decisions made
about it together, what anyone observed, its supply, and refill requests.

Records carry `patient`, `practice` and `author`, the fields core.access filters on. A
medication's state changes only through decisions (services.decision_*): DecisionRecord rows
are append-only, refused UPDATE and DELETE by a database trigger.
"""

import uuid

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.dates import sensible_date
from core.text import refuse_bidi_controls

from . import doses, supply


class ScheduleChoices(models.TextChoices):
    NONE = supply.Schedule.NONE, "Not controlled"
    II = supply.Schedule.II, "Schedule II"
    III = supply.Schedule.III, "Schedule III"
    IV = supply.Schedule.IV, "Schedule IV"
    V = supply.Schedule.V, "Schedule V"


class SupplyPolicy(models.Model):
    """The clinic's refill lead times and each state's limits, by schedule. Admin-editable.

    `state` empty is the default row for a schedule; a state's row overrides it.
    """

    state = models.CharField(max_length=2, blank=True)
    schedule = models.CharField(max_length=4, choices=ScheduleChoices.choices)
    lead_days = models.PositiveSmallIntegerField(help_text="Notice a refill request needs.")
    lead_in_business_days = models.BooleanField(default=False)
    max_refills = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="State cap; federal caps apply anyway."
    )
    validity_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Months from the written date a prescription may be filled.",
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "supply policies"
        constraints = [
            models.UniqueConstraint(
                fields=["state", "schedule"], name="one_policy_per_state_schedule"
            )
        ]
        ordering = ["state", "schedule"]

    def __str__(self):
        return f"{self.state or 'Default'} · {self.get_schedule_display()}"

    def limits(self) -> supply.Limits:
        return supply.Limits(
            lead_days=self.lead_days,
            lead_in_business_days=self.lead_in_business_days,
            max_refills=self.max_refills,
            validity_months=self.validity_months,
        )


class DrugClass(models.TextChoices):
    """The classes the formulary and its rules speak of."""

    SSRI = "ssri", "SSRI"
    SNRI = "snri", "SNRI"
    TCA = "tca", "Tricyclic antidepressant"
    MAOI = "maoi", "MAOI"
    OTHER_ANTIDEPRESSANT = "other_antidepressant", "Other antidepressant"
    ANTIPSYCHOTIC = "antipsychotic", "Antipsychotic"
    MOOD_STABILISER = "mood_stabiliser", "Mood stabiliser"
    BENZODIAZEPINE = "benzodiazepine", "Benzodiazepine"
    HYPNOTIC = "hypnotic", "Hypnotic"
    STIMULANT = "stimulant", "Stimulant"
    WAKEFULNESS = "wakefulness", "Wakefulness-promoting"
    NON_STIMULANT_ADHD = "non_stimulant_adhd", "Non-stimulant for ADHD"
    ALPHA_AGONIST = "alpha_agonist", "Alpha-2 agonist"
    ALPHA_BLOCKER = "alpha_blocker", "Alpha-1 blocker"
    BETA_BLOCKER = "beta_blocker", "Beta blocker"
    ANXIOLYTIC = "anxiolytic", "Anxiolytic"
    GABAPENTINOID = "gabapentinoid", "Gabapentinoid"
    ANTICONVULSANT = "anticonvulsant", "Anticonvulsant"
    OPIOID = "opioid", "Opioid"
    OPIOID_ANTAGONIST = "opioid_antagonist", "Opioid antagonist"
    ALCOHOL_USE_TREATMENT = "alcohol_use_treatment", "Alcohol-use treatment"
    SMOKING_CESSATION = "smoking_cessation", "Smoking cessation"
    OTHER = "other", "Other"


class FormularyEntry(models.Model):
    """One medicine of the clinic's formulary: its schedule and class come from here, never
    typed by hand. Shipped from prescribing/formulary/medicines.json; `import_formulary` loads
    the clinic's edits. No patient information."""

    name = models.CharField(max_length=200, unique=True)
    rxnorm_code = models.CharField(
        "RxNorm code", max_length=20, blank=True, help_text="Ingredient RXCUI; empty if unchecked."
    )
    schedule = models.CharField(max_length=4, choices=ScheduleChoices.choices)
    drug_class = models.CharField(max_length=30, choices=DrugClass.choices)
    usual_strengths = models.JSONField(default=list, blank=True)
    form = models.CharField(max_length=60, blank=True, help_text="The usual form, e.g. tablet.")
    active = models.BooleanField(default=True, help_text="Offered when adding a medicine.")

    class Meta:
        verbose_name_plural = "formulary entries"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["rxnorm_code"], condition=~Q(rxnorm_code=""), name="one_entry_per_rxcui"
            ),
            models.CheckConstraint(name="formulary_name_not_blank", condition=~Q(name="")),
        ]

    def __str__(self):
        return self.name


class InteractionRule(models.Model):
    """A duplicate-class or dangerous-combination rule, checked before a medicine is started or
    switched to. Shipped from prescribing/formulary/rules.json; clinic-editable."""

    class Kind(models.TextChoices):
        SAME_DRUG = "same_drug", "Two current medicines of one drug"
        SAME_CLASS = "same_class", "Two current medicines of one class"
        CLASS_PAIR = "class_pair", "A medicine of one class with one of another"

    code = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    class_a = models.CharField(max_length=30, choices=DrugClass.choices, blank=True)
    class_b = models.CharField(max_length=30, choices=DrugClass.choices, blank=True)
    message = models.CharField(max_length=500, help_text="What the prescriber reads.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="rule_classes_fit_kind",
                condition=Q(kind="same_drug")
                | Q(kind="same_class", class_b="") & ~Q(class_a="")
                | Q(kind="class_pair") & ~Q(class_a="") & ~Q(class_b=""),
            ),
            models.CheckConstraint(name="rule_message_not_blank", condition=~Q(message="")),
        ]

    def __str__(self):
        return self.code


class Medication(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"

    # What is on the plan now (`is_current`), in a filter too.
    CURRENT = (Status.PROPOSED, Status.ACTIVE, Status.PAUSED)

    class Concern(models.TextChoices):
        DEPENDENCY = "dependency", "Becoming dependent on it"
        SIDE_EFFECTS = "side_effects", "Side effects"
        CONTROL = "control", "Feeling controlled or not myself"
        COST = "cost", "Cost"
        STIGMA = "stigma", "What taking it means to me or others"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "core.Patient", on_delete=models.PROTECT, related_name="medications"
    )
    practice = models.ForeignKey("core.Practice", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    prescriber = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    drug_name = models.CharField(max_length=200)
    rxnorm_code = models.CharField("RxNorm code", max_length=20, blank=True)
    # The formulary entry it was chosen from; empty for a medicine typed as free text ("not
    # coded"), whose schedule the prescriber set and which class rules cannot see.
    formulary = models.ForeignKey(
        FormularyEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    strength = models.CharField(max_length=100, help_text="e.g. 50 mg")
    form = models.CharField(max_length=60, help_text="e.g. tablet")
    route = models.CharField(max_length=60, default="by mouth")
    dose = models.CharField(max_length=100, help_text="e.g. 1 tablet")
    directions = models.CharField(max_length=300, help_text="e.g. once a day in the morning")
    start_date = models.DateField(null=True, blank=True, validators=[sensible_date])
    stop_date = models.DateField(null=True, blank=True, validators=[sensible_date])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    schedule = models.CharField(
        max_length=4, choices=ScheduleChoices.choices, default=ScheduleChoices.NONE
    )
    purpose = models.TextField(
        "What it is for, in the patient's words", max_length=2000, blank=True
    )
    hopes = models.TextField("What the patient hopes it does", max_length=2000, blank=True)
    worries = models.TextField("What worries the patient about it", max_length=2000, blank=True)
    concerns = models.JSONField(default=list, blank=True)
    goals = models.ManyToManyField("stories.Goal", blank=True, related_name="+")
    switched_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="switched_to"
    )
    # Supply, kept current by the services that change it, so that reminder sweeps are one
    # query over the table instead of a loop over every medication.
    run_out_on = models.DateField(null=True, blank=True)
    refill_needed_by = models.DateField(null=True, blank=True)
    refills_left = models.PositiveSmallIntegerField(null=True, blank=True)
    fill_valid_until = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    # Allowed status changes, as data, with the decision kind that makes each.
    TRANSITIONS: dict[str, dict[str, str]] = {
        Status.PROPOSED: {Status.ACTIVE: "start", Status.STOPPED: "stop"},
        Status.ACTIVE: {Status.PAUSED: "pause", Status.STOPPED: "stop"},
        Status.PAUSED: {Status.ACTIVE: "restart", Status.STOPPED: "stop"},
        Status.STOPPED: {Status.ACTIVE: "restart"},
    }

    class Meta:
        ordering = ["drug_name"]
        indexes = [
            models.Index(fields=["patient", "status"]),
            models.Index(fields=["status", "refill_needed_by"], name="medication_refill_due"),
        ]
        constraints = [
            models.CheckConstraint(name="medication_drug_not_blank", condition=~Q(drug_name="")),
            models.CheckConstraint(
                name="medication_stop_after_start",
                condition=Q(stop_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(stop_date__gte=models.F("start_date")),
            ),
        ]

    def __str__(self):
        return self.label

    def clean(self):
        # A drug name or dose reversed on screen ("gm 05" as "50 mg") is a dosing error.
        refuse_bidi_controls(self, "drug_name", "strength", "form", "route", "dose")

    @property
    def is_coded(self) -> bool:
        return self.formulary_id is not None

    @property
    def is_controlled(self) -> bool:
        return self.schedule in supply.Schedule.CONTROLLED

    @property
    def dose_taken(self) -> str | None:
        """The amount one dose is ("50 mg" for 1/2 of a 100 mg tablet), or None when unclear."""
        return doses.dose_taken(self.strength, self.dose)

    @property
    def label(self) -> str:
        """How the medicine is named on every page, PDF and FHIR resource, so that none shows
        the tablet strength where the dose taken differs: "Sertraline 50 mg (1/2 of a 100 mg tablet)"."""
        return doses.label(self.drug_name, self.strength, self.dose, self.form)

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, {})

    @property
    def is_current(self) -> bool:
        return self.status in self.CURRENT

    def concern_labels(self) -> list[str]:
        labels = dict(self.Concern.choices)
        return [labels[c] for c in self.concerns if c in labels]


class DecisionRecord(models.Model):
    """One decision about a medication: what changed, why, the patient's preference, who took part.

    Append-only: the timeline of a medication is exactly its decisions.
    """

    class Kind(models.TextChoices):
        START = "start", "Start"
        DOSE_CHANGE = "dose_change", "Dose change"
        SWITCH = "switch", "Switch"
        PAUSE = "pause", "Pause"
        STOP = "stop", "Stop"
        RESTART = "restart", "Restart"
        PURPOSE = "purpose", "Purpose and goals in the patient's words"
        REVIEW = "review", "Deprescribing review"

    class Need(models.TextChoices):
        """Whose need is driving a decision (seed 000: countertransference prescribing, a
        medicine kept for a relationship or for benefits). Counted for the prescriber's own
        eyes, never scored."""

        PATIENT_REQUEST = "patient_request", "The patient asked for it"
        PATIENT_GOALS = "patient_goals", "The patient's goals"
        CLINICIAN_CONCERN = "clinician_concern", "The clinician's own concern or worry"
        FAMILY = "family", "A family member"
        SCHOOL_WORK = "school_work", "School or work"
        EXTERNAL = "external", "Benefits or other external pressure"
        RELATIONSHIP = "relationship", "Keeping a difficult relationship going"
        # Only on decisions made before Concord asked (migration); never offered.
        NOT_RECORDED = "not_recorded", "Not recorded (decided before this was asked)"

    class Review(models.TextChoices):
        CONTINUE = "continue", "Continue, for a reason"
        TAPER = "taper", "Taper"
        STOP = "stop", "Stop"
        SNOOZE = "snooze", "Review later"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="decisions")
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict)
    reason = models.TextField(max_length=2000)
    patient_preference = models.TextField(
        "What the patient said they prefer", max_length=2000, blank=True
    )
    decided_together = models.BooleanField(default=False)
    participants = models.CharField("Who took part", max_length=300, blank=True)
    # Duplicate or combination warnings the prescriber was shown and went ahead despite:
    # [{"rule", "message", "with"}], and why.
    warnings_confirmed = models.JSONField(default=list, blank=True)
    warning_reason = models.TextField("Why, despite the warnings", max_length=2000, blank=True)
    # Whose need a start, restart, dose increase or switch serves: the patient's goals it
    # serves (or none, explained), the needs driving it, and a one-line reflection. Empty for
    # decisions that do not ask (a pause, a stop, a decrease, a rewording).
    goals = models.ManyToManyField("stories.Goal", blank=True, related_name="+")
    no_goal_reason = models.TextField(
        "Why it serves none of the patient's goals", max_length=1000, blank=True
    )
    needs = models.JSONField(default=list, blank=True)
    need_reflection = models.CharField("A one-line reflection", max_length=300, blank=True)
    # A deprescribing review's answer: continue (the reason says why), taper, stop, or review
    # later (until `review_until`), and the flags it answered (`review.flags_of` keys).
    review_outcome = models.CharField(max_length=10, choices=Review.choices, blank=True)
    review_flags = models.JSONField(default=list, blank=True)
    review_until = models.DateField(null=True, blank=True, validators=[sensible_date])
    decided_on = models.DateField(default=timezone.localdate, validators=[sensible_date])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["medication", "-created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.medication_id}"

    def need_labels(self) -> list[str]:
        labels = dict(self.Need.choices)
        return [labels[n] for n in self.needs if n in labels]

    @property
    def need_not_recorded(self) -> bool:
        return self.needs == [self.Need.NOT_RECORDED]

    @property
    def asked_whose_need(self) -> bool:
        """Whether this decision carries the goal-and-need answer (or its "not recorded")."""
        return bool(self.needs)

    CHANGE_LABELS = {
        "strength": "Strength",
        "dose": "Dose",
        "directions": "Directions",
        "status": "Status",
        "drug_name": "Medicine",
        "form": "Form",
        "route": "Route",
        "schedule": "Schedule",
        "purpose": "Purpose",
    }

    @property
    def after_dose_taken(self) -> str | None:
        return doses.dose_taken(self.after.get("strength", ""), self.after.get("dose", ""))

    @property
    def after_label(self) -> str:
        """The medicine as this decision left it, named as everywhere else."""
        a = self.after
        return doses.label(
            a.get("drug_name", ""), a.get("strength", ""), a.get("dose", ""), a.get("form", "")
        )

    def changes(self) -> list[tuple[str, str, str]]:
        """(label, before, after) for each field the decision changed, and the dose taken."""
        rows = []
        old_taken = doses.dose_taken(self.before.get("strength", ""), self.before.get("dose", ""))
        new_taken = doses.dose_taken(self.after.get("strength", ""), self.after.get("dose", ""))
        # Said only when it is not the strength itself: "1/2 tablet" of 100 mg is 50 mg taken.
        says_more = new_taken != self.after.get("strength") or (
            old_taken != self.before.get("strength")
        )
        if self.before and new_taken and old_taken != new_taken and says_more:
            rows.append(("Dose taken", old_taken or "—", new_taken))
        for key, label in self.CHANGE_LABELS.items():
            old, new = self.before.get(key), self.after.get(key)
            if old != new and new is not None:
                rows.append((label, old or "—", new))
        return rows


class Observation(models.Model):
    class Kind(models.TextChoices):
        RESPONSE = "response", "Response"
        SIDE_EFFECT = "side_effect", "Side effect"
        ADHERENCE = "adherence", "Adherence"
        QUESTION = "question", "Question"

    class Severity(models.TextChoices):
        NONE = "none", "Not applicable"
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    medication = models.ForeignKey(
        Medication, on_delete=models.PROTECT, related_name="observations"
    )
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.NONE)
    text = models.TextField(max_length=3000)
    observed_on = models.DateField(default=timezone.localdate, validators=[sensible_date])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-observed_on", "-created_at"]
        indexes = [models.Index(fields=["medication", "-observed_on"])]
        constraints = [
            models.CheckConstraint(name="observation_text_not_blank", condition=~Q(text=""))
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.observed_on}"


class Prescription(models.Model):
    """One written prescription for a medication: what may be dispensed, and how often."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    medication = models.ForeignKey(
        Medication, on_delete=models.PROTECT, related_name="prescriptions"
    )
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey("core.Practice", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    written_on = models.DateField(default=timezone.localdate, validators=[sensible_date])
    earliest_fill_on = models.DateField(null=True, blank=True, validators=[sensible_date])
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    days_supply = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    refills_authorised = models.PositiveSmallIntegerField(default=0)
    # The prescription this one renews, when it was written to answer a request for more that
    # the old one could no longer give (no refills left, lapsed, schedule II).
    renews = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewed_by"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-written_on", "-created_at"]
        indexes = [models.Index(fields=["medication", "-written_on"])]
        constraints = [
            models.CheckConstraint(
                name="prescription_days_positive", condition=Q(days_supply__gte=1)
            ),
            models.CheckConstraint(
                name="prescription_quantity_positive", condition=Q(quantity__gte=1)
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.days_supply} days, {self.refills_authorised} refills"


class Fill(models.Model):
    """One dispensing of a prescription."""

    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="fills")
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    filled_on = models.DateField(validators=[sensible_date])
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    days_supply = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-filled_on", "-created_at"]
        indexes = [models.Index(fields=["prescription", "-filled_on"])]

    def __str__(self):
        return f"Filled {self.filled_on}"


class RefillRequest(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        NEEDS_VISIT = "needs_visit", "Needs a visit"
        SENT = "sent", "Sent to the pharmacy"

    OPEN = (Status.REQUESTED, Status.APPROVED)
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.REQUESTED: frozenset({Status.APPROVED, Status.DECLINED, Status.NEEDS_VISIT}),
        Status.APPROVED: frozenset({Status.SENT}),
        Status.DECLINED: frozenset(),
        Status.NEEDS_VISIT: frozenset(),
        Status.SENT: frozenset(),
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    medication = models.ForeignKey(
        Medication, on_delete=models.PROTECT, related_name="refill_requests"
    )
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "core.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    note = models.CharField("A note for the prescriber", max_length=500, blank=True)
    run_out_on = models.DateField(null=True, blank=True)
    needed_by = models.DateField(null=True, blank=True)
    late = models.BooleanField(
        default=False, help_text="Asked after the needed-by date: inside the lead time."
    )
    needs_renewal = models.BooleanField(default=False)
    # The new prescription that answered it, when the prescriber renewed instead of refilling.
    renewal = models.ForeignKey(
        Prescription, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "requested_at"])]
        constraints = [
            # One open request per medication: simultaneous submissions make one row.
            models.UniqueConstraint(
                fields=["medication"],
                condition=Q(status__in=["requested", "approved"]),
                name="one_open_refill_request",
            ),
            models.CheckConstraint(
                name="declined_has_reason", condition=~Q(status="declined") | ~Q(decision_reason="")
            ),
        ]

    def __str__(self):
        return f"Refill of {self.medication_id}: {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


# The needs a decision may be given: every one but "not recorded", which only decisions made
# before Concord asked carry (the API's input and its schema name it).
NEEDS_ASKED = [c for c in DecisionRecord.Need.choices if c[0] != DecisionRecord.Need.NOT_RECORDED]
