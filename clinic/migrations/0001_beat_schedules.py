from django.db import migrations

# Default schedules, editable in the admin (django-celery-beat): sweeps every 15 minutes,
# delivery every minute (deferred reminders leave quiet hours on time).
SCHEDULES = [
    ("Refill and renewal nudges", "prescribing.tasks.sweep_refill_nudges", 15),
    ("Check-in reminders before visits", "alliance.tasks.sweep_check_in_nudges", 15),
    ("Unanswered referrals and ending releases", "referrals.tasks.sweep_referral_and_release_nudges", 15),
    ("Deliver due reminders", "core.tasks.deliver_nudges", 1),
]


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
