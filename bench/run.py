"""`make bench`: every benchmark in one process, then one table of ratios, each against its
floor measured on the same machine in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/concord_bench python bench/run.py

The database named must contain "bench" in its name (the benchmarks empty it); it is created
when missing. In order: the visit screen (bench/visit_screen.py); the history page, a check-in
sent and the medication page (bench/pages.py); what the middleware costs of the floor
(bench/middleware_share.py); the refill sweep (bench/nudge_sweep.py); the audit pages at
scale (bench/audit_scale.py, when it exists; BENCH_AUDIT_ROWS sizes it). Each script also
runs alone and prints its own rows.

A row whose ratio misses its target is marked MISS; the run still exits 0 (benchmarks are
not tests). It exits 1 only when a benchmark could not run at all (its row says why).
"""

import importlib
import importlib.util
import os
import platform
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CONCORD_PROFILE", "test")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench import common, middleware_share, nudge_sweep, pages, visit_screen  # noqa: E402

AUDIT_MODULE = "bench.audit_scale"
AUDIT_NAME = "audit pages at 10M ÷ 10k audit rows"


def audit_rows(database_url: str) -> list[dict]:
    """The audit pages at scale, from bench/audit_scale.py's `run(database_url)` when the
    module exists; its rows are {"name", "ratio", "target", "queries", "detail"}."""
    if importlib.util.find_spec(AUDIT_MODULE) is None:
        return [common.row(AUDIT_NAME, None, detail="not measured (bench/audit_scale.py missing)")]
    module = importlib.import_module(AUDIT_MODULE)
    return [foreign_row(r) for r in module.run(database_url)]


def foreign_row(r: dict) -> dict:
    """A row given as name, ratio, target, queries, detail (and perhaps more) as a table row."""
    target = r.get("target") or ""
    if isinstance(target, int | float):
        target = f"≤ {target:g}×"
    ratio = r.get("ratio")
    passed = r.get("passed")
    return {
        "name": r["name"],
        "measured": r.get("measured"),
        "floor": r.get("floor"),
        "unit": r.get("unit", "ms"),
        "ratio": ratio,
        "target": target,
        "passed": common.meets(ratio, target) if passed is None else passed,
        "queries": r.get("queries"),
        "detail": r.get("detail") or "",
    }


def collect(
    *,
    history: int = 50,
    sweep_total: int = 100_000,
    sweep_due: int = 10_000,
    rounds: int = 0,
    per_round: int = 0,
    middleware: bool = True,
    audit: bool = True,
    log=print,
) -> tuple[list[tuple[str, list[dict]]], bool]:
    """Every benchmark, in one process, in sequence: ([(section, rows)], all ran). A
    benchmark that fails leaves a row saying so and the others still run."""
    parts = [
        ("visit screen", lambda: visit_screen.measure(rounds=rounds, per_round=per_round)),
        (
            "pages",
            lambda: pages.measure(history=history, rounds=rounds, per_round=per_round),
        ),
    ]
    if middleware:
        parts.append(
            (
                "middleware: the floor without each; share = 1 − ratio (no targets)",
                middleware_share.table_rows,
            )
        )
    parts.append(("refill sweep", lambda: nudge_sweep.rows(sweep_total, sweep_due)))
    if audit:
        parts.append(("audit pages", lambda: audit_rows(os.environ.get("DATABASE_URL", ""))))
    sections, all_ran = [], True
    for title, part in parts:
        started = time.monotonic()
        log(f"... {title}", flush=True)
        try:
            rows = part()
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the rest
            traceback.print_exc()
            rows = [common.row(title, None, detail=f"FAILED to run: {exc!r}")]
            all_ran = False
        log(f"    {time.monotonic() - started:.0f} s", flush=True)
        sections.append((title, rows))
    return sections, all_ran


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def header(label: str, load_before: str, load_after: str, seconds: float) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT 1")
        server = cursor.fetchone()[0]
    server = server.split(" on ")[0] if isinstance(server, str) else connection.vendor
    return "\n".join(
        [
            f"Concord benchmarks, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, one run "
            f"of {seconds / 60:.1f} min",
            f"machine: {platform.node()}, nproc {len(os.sched_getaffinity(0))}, load average (1/5/15 min) "
            f"{load_before} before, {load_after} after",
            f"database: {label} ({server}); emptied and rebuilt",
            f"Python {platform.python_version()}, Django {django.get_version()}",
            "pages: Django's test client in-process (no network, no web server), full "
            "middleware stack, signed in; medians of "
            f"{common.ROUNDS} rounds × {common.PER_ROUND} requests after a warm one, page and "
            "floor alternating",
            "floor: a signed-in view, one query, the base template padded to the page's size, "
            "same client, same run; ratio = measured ÷ floor (or ÷ the row's own reference)",
        ]
    )


def main() -> int:
    label = common.scratch_database()
    common.migrate()
    load_before = _load()
    started = time.monotonic()
    sections, all_ran = collect(log=lambda *a, **k: print(*a, file=sys.stderr, **k))
    load_after = _load()
    print()
    print(header(label, load_before, load_after, time.monotonic() - started))
    print()
    print(common.table(sections))
    print()
    print(common.summary(sections) + " (benchmarks are not tests: a MISS does not fail the run)")
    return 0 if all_ran else 1


if __name__ == "__main__":
    sys.exit(main())
