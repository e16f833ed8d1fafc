"""Reminders from the command line: what would go out and why, one sweep, or a loop for the
embedded mode (no broker, no beat: `make run` starts this beside the web server). Every
registered kind is swept, whatever its beat interval."""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from core import nudges


class Command(BaseCommand):
    help = "Schedule and send due reminders once each; --dry-run lists them; --loop keeps going."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what is due and why; send nothing."
        )
        parser.add_argument(
            "--loop", type=int, metavar="SECONDS", help="Sweep and deliver every SECONDS."
        )

    def handle(self, *args, dry_run=False, loop=None, **options):
        if dry_run:
            due = nudges.due(timezone.localdate())
            for c in due:
                self.stdout.write(
                    f"{c.kind:<24} to user {c.recipient_id:<6} about {c.subject} (due {c.due_on}): {c.reason or c.title}"
                )
            self.stdout.write(f"{len(due)} reminder(s) due; nothing was sent.")
            return
        while True:
            scheduled = nudges.sweep()
            counts = nudges.deliver()
            self.stdout.write(
                f"{timezone.now():%H:%M:%S} scheduled {scheduled} (new or known), delivered {counts}"
            )
            if not loop:
                return
            time.sleep(loop)
