"""Dates people type and dates people read.

Typed: one sensible range for every date a person types: fills, prescriptions, check-ins,
visits, goals. Outside it a date is a slip or a probe (0001-01-01 made date arithmetic overflow
and pages answer 500), never a record.

Read: one way a date is written for a person, US order with the month in letters ("Dec 7,
2026"), never digits alone, so that 12/7 and 7/12 cannot be taken for each other (H-65).
Templates use the `us_date` filter (core/templatetags/concord.py); Python that writes a date
into words (notifications, chart labels, messages) calls `us_date` here. Machine formats (ISO
8601 in `datetime` attributes, FHIR, form values) are not for reading and do not come here."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import dateformat, timezone
from django.utils.deconstruct import deconstructible
from rest_framework import serializers

EARLIEST = datetime.date(1900, 1, 1)
YEARS_AHEAD = 10


def latest() -> datetime.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def range_message() -> str:
    return f"Enter a date between {EARLIEST:%Y-%m-%d} and {latest():%Y-%m-%d}."


@deconstructible(path="core.dates.SensibleDate")
class SensibleDate:
    """Validator: the date lies between EARLIEST and YEARS_AHEAD years from today."""

    def __call__(self, value):
        if value is None:
            return
        if isinstance(value, datetime.datetime):
            value = value.date()
        if value < EARLIEST or value > latest():
            raise ValidationError(range_message(), code="date_range")

    def __eq__(self, other):
        return isinstance(other, SensibleDate)

    def __hash__(self):
        return hash(SensibleDate)


sensible_date = SensibleDate()


class DateField(forms.DateField):
    """A form's date field, limited to the sensible range."""

    default_validators = [sensible_date]


class DateSerializerField(serializers.DateField):
    """An API date field, limited to the sensible range (a 400 with the message outside it)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(sensible_date)


# One style, at several precisions.
FORMATS = {
    "date": "M j, Y",  # Dec 7, 2026
    "day": "M j",  # Dec 7 (a recent day, where the year goes without saying)
    "time": "M j, Y, g:i A",  # Dec 7, 2026, 4:43 PM
    "day time": "M j, g:i A",  # Dec 7, 4:43 PM
    "tz": "M j, Y, g:i A T",  # Dec 7, 2026, 4:43 PM EST
    "seconds": "M j, Y, g:i:s A",  # Dec 7, 2026, 4:43:07 PM (the audit trail)
    "weekday": "l, M j, g:i A",  # Sunday, Dec 13, 10:30 AM (a visit coming up)
    "weekday year": "l, M j, Y, g:i A",  # Sunday, Dec 13, 2026, 10:30 AM
    "clock": "g:i A",  # 11:00 AM (the end of a visit that began the same day)
    "zone": "T",  # EST (the time zone a time is in)
}


def us_date(value, style: str = "date") -> str:
    """A date or datetime in words; an aware datetime in the current time zone; "" for None.
    KeyError for a style not in FORMATS (a typo fails loudly instead of printing a raw format)."""
    fmt = FORMATS[style]
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, fmt)
