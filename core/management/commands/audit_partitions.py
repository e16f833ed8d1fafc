"""The audit table's monthly partitions (PostgreSQL).

    manage.py audit_partitions                  # list them, with their rows (an estimate)
    manage.py audit_partitions --ahead 3        # make this month's and the next 3 (as beat does)
    manage.py audit_partitions --adopt-default  # the DEFAULT partition's rows become a partition

Exit 1 when rows are waiting in the DEFAULT partition (a month beat did not make in time).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core import audit_partitions


class Command(BaseCommand):
    help = (
        "List, make ahead, or adopt the DEFAULT partition of the audit table's monthly partitions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, default=None, help="Months to make ahead.")
        parser.add_argument(
            "--adopt-default",
            action="store_true",
            help="Make the DEFAULT partition's rows a partition of their months (as the owner).",
        )

    def handle(self, *args, ahead=None, adopt_default=False, **options):
        if not audit_partitions.is_partitioned(connection):
            raise CommandError("The audit table is partitioned on PostgreSQL only.")
        if adopt_default:
            try:
                name = audit_partitions.adopt_default(connection)
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"Adopted as {name}." if name else "The DEFAULT partition is empty.")
        if ahead is not None:
            for name, outcome in audit_partitions.ensure(months=ahead + 1, conn=connection):
                self.stdout.write(f"{name}: {outcome}")
        estimates = audit_partitions.row_estimates(connection)
        for partition in audit_partitions.partitions(connection):
            if partition.is_default:
                span = "DEFAULT"
            else:
                start = f"{partition.start:%Y-%m-%d}" if partition.start else "the beginning"
                span = f"{start} to {partition.end:%Y-%m-%d}" if partition.end else f"{start} on"
            self.stdout.write(
                f"{partition.name}: {span}, about {estimates.get(partition.name, 0):,} rows"
            )
        waiting = audit_partitions.default_rows(connection)
        if waiting:
            raise CommandError(
                f"{waiting} rows are in the DEFAULT partition: run with --adopt-default."
            )
