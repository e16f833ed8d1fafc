# The summary's clinical-term list: the model, and the list shipped in
# stories/data/summary_terms.csv loaded once. Later changes are the clinic's
# (manage.py summary_terms_import), so reversing this migration only drops the table.
import csv
from pathlib import Path

from django.db import migrations, models

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "summary_terms.csv"


def load_shipped(apps, schema_editor):
    # Read here, not through stories.terms: a migration must keep working as the code moves on.
    SummaryTerm = apps.get_model("stories", "SummaryTerm")
    with open(SHIPPED, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    SummaryTerm.objects.bulk_create(
        [
            SummaryTerm(
                text=" ".join(row["term"].split()),
                match_case=row["match_case"].strip().lower() == "yes",
                instead=(row.get("instead") or "").strip()[:200],
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("stories", "0003_safety_plan")]

    operations = [
        migrations.CreateModel(
            name="SummaryTerm",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("text", models.CharField(max_length=60, unique=True)),
                ("match_case", models.BooleanField(default=False, help_text="Abbreviations (SI, MDD) match only as written.")),
                ("instead", models.CharField(blank=True, max_length=200)),
            ],
            options={"ordering": ["text"]},
        ),
        migrations.AddField(
            model_name="personsummary",
            name="terms_kept",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="summaryrevision",
            name="terms_kept",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.RunPython(load_shipped, migrations.RunPython.noop),
    ]
