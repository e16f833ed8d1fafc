"""The audit table partitioned by month (PostgreSQL; SQLite keeps one ordinary table).

The audit trail is the fastest-growing table: every read writes a row. On PostgreSQL it is
range-partitioned on `at`, one partition per calendar month (UTC), named
core_auditevent_YYYY_MM, plus:

- core_auditevent_before_YYYY_MM: the table as it was before partitioning, attached whole as
  the partition of everything before that month (nothing is copied or rewritten);
- core_auditevent_default: the DEFAULT partition, so that an insert never fails for want of
  a partition. It should stay empty: rows land there only if the monthly task stopped.

Partitions are made ahead by `ensure()` (Celery beat, daily: core.tasks.audit_partitions),
which calls the SQL function concord_audit_partitions_ensure(). The function is SECURITY
DEFINER, owned by the role that migrates: the app role, which may create no table, may call
it, and it only ever creates empty month partitions of this one table, each with the
TRUNCATE guard and the parent's SELECT and INSERT grants (the row guard is cloned from the
parent by PostgreSQL itself). It refuses a month whose rows already sit in the DEFAULT
partition: moving them would mean deleting rows from an append-only table; `adopt_default()`
(run by the owner) instead turns the DEFAULT partition, rows and all, into an ordinary
partition of the months it holds and makes a new, empty DEFAULT.

What partitioning costs: a primary key or unique constraint must include `at`, so the
primary key is (id, at) and (chain, seq) is an index, not a constraint. `audit._append`
gives each chain its next seq under the chain head's row lock, and `audit.verify` reports a
(chain, seq) that appears twice. See docs/security/threat-model.md and docs/scaling.md.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection as default_connection

from . import db

TABLE = "core_auditevent"
DEFAULT = f"{TABLE}_default"
FUNCTION = "concord_audit_partitions_ensure"
# How many months `ensure` makes ahead of the current one by default (beat runs it daily).
AHEAD = 3
MAX_MONTHS = 36

# Made by the owner (the migration); runs as the owner when the app role calls it.
_ENSURE_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}(first_month date, months integer)
RETURNS TABLE (partition text, outcome text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    lo timestamptz;
    hi timestamptz;
    grant_row record;
BEGIN
    IF months < 1 OR months > {MAX_MONTHS} THEN
        RAISE EXCEPTION 'between 1 and {MAX_MONTHS} months at a time, not %', months;
    END IF;
    FOR i IN 0 .. months - 1 LOOP
        lo := (date_trunc('month', first_month::timestamp) + make_interval(months => i))::timestamp
              AT TIME ZONE 'UTC';
        hi := (date_trunc('month', first_month::timestamp) + make_interval(months => i + 1))::timestamp
              AT TIME ZONE 'UTC';
        partition := '{TABLE}_' || to_char(lo AT TIME ZONE 'UTC', 'YYYY_MM');
        IF to_regclass(partition) IS NOT NULL THEN
            outcome := 'exists';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF to_regclass('{DEFAULT}') IS NOT NULL THEN
            PERFORM 1 FROM {DEFAULT} WHERE at >= lo AND at < hi LIMIT 1;
            IF FOUND THEN
                outcome := 'default holds rows';
                RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;
        BEGIN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF {TABLE} FOR VALUES FROM (%L) TO (%L)',
                partition, lo, hi
            );
        EXCEPTION WHEN invalid_object_definition THEN
            -- Another partition (the table from before partitioning, or an adopted DEFAULT)
            -- already covers part of this month.
            outcome := 'covered';
            RETURN NEXT;
            CONTINUE;
        END;
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION concord_append_only()',
            partition || '_no_truncate', partition
        );
        FOR grant_row IN
            SELECT DISTINCT a.grantee::regrole::text AS grantee, a.privilege_type
            FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.oid = '{TABLE}'::regclass AND a.grantee <> c.relowner AND a.grantee <> 0
              AND a.privilege_type IN ('SELECT', 'INSERT')
        LOOP
            EXECUTE format('GRANT %s ON %I TO %s', grant_row.privilege_type, partition,
                           grant_row.grantee);
        END LOOP;
        outcome := 'created';
        RETURN NEXT;
    END LOOP;
END
$fn$;
REVOKE ALL ON FUNCTION {FUNCTION}(date, integer) FROM PUBLIC;
"""  # noqa: S608 - fixed names of our own


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime | None  # None: MINVALUE
    end: datetime | None  # None: MAXVALUE; both None: the DEFAULT partition

    @property
    def is_default(self) -> bool:
        return self.start is None and self.end is None


def is_partitioned(conn=None) -> bool:
    conn = conn or default_connection
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def ensure(*, first_month: date | None = None, months: int = AHEAD + 1, conn=None) -> list:
    """Make the month partitions from `first_month` (default: this month, UTC) for `months`
    months, those missing only. [(partition, outcome)]: created, exists, covered (another
    partition holds the month), or "default holds rows" (refused: see adopt_default).
    Nothing on SQLite."""
    conn = conn or default_connection
    if not is_partitioned(conn):
        return []
    first = month_start(first_month or datetime.now(UTC).date())
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT partition, outcome FROM {FUNCTION}(%s, %s)",  # noqa: S608 - our function
            [first, months],
        )
        return [tuple(row) for row in cursor.fetchall()]


_BOUND = re.compile(r"FROM \((.+?)\) TO \((.+?)\)")


def _bound_value(text: str) -> datetime | None:
    text = text.strip()
    if text.upper() in ("MINVALUE", "MAXVALUE"):
        return None
    return datetime.fromisoformat(text.strip("'"))


def partitions(conn=None) -> list[Partition]:
    """The audit table's partitions, oldest first, the DEFAULT one last ([] on SQLite)."""
    conn = conn or default_connection
    if not is_partitioned(conn):
        return []
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        found = []
        for name, bound in cursor.fetchall():
            match = _BOUND.search(bound)
            if match:
                found.append(Partition(name, _bound_value(match[1]), _bound_value(match[2])))
            else:
                found.append(Partition(name, None, None))
    return sorted(
        found,
        key=lambda p: (p.is_default, p.start or datetime.min.replace(tzinfo=UTC)),
    )


def default_rows(conn=None) -> int:
    conn = conn or default_connection
    if not is_partitioned(conn):
        return 0
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT}")  # noqa: S608 - our table
        return cursor.fetchone()[0]


def adopt_default(conn=None) -> str | None:
    """Turn the DEFAULT partition's rows into an ordinary partition without moving a row.

    In one transaction (inserts wait for it): detach the DEFAULT partition, attach it back
    as the partition of the whole months its rows span (a CHECK constraint added first makes
    the attach a check, not a rewrite), rename it for those months, and make a new, empty
    DEFAULT. Refused when those months overlap another partition. Run as the owner. The
    adopted partition's name, or None when DEFAULT was empty."""
    conn = conn or default_connection
    from django.db import transaction

    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT min(at), max(at) FROM {DEFAULT}")  # noqa: S608 - our table
        low, high = cursor.fetchone()
        if low is None:
            return None
        start = month_start(low.astimezone(UTC).date())
        end = next_month(high.astimezone(UTC).date())
        lo = datetime(start.year, start.month, 1, tzinfo=UTC)
        hi = datetime(end.year, end.month, 1, tzinfo=UTC)
        for other in partitions(conn):
            if other.is_default:
                continue
            if (other.start is None or other.start < hi) and (other.end is None or other.end > lo):
                raise ValueError(
                    f"The DEFAULT partition's rows ({lo:%Y-%m} to {hi:%Y-%m}) overlap "
                    f"{other.name}; adopt them by hand."
                )
        name = f"{TABLE}_{start:%Y_%m}_to_{end:%Y_%m}"
        db.drop_append_only(TABLE, conn)
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {DEFAULT}")
        cursor.execute(f"ALTER TABLE {DEFAULT} RENAME TO {name}")
        cursor.execute(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_bound CHECK (at >= %s AND at < %s)",
            [lo, hi],
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [lo, hi]
        )
        cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bound")
        _make_default(cursor)
        db.install_append_only(TABLE, conn)
    return name


def _make_default(cursor) -> None:
    cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")
    _copy_grants(cursor, TABLE, DEFAULT)


def _grants(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT DISTINCT a.grantee::regrole::text, a.privilege_type "
        "FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = to_regclass(%s) "
        "AND a.grantee <> c.relowner AND a.grantee <> 0 "
        "AND a.privilege_type IN ('SELECT', 'INSERT')",
        [table],
    )
    return cursor.fetchall()


def _copy_grants(cursor, source: str, target: str, grants=None) -> None:
    """SELECT and INSERT, and nothing else, for whoever had them on `source`."""
    for grantee, right in grants if grants is not None else _grants(cursor, source):
        # grantee comes out of regrole::text, quoted where it needs to be.
        cursor.execute(f"GRANT {right} ON {target} TO {grantee}")


# --- The migration ----------------------------------------------------------------------


def partition_table(conn) -> None:
    """Turn the ordinary audit table into a partitioned one, keeping every row where it is.

    The table is renamed and becomes the partition of everything up to the end of the month
    of its newest row (or of this month); an empty table (a fresh database) is dropped
    instead. Its two new indexes, (id, at) and (chain, seq), are the only work proportional
    to its size: build them beforehand with CREATE [UNIQUE] INDEX CONCURRENTLY under the
    names core_auditevent_id_at and core_auditevent_chain_seq to keep the migration short.
    """
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT max(at), max(id), pg_sequence_last_value(pg_get_serial_sequence(%s, 'id')) "  # noqa: S608
            f"FROM {TABLE}",
            [TABLE],
        )
        newest, max_id, last_id = cursor.fetchone()
        empty = newest is None
        today = datetime.now(UTC).date()
        until = next_month(max(today, newest.astimezone(UTC).date()) if newest else today)
        old = f"{TABLE}_before_{until:%Y_%m}"
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s",
            [TABLE],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(%s) AND contype = 'f'",
            [TABLE],
        )
        foreign_keys = cursor.fetchall()
        grants = _grants(cursor, TABLE)

        db.drop_append_only(TABLE, conn)
        if not empty:
            cursor.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_id_at ON {TABLE} (id, at)")
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_chain_seq ON {TABLE} (chain, seq)")
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
        cursor.execute(f"ALTER TABLE {old} ALTER COLUMN id DROP IDENTITY IF EXISTS")
        cursor.execute(f"ALTER TABLE {old} DROP CONSTRAINT IF EXISTS {TABLE}_pkey")
        cursor.execute(f"ALTER TABLE {old} DROP CONSTRAINT IF EXISTS audit_chain_seq_unique")

        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            "PARTITION BY RANGE (at)"
        )
        cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
        start = max(max_id or 0, last_id or 0)
        cursor.execute("SELECT setval(%s, %s, %s)", [f"{TABLE}_id_seq", max(start, 1), start > 0])
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, at)")
        cursor.execute(f"CREATE INDEX audit_chain_seq ON {TABLE} (chain, seq)")
        # Those four are replaced above (the first two were dropped with their constraints).
        skip = (f"{TABLE}_pkey", "audit_chain_seq_unique", f"{TABLE}_id_at", f"{TABLE}_chain_seq")
        for number, (name, definition) in enumerate(indexes):
            if name in skip:
                continue
            # The old table's index keeps its work under a new name and is attached below.
            cursor.execute(f"ALTER INDEX {name} RENAME TO {old}_{number}")
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
        _copy_grants(cursor, old, TABLE, grants)

        if empty:
            cursor.execute(f"DROP TABLE {old}")
        else:
            cursor.execute(
                f"ALTER TABLE {old} ADD CONSTRAINT {old}_pkey PRIMARY KEY USING INDEX {TABLE}_id_at"
            )
            cursor.execute(f"ALTER INDEX {TABLE}_chain_seq RENAME TO {old}_chain_seq")
            bound = datetime(until.year, until.month, 1, tzinfo=UTC)
            # With the CHECK in place, ATTACH trusts it instead of scanning the rows again.
            cursor.execute(f"ALTER TABLE {old} ADD CONSTRAINT {old}_bound CHECK (at < %s)", [bound])
            cursor.execute(
                f"ALTER TABLE {TABLE} ATTACH PARTITION {old} FOR VALUES FROM (MINVALUE) TO (%s)",
                [bound],
            )
            cursor.execute(f"ALTER TABLE {old} DROP CONSTRAINT {old}_bound")

        cursor.execute(_ENSURE_SQL)
        cursor.execute(
            f"SELECT * FROM {FUNCTION}(%s, %s)",  # noqa: S608 - our function
            [month_start(today), AHEAD + 1],
        )
        _make_default(cursor)
        db.install_append_only(TABLE, conn)


def unpartition_table(conn) -> None:
    """The migration backwards: one ordinary table again, every row copied into it."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s",
            [TABLE],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(%s) AND contype = 'f'",
            [TABLE],
        )
        foreign_keys = cursor.fetchall()
        grants = _grants(cursor, TABLE)
        cursor.execute(f"SELECT last_value, is_called FROM {TABLE}_id_seq")  # noqa: S608
        last_id, called = cursor.fetchone()
        flat = f"{TABLE}_flat"
        cursor.execute(f"CREATE TABLE {flat} (LIKE {TABLE} INCLUDING CONSTRAINTS)")
        cursor.execute(f"INSERT INTO {flat} SELECT * FROM {TABLE}")  # noqa: S608
        db.drop_append_only(TABLE, conn)
        cursor.execute(f"DROP TABLE {TABLE} CASCADE")
        cursor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(date, integer)")
        cursor.execute(f"ALTER TABLE {flat} RENAME TO {TABLE}")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)",
            [TABLE, last_id, called],
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT audit_chain_seq_unique UNIQUE (chain, seq)"
        )
        for name, definition in indexes:
            if name in (f"{TABLE}_pkey", "audit_chain_seq"):
                continue
            cursor.execute(definition.replace(" ON ONLY ", " ON "))
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
        _copy_grants(cursor, TABLE, TABLE, grants)
        db.install_append_only(TABLE, conn)


def row_estimates(conn=None) -> dict[str, int]:
    """Rows per partition as the planner's statistics have them (no count over the table)."""
    conn = conn or default_connection
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, greatest(c.reltuples, 0)::bigint FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        return dict(cursor.fetchall())
