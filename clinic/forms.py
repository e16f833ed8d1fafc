"""Input shape for the visit screen's in-place records."""

import uuid

from django import forms

from core.access import STAFF_ROLES
from core.text import no_bidi_controls
from prescribing.models import DecisionRecord


class UUIDListField(forms.MultipleChoiceField):
    """Uuids of records the service checks (the patient's goals): the form checks the shape."""

    def valid_value(self, value):
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True


class VisitActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("observation", "Observation"),
            ("decision", "Decision"),
            ("refill", "Refill answer"),
        ],
        error_messages={
            "required": "Choose what to record.",
            "invalid_choice": "Choose what to record.",
        },
    )
    medication = forms.UUIDField(required=False)
    request = forms.UUIDField(required=False)
    version = forms.IntegerField(required=False, min_value=0)
    status = forms.CharField(required=False, max_length=20)
    kind = forms.CharField(required=False, max_length=20)
    severity = forms.CharField(required=False, max_length=20)
    text = forms.CharField(required=False, max_length=3000)
    reason = forms.CharField(required=False, max_length=2000)
    patient_preference = forms.CharField(required=False, max_length=2000)
    decided_together = forms.ChoiceField(
        required=False,
        choices=[("yes", "yes"), ("no", "no")],
        error_messages={
            "invalid_choice": "Say whether you decided this together with the patient."
        },
    )
    dose = forms.CharField(required=False, max_length=100)
    strength = forms.CharField(required=False, max_length=100)
    # Whose need a start, restart or dose increase serves (the service says when it must).
    goals = UUIDListField(
        required=False, error_messages={"invalid_choice": "Choose from the patient's goals."}
    )
    serves_no_goal = forms.BooleanField(required=False)
    no_goal_reason = forms.CharField(required=False, max_length=1000)
    needs = forms.MultipleChoiceField(
        required=False,
        choices=DecisionRecord.Need.choices,
        error_messages={"invalid_choice": "Choose whose need from the list."},
    )
    need_reflection = forms.CharField(required=False, max_length=300)

    def clean(self):
        data = super().clean()
        needs = {"observation": "medication", "decision": "medication", "refill": "request"}.get(
            data.get("action")
        )
        if needs and not data.get(needs):
            raise forms.ValidationError(
                "Something was missing from the form; nothing was recorded. Reload the page."
            )
        if data.get("action") == "decision" and not data.get("decided_together"):
            self.add_error(
                "decided_together", "Say whether you decided this together with the patient."
            )
        return data


class MessageObservationForm(forms.Form):
    """A patient's message, recorded as an observation on one of their medicines."""

    message = forms.UUIDField(widget=forms.HiddenInput)
    medication = forms.ChoiceField(
        label="Medicine",
        choices=[],
        error_messages={
            "required": "Choose the medicine it is about.",
            "invalid_choice": "Choose one of the patient's current medicines.",
        },
    )
    kind = forms.ChoiceField(
        label="What kind",
        choices=[
            ("response", "Response"),
            ("side_effect", "Side effect"),
            ("adherence", "Adherence"),
            ("question", "Question"),
        ],
        initial="response",
        error_messages={"required": "Choose what kind of observation this is."},
    )
    severity = forms.ChoiceField(
        label="Severity",
        choices=[
            ("none", "Not applicable"),
            ("mild", "Mild"),
            ("moderate", "Moderate"),
            ("severe", "Severe"),
        ],
        initial="none",
    )
    text = forms.CharField(
        label="Observation",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In the patient's words, or your summary of them.",
        error_messages={"required": "Write what to record."},
    )

    def __init__(self, *args, medications=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["medication"].choices = [("", "Choose…")] + [
            (str(m.uuid), m.label) for m in medications
        ]


class EquityFilterForm(forms.Form):
    """What the equity view counts: by which description, over which dates, in which practice."""

    dimension = forms.ChoiceField(
        label="Compare groups by",
        error_messages={"invalid_choice": "Choose a way to compare from the list."},
    )
    since = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 01/31/2026."},
    )
    until = forms.DateField(
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 12/31/2026."},
    )
    practice = forms.ChoiceField(
        label="Practice",
        required=False,
        error_messages={"invalid_choice": "Choose a practice from the list."},
    )

    def __init__(self, *args, dimensions, practices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dimension"].choices = [(d.key, d.label) for d in dimensions]
        self.practices = list(practices)
        self.fields["practice"].choices = [
            *([("", "Every practice you run")] if len(self.practices) > 1 else []),
            *[(str(p.uuid), p.name) for p in self.practices],
        ]
        if len(self.practices) == 1:
            self.fields["practice"].initial = str(self.practices[0].uuid)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        if since and until and (until - since).days > 366 * 5:
            self.add_error("since", "Choose a period of five years or less.")
        return data

    def chosen_practices(self, practices_qs):
        chosen = self.cleaned_data.get("practice")
        return practices_qs.filter(uuid=chosen) if chosen else practices_qs


# --- Clinic settings -----------------------------------------------------------------------

REASON_HELP = (
    "Kept in the audit trail with your name. No clinical information: say “left the "
    "practice” or “lost phone”, not anything about a patient."
)


class StaffInviteForm(forms.Form):
    """Who to invite, in which role, to which of the practices the admin runs."""

    full_name = forms.CharField(label="Their name", max_length=200, validators=[no_bidi_controls])
    email = forms.EmailField(
        label="Their work e-mail address",
        help_text="The invitation link goes here. They will sign in with it.",
        error_messages={"invalid": "Enter a whole e-mail address, like name@example.org."},
    )
    role = forms.ChoiceField(
        label="Role",
        widget=forms.RadioSelect,
        choices=[(r.value, r.label) for r in STAFF_ROLES],
        error_messages={
            "required": "Choose their role.",
            "invalid_choice": "Choose one of the roles listed.",
        },
    )
    practice = forms.ModelChoiceField(
        label="Practice",
        queryset=None,
        empty_label=None,
        to_field_name="uuid",
        error_messages={"invalid_choice": "Choose one of your practices."},
    )

    def __init__(self, *args, practices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = practices
        self.only_practice = practices[0] if len(practices) == 1 else None
        if self.only_practice is not None:
            # One practice: nothing to choose, the page names it.
            self.fields["practice"].widget = forms.HiddenInput()
            self.initial.setdefault("practice", self.only_practice.uuid)

    def clean(self):
        data = super().clean()
        if self.only_practice is not None and "practice" in self.errors:
            # A hidden field's error would show nowhere: say it above the form.
            self.add_error(None, self.errors.pop("practice"))
        return data


class ReasonForm(forms.Form):
    """Why an account change is made: kept in the audit trail."""

    reason = forms.CharField(
        label="Why",
        min_length=5,
        max_length=300,
        help_text=REASON_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={
            "required": "Say why you are making this change (a few words).",
            "min_length": "Say why you are making this change (a few words).",
        },
    )


class SupplyPolicyForm(forms.Form):
    """One row of the supply policies: a schedule's lead time, and a state's limits."""

    lead_days = forms.IntegerField(
        label="Notice a refill request needs (days)",
        min_value=0,
        max_value=60,
        help_text="A request that comes later than this is flagged to the prescriber, not refused.",
    )
    lead_in_business_days = forms.BooleanField(
        label="Count business days only (skip weekends)", required=False
    )
    max_refills = forms.IntegerField(
        label="Most refills a prescription may carry",
        required=False,
        min_value=0,
        max_value=99,
        help_text="Empty: no limit of the state's. Federal limits apply anyway.",
    )
    validity_months = forms.IntegerField(
        label="Months after writing it may be filled",
        required=False,
        min_value=1,
        max_value=24,
        help_text="Empty: no limit of the state's. Federal limits apply anyway.",
    )
    note = forms.CharField(
        label="Note", required=False, max_length=300, help_text="Where the rule comes from."
    )


class AllianceSettingsForm(forms.Form):
    show_alliance_scores_to_patients = forms.BooleanField(
        label="Show patients their alliance scores (they always see their own answers)",
        required=False,
    )


class SummaryTermForm(forms.Form):
    text = forms.CharField(
        label="Term",
        max_length=60,
        validators=[no_bidi_controls],
        help_text="A clinical word or label, like “non-compliant” or “MDD”.",
    )
    match_case = forms.BooleanField(
        label="An abbreviation: match it only in capitals as written (SI, not “si”)",
        required=False,
    )
    instead = forms.CharField(
        label="What to say instead (optional)",
        max_length=200,
        required=False,
        help_text="Shown beside the warning, e.g. “finds it hard to take every dose”.",
    )


class SummaryTermRemoveForm(forms.Form):
    term = forms.IntegerField(min_value=1, max_value=2**31 - 1)


# What a clinician may make of a patient's message, in one step (the `make` field of the post).
MAKE_OBSERVATION, MAKE_REFILL, MAKE_GOAL = "observation", "refill_request", "goal"


class MessageRefillForm(forms.Form):
    """A patient's message asking for more of a medicine, made a refill request for them."""

    message = forms.UUIDField(widget=forms.HiddenInput)
    medication = forms.ChoiceField(
        label="Medicine",
        choices=[],
        error_messages={
            "required": "Choose the medicine to ask a refill of.",
            "invalid_choice": "Choose one of the patient's current medicines.",
        },
    )
    note = forms.CharField(
        label="Note for the prescriber",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional. The request says it came from the patient's message.",
    )

    def __init__(self, *args, medications=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["medication"].choices = [("", "Choose…")] + [
            (str(m.uuid), m.label) for m in medications
        ]


class MessageGoalForm(forms.Form):
    """A patient's message, made a goal proposed to them (they accept or rewrite it)."""

    message = forms.UUIDField(widget=forms.HiddenInput)
    what = forms.CharField(
        label="The goal, in the patient's words",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Write the goal, in the patient's words."},
    )
    why = forms.CharField(
        label="Why it matters to them",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
