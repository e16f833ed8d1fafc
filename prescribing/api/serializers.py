"""Shapes of medication plans in the API. No logic: services decide."""

from rest_framework import serializers

from core.dates import DateSerializerField
from prescribing.models import (
    NEEDS_ASKED,
    DecisionRecord,
    Fill,
    FormularyEntry,
    Medication,
    Observation,
    Prescription,
    RefillRequest,
    ScheduleChoices,
)


class DecisionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name", read_only=True)
    review_outcome = serializers.CharField(
        read_only=True,
        help_text="A deprescribing review's answer (continue, taper, stop or snooze); empty "
        "for a decision that is not a review.",
    )
    goals = serializers.SerializerMethodField(
        help_text="The patient's goals this decision serves (those you may see)."
    )
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=DecisionRecord.Need.choices),
        read_only=True,
        help_text="Whose need drove a start, restart, dose increase or switch; empty for a "
        "decision that does not ask; ['not_recorded'] for one made before Concord asked.",
    )

    class Meta:
        model = DecisionRecord
        fields = [
            "uuid",
            "kind",
            "before",
            "after",
            "reason",
            "patient_preference",
            "decided_together",
            "participants",
            "warnings_confirmed",
            "warning_reason",
            "goals",
            "no_goal_reason",
            "needs",
            "need_reflection",
            "review_outcome",
            "review_flags",
            "review_until",
            "decided_on",
            "author",
        ]
        read_only_fields = fields

    def get_goals(self, decision) -> list[str]:
        return [str(g.uuid) for g in decision.goals.all()]


class WhoseNeedInput(serializers.Serializer):
    """Asked of every start, restart, dose increase and switch: the patient's goals it serves
    (or serves_no_goal with no_goal_reason), whose need drives it, a one-line reflection."""

    serves_no_goal = serializers.BooleanField(
        default=False, help_text="It serves none of the patient's goals: say why."
    )
    no_goal_reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default=""
    )
    needs = serializers.ListField(
        child=serializers.ChoiceField(
            choices=NEEDS_ASKED
        ),
        required=False,
        default=list,
        help_text="Whose need is driving it: at least one, for a decision that asks.",
    )
    need_reflection = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class ObservationSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name", read_only=True)

    class Meta:
        model = Observation
        fields = ["uuid", "kind", "severity", "text", "observed_on", "author"]
        read_only_fields = ["uuid", "author"]


class SupplySerializer(serializers.Serializer):
    has_supply = serializers.BooleanField()
    run_out = serializers.DateField(allow_null=True)
    needed_by = serializers.DateField(allow_null=True)
    refills_left = serializers.IntegerField(allow_null=True)
    lead_days = serializers.IntegerField()
    needs_renewal = serializers.SerializerMethodField()

    def get_needs_renewal(self, status) -> bool:
        return bool(status.answer and status.answer.needs_renewal)


class MedicationSerializer(serializers.ModelSerializer):
    prescriber = serializers.CharField(source="prescriber.full_name", read_only=True)
    goals = serializers.SerializerMethodField()
    coded = serializers.BooleanField(
        source="is_coded",
        read_only=True,
        help_text="Chosen from the formulary; false for free text (not coded).",
    )
    label = serializers.CharField(
        read_only=True,
        help_text="How the medicine is named on every page: the dose taken first, "
        "e.g. 'Sertraline 50 mg (1/2 of a 100 mg tablet)'.",
    )
    dose_taken = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The amount one dose is ('50 mg'), or null when the strength and dose "
        "as written cannot be read: then show them as written.",
    )

    class Meta:
        model = Medication
        fields = [
            "uuid",
            "drug_name",
            "label",
            "dose_taken",
            "rxnorm_code",
            "coded",
            "strength",
            "form",
            "route",
            "dose",
            "directions",
            "status",
            "schedule",
            "start_date",
            "stop_date",
            "purpose",
            "hopes",
            "worries",
            "concerns",
            "goals",
            "prescriber",
            "version",
        ]
        read_only_fields = fields

    def get_goals(self, medication) -> list[str]:
        return [str(g.uuid) for g in medication.goals.all()]


class ReviewFlagSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="What a review answers; a goal's flag names the goal.")
    kind = serializers.ChoiceField(
        choices=["no_open_goal", "no_purpose", "goal_closed", "many_medicines"]
    )
    text = serializers.CharField()


class ReviewStateSerializer(serializers.Serializer):
    due = serializers.BooleanField(help_text="Flags a review has not answered yet.")
    flags = ReviewFlagSerializer(many=True, help_text="The flags still to answer.")
    snoozed_until = serializers.DateField(allow_null=True)


class PlanItemSerializer(MedicationSerializer):
    """A medication of the plan: its fields, and its supply and review beside them."""

    supply = SupplySerializer(read_only=True)
    review = ReviewStateSerializer(read_only=True)

    class Meta(MedicationSerializer.Meta):
        fields = [*MedicationSerializer.Meta.fields, "supply", "review"]
        read_only_fields = fields


class WarningConfirmation(serializers.Serializer):
    """Going ahead despite the rules' warnings (a duplicate, a combination): the codes from
    the 409 and why, both recorded in the decision."""

    confirm_warnings = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        default=list,
        help_text="Codes of the duplicate or combination warnings (from a 409) you go ahead despite.",
    )
    warning_reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why, despite the confirmed warnings; recorded in the decision.",
    )


class MedicationStartSerializer(WhoseNeedInput, WarningConfirmation):
    formulary_code = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text="The RxNorm code of a formulary medicine; its name, schedule and class follow.",
    )
    drug_name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="A formulary medicine's name, or free text with not_coded and a schedule.",
    )
    not_coded = serializers.BooleanField(
        default=False, help_text="The medicine is not in the formulary: free text."
    )
    strength = serializers.CharField(max_length=100)
    form = serializers.CharField(max_length=60)
    route = serializers.CharField(max_length=60, default="by mouth")
    dose = serializers.CharField(max_length=100)
    directions = serializers.CharField(max_length=300)
    schedule = serializers.ChoiceField(
        choices=ScheduleChoices.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="Only for a medicine not in the formulary; a formulary medicine's comes from there.",
    )
    purpose = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    hopes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    worries = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    concerns = serializers.ListField(
        child=serializers.ChoiceField(choices=Medication.Concern.choices),
        required=False,
        default=list,
    )
    goal_uuids = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)
    reason = serializers.CharField(max_length=2000)
    patient_preference = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    decided_together = serializers.BooleanField(
        help_text="Was it decided together with the patient? Asked every time: no default."
    )
    participants = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    proposed = serializers.BooleanField(default=False)


class RuleWarningSerializer(serializers.Serializer):
    rule = serializers.CharField()
    message = serializers.CharField()
    # "with" is a Python keyword: the field is declared under its JSON name below.


RuleWarningSerializer._declared_fields["with"] = serializers.CharField(
    help_text="The medicine already on the plan it concerns."
)


class WarningsToConfirmSerializer(serializers.Serializer):
    detail = serializers.CharField()
    # Absent from a 409 that is a stale version, present when rules need confirming.
    warnings = RuleWarningSerializer(many=True, required=False)


class DecisionInputSerializer(WhoseNeedInput, WarningConfirmation):
    kind = serializers.ChoiceField(choices=["dose_change", "active", "paused", "stopped"])
    goal_uuids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        help_text="The patient's open goals a start, restart or dose increase serves.",
    )
    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=2000)
    strength = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    dose = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    directions = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    patient_preference = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    decided_together = serializers.BooleanField(
        help_text="Was it decided together with the patient? Asked every time: no default."
    )
    participants = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class ReviewInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    outcome = serializers.ChoiceField(choices=DecisionRecord.Review.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    review_until = DateSerializerField(
        required=False, allow_null=True, default=None, help_text="For outcome snooze."
    )
    strength = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    dose = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    directions = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    patient_preference = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    decided_together = serializers.BooleanField(
        help_text="Was it decided together with the patient? Asked every time: no default."
    )


class ObservationInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Observation.Kind.choices)
    severity = serializers.ChoiceField(choices=Observation.Severity.choices, default="none")
    text = serializers.CharField(max_length=3000)
    observed_on = DateSerializerField(required=False, allow_null=True, default=None)


class RefillRequestSerializer(serializers.ModelSerializer):
    medication = serializers.UUIDField(source="medication.uuid", read_only=True)
    patient = serializers.UUIDField(source="patient.uuid", read_only=True)
    renewal = serializers.UUIDField(
        source="renewal.uuid",
        read_only=True,
        allow_null=True,
        help_text="The new prescription that answered the request, when it was renewed.",
    )

    class Meta:
        model = RefillRequest
        fields = [
            "uuid",
            "medication",
            "patient",
            "status",
            "note",
            "run_out_on",
            "needed_by",
            "late",
            "needs_renewal",
            "renewal",
            "decision_reason",
            "requested_at",
            "decided_at",
            "sent_at",
        ]
        read_only_fields = fields


class RefillRequestInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RenewalSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    days_supply = serializers.IntegerField(min_value=1, max_value=365)
    refills_authorised = serializers.IntegerField(min_value=0, max_value=99)
    earliest_fill_on = DateSerializerField(required=False, allow_null=True, default=None)


class RefillDecisionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["approved", "declined", "needs_visit", "sent"])
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    renewal = RenewalSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="Approve by renewing: a new prescription, linked to the old one, in one step.",
    )

    def validate(self, data):
        if data.get("renewal") is not None and data["status"] != "approved":
            raise serializers.ValidationError(
                {"renewal": "A renewal approves the request: send it with status approved."}
            )
        return data


class PrescriptionSerializer(serializers.ModelSerializer):
    medication = serializers.UUIDField(source="medication.uuid", read_only=True)
    author = serializers.CharField(source="author.full_name", read_only=True)
    renews = serializers.UUIDField(
        source="renews.uuid",
        read_only=True,
        allow_null=True,
        help_text="The prescription this one renews, when it answered a refill request.",
    )

    class Meta:
        model = Prescription
        fields = [
            "uuid",
            "medication",
            "written_on",
            "earliest_fill_on",
            "quantity",
            "days_supply",
            "refills_authorised",
            "renews",
            "author",
        ]
        read_only_fields = fields


class PrescriptionInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    days_supply = serializers.IntegerField(min_value=1, max_value=365)
    refills_authorised = serializers.IntegerField(min_value=0, max_value=99, default=0)
    written_on = DateSerializerField(
        required=False, allow_null=True, default=None, help_text="Today when left out."
    )
    earliest_fill_on = DateSerializerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Schedule II: each prescription of a series after the first needs one.",
    )


class FillSerializer(serializers.ModelSerializer):
    prescription = serializers.UUIDField(source="prescription.uuid", read_only=True)
    author = serializers.CharField(source="author.full_name", read_only=True)

    class Meta:
        model = Fill
        fields = ["prescription", "filled_on", "quantity", "days_supply", "author"]
        read_only_fields = fields


class FillInputSerializer(serializers.Serializer):
    prescription = serializers.UUIDField(help_text="Which of the medication's prescriptions.")
    filled_on = DateSerializerField()
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        allow_null=True,
        default=None,
        help_text="The prescription's when left out.",
    )
    days_supply = serializers.IntegerField(
        min_value=1,
        max_value=365,
        required=False,
        allow_null=True,
        default=None,
        help_text="The prescription's when left out.",
    )


class FormularyEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = FormularyEntry
        fields = ["name", "rxnorm_code", "schedule", "drug_class", "usual_strengths", "form"]
        read_only_fields = fields
