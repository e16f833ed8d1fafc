# Consultations written before they had an audience were written for the patient to read (the
# form said so): they stay shared. New ones are between the clinicians unless they choose.
from django.db import migrations, models


def earlier_ones_were_shared(apps, schema_editor):
    Consultation = apps.get_model("alliance", "Consultation")
    Consultation.objects.update(audience="patient")


class Migration(migrations.Migration):
    dependencies = [("alliance", "0003_date_ranges")]

    operations = [
        migrations.AddField(
            model_name="consultation",
            name="audience",
            field=models.CharField(
                choices=[
                    ("clinicians", "Between the patient's clinicians"),
                    ("patient", "Shared with the patient"),
                ],
                default="clinicians",
                max_length=20,
            ),
        ),
        migrations.RunPython(earlier_ones_were_shared, migrations.RunPython.noop),
    ]
