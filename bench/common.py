"""What the benchmarks share: the scratch database, the framework's floor page, timing
through Django's test client, and the table every figure is printed in.

Import after django.setup() (each script sets up Django first, as the others do).

- The database named in DATABASE_URL is emptied by the benchmarks: its name must contain
  "bench", or nothing runs; on PostgreSQL it is created when missing.
- The floor is a signed-in view on the full middleware stack that runs one query and renders
  the base template padded to the size of the page it is compared with: what any signed-in
  page of that size costs before it does its own work.
- Times are medians of many requests (after a warm one), in rounds that alternate the page
  and its floor, so that a burst of other work on the machine lands on both.
"""

import os
import re
import statistics
import sys
import time
import warnings
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path

# Static files are not collected for a benchmark: WhiteNoise's warning says so on every run.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

FLOOR_URL = "/bench-floor/"
FLOOR_TEMPLATE = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<div>{{ filler }}</div>{% endblock %}'
)
_FLOOR = {"pad": 0}

# Rounds of requests, alternating the page and its floor; a median over all of them.
ROUNDS = int(os.environ.get("BENCH_PAGE_ROUNDS", "12"))
PER_ROUND = int(os.environ.get("BENCH_PAGE_REQUESTS", "5"))


def floor(request):
    from core.models import Patient

    Patient.objects.filter(pk=1).exists()  # the one query
    return HttpResponse(FLOOR_TEMPLATE.render({"filler": "x" * _FLOOR["pad"]}, request))


urlpatterns = [path(FLOOR_URL.strip("/") + "/", floor), path("", include("config.urls"))]


def served(**more):
    """The pages as served, plus the floor: what every page benchmark runs under."""
    return override_settings(
        ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"], DEBUG=False, **more
    )


# -- the database ---------------------------------------------------------------------------


def database_label() -> str:
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return f"sqlite {db['NAME']}"
    where = f"{db.get('HOST') or 'local socket'}:{db.get('PORT') or 5432}"
    return f"{connection.vendor} {db['NAME']} at {where} as {db.get('USER') or '(default user)'}"


def scratch_database() -> str:
    """The database DATABASE_URL names, made ready to be emptied: refused unless its name
    contains "bench", created (on PostgreSQL) when it does not exist. Returns its label."""
    db = settings.DATABASES["default"]
    name = Path(str(db["NAME"])).name
    if "bench" not in name:
        sys.exit(
            f"Refusing to run: the benchmarks empty the database they are given, and "
            f"{name!r} is not named for benchmarks (its name must contain 'bench'). "
            "Set DATABASE_URL (or BENCH_DATABASE_URL for make) to e.g. "
            "postgres://postgres@127.0.0.1:5432/concord_bench."
        )
    if connection.vendor == "postgresql":
        import psycopg
        from psycopg import sql

        server = {
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "dbname": "postgres",
        }
        with psycopg.connect(**server, autocommit=True) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if exists.fetchone() is None:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"(created database {name})", flush=True)
    return database_label()


def migrate() -> None:
    call_command("migrate", verbosity=0)


def empty_database() -> None:
    """Everything out of the benchmark's own database: flush TRUNCATEs (DELETEs on SQLite)
    the append-only tables too, which their guard refuses, so lift the guards around it
    (here only, never in the app)."""
    from core.db import APPEND_ONLY_TABLES, drop_append_only, install_append_only

    for table in APPEND_ONLY_TABLES:
        drop_append_only(table)
    try:
        call_command("flush", verbosity=0, interactive=False)
    finally:
        for table in APPEND_ONLY_TABLES:
            install_append_only(table)


# -- timing ---------------------------------------------------------------------------------


def get(client, url):
    """One GET as an operation for `interleaved`: returns its seconds; anything but 200 stops."""

    def operation():
        started = time.perf_counter()
        response = client.get(url)
        spent = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        return spent

    return operation


def size_floor_as(client, url) -> int:
    """Pad the floor to the size of `url`'s page, as `client` receives it; returns the size."""
    target = len(client.get(url).content)
    _FLOOR["pad"] = 0
    bare = len(client.get(FLOOR_URL).content)
    _FLOOR["pad"] = max(target - bare, 0)
    return target


def floor_operation(client, url=None):
    """The floor for `client`, padded to the size of `url`'s page (bare when None). The pad
    is set when the operation runs, so floors of different sizes can share rounds."""
    if url is None:
        pad = 0
    else:
        size_floor_as(client, url)
        pad = _FLOOR["pad"]
    fetch = get(client, FLOOR_URL)

    def operation():
        _FLOOR["pad"] = pad
        return fetch()

    return operation


def interleaved(operations: dict, rounds: int = 0, per_round: int = 0) -> dict[str, float]:
    """Median milliseconds of each operation (a callable returning the seconds to count),
    each warmed once, then run `per_round` times per round, all operations in every round."""
    rounds = rounds or ROUNDS
    per_round = per_round or PER_ROUND
    samples = {name: [] for name in operations}
    for operation in operations.values():
        operation()  # warm
    for _ in range(rounds):
        for name, operation in operations.items():
            samples[name].extend(operation() for _ in range(per_round))
    return {name: statistics.median(times) * 1000 for name, times in samples.items()}


def queries(operation) -> int:
    """Queries one run of `operation` sends to the database (counted apart from the timing)."""
    with CaptureQueriesContext(connection) as captured:
        operation()
    return len(captured)


# -- the table ------------------------------------------------------------------------------

_BOUND = re.compile(r"(≤|<=|<)\s*([0-9][0-9.,]*)")


def row(
    name: str,
    measured: float | None,
    floor: float | None = None,
    *,
    target: str = "",
    queries: int | str | None = None,
    unit: str = "ms",
    detail: str = "",
    passed: bool | None = None,
) -> dict:
    """One line of the table. The ratio is measured ÷ floor; whether it passes is read from
    the target ("≤ 3×", "< 50 MB": against the ratio, or against the measure when there is no
    floor) unless `passed` says otherwise; no target, no mark."""
    ratio = measured / floor if measured is not None and floor else None
    if passed is None and target:
        passed = meets(ratio if ratio is not None else measured, target)
    return {
        "name": name,
        "measured": measured,
        "floor": floor,
        "unit": unit,
        "ratio": ratio,
        "target": target,
        "passed": passed,
        "queries": queries,
        "detail": detail,
    }


def meets(value: float | None, target: str) -> bool | None:
    """Does `value` meet a target written as "≤ 3×" or "< 50 MB"? None when it cannot say."""
    bound = _BOUND.search(target or "")
    if value is None or bound is None:
        return None
    limit = float(bound.group(2).replace(",", ""))
    return value < limit if bound.group(1) == "<" else value <= limit


def _number(value, unit="") -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:,.2f}{unit and ' ' + unit}"


MARKS = {True: "ok", False: "MISS", None: ""}


def table(sections: list[tuple[str, list[dict]]]) -> str:
    """The rows of every section as one table: mark, name, measured, floor, ratio, target,
    queries, and what the row measured (detail)."""
    head = ("", "measure", "measured", "floor", "ratio", "target", "queries")
    lines = []
    body = []
    for title, rows in sections:
        body.append(title)
        for r in rows:
            ratio = r.get("ratio")
            body.append(
                (
                    MARKS[r.get("passed")],
                    r["name"],
                    _number(r.get("measured"), r.get("unit", "ms")),
                    _number(r.get("floor"), r.get("unit", "ms")),
                    "—" if ratio is None else f"{ratio:.2f}×",
                    r.get("target") or "—",
                    "—" if r.get("queries") is None else str(r["queries"]),
                    r.get("detail") or "",
                )
            )
    widths = [
        max(len(head[i]), *(len(b[i]) for b in body if isinstance(b, tuple)))
        for i in range(len(head))
    ]

    def cells(values):
        name_and_mark = f"{values[0]:<4} {values[1]:<{widths[1]}}"
        numbers = "  ".join(f"{v:>{w}}" for v, w in zip(values[2:7], widths[2:7], strict=True))
        return f"{name_and_mark}  {numbers}"

    lines.append(cells(head))
    lines.append("-" * len(lines[0]))
    for b in body:
        if isinstance(b, str):
            lines.append(f"[{b}]")
            continue
        lines.append(cells(b))
        if b[7]:
            lines.append(f"{'':<5}  {b[7]}")
    return "\n".join(lines)


def summary(sections: list[tuple[str, list[dict]]]) -> str:
    rows = [r for _, rs in sections for r in rs]
    missed = [r["name"] for r in rows if r.get("passed") is False]
    marked = [r for r in rows if r.get("passed") is not None]
    if not missed:
        return f"All {len(marked)} targets met."
    return f"{len(marked) - len(missed)} of {len(marked)} targets met; MISSED: " + "; ".join(missed)


def print_table(title: str, sections: list[tuple[str, list[dict]]]) -> None:
    print(title)
    print(table(sections))
    print(summary(sections))
