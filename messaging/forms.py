from django import forms

from .models import SUBJECT_MAX, TEXT_MAX

TEAM = "team"


class ComposeForm(forms.Form):
    to = forms.ChoiceField(
        label="To",
        choices=[],
        error_messages={
            "required": "Choose who to write to.",
            "invalid_choice": "Choose someone on your care team.",
        },
    )
    subject = forms.CharField(
        label="Subject",
        max_length=SUBJECT_MAX,
        help_text="A few words, e.g. “Side effects since the new dose”.",
        error_messages={"required": "Say in a few words what it is about."},
    )
    text = forms.CharField(
        label="Your message",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Write your message."},
    )

    def __init__(self, *args, team=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(TEAM, "My whole care team")] + [
            (str(m.clinician.uuid), f"{m.clinician.full_name} ({m.get_role_display().lower()})")
            for m in team
        ]
        self.fields["to"].initial = TEAM


class ReplyForm(forms.Form):
    text = forms.CharField(
        label="Your reply",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write your reply."},
    )
