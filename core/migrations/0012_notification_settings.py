from django.db import migrations, models


def keep_what_people_meant(apps, schema_editor):
    """Rows written before the settings page (by hand or by a script): an opt-out of every
    reminder becomes no reminder e-mails (in Concord they now always appear), and a window
    with one end, or none between its ends, becomes no quiet hours."""
    Preference = apps.get_model("core", "NotificationPreference")
    Preference.objects.filter(reminders_opt_out=True).update(email_enabled=False)
    for pref in Preference.objects.exclude(quiet_from=None, quiet_until=None):
        if pref.quiet_from is None or pref.quiet_until is None or pref.quiet_from == pref.quiet_until:
            pref.quiet_from = pref.quiet_until = None
            pref.save(update_fields=["quiet_from", "quiet_until"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0011_audit_partitioned_by_month"),
    ]

    operations = [
        migrations.AddField(
            model_name="notificationpreference",
            name="email_off",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Groups of reminders (core.nudges group keys) not sent by e-mail.",
            ),
        ),
        migrations.RunPython(keep_what_people_meant, migrations.RunPython.noop),
        migrations.RemoveField(model_name="notificationpreference", name="in_app_enabled"),
        migrations.RemoveField(model_name="notificationpreference", name="reminders_opt_out"),
        migrations.AlterField(
            model_name="notificationpreference",
            name="time_zone",
            field=models.CharField(
                blank=True,
                help_text="Empty: a patient's record's time zone, or the clinic's for anyone else.",
                max_length=64,
            ),
        ),
        migrations.AddConstraint(
            model_name="notificationpreference",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("quiet_from__isnull", True), ("quiet_until__isnull", True)),
                    models.Q(
                        ("quiet_from__isnull", False),
                        ("quiet_until__isnull", False),
                        models.Q(("quiet_from", models.F("quiet_until")), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="quiet_hours_both_or_neither",
            ),
        ),
    ]
