"""Screenshots, at a phone and a laptop width, of a schedule II fill that names its prescription
and of a renewal in one step: the patient reads "renewal requested", the prescriber renews from
the queue, the patient reads that the new prescription is on its way."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from prescribing import services

from .conftest import sign_in_as
from .test_screenshots import SHOTS, VIEWPORTS, _shoot

pytestmark = pytest.mark.e2e


def _start(prescriber, patient, name, schedule):
    return services.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name=name,
        strength="10 mg",
        form="tablet",
        dose="1 tablet",
        directions="each morning",
        schedule=schedule,
        reason="Agreed together",
    )


@pytest.mark.parametrize("size", VIEWPORTS)
def test_screenshots_of_fills_and_renewals(browser, live_server, patient, prescriber, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    today = timezone.localdate()
    series = _start(prescriber, patient, "Methylphenidate", "II")
    for i in range(3):
        services.prescription_write(
            actor=prescriber,
            medication=series,
            quantity=30,
            days_supply=30,
            earliest_fill_on=today + timedelta(days=30 * i) if i else None,
        )
    sertraline = _start(prescriber, patient, "Sertraline", "none")
    rx = services.prescription_write(
        actor=prescriber, medication=sertraline, quantity=30, days_supply=30
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=today)
    services.refill_request_create(actor=patient.user, medication=sertraline)

    def signed_in(user):
        context = browser.new_context(viewport=VIEWPORTS[size])
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in_as(page, live_server, user)
        return context, page

    base = live_server.url
    dan_context, dan = signed_in(patient.user)
    priya_context, priya = signed_in(prescriber)
    try:
        dan.goto(f"{base}/patients/{patient.uuid}/medications/")
        expect(dan.get_by_text("Renewal requested on")).to_be_visible()
        _shoot(dan, f"renewal-requested-patient-{size}")

        priya.goto(f"{base}/medications/{series.uuid}/")
        priya.get_by_text("Record a fill").click()
        fill = priya.locator("#fill")
        expect(fill.get_by_role("radio")).to_have_count(3)
        expect(fill.get_by_role("radio", checked=True)).to_have_count(1)
        expect(fill).to_contain_text("can be filled today")
        _shoot(priya, f"fill-choice-schedule-ii-{size}")

        priya.goto(f"{base}/refills/")
        renew = priya.locator("details.renew")
        renew.locator("summary").click()
        expect(renew.get_by_label("Quantity")).to_have_value("30")
        _shoot(priya, f"refill-queue-renew-{size}")
        renew.get_by_label("Refills").fill("2")
        renew.get_by_role("button", name="Renew and approve").click()
        expect(priya.get_by_text("renewed with a new prescription")).to_be_visible()
        _shoot(priya, f"refill-queue-renewed-{size}")

        dan.reload()
        expect(dan.get_by_text("Renewal approved")).to_be_visible()
        _shoot(dan, f"renewal-approved-patient-{size}")
    finally:
        dan_context.close()
        priya_context.close()
