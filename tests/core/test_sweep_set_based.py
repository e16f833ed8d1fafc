"""The set-based sweep (one INSERT … SELECT … ON CONFLICT DO NOTHING per rows function, on
PostgreSQL) schedules exactly what the Python path does, and a second sweep adds nothing."""

from datetime import date, timedelta

import pytest
from django.db import connection

from core import nudges
from core.models import Nudge
from prescribing import services

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the set-based sweep is PostgreSQL's"
    ),
]

COLUMNS = (
    "kind",
    "subject",
    "due_on",
    "recipient_id",
    "title",
    "link",
    "essential",
    "status",
    "attempts",
    "last_error",
    "sent_at",
    "notification_id",
)


def _filled(prescriber, patient, *, name, schedule="none", refills=3, filled=date(2026, 3, 1)):
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
    return med


def _scheduled() -> list[tuple]:
    return sorted(Nudge.objects.values_list(*COLUMNS))


@pytest.fixture
def medicines(patient, prescriber, patient_user, time_machine):
    """Refills, renewals (no refills left, schedule II), one with a request open, at two dates."""
    time_machine.move_to("2026-03-01 09:00")
    _filled(prescriber, patient, name="Sertraline")
    _filled(prescriber, patient, name="Bupropion", refills=0)
    _filled(prescriber, patient, name="Methylphenidate", schedule="II", refills=0)
    asked = _filled(prescriber, patient, name="Quetiapine")
    time_machine.move_to("2026-03-05 09:00")
    _filled(prescriber, patient, name="Lamotrigine", filled=date(2026, 3, 5))
    time_machine.move_to("2026-03-20 09:00")
    services.refill_request_create(actor=patient_user, medication=asked)


def test_the_set_based_sweep_schedules_what_the_python_path_does(medicines):
    seen = set()
    day = date(2026, 3, 10)
    while day <= date(2026, 4, 5):
        Nudge.objects.all().delete()
        by_python = nudges.sweep(on=day, set_based=False)
        python_rows = _scheduled()
        Nudge.objects.all().delete()
        by_sql = nudges.sweep(on=day, set_based=True)
        assert (by_sql, _scheduled()) == (by_python, python_rows), day
        seen.update(row[0] for row in python_rows)
        day += timedelta(days=1)
    # The comparison covered every swept refill kind.
    assert {
        "refill_ask_soon",
        "refill_ask_today",
        "renewal_ask_soon",
        "renewal_ask_today",
        "refill_overdue",
    } <= seen


def test_sweeping_twice_schedules_nothing_new(medicines):
    day = date(2026, 3, 25)
    due = nudges.sweep(on=day, set_based=True)
    first = _scheduled()
    assert due == len(first) > 0
    again = nudges.schedule_sets(
        nudges._KINDS["refill_ask_soon"].rows(on=day), kinds=nudges.kinds()
    )
    assert again[1] == 0 and again[0] > 0  # still due, nothing new
    assert nudges.sweep(on=day, set_based=True) == due
    assert nudges.sweep(on=day, set_based=False) == due
    assert _scheduled() == first


def test_the_set_based_sweep_leaves_a_sent_reminder_as_it_is(medicines):
    day = date(2026, 3, 25)
    nudges.sweep(on=day, set_based=True)
    sent = Nudge.objects.filter(kind="refill_overdue").first()
    assert sent is not None
    Nudge.objects.filter(pk=sent.pk).update(status=Nudge.Status.SENT)
    nudges.sweep(on=day, set_based=True)
    assert Nudge.objects.get(pk=sent.pk).status == Nudge.Status.SENT


def test_a_set_based_link_may_name_its_subject_only():
    with pytest.raises(ValueError):
        nudges.register(
            "nope",
            title="t",
            link="/patients/{patient}/",
            candidates=lambda on: [],
            rows=lambda on: [],
            every=15,
        )
    assert "nope" not in nudges._KINDS
