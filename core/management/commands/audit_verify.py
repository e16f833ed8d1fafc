from datetime import datetime, timedelta

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
        parser.add_argument(
            "--every-checkpoint",
            action="store_true",
            help="Compare each row with every head any checkpoint line recorded, not only the "
            "last line's (catches a rewrite by someone holding the key; memory grows with the "
            "file).",
        )
        parser.add_argument(
            "--max-age",
            type=int,
            default=None,
            metavar="MINUTES",
            help="Fail when the last checkpoint is older (the checkpoint task stopped).",
        )

    def handle(
        self,
        *args,
        as_of=None,
        require_checkpoint=False,
        every_checkpoint=False,
        max_age=None,
        **options,
    ):
        result = audit.verify(
            as_of=as_of,
            require_checkpoint=require_checkpoint,
            every_checkpoint=every_checkpoint,
            max_age=timedelta(minutes=max_age) if max_age is not None else None,
        )
        if not result.ok:
            raise CommandError(result.message)
        self.stdout.write(self.style.SUCCESS(result.message))
