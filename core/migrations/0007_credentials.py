# Reserved for: API tokens, authenticator secrets, admin audit. Fill operations here; keep the dependency chain as it is.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0006_invitation_identity")]

    operations = []
