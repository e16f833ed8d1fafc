# Renewals: a prescription names the one it renews; a refill request, the prescription that answered it.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("prescribing", "0005_formulary")]

    operations = [
        migrations.AddField(
            model_name="prescription",
            name="renews",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="renewed_by",
                to="prescribing.prescription",
            ),
        ),
        migrations.AddField(
            model_name="refillrequest",
            name="renewal",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="prescribing.prescription",
            ),
        ),
    ]
