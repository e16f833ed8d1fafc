"""A week of Dan's care, through the pages the three people use, ending on the visit screen.

Dan, on his phone, writes a goal. Dr. Raman adds sertraline for it, with its purpose in Dan's
words. Dan signs a release so that she and his therapist, Jordan, may share medicines and
observations; Jordan posts what he noticed about adherence on the team thread. Dan tells
Concord how his work with Dr. Raman is going, Dr. Raman records a prescription and the
pharmacy's fill, and Dan asks for a refill before a trip. In the visit, Dr. Raman's one screen
shows all of it; she approves the refill and records what Dan says without leaving it.

Screenshots land in test-artifacts/screenshots/ (gitignored) for people to look at; axe-core
finds nothing on the visit screen, Jordan's "Shared with me", the Today page or Dan's home.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alliance import selectors as alliance_selectors
from alliance import services as alliance
from alliance.models import CheckIn
from prescribing.models import Medication, Observation, RefillRequest
from referrals.models import Release
from stories import services as stories

from .conftest import (
    DESKTOP,
    PHONE,
    assert_no_axe_violations,
    main_menu_link,
    open_all_details,
    path_is,
    sign_in_as,
)

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
MEDICATION_URL = re.compile(r"/medications/[0-9a-f-]{36}/$")

GOAL = "Sleep through the night"
WHY = "So I can be patient with my daughter in the morning"
PURPOSE = "To feel less on edge, so I can sleep"
ADHERENCE = "Dan forgot the tablet twice at the weekend; he now keeps it by the coffee."
BETTER = "A little more time to ask about side effects."
TRIP = "I'm away at the coast for two weeks from Friday."
SAID_IN_VISIT = "Sleeping five hours most nights; a little queasy in the first days."


def _messages(page):
    return page.locator(".messages")


def _shoot(page, name: str) -> None:
    """A full-page picture, after checking what a glance should not have to catch."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"
    text = page.locator("body").inner_text()
    for leak in ("{%", "%}", "{{", "}}"):
        assert leak not in text, f"template syntax {leak!r} shows on {page.url}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _rate(card, label: str, note: str) -> None:
    card.get_by_text("Rate how it is going").click()
    card.get_by_label(label).check()
    card.get_by_label("A few words (optional)").fill(note)
    card.get_by_role("button", name="Save progress").click()


def test_a_week_of_care_ends_on_one_calm_visit_screen(
    open_page, live_server, patient, prescriber, therapist
):
    # Transactional tests flush the instruments the migration loads.
    alliance.install_shipped()
    base = live_server.url
    # Before this week: the intake visit left a summary and one check-in about Dr. Raman.
    stories.summary_save(
        actor=prescriber,
        patient=patient,
        text="Dan repairs boats at the marina and coaches his daughter's football team. "
        "He wants his nights back and to feel steady around people again.",
        version=None,
    )
    instrument = next(
        i for i in alliance_selectors.instruments_offered() if i.key == "concord-alliance"
    )
    intake = alliance.check_in_start(
        actor=patient.user, patient=patient, instrument=instrument, clinician=prescriber
    )
    intake = alliance.check_in_submit(
        actor=patient.user,
        check_in=intake,
        answers={"bond": 7, "goals": 8, "tasks": 7, "fit": 8},
    )
    two_weeks_ago = timezone.now() - timedelta(days=14)
    CheckIn.objects.filter(pk=intake.pk).update(
        created_at=two_weeks_ago, submitted_at=two_weeks_ago
    )

    # Monday. Dan, on his phone, writes what he wants from treatment, and where he is now.
    dan = open_page(PHONE)
    sign_in_as(dan, live_server, patient.user)
    main_menu_link(dan, "Goals").click()
    expect(dan.get_by_role("heading", level=1)).to_have_text("My goals")
    add = dan.get_by_role("region", name="Add a goal")
    add.get_by_label("What I want").fill(GOAL)
    add.get_by_label("Why it matters to me").fill(WHY)
    add.get_by_role("button", name="Save my goal").click()
    expect(_messages(dan)).to_contain_text("Your goal is saved.")
    goal_card = dan.get_by_role("article", name=GOAL)
    _rate(goal_card, "−1 Somewhat less", "Up at 3 most nights")
    expect(goal_card).to_contain_text("Latest: −1")

    # Tuesday. Dr. Raman adds sertraline, for that goal, in Dan's words.
    priya = open_page(DESKTOP)
    sign_in_as(priya, live_server, prescriber)
    priya.get_by_role("region", name="Patients").get_by_role(
        "link", name=re.compile("Dan Brooks")
    ).click()
    priya.get_by_role("navigation", name="Dan Brooks").get_by_role(
        "link", name="Medications"
    ).click()
    priya.get_by_role("link", name="Add a medication").click()
    expect(priya).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/medications/new/"))
    priya.get_by_label("Medicine", exact=True).fill("Sertraline")
    priya.get_by_label("Strength", exact=True).fill("50 mg")
    priya.get_by_label("Dose", exact=True).fill("1 tablet")
    priya.get_by_label("Directions", exact=True).fill("once a day in the morning")
    priya.get_by_label("What it is for, in the patient's words").fill(PURPOSE)
    priya.get_by_label(GOAL).check()
    priya.get_by_label("The patient's goals", exact=True).check()
    priya.get_by_label("A one-line reflection").fill("His goal, in his words")
    priya.get_by_label("Why", exact=True).fill("Nightmares and being on guard at night")
    priya.get_by_label("What the patient said they prefer").fill(
        "Nothing that makes me groggy at work"
    )
    priya.get_by_label("Yes, we decided it together").check()
    priya.get_by_role("button", name="Add to the plan").click()
    expect(priya).to_have_url(MEDICATION_URL)
    expect(_messages(priya)).to_contain_text("Sertraline added to the plan.")
    medication_path = priya.url.removeprefix(base)
    sertraline = Medication.objects.get(patient=patient, drug_name="Sertraline")
    assert [g.what for g in sertraline.goals.all()] == [GOAL]

    # Dan signs a release: Dr. Raman and Jordan may share medicines and observations.
    main_menu_link(dan, "Releases").click()
    dan.get_by_role("link", name="Sign a new release").click()
    expect(dan).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/releases/new/"))
    form = dan.locator("form.release-form")
    form.get_by_role("radio", name="Dr. Priya Raman — Riverside Psychiatry").check()
    form.get_by_label("With whom").select_option(label="Jordan Lee — Therapist, Harbor Counseling")
    expect(form.get_by_label("Both ways")).to_be_checked()
    form.get_by_label("My medicines and why I take them").check()
    form.get_by_label("Observations (how medicines work for me").check()
    form.get_by_label("Type your full name to sign").fill("Daniel Brooks")
    form.get_by_role("button", name="Sign the release").click()
    expect(_messages(dan)).to_contain_text("Signed. Your release is in force now")
    release = Release.objects.get(patient=patient)
    assert (release.discloser, release.recipient, release.mutual) == (prescriber, therapist, True)
    assert sorted(release.categories) == ["medications", "observations"]

    # Wednesday. Jordan, between sessions, reads what is shared and posts what he noticed.
    jordan = open_page(DESKTOP)
    sign_in_as(jordan, live_server, therapist)
    jordan.get_by_role("region", name="Patients").get_by_role(
        "link", name=re.compile("Dan Brooks")
    ).click()
    jordan.get_by_role("navigation", name="Dan Brooks").get_by_role(
        "link", name="Team thread"
    ).click()
    expect(jordan).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/thread/"))
    post = jordan.get_by_role("region", name="Write to the team")
    post.get_by_label("What kind").select_option(label="Adherence concern")
    post.get_by_label("About a medicine (optional)").select_option(label="Sertraline 50 mg")
    post.get_by_label("Message").fill(ADHERENCE)
    post.get_by_role("button", name="Post", exact=True).click()
    expect(_messages(jordan)).to_contain_text("Posted.")
    expect(jordan.locator(".timeline > li").first).to_contain_text(ADHERENCE)

    # Thursday. Dan tells Concord how his work with Dr. Raman is going.
    main_menu_link(dan, "Check-ins").click()
    expect(dan.get_by_role("heading", level=1)).to_have_text("My check-ins")
    dan.get_by_role("button", name="Start check-in about Dr. Priya Raman").click()
    expect(dan.get_by_role("heading", level=1)).to_have_text(
        "How is it going with Dr. Priya Raman?"
    )
    for item_id, value in (("bond", 9), ("goals", 8), ("tasks", 8), ("fit", 9)):
        dan.locator(f'input[type="radio"][name="{item_id}"][value="{value}"]').check()
    dan.get_by_label("What could we do to make our work together better?").fill(BETTER)
    dan.get_by_role("button", name="Send").click()
    expect(_messages(dan)).to_contain_text("Thank you. Your answers are with your care team.")
    check_in = CheckIn.objects.filter(patient=patient, status="submitted").latest("submitted_at")
    assert (check_in.clinician, check_in.total) == (prescriber, 8.5)

    # Friday. Dr. Raman records the prescription and the pharmacy's fill.
    priya.goto(base + medication_path)
    priya.get_by_text("Write a prescription").click()
    rx = priya.locator("#prescribe")
    rx.get_by_label("Quantity").fill("30")
    rx.get_by_label("Days' supply").fill("30")
    rx.get_by_label("Refills", exact=True).fill("2")
    rx.get_by_role("button", name="Record prescription").click()
    expect(_messages(priya)).to_contain_text("Prescription recorded.")
    priya.get_by_text("Record a fill").click()
    priya.locator("#fill").get_by_role("button", name="Record fill").click()
    expect(_messages(priya)).to_contain_text("Fill recorded.")
    run_out = timezone.localdate() + timedelta(days=30)

    # Dan is going away: he asks for a refill from his medicines, and rates his goal again.
    main_menu_link(dan, "Medicines").click()
    medicine = dan.locator(".med-list > li").filter(
        has=dan.get_by_role("heading", name="Sertraline 50 mg")
    )
    expect(medicine).to_contain_text(f"Why I take it: “{PURPOSE}”")
    medicine.get_by_role("link", name="Ask for a refill").click()
    dan.get_by_label("Anything your prescriber should know? (optional)").fill(TRIP)
    dan.get_by_role("button", name="Send my request").click()
    expect(_messages(dan)).to_contain_text("Your request is sent.")
    expect(medicine).to_contain_text("Refill requested")
    main_menu_link(dan, "Goals").click()
    goal_card = dan.get_by_role("article", name=GOAL)
    _rate(goal_card, "0 What I expected", "Slept five hours three nights")
    expect(goal_card).to_contain_text("Latest: 0")

    # Dan's home, on his phone and at a desk.
    main_menu_link(dan, "Home").click()
    expect(dan).to_have_url(path_is(live_server, "/me/"))
    expect(dan.get_by_role("heading", level=1)).to_have_text("Hello, Dan")
    assert_no_axe_violations(dan, "the patient's home (phone)")
    _shoot(dan, "week-patient-home-phone")
    dan.set_viewport_size(DESKTOP)
    assert_no_axe_violations(dan, "the patient's home (desktop)")
    _shoot(dan, "week-patient-home-laptop")

    # Jordan's "Shared with me": the medicine and its purpose, under the release.
    jordan.get_by_role("navigation", name="Dan Brooks").get_by_role(
        "link", name="Shared with me"
    ).click()
    expect(jordan.get_by_role("heading", level=1)).to_have_text("Dan Brooks: shared with me")
    shared = jordan.locator("main")
    expect(shared).to_contain_text("Sertraline 50 mg")
    expect(shared).to_contain_text(f"“{PURPOSE}”")
    expect(shared).to_contain_text("Medicines")
    expect(shared).to_contain_text("Observations")
    assert_no_axe_violations(jordan, "the therapist's shared view")
    _shoot(jordan, "week-shared-laptop")

    # Monday: the visit. Dr. Raman's day first, then Dan's visit screen from it.
    main_menu_link(priya, "Today").click()
    expect(priya.get_by_role("heading", level=1)).to_have_text("Today")
    waiting = priya.get_by_role("region", name="Refill requests")
    expect(waiting).to_contain_text("Sertraline")
    assert_no_axe_violations(priya, "the Today page")
    _shoot(priya, "week-today-laptop")
    waiting.get_by_role("link", name=re.compile("Dan Brooks")).click()
    expect(priya).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/visit/"))

    main = priya.locator("main")
    expect(main).to_contain_text("Dan repairs boats at the marina")
    goals = priya.get_by_role("region", name=re.compile("^Goals"))
    expect(goals).to_contain_text(GOAL)
    expect(
        goals.get_by_role("img", name="Progress ratings, oldest to newest: −1, 0")
    ).to_be_visible()
    card = priya.locator(f"#med-{sertraline.uuid}")
    expect(card.get_by_role("heading", name="Sertraline 50 mg")).to_be_visible()
    expect(card).to_contain_text(f"“{PURPOSE}”")
    expect(card).to_contain_text(GOAL)
    expect(card).to_contain_text(f"Runs out {run_out:%b} {run_out.day}, {run_out.year}")
    expect(card).to_contain_text(f"“{TRIP}”")
    shared_with_me = priya.get_by_role("region", name=re.compile("other clinician"))
    expect(shared_with_me).to_contain_text(ADHERENCE)
    expect(shared_with_me).to_contain_text("Jordan Lee")
    trend = priya.get_by_role("region", name="How our work together is going")
    expect(
        trend.get_by_role("img", name=re.compile(r"2 scores from .*; latest 8\.5"))
    ).to_be_visible()
    expect(trend).to_contain_text(BETTER)
    pending = priya.get_by_role("region", name="Pending")
    expect(pending).to_contain_text("Sertraline")
    expect(pending).to_contain_text("requested")

    assert_no_axe_violations(priya, "the visit screen")
    _shoot(priya, "week-visit-laptop")
    summary = priya.request.get(f"{base}/patients/{patient.uuid}/visit/pdf/")
    assert summary.ok
    assert summary.headers["content-type"] == "application/pdf"
    (SHOTS / "week-visit.pdf").write_bytes(summary.body())
    priya.set_viewport_size(PHONE)
    _shoot(priya, "week-visit-phone")
    priya.set_viewport_size(DESKTOP)
    open_all_details(priya)
    assert_no_axe_violations(priya, "the visit screen with its forms open")
    ids = priya.evaluate("[...document.querySelectorAll('[id]')].map((el) => el.id)")
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)

    # She approves the refill in place: htmx swaps the medicines, the page stays.
    priya.evaluate("window.stillTheSamePage = true")
    card.get_by_role("button", name="Approve").click()
    expect(priya.get_by_role("status")).to_contain_text("Recorded.")
    expect(card).to_contain_text("Refill approved")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    expect(card.get_by_role("button", name="Mark sent")).to_be_visible()
    expect(pending).to_contain_text("Refill of Sertraline: approved")
    assert RefillRequest.objects.get(medication=sertraline).status == "approved"

    # And records, with Dan in the room, what he says about it.
    card.get_by_text("Record for Sertraline").click()
    card.get_by_label("Observation").select_option(label="Response")
    card.get_by_label("What was noticed").fill(SAID_IN_VISIT)
    card.get_by_role("button", name="Save observation").click()
    expect(card).to_contain_text(SAID_IN_VISIT)
    assert Observation.objects.filter(
        medication=sertraline, author=prescriber, kind="response", text=SAID_IN_VISIT
    ).exists()
    assert priya.evaluate("window.stillTheSamePage") is True
    expect(pending).to_have_count(1)  # swapped out of band, not added a second time
    ids = priya.evaluate("[...document.querySelectorAll('[id]')].map((el) => el.id)")
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert_no_axe_violations(priya, "the visit screen after recording in place")
    _shoot(priya, "week-visit-recorded-laptop")
