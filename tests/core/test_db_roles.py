"""Finding 9, production roles: the role web and worker connect as cannot rewrite the audit
trail. Created in the test (rolled back with it), granted by `db_roles`, then tried with
SET ROLE: it reads and appends, and every way to change or remove rows is refused."""

import io
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from core import audit
from core.access import Action, Category
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_role(require_postgresql):
    role = f"concord_app_test_{uuid.uuid4().hex[:8]}"
    call_command("db_roles", "--apply", "--role", role, stdout=io.StringIO())
    return role


def as_role(role, sql):
    """Run one statement as the role; the error it raises, or None."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {role}")
            cursor.execute(sql)
    except DatabaseError as error:
        return str(error)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    return None


@pytest.mark.parametrize(
    "statement, refusal",
    [
        ("UPDATE core_auditevent SET action = 'export'", "permission denied"),
        ("DELETE FROM core_auditevent", "permission denied"),
        ("TRUNCATE core_auditevent", "permission denied"),
        ("TRUNCATE core_auditchainhead, core_auditevent", "permission denied"),
        ("ALTER TABLE core_auditevent DISABLE TRIGGER USER", "must be owner"),
        ("DROP TRIGGER core_auditevent_append_only ON core_auditevent", "must be owner"),
        (
            "CREATE TRIGGER t BEFORE INSERT ON core_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION concord_append_only()",
            "permission denied",
        ),
        ("SET session_replication_role = replica", "permission denied"),
        ("DROP TABLE core_auditevent", "must be owner"),
        ("UPDATE referrals_release SET purpose = ''", "permission denied"),
    ],
)
def test_the_app_role_cannot_change_or_remove_audit_rows(
    app_role, prescriber, patient, statement, refusal
):
    audit.record(actor=prescriber, patient=patient, category=Category.GOALS, action=Action.READ)
    error = as_role(app_role, statement)
    assert error is not None, f"{statement} was allowed"
    assert refusal in error
    assert AuditEvent.objects.filter(action="read").count() == 1


def test_the_app_role_reads_and_appends(app_role, prescriber, patient):
    assert as_role(app_role, "SELECT count(*) FROM core_auditevent") is None
    assert as_role(app_role, "UPDATE core_patient SET preferred_name = preferred_name") is None
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {app_role}")
        audit.record(actor=prescriber, patient=patient, category=Category.GOALS, action=Action.READ)
        audit.record(actor=prescriber, patient=patient, category=Category.GOALS, action=Action.READ)
        audit.checkpoint()
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    assert audit.verify().ok


def test_db_roles_check_passes_and_catches_a_stray_grant(app_role):
    out = io.StringIO()
    call_command("db_roles", "--check", "--role", app_role, stdout=out)
    assert "owns no table" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT UPDATE ON core_auditevent TO {app_role}")
    with pytest.raises(CommandError, match=f"{app_role} has UPDATE on core_auditevent"):
        call_command("db_roles", "--check", "--role", app_role, stdout=io.StringIO())


def test_db_roles_prints_the_grants(require_postgresql):
    out = io.StringIO()
    call_command("db_roles", stdout=out)
    sql = out.getvalue()
    assert 'GRANT SELECT, INSERT ON "core_auditevent" TO "concord_app";' in sql
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON "core_patient" TO "concord_app";' in sql
    assert "TRUNCATE" not in sql.replace("REVOKE ALL", "")


def test_compose_migrates_as_the_owner_and_runs_the_app_as_the_app_role():
    from pathlib import Path

    import yaml

    compose = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    )
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://concord:")
    assert "db_roles --apply" in " ".join(migrate["command"])
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://concord_app:"), name
        assert environment["CONCORD_AUDIT_KEY"].startswith("${CONCORD_AUDIT_KEY:?"), name
        assert "audit-checkpoints:/var/lib/concord-audit" in services[name]["volumes"], name
