"""The release form in the browser, at a phone and a laptop width: the summary and the
patient's response are choices of their own; an end date past ten years (the review's
9999-12-31) is refused with a message that says the limit, nothing is signed, and the
patient's pages still open; the last allowed day signs and revokes.

Screenshots land in test-artifacts/screenshots/ (and in $CONCORD_SHOTS when set)."""

import os
import zoneinfo
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from referrals.models import Release, Revocation, latest_end_date
from tests import factories

from .conftest import sign_in_as
from .test_screenshots import SHOTS, VIEWPORTS, _check

pytestmark = pytest.mark.e2e


def _shoot(page, name: str) -> None:
    _check(page)
    for folder in filter(None, [SHOTS, os.environ.get("CONCORD_SHOTS")]):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_release_form_names_the_summary_and_explains_the_end_date(
    browser, live_server, patient, prescriber, therapist, size
):
    recipient = factories.TherapistFactory(
        full_name="Sam Okafor", practice=factories.PracticeFactory(name="Lakeside Therapy")
    )
    context = browser.new_context(viewport=VIEWPORTS[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in_as(page, live_server, patient.user)
        page.goto(f"{live_server.url}/patients/{patient.uuid}/releases/new/")
        summary = page.get_by_label("How my care team describes me (the summary they wrote)")
        response = page.get_by_label("What I wrote in response to that summary")
        expect(summary).to_be_visible()
        expect(response).to_be_visible()
        expect(page.get_by_text("at most 10 years from today")).to_be_visible()
        _shoot(page, f"release-form-categories-{size}")

        page.get_by_label(f"{prescriber.full_name} — {prescriber.practice.name}").check()
        page.get_by_label("With whom").select_option(
            label=f"{recipient.full_name} — Therapist, Lakeside Therapy"
        )
        page.get_by_label("Who I am (name, date of birth, care team)").check()
        summary.check()
        # The date picker stops at its max; a typed or pasted date does not.
        page.get_by_label("Until (end date)").fill("9999-12-31")
        page.get_by_label("Type your full name to sign").fill("Daniel Brooks")
        page.get_by_role("button", name="Sign").last.click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Nothing was signed yet")
        today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(patient.time_zone)).date()
        last = latest_end_date(today)
        limit = f"{last:%b} {last.day}, {last.year}"
        expect(alert).to_contain_text(f"at most 10 years: choose an end date on or before {limit}")
        assert Axe().run(page).violations_count == 0
        _shoot(page, f"release-form-date-error-{size}")
        assert not Release.objects.exists()
        for path in ("/me/", f"/patients/{patient.uuid}/releases/"):
            assert page.goto(f"{live_server.url}{path}").status == 200

        # The last allowed day signs; the release shows it and revokes.
        page.goto(f"{live_server.url}/patients/{patient.uuid}/releases/new/")
        page.get_by_label(f"{prescriber.full_name} — {prescriber.practice.name}").check()
        page.get_by_label("With whom").select_option(
            label=f"{recipient.full_name} — Therapist, Lakeside Therapy"
        )
        page.get_by_label("How my care team describes me (the summary they wrote)").check()
        page.get_by_label("Until (end date)").fill(str(latest_end_date(today)))
        page.get_by_label("Type your full name to sign").fill("Daniel Brooks")
        page.get_by_role("button", name="Sign").last.click()
        expect(page.get_by_text(f"In force until {limit}")).to_be_visible()
        _shoot(page, f"release-signed-last-day-{size}")
        page.get_by_role("button", name="Revoke this release").click()
        expect(page.get_by_text("Revoked on")).to_be_visible()
        assert Revocation.objects.count() == 1
    finally:
        context.close()
