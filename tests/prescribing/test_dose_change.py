"""After a dose change: every place names the dose taken, and the run-out follows the dose."""

import html
import io
import re
from datetime import date

import pytest
from django.urls import reverse

from prescribing import selectors, services
from tests import factories

pytestmark = pytest.mark.django_db

LABEL = "Sertraline 50 mg (1/2 of a 100 mg tablet)"


def _start(prescriber, patient, *, strength="100 mg", dose="1 tablet", directions="once a day"):
    return services.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength=strength,
        form="tablet",
        dose=dose,
        directions=directions,
        purpose="To sleep",
        reason="Nightmares",
        decided_together=True,
    )


def _filled(prescriber, patient, filled=date(2026, 3, 1), **kwargs):
    med = _start(prescriber, patient, **kwargs)
    rx = services.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=3
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=filled)
    med.refresh_from_db()
    return med


def _change(prescriber, med, **fields):
    med.refresh_from_db()
    services.medication_change_dose(
        actor=prescriber,
        medication=med,
        version=med.version,
        reason="Too activating at the full dose",
        decided_together=True,
        **fields,
        **factories.WHOSE_NEED,
    )
    med.refresh_from_db()
    return med


def _text(response) -> str:
    if response["Content-Type"] == "application/pdf":
        from pypdf import PdfReader

        raw = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    else:
        raw = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return " ".join(raw.split())


def test_every_place_names_the_dose_taken_after_half_a_tablet(
    client, patient, patient_user, prescriber, time_machine
):
    time_machine.move_to("2026-03-01 09:00")
    med = _filled(prescriber, patient)
    med = _change(prescriber, med, dose="1/2 tablet")
    assert med.label == LABEL and med.dose_taken == "50 mg"

    client.force_login(prescriber)
    clinician_places = {
        "plan": reverse("medications", args=[patient.uuid]),
        "visit": reverse("visit", args=[patient.uuid]),
        "visit PDF": reverse("visit_pdf", args=[patient.uuid]),
    }
    for place, url in clinician_places.items():
        text = _text(client.get(url))
        assert LABEL in text, place
        assert "Sertraline 100 mg" not in text, place  # the tablet strength alone, never
    detail = _text(client.get(reverse("medication_detail", args=[med.uuid])))
    assert f"{LABEL} " in detail  # the heading; the timeline keeps the start as it was
    assert "Dose taken: 100 mg → 50 mg" in detail

    bundle = client.get(reverse("fhir_export", args=[patient.uuid])).json()
    request = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    )
    dosage = request["dosageInstruction"][0]
    assert dosage["text"].startswith("50 mg (1/2 tablet by mouth, once a day)")
    assert dosage["doseAndRate"][0]["doseQuantity"] == {"value": 50.0, "unit": "mg"}

    api = client.get(reverse("api_medication_list", args=[patient.uuid])).json()
    rows = api["results"]
    assert [(r["label"], r["dose_taken"]) for r in rows] == [(LABEL, "50 mg")]

    client.force_login(patient_user)
    patient_places = {
        "my medicines": reverse("medications", args=[patient.uuid]),
        "home": reverse("patient_home"),
        "my medicines PDF": reverse("medications_pdf", args=[patient.uuid]),
    }
    for place, url in patient_places.items():
        text = _text(client.get(url))
        assert LABEL in text, place
        assert "Sertraline 100 mg" not in text, place


def test_a_new_strength_is_named_by_its_own_tablets(patient, prescriber, time_machine):
    time_machine.move_to("2026-03-01 09:00")
    med = _filled(prescriber, patient, dose="1/2 tablet")
    assert med.label == LABEL
    med = _change(prescriber, med, strength="50 mg", dose="1 tablet")
    assert med.label == "Sertraline 50 mg"


def _kinds(on):
    return sorted((c.kind, c.due_on) for c in selectors.refill_nudge_candidates(on=on))


def test_run_out_follows_a_doubled_dose_on_pages_and_nudges(
    client, patient, patient_user, prescriber, time_machine
):
    time_machine.move_to("2026-03-01 09:00")
    med = _filled(prescriber, patient, strength="50 mg")
    assert (med.run_out_on, med.refill_needed_by) == (date(2026, 3, 31), date(2026, 3, 24))

    time_machine.move_to("2026-03-11 09:00")
    med = _change(prescriber, med, dose="2 tablets")
    # 20 tablets left on 11 March, at 2 a day: 10 days.
    assert (med.run_out_on, med.refill_needed_by) == (date(2026, 3, 21), date(2026, 3, 14))

    client.force_login(prescriber)
    plan = _text(client.get(reverse("medications", args=[patient.uuid])))
    assert "Runs out Mar 21, 2026 · ask by Mar 14, 2026" in plan
    client.force_login(patient_user)
    mine = _text(client.get(reverse("medications", args=[patient.uuid])))
    assert "Runs out Mar 21, 2026 · ask by Mar 14, 2026" in mine
    assert "Mar 31, 2026" not in mine
    api = client.get(reverse("api_medication_list", args=[patient.uuid])).json()
    rows = api["results"]
    assert rows[0]["supply"]["run_out"] == "2026-03-21"

    # The nudge is due on the new ask-by date, not the old one.
    assert ("refill_ask_today", date(2026, 3, 14)) in _kinds(date(2026, 3, 14))
    assert ("refill_ask_today", date(2026, 3, 24)) not in _kinds(date(2026, 3, 24))

    time_machine.move_to("2026-03-13 09:00")
    asked = services.refill_request_create(actor=patient_user, medication=med)
    assert (asked.run_out_on, asked.needed_by) == (date(2026, 3, 21), date(2026, 3, 14))

    # A dose change after the request moves the date the prescriber's queue shows too.
    time_machine.move_to("2026-03-15 09:00")
    med = _change(prescriber, med, dose="1 tablet")
    client.force_login(prescriber)
    queue = _text(client.get(reverse("refill_queue")))
    assert f"runs out {med.run_out_on:%b} {med.run_out_on.day}" in queue
    assert med.run_out_on != date(2026, 3, 21)


def test_larger_tablets_at_the_same_count_run_out_sooner(patient, prescriber, time_machine):
    time_machine.move_to("2026-03-01 09:00")
    med = _filled(prescriber, patient, strength="50 mg")
    time_machine.move_to("2026-03-11 09:00")
    med = _change(prescriber, med, strength="100 mg")
    # 20 × 50 mg on hand on 11 March is 10 days at 100 mg a day.
    assert med.run_out_on == date(2026, 3, 21)


def test_the_same_daily_amount_in_other_words_moves_nothing(patient, prescriber, time_machine):
    time_machine.move_to("2026-03-01 09:00")
    med = _filled(prescriber, patient, strength="50 mg")
    time_machine.move_to("2026-03-11 09:00")
    med = _change(prescriber, med, directions="every morning")
    assert (med.run_out_on, med.refill_needed_by) == (date(2026, 3, 31), date(2026, 3, 24))


def test_an_unmeasurable_change_keeps_the_date_and_tells_only_the_prescriber(
    client, patient, patient_user, prescriber, time_machine
):
    time_machine.move_to("2026-03-01 09:00")
    med = _filled(prescriber, patient, strength="50 mg")
    time_machine.move_to("2026-03-11 09:00")
    med = _change(prescriber, med, dose="2 tablets", directions="as directed by the clinic")
    assert med.run_out_on == date(2026, 3, 31)

    note = "Run-out not recalculated after the dose change: say how many a day"
    client.force_login(prescriber)
    for url in (
        reverse("medications", args=[patient.uuid]),
        reverse("medication_detail", args=[med.uuid]),
        reverse("visit", args=[patient.uuid]),
    ):
        assert note in _text(client.get(url)), url
    client.force_login(patient_user)
    for url in (
        reverse("medications", args=[patient.uuid]),
        reverse("medication_detail", args=[med.uuid]),
        reverse("patient_home"),
        reverse("medications_pdf", args=[patient.uuid]),
    ):
        assert "recalculated" not in _text(client.get(url)), url


def test_a_fill_recorded_after_a_same_day_dose_change_is_for_the_new_dose(
    patient, prescriber, time_machine
):
    time_machine.move_to("2026-03-01 09:00")
    med = _start(prescriber, patient, strength="50 mg")
    med = _change(prescriber, med, dose="2 tablets")
    time_machine.move_to("2026-03-01 10:00")
    rx = services.prescription_write(
        actor=prescriber, medication=med, quantity=60, days_supply=30, refills_authorised=3
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
    med.refresh_from_db()
    assert med.run_out_on == date(2026, 3, 31)
