"""A medicine from the first decision to a refill, as people use it: the prescriber adds
sertraline for one of Dan's goals, raises the dose, records a prescription and a fill; Dan, on
his phone, reads why he takes it and asks for a refill; the prescriber approves it from her
queue, and Dan sees the answer. axe-core finds nothing on any of these pages."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
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

MEDICATION_URL = re.compile(r"/medications/[0-9a-f-]{36}/$")


def _messages(page):
    return page.locator(".messages")


def _day(d) -> str:
    """A date as the pages write it ("Dec 7, 2026")."""
    return f"{d:%b} {d.day}, {d.year}"


def test_a_medicine_from_first_decision_to_an_approved_refill(
    open_page, live_server, patient, prescriber
):
    sleep = stories.goal_create(
        actor=patient.user,
        patient=patient,
        what="Sleep through the night",
        why="So I can be patient with my daughter in the morning",
    )

    # The prescriber opens Dan's plan from her patient list and adds sertraline.
    priya = open_page(DESKTOP)
    sign_in_as(priya, live_server, prescriber)
    priya.get_by_role("region", name="Patients").get_by_role(
        "link", name=re.compile("Dan Brooks")
    ).click()
    priya.get_by_role("navigation", name="Dan Brooks").get_by_role(
        "link", name="Medications"
    ).click()
    expect(priya.get_by_role("heading", level=1)).to_have_text("Dan Brooks: medication plan")
    expect(priya.get_by_text("No medications on the plan.")).to_be_visible()
    priya.get_by_role("link", name="Add a medication").click()

    expect(priya).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/medications/new/"))
    priya.get_by_label("Medicine", exact=True).fill("Sertraline")
    priya.get_by_label("Strength", exact=True).fill("50 mg")
    expect(priya.get_by_label("Form", exact=True)).to_have_value("tablet")
    priya.get_by_label("Dose", exact=True).fill("1 tablet")
    priya.get_by_label("Directions", exact=True).fill("once a day in the morning")
    priya.get_by_label("What it is for, in the patient's words").fill(
        "To feel less on edge, so I can sleep"
    )
    priya.get_by_label("Sleep through the night").check()
    priya.get_by_label("The patient's goals", exact=True).check()
    priya.get_by_label("A one-line reflection").fill("His sleep, in his words")
    priya.get_by_label("Becoming dependent on it").check()
    priya.get_by_label("Why", exact=True).fill("Nightmares and being on guard at night")
    priya.get_by_label("What the patient said they prefer").fill(
        "Nothing that makes me groggy at work"
    )
    # Nothing is chosen for her: she says whether they decided it together.
    expect(priya.get_by_label("Yes, we decided it together")).not_to_be_checked()
    expect(priya.get_by_label("No", exact=True)).not_to_be_checked()
    priya.get_by_label("Yes, we decided it together").check()
    priya.get_by_role("button", name="Add to the plan").click()

    expect(priya).to_have_url(MEDICATION_URL)
    expect(_messages(priya)).to_contain_text("Sertraline added to the plan.")
    expect(priya.get_by_role("heading", level=1)).to_have_text("Sertraline 50 mg")
    about = priya.get_by_role("region", name="What it is for")
    expect(about).to_contain_text("“To feel less on edge, so I can sleep”")
    expect(about).to_contain_text("Serves: Sleep through the night")
    expect(about).to_contain_text("Becoming dependent on it")

    # Six weeks on, they decide together to raise the dose.
    priya.get_by_text("Record a decision").click()
    decide = priya.locator("#decide")
    decide.get_by_label("Change the dose").check()
    decide.get_by_label("New strength").fill("100 mg")
    decide.get_by_label("Why", exact=True).fill("Partial response after six weeks")
    decide.get_by_label("What the patient said they prefer").fill(
        "Willing to try a higher dose before anything new"
    )
    decide.get_by_label("Sleep through the night").check()
    decide.get_by_label("The patient's goals", exact=True).check()
    decide.get_by_label("A one-line reflection").fill("Still up at night: his goal")
    decide.get_by_label("Yes, we decided it together").check()
    decide.get_by_role("button", name="Record decision").click()

    expect(_messages(priya)).to_contain_text("Decision recorded.")
    expect(priya.get_by_role("heading", level=1)).to_have_text("Sertraline 100 mg")
    timeline = priya.get_by_role("region", name="Timeline")
    entries = timeline.locator(".timeline > li")
    expect(entries).to_have_count(2)
    dose_change = entries.nth(0)
    expect(dose_change).to_contain_text("Dose change")
    expect(dose_change).to_contain_text("Strength: 50 mg → 100 mg")
    expect(dose_change.locator("del")).to_have_text("50 mg")
    expect(dose_change.locator("ins")).to_have_text("100 mg")
    expect(dose_change).to_contain_text("decided together")
    expect(dose_change).to_contain_text("“Willing to try a higher dose before anything new”")
    started = entries.nth(1)
    expect(started).to_contain_text("Started")
    expect(started).to_contain_text(
        "Sertraline 50 mg: 1 tablet by mouth, once a day in the morning"
    )

    # A prescription, then the pharmacy's fill: the page now knows when the tablets run out.
    priya.get_by_text("Write a prescription").click()
    rx = priya.locator("#prescribe")
    rx.get_by_label("Quantity").fill("30")
    rx.get_by_label("Days' supply").fill("30")
    rx.get_by_label("Refills", exact=True).fill("2")
    rx.get_by_role("button", name="Record prescription").click()
    expect(_messages(priya)).to_contain_text("Prescription recorded.")

    today = timezone.localdate()
    priya.get_by_text("Record a fill").click()
    fill = priya.locator("#fill")
    expect(fill.get_by_label("Filled on")).to_have_value(today.isoformat())
    fill.get_by_role("button", name="Record fill").click()
    expect(_messages(priya)).to_contain_text("Fill recorded.")
    run_out = today + timedelta(days=30)
    how = priya.get_by_role("region", name="How it is taken")
    expect(how).to_contain_text(f"Runs out {_day(run_out)}")
    expect(how).to_contain_text(f"ask by {_day(run_out - timedelta(days=7))}")
    expect(how).to_contain_text("2 refills left")
    expect(entries).to_have_count(4)
    expect(entries.nth(0)).to_contain_text("Filled")
    expect(entries.nth(1)).to_contain_text("Prescription written")
    expect(entries.nth(1)).to_contain_text("Quantity 30, 30 days’ supply, 2 refills")

    # Dan, on his phone, opens his medicines and reads why he takes it, in his words.
    dan = open_page(PHONE)
    sign_in_as(dan, live_server, patient.user)
    main_menu_link(dan, "Medicines").click()
    expect(dan.get_by_role("heading", level=1)).to_have_text("My medicines and why I take them")
    medicine = dan.locator(".med-list > li").filter(
        has=dan.get_by_role("heading", name="Sertraline 100 mg")
    )
    expect(medicine).to_contain_text("Why I take it: “To feel less on edge, so I can sleep”")
    expect(medicine).to_contain_text(f"It helps with: {sleep.what}")
    expect(medicine).to_contain_text("1 tablet by mouth, once a day in the morning")
    assert_no_axe_violations(dan, "my medicines")

    medicine.get_by_role("link", name="Ask for a refill").click()
    expect(dan.get_by_role("heading", level=1)).to_have_text("Ask for a refill")
    expect(dan.get_by_role("heading", name="Sertraline 100 mg")).to_be_visible()
    expect(dan.locator("main")).to_contain_text("This medicine needs 7 days’ notice.")
    assert_no_axe_violations(dan, "the refill request page")
    dan.get_by_label("Anything your prescriber should know? (optional)").fill(
        "I'm away at the coast next week."
    )
    dan.get_by_role("button", name="Send my request").click()

    expect(dan).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/medications/"))
    expect(_messages(dan)).to_contain_text("Your request is sent.")
    expect(medicine).to_contain_text("Refill requested on")
    expect(medicine.get_by_role("link", name="Ask for a refill")).to_have_count(0)

    # The prescriber finds the request in her queue and approves it.
    main_menu_link(priya, "Refill requests").click()
    expect(priya.get_by_role("heading", level=1)).to_have_text("Refill requests")
    request = priya.locator(".refill-queue > li")
    expect(request).to_have_count(1)
    expect(request).to_contain_text("Sertraline 100 mg for Dan Brooks")
    expect(request).to_contain_text("“I'm away at the coast next week.”")
    expect(request).to_contain_text(f"runs out {run_out:%b} {run_out.day}")
    assert_no_axe_violations(priya, "the refill queue")
    request.get_by_role("button", name="Approve").click()

    expect(_messages(priya)).to_contain_text("Sertraline for Dan Brooks: approved.")
    expect(request).to_contain_text("Approved")
    expect(request.get_by_role("button", name="Mark sent to the pharmacy")).to_be_visible()

    # Dan sees the answer where he asked.
    dan.reload()
    expect(medicine).to_contain_text("Refill approved: being sent to the pharmacy.")
    expect(medicine.get_by_role("link", name="Ask for a refill")).to_have_count(0)
    dan.get_by_role("link", name="History and notes").click()
    expect(dan).to_have_url(MEDICATION_URL)
    asked = dan.get_by_role("region", name="Timeline").locator(".timeline > li").first
    expect(asked).to_contain_text("Refill asked for")
    expect(asked).to_contain_text("Approved")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_medication_pages_have_no_axe_violations(
    open_page, live_server, dans_record, patient, prescriber, viewport
):
    sertraline = dans_record["sertraline"]
    prazosin = dans_record["prazosin"]

    priya = open_page(viewport)
    sign_in_as(priya, live_server, prescriber, next_path=f"/patients/{patient.uuid}/medications/")
    expect(priya.get_by_role("heading", level=1)).to_have_text("Dan Brooks: medication plan")
    assert_no_axe_violations(priya, "the medication plan")

    priya.get_by_role("link", name="Sertraline 100 mg").click()
    expect(priya.get_by_role("heading", level=1)).to_have_text("Sertraline 100 mg")
    assert_no_axe_violations(priya, "the medication page")
    open_all_details(priya)
    assert_no_axe_violations(priya, "the medication page with every form open")
    # Forms that share field names keep their own ids: each label names its own control.
    ids = priya.evaluate("[...document.querySelectorAll('[id]')].map((el) => el.id)")
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)

    priya.goto(f"{live_server.url}/patients/{patient.uuid}/medications/new/")
    assert_no_axe_violations(priya, "the add-a-medication form")

    main_menu_link(priya, "Refill requests").click()
    expect(priya.locator(".refill-queue > li")).to_have_count(1)
    assert_no_axe_violations(priya, "the refill queue")

    dan = open_page(viewport)
    sign_in_as(dan, live_server, patient.user, next_path=f"/patients/{patient.uuid}/medications/")
    expect(dan.get_by_role("heading", level=1)).to_have_text("My medicines and why I take them")
    assert_no_axe_violations(dan, "my medicines")

    dan.goto(f"{live_server.url}/medications/{sertraline.uuid}/")
    open_all_details(dan)
    assert_no_axe_violations(dan, "the medication page, as the patient")

    dan.goto(f"{live_server.url}/medications/{prazosin.uuid}/refill/")
    expect(dan.get_by_role("button", name="Send my request")).to_be_visible()
    assert_no_axe_violations(dan, "the refill request page")
