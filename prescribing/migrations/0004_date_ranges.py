# Reserved for: date ranges on fills and prescriptions. Fill operations here; keep the dependency chain as it is.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("prescribing", "0003_supply_dates")]

    operations = []
