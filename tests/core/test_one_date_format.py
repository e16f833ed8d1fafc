"""Every date a person reads is written one way, through one helper (H-65): templates use the
`us_date` filter, Python uses core.dates.us_date. A raw `|date:"j M"` or `f"{day:%d %b}"`
anywhere else is how three formats crept in; machine formats (ISO 8601 in `datetime`
attributes and form values) are the only other use allowed."""

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from core import dates

ROOT = Path(__file__).resolve().parents[2]
APPS = ["alliance", "clinic", "core", "messaging", "prescribing", "referrals", "stories", "config"]
# Machine formats, for attributes and inputs only: ISO 8601 (c), the date input's Y-m-d (and
# the time input's H:i, as |time:'H:i').
MACHINE = {"'c'", '"c"', "'Y-m-d'", '"Y-m-d"'}


def _templates():
    return sorted((ROOT / "templates").rglob("*.html"))


def test_templates_write_dates_only_through_the_filter():
    offenders = []
    for path in _templates():
        text = path.read_text()
        for match in re.finditer(r"\|date(?::(\"[^\"]*\"|'[^']*'))?", text):
            if match.group(1) not in MACHINE:
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
        for match in re.finditer(r"\|time\b(?!:'H:i')|{%\s*now\b", text):
            offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert not offenders, "Use |us_date (core/dates.py) for a date a person reads:\n" + "\n".join(
        offenders
    )


def test_machine_formats_sit_only_in_attributes():
    """`|date:'c'`, `|date:'Y-m-d'` and `|time:'H:i'` feed `datetime=""` and `value=""`, never
    the page text."""
    for path in _templates():
        for line in path.read_text().splitlines():
            for match in re.finditer(r"\|date:(?:'c'|\"c\"|'Y-m-d'|\"Y-m-d\")|\|time:'H:i'", line):
                before = line[: match.start()]
                assert re.search(r'(datetime|value)="[^"]*$', before), (
                    f"{path.relative_to(ROOT)}: {line.strip()[:120]}"
                )


def test_python_writes_dates_for_people_only_through_core_dates():
    pattern = re.compile(r"%-?[dbBe]\b|date_format\(|\.strftime\(")
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or path == ROOT / "core" / "dates.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                # ISO dates (%Y-%m-%d) in admin labels and file names are for machines.
                if pattern.search(line.replace("%Y-%m-%d", "")):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "Use core.dates.us_date:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("value", "style", "written"),
    [
        (date(2026, 12, 7), "date", "Dec 7, 2026"),
        (date(2026, 7, 12), "date", "Jul 12, 2026"),
        (date(2026, 3, 1), "day", "Mar 1"),
        (datetime(2026, 12, 7, 21, 43, tzinfo=ZoneInfo("UTC")), "time", "Dec 7, 2026, 4:43 PM"),
        (datetime(2026, 12, 7, 21, 43, tzinfo=ZoneInfo("UTC")), "tz", "Dec 7, 2026, 4:43 PM EST"),
        (
            datetime(2026, 12, 7, 21, 43, 5, tzinfo=ZoneInfo("UTC")),
            "seconds",
            "Dec 7, 2026, 4:43:05 PM",
        ),
        (datetime(2026, 12, 8, 3, 0, tzinfo=ZoneInfo("UTC")), "date", "Dec 7, 2026"),
        (None, "date", ""),
    ],
)
def test_one_style_in_the_clinics_time_zone(value, style, written):
    with timezone.override("America/New_York"):
        assert dates.us_date(value, style) == written
        rendered = Template("{% load concord %}{{ v|us_date:s }}").render(
            Context({"v": value, "s": style})
        )
        assert rendered == written


def test_a_misspelt_style_fails_instead_of_printing_a_raw_format():
    with pytest.raises(KeyError):
        dates.us_date(date(2026, 12, 7), "long")
