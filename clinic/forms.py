"""Input shape for the visit screen's in-place records."""

from django import forms


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
