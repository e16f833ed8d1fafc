# Reserved for: invitations and e-mail addresses. Fill operations here; keep the dependency chain as it is.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0005_nudges")]

    operations = []
