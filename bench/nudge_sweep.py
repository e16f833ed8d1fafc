"""Refill sweep against a bare SQL query, on PostgreSQL: prints ratios and peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/concord_bench python bench/nudge_sweep.py [total] [due]

Builds `total` active medications (default 100,000), `due` of which (default 10,000) reach
their reminder window today, then measures in one run:
- selecting the due reminders (the sweep's query) ÷ one bare SQL query selecting the same rows;
- the whole sweep (selection and the idempotent insert of the reminders) ÷ the same bare query;
- peak Python memory of the sweep, at full size and at a tenth of the size (it should not grow
  with the table, only with the number due).
The database named in DATABASE_URL is emptied and rebuilt.
"""

import os
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CONCORD_PROFILE", "test")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402


def build(total: int, due: int):
    from core.db import APPEND_ONLY_TABLES, drop_append_only, install_append_only
    from core.models import Nudge, Patient, Practice, Role, User
    from prescribing.models import Medication

    # The benchmark's own database: CASCADE reaches the audit trail, whose guard refuses
    # TRUNCATE; lift the guards around this one statement (here only, never in the app).
    for table in APPEND_ONLY_TABLES:
        drop_append_only(table)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE prescribing_medication, core_nudge, core_patient, core_user, "
                "core_practice CASCADE"
            )
    finally:
        for table in APPEND_ONLY_TABLES:
            install_append_only(table)
    practice = Practice.objects.create(name="Bench Psychiatry", kind="psychiatry")
    prescriber = User.objects.create(
        email="bench-prescriber@example.test",
        full_name="P",
        role=Role.PRESCRIBER,
        practice=practice,
    )
    today = date.today()
    batch = 10_000
    for start in range(0, total, batch):
        count = min(batch, total - start)
        users = User.objects.bulk_create(
            [
                User(
                    email=f"b{start + i}@example.test",
                    full_name="x",
                    role=Role.PATIENT,
                    password="!",
                )
                for i in range(count)
            ]
        )
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    given_name="B",
                    family_name=str(start + i),
                    date_of_birth=date(1980, 1, 1),
                    user=u,
                )
                for i, u in enumerate(users)
            ]
        )
        Medication.objects.bulk_create(
            [
                Medication(
                    patient=p,
                    practice=practice,
                    author=prescriber,
                    prescriber=prescriber,
                    drug_name="Sertraline",
                    strength="50 mg",
                    form="tablet",
                    dose="1",
                    directions="daily",
                    refills_left=3,
                    # The first `due` are in the reminder window; the rest far from it.
                    refill_needed_by=today + timedelta(days=2 if start + i < due else 40),
                    run_out_on=today + timedelta(days=9 if start + i < due else 47),
                )
                for i, p in enumerate(patients)
            ]
        )
    Nudge.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


BARE_SQL = """
SELECT m.uuid, p.user_id, m.prescriber_id, m.refill_needed_by
FROM prescribing_medication m JOIN core_patient p ON p.id = m.patient_id
WHERE m.status = 'active' AND m.refill_needed_by BETWEEN %s AND %s AND p.user_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM prescribing_refillrequest r WHERE r.medication_id = m.id AND r.status IN ('requested', 'approved'))
"""


def best_of(runs: int, fn):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(total: int, due: int) -> dict:
    from core import nudges
    from core.models import Nudge
    from prescribing import selectors

    build(total, due)
    today = date.today()

    def bare():
        with connection.cursor() as cursor:
            cursor.execute(BARE_SQL, [today, today + timedelta(days=selectors.REMIND_DAYS_BEFORE)])
            return cursor.fetchall()

    rows = bare()
    assert len(rows) == due, (len(rows), due)
    bare_time = best_of(5, bare)
    select_time = best_of(5, lambda: selectors.refill_nudge_candidates(on=today))

    def full_sweep():
        Nudge.objects.all().delete()
        nudges.schedule(selectors.refill_nudge_candidates(on=today))

    sweep_time = best_of(3, full_sweep)
    tracemalloc.start()
    full_sweep()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert Nudge.objects.count() == due
    return {"bare": bare_time, "select": select_time, "sweep": sweep_time, "peak": peak}


def main():
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    due = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL.")
    call_command("migrate", verbosity=0)
    small = measure(total // 10, due // 10)
    full = measure(total, due)
    print(f"refill sweep over {total:,} active medications, {due:,} due")
    print(f"  bare SQL selecting the due rows:        {full['bare'] * 1000:8.1f} ms")
    print(
        f"  sweep selection (candidates):           {full['select'] * 1000:8.1f} ms   ratio {full['select'] / full['bare']:.2f}"
    )
    print(
        f"  whole sweep (selection + insert once):  {full['sweep'] * 1000:8.1f} ms   ratio {full['sweep'] / full['bare']:.2f}"
    )
    print(
        f"  peak memory of the sweep: {full['peak'] / 1e6:.1f} MB at {total:,} ({due:,} due); "
        f"{small['peak'] / 1e6:.1f} MB at {total // 10:,} ({due // 10:,} due)"
    )
    print(
        f"  memory per due reminder: {full['peak'] / due:.0f} B at full size, {small['peak'] / (due // 10):.0f} B at a tenth"
    )


if __name__ == "__main__":
    main()
