"""Shared fixtures. With CONCORD_REQUIRE_SERVICES=1 (CI), a test that would skip for a
missing database, Redis, browser or system library fails instead."""

import os
import shutil

import pytest
from django.db import connection

from tests import factories

REQUIRE_SERVICES = os.environ.get("CONCORD_REQUIRE_SERVICES") == "1"


def need(condition: bool, what: str) -> None:
    """Skip when a service is missing on a developer machine; fail in CI."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (CONCORD_REQUIRE_SERVICES=1) but not available.")
    pytest.skip(f"{what} not available")


@pytest.fixture
def require_postgresql(db):
    need(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def require_redis():
    url = os.environ.get("REDIS_URL", "")
    ok = False
    if url:
        try:
            import redis

            ok = bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
        except Exception:  # noqa: BLE001 - any failure means not available
            ok = False
    need(ok, "Redis (set REDIS_URL)")
    return url


@pytest.fixture(autouse=True)
def _sqlite_audit_flush(request):
    """Transactional tests end with a flush, which the append-only guards refuse: DELETE on
    SQLite, TRUNCATE on PostgreSQL. Around such tests (only in the test suite) drop the guards
    at teardown, just before the flush; `_restore_guards_after_flush` puts them back right
    after it, and this fixture once more at the next transactional test's setup."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool({"transactional_db", "live_server"} & set(request.fixturenames)) or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not transactional:
        yield
        return
    from core.db import APPEND_ONLY_TABLES, drop_append_only, install_append_only

    # Requested from here so that its flush runs after this fixture's teardown.
    request.getfixturevalue("transactional_db")
    for table in APPEND_ONLY_TABLES:
        install_append_only(table)
    yield
    for table in APPEND_ONLY_TABLES:
        drop_append_only(table)


def _restore_guards_after_flush(sender, using="default", **kwargs):
    """`flush` sends post_migrate when it is done: the guards are back before the next test."""
    from django.db import connections

    from core.db import APPEND_ONLY_TABLES, install_append_only

    if getattr(sender, "label", None) != "core":  # sent once per app; once is enough
        return
    conn = connections[using]
    existing = set(conn.introspection.table_names())
    for table in APPEND_ONLY_TABLES:
        if table in existing:
            install_append_only(table, conn)


def pytest_configure(config):
    from django.db.models.signals import post_migrate

    post_migrate.connect(_restore_guards_after_flush, dispatch_uid="concord-test-guards")


@pytest.fixture(autouse=True)
def _audit_checkpoints(settings, tmp_path):
    """Each test has its own checkpoint file: a checkpoint describes one database's trail."""
    settings.CONCORD_AUDIT_CHECKPOINT_PATH = str(tmp_path / "audit-checkpoints.jsonl")
    return settings.CONCORD_AUDIT_CHECKPOINT_PATH


@pytest.fixture
def prescriber(db):
    return factories.PrescriberFactory(full_name="Dr. Priya Raman")


@pytest.fixture
def therapist(db):
    return factories.TherapistFactory(full_name="Jordan Lee")


@pytest.fixture
def patient_user(db):
    return factories.PatientUserFactory(full_name="Dan Brooks")


@pytest.fixture
def patient(db, patient_user, prescriber, therapist):
    """A patient with a login, treated by the prescriber and the therapist."""
    p = factories.PatientFactory(
        given_name="Daniel", family_name="Brooks", preferred_name="Dan", user=patient_user
    )
    factories.MembershipFactory(patient=p, clinician=prescriber)
    factories.MembershipFactory(patient=p, clinician=therapist)
    return p


@pytest.fixture
def chromium_path():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    need(os.path.exists(path), "Debian's Chromium (/usr/bin/chromium)")
    return path
