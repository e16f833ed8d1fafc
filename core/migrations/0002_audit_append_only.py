from django.db import migrations


def install(apps, schema_editor):
    from core.audit import install_append_only_triggers

    install_append_only_triggers(schema_editor.connection)


def uninstall(apps, schema_editor):
    from core.audit import drop_append_only_triggers

    drop_append_only_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    """UPDATE and DELETE on the audit table are refused by the database itself."""

    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
