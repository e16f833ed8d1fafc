from datetime import timedelta

from django import forms
from django.utils import timezone

from .models import RELEASABLE, Referral, latest_end_date, release_end_problem


class ReferralForm(forms.Form):
    to_clinician = forms.ChoiceField(
        label="Refer to", error_messages={"required": "Choose the clinician you refer to."}
    )
    reason = forms.CharField(
        label="Why you are referring",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why you are referring."},
    )
    questions = forms.CharField(
        label="Questions you would like answered",
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    urgency = forms.ChoiceField(
        label="How soon", choices=Referral.Urgency.choices, initial=Referral.Urgency.ROUTINE
    )

    def __init__(self, *args, clinicians=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_clinician"].choices = [("", "Choose…")] + [
            (str(c.uuid), f"{c.full_name} — {c.get_role_display()}, {c.practice.name}")
            for c in clinicians
        ]


class ReferralMoveForm(forms.Form):
    status = forms.ChoiceField(choices=Referral.Status.choices)
    reason = forms.CharField(required=False, max_length=500)


def _default_expiry():
    return timezone.localdate() + timedelta(days=365)


# The limit itself is said once, above the field, in the template.
END_DATE_HELP = "The last day it is in force: the whole day, where you live."


class ReleaseForm(forms.Form):
    discloser = forms.ChoiceField(
        label="Who may share my information", error_messages={"required": "Choose who shares."}
    )
    recipient = forms.ChoiceField(
        label="With whom", error_messages={"required": "Choose who receives."}
    )
    mutual = forms.BooleanField(
        label="Both ways: they may share with each other", required=False, initial=True
    )
    categories = forms.MultipleChoiceField(
        label="What may be shared",
        choices=RELEASABLE,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose what may be shared."},
        help_text="Psychotherapy notes are never shared by a release.",
    )
    part2_consent = forms.BooleanField(
        label="I consent to sharing my substance-use disorder information as described (42 CFR Part 2)",
        required=False,
    )
    purpose = forms.CharField(
        label="What it is for",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        initial="So my prescriber and my therapist can treat me together.",
        error_messages={"required": "Say what the information is for."},
    )
    expires_on = forms.DateField(
        label="Until (end date)",
        help_text=END_DATE_HELP,
        initial=_default_expiry,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Choose an end date.",
            "invalid": "Enter a date like 2027-11-21.",
        },
    )
    expiry_event = forms.CharField(
        label="Or until this happens, if sooner (optional)", required=False, max_length=300
    )
    signed_by_representative = forms.BooleanField(
        label="I am signing for someone else, as their personal representative", required=False
    )
    representative_authority = forms.CharField(
        label="My authority (e.g. legal guardian)", required=False, max_length=300
    )
    signed_name = forms.CharField(
        label="Type your full name to sign",
        max_length=200,
        error_messages={"required": "Type your full name to sign."},
    )

    def __init__(self, *args, team=(), clinicians=(), today=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The signing day in the patient's time zone: end dates are counted from it.
        self.today = today or timezone.localdate()
        self.fields["expires_on"].initial = self.today + timedelta(days=365)
        self.fields["expires_on"].widget.attrs.update(
            min=str(self.today + timedelta(days=1)), max=str(latest_end_date(self.today))
        )
        self.fields["discloser"].choices = [("", "Choose…")] + [
            (str(c.uuid), f"{c.full_name} — {c.practice.name}") for c in team
        ]
        self.fields["recipient"].choices = [("", "Choose…")] + [
            (str(c.uuid), f"{c.full_name} — {c.get_role_display()}, {c.practice.name}")
            for c in clinicians
        ]

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        problem = release_end_problem(day, self.today)
        if problem:
            raise forms.ValidationError(problem)
        return day


class RevokeForm(forms.Form):
    note = forms.CharField(
        label="Anything you want to say (optional)", required=False, max_length=500
    )


class ThreadPostForm(forms.Form):
    kind = forms.ChoiceField(
        label="What kind",
        choices=[],
        error_messages={"required": "Choose what kind of post this is."},
    )
    text = forms.CharField(
        label="Message",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write your message."},
    )
    medication = forms.ChoiceField(label="About a medicine (optional)", required=False)
    reply_to = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, kinds=(), medications=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Choose…"), *kinds]
        self.fields["medication"].choices = [("", "None")] + [
            (str(m.uuid), m.label) for m in medications
        ]
