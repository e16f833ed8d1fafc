"""Input shape for the visit screen's in-place records."""

import uuid

from django import forms

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
