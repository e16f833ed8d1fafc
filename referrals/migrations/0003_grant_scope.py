# Reserved for: release and referral grant scope. Fill operations here; keep the dependency chain as it is.
import django.db.models.deletion
from django.db import migrations, models

import referrals.models


class Migration(migrations.Migration):
    """A referral remembers the care-team place accepting it gave, so closing it ends that place.

    The release's expiry becomes an ExpiryField: the same column, read back within what Python
    can hold. The state changes only: a release's table is append-only, and SQLite would
    rebuild it (dropping its guard triggers) for an AlterField it does not need."""

    dependencies = [("core", "0001_initial"), ("referrals", "0002_append_only")]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="membership",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.careteammembership",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="release",
                    name="expires_at",
                    field=referrals.models.ExpiryField(),
                ),
            ],
        ),
    ]
