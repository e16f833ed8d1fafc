"""A referral and a release of information, as three people use them, each in their own browser.

Jordan (therapist, Harbor Counseling) refers Rosa to Dr. Raman (prescriber, Riverside
Psychiatry), who accepts and so joins Rosa's care team, then starts a medicine. Until Rosa
signs a release, Jordan sees nothing Riverside wrote. Rosa, on her phone, signs one (after a
typo in her signature that stores nothing); Jordan now sees the medicine and raises an
adherence concern on the team thread, Dr. Raman answers, Jordan reads the answer. Rosa revokes
the release: on Jordan's very next request the medicine and the answer are gone, from the page
and from the API, and Rosa's Releases page lists what Jordan looked at meanwhile. axe-core
finds nothing on any of these pages.
"""

import re

import pytest
from playwright.sync_api import expect

from prescribing import services as prescribing
from referrals.models import Referral, Release
from tests import factories

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

REFERRAL_URL = re.compile(r"/referrals/[0-9a-f-]{36}/$")
RELEASE_URL = re.compile(r"/releases/[0-9a-f-]{36}/$")

REASON = "Nightmares most nights despite eight sessions of trauma-focused therapy."
QUESTIONS = "Would a medicine for sleep help? Anything to watch for in our sessions?"
CONCERN = "Rosa says she skips the morning tablet on workdays: it makes her queasy on the bus."
ANSWER = "Thank you. She can take it with breakfast or at night; I will call her this week."


def _messages(page):
    return page.locator(".messages")


@pytest.fixture
def rosa(therapist):
    """A patient with a login whom only the therapist treats so far."""
    user = factories.PatientUserFactory(full_name="Rosa Alvarez")
    person = factories.PatientFactory(
        given_name="Rosa", family_name="Alvarez", email=user.email, user=user
    )
    factories.MembershipFactory(patient=person, clinician=therapist)
    return person


def test_a_referral_then_sharing_under_a_release_until_it_is_revoked(
    open_page, live_server, rosa, prescriber, therapist
):
    base = live_server.url
    plan_path = f"/patients/{rosa.uuid}/medications/"
    thread_path = f"/patients/{rosa.uuid}/thread/"

    # Jordan refers Rosa from her record, with the reason, his questions and how soon.
    jordan = open_page(DESKTOP)
    sign_in_as(jordan, live_server, therapist)
    jordan.get_by_role("region", name="Patients").get_by_role(
        "link", name=re.compile("Rosa Alvarez")
    ).click()
    jordan.get_by_role("navigation", name="Rosa Alvarez").get_by_role(
        "link", name="Referrals"
    ).click()
    expect(jordan.get_by_role("heading", level=1)).to_have_text("Rosa Alvarez: referrals")
    expect(jordan.get_by_text("No referrals yet.")).to_be_visible()
    new = jordan.get_by_role("region", name="Refer Rosa")
    new.get_by_label("Refer to").select_option(
        label="Dr. Priya Raman — Prescriber, Riverside Psychiatry"
    )
    new.get_by_label("Why you are referring").fill(REASON)
    new.get_by_label("Questions you would like answered").fill(QUESTIONS)
    new.get_by_label("How soon").select_option(label="Soon (within a week)")
    new.get_by_role("button", name="Send referral").click()

    expect(jordan).to_have_url(path_is(live_server, f"/patients/{rosa.uuid}/referrals/"))
    expect(_messages(jordan)).to_contain_text("Referral sent to Dr. Priya Raman.")
    sent = jordan.locator(".referral-list > li")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("Sent")
    expect(sent).to_contain_text("Soon (within a week)")
    expect(sent.get_by_role("heading")).to_have_text("Jordan Lee → Dr. Priya Raman")
    expect(sent).to_contain_text("Harbor Counseling → Riverside Psychiatry")
    assert_no_axe_violations(jordan, "the patient's referrals page")

    # Dr. Raman cannot open Rosa's record yet: she is not on the team.
    priya = open_page(DESKTOP)
    sign_in_as(priya, live_server, prescriber)
    assert priya.request.get(f"{base}{plan_path}").status == 404

    # She finds the referral under Referrals, reads it and accepts.
    main_menu_link(priya, "Referrals").click()
    expect(priya.get_by_role("heading", level=1)).to_have_text("Referrals")
    received = priya.get_by_role("region", name="Sent to you").locator(".referral-list > li")
    expect(received).to_have_count(1)
    assert_no_axe_violations(priya, "the referral inbox")
    received.get_by_role("link", name="Rosa Alvarez").click()

    expect(priya).to_have_url(REFERRAL_URL)
    expect(priya.get_by_role("heading", level=1)).to_have_text("Referral of Rosa Alvarez")
    main = priya.locator("main")
    expect(main).to_contain_text("Jordan Lee, Harbor Counseling")
    expect(main).to_contain_text(REASON)
    expect(main).to_contain_text(QUESTIONS)
    expect(main).to_contain_text("Soon (within a week)")
    assert_no_axe_violations(priya, "the referral page")
    priya.get_by_role("region", name="Your answer").get_by_role("button", name="Accept").click()

    expect(_messages(priya)).to_contain_text("Accepted. You are now on Rosa Alvarez’s care team.")
    referral = Referral.objects.get(patient=rosa)
    assert referral.status == Referral.Status.ACCEPTED
    assert rosa.care_team.filter(clinician=prescriber).exists()
    assert_no_axe_violations(priya, "the accepted referral")
    priya.get_by_role("link", name="Open Rosa Alvarez’s record").click()
    expect(priya.get_by_role("heading", level=1)).to_contain_text("Rosa Alvarez")
    expect(priya.locator("main")).to_contain_text("Jordan Lee")

    # Dr. Raman starts a medicine: written in Riverside, so not Jordan's to read yet.
    prescribing.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=rosa,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="once a day in the morning",
        purpose="Fewer nightmares, calmer days",
        reason="Nightmares despite therapy",
    )
    priya.goto(f"{base}{plan_path}")
    expect(priya.locator("main")).to_contain_text("Sertraline 50 mg")
    jordan.goto(f"{base}{plan_path}")
    expect(jordan.get_by_text("No medications on the plan.")).to_be_visible()
    expect(jordan.locator("main")).not_to_contain_text("Sertraline")

    # Rosa, on her phone, opens Releases and fills in a release.
    rosa_page = open_page(PHONE)
    sign_in_as(rosa_page, live_server, rosa.user)
    main_menu_link(rosa_page, "Releases").click()
    expect(rosa_page.get_by_role("heading", level=1)).to_have_text("My releases of information")
    expect(rosa_page.get_by_text("No releases yet.")).to_be_visible()
    rosa_page.get_by_role("link", name="Sign a new release").click()
    expect(rosa_page).to_have_url(path_is(live_server, f"/patients/{rosa.uuid}/releases/new/"))
    open_all_details(rosa_page)
    assert_no_axe_violations(rosa_page, "the release form (phone)")

    form = rosa_page.locator("form.release-form")
    form.get_by_role("radio", name="Dr. Priya Raman — Riverside Psychiatry").check()
    form.get_by_label("With whom").select_option(label="Jordan Lee — Therapist, Harbor Counseling")
    expect(form.get_by_label("Both ways")).to_be_checked()
    form.get_by_label("My medicines and why I take them").check()
    form.get_by_label("Observations (how medicines work for me").check()
    expect(form.get_by_label("What it is for")).not_to_be_empty()

    # A slip in the typed signature: a clear message, the choices kept, nothing stored.
    form.get_by_label("Type your full name to sign").fill("Rosa Alvares")
    form.get_by_role("button", name="Sign the release").click()
    summary = rosa_page.get_by_role("alert")
    expect(summary).to_contain_text("Nothing was signed yet.")
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(summary.get_by_role("link")).to_have_attribute("href", "#id_signed_name")
    signature_error = rosa_page.locator("#id_signed_name_error")
    expect(signature_error).to_have_text(
        "Type your full name as your signature, e.g. “Rosa Alvarez”."
    )
    expect(form.get_by_label("Type your full name to sign")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(form.get_by_label("My medicines and why I take them")).to_be_checked()
    expect(form.get_by_label("Observations (how medicines work for me")).to_be_checked()
    assert not Release.objects.filter(patient=rosa).exists()
    open_all_details(rosa_page)
    assert_no_axe_violations(rosa_page, "the release form with an error (phone)")

    form.get_by_label("Type your full name to sign").fill("Rosa Alvarez")
    form.get_by_role("button", name="Sign the release").click()
    expect(rosa_page).to_have_url(RELEASE_URL)
    expect(_messages(rosa_page)).to_contain_text("Signed. Your release is in force now")
    release = Release.objects.get(patient=rosa)
    assert release.signed_name == "Rosa Alvarez"
    assert sorted(release.categories) == ["medications", "observations"]
    assert (release.discloser, release.recipient, release.mutual) == (prescriber, therapist, True)
    page_text = rosa_page.locator("main")
    expect(page_text).to_contain_text("In force")
    expect(page_text).to_contain_text("Dr. Priya Raman, Riverside Psychiatry")
    expect(page_text).to_contain_text("Jordan Lee, Harbor Counseling")
    expect(page_text).to_contain_text("My medicines and why I take them")
    pdf_link = rosa_page.get_by_role("link", name="Signed copy (PDF)")
    pdf = rosa_page.request.get(base + pdf_link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert_no_axe_violations(rosa_page, "the signed release (phone)")

    # Jordan's next look at the plan shows the medicine; he raises a concern on the thread.
    jordan.reload()
    expect(jordan.locator("main")).to_contain_text("Sertraline 50 mg")
    jordan.get_by_role("navigation", name="Rosa Alvarez").get_by_role(
        "link", name="Team thread"
    ).click()
    expect(jordan).to_have_url(path_is(live_server, thread_path))
    expect(jordan.get_by_text("No posts yet.")).to_be_visible()
    post = jordan.get_by_role("region", name="Write to the team")
    post.get_by_label("What kind").select_option(label="Adherence concern")
    post.get_by_label("About a medicine (optional)").select_option(label="Sertraline 50 mg")
    post.get_by_label("Message").fill(CONCERN)
    post.get_by_role("button", name="Post", exact=True).click()
    expect(_messages(jordan)).to_contain_text("Posted.")
    posts = jordan.locator(".timeline > li")
    expect(posts).to_have_count(1)
    expect(posts.first).to_contain_text("Adherence concern")
    expect(posts.first).to_contain_text("Sertraline 50 mg")
    expect(posts.first).to_contain_text(CONCERN)
    open_all_details(jordan)
    assert_no_axe_violations(jordan, "the team thread (therapist)")

    # Dr. Raman reads it on her side and answers it.
    priya.goto(f"{base}{thread_path}")
    posts = priya.locator(".timeline > li")
    expect(posts).to_have_count(1)
    concern = posts.first
    expect(concern).to_contain_text("Adherence concern")
    expect(concern).to_contain_text("Jordan Lee, Harbor Counseling")
    expect(concern).to_contain_text(CONCERN)
    concern.get_by_text("Reply", exact=True).click()
    concern.get_by_label("Your reply").fill(ANSWER)
    concern.get_by_role("button", name="Send reply").click()
    expect(_messages(priya)).to_contain_text("Posted.")
    expect(posts).to_have_count(2)
    expect(posts.nth(1)).to_contain_text(ANSWER)
    open_all_details(priya)
    assert_no_axe_violations(priya, "the team thread (prescriber)")

    # Jordan sees the answer, marked as a reply to his concern.
    jordan.reload()
    posts = jordan.locator(".timeline > li")
    expect(posts).to_have_count(2)
    reply = posts.nth(1)
    expect(reply).to_contain_text(ANSWER)
    expect(reply).to_contain_text("Dr. Priya Raman, Riverside Psychiatry")
    expect(reply).to_contain_text("In reply to Jordan Lee")

    # Rosa revokes the release from its page.
    rosa_page.reload()
    revoke = rosa_page.get_by_role("region", name="Revoke this release")
    revoke.get_by_role("button", name="Revoke").click()
    expect(_messages(rosa_page)).to_contain_text("Revoked. From now on, nothing more is shared")
    expect(rosa_page.locator("main")).to_contain_text("Revoked")
    expect(rosa_page.get_by_role("region", name="Revoke this release")).to_have_count(0)
    assert_no_axe_violations(rosa_page, "the revoked release (phone)")

    # Jordan's very next request: the medicine is gone from the page and from the API, and
    # Dr. Raman's answer from the thread. His own concern stays: Harbor wrote it.
    jordan.goto(f"{base}{plan_path}")
    expect(jordan.get_by_text("No medications on the plan.")).to_be_visible()
    expect(jordan.locator("main")).not_to_contain_text("Sertraline")
    api = jordan.request.get(f"{base}/api/v1/patients/{rosa.uuid}/medications/")
    assert api.ok, api.status
    assert api.json()["results"] == []
    jordan.goto(f"{base}{thread_path}")
    expect(jordan.locator(".timeline > li")).to_have_count(1)
    expect(jordan.locator("main")).to_contain_text(CONCERN)
    expect(jordan.locator("main")).not_to_contain_text(ANSWER)

    # Rosa's Releases page: the release, revoked, and what Jordan looked at under it.
    main_menu_link(rosa_page, "Releases").click()
    listed = rosa_page.locator("li.release")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Dr. Priya Raman ↔ Jordan Lee")
    expect(listed).to_contain_text("Revoked")
    shared = rosa_page.get_by_role("region", name="What was shared under my releases")
    entries = shared.locator(".disclosure-list > li")
    expect(
        entries.filter(has_text="Jordan Lee (Harbor Counseling) viewed your medicines")
    ).not_to_have_count(0)
    expect(
        entries.filter(has_text="Jordan Lee (Harbor Counseling) viewed your observations")
    ).not_to_have_count(0)
    # Both ways: Dr. Raman read Jordan's concern under the same release.
    expect(
        entries.filter(has_text="Dr. Priya Raman (Riverside Psychiatry) viewed your observations")
    ).not_to_have_count(0)
    assert_no_axe_violations(rosa_page, "the releases list with disclosures (phone)")
