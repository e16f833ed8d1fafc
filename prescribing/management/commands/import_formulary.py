"""Load the clinic's formulary and its duplicate/combination rules from JSON files."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from prescribing import coding


class Command(BaseCommand):
    help = (
        "Create or update the formulary (medicines: name, rxnorm_code, schedule, drug_class, "
        "usual_strengths, form) and the rules (code, kind, class_a, class_b, message) from JSON "
        "files shaped like prescribing/formulary/*.json. Without paths, loads the shipped files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--medicines", default=str(coding.MEDICINES_FILE))
        parser.add_argument("--rules", default=str(coding.RULES_FILE))
        parser.add_argument(
            "--retire-missing",
            action="store_true",
            help="Stop offering medicines and rules that the files do not name.",
        )

    def handle(self, *args, medicines, rules, retire_missing, **options):
        try:
            medicine_rows = coding.read(medicines, "medicines")
            rule_rows = coding.read(rules, "rules")
        except FileNotFoundError as exc:
            raise CommandError(f"No file at {exc.filename}. Nothing was changed.") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise CommandError(
                f'The files must be JSON objects with a list under "medicines" and "rules" ({exc}). '
                "Nothing was changed."
            ) from None
        try:
            count, rule_count = coding.formulary_import(
                medicines=medicine_rows, rule_rows=rule_rows, retire_missing=retire_missing
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages) + " Nothing was changed.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"The formulary has {count} medicines and {rule_count} rules from the files."
            )
        )
