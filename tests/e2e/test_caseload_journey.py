"""The prescriber's caseload at 360 and 1280 px: the patient getting worse comes first, in
every sort, and one click opens their visit screen; their scores over time are drawn by
date with the cut-off and the reliable-change band. Screenshots of each."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.clinic.test_caseload import new_patient, sends

from .conftest import (
    DESKTOP,
    PHONE,
    assert_no_axe_violations,
    open_all_details,
    path_is,
    sign_in_as,
)

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("CONCORD_SHOTS", "test-artifacts/screenshots"))


@pytest.fixture
def caseload(prescriber, therapist, patient):
    from alliance import selectors as alliance_selectors
    from alliance import services as alliance

    alliance.install_shipped()
    offered = {i.key: i for i in alliance_selectors.instruments_offered()}
    better = new_patient(prescriber, "Ann", "Abbott", therapist=therapist)
    sends(better, offered, "phq-9", [18, 14, 10, 8])
    sends(better, offered, "gad-7", [12, 8, 5])
    worse = new_patient(prescriber, "Zed", "Zimmer")
    sends(worse, offered, "phq-9", [8, 9, 11, 15])
    sends(worse, offered, "gad-7", [6, 7, 9])
    well = new_patient(prescriber, "Rosa", "Quinn")
    sends(well, offered, "phq-9", [14, 9, 5, 3])
    return {"worse": worse}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_the_prescribers_caseload_lists_the_patient_getting_worse_first(
    open_page, live_server, prescriber, caseload, viewport
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = viewport["width"]
    page = open_page(viewport)
    sign_in_as(page, live_server, prescriber)
    page.goto(f"{live_server.url}/today/")
    page.get_by_role("link", name="Caseload outcomes").click()
    expect(page).to_have_url(path_is(live_server, "/caseload/"))
    expect(page.locator("#summary")).to_contain_text("1 not on track, listed first")
    first = page.locator(".case").first
    expect(first.get_by_role("heading")).to_have_text("Zed Zimmer")
    expect(first.locator(".case__why")).to_have_text("Not on track: Reliably worse")
    expect(first.get_by_text("Reliably worse", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(SHOTS / f"caseload-{width}.png"), full_page=True)
    open_all_details(page)
    assert_no_axe_violations(page, f"the caseload at {width} px")

    # Sorted by the latest PHQ-9, the patient getting worse still comes first.
    page.get_by_label("Then sort by").select_option("phq9")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".case").first.get_by_role("heading")).to_have_text("Zed Zimmer")

    # His scores over time, by date, with the cut-off and the band; then his visit screen.
    first = page.locator(".case").first
    first.get_by_role("link", name="Scores over time for Zed Zimmer").click()
    chart = page.locator('svg.chart[aria-label^="PHQ-9"]')
    expect(chart.locator(".chart__cutoff")).to_have_count(1)
    label = chart.get_attribute("aria-label")
    assert "PHQ-9" in label and "cut-off 10" in label and "no reliable change" in label
    chart.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"caseload-trajectory-{width}.png"), full_page=True)
    page.go_back()
    page.locator(".case").first.get_by_role("link", name="Zed Zimmer", exact=True).click()
    expect(page).to_have_url(path_is(live_server, f"/patients/{caseload['worse'].uuid}/visit/"))
