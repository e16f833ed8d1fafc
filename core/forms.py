from django import forms

from .models import AuditEvent


def rebind_with_version(form_class, data, version, **kwargs):
    """After a conflict: the form with what the person typed, against the version now current,
    so that nothing they wrote is lost and sending it again saves it."""
    data = data.copy()
    data["version"] = version
    form = form_class(data, **kwargs)
    form.is_valid()
    return form


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=200)
    password = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )
    password_again = forms.CharField(
        label="Type it again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error(
                "password_again", "The two passwords differ. Type the same password twice."
            )
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Patient's e-mail address",
        error_messages={"invalid": "Enter a whole e-mail address, like name@example.org."},
    )


class AuditSearchForm(forms.Form):
    email = forms.CharField(label="Who (e-mail)", required=False, max_length=200)
    patient = forms.CharField(label="Patient name", required=False, max_length=200)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any"), *AuditEvent.Action.choices]
    )
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Any"), *AuditEvent.Outcome.choices]
    )


class PracticeCrisisHelpForm(forms.ModelForm):
    """What the practice's patients are told out of hours, set by its clinic admin."""

    class Meta:
        from .models import Practice

        model = Practice
        fields = ["after_hours_phone", "after_hours_instructions", "reply_time"]
        widgets = {"after_hours_instructions": forms.Textarea(attrs={"rows": 4})}
