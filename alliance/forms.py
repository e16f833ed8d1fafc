from django import forms
from django.utils import timezone

from core.dates import DateField

from .models import Consultation


class StartForm(forms.Form):
    instrument = forms.IntegerField(widget=forms.HiddenInput)
    clinician = forms.UUIDField(required=False, widget=forms.HiddenInput)


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label="What you will do (optional)", required=False, max_length=500)


class ConsultationForm(forms.Form):
    issues = forms.CharField(
        label="Are there issues in our alliance with this patient?",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write what you see, even if it is “none”."},
    )
    actions = forms.CharField(
        label="What can we do to strengthen it?",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write what you agreed to do."},
    )
    held_on = DateField(
        label="When", initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    audience = forms.ChoiceField(
        label="Who reads this",
        choices=[
            (Consultation.Audience.CLINICIANS, "Between us, the patient's clinicians"),
            (Consultation.Audience.PATIENT, "Shared with the patient, on their check-ins page"),
        ],
        initial=Consultation.Audience.CLINICIANS,
        widget=forms.RadioSelect,
        error_messages={"required": "Say who reads this consultation."},
    )


class AnswersForm(forms.Form):
    """A check-in as sent: the answers themselves are the instrument's items, read by the
    service; this carries which button was pressed and what the page says back."""

    action = forms.CharField(required=False)
