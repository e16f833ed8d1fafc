"""Input shape and messages for the medication plan."""

from django import forms
from django.utils import timezone

from core import access
from core.dates import DateField

from .models import (
    DecisionRecord,
    InteractionRule,
    Medication,
    Observation,
    RefillRequest,
    ScheduleChoices,
)

REQUIRED = "This is needed."


def _required(label):
    return {"required": f"{label} is needed."}


class DecisionFields(forms.Form):
    """What every decision records: why, what the patient prefers, whether it was decided together."""

    reason = forms.CharField(
        label="Why",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why: the reason is part of the record."},
    )
    patient_preference = forms.CharField(
        label="What the patient said they prefer",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Asked every time, with nothing chosen for the prescriber: the record must not say the
    # patient took part unless the prescriber says so.
    decided_together = forms.TypedChoiceField(
        label="Decided together with the patient?",
        choices=[("yes", "Yes, we decided it together"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether you decided this together with the patient."},
    )
    participants = forms.CharField(label="Who took part", required=False, max_length=300)


class WhoseNeedFields(forms.Form):
    """What a start, restart, dose increase or switch asks before it is saved: the patient's
    goals it serves (the form's `goals`, or "none of the patient's goals" with why), whose
    need drives it, and a one-line reflection. Nothing is chosen for the prescriber; the
    service says what is missing."""

    serves_no_goal = forms.BooleanField(label="None of the patient's goals", required=False)
    no_goal_reason = forms.CharField(
        label="Then why, if it serves none of their goals?",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    needs = forms.MultipleChoiceField(
        label="Whose need is driving this? (each that applies)",
        required=False,
        choices=[
            (key, label)
            for key, label in DecisionRecord.Need.choices
            if key != DecisionRecord.Need.NOT_RECORDED
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    need_reflection = forms.CharField(
        label="A one-line reflection",
        required=False,
        max_length=300,
        help_text="For you: what is this decision answering, and for whom?",
    )


class ServedGoalFields(forms.Form):
    goals = forms.MultipleChoiceField(
        label="Which of the patient's goals does it serve?",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, goals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goals"].choices = [(str(g.uuid), g.what) for g in goals]


class DrugFields(forms.Form):
    # A text input with the formulary as its datalist: picking works without JavaScript, and the
    # service codes the name it receives (or refuses it unless marked not coded).
    drug_name = forms.CharField(
        label="Medicine",
        max_length=200,
        help_text="Choose from the formulary list; its schedule and class come from there.",
        widget=forms.TextInput(attrs={"list": "formulary-medicines", "autocomplete": "off"}),
        error_messages=_required("The medicine's name"),
    )
    not_coded = forms.BooleanField(
        label="Not in the formulary: add it as free text (not coded), with the schedule I set",
        required=False,
    )
    strength = forms.CharField(
        label="Strength", max_length=100, error_messages=_required("The strength")
    )
    form = forms.CharField(
        label="Form", max_length=60, initial="tablet", error_messages=_required("The form")
    )
    route = forms.CharField(
        label="Route", max_length=60, initial="by mouth", error_messages=_required("The route")
    )
    dose = forms.CharField(label="Dose", max_length=100, error_messages=_required("The dose"))
    directions = forms.CharField(
        label="Directions", max_length=300, error_messages=_required("Directions")
    )
    # Set by hand only for a medicine not in the formulary; empty means "from the formulary".
    schedule = forms.ChoiceField(
        label="Controlled-substance schedule (only for a medicine not in the formulary)",
        choices=[("", "From the formulary"), *ScheduleChoices.choices],
        required=False,
    )


class WarningFields(forms.Form):
    """The prescriber's answer to duplicate or combination warnings: which they confirm, and why."""

    confirm_warnings = forms.MultipleChoiceField(
        label="I have considered", required=False, widget=forms.CheckboxSelectMultiple
    )
    warning_reason = forms.CharField(
        label="Why go ahead despite the warning",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any rule of the clinic's may be confirmed; the service says which ones apply.
        codes = access.memo(
            ("interaction rule codes",),
            lambda: list(InteractionRule.objects.values_list("code", flat=True)),
        )
        self.fields["confirm_warnings"].choices = [(code, code) for code in codes]


class PurposeFields(forms.Form):
    purpose = forms.CharField(
        label="What it is for, in the patient's words",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    hopes = forms.CharField(
        label="What they hope it does",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    worries = forms.CharField(
        label="What worries them about it",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    concerns = forms.MultipleChoiceField(
        label="Concerns",
        required=False,
        choices=Medication.Concern.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    goals = forms.MultipleChoiceField(
        label="Goals it serves", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, goals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goals"].choices = [(str(g.uuid), g.what) for g in goals]


class MedicationStartForm(
    DrugFields, PurposeFields, WhoseNeedFields, DecisionFields, WarningFields
):
    proposed = forms.BooleanField(label="Propose only: not started yet", required=False)


class DecisionForm(ServedGoalFields, WhoseNeedFields, DecisionFields, WarningFields):
    KINDS = [
        ("dose_change", "Change the dose"),
        ("active", "Start or restart"),
        ("paused", "Pause"),
        ("stopped", "Stop"),
    ]
    kind = forms.ChoiceField(
        label="Decision",
        choices=KINDS,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the decision.",
            "invalid_choice": "That decision is not possible now.",
        },
    )

    def __init__(self, *args, medication=None, **kwargs):
        super().__init__(*args, **kwargs)
        if medication is not None:
            # Offer only what the medication's status allows, as its transitions say.
            allowed = set(medication.TRANSITIONS.get(medication.status, {}))
            choices = [
                (k, label)
                for k, label in self.KINDS
                if k in allowed or (k == "dose_change" and medication.status != "stopped")
            ]
            self.fields["kind"].choices = choices

    strength = forms.CharField(label="New strength", required=False, max_length=100)
    dose = forms.CharField(label="New dose", required=False, max_length=100)
    directions = forms.CharField(label="New directions", required=False, max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput)


class SwitchForm(DrugFields, ServedGoalFields, WhoseNeedFields, DecisionFields, WarningFields):
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReviewForm(DecisionFields):
    """A deprescribing review's answer."""

    outcome = forms.ChoiceField(
        label="After reviewing it",
        choices=DecisionRecord.Review.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose continue, taper, stop or review later."},
    )
    review_until = DateField(
        label="Review again on (for “review later”)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2027-03-01."},
    )
    strength = forms.CharField(label="First lower strength (taper)", required=False, max_length=100)
    dose = forms.CharField(label="First lower dose (taper)", required=False, max_length=100)
    directions = forms.CharField(label="New directions (taper)", required=False, max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "Review later" needs no reason (the date is it); the others say why in the service.
        self.fields["reason"].required = False
        self.fields["reason"].label = "Why it continues, or the taper plan, or why it stops"


class PurposeForm(PurposeFields):
    version = forms.IntegerField(widget=forms.HiddenInput)

    # The patient writes their own reasons: the form speaks to them, not about them.
    PATIENT_LABELS = {
        "purpose": "What is it for, in your words",
        "hopes": "What you hope it does",
        "worries": "What worries you about it",
        "concerns": "Anything that concerns you",
        "goals": "Which of your goals it helps with",
    }

    def __init__(self, *args, for_patient: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if for_patient:
            for name, label in self.PATIENT_LABELS.items():
                self.fields[name].label = label


class ObservationForm(forms.Form):
    kind = forms.ChoiceField(label="What kind", choices=Observation.Kind.choices)
    severity = forms.ChoiceField(
        label="How much", choices=Observation.Severity.choices, initial="none"
    )
    text = forms.CharField(
        label="What you noticed",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write what you noticed."},
    )
    observed_on = DateField(
        label="When",
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2026-11-20."},
    )


class PrescriptionForm(forms.Form):
    quantity = forms.IntegerField(
        label="Quantity", min_value=1, error_messages={"min_value": "At least 1."}
    )
    days_supply = forms.IntegerField(label="Days' supply", min_value=1, max_value=365)
    refills_authorised = forms.IntegerField(label="Refills", min_value=0, max_value=99, initial=0)
    written_on = DateField(
        label="Written on",
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    earliest_fill_on = DateField(
        label="Earliest fill date (schedule II series)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class FillForm(forms.Form):
    # Which prescription the fill is of, said with its written and earliest-fill dates: a
    # schedule II series has several written the same day. The view checks it is this
    # medication's; the service whether it may be filled on that day.
    prescription = forms.UUIDField(
        label="Which prescription",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the prescription this fill is of.",
            "invalid": "Choose the prescription this fill is of.",
        },
    )
    filled_on = DateField(
        label="Filled on",
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    quantity = forms.IntegerField(label="Quantity", min_value=1, required=False)
    days_supply = forms.IntegerField(
        label="Days' supply", min_value=1, max_value=365, required=False
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prescription"].widget.choices = [
            (str(c.prescription.uuid), c.label) for c in choices
        ]


class RenewalForm(forms.Form):
    """A new prescription that answers a refill request the old one cannot."""

    quantity = forms.IntegerField(
        label="Quantity",
        min_value=1,
        error_messages={"required": "The quantity is needed.", "min_value": "At least 1."},
    )
    days_supply = forms.IntegerField(
        label="Days' supply",
        min_value=1,
        max_value=365,
        error_messages={"required": "The days' supply is needed."},
    )
    refills_authorised = forms.IntegerField(
        label="Refills",
        min_value=0,
        max_value=99,
        error_messages={"required": "Say how many refills (0 for none)."},
    )
    earliest_fill_on = DateField(
        label="Earliest fill date (schedule II series)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        label="A word for the patient (optional)", required=False, max_length=500
    )
    back_to = forms.ChoiceField(
        choices=[("queue", "queue"), ("medication", "medication")],
        initial="queue",
        required=False,
        widget=forms.HiddenInput,
    )


class RefillRequestForm(forms.Form):
    note = forms.CharField(
        label="Anything your prescriber should know? (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RefillDecisionForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (s, label)
            for s, label in RefillRequest.Status.choices
            if s != RefillRequest.Status.REQUESTED
        ]
    )
    reason = forms.CharField(label="Reason (the patient reads it)", required=False, max_length=500)
