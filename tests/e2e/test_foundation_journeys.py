"""The foundation, as people use it: sign in, find a patient, open them, and be refused what
is not theirs to see. Each journey asserts what the person sees on the screen."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests import factories

from .conftest import path_is, sign_in_as

pytestmark = pytest.mark.e2e


@pytest.fixture
def other_patient(db):
    """Someone else's patient: a different prescriber's, with their own login."""
    other = factories.PatientFactory(
        given_name="Maria",
        family_name="Okafor",
        user=factories.PatientUserFactory(full_name="Maria Okafor"),
    )
    factories.MembershipFactory(patient=other, clinician=factories.PrescriberFactory())
    return other


def test_prescriber_finds_a_patient_by_name_and_opens_them(
    page, live_server, sign_in, prescriber, patient, other_patient
):
    # Two more of the prescriber's patients, so that the search has something to leave out.
    for given, family in [("Alma", "Reyes"), ("Tomas", "Lindqvist")]:
        factories.MembershipFactory(
            patient=factories.PatientFactory(given_name=given, family_name=family),
            clinician=prescriber,
        )

    sign_in(prescriber)

    expect(page).to_have_url(path_is(live_server, "/patients/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your patients")
    results = page.get_by_role("region", name="Patients")
    expect(results.get_by_role("link")).to_have_count(3)
    # Only the prescriber's own patients are listed.
    expect(results).not_to_contain_text("Okafor")

    # Live search: typing narrows the list without a page load (the marker would not survive one).
    page.evaluate("window.stillTheSamePage = true")
    search = page.get_by_label("Find a patient by name")
    search.fill("broo")
    expect(results.get_by_role("link")).to_have_count(1)
    expect(results.get_by_role("link")).to_contain_text("Dan Brooks")
    # The name typed stays out of the address bar and the browser history.
    expect(page).to_have_url(path_is(live_server, "/patients/"))

    # A name that matches no one says so.
    search.fill("zzz")
    expect(results).to_contain_text("No patient of yours matches “zzz”")

    # Pressing Enter searches too.
    search.fill("Lindq")
    search.press("Enter")
    expect(results.get_by_role("link")).to_have_count(1)
    expect(results.get_by_role("link")).to_contain_text("Tomas Lindqvist")
    expect(page).to_have_url(path_is(live_server, "/patients/"))
    assert page.evaluate("window.stillTheSamePage") is True

    search.fill("Brooks")
    search.press("Enter")
    results.get_by_role("link", name=re.compile("Dan Brooks")).click()

    expect(page).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dan Brooks")
    team = page.get_by_role("region", name="Care team")
    expect(team).to_contain_text("Dr. Priya Raman")
    expect(team).to_contain_text("Riverside Psychiatry")
    expect(team).to_contain_text("Jordan Lee")
    expect(team).to_contain_text("Harbor Counseling")


def test_live_search_keeps_no_copy_of_the_page_and_no_name_in_history(
    page, live_server, sign_in, prescriber, patient
):
    factories.MembershipFactory(
        patient=factories.PatientFactory(given_name="Alma", family_name="Reyes"),
        clinician=prescriber,
    )
    sign_in(prescriber)
    results = page.get_by_role("region", name="Patients")
    expect(results.get_by_role("link")).to_have_count(2)

    entries_before = page.evaluate("window.history.length")
    page.get_by_label("Find a patient by name").fill("Reyes")
    expect(results.get_by_role("link")).to_have_count(1)
    # htmx would otherwise keep snapshots of the pages (patient names) in sessionStorage.
    assert page.evaluate("window.sessionStorage.getItem('htmx-history-cache')") is None
    # Searching adds no history entry that carries the name.
    assert "Reyes" not in page.url
    assert page.evaluate("window.history.length") == entries_before

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your patients")
    expect(results.get_by_role("link")).to_have_count(2)


def test_patient_search_works_without_javascript(browser, live_server, prescriber, patient):
    """The search form is a plain GET form underneath htmx."""
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in_as(page, live_server, prescriber)
        page.get_by_label("Find a patient by name").fill("Brooks")
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_url(re.compile(r"/patients/\?q=Brooks$"))
        expect(page.get_by_role("region", name="Patients")).to_contain_text("Dan Brooks")
    finally:
        context.close()


def test_patient_lands_on_their_own_home_and_cannot_open_another_patient(
    page, live_server, sign_in, patient, other_patient
):
    sign_in(patient.user)

    expect(page).to_have_url(path_is(live_server, "/me/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Dan")
    expect(page.get_by_role("banner")).to_contain_text("Dan Brooks")
    team = page.get_by_role("region", name="My care team", exact=True)
    expect(team).to_contain_text("Dr. Priya Raman")
    expect(team).to_contain_text("Jordan Lee")

    response = page.goto(f"{live_server.url}/patients/{other_patient.uuid}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("not found", re.I))
    expect(page.locator("body")).not_to_contain_text("Okafor")
    expect(page.locator("body")).not_to_contain_text("Maria")


def test_anonymous_visitor_is_sent_to_sign_in(page, live_server):
    page.goto(f"{live_server.url}/patients/")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/patients/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Concord")
    expect(page.get_by_label("E-mail address")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_anonymous_visitor_comes_back_to_the_page_they_asked_for(
    page, live_server, prescriber, patient
):
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))

    page.get_by_label("E-mail address").fill(prescriber.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dan Brooks")


def test_wrong_password_is_refused_with_a_message(page, live_server, prescriber):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(prescriber.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(path_is(live_server, "/accounts/login/"))


def test_therapist_off_the_care_team_gets_not_found_on_page_and_api(
    page, live_server, sign_in, patient
):
    outsider = factories.TherapistFactory(full_name="Sam Outside")
    # The outsider treats someone else, so they have a patient list of their own.
    factories.MembershipFactory(patient=factories.PatientFactory(), clinician=outsider)

    sign_in(outsider)
    expect(page.get_by_role("region", name="Patients")).not_to_contain_text("Brooks")

    response = page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("not found", re.I))
    expect(page.locator("body")).not_to_contain_text("Brooks")

    # The API answers alike, with the same signed-in session.
    api = page.context.request.get(f"{live_server.url}/api/v1/patients/{patient.uuid}/")
    assert api.status == 404
    assert "Brooks" not in api.text()

    # ... and exactly as it does for a patient that does not exist at all.
    missing = page.context.request.get(
        f"{live_server.url}/api/v1/patients/00000000-0000-4000-8000-000000000000/"
    )
    assert missing.status == 404
    assert missing.json() == api.json()

    # Nor does the patient turn up in the outsider's list from the API.
    listed = page.context.request.get(f"{live_server.url}/api/v1/patients/")
    assert listed.ok
    assert len(listed.json()["results"]) == 1
    assert "Brooks" not in listed.text()


def _assert_no_axe_violations(page, what: str) -> None:
    results = Axe().run(page)
    violations = results.response["violations"]
    assert not violations, f"axe-core found problems on {what}:\n{results.generate_report()}"


def test_pages_have_no_axe_violations(page, live_server, sign_in, prescriber, patient):
    page.goto(f"{live_server.url}/accounts/login/")
    _assert_no_axe_violations(page, "the sign-in page")

    sign_in(prescriber)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your patients")
    _assert_no_axe_violations(page, "the patient list")

    page.get_by_label("Find a patient by name").fill("Brooks")
    expect(page.get_by_role("region", name="Patients").get_by_role("link")).to_have_count(1)
    _assert_no_axe_violations(page, "the patient list after a search")

    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dan Brooks")
    _assert_no_axe_violations(page, "the patient detail")


def test_patient_home_has_no_axe_violations(page, live_server, sign_in, patient):
    sign_in(patient.user)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Dan")
    _assert_no_axe_violations(page, "the patient home")

    response = page.goto(f"{live_server.url}/patients/00000000-0000-4000-8000-000000000000/")
    assert response.status == 404
    _assert_no_axe_violations(page, "the not-found page")
