from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from core import audit


class Command(BaseCommand):
    help = (
        "Walk the hash-chained audit trail and compare it with the last signed checkpoint; "
        "report the first broken place (exit 1) or that it is intact."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=datetime.fromisoformat,
            default=None,
            help="Compare with the last checkpoint written at or before this ISO time "
            "(a backup taken then; the backup drill passes its dump time).",
        )
        parser.add_argument(
            "--require-checkpoint",
            action="store_true",
            help="Fail when there is no checkpoint yet (for production monitoring).",
        )

    def handle(self, *args, as_of=None, require_checkpoint=False, **options):
        result = audit.verify(as_of=as_of, require_checkpoint=require_checkpoint)
        if not result.ok:
            raise CommandError(result.message)
        self.stdout.write(self.style.SUCCESS(result.message))
