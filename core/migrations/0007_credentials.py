# Reserved for: API tokens, authenticator secrets, admin audit. Fill operations here; keep the dependency chain as it is.
import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def encrypt_authenticator_secrets(apps, schema_editor):
    """TOTP secrets and recovery seeds stored in clear before CONCORD_MFA_KEY: encrypt them."""
    from core import mfa

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.using(schema_editor.connection.alias).all():
        data = dict(authenticator.data or {})
        changed = False
        for field in ("secret", "seed"):
            value = data.get(field)
            if isinstance(value, str) and not value.startswith(mfa.MARK):
                data[field] = mfa.encrypt(value)
                changed = True
        codes = data.get("migrated_codes")
        if isinstance(codes, list):
            encrypted = [c if c.startswith(mfa.MARK) else mfa.encrypt(c) for c in codes]
            changed = changed or encrypted != codes
            data["migrated_codes"] = encrypted
        if changed:
            authenticator.data = data
            authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_invitation_identity"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("name", models.CharField(max_length=100)),
                ("prefix", models.CharField(max_length=16, unique=True)),
                ("key_hash", models.CharField(max_length=64, unique=True)),
                ("password_stamp", models.CharField(max_length=128)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField()),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "revoked_because",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("owner", "Revoked by you"),
                            ("password", "Password changed"),
                            ("deactivated", "Account deactivated"),
                            ("mfa_reset", "Two-factor authentication removed"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["user", "revoked_at"], name="api_token_user_live")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))),
                        name="api_token_expires_after_created",
                    )
                ],
            },
        ),
        migrations.RunPython(encrypt_authenticator_secrets, migrations.RunPython.noop),
    ]
