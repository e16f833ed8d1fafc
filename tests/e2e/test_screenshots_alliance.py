"""Screenshots of the check-in pages and the alliance page at a phone and a laptop width.

Two months of Dan's check-ins fill them: the alliance with his therapist steady and good, with
his prescriber slipping below the cut-off (a concern flag, with his comment), PHQ-9 and GAD-7
coming down, and one consultation between the two clinicians. The pictures land in
test-artifacts/screenshots/.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alliance import services as alliance

from .conftest import sign_in_as
from .test_check_in_journey import COMMENT, instruments, phq9_answers, send_check_in  # noqa: F401
from .test_screenshots import SHOTS, VIEWPORTS, _shoot

pytestmark = pytest.mark.e2e


def _gad7(instrument, total):
    """Answers adding up to `total` (0–21), spread over the seven items."""
    items = [item["id"] for item in instrument.definition["items"]]
    base, extra = divmod(total, len(items))
    return {item: base + (1 if i < extra else 0) for i, item in enumerate(items)}


@pytest.fixture
def alliance_record(instruments, patient, prescriber, therapist):  # noqa: F811
    concord = instruments["concord-alliance"]
    phq9 = instruments["phq-9"]
    gad7 = instruments["gad-7"]
    for days_ago, value in ((63, 8), (42, 9), (21, 9), (5, 9)):
        send_check_in(patient, concord, value, clinician=therapist, days_ago=days_ago)
    prescriber_scores = [
        (70, {"bond": 8, "goals": 9, "tasks": 8, "fit": 9}, ""),
        (49, {"bond": 8, "goals": 8, "tasks": 7, "fit": 8}, ""),
        (28, {"bond": 7, "goals": 8, "tasks": 6, "fit": 7}, "Visits feel short."),
        (3, {"bond": 5, "goals": 6, "tasks": 3, "fit": 5}, COMMENT),
    ]
    for days_ago, answers, comment in prescriber_scores:
        latest = send_check_in(
            patient, concord, answers, clinician=prescriber, open_answer=comment, days_ago=days_ago
        )
    for days_ago, value in ((70, 2), (42, 2), (14, 1)):
        send_check_in(patient, phq9, phq9_answers(phq9, value, item_9=0), days_ago=days_ago)
    for days_ago, total in ((70, 14), (42, 11), (14, 8)):
        send_check_in(patient, gad7, _gad7(gad7, total), days_ago=days_ago)
    alliance.consultation_create(
        actor=prescriber,
        patient=patient,
        prescriber=prescriber,
        therapist=therapist,
        issues="Dan feels rushed in medication visits and has questions about side effects "
        "he has not asked.",
        actions="Thirty-minute visits for the next two months. Jordan helps Dan write his "
        "questions down before each visit.",
        held_on=timezone.localdate() - timedelta(days=1),
        audience="patient",
    )
    return {**instruments, "latest": latest}


@pytest.mark.parametrize("size", VIEWPORTS)
def test_screenshots_of_check_ins_and_the_alliance_page(
    browser, live_server, alliance_record, patient, prescriber, therapist, size
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url

    def signed_in(user, next_path=""):
        context = browser.new_context(viewport=VIEWPORTS[size])
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in_as(page, live_server, user, next_path=next_path)
        return context, page

    context, page = signed_in(patient.user, f"/patients/{patient.uuid}/check-ins/")
    try:
        expect(page.get_by_role("heading", level=1)).to_have_text("My check-ins")
        _shoot(page, f"check-ins-{size}")

        page.get_by_role("button", name="Start check-in about Dr. Priya Raman").click()
        expect(page.get_by_role("radio")).to_have_count(44)
        _shoot(page, f"check-in-alliance-{size}")
        page.locator('input[name="bond"][value="6"]').check()
        page.locator('input[name="goals"][value="7"]').focus()
        page.keyboard.press("Space")
        page.locator("#q-bond").screenshot(path=str(SHOTS / f"check-in-scale-{size}.png"))
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("alert")).to_be_visible()
        _shoot(page, f"check-in-alliance-missing-{size}")
        page.get_by_role("button", name="Save and finish later").click()
        expect(page.locator(".messages")).to_contain_text("Saved.")

        page.get_by_role("button", name="Start PHQ-9").click()
        expect(page.get_by_role("radio")).to_have_count(36)
        page.locator("fieldset.question").first.get_by_label("Several days").check()
        _shoot(page, f"check-in-phq9-{size}")

        page.goto(f"{base}/check-ins/{alliance_record['latest'].uuid}/")
        expect(page.locator("dl.answers")).to_be_visible()
        _shoot(page, f"check-in-sent-{size}")
    finally:
        context.close()

    context, page = signed_in(prescriber, f"/patients/{patient.uuid}/alliance/")
    try:
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Dan Brooks: alliance and outcomes"
        )
        _shoot(page, f"alliance-{size}")
        page.get_by_text("Record a consultation").click()
        _shoot(page, f"alliance-consultation-form-{size}")
    finally:
        context.close()

    # A self-harm answer on the PHQ-9: the urgent alert on the overview and the alliance page.
    send_check_in(
        patient, alliance_record["phq-9"], phq9_answers(alliance_record["phq-9"], 1, item_9=1)
    )
    context, page = signed_in(therapist, f"/patients/{patient.uuid}/")
    try:
        expect(page.get_by_role("alert")).to_contain_text("Safety alert")
        _shoot(page, f"patient-detail-safety-{size}")
        page.get_by_role("navigation", name="Dan Brooks").get_by_role(
            "link", name="Alliance"
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Dan Brooks: alliance and outcomes"
        )
        _shoot(page, f"alliance-safety-{size}")
    finally:
        context.close()


@pytest.mark.parametrize("size", VIEWPORTS)
def test_a_long_history_lists_the_newest_scores_and_opens_them_all(
    browser,
    live_server,
    instruments,  # noqa: F811
    patient,
    prescriber,
    size,
):
    """A year of weekly PHQ-9s: the table lists the newest ROWS_SHOWN scores, says how many
    there are, and its link opens the page with every one of them listed, the table open."""
    from alliance.selectors import ROWS_SHOWN

    phq9 = instruments["phq-9"]
    total = ROWS_SHOWN + 2
    for week in range(total, 0, -1):
        send_check_in(patient, phq9, phq9_answers(phq9, week % 3, item_9=0), days_ago=7 * week)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in_as(page, live_server, prescriber, next_path=f"/patients/{patient.uuid}/alliance/")
        page.get_by_text(f"Newest {ROWS_SHOWN} scores of {total}").click()
        expect(page.locator("tbody tr")).to_have_count(ROWS_SHOWN)
        _shoot(page, f"alliance-long-history-{size}")
        page.get_by_role("link", name=f"All {total} scores").click()
        expect(page.locator("tbody tr")).to_have_count(total)
        expect(page.locator("details[open] summary")).to_have_text("All scores")
    finally:
        context.close()
