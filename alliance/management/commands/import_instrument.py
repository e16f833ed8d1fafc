import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from alliance import services


class Command(BaseCommand):
    help = (
        "Add an instrument (for example a licensed one the clinic holds) from its JSON definition."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            definition = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        try:
            instrument = services.instrument_import(definition=definition)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Installed {instrument}. License: {instrument.licence_note}")
        )
