"""The invitation, in the browser: the prescriber records the address in person, sends the
invitation to it, reads the code off the page; the patient opens the link on a phone, gets
the code wrong once, then right, and lands at home; the care team is told.

Screenshots of the invite and accept pages at 360 and 1280 px land in CONCORD_SHOTS_DIR
(default test-artifacts/screenshots/), each page checked with axe-core and for overflow."""

import os
import re
from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from playwright.sync_api import expect

from core.models import Notification, Patient
from tests import factories

from .conftest import DESKTOP, PHONE, sign_in_as

pytestmark = pytest.mark.e2e

SHOTS = Path(
    os.environ.get("CONCORD_SHOTS_DIR")
    or Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
)


def assert_no_axe_violations(page, what: str) -> None:
    """axe-core over the page's own content (the site header is checked by the site's tests)."""
    results = Axe().run(page, context={"include": [["main"]]})
    violations = results.response["violations"]
    assert not violations, f"axe-core found problems on {what}:\n{results.generate_report()}"


def _shoot(page, name: str) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"


@pytest.fixture
def alma(prescriber, therapist):
    someone = factories.PatientFactory(
        given_name="Alma",
        family_name="Reyes-Castellanos",
        date_of_birth=date(1990, 4, 23),
        email="",
    )
    factories.MembershipFactory(patient=someone, clinician=prescriber)
    factories.MembershipFactory(patient=someone, clinician=therapist)
    return someone


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_invitation_journey(open_page, live_server, prescriber, alma, size):
    viewport = PHONE if size == "phone" else DESKTOP
    clinician = open_page(viewport)
    sign_in_as(clinician, live_server, prescriber)
    clinician.goto(f"{live_server.url}/patients/{alma.uuid}/")
    clinician.get_by_role("link", name="Record an address and invite").click()
    expect(clinician.get_by_role("heading", level=1)).to_have_text(
        "Sign-in for Alma Reyes-Castellanos"
    )
    expect(clinician.get_by_text("There is no e-mail address on file")).to_be_visible()
    _shoot(clinician, f"invite-no-address-{size}")
    assert_no_axe_violations(clinician, "the invite page without an address")

    # Recorded in person, with what was checked.
    clinician.get_by_label("New e-mail address").fill("alma.reyes.castellanos@example.test")
    clinician.get_by_label("Verified in person at the clinic").check()
    clinician.get_by_label("What did you check? (in person)").select_option("photo_id")
    clinician.get_by_role("button", name="Record the address").click()
    expect(clinician.get_by_text("The address on file is now")).to_be_visible()
    assert Patient.objects.get(pk=alma.pk).email == "alma.reyes.castellanos@example.test"

    clinician.get_by_role("button", name="Send invitation").click()
    expect(clinician.get_by_role("heading", name=re.compile("Invitation sent to"))).to_be_visible()
    code = clinician.locator(".invite-code__code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    _shoot(clinician, f"invite-code-shown-{size}")
    assert_no_axe_violations(clinician, "the invite page with the code")

    message = next(m for m in reversed(mail.outbox) if "/invite/" in m.body)
    assert message.to == ["alma.reyes.castellanos@example.test"]
    path = "/invite/" + message.body.split("/invite/", 1)[1].split()[0]

    patient_page = open_page(viewport)
    patient_page.goto(live_server.url + path)
    expect(patient_page.get_by_role("heading", level=1)).to_have_text("Welcome to Concord")
    _shoot(patient_page, f"accept-{size}")
    assert_no_axe_violations(patient_page, "the accept page")

    patient_page.get_by_label("Your date of birth").fill("1990-04-23")
    patient_page.get_by_label("The code from your clinic").fill("WXYZ-WXYZ")
    patient_page.get_by_label("Choose a password").fill("river-stone-lantern")
    patient_page.get_by_label("Type it again").fill("river-stone-lantern")
    patient_page.get_by_role("button", name="Set password and sign in").click()
    expect(patient_page.get_by_text("you have 4 more tries")).to_be_visible()
    _shoot(patient_page, f"accept-wrong-code-{size}")
    assert_no_axe_violations(patient_page, "the accept page after a wrong code")

    patient_page.get_by_label("The code from your clinic").fill(code.lower())
    patient_page.get_by_label("Choose a password").fill("river-stone-lantern")
    patient_page.get_by_label("Type it again").fill("river-stone-lantern")
    patient_page.get_by_role("button", name="Set password and sign in").click()
    expect(patient_page.get_by_role("heading", level=1)).to_have_text(re.compile("Hello, Alma"))
    assert Patient.objects.get(pk=alma.pk).user is not None
    assert Notification.objects.filter(
        recipient=prescriber, kind="patient_account_created"
    ).exists()

    # Back at the clinic: nothing left to invite.
    clinician.goto(f"{live_server.url}/patients/{alma.uuid}/invite/")
    expect(clinician.get_by_text("already signs in to Concord")).to_be_visible()
    _shoot(clinician, f"invite-has-account-{size}")
