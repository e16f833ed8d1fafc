# Reserved for: audit tamper resistance. Fill operations here; keep the dependency chain as it is.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0007_credentials")]

    operations = []
