"""The production database roles: an owner that migrates, an app role that only reads and writes rows.

    manage.py db_roles                 # print the SQL (review it, or run it yourself with psql)
    manage.py db_roles --apply         # run it, as the owner, after every migrate
    manage.py db_roles --check         # exit 1 if the app role may do more than it should

Web and worker connect as the app role (CONCORD_APP_DB_ROLE, default concord_app): it owns
no table, so it can neither ALTER one, nor disable its triggers, nor drop it; it has SELECT,
INSERT, UPDATE and DELETE on ordinary tables and only SELECT and INSERT on the append-only
ones (the audit trail and each of its monthly partitions, releases, revocations, decision
records); no TRUNCATE, REFERENCES or TRIGGER anywhere. It may EXECUTE the function that makes
the audit trail's next monthly partitions (see core.audit_partitions). Migrations run as the owner (the role in the migrate service's DATABASE_URL).
Grants are per table and re-applied after every migrate, so a new table gets no right at all
until this runs: it fails closed. PostgreSQL only.
"""

import os
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core import audit_partitions
from core.db import append_only_relations

ROW_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
APPEND_RIGHTS = "SELECT, INSERT"
# What the app role must never have on an append-only table, nor own.
FORBIDDEN = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")


def _ident(name: str) -> str:
    return connection.ops.quote_name(name)


def grant_sql(role: str) -> list[str]:
    """The statements that give `role` exactly its rights on this database's tables."""
    tables = sorted(connection.introspection.table_names())
    r = _ident(role)
    statements = [
        "DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS; "
        "END IF; END $$",
        f"GRANT CONNECT ON DATABASE {_ident(connection.settings_dict['NAME'])} TO {r}",
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"REVOKE CREATE ON SCHEMA public FROM {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}",
    ]
    append_only = set(append_only_relations(connection))
    for table in tables:
        rights = APPEND_RIGHTS if table in append_only else ROW_RIGHTS
        statements.append(f"GRANT {rights} ON {_ident(table)} TO {r}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}")
    if audit_partitions.is_partitioned(connection):
        # Beat makes next months' audit partitions through this function, as the owner: the
        # app role itself may create no table.
        statements.append(
            f"GRANT EXECUTE ON FUNCTION {audit_partitions.FUNCTION}(date, integer) TO {r}"
        )
    return statements


def role_problems(role: str) -> list[str]:
    """What the role may do that it must not (empty when it is as it should be)."""
    problems = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            return [f"There is no role {role}."]
        if row[0] or row[1]:
            problems.append(f"{role} is a superuser or bypasses row security.")
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND pg_has_role(%s, tableowner, 'USAGE') ORDER BY 1",
            [role],
        )
        owned = [t for (t,) in cursor.fetchall()]
        if owned:
            problems.append(f"{role} owns (or acts as the owner of) {', '.join(owned)}.")
        for table in append_only_relations(connection):
            for right in FORBIDDEN:
                cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, right])
                if cursor.fetchone()[0]:
                    problems.append(f"{role} has {right} on {table}.")
    return problems


class Command(BaseCommand):
    help = "Print, apply or check the app role's grants (the app role owns nothing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--role",
            default=os.environ.get("CONCORD_APP_DB_ROLE", "concord_app"),
            help="The role web and worker connect as (default: concord_app).",
        )
        parser.add_argument("--apply", action="store_true", help="Run the statements.")
        parser.add_argument(
            "--check", action="store_true", help="Exit 1 if the role may do more than it should."
        )

    def handle(self, *args, role, apply=False, check=False, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are for PostgreSQL (set DATABASE_URL).")
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
            raise CommandError("A role name is lower-case letters, digits and underscores.")
        if check:
            problems = role_problems(role)
            if problems:
                raise CommandError(" ".join(problems))
            self.stdout.write(
                self.style.SUCCESS(
                    f"{role} owns no table and may only read and add rows to the audit trail."
                )
            )
            return
        statements = grant_sql(role)
        if not apply:
            self.stdout.write(
                "-- Run as the owner of the tables, after every migrate. Set the role's\n"
                f"-- password yourself: ALTER ROLE {role} PASSWORD '...';\n"
            )
            for statement in statements:
                self.stdout.write(statement + ";")
            return
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            password = os.environ.get("CONCORD_APP_DB_PASSWORD", "")
            if password:
                # Client-side quoting (psycopg): ALTER ROLE takes no bound parameters.
                cursor.execute(f"ALTER ROLE {_ident(role)} PASSWORD %s", [password])
        problems = role_problems(role)
        if problems:
            raise CommandError(" ".join(problems))
        self.stdout.write(self.style.SUCCESS(f"Granted {role} its rights on every table."))
