from allauth.account import forms as allauth_forms
from django import forms

from .models import AuditEvent, PatientEmailChange, SelfDescription
from .text import no_bidi_controls


def rebind_with_version(form_class, data, version, **kwargs):
    """After a conflict: the form with what the person typed, against the version now current,
    so that nothing they wrote is lost and sending it again saves it."""
    data = data.copy()
    data["version"] = version
    form = form_class(data, **kwargs)
    form.is_valid()
    return form


class InvitationAcceptForm(forms.Form):
    date_of_birth = forms.DateField(
        label="Your date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
        error_messages={"invalid": "Enter your date of birth as a date, like 1990-04-23."},
    )
    code = forms.CharField(
        label="The code from your clinic",
        max_length=20,
        help_text="8 letters and digits, like ABCD-7K3M. Your clinic gave it to you in person.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
    )
    full_name = forms.CharField(label="Your name", max_length=200, validators=[no_bidi_controls])
    password = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )
    password_again = forms.CharField(
        label="Type it again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, for_staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if for_staff:
            # Staff prove it is them with the code their clinic admin handed over.
            del self.fields["date_of_birth"]
            hint = "8 letters and digits, like ABCD-7K3M. Your clinic admin gave it to you."
            self.fields["code"].help_text = hint

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error(
                "password_again", "The two passwords differ. Type the same password twice."
            )
        return data


class PatientEmailChangeForm(forms.Form):
    new_email = forms.EmailField(
        label="New e-mail address",
        error_messages={"invalid": "Enter a whole e-mail address, like name@example.org."},
    )
    method = forms.ChoiceField(
        label="How is the change confirmed?",
        choices=PatientEmailChange.Method.choices,
        widget=forms.RadioSelect,
        initial=PatientEmailChange.Method.IN_PERSON,
    )
    proof = forms.ChoiceField(
        label="What did you check? (in person)",
        required=False,
        choices=[("", "Choose what you checked"), *PatientEmailChange.Proof.choices],
    )

    def clean(self):
        data = super().clean()
        in_person = data.get("method") == PatientEmailChange.Method.IN_PERSON
        if in_person and not data.get("proof"):
            self.add_error("proof", "Say what you checked when you saw the patient in person.")
        return data


class AddEmailForm(allauth_forms.AddEmailForm):
    """allauth's new-address form, refusing an address another account or patient has.

    allauth checks only its own address table and, to prevent enumeration, lets a taken
    address through unverified; here a taken address is never attached to a second account.
    """

    def clean_email(self):
        from . import services

        value = super().clean_email()
        if services.email_in_use(value, user=self.user):
            raise forms.ValidationError(
                "This address cannot be used: it already belongs to someone else at Concord. "
                "Use an address only you read."
            )
        return value


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    """A reset goes only to an account's own sign-in address, never to one still waiting
    for verification."""

    def clean_email(self):
        value = super().clean_email()
        self.users = [u for u in self.users if (u.email or "").lower() == value.lower()]
        return value


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
    """A practice's own settings, set by its clinic admin: its state (which prescription limits
    apply), and what its patients are told out of hours and about replies."""

    class Meta:
        from .models import Practice

        model = Practice
        fields = [
            "state",
            "after_hours_phone",
            "after_hours_instructions",
            "reply_time",
            "reply_days",
        ]
        widgets = {"after_hours_instructions": forms.Textarea(attrs={"rows": 4})}
        error_messages = {"state": {"invalid_choice": "Choose a state from the list."}}

    def __init__(self, *args, **kwargs):
        from .states import US_STATES

        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", "Not set: the clinic's default limits"), *US_STATES]
        self.fields["state"].help_text = (
            "Which state's prescription limits apply to the medicines prescribed here "
            "(refills, how long a prescription may be filled). Changing it changes them."
        )


class ApiTokenCreateForm(forms.Form):
    """A personal API token: a name, a lifetime, and a fresh second factor (or the password)."""

    name = forms.CharField(
        label="Name", max_length=100, help_text="What it is for, like 'reporting script'."
    )
    days = forms.TypedChoiceField(
        label="Expires after",
        coerce=int,
        initial=90,
        choices=[(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "1 year")],
    )
    code = forms.CharField(
        label="Code from your authenticator app",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    password = forms.CharField(
        label="Your current password",
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, uses_totp: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # One way to prove it is you, not both: the authenticator when there is one.
        del self.fields["password" if uses_totp else "code"]
        self.fields["code" if uses_totp else "password"].required = True


class NotificationReadForm(forms.Form):
    # Empty marks every notification read; anything else must be a notification's uuid.
    uuid = forms.UUIDField(required=False)


def _time_zones() -> list[tuple[str, str]]:
    """Places people live, as the tz database names them (no Etc/… or legacy aliases)."""
    import zoneinfo

    areas = ("Africa/", "America/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Pacific/")
    names = sorted(z for z in zoneinfo.available_timezones() if z.startswith(areas))
    return [(name, name.replace("_", " ")) for name in names]


class NotificationSettingsForm(forms.Form):
    """A person's own notification settings. `groups`: the reminder groups they may get (from
    core.nudges.groups_for); `choose_zone`: whether they set their time zone here (a patient's
    is on their record, kept by their clinic)."""

    email_enabled = forms.BooleanField(label="Send me reminders by e-mail too", required=False)
    email_groups = forms.MultipleChoiceField(
        label="Which reminders come by e-mail",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "That reminder is not one you get. Reload the page and try again."
        },
    )
    quiet_from = forms.TimeField(
        label="From",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Enter a time like 22:00."},
    )
    quiet_until = forms.TimeField(
        label="Until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Enter a time like 07:00."},
    )
    time_zone = forms.ChoiceField(
        label="Your time zone",
        required=False,
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )

    def __init__(self, *args, groups, choose_zone: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = list(groups)
        self.fields["email_groups"].choices = [(g.key, g.label) for g in self.groups]
        if choose_zone:
            from django.conf import settings

            clinic = settings.TIME_ZONE.replace("_", " ")
            self.fields["time_zone"].choices = [("", f"The clinic's ({clinic})"), *_time_zones()]
        else:
            del self.fields["time_zone"]

    def clean(self):
        data = super().clean()
        start, end = data.get("quiet_from"), data.get("quiet_until")
        if "quiet_from" in self.errors or "quiet_until" in self.errors:
            return data
        if start is None and end is not None:
            self.add_error("quiet_from", "Give a start time too, or clear both for no quiet hours.")
        elif end is None and start is not None:
            self.add_error("quiet_until", "Give an end time too, or clear both for no quiet hours.")
        elif start is not None and start == end:
            self.add_error("quiet_until", "The quiet hours start and end at the same time.")
        return data

    @staticmethod
    def initial_for(pref, groups) -> dict:
        return {
            "email_enabled": pref.email_enabled,
            "email_groups": [g.key for g in groups if g.key not in pref.email_off],
            "quiet_from": pref.quiet_from,
            "quiet_until": pref.quiet_until,
            "time_zone": pref.time_zone,
        }


def _with_blank(choices, blank="—"):
    return [("", blank), *choices]


class SelfDescriptionForm(forms.Form):
    """How a patient describes themselves: every answer optional, "prefer not to say" offered
    for each, nothing shown on a clinical page."""

    race_ethnicity = forms.MultipleChoiceField(
        label="Race and ethnicity",
        required=False,
        choices=SelfDescription.RaceEthnicity.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Choose all that apply.",
        error_messages={"invalid_choice": "Choose from the categories listed."},
    )
    race_declined = forms.BooleanField(label="Prefer not to say", required=False)
    preferred_language = forms.ChoiceField(
        label="Language you prefer for your care",
        required=False,
        choices=_with_blank(SelfDescription.Language.choices),
        error_messages={"invalid_choice": "Choose a language from the list."},
    )
    sex = forms.ChoiceField(
        label="Sex assigned at birth",
        required=False,
        choices=_with_blank(SelfDescription.Sex.choices),
        error_messages={"invalid_choice": "Choose an answer from the list."},
    )
    gender_identity = forms.ChoiceField(
        label="Gender identity",
        required=False,
        choices=_with_blank(SelfDescription.Gender.choices),
        error_messages={"invalid_choice": "Choose an answer from the list."},
    )

    def clean(self):
        data = super().clean()
        if data.get("race_ethnicity") and data.get("race_declined"):
            self.add_error("race_declined", "Choose categories or “prefer not to say”, not both.")
        return data

    @staticmethod
    def initial_for(described) -> dict:
        return {
            "race_ethnicity": list(described.race_ethnicity or []),
            "race_declined": described.race_declined,
            "preferred_language": described.preferred_language,
            "sex": described.sex,
            "gender_identity": described.gender_identity,
        }
