# Date ranges on fills, prescriptions and the other dates a person types (core.dates).
import django.utils.timezone
from django.db import migrations, models

import core.dates


class Migration(migrations.Migration):
    dependencies = [("prescribing", "0003_supply_dates")]

    operations = [
        migrations.AlterField(
            model_name="decisionrecord",
            name="decided_on",
            field=models.DateField(
                default=django.utils.timezone.localdate, validators=[core.dates.SensibleDate()]
            ),
        ),
        migrations.AlterField(
            model_name="fill",
            name="filled_on",
            field=models.DateField(validators=[core.dates.SensibleDate()]),
        ),
        migrations.AlterField(
            model_name="medication",
            name="start_date",
            field=models.DateField(blank=True, null=True, validators=[core.dates.SensibleDate()]),
        ),
        migrations.AlterField(
            model_name="medication",
            name="stop_date",
            field=models.DateField(blank=True, null=True, validators=[core.dates.SensibleDate()]),
        ),
        migrations.AlterField(
            model_name="observation",
            name="observed_on",
            field=models.DateField(
                default=django.utils.timezone.localdate, validators=[core.dates.SensibleDate()]
            ),
        ),
        migrations.AlterField(
            model_name="prescription",
            name="earliest_fill_on",
            field=models.DateField(blank=True, null=True, validators=[core.dates.SensibleDate()]),
        ),
        migrations.AlterField(
            model_name="prescription",
            name="written_on",
            field=models.DateField(
                default=django.utils.timezone.localdate, validators=[core.dates.SensibleDate()]
            ),
        ),
    ]
