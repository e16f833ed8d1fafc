"""The equity view and the patient's "About you", as their people meet them, at a phone and a
laptop width: a patient describes themselves (optional, and told who sees it); the clinic
admin compares groups and sees small ones hidden; a clinician is not offered the view."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from core.models import SelfDescription
from tests import factories

from .conftest import assert_no_axe_violations, main_menu_link, open_all_details, sign_in_as
from .test_screenshots import SHOTS, VIEWPORTS, _shoot

pytestmark = pytest.mark.e2e


@pytest.fixture
def described_clinic(prescriber, patient):
    for race, n in (("white", 13), ("black", 12), ("asian", 3)):
        for i in range(n):
            someone = factories.PatientFactory(
                given_name=f"{race.title()}{i}",
                family_name="Cohort",
                date_of_birth=date.today() - timedelta(days=365 * (20 + 2 * i)),
            )
            factories.MembershipFactory(patient=someone, clinician=prescriber)
            SelfDescription.objects.create(patient=someone, race_ethnicity=[race])
    return prescriber.practice


@pytest.mark.parametrize("size", VIEWPORTS)
def test_a_patient_describes_themselves_and_the_admin_sees_groups_not_people(
    browser, live_server, described_clinic, patient, prescriber, size
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url

    def signed_in(user):
        context = browser.new_context(viewport=VIEWPORTS[size])
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in_as(page, live_server, user)
        return context, page

    context, page = signed_in(patient.user)
    try:
        page.goto(f"{base}/account/#about-you")
        about = page.get_by_role("region", name="About you (optional)")
        expect(about).to_contain_text("Your care team does not see these answers")
        about.get_by_label("Hispanic or Latino").check()
        about.get_by_label("White").check()
        about.get_by_label("Language you prefer for your care").select_option("es")
        _shoot(page, f"account-about-you-{size}")
        about.get_by_role("button", name="Save my answers").click()
        expect(page.get_by_text("Saved how you describe yourself.")).to_be_visible()
        described = SelfDescription.objects.get(patient=patient)
        assert described.race_group == SelfDescription.MULTIPLE
        assert described.preferred_language == "es"
        if size == "laptop":
            assert_no_axe_violations(page, "the account page with About you")
    finally:
        context.close()

    admin = factories.UserFactory(
        role="admin", practice=prescriber.practice, email=f"lead-{size}@example.test"
    )
    context, page = signed_in(admin)
    try:
        main_menu_link(page, "Equity").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Equity view")
        table = page.get_by_role("table")
        expect(table.get_by_role("row", name="White")).to_contain_text("13")
        expect(table.get_by_role("row", name="Asian")).to_contain_text("< 11")
        # Dan, who just described himself, is one of "More than one": hidden, like the three
        # Asian patients; two hidden cells, so the total tells only their sum.
        expect(table.get_by_role("row", name="More than one")).to_contain_text("< 11")
        expect(table.get_by_role("row", name="Black or African American")).to_contain_text("12")
        expect(table.get_by_role("row", name="All patients")).to_contain_text("29")
        expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
        body = page.locator("main").inner_text()
        assert "Cohort" not in body and "Brooks" not in body
        open_all_details(page)
        _shoot(page, f"equity-view-{size}")
        if size == "laptop":
            assert_no_axe_violations(page, "the equity view")
        page.get_by_label("Compare groups by").select_option("age")
        page.get_by_role("button", name="Count").click()
        expect(page.get_by_role("heading", name="By age")).to_be_visible()
    finally:
        context.close()

    context, page = signed_in(prescriber)
    try:
        expect(page.locator('a[href="/equity/"]')).to_have_count(0)
        response = page.goto(f"{base}/equity/")
        assert response.status == 404
    finally:
        context.close()
