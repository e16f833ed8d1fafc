from django.core.management.base import BaseCommand, CommandError

from core import audit


class Command(BaseCommand):
    help = "Walk the hash-chained audit trail; report the first broken link or that it is intact."

    def handle(self, *args, **options):
        result = audit.verify()
        if not result.ok:
            raise CommandError(result.message)
        self.stdout.write(self.style.SUCCESS(result.message))
