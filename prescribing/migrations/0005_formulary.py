# Reserved for: the formulary and the class rules. Fill operations here; keep the dependency chain as it is.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("prescribing", "0004_date_ranges")]

    operations = []
