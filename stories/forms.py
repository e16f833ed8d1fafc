"""Input shape and messages for goals, ratings, notes and the summary."""

from django import forms

from core.dates import DateField

from .markdown import MAX_CHARS
from .models import NarrativeNote

RATING_CHOICES = [
    (-2, "−2 Much less than I hoped"),
    (-1, "−1 Somewhat less"),
    (0, "0 What I expected"),
    (1, "+1 Somewhat more"),
    (2, "+2 Much more than I hoped"),
]


class GoalForm(forms.Form):
    what = forms.CharField(
        label="What I want",
        max_length=500,
        error_messages={"required": "Write what you want, in your own words."},
        widget=forms.TextInput(
            attrs={"placeholder": "For example: sleep through the night without feeling on guard"}
        ),
    )
    why = forms.CharField(
        label="Why it matters to me",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    target_date = DateField(
        label="By when (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2027-03-01, or leave it empty."},
    )
    level_minus2 = forms.CharField(
        label="−2: much less than I hoped", required=False, max_length=300
    )
    level_minus1 = forms.CharField(label="−1: somewhat less", required=False, max_length=300)
    level_0 = forms.CharField(label="0: what I expect", required=False, max_length=300)
    level_plus1 = forms.CharField(label="+1: somewhat more", required=False, max_length=300)
    level_plus2 = forms.CharField(
        label="+2: much more than I hoped", required=False, max_length=300
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    LEVELS = ("level_minus2", "level_minus1", "level_0", "level_plus1", "level_plus2")

    def levels(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.LEVELS}


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How is it going?",
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a rating from −2 to +2.",
            "invalid_choice": "Choose a rating from −2 to +2.",
        },
    )
    note = forms.CharField(label="A few words (optional)", required=False, max_length=500)


class StatusForm(forms.Form):
    status = forms.CharField(max_length=20)
    version = forms.IntegerField(
        error_messages={"required": "The form was incomplete; reload the page and try again."}
    )


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of note", choices=NarrativeNote.Kind.choices)
    audience = forms.ChoiceField(
        label="Who can read it",
        choices=NarrativeNote.Audience.choices,
        initial=NarrativeNote.Audience.CARE_TEAM,
    )
    title = forms.CharField(label="Title (optional)", required=False, max_length=200)
    body = forms.CharField(
        label="Note",
        max_length=MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": "The note is empty. Write something, or cancel.",
            "max_length": f"A note can be at most {MAX_CHARS:,} characters; this one has "
            "%(show_value)s. Split it into two notes.",
        },
        help_text="Plain text; *emphasis* and lists in Markdown work too.",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [c for c in NarrativeNote.Kind.choices if c[0] in kinds]
            if len(kinds) == 1:
                self.fields["kind"].initial = kinds[0]


class NoteErrorForm(forms.Form):
    version = forms.IntegerField()


class SummaryForm(forms.Form):
    text = forms.CharField(
        label="Who this person is and what matters to them",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Plain words, no clinical terms: the person will read this.",
        error_messages={
            "required": "Write a few plain words about who this person is and what matters to them."
        },
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # Set by the "Save anyway" button, after the page has shown which clinical terms it found.
    confirm_terms = forms.BooleanField(required=False, widget=forms.HiddenInput)


class SummaryResponseForm(forms.Form):
    response = forms.CharField(
        label="Your response",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class SafetyPlanForm(forms.Form):
    """The seven parts of a Stanley–Brown safety plan, each in the patient's words."""

    HELP = {
        "warning_signs": "Thoughts, feelings or situations that tell me a crisis may be coming.",
        "coping": "Things I can do on my own: a walk, music, a shower, a game.",
        "distractions": "People and social places that take my mind off things.",
        "people": "People I can ask for help, with their phone numbers.",
        "professionals": "My clinicians, my clinic's after-hours line, 988.",
        "safer_environment": "Keeping things I could use to hurt myself out of reach.",
        "reasons_for_living": "What matters most to me, worth staying safe for.",
    }

    # The version the writer started from: a newer one saved meanwhile is a conflict.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, **kwargs):
        from .models import SafetyPlan

        super().__init__(*args, **kwargs)
        for number, (name, label) in enumerate(SafetyPlan.SECTIONS, start=1):
            self.fields[name] = forms.CharField(
                label=f"{number}. {label}",
                required=False,
                max_length=2000,
                help_text=self.HELP[name],
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def sections(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.HELP}
