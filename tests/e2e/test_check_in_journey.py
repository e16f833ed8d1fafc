"""Check-ins as people use them: Dan tells Concord on his phone, with the keyboard alone, how his
work with his prescriber is going; she sees the concern at her desk and acknowledges it. A PHQ-9
answer about self-harm reaches both his clinicians until one of them acknowledges it. axe-core
finds nothing on the check-in pages or the alliance page."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alliance import selectors as alliance_selectors
from alliance import services as alliance
from alliance.models import CheckIn, Flag
from tests.factories import PASSWORD

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

LOW = 3
COMMENT = "I feel rushed in our visits and I don't get to ask about the side effects."


@pytest.fixture
def instruments(transactional_db):
    """The shipped instruments: live_server's flush removes the ones the migration loaded."""
    alliance.install_shipped()
    return {i.key: i for i in alliance_selectors.instruments_offered()}


def send_check_in(patient, instrument, answers, *, clinician=None, open_answer="", days_ago=0):
    """A check-in Dan sent `days_ago` days ago, with any flag it raised dated the same day.

    Call in date order: flags compare a score with the ones sent before it."""
    if isinstance(answers, int):
        answers = {item["id"]: answers for item in instrument.definition["items"]}
    check_in = alliance.check_in_start(
        actor=patient.user, patient=patient, instrument=instrument, clinician=clinician
    )
    check_in = alliance.check_in_submit(
        actor=patient.user, check_in=check_in, answers=answers, open_answer=open_answer
    )
    when = timezone.now() - timedelta(days=days_ago)
    CheckIn.objects.filter(pk=check_in.pk).update(created_at=when, submitted_at=when)
    Flag.objects.filter(check_in=check_in).update(created_at=when)
    check_in.refresh_from_db()
    return check_in


def phq9_answers(instrument, value, *, item_9):
    answers = {item["id"]: value for item in instrument.definition["items"]}
    answers["phq9_9"] = item_9
    return answers


# --- Keyboard helpers --------------------------------------------------------------------------


def is_focused(locator) -> bool:
    return locator.evaluate("(el) => el === document.activeElement")


def tab_to(page, locator, *, limit: int = 60) -> None:
    """Press Tab until `locator` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if locator.count() == 1 and is_focused(locator):
            return
        page.keyboard.press("Tab")
    expect(locator).to_be_focused()


def sign_in_with_keyboard(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_label("E-mail address")).to_be_focused()  # autofocus
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def scale_point(page, item_id: str, value: int):
    return page.locator(f'input[type="radio"][name="{item_id}"][value="{value}"]')


def answer_scale(page, item_id: str, value: int) -> None:
    """Tab into a 0–10 scale, pick 0 with Space, then step to `value` with the arrow keys."""
    zero = scale_point(page, item_id, 0)
    tab_to(page, zero, limit=20)
    page.keyboard.press("Space")
    expect(zero).to_be_checked()
    for _ in range(value):
        page.keyboard.press("ArrowRight")
    chosen = scale_point(page, item_id, value)
    expect(chosen).to_be_focused()
    expect(chosen).to_be_checked()


def _messages(page):
    return page.locator(".messages")


# --- The alliance journey ----------------------------------------------------------------------


def test_patient_checks_in_about_the_prescriber_with_the_keyboard_and_she_acknowledges_it(
    open_page, live_server, instruments, patient, prescriber, therapist
):
    alliance_instrument = instruments["concord-alliance"]
    # Two earlier check-ins, a month apart: the relationship was going well.
    send_check_in(patient, alliance_instrument, 8, clinician=prescriber, days_ago=63)
    send_check_in(patient, alliance_instrument, 9, clinician=prescriber, days_ago=35)

    dan = open_page(PHONE)
    sign_in_with_keyboard(dan, live_server, patient.user)

    # Check-ins, from the header.
    header_link = main_menu_link(dan, "Check-ins")
    tab_to(dan, header_link)
    dan.keyboard.press("Enter")
    expect(dan).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/check-ins/"))
    expect(dan.get_by_role("heading", level=1)).to_have_text("My check-ins")
    expect(dan.get_by_role("heading", name="How is it going with Dr. Priya Raman?")).to_be_visible()
    expect(dan.get_by_role("heading", name="How is it going with Jordan Lee?")).to_be_visible()

    start = dan.get_by_role("button", name="Start check-in about Dr. Priya Raman")
    tab_to(dan, start)
    dan.keyboard.press("Enter")
    expect(dan.get_by_role("heading", level=1)).to_have_text(
        "How is it going with Dr. Priya Raman?"
    )
    # The questions, and nothing stored yet: Send starts and sends the check-in at once.
    assert not CheckIn.objects.filter(clinician=prescriber, status="draft").exists()
    expect(dan.get_by_role("group", name=re.compile("I feel heard, understood"))).to_contain_text(
        "Not at all"
    )

    # One answer and the open question, then Send: nothing is stored, and the page says what is missing.
    answer_scale(dan, "bond", LOW)
    open_answer = dan.get_by_label("What could we do to make our work together better?")
    tab_to(dan, open_answer)
    dan.keyboard.type(COMMENT)
    dan.keyboard.press("Tab")
    expect(dan.get_by_role("button", name="Send")).to_be_focused()
    dan.keyboard.press("Enter")

    problem = dan.get_by_role("alert")
    expect(problem).to_contain_text(
        "Please answer every question before sending: 3 still unanswered."
    )
    missing = problem.get_by_role("link")
    expect(missing).to_have_text(
        [
            "Dr. Priya Raman and I agree on what we are working towards.",
            re.compile("^I agree with how we are going about it"),
            "Overall, working with Dr. Priya Raman is right for me at the moment.",
        ]
    )
    # The summary takes the focus, so the keyboard (and a screen reader) starts from it.
    expect(problem).to_be_focused()
    for item_id in ("goals", "tasks", "fit"):
        expect(dan.locator(f"#q-{item_id}")).to_contain_text("Please answer this question.")
    expect(dan.locator("#q-bond")).not_to_contain_text("Please answer this question.")
    # What was given is still on the page, but nothing was stored.
    expect(scale_point(dan, "bond", LOW)).to_be_checked()
    expect(open_answer).to_have_value(COMMENT)
    assert CheckIn.objects.filter(clinician=prescriber).count() == 2  # the two sent earlier
    assert Flag.objects.count() == 0

    # The first link leads to the question it names; the next Tab is inside it.
    tab_to(dan, missing.first, limit=3)
    dan.keyboard.press("Enter")
    answer_scale(dan, "goals", LOW)

    # Save and finish later, then Continue: the answers come back.
    save = dan.get_by_role("button", name="Save and finish later")
    tab_to(dan, save)
    dan.keyboard.press("Enter")
    expect(_messages(dan)).to_contain_text("Saved. You can finish it later from your check-ins.")
    check_in = CheckIn.objects.get(clinician=prescriber, status="draft")
    check_in_url = f"{live_server.url}/check-ins/{check_in.uuid}/"
    assert check_in.answers == {"bond": LOW, "goals": LOW}
    assert check_in.open_answer == COMMENT
    offer = dan.get_by_role("listitem").filter(
        has=dan.get_by_role("heading", name="How is it going with Dr. Priya Raman?")
    )
    expect(offer).to_contain_text("In progress")
    resume = dan.get_by_role("link", name="Continue check-in about Dr. Priya Raman")
    tab_to(dan, resume)
    dan.keyboard.press("Enter")
    expect(dan).to_have_url(check_in_url)
    expect(scale_point(dan, "bond", LOW)).to_be_checked()
    expect(scale_point(dan, "goals", LOW)).to_be_checked()
    expect(scale_point(dan, "tasks", LOW)).not_to_be_checked()
    expect(dan.get_by_label("What could we do to make our work together better?")).to_have_value(
        COMMENT
    )

    # The rest, then Send.
    answer_scale(dan, "tasks", LOW)
    answer_scale(dan, "fit", LOW)
    send = dan.get_by_role("button", name="Send")
    tab_to(dan, send, limit=4)
    dan.keyboard.press("Enter")
    expect(_messages(dan)).to_contain_text("Thank you. Your answers are with your care team.")
    expect(dan).to_have_url(check_in_url)
    expect(dan.locator(".lede")).to_contain_text(f"Score: {LOW}")
    answers = dan.locator("dl.answers")
    expect(answers).to_contain_text(COMMENT)
    expect(dan.get_by_role("button", name="Send")).to_have_count(0)
    check_in.refresh_from_db()
    assert (check_in.status, check_in.total) == ("submitted", LOW)
    overflow = dan.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the sent check-in is {overflow}px wider than a 360px phone"

    # The prescriber, at her desk: the patient, then Alliance.
    priya = open_page(DESKTOP)
    sign_in_as(priya, live_server, prescriber)
    priya.get_by_role("region", name="Patients").get_by_role(
        "link", name=re.compile("Dan Brooks")
    ).click()
    overview_note = priya.locator(".alert")
    expect(overview_note).to_contain_text("Alliance concern with Dr. Priya Raman")
    priya.get_by_role("navigation", name="Dan Brooks").get_by_role("link", name="Alliance").click()
    expect(priya).to_have_url(path_is(live_server, f"/patients/{patient.uuid}/alliance/"))
    expect(priya.get_by_role("heading", level=1)).to_have_text("Dan Brooks: alliance and outcomes")

    concern = priya.get_by_role("region", name="Alliance concern with Dr. Priya Raman")
    expect(concern).to_contain_text(f"Score {LOW}")
    expect(concern).to_contain_text("below the instrument's cut-off")
    expect(concern).to_contain_text("a reliable drop from the patient's own baseline")
    expect(concern).to_contain_text(COMMENT)
    trend = priya.get_by_role("region", name="Alliance with Dr. Priya Raman")
    chart = trend.get_by_role("img", name=re.compile(r"3 scores from .*; latest 3, cut-off 7"))
    expect(chart).to_be_visible()
    expect(chart.locator(".chart__flagged")).to_have_count(1)

    # Every answer is a link away, and back.
    concern.get_by_role("link", name="See all the answers").click()
    expect(priya.get_by_role("heading", level=1)).to_have_text(
        "Dan Brooks: check-in about Dr. Priya Raman"
    )
    expect(priya.locator("dl.answers")).to_contain_text(COMMENT)
    expect(priya.get_by_role("button", name="Send")).to_have_count(0)
    priya.go_back()

    concern.get_by_label("What you will do (optional)").fill("Longer visit on Thursday")
    concern.get_by_role("button", name="Acknowledge").click()
    expect(_messages(priya)).to_contain_text("Acknowledged. Your name and the time are recorded.")
    expect(priya.get_by_role("region", name=re.compile("^Alliance concern"))).to_have_count(0)
    expect(trend.locator(".chart__flagged")).to_have_count(0)
    flag = Flag.objects.get(check_in=check_in)
    assert flag.acknowledged_by == prescriber
    assert flag.acknowledgement_note == "Longer visit on Thursday"

    priya.get_by_role("navigation", name="Dan Brooks").get_by_role("link", name="Overview").click()
    expect(priya.get_by_role("heading", level=1)).to_have_text("Dan Brooks")
    expect(priya.locator(".alert")).to_have_count(0)


# --- Safety ------------------------------------------------------------------------------------


def test_phq9_self_harm_answer_alerts_both_clinicians_until_one_acknowledges(
    open_page, live_server, instruments, patient, prescriber, therapist
):
    dan = open_page(PHONE)
    sign_in_as(dan, live_server, patient.user, next_path=f"/patients/{patient.uuid}/check-ins/")
    dan.get_by_role("button", name="Start PHQ-9").click()
    expect(dan.get_by_role("heading", level=1)).to_have_text("PHQ-9")
    questions = dan.locator("fieldset.question")
    expect(questions).to_have_count(9)
    for i in range(8):
        questions.nth(i).get_by_label("Several days").check()
    questions.nth(8).get_by_label("Several days").check()
    assert not CheckIn.objects.exists()  # nothing stored until Send
    dan.get_by_role("button", name="Send").click()
    # On his phone, crisis help comes before anything else on the page, then who was told.
    help_now = dan.get_by_role("region", name="If you need help now")
    expect(help_now).to_be_visible()
    expect(help_now.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    expect(help_now.get_by_role("link", name="Text 988")).to_have_attribute("href", "sms:988")
    expect(help_now).to_contain_text("911")
    # One request started and sent it.
    sent = CheckIn.objects.get(status="submitted")
    expect(dan).to_have_url(path_is(live_server, f"/check-ins/{sent.uuid}/"))
    assert help_now.bounding_box()["y"] < dan.get_by_role("heading", level=1).bounding_box()["y"]
    assert help_now.bounding_box()["y"] < dan.viewport_size["height"]
    expect(dan.locator(".crisis-told")).to_contain_text("Thank you for telling us.")
    expect(dan.locator(".crisis-told")).to_contain_text(prescriber.full_name)
    expect(dan.locator(".lede")).to_contain_text("Score: 9")
    assert_no_axe_violations(dan, "the check-in after a self-harm answer")

    team = {}
    for who in (prescriber, therapist):
        page = open_page(DESKTOP)
        sign_in_as(page, live_server, who, next_path=f"/patients/{patient.uuid}/")
        team[who] = page
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Safety alert")
        expect(alert.get_by_role("link", name="Review and acknowledge")).to_be_visible()

        page.get_by_role("navigation", name="Dan Brooks").get_by_role(
            "link", name="Alliance"
        ).click()
        alert = page.get_by_role("alert")
        expect(alert).to_have_count(1)
        expect(alert).to_contain_text("Safety alert")
        expect(alert).to_contain_text("PHQ-9 question 9")
        expect(alert.get_by_role("button", name="I have seen this")).to_be_visible()

    jordan = team[therapist]
    alert = jordan.get_by_role("alert")
    alert.get_by_label("What you will do (optional)").fill("Called Dan; safety plan reviewed")
    alert.get_by_role("button", name="I have seen this").click()
    expect(_messages(jordan)).to_contain_text("Acknowledged.")
    expect(jordan.locator(".alert--urgent")).to_have_count(0)

    priya = team[prescriber]
    priya.reload()
    expect(priya.locator(".alert--urgent")).to_have_count(0)
    priya.get_by_role("navigation", name="Dan Brooks").get_by_role("link", name="Overview").click()
    expect(priya.get_by_role("heading", level=1)).to_have_text("Dan Brooks")
    expect(priya.locator(".alert--urgent")).to_have_count(0)
    flag = Flag.objects.get(kind="safety")
    assert (flag.acknowledged_by, flag.acknowledgement_note) == (
        therapist,
        "Called Dan; safety plan reviewed",
    )


# --- Accessibility -----------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_check_in_and_alliance_pages_have_no_axe_violations(
    open_page, live_server, instruments, patient, prescriber, therapist, viewport
):
    alliance_instrument = instruments["concord-alliance"]
    phq9 = instruments["phq-9"]
    for days_ago, value in ((42, 8), (21, 9)):
        send_check_in(patient, alliance_instrument, value, clinician=therapist, days_ago=days_ago)
    for days_ago, value in ((56, 9), (28, 8)):
        send_check_in(patient, alliance_instrument, value, clinician=prescriber, days_ago=days_ago)
    send_check_in(
        patient, alliance_instrument, 4, clinician=prescriber, open_answer=COMMENT, days_ago=2
    )
    send_check_in(patient, phq9, phq9_answers(phq9, 2, item_9=0), days_ago=30)
    sent = send_check_in(patient, phq9, phq9_answers(phq9, 1, item_9=1), days_ago=1)
    alliance.consultation_create(
        actor=prescriber,
        patient=patient,
        prescriber=prescriber,
        therapist=therapist,
        issues="Dan feels rushed in medication visits.",
        actions="Thirty-minute visits for now; Jordan asks about it in session.",
        held_on=timezone.localdate() - timedelta(days=1),
        audience="patient",
    )

    dan = open_page(viewport)
    sign_in_as(dan, live_server, patient.user, next_path=f"/patients/{patient.uuid}/check-ins/")
    expect(dan.get_by_role("heading", level=1)).to_have_text("My check-ins")
    expect(
        dan.get_by_role("region", name="What my prescriber and therapist agreed")
    ).to_contain_text("Thirty-minute visits for now")
    assert_no_axe_violations(dan, "the check-ins list")

    dan.get_by_role("button", name="Start check-in about Jordan Lee").click()
    expect(dan.get_by_role("radio")).to_have_count(44)
    assert_no_axe_violations(dan, "the alliance check-in form")
    dan.get_by_role("button", name="Send").click()
    expect(dan.get_by_role("alert")).to_contain_text("4 still unanswered")
    assert_no_axe_violations(dan, "the alliance check-in form with its errors")

    main_menu_link(dan, "Check-ins").click()
    dan.get_by_role("button", name="Start PHQ-9").click()
    expect(dan.get_by_role("radio")).to_have_count(36)
    assert_no_axe_violations(dan, "the PHQ-9 form")

    dan.goto(f"{live_server.url}/check-ins/{sent.uuid}/")
    expect(dan.locator("dl.answers")).to_be_visible()
    assert_no_axe_violations(dan, "a sent check-in")

    priya = open_page(viewport)
    sign_in_as(priya, live_server, prescriber, next_path=f"/patients/{patient.uuid}/alliance/")
    expect(priya.get_by_role("heading", level=1)).to_have_text("Dan Brooks: alliance and outcomes")
    expect(priya.locator(".alert--urgent")).to_have_count(1)
    expect(priya.get_by_role("region", name=re.compile("^Alliance concern"))).to_have_count(1)
    open_all_details(priya)
    assert_no_axe_violations(priya, "the alliance page")

    priya.goto(f"{live_server.url}/check-ins/{sent.uuid}/")
    assert_no_axe_violations(priya, "a sent check-in, as the prescriber sees it")
