# The formulary and the duplicate/combination rules: their tables, the medication's link to
# its formulary entry, the decision's confirmed warnings, and the shipped data
# (prescribing/formulary/*.json, as it was when this migration was written; later edits are
# loaded with `manage.py import_formulary`).
import json
from pathlib import Path

import django.db.models.deletion
from django.db import migrations, models

DATA = Path(__file__).resolve().parent.parent / "formulary"


def load_shipped(apps, schema_editor):
    entry_model = apps.get_model("prescribing", "FormularyEntry")
    rule_model = apps.get_model("prescribing", "InteractionRule")
    with open(DATA / "medicines.json", encoding="utf-8") as handle:
        medicines = json.load(handle)["medicines"]
    with open(DATA / "rules.json", encoding="utf-8") as handle:
        rules = json.load(handle)["rules"]
    # Only the keys this migration's tables have, whatever the files gain later.
    for row in medicines:
        entry_model.objects.update_or_create(
            name=row["name"],
            defaults={
                "rxnorm_code": row.get("rxnorm_code", ""),
                "schedule": row["schedule"],
                "drug_class": row["drug_class"],
                "usual_strengths": list(row.get("usual_strengths", [])),
                "form": row.get("form", ""),
            },
        )
    for row in rules:
        rule_model.objects.update_or_create(
            code=row["code"],
            defaults={
                "kind": row["kind"],
                "class_a": row.get("class_a", ""),
                "class_b": row.get("class_b", ""),
                "message": row["message"],
            },
        )


def code_existing(apps, schema_editor):
    """Medicines already on plans whose name and schedule are a formulary entry's are coded
    with it; any other stays free text (not coded), as it was typed."""
    entry_model = apps.get_model("prescribing", "FormularyEntry")
    medication_model = apps.get_model("prescribing", "Medication")
    entries = {e.name.casefold(): e for e in entry_model.objects.all()}
    for medication in medication_model.objects.filter(formulary__isnull=True).iterator():
        entry = entries.get(" ".join(medication.drug_name.split()).casefold())
        if entry is None or entry.schedule != medication.schedule:
            continue
        medication_model.objects.filter(pk=medication.pk).update(
            formulary=entry, rxnorm_code=medication.rxnorm_code or entry.rxnorm_code
        )


class Migration(migrations.Migration):
    dependencies = [("prescribing", "0004_date_ranges")]

    operations = [
        migrations.CreateModel(
            name="FormularyEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, unique=True)),
                (
                    "rxnorm_code",
                    models.CharField(
                        blank=True,
                        help_text="Ingredient RXCUI; empty if unchecked.",
                        max_length=20,
                        verbose_name="RxNorm code",
                    ),
                ),
                (
                    "schedule",
                    models.CharField(
                        choices=[
                            ("none", "Not controlled"),
                            ("II", "Schedule II"),
                            ("III", "Schedule III"),
                            ("IV", "Schedule IV"),
                            ("V", "Schedule V"),
                        ],
                        max_length=4,
                    ),
                ),
                (
                    "drug_class",
                    models.CharField(
                        choices=[
                            ("ssri", "SSRI"),
                            ("snri", "SNRI"),
                            ("tca", "Tricyclic antidepressant"),
                            ("maoi", "MAOI"),
                            ("other_antidepressant", "Other antidepressant"),
                            ("antipsychotic", "Antipsychotic"),
                            ("mood_stabiliser", "Mood stabiliser"),
                            ("benzodiazepine", "Benzodiazepine"),
                            ("hypnotic", "Hypnotic"),
                            ("stimulant", "Stimulant"),
                            ("wakefulness", "Wakefulness-promoting"),
                            ("non_stimulant_adhd", "Non-stimulant for ADHD"),
                            ("alpha_agonist", "Alpha-2 agonist"),
                            ("alpha_blocker", "Alpha-1 blocker"),
                            ("beta_blocker", "Beta blocker"),
                            ("anxiolytic", "Anxiolytic"),
                            ("gabapentinoid", "Gabapentinoid"),
                            ("anticonvulsant", "Anticonvulsant"),
                            ("opioid", "Opioid"),
                            ("opioid_antagonist", "Opioid antagonist"),
                            ("alcohol_use_treatment", "Alcohol-use treatment"),
                            ("smoking_cessation", "Smoking cessation"),
                            ("other", "Other"),
                        ],
                        max_length=30,
                    ),
                ),
                ("usual_strengths", models.JSONField(blank=True, default=list)),
                (
                    "form",
                    models.CharField(
                        blank=True, help_text="The usual form, e.g. tablet.", max_length=60
                    ),
                ),
                (
                    "active",
                    models.BooleanField(default=True, help_text="Offered when adding a medicine."),
                ),
            ],
            options={
                "verbose_name_plural": "formulary entries",
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("rxnorm_code", ""), _negated=True),
                        fields=("rxnorm_code",),
                        name="one_entry_per_rxcui",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("name", ""), _negated=True),
                        name="formulary_name_not_blank",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="InteractionRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField(max_length=60, unique=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("same_drug", "Two current medicines of one drug"),
                            ("same_class", "Two current medicines of one class"),
                            ("class_pair", "A medicine of one class with one of another"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "class_a",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("ssri", "SSRI"),
                            ("snri", "SNRI"),
                            ("tca", "Tricyclic antidepressant"),
                            ("maoi", "MAOI"),
                            ("other_antidepressant", "Other antidepressant"),
                            ("antipsychotic", "Antipsychotic"),
                            ("mood_stabiliser", "Mood stabiliser"),
                            ("benzodiazepine", "Benzodiazepine"),
                            ("hypnotic", "Hypnotic"),
                            ("stimulant", "Stimulant"),
                            ("wakefulness", "Wakefulness-promoting"),
                            ("non_stimulant_adhd", "Non-stimulant for ADHD"),
                            ("alpha_agonist", "Alpha-2 agonist"),
                            ("alpha_blocker", "Alpha-1 blocker"),
                            ("beta_blocker", "Beta blocker"),
                            ("anxiolytic", "Anxiolytic"),
                            ("gabapentinoid", "Gabapentinoid"),
                            ("anticonvulsant", "Anticonvulsant"),
                            ("opioid", "Opioid"),
                            ("opioid_antagonist", "Opioid antagonist"),
                            ("alcohol_use_treatment", "Alcohol-use treatment"),
                            ("smoking_cessation", "Smoking cessation"),
                            ("other", "Other"),
                        ],
                        max_length=30,
                    ),
                ),
                (
                    "class_b",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("ssri", "SSRI"),
                            ("snri", "SNRI"),
                            ("tca", "Tricyclic antidepressant"),
                            ("maoi", "MAOI"),
                            ("other_antidepressant", "Other antidepressant"),
                            ("antipsychotic", "Antipsychotic"),
                            ("mood_stabiliser", "Mood stabiliser"),
                            ("benzodiazepine", "Benzodiazepine"),
                            ("hypnotic", "Hypnotic"),
                            ("stimulant", "Stimulant"),
                            ("wakefulness", "Wakefulness-promoting"),
                            ("non_stimulant_adhd", "Non-stimulant for ADHD"),
                            ("alpha_agonist", "Alpha-2 agonist"),
                            ("alpha_blocker", "Alpha-1 blocker"),
                            ("beta_blocker", "Beta blocker"),
                            ("anxiolytic", "Anxiolytic"),
                            ("gabapentinoid", "Gabapentinoid"),
                            ("anticonvulsant", "Anticonvulsant"),
                            ("opioid", "Opioid"),
                            ("opioid_antagonist", "Opioid antagonist"),
                            ("alcohol_use_treatment", "Alcohol-use treatment"),
                            ("smoking_cessation", "Smoking cessation"),
                            ("other", "Other"),
                        ],
                        max_length=30,
                    ),
                ),
                (
                    "message",
                    models.CharField(help_text="What the prescriber reads.", max_length=500),
                ),
                ("active", models.BooleanField(default=True)),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("kind", "same_drug"),
                            models.Q(
                                ("class_b", ""),
                                ("kind", "same_class"),
                                models.Q(("class_a", ""), _negated=True),
                            ),
                            models.Q(
                                ("kind", "class_pair"),
                                models.Q(("class_a", ""), _negated=True),
                                models.Q(("class_b", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="rule_classes_fit_kind",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("message", ""), _negated=True),
                        name="rule_message_not_blank",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="decisionrecord",
            name="warning_reason",
            field=models.TextField(
                blank=True, max_length=2000, verbose_name="Why, despite the warnings"
            ),
        ),
        migrations.AddField(
            model_name="decisionrecord",
            name="warnings_confirmed",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="medication",
            name="formulary",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="prescribing.formularyentry",
            ),
        ),
        migrations.RunPython(load_shipped, migrations.RunPython.noop),
        migrations.RunPython(code_existing, migrations.RunPython.noop),
    ]
