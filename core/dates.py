"""One sensible range for every date a person types: fills, prescriptions, check-ins, visits,
goals. Outside it a date is a slip or a probe (0001-01-01 made date arithmetic overflow and
pages answer 500), never a record."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
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
