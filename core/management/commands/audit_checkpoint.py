from django.core.management.base import BaseCommand, CommandError

from core import audit


class Command(BaseCommand):
    help = (
        "Append a signed checkpoint of every audit chain head and the event count to "
        "CONCORD_AUDIT_CHECKPOINT_PATH (beat does it every 5 minutes)."
    )

    def handle(self, *args, **options):
        try:
            written = audit.checkpoint()
        except audit.CheckpointError as error:
            raise CommandError(f"No checkpoint written: {error}") from error
        except OSError as error:
            raise CommandError(f"No checkpoint written: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {written}: {written.count} events in {len(written.heads)} chains."
            )
        )
