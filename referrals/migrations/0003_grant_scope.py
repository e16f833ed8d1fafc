# Reserved for: release and referral grant scope. Fill operations here; keep the dependency chain as it is.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("referrals", "0002_append_only")]

    operations = []
