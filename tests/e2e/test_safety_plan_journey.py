"""A patient writes a safety plan on the phone: it is first on the crisis page, prints on one
page, and the prescriber finds it on the visit screen."""

import io

from playwright.sync_api import expect
from pypdf import PdfReader

from .conftest import DESKTOP, PHONE, assert_no_axe_violations, open_all_details, sign_in_as
from .test_screenshots import SHOTS


def test_a_patient_writes_a_safety_plan_and_finds_it_first_when_help_is_needed(
    open_page, live_server, patient, prescriber
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    dan = open_page(PHONE)
    sign_in_as(dan, live_server, patient.user)
    dan.get_by_role("link", name="Need help now?", exact=True).click()
    expect(dan.get_by_role("heading", level=1)).to_have_text("Need help now?")
    expect(dan.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    dan.get_by_role("link", name="Write a safety plan").click()

    expect(dan.get_by_role("heading", level=1)).to_have_text("My safety plan")
    open_all_details(dan)
    assert_no_axe_violations(dan, "the empty safety plan")
    dan.get_by_label("1. Warning signs that a crisis may be starting").fill(
        "Not sleeping, staying in my room all day"
    )
    dan.get_by_label("2. Things I can do on my own to take my mind off my problems").fill(
        "Walk the dog round the park"
    )
    dan.get_by_label("4. People I can ask for help").fill("My sister Ana, 555-0142")
    dan.get_by_label("7. My reasons for living").fill("My daughters")
    dan.get_by_role("button", name="Save the plan").click()
    expect(dan.locator(".messages")).to_contain_text("Safety plan saved.")
    expect(dan.get_by_role("region", name="Version 1")).to_contain_text("Walk the dog")
    dan.screenshot(path=str(SHOTS / "safety-plan-360.png"), full_page=True)

    # At 2 a.m. the plan is the first thing on the crisis page, then the lines that are open.
    dan.get_by_role("link", name="Need help now?", exact=True).click()
    plan = dan.get_by_role("region", name="My safety plan")
    expect(plan).to_contain_text("Not sleeping, staying in my room all day")
    expect(plan).to_contain_text("My sister Ana, 555-0142")
    crisis = dan.get_by_role("region", name="If you need help now")
    assert plan.bounding_box()["y"] < crisis.bounding_box()["y"]
    assert_no_axe_violations(dan, "the crisis page with a safety plan")
    dan.screenshot(path=str(SHOTS / "crisis-with-plan-360.png"), full_page=True)

    href = plan.get_by_role("link", name="Print it").get_attribute("href")
    printed = dan.request.get(live_server.url + href)
    assert printed.headers["content-type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(printed.body())).pages
    assert len(pages) == 1
    text = " ".join(pages[0].extract_text().split())
    assert "My safety plan" in text and "Walk the dog round the park" in text and "988" in text

    priya = open_page(DESKTOP)
    sign_in_as(priya, live_server, prescriber, next_path=f"/patients/{patient.uuid}/visit/")
    expect(priya.get_by_text("Safety plan: version 1")).to_be_visible()
    priya.get_by_role("link", name="Open it").click()
    expect(priya.get_by_role("region", name="Version 1")).to_contain_text("written by Dan Brooks")
    assert_no_axe_violations(priya, "the safety plan, as the prescriber reads it")
