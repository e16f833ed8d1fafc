"""Clinic settings, in the browser (issue 19): Riverside's clinic admin signs in and lands on
Clinic settings, invites a therapist (the form says what is wrong first), reads the code off
the page; the therapist opens the link on a phone, types the code, sets a password and is
in; the admin then deactivates a prescriber who left, with the reason, and the prescriber
can no longer sign in.

Screenshots at 360 and 1280 px land in CONCORD_SHOTS_DIR (default
test-artifacts/screenshots/), each page checked with axe-core and for overflow."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from core.models import AuditEvent, User
from tests import factories
from tests.factories import PASSWORD

from .conftest import DESKTOP, PHONE, assert_no_axe_violations, sign_in_as
from .test_invitation_journey import _shoot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_the_clinic_admin_invites_a_clinician_and_deactivates_one(
    open_page, live_server, prescriber, therapist, size
):
    viewport = PHONE if size == "phone" else DESKTOP
    admin = factories.AdminFactory(
        full_name="Ada Okafor", practice=prescriber.practice, is_superuser=False, is_staff=False
    )
    colleague = factories.TherapistFactory(
        full_name="Noor Haddad", practice=prescriber.practice, email="noor@riverside.example"
    )
    factories.totp_device(colleague)

    page = open_page(viewport)
    sign_in_as(page, live_server, admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic settings")
    expect(page.get_by_role("link", name="Dr. Priya Raman")).to_be_visible()
    _shoot(page, f"console-home-{size}")
    assert_no_axe_violations(page, "Clinic settings")

    page.get_by_role("link", name="Invite someone").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Invite a clinician or admin to Riverside Psychiatry"
    )
    page.get_by_label("Their name").fill("Sam Rivera")
    page.get_by_label("Their work e-mail address").fill("not an address")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Enter a whole e-mail address")).to_be_visible()
    expect(page.get_by_text("Choose their role.")).to_be_visible()
    _shoot(page, f"console-invite-errors-{size}")
    assert_no_axe_violations(page, "the invitation form with its errors")

    page.get_by_label("Their work e-mail address").fill("sam.rivera@riverside.example")
    page.get_by_label("Therapist").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("heading", name=re.compile("Invitation sent to"))).to_be_visible()
    code = page.locator(".invite-code__code").inner_text()
    _shoot(page, f"console-invite-sent-{size}")
    assert_no_axe_violations(page, "the invitation sent, with its code")

    # The therapist, on a phone, with the link from the e-mail and the code from the admin.
    (message,) = [m for m in mail.outbox if "sam.rivera@riverside.example" in m.to]
    link = re.search(r"http\S+/invite/\S+/", message.body)[0]
    newcomer = open_page(PHONE)
    newcomer.goto(live_server.url + "/invite/" + link.rsplit("/invite/", 1)[1])
    expect(newcomer.get_by_text("joining Riverside Psychiatry as a therapist")).to_be_visible()
    newcomer.get_by_label("The code from your clinic").fill(code)
    newcomer.get_by_label("Choose a password").fill("a-brand-new-password-9")
    newcomer.get_by_label("Type it again").fill("a-brand-new-password-9")
    _shoot(newcomer, f"console-invitation-accept-{size}")
    assert_no_axe_violations(newcomer, "the staff invitation")
    newcomer.get_by_role("button", name="Set password and sign in").click()
    expect(newcomer.get_by_text("Welcome to Concord.")).to_be_visible()
    assert User.objects.get(email="sam.rivera@riverside.example").practice == prescriber.practice
    newcomer.goto(live_server.url + "/invite/" + link.rsplit("/invite/", 1)[1])
    expect(newcomer.get_by_role("heading", level=1)).to_have_text(
        "This invitation link no longer works"
    )

    # The prescriber left: deactivated, with the reason.
    page.goto(f"{live_server.url}/clinic/admin/")
    expect(page.get_by_role("link", name="Sam Rivera")).to_be_visible()
    page.get_by_role("link", name="Dr. Priya Raman").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dr. Priya Raman")
    page.get_by_role("button", name="Deactivate Dr. Priya Raman").click()
    expect(page.get_by_text("Say why you are making this change").first).to_be_visible()
    page.locator("#id_active-reason").fill("Left the practice in November")
    page.get_by_role("button", name="Deactivate Dr. Priya Raman").click()
    expect(page.get_by_text("can no longer sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Reactivate Dr. Priya Raman")).to_be_visible()
    _shoot(page, f"console-person-deactivated-{size}")
    assert_no_axe_violations(page, "a deactivated account")
    assert AuditEvent.objects.filter(
        actor=admin,
        category="staff",
        via="account deactivated; reason: Left the practice in November",
    ).exists()

    gone = open_page(viewport)
    gone.goto(f"{live_server.url}/accounts/login/")
    gone.get_by_label("E-mail address").fill(prescriber.email)
    gone.get_by_label("Password").fill(PASSWORD)
    gone.get_by_role("button", name="Sign in").click()
    expect(gone).to_have_url(re.compile(r"/accounts/(login|inactive)/"))


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_the_clinic_admin_sets_the_practices_state_and_reply_time(
    open_page, live_server, prescriber, size
):
    admin = factories.AdminFactory(
        full_name="Ada Okafor", practice=prescriber.practice, is_superuser=False, is_staff=False
    )
    page = open_page(PHONE if size == "phone" else DESKTOP)
    sign_in_as(page, live_server, admin)
    page.get_by_role("link", name="Riverside Psychiatry").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Riverside Psychiatry")
    page.get_by_label("State").select_option("NY")
    page.get_by_label("After-hours phone").fill("call Jo")
    page.get_by_label("When the care team replies").fill("within one business day")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a phone number")).to_be_visible()
    _shoot(page, f"console-practice-errors-{size}")
    assert_no_axe_violations(page, "a practice's settings with an error")
    page.get_by_label("After-hours phone").fill("(555) 010-0199")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved. Your patients see this")).to_be_visible()
    page.get_by_role("link", name="Clinic settings").first.click()
    expect(page.get_by_text("State: NY")).to_be_visible()


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_the_clinic_wide_admin_sets_a_state_s_refill_limits(open_page, live_server, db, size):
    admin = factories.AdminFactory(
        full_name="Alex Morgan", practice=None, is_superuser=False, is_staff=False
    )
    page = open_page(PHONE if size == "phone" else DESKTOP)
    sign_in_as(page, live_server, admin)
    page.get_by_role("link", name="Supply policies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supply policies")
    page.get_by_label("State", exact=True).select_option("NY")
    page.get_by_label("Schedule", exact=True).select_option("III")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New York · Schedule III")
    page.get_by_label("Notice a refill request needs (days)").fill("5")
    page.get_by_label("Most refills a prescription may carry").fill("6")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Federal law allows at most 5")).to_be_visible()
    _shoot(page, f"console-supply-edit-errors-{size}")
    assert_no_axe_violations(page, "a supply policy with an error")
    page.get_by_label("Most refills a prescription may carry").fill("2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("New York · Schedule III")).to_be_visible()
    _shoot(page, f"console-supply-{size}")
    assert_no_axe_violations(page, "the supply policies")


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_the_clinic_wide_admin_adds_a_word_the_summary_warns_about(
    open_page, live_server, db, size
):
    admin = factories.AdminFactory(
        full_name="Alex Morgan", practice=None, is_superuser=False, is_staff=False
    )
    page = open_page(PHONE if size == "phone" else DESKTOP)
    sign_in_as(page, live_server, admin)
    page.get_by_role("link", name="Words the summary warns about").click()
    page.get_by_label("Term").fill("frequent flyer")
    page.get_by_label("What to say instead (optional)").fill("comes in often, and why")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added “frequent flyer”")).to_be_visible()
    _shoot(page, f"console-terms-{size}")
    assert_no_axe_violations(page, "the summary's word list")
    page.get_by_label("Term").fill("Frequent Flyer")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("on the list already")).to_be_visible()
    _shoot(page, f"console-terms-errors-{size}")
    assert_no_axe_violations(page, "the summary's word list with an error")
