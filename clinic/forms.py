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
