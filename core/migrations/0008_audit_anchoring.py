"""Audit tamper resistance: TRUNCATE refused, the hash keyed, checkpoints written by beat.

Rows already written keep their plain SHA-256 hash (v=1) and are not re-hashed: re-hashing
means switching off the append-only guard and rewriting every row, which would also launder
any tampering done before this migration. New rows are HMAC-SHA256 with CONCORD_AUDIT_KEY
(v=2). The legacy rows are anchored by the first signed checkpoint (run
`manage.py audit_checkpoint` right after migrating; beat does it within five minutes): its
head hashes depend on every legacy row, and `audit_verify` refuses a legacy row after it.
"""

from django.db import migrations, models


def guard_all(apps, schema_editor):
    # Every append-only table gains the TRUNCATE guard; SQLite (which rebuilds a table when a
    # column is added) gets its row triggers back.
    from core.db import APPEND_ONLY_TABLES, install_append_only

    existing = set(schema_editor.connection.introspection.table_names())
    for table in APPEND_ONLY_TABLES:
        if table in existing:
            install_append_only(table, schema_editor.connection)


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Audit checkpoint",
        defaults={"task": "core.tasks.audit_checkpoint", "interval": interval},
    )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name="Audit checkpoint").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_credentials"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        # Existing rows are the legacy kind; rows written from now on are HMACs.
        migrations.AddField(
            model_name="auditevent",
            name="v",
            field=models.PositiveSmallIntegerField(
                choices=[(1, "SHA-256 (legacy)"), (2, "HMAC-SHA256 with CONCORD_AUDIT_KEY")],
                default=1,
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="v",
            field=models.PositiveSmallIntegerField(
                choices=[(1, "SHA-256 (legacy)"), (2, "HMAC-SHA256 with CONCORD_AUDIT_KEY")],
                default=2,
            ),
        ),
        migrations.RunPython(guard_all, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule),
    ]
