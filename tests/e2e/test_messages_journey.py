"""A patient writes to the care team on a phone; the prescriber, at a desk, replies and turns
the message into an observation on the medicine; the patient sees it was read. Every page
says that messages are not for emergencies, with the crisis page one link away; the compose
form says when the practice replies. Screenshots at 360 and 1280 px."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from messaging.models import Conversation
from prescribing import services as rx
from prescribing.models import Observation

from .conftest import (
    DESKTOP,
    PHONE,
    assert_no_axe_violations,
    main_menu_link,
    open_all_details,
    sign_in_as,
)

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("CONCORD_SHOTS", "test-artifacts/screenshots"))
SUBJECT = "Dizzy in the mornings"
TEXT = "Since the new dose I feel dizzy for an hour after I get up. Is that normal?"
ANSWER = "Thank you, Dan. Take it with breakfast for now; we will talk on Thursday."


def _fits(page, width) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_a_patient_writes_on_a_phone_the_prescriber_answers_and_records_it(
    open_page, live_server, patient, patient_user, prescriber, therapist, viewport
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = viewport["width"]
    riverside = prescriber.practice
    riverside.reply_time = "within one business day"
    riverside.save()
    medication = rx.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        not_coded=True,
        schedule="none",
        strength="50 mg",
        form="tablet",
        dose="1",
        directions="every morning",
        reason="Low mood",
    )

    # Dan, on his phone, writes to his whole care team, with the keyboard only.
    dan = open_page(PHONE)
    sign_in_as(dan, live_server, patient_user)
    main_menu_link(dan, "Messages").click()
    notice = dan.locator(".not-for-emergencies")
    expect(notice).to_contain_text("Messages are not for emergencies.")
    expect(notice.get_by_role("link", name="get help now")).to_have_attribute("href", "/help/")
    dan.get_by_role("link", name="Write a message").click()
    expect(dan.locator("#reply-promise")).to_contain_text(
        "Riverside Psychiatry will be in touch within one business day."
    )
    expect(dan.locator(".not-for-emergencies")).to_be_visible()
    dan.get_by_label("Subject").fill(SUBJECT)
    dan.get_by_label("Your message").fill(TEXT)
    dan.get_by_role("button", name="Send message").click()
    expect(
        dan.get_by_text("Sent. Your care team has been told there is a message.")
    ).to_be_visible()
    expect(dan.locator(".message-card__receipt")).to_have_text("Not read yet")
    assert_no_axe_violations(dan, "the patient's new conversation at 360 px")
    _fits(dan, 360)
    conversation = Conversation.objects.get(subject=SUBJECT)
    if width == 360:
        dan.screenshot(path=str(SHOTS / "messages-patient-sent-360.png"), full_page=True)

    # Dr. Raman sees one unread message in the header, answers and records it.
    priya = open_page(viewport)
    sign_in_as(priya, live_server, prescriber)
    header_link = main_menu_link(priya, "Messages")
    expect(header_link).to_contain_text("1")
    header_link.click()
    expect(priya.locator(".conversation-card")).to_contain_text(SUBJECT)
    priya.get_by_role("link", name=SUBJECT).click()
    expect(priya.locator(".not-for-emergencies")).to_be_visible()
    expect(priya.locator(".conversation-readers")).to_contain_text("Jordan Lee")
    priya.get_by_label("Your reply").fill(ANSWER)
    priya.get_by_role("button", name="Send", exact=True).click()
    expect(priya.get_by_text("Sent.", exact=True)).to_be_visible()
    priya.get_by_text("Make it a record").click()
    # Three things a message can become; the observation is this one.
    expect(priya.get_by_text("Ask for a refill for Dan")).to_be_visible()
    expect(priya.get_by_text("Propose it as a goal")).to_be_visible()
    open_all_details(priya)
    _fits(priya, width)
    priya.screenshot(path=str(SHOTS / f"messages-prescriber-make-{width}.png"), full_page=True)
    priya.reload()
    priya.get_by_text("Make it a record").click()
    priya.get_by_text("Record as an observation").click()
    observe = priya.locator(".message-card__make").filter(has_text="Record as an observation")
    observe.get_by_label("Medicine").select_option(str(medication.uuid))
    observe.get_by_label("What kind").select_option("side_effect")
    observe.get_by_label("Severity").select_option("mild")
    observe.get_by_role("button", name="Record observation").click()
    expect(priya.get_by_text("Recorded as an observation on Sertraline")).to_be_visible()
    record_link = priya.get_by_role("link", name="Recorded: Observation on Sertraline")
    expect(record_link).to_have_attribute("href", f"/medications/{medication.uuid}/")
    observation = Observation.objects.get(medication=medication)
    assert (observation.kind, observation.text) == ("side_effect", TEXT)
    open_all_details(priya)
    assert_no_axe_violations(priya, f"the prescriber's conversation at {width} px")
    _fits(priya, width)
    priya.screenshot(path=str(SHOTS / f"messages-prescriber-{width}.png"), full_page=True)

    # Dan sees it was read, the answer, and that it went into his record.
    dan.goto(f"{live_server.url}/messages/{conversation.uuid}/")
    expect(dan.locator(".message-card__receipt").first).to_contain_text("Read by Dr. Priya Raman")
    expect(dan.get_by_text(ANSWER)).to_be_visible()
    expect(dan.get_by_text("Your care team added this to your record")).to_be_visible()
    expect(
        dan.locator(".not-for-emergencies").get_by_role("link", name="get help now")
    ).to_be_visible()
    assert_no_axe_violations(dan, "the patient's answered conversation at 360 px")
    _fits(dan, 360)
    if width == 360:
        dan.screenshot(path=str(SHOTS / "messages-patient-read-360.png"), full_page=True)
    else:
        wide = open_page(DESKTOP)
        sign_in_as(wide, live_server, patient_user)
        wide.goto(f"{live_server.url}/messages/{conversation.uuid}/")
        expect(wide.locator(".message-card__receipt").first).to_contain_text("Read by")
        _fits(wide, 1280)
        wide.screenshot(path=str(SHOTS / "messages-patient-read-1280.png"), full_page=True)
        wide.goto(f"{live_server.url}/patients/{patient.uuid}/messages/new/")
        wide.screenshot(path=str(SHOTS / "messages-compose-1280.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_a_message_waiting_past_the_promise_is_first_on_the_prescribers_day(
    open_page, live_server, patient, patient_user, prescriber, viewport
):
    from datetime import timedelta

    from messaging import services as messaging
    from messaging.models import Message

    SHOTS.mkdir(parents=True, exist_ok=True)
    width = viewport["width"]
    riverside = prescriber.practice
    riverside.reply_days = 2
    riverside.save()
    conversation = messaging.conversation_start(
        actor=patient_user, patient=patient, clinician=prescriber, subject=SUBJECT, text=TEXT
    )
    Message.objects.filter(conversation=conversation).update(
        created_at=conversation.created_at - timedelta(days=3)
    )
    priya = open_page(viewport)
    sign_in_as(priya, live_server, prescriber)
    priya.goto(f"{live_server.url}/today/")
    waiting = priya.locator(".overdue-message")
    expect(waiting).to_contain_text("waiting 3 days, promised 2")
    expect(waiting).to_contain_text(SUBJECT)
    assert_no_axe_violations(priya, f"Today with an overdue message at {width} px")
    _fits(priya, width)
    priya.screenshot(path=str(SHOTS / f"today-overdue-message-{width}.png"), full_page=True)
    waiting.get_by_role("link").click()
    expect(priya.locator(".message-card__text")).to_contain_text(TEXT)
    priya.goto(f"{live_server.url}/today/")
    expect(priya.get_by_text("None past the reply time your practice promised.")).to_be_visible()
