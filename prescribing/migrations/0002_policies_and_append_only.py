from django.db import migrations

# Defaults a clinic can edit in the admin. Lead times: 7 days for ordinary medicines, 10
# business days for controlled ones. Validity: a year for ordinary and schedule V (a common
# state rule); III–IV carry the federal six months in code anyway.
DEFAULTS = [
    ("", "none", 7, False, None, 12, "Ordinary medicines."),
    ("", "II", 10, True, 0, None, "No refills: each fill needs a new prescription."),
    ("", "III", 10, True, 5, 6, "Federal: at most 5 refills within 6 months."),
    ("", "IV", 10, True, 5, 6, "Federal: at most 5 refills within 6 months."),
    ("", "V", 10, True, None, 12, "As the prescriber authorises."),
]


def seed(apps, schema_editor):
    SupplyPolicy = apps.get_model("prescribing", "SupplyPolicy")
    for state, schedule, lead, business, max_refills, validity, note in DEFAULTS:
        SupplyPolicy.objects.get_or_create(
            state=state,
            schedule=schedule,
            defaults={
                "lead_days": lead,
                "lead_in_business_days": business,
                "max_refills": max_refills,
                "validity_months": validity,
                "note": note,
            },
        )


def append_only(apps, schema_editor):
    from core.db import install_append_only

    install_append_only("prescribing_decisionrecord", schema_editor.connection)


def lift_append_only(apps, schema_editor):
    from core.db import drop_append_only

    drop_append_only("prescribing_decisionrecord", schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("prescribing", "0001_initial")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(append_only, lift_append_only),
    ]
