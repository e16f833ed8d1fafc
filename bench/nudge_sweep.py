"""Refill sweep against a bare SQL query, on PostgreSQL: prints ratios and peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/concord_bench python bench/nudge_sweep.py [total] [due]

Builds `total` active medications (default 100,000), `due` of which (default 10,000) reach
their reminder window today, then measures in one run:
- selecting the due reminders (the sweep's set-based query) ÷ one bare SQL query selecting the
  same rows;
- the whole sweep (one INSERT … SELECT … ON CONFLICT DO NOTHING) ÷ a bare SQL statement
  selecting and inserting the same rows (and ÷ the bare select);
- the Python path (SQLite's: a Candidate per row, bulk_create) for comparison;
- peak Python memory of the sweep, at full size and at a tenth of the size (flat: nothing per
  row is held in Python).
The database named in DATABASE_URL (its name must contain "bench") is emptied and rebuilt.
`make bench` prints these rows with the others (`rows()`).
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

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


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


BARE_INSERT = f"""
INSERT INTO core_nudge (kind, subject, due_on, recipient_id, title, link, essential, status,
                        deliver_after, attempts, last_error, created_at)
SELECT 'refill_ask_soon', b.uuid::text, b.refill_needed_by - 3, b.user_id, 'Time to ask for a refill',
       '/medications/' || b.uuid::text || '/refill/', false, 'pending', now(), 0, '', now()
FROM ({BARE_SQL}) b
ON CONFLICT DO NOTHING
"""  # noqa: S608 - our own constant


def best_of(runs: int, fn, setup=None):
    times = []
    for _ in range(runs):
        if setup:
            setup()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def peak_of(fn, setup) -> int:
    setup()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def measure(total: int, due: int) -> dict:
    from core import nudges
    from core.models import Nudge
    from prescribing import selectors

    build(total, due)
    today = date.today()
    window = [today, today + timedelta(days=selectors.REMIND_DAYS_BEFORE)]

    def empty():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_nudge")

    def bare():
        with connection.cursor() as cursor:
            cursor.execute(BARE_SQL, window)
            return cursor.fetchall()

    def bare_insert():
        with connection.cursor() as cursor:
            cursor.execute(BARE_INSERT, window)

    def set_select():
        parts, params = [], []
        for queryset in selectors.refill_nudge_rows(on=today):
            sql, part = queryset.query.sql_with_params()
            parts.append(f"({sql})")
            params.extend(part)
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            return cursor.fetchall()

    def set_sweep():
        nudges.schedule_sets(selectors.refill_nudge_rows(on=today))

    def python_sweep():
        nudges.schedule(selectors.refill_nudge_candidates(on=today))

    rows = bare()
    assert len(rows) == due, (len(rows), due)
    assert len(set_select()) == due
    result = {
        "bare": best_of(5, bare),
        "bare_insert": best_of(3, bare_insert, empty),
        "select": best_of(5, set_select),
        "sweep": best_of(3, set_sweep, empty),
        "py_select": best_of(3, lambda: selectors.refill_nudge_candidates(on=today)),
        "py_sweep": best_of(3, python_sweep, empty),
        "py_peak": peak_of(python_sweep, empty),
        "peak": peak_of(set_sweep, empty),
    }
    assert Nudge.objects.count() == due
    empty()
    with CaptureQueriesContext(connection) as sweep_queries:
        set_sweep()
    result["sweep_queries"] = len(sweep_queries)
    return result


def rows(total: int = 100_000, due: int = 10_000) -> list[dict]:
    """The sweep's rows for the table: selection ÷ bare select, whole ÷ bare insert, and peak
    memory (at full size, and at a tenth to show it flat)."""
    from bench import common

    if connection.vendor != "postgresql":
        return [common.row("refill sweep", None, detail="not measured: needs PostgreSQL")]
    small = measure(total // 10, due // 10)
    full = measure(total, due)
    ms = {key: full[key] * 1000 for key in ("bare", "bare_insert", "select", "sweep")}
    size = f"{total:,} active medicines, {due:,} due"
    return [
        common.row(
            "sweep selection ÷ bare select",
            ms["select"],
            ms["bare"],
            target="≤ 1.5×",
            queries=1,
            detail=f"{size}; best of 5; the Python path (SQLite's) "
            f"{full['py_select'] * 1000:.1f} ms, {full['py_select'] * 1000 / ms['bare']:.2f}×",
        ),
        common.row(
            "whole sweep ÷ bare insert",
            ms["sweep"],
            ms["bare_insert"],
            target="≤ 2×",
            queries=full["sweep_queries"],
            detail=f"one INSERT … SELECT … ON CONFLICT DO NOTHING, best of 3; "
            f"{ms['sweep'] / ms['bare']:.2f}× the bare select; the Python path "
            f"{full['py_sweep'] * 1000:.1f} ms, {full['py_sweep'] * 1000 / ms['bare_insert']:.2f}×",
        ),
        common.row(
            f"sweep peak memory at {total:,}",
            full["peak"] / 1e6,
            target="< 50 MB",
            unit="MB",
            detail=f"Python's peak (tracemalloc); {small['peak'] / 1e6:.2f} MB at {total // 10:,}; "
            f"the Python path {full['py_peak'] / 1e6:.1f} MB",
        ),
    ]


def main():
    from bench import common

    total = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    due = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL.")
    label = common.scratch_database()
    common.migrate()
    common.print_table(f"refill sweep, {label}; one run", [("refill sweep", rows(total, due))])


if __name__ == "__main__":
    main()
