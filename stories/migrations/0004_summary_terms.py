# Reserved for: the summary's clinical-term list. Fill operations here; keep the dependency chain as it is.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("stories", "0003_safety_plan")]

    operations = []
