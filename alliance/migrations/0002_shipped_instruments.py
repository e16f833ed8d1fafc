import json
from pathlib import Path

from django.db import migrations

# The definitions as they were when this migration was written: later edits to the JSON
# files become new versions through `manage.py import_instrument`, never silent changes.
SHIPPED = ["concord_alliance_v1.json", "phq9_v1.json", "gad7_v1.json"]
FOLDER = Path(__file__).resolve().parent.parent / "instruments"


def load(apps, schema_editor):
    Instrument = apps.get_model("alliance", "Instrument")
    for name in SHIPPED:
        definition = json.loads((FOLDER / name).read_text())
        Instrument.objects.get_or_create(
            key=definition["key"],
            version=definition["version"],
            defaults={
                "name": definition["name"],
                "kind": definition["kind"],
                "licence_note": definition["licence_note"],
                "definition": definition,
            },
        )
    AllianceSettings = apps.get_model("alliance", "AllianceSettings")
    if not AllianceSettings.objects.exists():
        AllianceSettings.objects.create()


class Migration(migrations.Migration):
    dependencies = [("alliance", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
