# Reserved for: renewals and schedule II fills. Fill operations here; keep the dependency chain as it is.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("prescribing", "0005_formulary")]

    operations = []
