"""Load test: fifty people on Concord for a minute, against gunicorn, PostgreSQL and Redis.

    make loadtest
    .venv/bin/python bench/loadtest/run.py [--users 50] [--run-time 60] [--workers 3]

1. Drops and recreates a scratch database (`--database-url`, default concord_load), empties
   a scratch Redis database (`--redis-url`, default 13), migrates and collects static files.
2. Seeds a clinic through the domain services (see seed.py): 20 patients with goals,
   medicines, fills, notes, check-ins and releases; 15 prescribers and 15 therapists with
   TOTP set up.
3. Starts gunicorn on a free port of 127.0.0.1 and a Celery worker, with the production
   profile: Argon2, MFA required for clinicians, lockouts and rate limits as shipped. Only
   HTTPS is off (CONCORD_HTTPS=false: there is no TLS proxy here) and e-mail goes nowhere.
4. Runs locust in its own process, headless: clinicians reading (5 in 10 users), patients
   on their portal (3 in 10), writers (2 in 10), each pausing 2-8 s between actions
   (`--think`). Each person signs in once, TOTP included, from their own loopback address (`--addresses one`: all from 127.0.0.1; `--addresses
   forwarded`: through a reverse proxy's X-Forwarded-For, with PROXY_COUNT=1).
5. Stops the servers and reads the database: errors, p50/p95, writes acknowledged against
   rows stored, and the audit rows of every request that touched patient data.

Exits non-zero on any failed request, server error, lost, duplicated or phantom write, a
patient-data request without an audit row, or a broken audit chain. Logs and locust's CSV
files are left in `--out` (default .data/loadtest/).
"""

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
GROUPS = ["clinician", "patient", "write", "sign-in"]
MARKER = re.compile(r"\[(lt-[a-z]+-[0-9a-f]{20})\]")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--run-time", type=int, default=60, help="seconds")
    parser.add_argument(
        "--think", default="2-8", help="seconds each person pauses between actions (2-8)"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/concord_load"
        ),
        help="scratch database: dropped and recreated",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="scratch Redis database: emptied before and after",
    )
    parser.add_argument(
        "--addresses",
        choices=["own", "one", "forwarded"],
        default="own",
        help="own: each person connects from their own loopback address; one: everyone from"
        " 127.0.0.1 (one NAT); forwarded: from 127.0.0.1 with each person's address in"
        " X-Forwarded-For and PROXY_COUNT=1 (a reverse proxy)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / ".data" / "loadtest")
    return parser.parse_args()


# --- Set-up --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing an unusual scratch database name: {name!r}")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def empty_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def static_files_stale() -> bool:
    """Is collectstatic's manifest missing, or older than a source file? (Collecting takes
    most of a minute on a busy two-core machine, unchanged files included.)"""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return True
    newest = max(
        os.path.getmtime(storage.path(path))
        for finder in finders.get_finders()
        for path, storage in finder.list([])
    )
    return newest >= manifest.stat().st_mtime


def app_environment(args, port: int) -> dict:
    """The production profile, as documented in the README, minus HTTPS and outgoing mail."""
    return {
        "CONCORD_PROFILE": "production",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CONCORD_AUDIT_KEY": secrets.token_urlsafe(48),
        # Its own checkpoint file (in --out, emptied at the start): one database's trail.
        "CONCORD_AUDIT_CHECKPOINT_PATH": str(args.out / "audit-checkpoints.jsonl"),
        "CONCORD_MFA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONCORD_SITE_URL": f"http://127.0.0.1:{port}",
        "CONCORD_HTTPS": "false",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        "PROXY_COUNT": "1" if args.addresses == "forwarded" else "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


class Processes:
    """The servers this run starts, each in its own process group, stopped in reverse."""

    def __init__(self):
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list, log: Path, env: dict) -> subprocess.Popen:
        handle = log.open("w")
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running.append((name, proc))
        return proc

    def stop(self) -> None:
        while self.running:
            _name, proc = self.running.pop()
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited while starting: see gunicorn.log")
        try:
            with urllib.request.urlopen(url + "/health/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /health/ in time: see gunicorn.log")


class WaitSampler(threading.Thread):
    """Samples PostgreSQL's active backends for the run: how many, and what they wait on.
    Row locks (the audit chain heads, the rows a write changes) show as Lock waits."""

    def __init__(self, url: str, every: float = 0.25):
        super().__init__(daemon=True)
        self.url, self.every = url, every
        self.samples = 0
        self.active = 0
        self.waits: Counter = Counter()
        self._done = threading.Event()

    def run(self):
        import psycopg

        name = urlsplit(self.url).path.lstrip("/")
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._done.wait(self.every):
                rows = conn.execute(
                    "SELECT wait_event_type, wait_event FROM pg_stat_activity"
                    " WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()",
                    [name],
                ).fetchall()
                self.samples += 1
                self.active += len(rows)
                self.waits.update(f"{t}:{e}" for t, e in rows if t == "Lock")

    def stop(self) -> list[str]:
        self._done.set()
        self.join(timeout=5)
        n = max(self.samples, 1)
        locked = sum(self.waits.values())
        line = (
            f"  PostgreSQL: {self.samples} samples, {self.active / n:.2f} active backends on"
            f" average, {locked / n:.2f} waiting on a lock"
        )
        if locked:
            line += " (" + ", ".join(f"{k} {v}" for k, v in self.waits.most_common(3)) + ")"
        return [line]


# --- Reading the results -------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(p / 100 * len(sorted_values) + 0.5 - 1e-9))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def read_logs(out: Path) -> tuple[list[dict], list[dict], Counter]:
    """The locust processes' logs: requests, write outcomes, and other events by name."""
    requests, writes, events = [], [], Counter()
    for path in sorted(out.glob("requests-*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if "write" in record:
                writes.append(record)
            elif "event" in record:
                events[record["event"]] += 1
            else:
                requests.append(record)
    return requests, writes, events


def stored_markers() -> dict[str, Counter]:
    """Every write marker found in the database, by kind of record, with its row count."""
    from alliance.models import CheckIn
    from prescribing.models import Observation, RefillRequest
    from referrals.models import ThreadPost
    from stories.models import Goal, GoalRating

    fields = {
        "goal": (Goal, "what"),
        "rating": (GoalRating, "note"),
        "observation": (Observation, "text"),
        "checkin": (CheckIn, "open_answer"),
        "thread": (ThreadPost, "text"),
        "refill": (RefillRequest, "note"),
    }
    found = {}
    for kind, (model, field) in fields.items():
        counts = Counter()
        for text in model.objects.filter(**{f"{field}__contains": "[lt-"}).values_list(
            field, flat=True
        ):
            counts.update(MARKER.findall(text))
        found[kind] = counts
    return found


def check_writes(writes: list[dict]) -> tuple[list[str], int]:
    from prescribing.models import RefillRequest

    lines, problems = [], 0
    found = stored_markers()
    by_kind = defaultdict(list)
    for w in writes:
        by_kind[w["write"]].append(w)
    lines.append(
        f"  {'write':<22}{'acked':>7}{'stored':>8}{'lost':>6}{'dup':>5}"
        f"{'refused':>9}{'phantom':>9}{'unknown':>9}{'of which stored':>17}"
    )
    totals = Counter()
    for kind in sorted(by_kind):
        if kind.startswith("refill ") and kind != "refill":
            continue
        counts = found[kind]
        acked = [w["marker"] for w in by_kind[kind] if w["outcome"] == "acked"]
        refused = [w["marker"] for w in by_kind[kind] if w["outcome"] == "refused"]
        unknown = [w["marker"] for w in by_kind[kind] if w["outcome"] == "unknown"]
        row = Counter(
            acked=len(acked),
            stored=sum(1 for m in acked if counts[m] == 1),
            lost=sum(1 for m in acked if counts[m] == 0),
            dup=sum(1 for m in acked if counts[m] > 1),
            refused=len(refused),
            phantom=sum(1 for m in refused if counts[m] > 0),
            unknown=len(unknown),
            unknown_stored=sum(1 for m in unknown if counts[m] > 0),
        )
        # Rows whose write was never answered (the run ended mid-request) are neither lost
        # nor phantom; they would be counted here as stored without an acknowledgement.
        totals.update(row)
        lines.append(
            f"  {kind:<22}{row['acked']:>7}{row['stored']:>8}{row['lost']:>6}{row['dup']:>5}"
            f"{row['refused']:>9}{row['phantom']:>9}{row['unknown']:>9}{row['unknown_stored']:>17}"
        )
    # Refill answers change a request's status: an acknowledged one must show in the row.
    answered = {
        w["marker"]: w["write"].split()[1]
        for w in writes
        if w["write"].startswith("refill ") and w["outcome"] == "acked"
    }
    statuses = dict(
        RefillRequest.objects.filter(uuid__in=list(answered)).values_list("uuid", "status")
    )
    statuses = {str(k): v for k, v in statuses.items()}
    allowed_after = {"approved": {"approved", "sent"}, "sent": {"sent"}}
    decided = [w for w in writes if w["write"].startswith("refill ")]
    lost_answers = sum(1 for u, s in answered.items() if statuses.get(u) not in allowed_after[s])
    refused_answers = sum(1 for w in decided if w["outcome"] == "refused")
    lines.append(
        f"  {'refill answers':<22}{len(answered):>7}{len(answered) - lost_answers:>8}"
        f"{lost_answers:>6}{0:>5}{refused_answers:>9}{'-':>9}"
        f"{sum(1 for w in decided if w['outcome'] == 'unknown'):>9}{'-':>17}"
    )
    totals["acked"] += len(answered)
    totals["stored"] += len(answered) - lost_answers
    totals["lost"] += lost_answers
    totals["refused"] += refused_answers
    lines.append(
        f"  {'total':<22}{totals['acked']:>7}{totals['stored']:>8}{totals['lost']:>6}"
        f"{totals['dup']:>5}{totals['refused']:>9}{totals['phantom']:>9}{totals['unknown']:>9}"
        f"{totals['unknown_stored']:>17}"
    )
    problems = totals["lost"] + totals["dup"] + totals["phantom"]
    return lines, problems


def check_audit(requests: list[dict]) -> tuple[list[str], int]:
    from django.db.models import Count

    from core import audit
    from core.models import AuditEvent

    rows = dict(
        AuditEvent.objects.exclude(request_id="")
        .values_list("request_id")
        .annotate(n=Count("id"))
        .values_list("request_id", "n")
    )
    # The seed writes its rows outside any request (no id); every other row is a request's.
    denied = (
        AuditEvent.objects.exclude(request_id="").filter(outcome=AuditEvent.Outcome.DENIED).count()
    )
    answered = [r for r in requests if r["status"]]
    patient_data = [r for r in answered if r["pd"]]
    counts = sorted(rows.get(r["rid"], 0) for r in patient_data)
    unaudited = [r for r in patient_data if rows.get(r["rid"], 0) == 0]
    total_rows = sum(rows.values())
    chain = audit.verify()
    lines = [
        f"  patient-data requests {len(patient_data)}, their audit rows {sum(counts)}"
        f" (all requests' rows {total_rows}, denials {denied})",
        f"  rows per patient-data request: min {counts[0] if counts else 0},"
        f" median {percentile(counts, 50) if counts else 0},"
        f" max {counts[-1] if counts else 0}, mean {sum(counts) / max(len(counts), 1):.2f}",
        f"  patient-data requests without an audit row: {len(unaudited)}",
    ]
    for name, n in Counter(r["name"] for r in unaudited).most_common(8):
        lines.append(f"    {n:>5}  {name}")
    lines.append(f"  chain: {chain.message}")
    return lines, len(unaudited) + (0 if chain.ok else 1)


def server_errors(out: Path) -> list[str]:
    found = []
    for name in ("gunicorn.log", "celery.log"):
        path = out / name
        if not path.exists():
            continue
        text = path.read_text(errors="replace")
        tracebacks = text.count("Traceback (most recent call last)")
        worker_timeouts = text.count("WORKER TIMEOUT")
        if tracebacks or worker_timeouts:
            found.append(f"  {name}: {tracebacks} tracebacks, {worker_timeouts} worker timeouts")
    return found


def report(args, requests: list[dict], writes: list[dict], events: Counter, wall: float) -> int:
    failures = [r for r in requests if not r["ok"]]
    started = min((r["t"] for r in requests), default=0)
    ended = max((r["t"] for r in requests), default=0)
    lines = [
        "",
        f"Concord load test: {args.users} users (pausing {args.think} s) for {args.run_time} s,"
        f" gunicorn {args.workers}×{args.threads}, PostgreSQL, Redis; "
        + {
            "own": "one loopback address per user",
            "one": "all from 127.0.0.1",
            "forwarded": "through a proxy (X-Forwarded-For, PROXY_COUNT=1)",
        }[args.addresses],
        f"  machine: {os.cpu_count()} CPUs, load average {args.load_before:.1f} before the run"
        f" and {args.load_after:.1f} at its end (everything running on it counts)",
        f"  requests {len(requests)} in {ended - started:.0f} s"
        f" ({len(requests) / max(ended - started, 1):.1f}/s), failures {len(failures)}",
    ]
    for (name, error), n in Counter((r["name"], r["error"]) for r in failures).most_common(10):
        lines.append(f"    {n:>5}  {name}: {error}")
    lines.append(
        f"  sign-ins {sum(1 for r in requests if r['name'] == 'sign-in: password')};"
        f" TOTP codes refused after waiting past their 30 s in the queue (the next code"
        f" typed): {events['totp expired in the queue']}"
    )
    lines.append(f"  {'latency (ms)':<26}{'requests':>9}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")

    def latency_row(label, selected):
        times = sorted(r["ms"] for r in selected)
        return (
            f"  {label:<26}{len(times):>9}{percentile(times, 50):>8.0f}"
            f"{percentile(times, 95):>8.0f}{percentile(times, 99):>8.0f}"
            f"{(times[-1] if times else float('nan')):>8.0f}"
        )

    lines.append(latency_row("all", requests))
    for group in GROUPS:
        lines.append(latency_row(group, [r for r in requests if r["group"] == group]))
    # Each sign-in is an Argon2 check (about 25 ms of CPU at Concord's parameters): the first
    # seconds are a sign-in storm. After the last sign-in, the pages alone.
    signed_in = max((r["t"] for r in requests if r["group"] == "sign-in"), default=ended)
    after = [r for r in requests if r["t"] - r["ms"] / 1000 > signed_in]
    lines.append(latency_row(f"after sign-ins ({ended - signed_in:.0f} s)", after))
    slowest = defaultdict(list)
    for r in requests:
        slowest[r["name"]].append(r["ms"])
    lines.append("  slowest p95 by request:")
    for name, times in sorted(slowest.items(), key=lambda kv: -percentile(sorted(kv[1]), 95))[:5]:
        times.sort()
        lines.append(
            f"    {name:<40}{len(times):>6}  p50 {percentile(times, 50):>5.0f}"
            f"  p95 {percentile(times, 95):>5.0f}"
        )
    lines.append("Writes (acknowledged vs rows found by marker):")
    write_lines, write_problems = check_writes(writes)
    lines += write_lines
    lines.append("Audit (rows carrying each request's X-Request-ID):")
    audit_lines, audit_problems = check_audit(requests)
    lines += audit_lines
    lines += getattr(args, "database_lines", [])
    errors = server_errors(args.out)
    lines.append("Server logs: " + ("clean" if not errors else "errors"))
    lines += errors
    problems = {
        "failed requests": len(failures),
        "lost, duplicated or phantom writes": write_problems,
        "unaudited requests or a broken chain": audit_problems,
        "server errors": len(errors),
    }
    bad = {k: v for k, v in problems.items() if v}
    verdict = "PASS" if not bad else "FAIL: " + ", ".join(f"{k} {v}" for k, v in bad.items())
    lines.append(f"Result: {verdict}  (wall time {wall:.0f} s; logs in {args.out})")
    print("\n".join(lines))
    return 0 if not bad else 1


# --- The run -------------------------------------------------------------------------------


def main() -> int:
    began = time.monotonic()
    args = parse_args()
    args.out = args.out.resolve()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    os.environ.update(app_environment(args, port))
    env = dict(os.environ)
    sys.path.insert(0, str(ROOT))

    processes = Processes()

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        print(f"Scratch database {urlsplit(args.database_url).path.lstrip('/')}: migrate and seed…")
        recreate_database(args.database_url)
        empty_redis(args.redis_url)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        collecting = None
        if static_files_stale():
            # Beside the migration and the seed: it needs no database.
            collecting = processes.start(
                "collectstatic",
                [BIN / "python", "manage.py", "collectstatic", "--no-input", "-v0"],
                args.out / "collectstatic.log",
                env,
            )
        call_command("migrate", verbosity=0)
        print(f"  migrated ({time.monotonic() - began:.0f} s)")
        sys.path.insert(0, str(HERE))
        from seed import seed

        data = seed(patients=args.patients)
        data_path = args.out / "data.json"
        data_path.write_text(json.dumps(data))
        connections.close_all()
        print(
            f"  {len(data['patients'])} patients, {len(data['clinicians'])} clinicians"
            f" ({time.monotonic() - began:.0f} s)"
        )
        if collecting is not None:
            if collecting.wait() != 0:
                raise SystemExit("collectstatic failed: see collectstatic.log")
            print(f"  static files collected ({time.monotonic() - began:.0f} s)")
        gunicorn = processes.start(
            "gunicorn",
            [
                BIN / "gunicorn",
                "config.wsgi:application",
                "--config",
                "config/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--access-logfile",
                str(args.out / "access.log"),
                "--access-logformat",
                '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)s',
                # Threaded workers keep connections open between requests: longer than a
                # simulated person's pause, so that the server never closes one just as the
                # client reuses it (sync workers close each connection after its answer).
                "--keep-alive",
                "10",
            ],
            args.out / "gunicorn.log",
            env,
        )
        processes.start(
            "celery",
            [BIN / "celery", "-A", "config", "worker", "--loglevel", "WARNING", "-c", "1"],
            args.out / "celery.log",
            env,
        )
        wait_until_up(host, gunicorn)
        print(f"gunicorn at {host}; locust: {args.users} users for {args.run_time} s…")
        locust_env = {
            **env,
            "CONCORD_LOAD_DATA": str(data_path),
            "CONCORD_LOAD_OUT": str(args.out),
            "CONCORD_LOAD_ADDRESSES": args.addresses,
            "CONCORD_LOAD_THINK": args.think,
        }
        args.load_before = os.getloadavg()[0]
        sampler = WaitSampler(args.database_url)
        sampler.start()
        with (args.out / "locust.log").open("w") as log:
            subprocess.run(
                [
                    BIN / "locust",
                    "-f",
                    HERE / "locustfile.py",
                    "--headless",
                    "-u",
                    str(args.users),
                    "-r",
                    str(args.spawn_rate),
                    "--run-time",
                    f"{args.run_time}s",
                    "--stop-timeout",
                    "10",
                    "--host",
                    host,
                    "--csv",
                    str(args.out / "locust"),
                    "--only-summary",
                    "--exit-code-on-error",
                    "0",
                ],
                cwd=ROOT,
                env=locust_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=args.run_time + 90,
                check=False,
            )
        args.database_lines = sampler.stop()
        args.load_after = os.getloadavg()[0]
        if not list(args.out.glob("requests-*.jsonl")):
            print((args.out / "locust.log").read_text()[-3000:])
            raise SystemExit("locust logged no requests: see locust.log")
    finally:
        processes.stop()
        empty_redis(args.redis_url)
    requests, writes, events = read_logs(args.out)
    return report(args, requests, writes, events, time.monotonic() - began)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("Interrupted: the servers it started are stopped.")
