"""The header on a phone: a menu button folds the navigation away, so that the page starts near
the top of a 360 px screen; the button is a disclosure a keyboard and a screen reader can use,
and without JavaScript nothing is hidden. Screenshots of the patient's home and the clinician's
Today at both widths land in test-artifacts/screenshots/ for people to look at."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, assert_no_axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Measured: folded, the header is 56 px tall on a 360 px screen (the brand, "Need help now?"
# and the menu button on one line); unfolded it was 170 px for a patient. On a laptop it is one
# or two lines (84 px for a patient: the links, then who is signed in).
HEADER_LIMIT = 72
LAPTOP_LIMIT = 90


def _header_height(page) -> float:
    return page.locator(".site-header").bounding_box()["height"]


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.mark.parametrize(
    ("who", "home", "links"),
    [
        ("patient", "/", ["Home", "Messages", "Medicines", "Goals", "Check-ins", "Releases"]),
        (
            "prescriber",
            "/today/",
            ["Today", "Patients", "Referrals", "Messages", "Refill requests"],
        ),
    ],
)
def test_on_a_phone_the_menu_folds_and_a_keyboard_opens_it(
    open_page, live_server, patient, patient_user, prescriber, who, home, links
):
    user = patient_user if who == "patient" else prescriber
    page = open_page(PHONE)
    sign_in_as(page, live_server, user, next_path=home)
    main = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")

    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(main).to_be_hidden()
    _shoot(page, f"header-{who}-phone")
    assert _header_height(page) <= HEADER_LIMIT
    if who == "patient":
        # Crisis help never folds away.
        expect(page.get_by_role("link", name="Need help now?")).to_be_visible()

    # Keyboard: Tab reaches the button, Enter opens it, the first link is next.
    page.locator("body").focus()
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('menu-toggle')"):
            break
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    for name in links:
        expect(main.get_by_role("link", name=name, exact=False).first).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#site-menu') !== null")
    assert_no_axe_violations(page, f"the {who}'s open header menu on a phone")
    _shoot(page, f"header-{who}-phone-open")

    # Escape folds it again and gives the focus back to the button.
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(main).to_be_hidden()
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")
    assert_no_axe_violations(page, f"the {who}'s folded header on a phone")


@pytest.mark.parametrize(("who", "home"), [("patient", "/"), ("prescriber", "/today/")])
def test_on_a_laptop_there_is_no_menu_button(
    open_page, live_server, patient, patient_user, prescriber, who, home
):
    page = open_page(DESKTOP)
    sign_in_as(page, live_server, patient_user if who == "patient" else prescriber, next_path=home)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    _shoot(page, f"header-{who}-laptop")
    assert _header_height(page) <= LAPTOP_LIMIT


def test_without_javascript_the_menu_stays_open(browser, live_server, patient, patient_user):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in_as(page, live_server, patient_user)
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(page.get_by_role("link", name="Medicines", exact=True)).to_be_visible()
    finally:
        context.close()


def test_a_patients_sections_take_one_line_on_a_phone(open_page, live_server, patient, prescriber):
    """The clinician's eleven tabs for a patient scroll sideways in one line, instead of
    wrapping to four lines above the page."""
    page = open_page(PHONE)
    sign_in_as(page, live_server, prescriber, next_path=f"/patients/{patient.uuid}/")
    tabs = page.get_by_role("navigation", name="Dan Brooks")
    expect(tabs).to_be_visible()
    _shoot(page, "patient-tabs-phone")
    one_line = tabs.get_by_role("link", name="Overview").bounding_box()["height"]
    assert tabs.bounding_box()["height"] <= one_line + 8
    # The last tab is reached by scrolling the row, not lost.
    last = tabs.get_by_role("link", name="Notes")
    last.focus()
    expect(last).to_be_in_viewport()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
