"""A therapist's team thread after the patient revokes the release: it says who reads new
posts, refuses a post no one of the other practice could read and says why and what the
patient can do, keeps what was typed, and marks the earlier post written under the release."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals import services as referrals
from referrals.models import ThreadPost

from .conftest import DESKTOP, PHONE, assert_no_axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("CONCORD_SHOTS", "test-artifacts/screenshots"))
FIRST = "Dan said he skips the evening dose when he works late."
SECOND = "He also mentioned feeling dizzy when he stands up quickly."


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_after_the_release_is_revoked_the_thread_refuses_a_post_and_says_why(
    open_page, live_server, patient, patient_user, prescriber, therapist, viewport
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = viewport["width"]
    release = referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        categories=["medications", "observations"],
        purpose="So my prescriber and my therapist can treat me together.",
        expires_on=timezone.localdate() + timedelta(days=90),
        signed_name="Daniel Brooks",
    )
    jordan = open_page(viewport)
    sign_in_as(jordan, live_server, therapist)
    jordan.goto(f"{live_server.url}/patients/{patient.uuid}/thread/")
    readers = jordan.locator("#thread-readers")
    expect(readers).to_contain_text("Dr. Priya Raman")
    expect(readers).to_contain_text("reads new posts under the release signed on")
    jordan.get_by_label("What kind").select_option("adherence")
    jordan.get_by_label("Message").fill(FIRST)
    jordan.get_by_role("button", name="Post", exact=True).click()
    expect(jordan.get_by_text("Posted.")).to_be_visible()
    _shot = SHOTS / f"thread-readers-in-force-{width}.png"
    jordan.screenshot(path=str(_shot), full_page=True)

    # Dan revokes the release on his phone while Jordan's page is still open.
    referrals.release_revoke(actor=patient_user, release=release, note="I want to think again.")
    jordan.get_by_label("What kind").select_option("side_effect")
    jordan.get_by_label("Message").fill(SECOND)
    jordan.get_by_role("button", name="Post", exact=True).click()

    error = jordan.locator(".form-error")
    expect(error).to_contain_text("Not posted: Dr. Priya Raman (Riverside Psychiatry)")
    expect(error).to_contain_text("the release of information that let them read your posts")
    expect(error).to_contain_text("Only Dan can change that")
    expect(error).to_contain_text("by signing a release of information")
    # Nothing typed is lost, nothing is stored, and the notice above the form says it too.
    expect(jordan.get_by_label("Message")).to_have_value(SECOND)
    assert not ThreadPost.objects.filter(text=SECOND).exists()
    expect(readers).to_contain_text("Posting is paused")
    expect(readers).to_contain_text("was revoked on")
    # The earlier post says it was written under a release that has ended.
    expect(jordan.locator(".post__sharing")).to_contain_text(
        "Dr. Priya Raman can no longer read it."
    )
    assert_no_axe_violations(jordan, f"the refused thread at {width} px")
    jordan.screenshot(path=str(SHOTS / f"thread-refused-{width}.png"), full_page=True)
    assert jordan.evaluate("document.documentElement.scrollWidth") <= width
