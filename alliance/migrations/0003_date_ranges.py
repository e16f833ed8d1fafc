# Visit and consultation dates stay in core's sensible range (core.dates).
import django.utils.timezone
from django.db import migrations, models

import core.dates


class Migration(migrations.Migration):
    dependencies = [("alliance", "0002_shipped_instruments")]

    operations = [
        migrations.AlterField(
            model_name="consultation",
            name="held_on",
            field=models.DateField(
                default=django.utils.timezone.localdate, validators=[core.dates.SensibleDate()]
            ),
        ),
        migrations.AlterField(
            model_name="schedule",
            name="next_visit_on",
            field=models.DateField(blank=True, null=True, validators=[core.dates.SensibleDate()]),
        ),
    ]
