import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0008_audit_anchoring")]

    operations = [
        migrations.AddField(
            model_name="practice",
            name="after_hours_phone",
            field=models.CharField(
                blank=True,
                max_length=30,
                validators=[
                    django.core.validators.RegexValidator(
                        "^\\+?[0-9][0-9 ().-]{5,28}$",
                        "Enter a phone number with digits, spaces, brackets or dashes, e.g. (555) 010-0199.",
                    )
                ],
                verbose_name="after-hours phone",
            ),
        ),
        migrations.AddField(
            model_name="practice",
            name="after_hours_instructions",
            field=models.TextField(
                blank=True,
                help_text="What a patient should do out of hours, in plain words.",
                max_length=1000,
                verbose_name="after-hours instructions",
            ),
        ),
        migrations.AddField(
            model_name="practice",
            name="reply_time",
            field=models.CharField(
                blank=True,
                help_text="Completes the sentence “Your care team will be in touch …”, e.g. “within one business day”. Promise no more than the practice keeps.",
                max_length=120,
                verbose_name="when the care team replies",
            ),
        ),
    ]
