"""The account page in a browser: a clinician makes an API token, copies it, sees it listed,
revokes an old one; at a phone's and a laptop's width, with no axe violation and no overflow.

Screenshots land in CONCORD_SHOTS_DIR (default test-artifacts/screenshots/, gitignored)."""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from core.models import ApiToken
from tests import factories
from tests.factories import PASSWORD

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
def test_make_copy_and_revoke_a_token(browser, live_server, prescriber, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    factories.api_token(prescriber)
    old = ApiToken.objects.get(user=prescriber)
    old.name = "last year's export script"
    old.save()
    context = browser.new_context(viewport=VIEWPORTS[width])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in_as(page, live_server, prescriber)
        header_link(page, prescriber.full_name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your account")

        page.get_by_label("Name").fill("Weekly outcomes report")
        page.get_by_label("Expires after").select_option("30")
        page.get_by_label("Your current password").fill(PASSWORD)
        page.get_by_role("button", name="Make a token").click()
        key = page.get_by_role("textbox", name="Token to copy").input_value()
        assert key.startswith("concord_")
        expect(page.get_by_text("shown only this once")).to_be_visible()
        page.screenshot(path=str(SHOTS / f"account-tokens-new-{width}.png"), full_page=True)
        _check(page)

        page.get_by_role("button", name=f"Revoke {old.name}").click()
        expect(page.get_by_text("no longer works")).to_be_visible()
        expect(page.get_by_text("Ended: Revoked by you")).to_be_visible()
        assert key not in page.content()  # shown once: gone after the next page
        page.screenshot(path=str(SHOTS / f"account-tokens-{width}.png"), full_page=True)
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
