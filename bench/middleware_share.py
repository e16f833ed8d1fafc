"""Each middleware's share of the lightest signed-in page, against the floor of the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/concord_bench python bench/middleware_share.py

- floor: a signed-in prescriber (with TOTP, so that MFA enforcement does its real work) asks
  for a view that runs one query and renders the base template, through the full middleware
  stack of config.settings;
- each row: the same page with one middleware removed (Concord's own marked *); its share
  is (floor - that) / floor. Two references: no middleware at all (what the stack costs in all),
  and the session's last-seen stamp written on every request (how it was before the stamp was
  refreshed at most once a minute);
- session writes: UPDATE/INSERT of django_session per request on the full stack.
Times are medians of rounds interleaved across variants (a fresh order each round), through Django's test client (no
network), in one process. Figures are printed, never asserted. Nothing is deleted: a user
is created in the database named (its name must contain "bench"; migrations are run).
`make bench` prints these rows with the others (`table_rows()`).
"""

import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CONCORD_PROFILE", "test")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import include, path  # noqa: E402

FLOOR_TEMPLATE = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<div>floor</div>{% endblock %}'
)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
PER_ROUND = int(os.environ.get("BENCH_PER_ROUND", "20"))


def floor(request):
    from core.models import Patient

    Patient.objects.filter(pk=1).exists()  # the one query
    return HttpResponse(FLOOR_TEMPLATE.render({}, request))


urlpatterns = [path("bench-floor/", floor), path("", include("config.urls"))]

OURS = [m for m in settings.MIDDLEWARE if m.startswith("core.")]
# A signed-in page cannot be served without these: they are part of the floor, not a choice.
REQUIRED = {
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
}


def variants():
    full = list(settings.MIDDLEWARE)
    yield "full stack (the floor)", full, None
    for m in (m for m in full if m not in REQUIRED):
        mark = "*" if m in OURS else " "
        yield f"without {mark}{m.rsplit('.', 1)[1]}", [x for x in full if x != m], None
    yield "full stack again (the noise band)", full, None
    yield "no middleware at all (reference)", [], None
    yield "stamp written every request (as before)", full, 0


def signed_in_client(user):
    client = Client()
    client.force_login(user)
    assert client.get("/bench-floor/").status_code == 200  # starts the idle clock
    return client


def batch_ms(client, n):
    client.get("/bench-floor/")  # warm: the first request after a switch is not counted
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get("/bench-floor/")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return statistics.median(times) * 1000


def queries_per_request(client, n=10):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(n):
            client.get("/bench-floor/")
    return len(queries) / n


def session_writes_per_request(client, n=50):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(n):
            client.get("/bench-floor/")
    writes = sum(
        1
        for q in queries
        if "django_session" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    )
    return writes / n


@override_settings(
    ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"], DEBUG=False, CONCORD_REQUIRE_MFA=True
)
def measure():
    """Medians per variant, queries per request, and session writes per request (now and as
    before), in one run."""
    from core import middleware as core_middleware
    from tests import factories

    call_command("migrate", verbosity=0)
    user = factories.PrescriberFactory(email=f"bench-{uuid.uuid4().hex[:8]}@example.test")
    factories.totp_device(user)
    resolution = core_middleware.SEEN_RESOLUTION

    rows = list(variants())
    clients = {}
    for name, stack, _ in rows:
        with override_settings(MIDDLEWARE=stack):
            clients[name] = signed_in_client(user)
    samples = {name: [] for name, _, _ in rows}
    order = random.Random(16)
    for _ in range(ROUNDS):
        # A fresh order each round: no variant always runs first, or just after a slow one.
        for name, stack, seen_resolution in order.sample(rows, len(rows)):
            core_middleware.SEEN_RESOLUTION = resolution if seen_resolution is None else 0
            with override_settings(MIDDLEWARE=stack):
                samples[name].append(batch_ms(clients[name], PER_ROUND))
    core_middleware.SEEN_RESOLUTION = resolution
    counts = {}
    for name, stack, seen_resolution in rows:
        core_middleware.SEEN_RESOLUTION = resolution if seen_resolution is None else 0
        with override_settings(MIDDLEWARE=stack):
            counts[name] = queries_per_request(clients[name])
    core_middleware.SEEN_RESOLUTION = resolution
    with override_settings(MIDDLEWARE=rows[0][1]):
        writes_now = session_writes_per_request(clients[rows[0][0]])
    core_middleware.SEEN_RESOLUTION = 0
    with override_settings(MIDDLEWARE=rows[0][1]):
        writes_before = session_writes_per_request(clients[rows[-1][0]])
    core_middleware.SEEN_RESOLUTION = resolution

    medians = {name: statistics.median(s) for name, s in samples.items()}
    return rows, medians, counts, writes_now, writes_before


def table_rows() -> list[dict]:
    """These figures as rows of `make bench`'s table: each variant ÷ the full stack (the
    floor of every page benchmark), with no target: they say where the floor's time goes
    (a middleware's share of it is 1 − its row's ratio)."""
    from bench import common

    rows, medians, counts, writes_now, writes_before = measure()
    floor_ms = medians[rows[0][0]]
    out = [
        common.row(name, medians[name], floor_ms, queries=f"{counts[name]:.1f}")
        for name, _, _ in rows
    ]
    out.append(
        common.row(
            "session writes per request",
            writes_now,
            unit="",
            detail=f"{writes_before:.2f} with the stamp written every request; "
            "* Concord's own middleware; sessions, auth, messages are not removable",
        )
    )
    return out


def main():
    from bench import common

    common.scratch_database()
    rows, medians, counts, writes_now, writes_before = measure()
    floor_ms = medians[rows[0][0]]
    print(
        f"middleware share of the lightest signed-in page ({connection.vendor}), "
        f"median of {ROUNDS} rounds x {PER_ROUND} requests, one run"
    )
    for name, _, _ in rows:
        ms = medians[name]
        print(
            f"  {name:44s} {ms:7.3f} ms   ÷ floor {ms / floor_ms:5.3f}   "
            f"share {(floor_ms - ms) / floor_ms:+6.1%}   queries {counts[name]:4.1f}"
        )
    print("  * Concord's own (core.middleware); not removable: sessions, auth, messages")
    print(f"  session writes per request: {writes_now:.2f} now, {writes_before:.2f} as before")


if __name__ == "__main__":
    main()
