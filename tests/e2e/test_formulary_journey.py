"""Adding a medicine from the formulary in the browser, at a phone's and a laptop's width: the
name comes from the formulary list, a benzodiazepine beside an opioid warns before anything is
saved and keeps what was typed, and it saves once the prescriber confirms with a reason, which
the medicine's timeline then shows. axe-core finds nothing on the warning page."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from prescribing import services
from prescribing.models import Medication

from .conftest import DESKTOP, PHONE, assert_no_axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("CONCORD_FORMULARY_SHOTS", "/tmp/shots/r3"))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_a_combination_warns_before_saving_and_saves_with_a_reason(
    open_page, live_server, patient, prescriber, viewport
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = viewport["width"]
    services.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Oxycodone",
        strength="5 mg",
        form="tablet",
        dose="1 tablet",
        directions="every 6 hours for pain",
        reason="After the knee operation",
        decided_together=True,
    )
    page = open_page(viewport)
    sign_in_as(page, live_server, prescriber)
    page.goto(f"{live_server.url}/patients/{patient.uuid}/medications/new/")
    # The formulary is the name's datalist: offered by the browser, no script of ours.
    assert page.locator("datalist#formulary-medicines option[value='Lorazepam']").count() == 1
    page.get_by_label("Medicine", exact=True).fill("Lorazepam")
    page.get_by_label("Strength", exact=True).fill("0.5 mg")
    page.get_by_label("Dose", exact=True).fill("1 tablet")
    page.get_by_label("Directions", exact=True).fill("at night when panic wakes me")
    page.get_by_label("What it is for, in the patient's words").fill("To stop the 3 am panic")
    page.get_by_label("Why", exact=True).fill("Panic attacks at night")
    page.get_by_label("None of the patient's goals").check()
    page.get_by_label("Then why, if it serves none of their goals?").fill(
        "The panic came before any goal was written"
    )
    page.get_by_label("The patient asked for it").check()
    page.get_by_label("A one-line reflection").fill("She asked for something for the nights")
    page.get_by_label("Yes, we decided it together").check()
    page.screenshot(path=str(SHOTS / f"medication-new-{width}.png"), full_page=True)
    page.get_by_role("button", name="Add to the plan").click()

    warning = page.get_by_role("alert").filter(has_text="Check before saving")
    expect(warning).to_contain_text("With Oxycodone 5 mg:")
    expect(warning).to_contain_text("can slow or stop breathing")
    expect(page.get_by_label("Medicine", exact=True)).to_have_value("Lorazepam")
    expect(page.get_by_label("What it is for, in the patient's words")).to_have_value(
        "To stop the 3 am panic"
    )
    assert not Medication.objects.filter(drug_name="Lorazepam").exists()
    page.screenshot(path=str(SHOTS / f"medication-new-warning-{width}.png"), full_page=True)
    assert_no_axe_violations(page, "the new-medication page with a warning")

    warning.get_by_role("checkbox").check()
    page.get_by_label("Why go ahead despite the warning").fill(
        "Oxycodone stops on Friday; naloxone given and explained"
    )
    page.get_by_role("button", name="Add to the plan despite the warning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lorazepam 0.5 mg")
    expect(page.locator(".tag--controlled")).to_have_text("Schedule IV")
    expect(page.get_by_text("Went ahead despite:")).to_be_visible()
    expect(page.get_by_text("naloxone given and explained")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"medication-confirmed-{width}.png"), full_page=True)

    # A switch to another benzodiazepine is checked against the rest of the plan (the oxycodone).
    page.get_by_text("Switch to another medicine").click()
    switch = page.locator("#switch")
    switch.get_by_label("Medicine", exact=True).fill("Clonazepam")
    switch.get_by_label("Strength", exact=True).fill("0.5 mg")
    switch.get_by_label("Dose", exact=True).fill("1 tablet")
    switch.get_by_label("Directions", exact=True).fill("at night")
    switch.get_by_label("Why", exact=True).fill("Longer acting, fewer night wakings")
    switch.get_by_label("None of the patient's goals").check()
    switch.get_by_label("Then why, if it serves none of their goals?").fill("None written yet")
    switch.get_by_label("The patient asked for it").check()
    switch.get_by_label("A one-line reflection").fill("Her nights, as she asked")
    switch.get_by_label("No", exact=True).check()
    switch.get_by_role("button", name="Switch").click()
    switch = page.locator("#switch")
    expect(switch.get_by_role("alert").filter(has_text="Check before saving")).to_contain_text(
        "With Oxycodone 5 mg:"
    )
    expect(switch.get_by_label("Medicine", exact=True)).to_have_value("Clonazepam")
    assert not Medication.objects.filter(drug_name="Clonazepam").exists()
    page.screenshot(path=str(SHOTS / f"switch-warning-{width}.png"), full_page=True)
