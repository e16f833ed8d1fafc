from django.db import migrations

TABLES = ["referrals_release", "referrals_revocation"]


def guard(apps, schema_editor):
    from core.db import install_append_only

    for table in TABLES:
        install_append_only(table, schema_editor.connection)


def unguard(apps, schema_editor):
    from core.db import drop_append_only

    for table in TABLES:
        drop_append_only(table, schema_editor.connection)


class Migration(migrations.Migration):
    """A signed release and its revocation never change: the database refuses it."""

    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunPython(guard, unguard)]
