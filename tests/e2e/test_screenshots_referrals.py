"""Screenshots of referrals, releases of information and the team thread, at a phone and a
laptop width, and the signed release as a PDF (rendered to PNG) for people to look at.

Rosa is treated at Harbor Counseling; Jordan refers her to Dr. Raman at Riverside, who accepts
and starts a medicine. Rosa signs a release between them (an earlier one, revoked, stays in her
list); Jordan reads the plan under it and raises a concern on the thread, which Dr. Raman
answers. Everything lands in test-artifacts/screenshots/.
"""

import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from prescribing import services as prescribing
from referrals import services as referrals
from tests import factories

from .conftest import sign_in_as
from .test_screenshots import SHOTS, VIEWPORTS, _shoot

pytestmark = pytest.mark.e2e


@pytest.fixture
def rosa(therapist):
    user = factories.PatientUserFactory(full_name="Rosa Alvarez")
    person = factories.PatientFactory(
        given_name="Rosa", family_name="Alvarez", email=user.email, user=user
    )
    factories.MembershipFactory(patient=person, clinician=therapist)
    return person


def _sign(rosa, prescriber, therapist, categories, days=365, **extra):
    return referrals.release_sign(
        actor=rosa.user,
        patient=rosa,
        discloser=prescriber,
        recipient=therapist,
        categories=categories,
        purpose="So my prescriber and my therapist can treat me together.",
        expires_on=timezone.localdate() + timedelta(days=days),
        signed_name="Rosa Alvarez",
        ip="203.0.113.24",
        user_agent="Mozilla/5.0 (Linux; Android 14) Mobile",
        **extra,
    )


@pytest.mark.parametrize("size", VIEWPORTS)
def test_screenshots_of_referrals_releases_and_the_thread(
    browser, live_server, rosa, prescriber, therapist, size
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    contexts = []

    def signed_in(user):
        context = browser.new_context(viewport=VIEWPORTS[size])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in_as(page, live_server, user)
        return page

    try:
        referral = referrals.referral_create(
            actor=therapist,
            patient=rosa,
            to_clinician=prescriber,
            reason="Nightmares most nights despite eight sessions of trauma-focused therapy. "
            "Rosa is exhausted at work and has started to avoid driving at night.",
            questions="Would a medicine for sleep help?\nAnything we should watch for in sessions?",
            urgency="soon",
        )

        priya = signed_in(prescriber)
        priya.goto(f"{base}/referrals/")
        expect(priya.get_by_role("heading", level=1)).to_have_text("Referrals")
        _shoot(priya, f"referral-inbox-{size}")
        priya.goto(f"{base}/referrals/{referral.uuid}/")
        expect(priya.get_by_role("button", name="Accept")).to_be_visible()
        _shoot(priya, f"referral-{size}")

        referrals.referral_move(actor=prescriber, referral=referral, status="accepted")
        priya.reload()
        _shoot(priya, f"referral-accepted-{size}")

        sertraline = prescribing.medication_start(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            patient=rosa,
            drug_name="Sertraline",
            strength="50 mg",
            form="tablet",
            dose="1 tablet",
            directions="once a day in the morning",
            purpose="Fewer nightmares, calmer days",
            reason="Nightmares despite therapy",
        )

        jordan = signed_in(therapist)
        jordan.goto(f"{base}/patients/{rosa.uuid}/referrals/")
        expect(jordan.get_by_role("heading", level=1)).to_have_text("Rosa Alvarez: referrals")
        _shoot(jordan, f"referrals-patient-{size}")

        # An earlier, narrower release that Rosa revoked, then the one in force.
        old = _sign(rosa, prescriber, therapist, ["profile"], days=90)
        referrals.release_revoke(actor=rosa.user, release=old, note="I want to add my medicines.")
        release = _sign(rosa, prescriber, therapist, ["medications", "observations"])

        # Jordan reads the plan under the release and raises a concern; Dr. Raman answers.
        jordan.goto(f"{base}/patients/{rosa.uuid}/medications/")
        expect(jordan.locator("main")).to_contain_text("Sertraline 50 mg")
        concern = referrals.thread_post(
            actor=therapist,
            patient=rosa,
            kind="adherence",
            text="Rosa says she skips the morning tablet on workdays: it makes her queasy "
            "on the bus.",
            medication_uuid=sertraline.uuid,
            medication_name="Sertraline 50 mg",
        )
        referrals.thread_post(
            actor=prescriber,
            patient=rosa,
            kind="reply",
            text="Thank you. She can take it with breakfast or at night; I will call her "
            "this week.",
            reply_to=concern,
        )
        referrals.thread_post(
            actor=therapist,
            patient=rosa,
            kind="change",
            text="Since the change she reports two nights a week without nightmares.",
            medication_uuid=sertraline.uuid,
            medication_name="Sertraline 50 mg",
        )
        jordan.goto(f"{base}/patients/{rosa.uuid}/thread/")
        expect(jordan.locator(".timeline > li")).to_have_count(3)
        _shoot(jordan, f"thread-{size}")
        jordan.locator(".timeline > li").first.get_by_text("Reply", exact=True).click()
        _shoot(jordan, f"thread-reply-open-{size}")

        her = signed_in(rosa.user)
        her.goto(f"{base}/patients/{rosa.uuid}/releases/new/")
        expect(her.get_by_role("button", name="Sign the release")).to_be_visible()
        _shoot(her, f"release-new-{size}")
        her.get_by_role("radio", name="Dr. Priya Raman — Riverside Psychiatry").check()
        her.get_by_label("With whom").select_option(
            label="Jordan Lee — Therapist, Harbor Counseling"
        )
        her.get_by_label("My medicines and why I take them").check()
        her.get_by_label("Type your full name to sign").fill("Rosa Alvares")
        her.get_by_role("button", name="Sign the release").click()
        expect(her.get_by_role("alert")).to_be_visible()
        _shoot(her, f"release-new-error-{size}")
        # Substance-use information and signing for someone else each bring their own fields.
        her.get_by_role(
            "checkbox", name="Substance-use disorder information (42 CFR Part 2)"
        ).check()
        her.get_by_label("I am signing for someone else, as their personal representative").check()
        expect(her.get_by_label("My authority (e.g. legal guardian)")).to_be_visible()
        _shoot(her, f"release-new-part2-{size}")

        her.goto(f"{base}/releases/{release.uuid}/")
        expect(her.get_by_role("heading", level=1)).to_be_visible()
        _shoot(her, f"release-{size}")
        her.goto(f"{base}/releases/{old.uuid}/")
        _shoot(her, f"release-revoked-{size}")
        her.goto(f"{base}/patients/{rosa.uuid}/releases/")
        expect(her.locator("li.release")).to_have_count(2)
        _shoot(her, f"releases-{size}")

        priya.goto(f"{base}/patients/{rosa.uuid}/releases/")
        _shoot(priya, f"releases-clinician-{size}")

        if size == "phone":
            pdf = her.context.request.get(f"{base}/releases/{release.uuid}/pdf/")
            assert pdf.ok
            assert pdf.headers["content-type"] == "application/pdf"
            path = SHOTS / "release.pdf"
            path.write_bytes(pdf.body())
            for stale in SHOTS.glob("release-pdf-*.png"):
                stale.unlink()
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", str(path), str(SHOTS / "release-pdf")],
                check=True,
            )
            revoked = her.context.request.get(f"{base}/releases/{old.uuid}/pdf/")
            assert revoked.ok
            path = SHOTS / "release-revoked.pdf"
            path.write_bytes(revoked.body())
            for stale in SHOTS.glob("release-revoked-pdf-*.png"):
                stale.unlink()
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", str(path), str(SHOTS / "release-revoked-pdf")],
                check=True,
            )
    finally:
        for context in contexts:
            context.close()
