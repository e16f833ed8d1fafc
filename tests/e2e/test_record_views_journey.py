"""Issue 14, item 6: after a week of use, Dan's "Who has seen my record" is short, grouped and plain.

Monday to Friday, through the real pages (each request audited as it would be): Dr. Raman
lists her patients, opens Dan's visit screen and his medicines, in the morning and again in the
afternoon; Jordan, his therapist, reads his goals, his notes (his own process note among them)
and his check-ins; Dr. Okafor, a prescriber at another practice to whom Dan released his
medicines, looks at them twice. Then Dan, on his phone and at a desk, opens the page: a handful
of lines, one per person and day, in words he would use, with the release named by the day he
signed it; the "Shared under a release or referral" view lists Dr. Okafor alone. axe-core finds
nothing; screenshots at 360 and 1280 px land in /tmp/shots/r2/.
"""

import re
import zoneinfo
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from core.models import AuditEvent
from referrals import services as referrals
from tests import factories

from .conftest import DESKTOP, PHONE, assert_no_axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots/r2")
NY = zoneinfo.ZoneInfo("America/New_York")
MONDAY = datetime(2026, 12, 7, 8, 30, tzinfo=NY)
SATURDAY = datetime(2026, 12, 12, 10, 0, tzinfo=NY)
# What the old page showed, and what a patient should never have to decode.
CODES = ["·", "care_team", "release:", "medications", "narrative_notes", "Export", "Profile"]


def _shoot(page, name: str) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_after_a_week_of_use_the_page_is_short_grouped_and_plain(
    open_page, live_server, dans_record, patient, patient_user, prescriber, therapist, time_machine
):
    okafor = factories.PrescriberFactory(
        full_name="Dr. Olu Okafor", practice=factories.PracticeFactory(name="Lakeside Health")
    )
    time_machine.move_to(MONDAY - timedelta(hours=1), tick=False)
    release = referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=okafor,
        categories=["profile", "medications"],
        purpose="So the prescriber covering my trip knows what I take.",
        expires_on=date(2027, 3, 1),
        signed_name="Daniel Brooks",
    )
    dan = f"/patients/{patient.uuid}"
    client = Client()

    def browse(user, when, paths):
        """One sitting: the pages one after another, a couple of minutes apart."""
        for i, path in enumerate(paths):
            time_machine.move_to(when + timedelta(minutes=2 * i), tick=False)
            client.force_login(user)
            response = client.get(path)
            assert response.status_code == 200, (user, path, response.status_code)

    raman_visit = ["/patients/", f"{dan}/", f"{dan}/visit/", f"{dan}/medications/", f"{dan}/visit/"]
    jordan_session = ["/patients/", f"{dan}/goals/", f"{dan}/notes/", f"{dan}/alliance/"]
    for day in range(5):
        morning = MONDAY + timedelta(days=day)
        browse(prescriber, morning, raman_visit)
        browse(therapist, morning + timedelta(hours=1), jordan_session)
        browse(prescriber, morning + timedelta(hours=6), ["/patients/", f"{dan}/medications/"])
        if day in (1, 3):
            browse(okafor, morning + timedelta(hours=3), [f"{dan}/medications/"] * 3)
    rows = AuditEvent.objects.filter(patient=patient, action__in=["read", "list", "export"])
    assert rows.count() > 150  # what the old page listed, one line each

    # Saturday, Dan looks on his phone.
    time_machine.move_to(SATURDAY, tick=True)
    phone = open_page(PHONE)
    sign_in_as(phone, live_server, patient_user)
    phone.get_by_role("link", name="Who has seen my record").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Who has seen my record")
    lines = phone.locator("ol.record-views > li")
    # One line per person and day: Dr. Raman and Jordan each day, Dr. Okafor twice.
    expect(lines).to_have_count(12)
    texts = [re.sub(r"\s+", " ", t) for t in lines.all_inner_texts()]
    newest = texts[0]
    assert newest.startswith("Dr. Priya Raman")
    assert "on Dec 11" in newest
    assert "twice on Dec 11" in newest  # the morning visit and the afternoon, not 7 pages
    assert "looked at your" in newest and "medicines" in newest
    assert "saw you in a list of patients" in newest
    assert "Because they are on your care team" in newest
    # The visit screen shows a dozen kinds at once: the line names a few, the rest on request.
    assert "looked at your medicines, goals, check-ins and 6 other parts of your record" in newest
    lines.first.get_by_text("Everything they saw that day").click()
    expect(lines.first).to_contain_text("how your medicines are working")
    expect(lines.first).to_contain_text("your releases")
    jordan = [t for t in texts if t.startswith("Jordan Lee")]
    assert len(jordan) == 5
    assert all("goals" in t and "Because they are on your care team" in t for t in jordan)
    okafor_lines = [t for t in texts if t.startswith("Dr. Olu Okafor")]
    signed = f"Dec {release.signed_at.astimezone(NY).day}"
    assert okafor_lines == [
        f"Dr. Olu Okafor ({okafor.practice.name}) looked at your medicines on Dec {d} "
        f"Under the release you signed on {signed}"
        for d in (10, 8)
    ]
    shown = phone.locator("main").inner_text()
    for code in CODES:
        assert code not in shown, f"{code!r} shows on the page"
    assert "sychotherapy" not in shown and "process" not in shown.lower()
    assert str(release.uuid) not in shown
    expect(phone.get_by_role("navigation", name="More of the list")).to_have_count(0)
    assert_no_axe_violations(phone, "who has seen my record (phone)")
    _shoot(phone, "record-views-360")

    # The accounting of disclosures: Dr. Okafor alone, each visit once, the release by its day.
    phone.get_by_role("link", name="Shared under a release or referral (2)").click()
    expect(lines).to_have_count(2)
    expect(lines.first).to_contain_text("Dr. Olu Okafor")
    expect(lines.first).not_to_contain_text("times")
    expect(phone.get_by_text("This is the accounting of disclosures")).to_be_visible()
    phone.get_by_role("link", name=f"Under the release you signed on {signed}").first.click()
    expect(phone).to_have_url(
        re.compile(re.escape(reverse("release", kwargs={"release_uuid": release.uuid})) + "$")
    )
    phone.go_back()
    assert_no_axe_violations(phone, "disclosures (phone)")
    _shoot(phone, "record-views-disclosures-360")

    desk = open_page(DESKTOP)
    sign_in_as(desk, live_server, patient_user, next_path=reverse("record_views"))
    expect(desk.locator("ol.record-views > li")).to_have_count(12)
    assert_no_axe_violations(desk, "who has seen my record (desktop)")
    _shoot(desk, "record-views-1280")
