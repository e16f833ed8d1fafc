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
