from datetime import datetime

from django import forms
from django.utils import timezone

from core.dates import DateField

from .models import NOTE_MAX, PLACE_MAX, Visit

NOBODY = ""


class _When(forms.Form):
    """A day and a time, read in the clinic's zone."""

    on = DateField(
        label="Day",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Choose the day.", "invalid": "Enter a day like 2026-12-14."},
    )
    at = forms.TimeField(
        label="Time",
        widget=forms.TimeInput(attrs={"type": "time"}),
        error_messages={"required": "Choose the time.", "invalid": "Enter a time like 14:30."},
    )

    def starts_at(self):
        data = self.cleaned_data
        return timezone.make_aware(
            datetime.combine(data["on"], data["at"]), timezone.get_current_timezone()
        )


class BookForm(_When):
    kind = forms.ChoiceField(
        label="Kind of visit",
        choices=Visit.Kind.choices,
        error_messages={
            "required": "Choose the kind of visit.",
            "invalid_choice": "Choose one of the kinds listed.",
        },
    )
    also_with = forms.ChoiceField(
        label="Also in the room (a joint visit)",
        choices=[],
        required=False,
        error_messages={"invalid_choice": "Choose someone on the patient's care team."},
    )
    minutes = forms.TypedChoiceField(
        label="Length",
        coerce=int,
        choices=[(m, f"{m} minutes") for m in (15, 20, 30, 45, 50, 60, 90)],
        initial=30,
        error_messages={"invalid_choice": "Choose one of the lengths listed."},
    )
    place = forms.CharField(
        label="Place",
        max_length=PLACE_MAX,
        required=False,
        help_text="e.g. “Riverside, 2nd floor, room 4”. It goes into the patient’s calendar "
        "file: no clinical words.",
    )
    video_link = forms.URLField(
        label="Or a video link",
        max_length=500,
        required=False,
        assume_scheme="https",
        error_messages={"invalid": "Enter the whole link, starting with https://."},
    )

    def __init__(self, *args, team=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (str(m.clinician.uuid), f"{m.clinician.full_name} ({m.get_role_display().lower()})")
            for m in team
        ]
        self.fields["also_with"].choices = [(NOBODY, "Nobody else")] + choices

    def clean(self):
        data = super().clean()
        if not data.get("place") and not data.get("video_link") and not self.errors:
            self.add_error("place", "Say where the visit is, or give the video link.")
        return data


class RecordForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s, label) for s, label in Visit.Status.choices if s != Visit.Status.BOOKED],
        error_messages={
            "required": "Choose what happened.",
            "invalid_choice": "Choose what happened.",
        },
    )


class CadenceForm(forms.Form):
    every_weeks = forms.TypedChoiceField(
        label="See them every",
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", "No set cadence")]
        + [(w, f"{w} week{'s' if w > 1 else ''}") for w in (1, 2, 3, 4, 6, 8, 12, 26, 52)],
        error_messages={"invalid_choice": "Choose one of the intervals listed."},
    )


class ChangeAskForm(forms.Form):
    change = forms.ChoiceField(
        label="What would you like?",
        choices=Visit.Change.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose whether to move or cancel it.",
            "invalid_choice": "Choose whether to move or cancel it.",
        },
    )
    note = forms.CharField(
        label="When would suit you instead?",
        max_length=NOTE_MAX,
        required=False,
        help_text="e.g. “Any weekday morning next week”. Needed to move it; leave it empty to cancel.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if data.get("change") == Visit.Change.MOVE and not (data.get("note") or "").strip():
            self.add_error("note", "Say which days or times would suit you.")
        return data


class ConfirmForm(forms.Form):
    answer = forms.ChoiceField(
        choices=[("confirm", "Confirm"), ("decline", "Keep the visit as booked")],
        error_messages={"required": "Choose an answer.", "invalid_choice": "Choose an answer."},
    )
    on = DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="New day")
    at = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}), label="New time"
    )

    def starts_at(self):
        data = self.cleaned_data
        if not data.get("on") or not data.get("at"):
            return None
        return timezone.make_aware(
            datetime.combine(data["on"], data["at"]), timezone.get_current_timezone()
        )
