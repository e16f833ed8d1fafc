"""The audit table partitioned by month (PostgreSQL): the guards and grants on every
partition, partitions made later, the DEFAULT partition, chain verification, the patient's
accounting and the clinic admin's audit search across months, and the migration on a table
that already holds rows."""

import io
import uuid
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from core import audit, audit_partitions, tasks
from core.access import Action, Category
from core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db

# Months in the past of the clock the suite runs on, made in the test (rolled back with it).
MONTHS = [date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)]
LATER = date(2031, 6, 1)  # a month made "later", well after the migration's


def settle():
    """Check the deferred foreign keys of the rows written so far: a transaction holding
    such checks may not TRUNCATE or ALTER a table (the test's rows share one transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def sql(statement, params=()):
    """Run one statement in a savepoint: the error it raises, or None."""
    settle()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except DatabaseError as error:
        return str(error)
    return None


def partition_of(event) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM core_auditevent WHERE id = %s", [event.pk]
        )
        return cursor.fetchone()[0]


def read_in(month: date, actor, patient, category=Category.GOALS, via="care_team"):
    """A read written through the real append path with the clock in that month."""
    with time_machine.travel(datetime(month.year, month.month, 14, 10, tzinfo=UTC), tick=False):
        return audit.record(
            actor=actor, patient=patient, category=category, action=Action.READ, via=via
        )


@pytest.fixture
def months(require_postgresql):
    made = audit_partitions.ensure(first_month=MONTHS[0], months=len(MONTHS))
    assert [outcome for _, outcome in made] == ["created"] * len(MONTHS)
    return MONTHS


@pytest.fixture
def app_role(require_postgresql):
    role = f"concord_app_test_{uuid.uuid4().hex[:8]}"
    call_command("db_roles", "--apply", "--role", role, stdout=io.StringIO())
    return role


def test_the_table_is_partitioned_with_a_default_and_months_ahead(require_postgresql):
    found = audit_partitions.partitions()
    assert found[-1].name == "core_auditevent_default" and found[-1].is_default
    today = datetime.now(UTC).date()
    this_month = audit_partitions.month_start(today)
    names = {p.name for p in found}
    month = this_month
    for _ in range(audit_partitions.AHEAD + 1):
        assert f"core_auditevent_{month:%Y_%m}" in names
        month = audit_partitions.next_month(month)


def test_a_partition_made_later_is_append_only_like_the_others(require_postgresql, prescriber):
    assert audit_partitions.ensure(first_month=LATER, months=1) == [
        ("core_auditevent_2031_06", "created")
    ]
    with time_machine.travel(datetime(2031, 6, 2, tzinfo=UTC), tick=False):
        event = audit.record(
            actor=prescriber, patient=None, category=Category.AUDIT, action=Action.LIST
        )
    assert partition_of(event) == "core_auditevent_2031_06"
    for statement in (
        "UPDATE core_auditevent_2031_06 SET action = 'export'",
        "DELETE FROM core_auditevent_2031_06",
        "TRUNCATE core_auditevent_2031_06",
        "UPDATE core_auditevent SET action = 'export'",
        "DELETE FROM core_auditevent",
        "TRUNCATE core_auditevent",
        "TRUNCATE core_auditevent_default",
    ):
        error = sql(statement)
        assert error is not None and "append-only" in error, statement
    assert AuditEvent.objects.get(pk=event.pk).action == "list"
    # Made again: nothing happens.
    assert audit_partitions.ensure(first_month=LATER, months=1) == [
        ("core_auditevent_2031_06", "exists")
    ]


def test_the_app_role_makes_next_months_and_may_only_read_and_add_to_them(app_role, prescriber):
    """Beat runs as the app role, which may create no table: it asks the owner's function,
    and the partition it gets has the parent's SELECT and INSERT, nothing more."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {app_role}")
        assert sql("CREATE TABLE core_auditevent_x (id int)") is not None
        made = audit_partitions.ensure(first_month=LATER, months=2)
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    assert [outcome for _, outcome in made] == ["created", "created"]
    for right, allowed in (
        ("SELECT", True),
        ("INSERT", True),
        ("UPDATE", False),
        ("DELETE", False),
        ("TRUNCATE", False),
        ("TRIGGER", False),
        ("REFERENCES", False),
    ):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT has_table_privilege(%s, 'core_auditevent_2031_07', %s)", [app_role, right]
            )
            assert cursor.fetchone()[0] is allowed, right
    call_command("db_roles", "--check", "--role", app_role, stdout=io.StringIO())
    for statement in (
        "TRUNCATE core_auditevent_2031_07",
        "DELETE FROM core_auditevent_2031_07",
        "ALTER TABLE core_auditevent_2031_07 DISABLE TRIGGER USER",
        "DROP TABLE core_auditevent_2031_07",
        "ALTER TABLE core_auditevent DETACH PARTITION core_auditevent_2031_07",
    ):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {app_role}")
            assert sql(statement) is not None, statement
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def test_db_roles_check_catches_a_stray_grant_on_a_partition(app_role):
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT DELETE ON core_auditevent_default TO {app_role}")
    with pytest.raises(CommandError, match=f"{app_role} has DELETE on core_auditevent_default"):
        call_command("db_roles", "--check", "--role", app_role, stdout=io.StringIO())


def test_a_month_whose_rows_sit_in_default_is_refused_then_adopted(require_postgresql, prescriber):
    """No partition for that month: its rows land in DEFAULT and are kept. The task will not
    make the month (that would mean moving rows of an append-only table) and fails loudly;
    adopting makes DEFAULT the month's partition, rows untouched, and a new empty DEFAULT."""
    with time_machine.travel(datetime(2032, 2, 3, tzinfo=UTC), tick=False):
        event = audit.record(
            actor=prescriber, patient=None, category=Category.AUDIT, action=Action.LIST
        )
    assert partition_of(event) == "core_auditevent_default"
    assert audit_partitions.ensure(first_month=date(2032, 1, 1), months=3) == [
        ("core_auditevent_2032_01", "created"),
        ("core_auditevent_2032_02", "default holds rows"),
        ("core_auditevent_2032_03", "created"),
    ]
    with (
        time_machine.travel(datetime(2032, 1, 20, tzinfo=UTC), tick=False),
        pytest.raises(tasks.AuditPartitionRefused, match="core_auditevent_2032_02"),
    ):
        tasks.audit_partitions.apply(kwargs={"ahead": 2}, throw=True)
    with pytest.raises(CommandError, match="1 rows are in the DEFAULT partition"):
        call_command("audit_partitions", stdout=io.StringIO())

    settle()
    assert audit_partitions.adopt_default() == "core_auditevent_2032_02_to_2032_03"
    assert partition_of(event) == "core_auditevent_2032_02_to_2032_03"
    assert audit_partitions.default_rows() == 0
    assert "append-only" in sql("TRUNCATE core_auditevent_2032_02_to_2032_03")
    assert "append-only" in sql("TRUNCATE core_auditevent_default")
    assert audit_partitions.ensure(first_month=date(2032, 2, 1), months=1) == [
        ("core_auditevent_2032_02", "covered")
    ]
    assert audit.verify().ok


def test_beat_makes_the_partitions_ahead_daily(require_postgresql):
    """The migration's beat entry (made again here: a transactional test's flush empties
    the beat tables of the test database)."""
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    migration = importlib.import_module("core.migrations.0011_audit_partitioned_by_month")
    migration.schedule(apps, None)
    migration.schedule(apps, None)
    entry = PeriodicTask.objects.get(name="Audit partitions ahead")
    assert entry.task == "core.tasks.audit_partitions"
    assert (entry.interval.every, entry.interval.period) == (1, "days")
    outcome = tasks.audit_partitions.apply(throw=True).get()
    assert set(outcome.values()) <= {"exists", "covered"}


def test_verify_reports_a_chain_number_that_appears_twice(require_postgresql, prescriber, patient):
    """Nothing in the partitioned table itself refuses a second (chain, seq): verify does."""
    for _ in range(3):
        audit.record(actor=prescriber, patient=patient, category=Category.GOALS, action=Action.READ)
    assert audit.verify().ok
    columns = [f.column for f in AuditEvent._meta.concrete_fields if f.column != "id"]
    listed = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO core_auditevent ({listed}) SELECT {listed} FROM core_auditevent "  # noqa: S608
            "WHERE chain = %s AND seq = 2",
            [str(patient.uuid)],
        )
    result = audit.verify()
    assert not result.ok
    assert f"Broken at chain {patient.uuid}, event #2" in result.message
    assert "a second event #2 in the chain" in result.message


def test_chain_accounting_and_search_across_three_months(
    months, client, prescriber, therapist, patient, patient_user, django_assert_max_num_queries
):
    reads = []
    for i, month in enumerate(months):
        reads.append(read_in(month, prescriber, patient, Category.MEDICATIONS))
        reads.append(read_in(month, therapist, patient, Category.GOALS))
        if i == 1:  # a reader outside the care team, allowed by a release
            outsider = factories.TherapistFactory(full_name="Sam Outside")
            reads.append(read_in(month, outsider, patient, via=f"release:{uuid.uuid4()}"))
    assert {partition_of(e) for e in reads} == {f"core_auditevent_{m:%Y_%m}" for m in months}
    assert audit.verify().ok
    call_command("audit_checkpoint", stdout=io.StringIO())
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert f"The audit trail is intact: {len(reads)} events checked." in out.getvalue()

    client.force_login(patient_user)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("record_views"))
    assert page.status_code == 200
    groups = list(page.context["groups"])
    assert {g.day for g in groups} == {date(m.year, m.month, 14) for m in months}
    assert len(groups) == 2 * len(months) + 1
    assert {g.who for g in groups} == {"Dr. Priya Raman", "Jordan Lee", "Sam Outside"}
    disclosures = client.get(reverse("record_views"), {"show": "disclosures"})
    shown = list(disclosures.context["groups"])
    assert [(g.who, g.day) for g in shown] == [("Sam Outside", date(2025, 4, 14))]

    admin = factories.AdminFactory()
    client.force_login(admin)
    with django_assert_max_num_queries(20):
        search = client.get(reverse("audit_search"), {"patient": "Brooks"})
    events = list(search.context["events"])
    assert {e.pk for e in reads} <= {e.pk for e in events}
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    only = client.get(reverse("audit_search"), {"email": prescriber.email})
    months_seen = {e.at.date().replace(day=1) for e in only.context["events"]}
    assert set(months) <= months_seen


@pytest.mark.django_db(transaction=True)
def test_the_migration_partitions_a_table_that_already_holds_rows(require_postgresql):
    """Back to the ordinary table, rows written (some months ago), forward again: the rows
    stay where they are, in the partition of everything before, and the chain still matches
    its checkpoint; new rows go to their month, and every partition is append-only."""
    from django.db.migrations.executor import MigrationExecutor

    before = ("core", "0010_audit_actions_prescribe_answer_acknowledge")

    def migrate(target=None):
        """To `target`, or forward to every app's latest migration: the migrations after
        the partitioning (of core and of apps that depend on it) are undone on the way back
        and must be there again for the tests that follow."""
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([target] if target else executor.loader.graph.leaf_nodes())

    prescriber = factories.PrescriberFactory()
    patient = factories.PatientFactory()
    migrate(before)
    try:
        assert not audit_partitions.is_partitioned()
        old = [read_in(date(2025, m, 1), prescriber, patient) for m in (1, 2, 3)]
        old += [audit.record(actor=prescriber, patient=patient, category="goals", action="read")]
        call_command("audit_checkpoint", stdout=io.StringIO())
    finally:
        migrate()
    assert audit_partitions.is_partitioned()
    kept = {partition_of(e) for e in old}
    assert len(kept) == 1 and (whole := kept.pop()).startswith("core_auditevent_before_")
    assert [e.hash for e in AuditEvent.objects.filter(chain=str(patient.uuid))] == [
        e.hash for e in old
    ]
    new = read_in(audit_partitions.next_month(datetime.now(UTC).date()), prescriber, patient)
    assert partition_of(new) == f"core_auditevent_{new.at:%Y_%m}"
    assert new.pk > max(e.pk for e in old) and new.seq == len(old) + 1
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert f"intact: {len(old) + 1} events checked. It matches checkpoint #1" in out.getvalue()
    for partition in audit_partitions.partitions():
        assert "append-only" in sql(f"TRUNCATE {partition.name}")
    assert "append-only" in sql(f"DELETE FROM {whole}")  # noqa: S608 - our table
    assert "append-only" in sql(f"UPDATE {whole} SET action = 'export'")  # noqa: S608
    assert "append-only" in sql("DELETE FROM core_auditevent")


def test_the_audit_search_finds_a_rare_person_and_a_common_name_alike(
    months, client, prescriber, patient, django_assert_max_num_queries
):
    """A search naming few people reads each one's newest events down their own index; one
    matching many people walks back from now in widening windows. Both newest first."""
    from core import selectors

    many = [
        factories.PatientFactory(given_name="Alex", family_name=f"Common{i}")
        for i in range(selectors.AUDIT_SEARCH_PEOPLE + 1)
    ]
    old = [read_in(MONTHS[0], prescriber, p) for p in many[:3]]
    recent = [
        audit.record(actor=prescriber, patient=p, category=Category.GOALS, action=Action.READ)
        for p in many[3:6]
    ]
    rare = read_in(MONTHS[1], prescriber, patient)
    admin = factories.AdminFactory()
    client.force_login(admin)
    with django_assert_max_num_queries(20):
        common = client.get(reverse("audit_search"), {"patient": "Common"}).context["events"]
    assert [e.pk for e in common] == [e.pk for e in reversed(recent)] + [
        e.pk for e in reversed(old)
    ]
    found = client.get(reverse("audit_search"), {"patient": "Brooks", "email": prescriber.email})
    assert [e.pk for e in found.context["events"]] == [rare.pk]
    nobody = client.get(reverse("audit_search"), {"email": "nobody-at-all"})
    assert list(nobody.context["events"]) == []
