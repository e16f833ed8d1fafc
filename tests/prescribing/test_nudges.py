"""Refill-timing nudges: set-based candidates, with frozen time."""

from datetime import date

import pytest
from django.core import mail

from core import nudges
from core.models import Nudge
from prescribing import selectors, services

pytestmark = pytest.mark.django_db


def _filled(
    prescriber, patient, *, schedule="none", refills=3, filled=date(2026, 3, 1), name="Sertraline"
):
    med = services.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name=name,
        strength="50 mg",
        form="tablet",
        dose="1",
        directions="daily",
        schedule=schedule,
        reason="r",
    )
    rx = services.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=refills
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=filled)
    med.refresh_from_db()
    return med


def kinds(on):
    return sorted((c.kind, c.due_on) for c in selectors.refill_nudge_candidates(on=on))


def test_patient_is_nudged_before_and_on_the_ask_by_date(patient, prescriber, time_machine):
    time_machine.move_to("2026-03-01 09:00")
    med = _filled(prescriber, patient)
    assert (med.run_out_on, med.refill_needed_by) == (date(2026, 3, 31), date(2026, 3, 24))
    assert kinds(date(2026, 3, 20)) == []
    assert kinds(date(2026, 3, 21)) == [("refill_ask_soon", date(2026, 3, 21))]
    assert kinds(date(2026, 3, 24)) == [
        ("refill_ask_soon", date(2026, 3, 21)),
        ("refill_ask_today", date(2026, 3, 24)),
    ]
    assert ("refill_overdue", date(2026, 3, 25)) in kinds(date(2026, 3, 25))


def test_an_open_request_stops_the_nudges(patient, prescriber, patient_user, time_machine):
    time_machine.move_to("2026-03-01 09:00")
    med = _filled(prescriber, patient)
    time_machine.move_to("2026-03-22 09:00")
    services.refill_request_create(actor=patient_user, medication=med)
    assert kinds(date(2026, 3, 24)) == []


def test_controlled_lead_time_moves_the_nudge_earlier(patient, prescriber, time_machine):
    time_machine.move_to("2026-03-02 09:00")  # a Monday
    ordinary = _filled(prescriber, patient, filled=date(2026, 3, 2))
    controlled = _filled(
        prescriber, patient, schedule="IV", refills=2, filled=date(2026, 3, 2), name="Clonazepam"
    )
    assert ordinary.refill_needed_by == date(2026, 3, 25)
    assert controlled.refill_needed_by == date(2026, 3, 18)  # ten working days before 1 April
    soon = {
        c.subject: c.due_on
        for c in selectors.refill_nudge_candidates(on=date(2026, 3, 16))
        if c.kind == "refill_ask_soon"
    }
    assert soon == {str(controlled.uuid): date(2026, 3, 15)}


def test_renewal_replaces_refill_when_no_refills_remain(patient, prescriber, time_machine):
    time_machine.move_to("2026-03-01 09:00")
    _filled(prescriber, patient, refills=0)
    assert kinds(date(2026, 3, 22)) == [("renewal_ask_soon", date(2026, 3, 21))]
    candidate = selectors.refill_nudge_candidates(on=date(2026, 3, 22))[0]
    assert candidate.title == "Time to ask for a new prescription"


def test_sweeping_three_times_sends_one_email_with_a_link_only(
    patient, prescriber, patient_user, time_machine
):
    from prescribing.tasks import sweep_refill_nudges

    time_machine.move_to("2026-03-01 09:00")
    med = _filled(prescriber, patient)
    time_machine.move_to("2026-03-22 10:00")
    for _ in range(3):
        sweep_refill_nudges()
    assert Nudge.objects.filter(recipient=patient_user).count() == 1
    assert len(mail.outbox) == 1
    assert f"/medications/{med.uuid}/refill/" in mail.outbox[0].body
    assert "Sertraline" not in mail.outbox[0].body


def test_dry_run_lists_without_sending(patient, prescriber, time_machine, capsys):
    from django.core.management import call_command

    time_machine.move_to("2026-03-01 09:00")
    _filled(prescriber, patient)
    time_machine.move_to("2026-03-22 10:00")
    call_command("nudges", "--dry-run")
    out = capsys.readouterr().out
    assert "refill_ask_soon" in out and "ask by 2026-03-24" in out
    assert "1 reminder(s) due; nothing was sent." in out
    assert not Nudge.objects.exists()
    nudges.deliver()
    assert mail.outbox == []
