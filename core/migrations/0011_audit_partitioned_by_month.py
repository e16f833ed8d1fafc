"""The audit table partitioned by month on PostgreSQL (SQLite keeps one ordinary table).

Works on a table full of rows without copying them: the table becomes the partition of
everything up to the end of the current month (see core.audit_partitions.partition_table),
the next months get their own partitions, and a DEFAULT partition takes anything else. The
append-only triggers cover the parent and every partition. Django's model state is
unchanged: the ORM reads and writes the parent as before.

Beat makes the months ahead daily ("Audit partitions ahead", core.tasks.audit_partitions).
After migrating, run `manage.py db_roles --apply` as usual: it grants the app role SELECT and
INSERT on every partition and EXECUTE on the function that makes new ones.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from core.audit_partitions import partition_table

    partition_table(schema_editor.connection)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from core.audit_partitions import unpartition_table

    unpartition_table(schema_editor.connection)


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="days")
    PeriodicTask.objects.get_or_create(
        name="Audit partitions ahead",
        defaults={"task": "core.tasks.audit_partitions", "interval": interval},
    )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name="Audit partitions ahead").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_audit_actions_prescribe_answer_acknowledge"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RunPython(schedule, unschedule),
    ]
