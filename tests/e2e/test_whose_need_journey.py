"""Issue 18 in the browser: a dose increase that must name the goal it serves and whose need
drives it before it is saved, and a deprescribing flag answered with a taper. Screenshots at
360 and 1280 px of each page changed; axe-core finds nothing on them."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from prescribing import services as rx
from stories import services as stories

from .conftest import DESKTOP, PHONE, assert_no_axe_violations, open_all_details, sign_in_as

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("CONCORD_WHOSE_NEED_SHOTS", "/tmp/shots/whose-need"))


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, size in (("1280", DESKTOP), ("360", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def _sertraline(prescriber, patient, goal):
    return rx.medication_start(
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="once a day in the morning",
        purpose="To feel less on guard, so I can sleep",
        goal_uuids=[goal.uuid],
        needs=["patient_goals"],
        need_reflection="Dan's sleep, as he put it.",
        reason="On guard all day, up at night",
        decided_together=True,
    )


def test_a_dose_increase_names_a_goal_and_whose_need(
    open_page, live_server, patient, prescriber
):
    sleep = stories.goal_create(
        actor=patient.user, patient=patient, what="Sleep through the night"
    )
    stories.goal_create(actor=patient.user, patient=patient, what="Get back to the workshop")
    sertraline = _sertraline(prescriber, patient, sleep)

    priya = open_page(DESKTOP)
    sign_in_as(priya, live_server, prescriber)
    priya.goto(f"{live_server.url}/medications/{sertraline.uuid}/")
    priya.get_by_text("Record a decision").click()
    decide = priya.locator("#decide form")
    decide.get_by_label("Change the dose").check()
    decide.get_by_label("New strength").fill("100 mg")
    decide.get_by_label("Why", exact=True).fill("Partial response after eight weeks")
    decide.get_by_label("Yes, we decided it together").check()
    # Nothing is chosen for her: no goal, no need.
    expect(decide.get_by_label("Sleep through the night")).not_to_be_checked()
    expect(decide.get_by_label("The clinician's own concern or worry")).not_to_be_checked()
    decide.get_by_role("button", name="Record decision").click()

    # Refused before saving, with what was typed kept and each missing answer named.
    form = priya.locator("#decide form")
    expect(form.get_by_text("Choose which of the patient's goals this serves")).to_be_visible()
    expect(form.get_by_text("Say whose need is driving this decision.")).to_be_visible()
    expect(form.get_by_label("Why", exact=True)).to_have_value(
        "Partial response after eight weeks"
    )
    expect(priya.locator(".facts")).to_contain_text("1 tablet")
    open_all_details(priya)
    assert_no_axe_violations(priya, "the decision form refused for want of a goal and a need")
    _shoot(priya, "dose-increase-refused")

    form.get_by_label("Sleep through the night").check()
    form.get_by_label("The patient's goals", exact=True).check()
    form.get_by_label("The clinician's own concern or worry").check()
    form.get_by_label("A one-line reflection").fill(
        "His sleep, and my worry after a hard visit."
    )
    form.get_by_role("button", name="Record decision").click()

    expect(priya.get_by_text("Decision recorded.")).to_be_visible()
    latest = priya.locator(".timeline li").first
    expect(latest).to_contain_text("Dose change")
    expect(latest).to_contain_text("Serves: Sleep through the night")
    expect(latest).to_contain_text(
        "Whose need: The patient's goals, The clinician's own concern or worry"
    )
    expect(latest).to_contain_text("His sleep, and my worry after a hard visit.")
    assert_no_axe_violations(priya, "the medicine's page after the increase")
    _shoot(priya, "dose-increase-timeline")

    # Her own pattern, from her account: counted, for her alone.
    priya.goto(f"{live_server.url}/account/")
    priya.get_by_role("link", name="Whose need drove my starts and increases").click()
    expect(priya.get_by_role("heading", level=1)).to_have_text("My prescribing pattern")
    row = priya.get_by_role("row", name="The clinician's own concern or worry")
    expect(row).to_contain_text("1")
    assert_no_axe_violations(priya, "my prescribing pattern")
    _shoot(priya, "my-prescribing-pattern")


def test_a_deprescribing_flag_answered_with_a_taper(
    open_page, live_server, patient, prescriber
):
    sleep = stories.goal_create(
        actor=patient.user, patient=patient, what="Sleep through the night"
    )
    _sertraline(prescriber, patient, sleep)
    quetiapine = rx.medication_start(
        actor=prescriber,
        patient=patient,
        drug_name="Quetiapine",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="at bedtime",
        serves_no_goal=True,
        no_goal_reason="Started in hospital, before we met.",
        needs=["patient_request"],
        need_reflection="He asked to keep what the hospital started.",
        reason="Continued from the hospital",
        decided_together=True,
    )

    # Dan, on his phone, is asked whether it still helps.
    dan = open_page(PHONE)
    sign_in_as(dan, live_server, patient.user)
    dan.goto(f"{live_server.url}/patients/{patient.uuid}/medications/")
    card = dan.locator(f"#med-{quetiapine.uuid}")
    expect(card.get_by_text("Is this still helping with what you want?")).to_be_visible()
    expect(dan.locator(".still-helping")).to_have_count(1)
    assert_no_axe_violations(dan, "the patient's medicines with a question")
    _shoot(dan, "my-medicines-still-helping")

    # The prescriber sees the flag on the visit screen and answers it with a taper.
    priya = open_page(DESKTOP)
    sign_in_as(priya, live_server, prescriber)
    priya.goto(f"{live_server.url}/patients/{patient.uuid}/visit/")
    expect(priya.get_by_text("1 medicine to review")).to_be_visible()
    med = priya.locator(f"#med-{quetiapine.uuid}")
    expect(med).to_contain_text("Serves none of the patient's open goals")
    expect(med).to_contain_text("Its purpose is not written in the patient's words")
    assert_no_axe_violations(priya, "the visit screen with a medicine to review")
    _shoot(priya, "visit-review-flag")
    med.get_by_role("link", name="Review Quetiapine").click()

    review = priya.locator("#review form")
    expect(priya.locator("#review")).to_contain_text("Is Quetiapine still needed?")
    review.get_by_label("Taper", exact=True).check()
    review.get_by_label("Why it continues, or the taper plan, or why it stops").fill(
        "25 mg at bedtime for two weeks, then stop; call if sleep falls apart"
    )
    review.get_by_label("First lower strength (taper)").fill("25 mg")
    review.get_by_label("Yes, we decided it together").check()
    assert_no_axe_violations(priya, "the review form")
    _shoot(priya, "review-form")
    review.get_by_role("button", name="Record the review").click()

    expect(priya.get_by_text("Review recorded: taper.")).to_be_visible()
    latest = priya.locator(".timeline li").first
    expect(latest).to_contain_text("Deprescribing review")
    expect(latest).to_contain_text("Review outcome: Taper")
    expect(latest).to_contain_text("25 mg at bedtime for two weeks")
    expect(priya.locator(".page-head h1")).to_contain_text("Quetiapine 25 mg")
    expect(priya.locator("#review")).to_have_count(0)
    _shoot(priya, "review-taper-timeline")

    priya.goto(f"{live_server.url}/patients/{patient.uuid}/visit/")
    expect(priya.get_by_text("medicine to review")).to_have_count(0)
