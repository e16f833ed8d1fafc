# Reserved for: who can read the team thread. Fill operations here; keep the dependency chain as it is.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("referrals", "0003_grant_scope")]

    operations = []
