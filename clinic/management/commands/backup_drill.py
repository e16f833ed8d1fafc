"""Backup drill: dump the database, restore it into a scratch database, and prove it whole.

    manage.py backup_drill [--scratch NAME]

PostgreSQL only. Compares the row count of every table between the live and the restored
database and runs the audit chain verification against the restored copy. Exits non-zero
on any difference. The restored trail is also compared with the last audit checkpoint
written before the dump began. The scratch database is dropped afterwards.
"""

import os
import subprocess
import tempfile

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.utils import timezone


class Command(BaseCommand):
    help = "pg_dump, restore into a scratch database, compare row counts, verify the audit chain."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scratch", default="", help="Name of the scratch database (default: <db>_drill)."
        )

    def handle(self, *args, scratch="", **options):
        if connection.vendor != "postgresql":
            raise CommandError("The backup drill needs PostgreSQL (set DATABASE_URL).")
        db = connection.settings_dict
        scratch = scratch or f"{db['NAME']}_drill"
        env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
        common = [
            "-h",
            db.get("HOST") or "127.0.0.1",
            "-p",
            str(db.get("PORT") or 5432),
            "-U",
            db.get("USER") or "postgres",
        ]
        # A checkpoint written while the dump runs may record events the dump does not hold.
        dumped_at = timezone.now()
        with tempfile.TemporaryDirectory() as folder:
            dump = os.path.join(folder, "concord.dump")
            self._run(["pg_dump", *common, "-Fc", "-f", dump, db["NAME"]], env)
            self._run(["dropdb", *common, "--if-exists", scratch], env)
            self._run(["createdb", *common, scratch], env)
            try:
                self._run(["pg_restore", *common, "--no-owner", "-d", scratch, dump], env)
                self._compare(db, scratch, dumped_at)
            finally:
                connections.close_all()
                self._run(["dropdb", *common, "--if-exists", scratch], env)
        self.stdout.write(
            self.style.SUCCESS(
                "Backup drill passed: the restored copy matches and its audit chain is intact."
            )
        )

    def _run(self, command, env):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise CommandError(f"{command[0]} failed: {result.stderr.strip()[:500]}")

    def _compare(self, db, scratch, dumped_at):
        """Counts through a separate connection; the audit check in a separate process, as
        an operator would run it against the restored database."""
        import sys

        import psycopg

        tables = sorted({model._meta.db_table for model in apps.get_models()})
        live = self._counts(connection, tables)
        conninfo = {
            "host": db.get("HOST") or "127.0.0.1",
            "port": db.get("PORT") or 5432,
            "user": db.get("USER") or "postgres",
            "password": db.get("PASSWORD") or None,
            "dbname": scratch,
        }
        with psycopg.connect(**conninfo) as copy:
            restored = self._counts(copy, tables)
        differ = [
            f"{t}: {live[t]} live, {restored[t]} restored" for t in tables if live[t] != restored[t]
        ]
        if differ:
            raise CommandError("Row counts differ: " + "; ".join(differ))
        self.stdout.write(f"{len(tables)} tables, {sum(live.values()):,} rows: identical counts.")
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        url = f"postgres://{conninfo['user']}{password}@{conninfo['host']}:{conninfo['port']}/{scratch}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "CONCORD_PROFILE": "test",
            # The same key and checkpoints as the live database's.
            "CONCORD_AUDIT_KEY": settings.CONCORD_AUDIT_KEY,
            "CONCORD_AUDIT_CHECKPOINT_PATH": str(settings.CONCORD_AUDIT_CHECKPOINT_PATH),
        }
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "audit_verify", "--as-of", dumped_at.isoformat()],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=str(settings.BASE_DIR),
        )
        if result.returncode != 0:
            raise CommandError(
                f"Restored audit chain: {(result.stderr or result.stdout).strip().splitlines()[-1]}"
            )
        self.stdout.write(result.stdout.strip())

    @staticmethod
    def _counts(conn, tables):
        counts = {}
        with conn.cursor() as cursor:
            for table in tables:
                cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - table names from our models
                counts[table] = cursor.fetchone()[0]
        return counts
