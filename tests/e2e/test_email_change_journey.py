"""A patient changes their sign-in address in the browser: someone else's address is refused,
a new one waits until confirmed from its mailbox, then replaces the old one, which is told.
Screenshots at 360 and 1280 px land in CONCORD_SHOTS_DIR (default test-artifacts/screenshots/)."""

import os
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from core.models import User

from .conftest import DESKTOP, PHONE, sign_in_as

pytestmark = pytest.mark.e2e

SHOTS = Path(
    os.environ.get("CONCORD_SHOTS_DIR")
    or Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
)


def _shoot(page, name: str) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_email_change_journey(open_page, live_server, patient, prescriber, size):
    user = patient.user
    old = user.email
    page = open_page(PHONE if size == "phone" else DESKTOP)
    sign_in_as(page, live_server, user)
    page.goto(f"{live_server.url}/accounts/email/")
    _shoot(page, f"email-page-{size}")

    page.get_by_label("Change to").fill(prescriber.email)
    page.get_by_role("button", name="Change the address").click()
    expect(page.get_by_text("already belongs to someone else at Concord")).to_be_visible()
    _shoot(page, f"email-page-taken-{size}")
    assert User.objects.get(pk=user.pk).email == old

    page.get_by_label("Change to").fill("dan.new.address@example.test")
    page.get_by_role("button", name="Change the address").click()
    expect(page.get_by_text("open the link we e-mailed to that address")).to_be_visible()
    _shoot(page, f"email-page-pending-{size}")
    assert User.objects.get(pk=user.pk).email == old

    message = next(m for m in reversed(mail.outbox) if m.to == ["dan.new.address@example.test"])
    url = next(w for w in message.body.split() if "/accounts/confirm-email/" in w)
    page.goto(live_server.url + "/accounts/" + url.split("/accounts/", 1)[1])
    _shoot(page, f"email-confirm-{size}")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    assert User.objects.get(pk=user.pk).email == "dan.new.address@example.test"
    assert any(m.to == [old] and "was changed" in m.body for m in mail.outbox)
