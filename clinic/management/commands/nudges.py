"""Reminders from the command line: what would go out and why, one sweep, or a loop for the
embedded mode (no broker, no beat: `make run` starts this beside the web server)."""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from alliance import selectors as alliance_selectors
from core import nudges
from prescribing import selectors as prescribing_selectors
from referrals import selectors as referrals_selectors

SOURCES = (
    prescribing_selectors.refill_nudge_candidates,
    alliance_selectors.check_in_nudge_candidates,
    referrals_selectors.nudge_candidates,
)


def candidates(on):
    return [c for source in SOURCES for c in source(on=on)]


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
            due = candidates(timezone.localdate())
            for c in due:
                self.stdout.write(
                    f"{c.kind:<24} to user {c.recipient_id:<6} about {c.subject} (due {c.due_on}): {c.reason or c.title}"
                )
            self.stdout.write(f"{len(due)} reminder(s) due; nothing was sent.")
            return
        while True:
            scheduled = nudges.schedule(candidates(timezone.localdate()))
            counts = nudges.deliver()
            self.stdout.write(
                f"{timezone.now():%H:%M:%S} scheduled {scheduled} (new or known), delivered {counts}"
            )
            if not loop:
                return
            time.sleep(loop)
