# Notes are bounded in length (the Markdown renderer's time is bounded by it), and goal target
# dates stay in core's sensible range.
from django.db import migrations, models

import core.dates


class Migration(migrations.Migration):
    dependencies = [("stories", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="narrativenote",
            name="body",
            field=models.TextField(max_length=5000),
        ),
        migrations.AlterField(
            model_name="goal",
            name="target_date",
            field=models.DateField(blank=True, null=True, validators=[core.dates.SensibleDate()]),
        ),
    ]
