# Invitations and e-mail addresses: an invitation asks for a code and the date of birth, with
# attempts counted; a patient's address on file changes only with proof (PatientEmailChange).
import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def addresses_and_invitations(apps, schema_editor):
    """An unverified address that is not the account's own was usable for sign-in and reset:
    remove it (its owner can add it again and verify it). Invitations sent before codes
    existed cannot be accepted any more (no code matches an empty hash): close them."""
    EmailAddress = apps.get_model("account", "EmailAddress")
    for address in EmailAddress.objects.filter(verified=False).select_related("user"):
        if address.email.lower() != (address.user.email or "").lower():
            address.delete()
    # The sign-in address of every account is its one primary, verified address (allauth's
    # change-of-address flow takes any unverified address for the one being changed to).
    User = apps.get_model("core", "User")
    for user in User.objects.exclude(email=""):
        rows = EmailAddress.objects.filter(user=user)
        current = rows.filter(email__iexact=user.email).first()
        taken = (
            EmailAddress.objects.filter(email__iexact=user.email, verified=True)
            .exclude(user=user)
            .exists()
        )
        if taken:
            continue
        rows.exclude(pk=getattr(current, "pk", None)).filter(primary=True).update(primary=False)
        if current is None:
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        else:
            current.primary = True
            current.verified = True
            current.save(update_fields=["primary", "verified"])
    Invitation = apps.get_model("core", "Invitation")
    Invitation.objects.filter(used_at__isnull=True, code_hash="").update(
        closed_at=django.utils.timezone.now(), closed_reason="superseded"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_nudges"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="closed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invitation",
            name="closed_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("too_many_attempts", "Closed after too many wrong answers"),
                    ("superseded", "Replaced by a newer invitation"),
                    ("address_changed", "The address on file changed"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="invitation",
            name="code_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="invitation",
            name="failed_attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="PatientEmailChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("old_email", models.EmailField(blank=True, max_length=254)),
                ("new_email", models.EmailField(max_length=254)),
                (
                    "method",
                    models.CharField(
                        choices=[
                            ("in_person", "Verified in person at the clinic"),
                            ("old_address", "Confirmed by the patient from the old address"),
                        ],
                        max_length=20,
                    ),
                ),
                ("requested_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "proof",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("photo_id", "Photo ID seen"),
                            ("known_in_person", "Known to me in person, face to face"),
                            ("insurance_card", "Insurance card and date of birth checked"),
                        ],
                        max_length=20,
                    ),
                ),
                ("token_hash", models.CharField(blank=True, db_index=True, max_length=64)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("applied_at", models.DateTimeField(blank=True, null=True)),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="email_changes",
                        to="core.patient",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "verified_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-requested_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("method", "in_person"), _negated=True),
                            models.Q(
                                ("verified_by__isnull", False),
                                models.Q(("proof", ""), _negated=True),
                                ("applied_at__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="email_change_in_person_names_who_and_how",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("method", "old_address"), _negated=True),
                            models.Q(
                                models.Q(("token_hash", ""), _negated=True),
                                ("expires_at__isnull", False),
                                models.Q(("old_email", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="email_change_old_address_has_token",
                    ),
                ],
            },
        ),
        migrations.RunPython(addresses_and_invitations, migrations.RunPython.noop),
    ]
