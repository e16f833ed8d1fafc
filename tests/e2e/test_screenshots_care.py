"""Screenshots of goals, notes and the medication plan at a phone and a laptop width.

The pages are filled the way a few months of care would fill them: goals with ratings (so the
sparklines draw), a story entry beside clinicians' notes, a medicine whose dose was raised, a
pending refill request. The pictures and the rendered PDF land in test-artifacts/screenshots/.
"""

import subprocess

import pytest
from playwright.sync_api import expect

from .conftest import sign_in_as
from .test_screenshots import SHOTS, VIEWPORTS, _shoot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("size", VIEWPORTS)
def test_screenshots_of_goals_notes_and_medicines(
    browser, live_server, dans_record, patient, prescriber, therapist, size
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
        page.goto(f"{base}/patients/{patient.uuid}/goals/")
        expect(page.get_by_role("heading", level=1)).to_have_text("My goals")
        _shoot(page, f"goals-patient-{size}")
        sleep = page.get_by_role("article", name="Sleep through the night")
        sleep.get_by_text("Rate how it is going").click()
        expect(sleep.get_by_role("radio")).to_have_count(5)
        sleep.get_by_text("Change status").click()
        sleep.screenshot(path=str(SHOTS / f"goals-patient-rating-{size}.png"))

        page.goto(f"{base}/patients/{patient.uuid}/notes/")
        _shoot(page, f"notes-patient-{size}")

        page.goto(f"{base}/patients/{patient.uuid}/medications/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("My medicines")
        _shoot(page, f"my-medicines-{size}")

        page.goto(f"{base}/medications/{dans_record['prazosin'].uuid}/refill/")
        expect(page.get_by_role("button", name="Send my request")).to_be_visible()
        _shoot(page, f"refill-request-{size}")

        page.goto(f"{base}/medications/{dans_record['sertraline'].uuid}/")
        _shoot(page, f"medication-detail-patient-{size}")

        if size == "phone":
            pdf = page.context.request.get(f"{base}/patients/{patient.uuid}/medications/pdf/")
            assert pdf.ok
            assert pdf.headers["content-type"] == "application/pdf"
            path = SHOTS / "my-medicines.pdf"
            path.write_bytes(pdf.body())
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", str(path), str(SHOTS / "my-medicines-pdf")],
                check=True,
            )
    finally:
        context.close()

    context, page = signed_in(prescriber)
    try:
        page.goto(f"{base}/patients/{patient.uuid}/goals/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Dan Brooks: goals")
        _shoot(page, f"goals-clinician-{size}")

        page.goto(f"{base}/patients/{patient.uuid}/medications/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("medication plan")
        _shoot(page, f"medication-plan-{size}")

        page.goto(f"{base}/medications/{dans_record['sertraline'].uuid}/")
        expect(page.get_by_role("heading", level=2, name="Timeline")).to_be_visible()
        _shoot(page, f"medication-detail-{size}")
        page.get_by_text("Record a decision").click()
        page.get_by_label("Change the dose").check()
        page.locator("#decide").screenshot(path=str(SHOTS / f"medication-decision-{size}.png"))

        page.goto(f"{base}/patients/{patient.uuid}/medications/new/")
        _shoot(page, f"medication-new-{size}")

        page.goto(f"{base}/refills/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Refill requests")
        _shoot(page, f"refill-queue-{size}")
    finally:
        context.close()

    context, page = signed_in(therapist)
    try:
        page.goto(f"{base}/patients/{patient.uuid}/notes/")
        expect(page.get_by_text("Process: noticed my own urge")).to_be_visible()
        _shoot(page, f"notes-clinician-{size}")
    finally:
        context.close()
