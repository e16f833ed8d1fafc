"""Goals in the patient's own words, as people use them: Dan writes a goal on his phone and
rates it, his prescriber sees it at her desk; a clinician proposes a goal and Dan accepts it.
The rating form works without a mouse, and axe-core finds nothing on the goals and notes pages."""

import re

import pytest
from playwright.sync_api import expect

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


def _status(page):
    """The flash message a redirect leaves (role=status)."""
    return page.locator(".messages")


def test_patient_writes_a_goal_on_the_phone_rates_it_and_the_prescriber_sees_it(
    open_page, live_server, patient, prescriber
):
    dan = open_page(PHONE)
    sign_in_as(dan, live_server, patient.user)
    main_menu_link(dan, "Goals").click()

    expect(dan).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/goals/"))
    expect(dan.get_by_role("heading", level=1)).to_have_text("My goals")
    expect(dan.get_by_text("No goals yet.")).to_be_visible()

    add = dan.get_by_role("region", name="Add a goal")
    add.get_by_label("What I want").fill("Sleep through the night")
    add.get_by_label("Why it matters to me").fill(
        "So I can be patient with my daughter in the morning"
    )
    add.get_by_role("button", name="Save my goal").click()

    expect(_status(dan)).to_contain_text("Your goal is saved.")
    card = dan.get_by_role("article", name="Sleep through the night")
    expect(card).to_contain_text("Why it matters: So I can be patient with my daughter")
    expect(card).to_contain_text("Active")
    expect(card).to_contain_text("Not rated yet")

    # Rating swaps the card in place: the marker would not survive a page load.
    dan.evaluate("window.stillTheSamePage = true")
    card.get_by_text("Rate how it is going").click()
    card.get_by_label("+1 Somewhat more").check()
    card.get_by_label("A few words (optional)").fill("Slept six hours twice")
    card.get_by_role("button", name="Save progress").click()

    expect(card).to_contain_text("Latest: +1")
    expect(card).to_contain_text("“Slept six hours twice”")
    expect(card.get_by_role("img", name="Progress ratings, oldest to newest: +1")).to_be_visible()
    expect(card).not_to_contain_text("Not rated yet")
    # The fresh card comes with its rating form closed and empty, ready for next time.
    expect(card.get_by_label("A few words (optional)")).to_be_hidden()
    assert dan.evaluate("window.stillTheSamePage") is True
    overflow = dan.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the goals page is {overflow}px wider than a 360px phone"

    # The prescriber, at her desk, opens Dan and goes to his goals.
    priya = open_page(DESKTOP)
    sign_in_as(priya, live_server, prescriber)
    priya.get_by_role("region", name="Patients").get_by_role(
        "link", name=re.compile("Dan Brooks")
    ).click()
    expect(priya.get_by_role("heading", level=1)).to_have_text("Dan Brooks")
    priya.get_by_role("navigation", name="Dan Brooks").get_by_role("link", name="Goals").click()

    expect(priya).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/goals/"))
    expect(priya.get_by_role("heading", level=1)).to_have_text("Dan Brooks: goals")
    card = priya.get_by_role("article", name="Sleep through the night")
    expect(card).to_contain_text("So I can be patient with my daughter in the morning")
    expect(card).to_contain_text(re.compile(r"Latest: \+1 on \w{3} \d+ by Dan Brooks"))
    expect(card).to_contain_text("“Slept six hours twice”")
    expect(card.get_by_role("img", name="Progress ratings, oldest to newest: +1")).to_be_visible()


def test_rating_form_works_with_the_keyboard_alone(open_page, live_server, patient):
    goal = stories.goal_create(
        actor=patient.user,
        patient=patient,
        what="Walk to the harbour every morning",
        levels={"level_plus1": "Four mornings a week"},
    )
    page = open_page(DESKTOP)
    sign_in_as(page, live_server, patient.user, next_path=f"/patients/{patient.uuid}/goals/")
    page.evaluate("window.stillTheSamePage = true")
    card = page.get_by_role("article", name=goal.what)
    disclosure = card.locator("summary", has_text="Rate how it is going")

    # Tab from the top of the page to the rating disclosure, and open it with Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if disclosure.evaluate("(el) => el === document.activeElement"):
            break
    expect(disclosure).to_be_focused()
    page.keyboard.press("Enter")

    # Into the scale: Tab reaches the first choice, Space picks it, arrows move along.
    page.keyboard.press("Tab")
    lowest = card.get_by_label("−2 Much less than I hoped")
    expect(lowest).to_be_focused()
    expect(lowest).not_to_be_checked()
    page.keyboard.press("Space")
    expect(lowest).to_be_checked()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    plus_one = card.get_by_label("+1 Somewhat more")
    expect(plus_one).to_be_focused()
    expect(plus_one).to_be_checked()
    # The patient's own words for +1 are part of the choice's name.
    expect(plus_one).to_have_accessible_name(re.compile("Four mornings a week"))

    page.keyboard.press("Tab")
    expect(card.get_by_label("A few words (optional)")).to_be_focused()
    page.keyboard.type("Three mornings, and the dog was glad")
    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="Save progress")).to_be_focused()
    page.keyboard.press("Enter")

    expect(card).to_contain_text("Latest: +1")
    expect(card).to_contain_text("“Three mornings, and the dog was glad”")
    assert page.evaluate("window.stillTheSamePage") is True
    # Focus stays with the card that changed, so the keyboard user carries on from there.
    expect(card).to_be_focused()
    page.keyboard.press("Tab")
    expect(disclosure).to_be_focused()


def test_clinician_proposes_a_goal_and_the_patient_accepts_it(
    open_page, live_server, patient, prescriber
):
    priya = open_page(DESKTOP)
    sign_in_as(priya, live_server, prescriber, next_path=f"/patients/{patient.uuid}/goals/")
    propose = priya.get_by_role("region", name="Propose a goal")
    expect(propose).to_contain_text("Write it as Dan would say it.")
    propose.get_by_label("What I want").fill("Walk twenty minutes most days")
    propose.get_by_label("Why it matters to me").fill("Moving helps my mood and my sleep")
    propose.get_by_role("button", name="Propose goal").click()

    expect(_status(priya)).to_contain_text("Goal proposed.")
    card = priya.get_by_role("article", name="Walk twenty minutes most days")
    expect(card).to_contain_text("Proposed")
    expect(card).to_contain_text(
        "Proposed by Dr. Priya Raman. It becomes active when the patient accepts it."
    )
    # Accepting is the patient's alone, and a proposal is not rated yet.
    expect(card.get_by_role("button", name="Accept as my goal")).to_have_count(0)
    expect(card.get_by_text("Rate progress")).to_have_count(0)

    dan = open_page(PHONE)
    sign_in_as(dan, live_server, patient.user)
    main_menu_link(dan, "Goals").click()
    card = dan.get_by_role("article", name="Walk twenty minutes most days")
    expect(card).to_contain_text("Proposed by Dr. Priya Raman. Is this yours?")
    dan.evaluate("window.stillTheSamePage = true")
    card.get_by_role("button", name="Accept as my goal").click()

    expect(card.locator(".tag")).to_have_text("Active")
    expect(card).not_to_contain_text("Proposed by")
    expect(card.get_by_text("Rate how it is going")).to_be_visible()
    assert dan.evaluate("window.stillTheSamePage") is True

    priya.reload()
    card = priya.get_by_role("article", name="Walk twenty minutes most days")
    expect(card.locator(".tag")).to_have_text("Active")
    expect(card.get_by_text("Rate progress")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_goals_and_notes_pages_have_no_axe_violations(
    open_page, live_server, dans_record, patient, prescriber, therapist, viewport
):
    dan = open_page(viewport)
    sign_in_as(dan, live_server, patient.user, next_path=f"/patients/{patient.uuid}/goals/")
    expect(dan.get_by_role("heading", level=1)).to_have_text("My goals")
    assert_no_axe_violations(dan, "the patient's goals page")
    open_all_details(dan)
    assert_no_axe_violations(dan, "the patient's goals page with its forms open")

    main_menu_link(dan, "My story").click()
    expect(dan.get_by_role("heading", level=1)).to_have_text("My story")
    open_all_details(dan)
    assert_no_axe_violations(dan, "the patient's story page")

    priya = open_page(viewport)
    sign_in_as(priya, live_server, prescriber, next_path=f"/patients/{patient.uuid}/goals/")
    expect(priya.get_by_role("heading", level=1)).to_have_text("Dan Brooks: goals")
    open_all_details(priya)
    assert_no_axe_violations(priya, "a clinician's goals page")

    # The therapist sees the story entry, their own note and their own process note.
    jordan = open_page(viewport)
    sign_in_as(jordan, live_server, therapist, next_path=f"/patients/{patient.uuid}/notes/")
    expect(jordan.get_by_role("heading", level=1)).to_have_text("Dan Brooks: notes")
    timeline = jordan.get_by_role("region", name="Notes, newest first")
    notes = timeline.locator(".timeline > li")
    expect(notes).to_have_count(3)
    expect(timeline).to_contain_text("Dan’s story")
    expect(timeline).to_contain_text("Only you · never shared")
    open_all_details(jordan)
    assert_no_axe_violations(jordan, "a clinician's notes page")

    # Filtering swaps the timeline in place, and it stays clean.
    jordan.get_by_label("Kind").select_option(label="My story")
    expect(notes).to_have_count(1)
    assert_no_axe_violations(jordan, "the filtered notes page")
