# Whose need a decision serves, and the deprescribing review's answer.
#
# Decision records are append-only (a trigger refuses UPDATE), and no need is invented for a
# decision made before Concord asked: the column is added with "not recorded" as its default,
# which PostgreSQL writes into the existing rows with the column itself (no UPDATE), and new
# decisions then default to the empty list ("not asked") and say their own.
import django.core.validators  # noqa: F401
from django.db import migrations, models

import core.dates


def not_recorded():
    return ["not_recorded"]


def append_only(apps, schema_editor):
    """The goals a decision served are part of it: append-only like the decision. SQLite
    rebuilds the decision table to add a column, which drops its triggers: put them back."""
    from core.db import install_append_only

    for table in ("prescribing_decisionrecord", "prescribing_decisionrecord_goals"):
        install_append_only(table, schema_editor.connection)


def lift_append_only(apps, schema_editor):
    from core.db import drop_append_only

    drop_append_only("prescribing_decisionrecord_goals", schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("prescribing", "0006_renewals"),
        ("stories", "0004_summary_terms"),
    ]

    operations = [
        migrations.AddField(
            model_name="decisionrecord",
            name="needs",
            field=models.JSONField(blank=True, default=not_recorded),
        ),
        migrations.AlterField(
            model_name="decisionrecord",
            name="needs",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="decisionrecord",
            name="need_reflection",
            field=models.CharField(
                blank=True, max_length=300, verbose_name="A one-line reflection"
            ),
        ),
        migrations.AddField(
            model_name="decisionrecord",
            name="no_goal_reason",
            field=models.TextField(
                blank=True,
                max_length=1000,
                verbose_name="Why it serves none of the patient's goals",
            ),
        ),
        migrations.AddField(
            model_name="decisionrecord",
            name="goals",
            field=models.ManyToManyField(blank=True, related_name="+", to="stories.goal"),
        ),
        migrations.AddField(
            model_name="decisionrecord",
            name="review_outcome",
            field=models.CharField(
                blank=True,
                choices=[
                    ("continue", "Continue, for a reason"),
                    ("taper", "Taper"),
                    ("stop", "Stop"),
                    ("snooze", "Review later"),
                ],
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="decisionrecord",
            name="review_flags",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="decisionrecord",
            name="review_until",
            field=models.DateField(
                blank=True, null=True, validators=[core.dates.sensible_date]
            ),
        ),
        migrations.AlterField(
            model_name="decisionrecord",
            name="kind",
            field=models.CharField(
                choices=[
                    ("start", "Start"),
                    ("dose_change", "Dose change"),
                    ("switch", "Switch"),
                    ("pause", "Pause"),
                    ("stop", "Stop"),
                    ("restart", "Restart"),
                    ("purpose", "Purpose and goals in the patient's words"),
                    ("review", "Deprescribing review"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(append_only, lift_append_only),
    ]
