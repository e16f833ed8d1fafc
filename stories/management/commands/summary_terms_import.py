"""Replace the clinic's list of clinical terms the summary warns about, from a CSV file."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from stories import services, terms


class Command(BaseCommand):
    help = (
        "Replace the summary's clinical-term list with a CSV file (columns: term, match_case "
        "yes/no, instead). Without a file, restores the list shipped with Concord."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(terms.SHIPPED))

    def handle(self, *args, path, **options):
        try:
            new = terms.read_csv(path)
        except FileNotFoundError:
            raise CommandError(f"No file at {path}. Nothing was replaced.") from None
        except ValueError as exc:
            raise CommandError(f"{exc} Nothing was replaced.") from None
        try:
            count = services.summary_terms_replace(terms=new)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"The summary now warns about {count} terms."))
