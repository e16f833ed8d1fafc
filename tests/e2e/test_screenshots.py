"""Screenshots of the foundation's pages at a phone and a laptop width, for people to look at.

They land in test-artifacts/screenshots/ (gitignored). The test also fails when a page is wider
than the window (overflow at 360 px) or shows template syntax, without anyone looking.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import factories

from .conftest import main_menu_link, sign_in_as

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "laptop": {"width": 1280, "height": 800}}


@pytest.fixture
def clinic(prescriber, therapist, patient):
    """A small caseload, with a long name or two, as a real list would have."""
    people = [
        ("Alma", "Reyes", ""),
        ("Tomas", "Lindqvist", ""),
        ("Oluwaseun", "Adeyemi-Castellanos", "Seun"),
        ("Grace", "Whitfield", ""),
    ]
    for given, family, preferred in people:
        someone = factories.PatientFactory(
            given_name=given,
            family_name=family,
            preferred_name=preferred,
            email=f"{given.lower()}@example.test",
        )
        factories.MembershipFactory(patient=someone, clinician=prescriber)
        if family != "Whitfield":
            factories.MembershipFactory(patient=someone, clinician=therapist)
    return patient


def _check(page) -> None:
    """What a glance at the picture should not have to catch."""
    # A click that navigates returns before the next page has a document to measure.
    page.wait_for_load_state()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"
    text = page.locator("body").inner_text()
    for leak in ("{#", "#}", "{%", "%}", "{{", "}}"):
        assert leak not in text, f"template syntax {leak!r} shows on {page.url}"


def _shoot(page, name: str) -> None:
    _check(page)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", VIEWPORTS)
def test_screenshots(browser, live_server, clinic, prescriber, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    patient = clinic

    def new_page():
        context = browser.new_context(viewport=VIEWPORTS[size])
        page = context.new_page()
        page.set_default_timeout(10_000)
        return context, page

    context, page = new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        _shoot(page, f"sign-in-{size}")

        sign_in_as(page, live_server, prescriber)
        expect(page.get_by_role("heading", level=1)).to_have_text("Your patients")
        _shoot(page, f"patient-list-{size}")

        page.goto(f"{live_server.url}/patients/{patient.uuid}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Dan Brooks")
        _shoot(page, f"patient-detail-{size}")

        # Someone not yet signed up: the page leads to their invitation, at the address on file.
        main_menu_link(page, "Patients").click()
        page.get_by_role("link", name="Alma Reyes").click()
        expect(page.get_by_role("link", name="Invite or change the address")).to_be_visible()
        _shoot(page, f"patient-detail-invite-{size}")
        page.get_by_role("link", name="Invite or change the address").click()
        expect(page.get_by_role("button", name="Send invitation")).to_be_visible()
        _shoot(page, f"patient-invite-{size}")

        page.goto(f"{live_server.url}/patients/00000000-0000-4000-8000-000000000000/")
        _shoot(page, f"not-found-{size}")
    finally:
        context.close()

    context, page = new_page()
    try:
        sign_in_as(page, live_server, patient.user)
        expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Dan")
        _shoot(page, f"patient-home-{size}")
    finally:
        context.close()
