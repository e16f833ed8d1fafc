"""A patient books nothing: the prescriber books a visit, the patient sees it on their home on
a phone, downloads its calendar file, and asks to move it; the prescriber sees the request
on Today and moves the visit; the patient sees the new time. Screenshots at 360 and 1280 px."""

import os
from datetime import datetime, time, timedelta
from pathlib import Path

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Visit
from core.dates import us_date

from .conftest import DESKTOP, PHONE, assert_no_axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("CONCORD_SHOTS", "test-artifacts/screenshots"))


def _fits(page, width) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_the_prescriber_books_the_patient_downloads_and_asks_to_move_and_it_is_confirmed(
    open_page, live_server, patient, patient_user, prescriber, therapist, viewport, tmp_path
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = viewport["width"]
    day = timezone.localdate() + timedelta(days=6)

    # Dr. Raman books a medication visit from the patient's Visits tab, keyboard only.
    priya = open_page(viewport)
    sign_in_as(priya, live_server, prescriber)
    priya.goto(f"{live_server.url}/patients/{patient.uuid}/visits/")
    expect(priya.get_by_role("heading", name="Book a visit with you")).to_be_visible()
    priya.get_by_label("Kind of visit").select_option("medication")
    priya.get_by_label("Day").first.fill(day.isoformat())
    priya.get_by_label("Time").first.fill("10:30")
    priya.get_by_label("Place").fill("Riverside, 2nd floor, room 4")
    priya.get_by_role("button", name="Book the visit").click()
    expect(priya.get_by_text("Booked. The patient has been told.")).to_be_visible()
    visit = Visit.objects.get(patient=patient)
    assert_no_axe_violations(priya, f"the booked visit at {width} px")
    _fits(priya, width)
    priya.screenshot(path=str(SHOTS / f"visits-booked-{width}.png"), full_page=True)

    # Dan, on his phone, sees it on his home and downloads the calendar file.
    dan = open_page(PHONE)
    sign_in_as(dan, live_server, patient_user)
    card = dan.locator("section", has=dan.get_by_role("heading", name="My next visits"))
    expect(card).to_contain_text("Medication visit with Dr. Priya Raman")
    assert_no_axe_violations(dan, "the patient's home with a visit at 360 px")
    _fits(dan, 360)
    if width == 360:
        dan.screenshot(path=str(SHOTS / "visits-patient-home-360.png"), full_page=True)
    card.get_by_role("link", name=us_date(datetime.combine(day, time(10, 30)), "weekday")).click()
    with dan.expect_download() as download:
        dan.get_by_role("link", name="Add to my calendar (.ics)").click()
    path = tmp_path / "appointment.ics"
    download.value.save_as(path)
    (event,) = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert str(event["summary"]) == "Appointment"
    assert event.decoded("dtstart") == visit.starts_at
    assert "Raman" not in path.read_text() and "edication" not in path.read_text()

    # He asks to move it.
    dan.get_by_label("Move it").check()
    dan.get_by_label("When would suit you instead?").fill("Any morning the week after")
    dan.get_by_role("button", name="Ask my clinic").click()
    expect(
        dan.get_by_text("Your visit stays as booked until your clinic confirms.")
    ).to_be_visible()
    assert_no_axe_violations(dan, "the patient's visit with a request at 360 px")
    _fits(dan, 360)
    if width == 360:
        dan.screenshot(path=str(SHOTS / "visits-patient-asked-360.png"), full_page=True)

    # Dr. Raman sees it waiting on Today and moves the visit to a morning a week later.
    priya.goto(f"{live_server.url}/today/")
    waiting = priya.locator("section", has=priya.get_by_role("heading", name="Visits waiting"))
    expect(waiting).to_contain_text("Dan Brooks asked to move the visit")
    _fits(priya, width)
    priya.screenshot(path=str(SHOTS / f"visits-today-{width}.png"), full_page=True)
    waiting.get_by_role("link", name="Dan Brooks").click()
    expect(priya.get_by_text("“Any morning the week after”")).to_be_visible()
    moved = day + timedelta(days=7)
    priya.get_by_label("New day").fill(moved.isoformat())
    priya.get_by_label("New time").fill("09:00")
    priya.get_by_role("button", name="Move the visit to this time").click()
    expect(priya.get_by_text("Answered. The patient has been told.")).to_be_visible()
    assert_no_axe_violations(priya, f"the moved visit at {width} px")
    priya.screenshot(path=str(SHOTS / f"visits-moved-{width}.png"), full_page=True)
    # The visit screen names the next visit; the patient's Visits tab lists it and books.
    priya.goto(f"{live_server.url}/patients/{patient.uuid}/visit/")
    at_nine = datetime.combine(moved, time(9))
    expect(priya.locator(".visit-visits")).to_contain_text(f"next {us_date(at_nine, 'time')}")
    assert_no_axe_violations(priya, f"the visit screen at {width} px")
    _fits(priya, width)
    priya.screenshot(path=str(SHOTS / f"visits-visit-screen-{width}.png"), full_page=True)
    priya.goto(f"{live_server.url}/patients/{patient.uuid}/visits/")
    assert_no_axe_violations(priya, f"the patient's visits at {width} px")
    _fits(priya, width)
    priya.screenshot(path=str(SHOTS / f"visits-list-{width}.png"), full_page=True)

    # Dan sees the new time, and the request is gone.
    dan.goto(f"{live_server.url}/visits/{visit.uuid}/")
    expect(dan.locator(".visit-card")).to_contain_text(us_date(at_nine, "weekday year"))
    expect(dan.get_by_text("You asked to move this visit")).to_have_count(0)
    _fits(dan, 360)
    if width == 1280:
        wide = open_page(DESKTOP)
        sign_in_as(wide, live_server, patient_user)
        wide.goto(f"{live_server.url}/visits/{visit.uuid}/")
        _fits(wide, 1280)
        wide.screenshot(path=str(SHOTS / "visits-patient-visit-1280.png"), full_page=True)
    else:
        dan.screenshot(path=str(SHOTS / "visits-patient-moved-360.png"), full_page=True)
