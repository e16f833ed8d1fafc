"""A visit as an iCalendar file (RFC 5545), made with the `icalendar` library.

A calendar file leaves Concord for good: it is synced to phones, shared calendars and work
accounts. So it says only that there is an appointment, when, where (the place or the video
link the clinic gave) and a link back to Concord: never the kind of visit, the clinician's
name, the patient's name, or anything clinical. The canary test (tests/proof/test_canary.py)
reads every file made in a week for the patient's details.
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from .models import Visit

SUMMARY = "Appointment"


def visit_ics(visit: Visit) -> bytes:
    """The visit as a calendar with one event (a cancelled visit: the event, cancelled)."""
    site = settings.CONCORD_SITE_URL.rstrip("/")
    link = site + reverse("visit_detail", args=[visit.uuid])
    calendar = Calendar()
    calendar.add("prodid", "-//Concord//Visits//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    # The same UID every time, so a second download (after a move) updates the first.
    event.add("uid", f"{visit.uuid}@concord")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", visit.starts_at)
    event.add("dtend", visit.ends_at)
    event.add("summary", SUMMARY)
    if visit.video_link:
        event.add("location", visit.video_link)
    else:
        event.add("location", visit.place)
    event.add("description", f"Details in Concord: {link}")
    event.add("url", link)
    if visit.status == Visit.Status.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
