"""Notification settings in a browser: Dan, a patient, opens his account from the header, gives
half a quiet-hours window and is told what is missing, then sets quiet hours over midnight and
turns off refill e-mails; a clinician's password and two-factor pages look like Concord's. At a
phone's and a laptop's width, with no axe violation and no overflow.

Screenshots land in CONCORD_SHOTS_DIR (default test-artifacts/screenshots/, gitignored)."""

import os
from datetime import time
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from core.models import NotificationPreference

from .conftest import header_link, sign_in_as

pytestmark = pytest.mark.e2e

SHOTS = Path(
    os.environ.get(
        "CONCORD_SHOTS_DIR",
        Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots",
    )
)
VIEWPORTS = {"360": {"width": 360, "height": 740}, "1280": {"width": 1280, "height": 800}}


@pytest.mark.parametrize("width", VIEWPORTS)
def test_a_patient_sets_quiet_hours_and_turns_off_refill_emails(
    browser, live_server, patient, patient_user, width
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[width])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in_as(page, live_server, patient_user)
        header_link(page, patient_user.full_name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
        settings = page.locator("#notifications")
        expect(settings.get_by_text("Safety alerts cannot be turned off")).to_be_visible()
        expect(settings.get_by_role("link", name="Change your e-mail address")).to_be_visible()
        _check(page)

        # Half a window: told what is missing, and nothing is saved.
        settings.get_by_label("From").fill("22:00")
        settings.get_by_role("button", name="Save notification settings").click()
        summary = page.locator(".error-summary")
        expect(summary).to_contain_text("Give an end time too")
        expect(page.get_by_label("Until")).to_have_attribute("aria-invalid", "true")
        assert not NotificationPreference.objects.filter(user=patient_user).exists()
        page.screenshot(
            path=str(SHOTS / f"notification-settings-error-{width}.png"), full_page=True
        )
        _check(page)

        page.get_by_label("Until").fill("07:00")
        page.get_by_role("checkbox", name="Refills").uncheck()
        page.get_by_role("button", name="Save notification settings").click()
        expect(page.get_by_text("Saved your notification settings.")).to_be_visible()
        expect(page.get_by_role("checkbox", name="Refills")).not_to_be_checked()
        expect(page.get_by_role("checkbox", name="Check-ins")).to_be_checked()
        expect(page.get_by_label("From")).to_have_value("22:00")
        pref = NotificationPreference.objects.get(user=patient_user)
        assert (pref.email_off, pref.quiet_from, pref.quiet_until) == (
            ["refills"],
            time(22),
            time(7),
        )
        page.locator("#notifications").screenshot(
            path=str(SHOTS / f"notification-settings-{width}.png")
        )
        page.screenshot(path=str(SHOTS / f"notification-settings-page-{width}.png"), full_page=True)
        _check(page)
    finally:
        context.close()


@pytest.mark.parametrize("width", VIEWPORTS)
def test_a_clinician_s_password_and_two_factor_pages_are_concord_s(
    browser, live_server, prescriber, width
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[width])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in_as(page, live_server, prescriber)
        page.goto(f"{live_server.url}/account/")
        page.get_by_role("link", name="Change your password").click()
        expect(page.get_by_role("link", name="← Your account")).to_be_visible()
        page.get_by_role("button", name="Change Password").click()
        expect(page.locator(".form-error")).to_be_visible()
        page.screenshot(path=str(SHOTS / f"account-password-{width}.png"), full_page=True)
        _check(page)

        page.get_by_role("link", name="← Your account").click()
        page.get_by_role("link", name="Two-factor authentication").click()
        expect(page.get_by_role("heading", name="Authenticator App")).to_be_visible()
        page.screenshot(path=str(SHOTS / f"account-two-factor-{width}.png"), full_page=True)
        _check(page)
    finally:
        context.close()


def _check(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"
    violations = Axe().run(page).response["violations"]
    assert not violations, [(v["id"], [n["html"][:120] for n in v["nodes"]]) for v in violations]
