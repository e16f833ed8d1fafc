"""Database guards shared by the apps: append-only tables enforced by triggers.

PostgreSQL and SQLite both have triggers, so the embedded mode is guarded like production.
"""

from django.db import connection

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION concord_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def partitions_of(table: str, conn=None) -> list[str]:
    """The partitions of `table` (PostgreSQL; none for an ordinary table or on SQLite)."""
    conn = conn or connection
    if conn.vendor != "postgresql":
        return []
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY 1",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def append_only_relations(conn=None) -> list[str]:
    """Every append-only table and every partition of one: what the app role may only read
    and add to."""
    conn = conn or connection
    return [t for table in APPEND_ONLY_TABLES for t in [table, *partitions_of(table, conn)]]


def install_append_only(table: str, conn=None) -> None:
    """Refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE on `table` (a trusted, fixed name).

    A partitioned table: the row trigger on the parent is cloned by PostgreSQL onto every
    partition, now and later; TRUNCATE fires statement triggers only, so each partition gets
    its own (a partition made later gets it from core.audit_partitions)."""
    conn = conn or connection
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            for partition in partitions_of(table, conn):
                cursor.execute(f"DROP TRIGGER IF EXISTS {partition}_no_truncate ON {partition}")
                cursor.execute(
                    f"CREATE TRIGGER {partition}_no_truncate BEFORE TRUNCATE ON {partition} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION concord_append_only()"
                )
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            cursor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION concord_append_only()"
            )
            # TRUNCATE fires no row trigger: without this one a table empties in one statement.
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            cursor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION concord_append_only()"
            )
        else:
            for op in ("UPDATE", "DELETE"):
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END"
                )


def drop_append_only(table: str, conn=None) -> None:
    conn = conn or connection
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            for partition in partitions_of(table, conn):
                cursor.execute(f"DROP TRIGGER IF EXISTS {partition}_no_truncate ON {partition}")
        else:
            for op in ("update", "delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")


# Every append-only table, so that the test suite can lift and restore the guards around
# its flush (DELETE on SQLite, TRUNCATE on PostgreSQL), and so that the production roles
# (core.management.commands.db_roles) get no UPDATE, DELETE or TRUNCATE on them.
APPEND_ONLY_TABLES: list[str] = ["core_auditevent"]
