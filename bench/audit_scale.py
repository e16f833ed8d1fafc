"""The audit trail at scale: the pages that read it with 10 million rows against 10 thousand.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/concord_bench python bench/audit_scale.py
    python bench/audit_scale.py --large 1000000        # a quicker run

PostgreSQL only. The database named (BENCH_DATABASE_URL, else DATABASE_URL) is emptied and
rebuilt, so its name must contain "bench". Audit rows are written with generate_series in
SQL, not the ORM, spread over twelve monthly partitions (one a month, as beat makes them):
thousands of patients read by hundreds of clinicians, and one patient whose own history is
the same at both sizes (a year of care: her care team, a colleague under a release, lists).

Measured through Django's test client, signed in, median of many requests, at 10 thousand
rows and again after the table has grown to 10 million (the rest is loaded with the
secondary indexes dropped, rebuilt after, then VACUUM ANALYZE, as a table filled over a year
would be):
- the patient's "who has seen my record" page, and its disclosures tab;
- the clinic admin's audit search: the newest events, and a search by one patient's name, by
  a name shared by many patients, and by a clinician's e-mail.
The target for each ratio (10M ÷ 10K) is 1.5 at most; the query counts must not change.

`run(database_url)` returns one dict per page (name, ratio, target, queries, detail), run in
a child process so that the caller's own Django settings are left alone.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.5
SMALL = 10_000
LARGE = 10_000_000
RUNS = 40
MONTHS = 12
BACKGROUND_PATIENTS = 20_000
CLINICIANS = 400


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""


def refuse_unless_scratch(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if parsed.scheme not in ("postgres", "postgresql", "pgsql") or "bench" not in name:
        raise SystemExit(
            "audit_scale empties the database it is given: set BENCH_DATABASE_URL (or "
            "DATABASE_URL) to a PostgreSQL database whose name contains 'bench'."
        )


def run(database_url: str, *, large: int = LARGE) -> list[dict]:
    """The benchmark in a child process; one row per page measured."""
    refuse_unless_scratch(database_url)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BENCH_DATABASE_URL": database_url,
        "CONCORD_PROFILE": "test",
    }
    result = subprocess.run(  # noqa: S603 - this script, with our own arguments
        [sys.executable, __file__, "--json", "--large", str(large)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"audit_scale failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- In the child process ----------------------------------------------------------------


def _setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("CONCORD_PROFILE", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _reset_and_migrate():
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE")
        cursor.execute("CREATE SCHEMA public")
    call_command("migrate", verbosity=0)


def _people():
    """An admin, one patient with her care team and a colleague under a release, and the
    background: thousands of patients and hundreds of clinicians."""
    from datetime import date

    from core.models import Patient, User
    from tests import factories

    admin = factories.AdminFactory(email="admin@bench.example")
    patient_user = factories.PatientUserFactory(full_name="Dana Measured")
    patient = factories.PatientFactory(given_name="Dana", family_name="Measured", user=patient_user)
    team = [factories.PrescriberFactory(), factories.TherapistFactory()]
    for clinician in team:
        factories.MembershipFactory(patient=patient, clinician=clinician)
    colleague = factories.TherapistFactory(full_name="Robin Released")
    practice = team[0].practice
    User.objects.bulk_create(
        [
            User(
                email=f"clinician{i}@bench.example",
                full_name=f"Clinician {i}",
                role="prescriber" if i % 2 else "therapist",
                practice=practice,
                password="!",  # noqa: S106 - unusable: nobody signs in as them
            )
            for i in range(CLINICIANS)
        ],
        batch_size=2000,
    )
    Patient.objects.bulk_create(
        [
            Patient(
                given_name=f"Given{i}", family_name=f"Family{i}", date_of_birth=date(1980, 1, 1)
            )
            for i in range(BACKGROUND_PATIENTS)
        ],
        batch_size=5000,
    )
    return admin, patient_user, patient, team, colleague


def _span():
    """The twelve months the rows cover: from the first of the month a year ago to now."""
    from datetime import UTC, datetime, timedelta

    from core import audit_partitions

    now = datetime.now(UTC)
    first = now.date().replace(day=1)
    for _ in range(MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    made = audit_partitions.ensure(first_month=first, months=MONTHS + audit_partitions.AHEAD)
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    return start, now, made


def _patient_history(patient, team, colleague, start, end):
    """The measured patient's year: on 8 days a month her care team reads her record, with
    the lists that showed her (audited without a reason, same request), and in one month of
    three a colleague reads it under a release. Same rows at both sizes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO core_auditevent (chain, seq, at, actor_role, category, action,
                object_type, object_id, outcome, via, request_id, ip, prev_hash, hash,
                actor_id, patient_id, v)
            SELECT 'bench-history', n, at, 'prescriber', cat, act, '', '', 'allowed', via,
                   'req-' || (n / 2), NULL::inet, md5(n::text), md5((n + 1)::text), actor, %s, 2
            FROM (
                SELECT row_number() OVER () AS n, *
                FROM generate_series(0, %s - 1) m,
                     generate_series(0, 7) d,
                     LATERAL (VALUES
                        (%s, 'medications', 'read', 'care_team'),
                        (%s, 'profile', 'list', ''),
                        (%s, 'goals', 'read', 'care_team'),
                        (%s, 'alliance', 'read', 'care_team')
                     ) r(actor, cat, act, via),
                     LATERAL (SELECT %s::timestamptz + make_interval(months => m, days => 3 * d,
                                     hours => 9) AS at) t
                WHERE t.at < %s
            ) rows
            UNION ALL
            SELECT 'bench-history', 10000 + m, %s::timestamptz + make_interval(months => m,
                   days => 20, hours => 14), 'therapist', 'medications', 'read', '', '',
                   'allowed', 'release:bench', 'req-rel-' || m, NULL::inet, md5(m::text),
                   md5(m::text), %s, %s, 2
            FROM generate_series(0, %s - 1, 3) m
            WHERE %s::timestamptz + make_interval(months => m, days => 20) < %s
            """,
            [
                patient.pk,
                MONTHS,
                team[0].pk,
                team[0].pk,
                team[1].pk,
                team[1].pk,
                start,
                end,
                start,
                colleague.pk,
                patient.pk,
                MONTHS,
                start,
                end,
            ],
        )
        cursor.execute("SELECT count(*) FROM core_auditevent WHERE patient_id = %s", [patient.pk])
        return cursor.fetchone()[0]


def _background(first: int, last: int, start, end):
    """Background rows numbered first..last, evenly over [start, end) in time order (as they
    are appended): reads, lists and the odd refusal of thousands of patients."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id), count(*) FROM core_patient")
        p0, p1, patients = cursor.fetchone()
        cursor.execute(
            "SELECT min(id), max(id), count(*) FROM core_user WHERE email LIKE 'clinician%%'"
        )
        a0, a1, actors = cursor.fetchone()
    assert p1 - p0 + 1 == patients and a1 - a0 + 1 == actors, "ids not contiguous"
    seconds = (end - start).total_seconds()
    step = 1_000_000
    for lo in range(first, last + 1, step):
        hi = min(lo + step - 1, last)
        with transaction.atomic(), connection.cursor() as cursor:
            # Scratch data, consistent by construction: the foreign keys' per-row checks are
            # skipped while loading (a superuser's setting, for this transaction only).
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                """
                INSERT INTO core_auditevent (chain, seq, at, actor_role, category, action,
                    object_type, object_id, outcome, via, request_id, ip, prev_hash, hash,
                    actor_id, patient_id, v)
                SELECT 'bench-' || p, g, %s::timestamptz + ((g - %s)::float8 / %s) * %s
                           * interval '1 second',
                       'prescriber',
                       (ARRAY['medications','goals','profile','alliance','summary'])[1 + g %% 5],
                       CASE WHEN g %% 17 = 0 THEN 'list' ELSE 'read' END, '', '',
                       CASE WHEN g %% 97 = 0 THEN 'denied' ELSE 'allowed' END,
                       CASE WHEN g %% 97 = 0 THEN '' ELSE 'care_team' END,
                       md5(g::text), NULL, md5((g - 1)::text), md5(g::text),
                       %s + (g * 31) %% %s, %s + p, 2
                FROM generate_series(%s::bigint, %s::bigint) g,
                     LATERAL (SELECT (g * 7919) %% %s AS p) x
                """,
                [start, first, last - first + 1, seconds, a0, actors, p0, lo, hi, patients],
            )


SECONDARY = ("audit_actor_at", "audit_at", "audit_chain_seq", "audit_patient_at")


def _drop_secondary_indexes():
    """Loaded without them (they are rebuilt after): the definitions, to rebuild."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'core_auditevent' "
            "AND indexname <> 'core_auditevent_pkey'"
        )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f"DROP INDEX {name}")
    return found


def _rebuild(indexes):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition.replace(" ON ONLY ", " ON "))
        cursor.execute("VACUUM (ANALYZE) core_auditevent")


def _pages(admin, patient_user, team):
    from django.urls import reverse

    search = reverse("audit_search")
    return [
        ("who has seen my record", patient_user, reverse("record_views"), {}),
        (
            "who has seen my record: disclosures",
            patient_user,
            reverse("record_views"),
            {"show": "disclosures"},
        ),
        ("audit search: newest", admin, search, {}),
        ("audit search: a patient", admin, search, {"patient": "Measured"}),
        # "Family1" matches over a thousand patients: the search that walks back from now.
        ("audit search: a common name", admin, search, {"patient": "Family1"}),
        ("audit search: a clinician", admin, search, {"email": team[1].email}),
    ]


def _measure(worlds: dict, runs: int) -> dict:
    """Each page in both databases, one request in each in turn, so that whatever else the
    machine is doing slows both alike. {page: {world: (median ms, queries, bytes)}}."""
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    for world, (conn, pages) in worlds.items():
        connections["default"] = conn
        for name, user, url, params in pages:
            client = Client()
            client.force_login(user)
            clients[world, name] = (client, url, params)
    results: dict = {}
    names = [name for name, *_ in next(iter(worlds.values()))[1]]
    for name in names:
        times: dict = {world: [] for world in worlds}
        for world, (conn, _) in worlds.items():
            connections["default"] = conn
            client, url, params = clients[world, name]
            for _ in range(3):
                assert client.get(url, params).status_code == 200, url
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, params)
            results.setdefault(name, {})[world] = [len(captured.captured_queries), 0]
        for _ in range(runs):
            for world, (conn, _) in worlds.items():
                connections["default"] = conn
                client, url, params = clients[world, name]
                started = time.perf_counter()
                response = client.get(url, params)
                times[world].append(time.perf_counter() - started)
                assert response.status_code == 200, (url, response.status_code)
                results[name][world][1] = len(response.content)
        for world in worlds:
            queries, size = results[name][world]
            results[name][world] = (statistics.median(times[world]) * 1000, queries, size)
    return results


def _rows() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM core_auditevent")
        return cursor.fetchone()[0]


def _build(rows: int, log) -> tuple:
    """The world of one database: migrated afresh, its people, `rows` audit rows."""
    from django.db import connection

    _reset_and_migrate()
    admin, patient_user, patient, team, colleague = _people()
    start, end, _ = _span()
    history = _patient_history(patient, team, colleague, start, end)
    bulk = rows > 100_000
    indexes = _drop_secondary_indexes() if bulk else []
    loading = time.monotonic()
    _background(1, rows - history, start, end)
    if bulk:
        log(f"{rows:,} rows loaded in {time.monotonic() - loading:.0f} s; rebuilding indexes")
        _rebuild(indexes)
    else:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) core_auditevent")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT tableoid) FROM core_auditevent WHERE at >= %s AND at < %s",
            [start, end],
        )
        months = cursor.fetchone()[0]
    return _pages(admin, patient_user, team), _rows(), months, history


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--large", type=int, default=LARGE, help="Rows of the large run.")
    parser.add_argument("--runs", type=int, default=RUNS, help="Requests per page and size.")
    parser.add_argument("--json", action="store_true", help="One JSON line (for run()).")
    args = parser.parse_args(argv)
    url = database_url()
    refuse_unless_scratch(url)
    os.environ["DATABASE_URL"] = url
    _setup()
    from django.db import connection, connections
    from django.db.backends.postgresql.base import DatabaseWrapper
    from django.test.utils import override_settings

    began = time.monotonic()

    def log(text):
        if not args.json:
            print(f"[{time.monotonic() - began:5.0f} s] {text}", flush=True)

    if connection.vendor != "postgresql":
        raise SystemExit("audit_scale needs PostgreSQL.")
    large_conn = connections["default"]
    # The small world in a database of its own beside the one named (same server, its name
    # with _small added: a scratch one too), so that both are measured in turn.
    small_name = f"{large_conn.settings_dict['NAME']}_small"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [small_name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{small_name}"')
    small_conn = DatabaseWrapper({**large_conn.settings_dict, "NAME": small_name}, "default")

    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
        connections["default"] = small_conn
        small_pages, small_rows, _, history = _build(SMALL, log)
        log(f"{small_rows:,} audit rows in {small_name} ({history} of the measured patient)")
        connections["default"] = large_conn
        large_pages, large_rows, months, _ = _build(args.large, log)
        log(f"{large_rows:,} audit rows in {months} monthly partitions; measuring")
        measured = _measure(
            {"small": (small_conn, small_pages), "large": (large_conn, large_pages)}, args.runs
        )
        connections["default"] = large_conn
        small_conn.close()

    results = []
    for name, worlds in measured.items():
        small_ms, small_q, size = worlds["small"]
        large_ms, large_q, _ = worlds["large"]
        results.append(
            {
                "name": f"audit at scale: {name}",
                "ratio": round(large_ms / small_ms, 2),
                "target": TARGET,
                "queries": large_q if large_q == small_q else f"{small_q} -> {large_q}",
                "detail": (
                    f"{small_ms:.1f} ms at {small_rows:,} rows, {large_ms:.1f} ms at "
                    f"{large_rows:,} ({months} months); median of {args.runs}; {size:,} bytes"
                ),
            }
        )
    if args.json:
        print(json.dumps(results))
        return
    print(f"\naudit trail at scale, PostgreSQL, median of {args.runs} requests per page")
    print(f"  built and measured in {time.monotonic() - began:.0f} s")
    for row in results:
        verdict = "ok" if row["ratio"] <= row["target"] else "OVER TARGET"
        print(
            f"  {row['name']:<55} ratio {row['ratio']:5.2f} (target <= {row['target']}) "
            f"{verdict}; {row['queries']} queries; {row['detail']}"
        )


if __name__ == "__main__":
    main()
