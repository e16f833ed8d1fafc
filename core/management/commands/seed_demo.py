"""A small, believable clinic for the demo. Idempotent: running it twice changes nothing."""

from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.models import CareTeamMembership, Patient, Practice, Role, User

DEMO_PASSWORD = "concord-demo"  # noqa: S105 - printed in the README: demo only, refused in production

PRACTICES = [
    ("Riverside Psychiatry", Practice.Kind.PSYCHIATRY),
    ("Harbor Counseling", Practice.Kind.THERAPY),
]

# email, name, role, practice
STAFF = [
    ("admin@example.org", "Alex Morgan", Role.ADMIN, None),
    ("prescriber@example.org", "Dr. Priya Raman", Role.PRESCRIBER, "Riverside Psychiatry"),
    ("prescriber2@example.org", "Dr. Samuel Okafor", Role.PRESCRIBER, "Riverside Psychiatry"),
    ("therapist@example.org", "Jordan Lee, LCSW", Role.THERAPIST, "Harbor Counseling"),
    ("therapist2@example.org", "Maria Alvarez, PhD", Role.THERAPIST, "Harbor Counseling"),
]

# given, family, preferred, born, login e-mail (or ""), prescriber, therapist
PATIENTS = [
    (
        "Daniel",
        "Brooks",
        "Dan",
        date(1986, 3, 14),
        "patient@example.org",
        "prescriber@example.org",
        "therapist@example.org",
    ),
    (
        "Aisha",
        "Karim",
        "",
        date(1994, 11, 2),
        "",
        "prescriber@example.org",
        "therapist@example.org",
    ),
    (
        "Thomas",
        "Nguyen",
        "Tom",
        date(1979, 6, 30),
        "",
        "prescriber@example.org",
        "therapist2@example.org",
    ),
    (
        "Grace",
        "Whitfield",
        "",
        date(2001, 1, 19),
        "",
        "prescriber2@example.org",
        "therapist@example.org",
    ),
    (
        "Marcus",
        "Ellison",
        "",
        date(1968, 9, 5),
        "",
        "prescriber2@example.org",
        "therapist2@example.org",
    ),
    ("Lena", "Park", "", date(1990, 4, 23), "", "prescriber@example.org", None),
]


class Command(BaseCommand):
    help = "Load the demo clinic (two practices, staff, six patients). Refused in the production profile."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo loads demo accounts with a published password: refused in production."
            )
        with transaction.atomic():
            practices = {
                name: Practice.objects.get_or_create(name=name, defaults={"kind": kind})[0]
                for name, kind in PRACTICES
            }
            staff = {}
            for email, name, role, practice in STAFF:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(
                        email,
                        DEMO_PASSWORD,
                        full_name=name,
                        role=role,
                        practice=practices.get(practice),
                        is_staff=role == Role.ADMIN,
                        is_superuser=role == Role.ADMIN,
                    )
                staff[email] = user
            since = timezone.localdate() - timedelta(days=120)
            for given, family, preferred, born, login, prescriber, therapist in PATIENTS:
                patient, _ = Patient.objects.get_or_create(
                    given_name=given,
                    family_name=family,
                    date_of_birth=born,
                    defaults={"preferred_name": preferred},
                )
                if login and patient.user_id is None:
                    user = User.objects.filter(email=login).first() or User.objects.create_user(
                        login,
                        DEMO_PASSWORD,
                        full_name=f"{preferred or given} {family}",
                        role=Role.PATIENT,
                    )
                    patient.user = user
                    patient.email = login
                    patient.save(update_fields=["user", "email"])
                for email in (prescriber, therapist):
                    if not email:
                        continue
                    clinician = staff[email]
                    CareTeamMembership.objects.get_or_create(
                        patient=patient,
                        clinician=clinician,
                        defaults={
                            "role": clinician.role,
                            "practice": clinician.practice,
                            "since": since,
                        },
                    )
        self.stdout.write(
            self.style.SUCCESS(
                "Demo clinic ready. Sign in with any of these (password: concord-demo):"
            )
        )
        for email, _name, role, _practice in STAFF[:2] + STAFF[3:4]:
            self.stdout.write(f"  {email:<26} {role.label}")
        self.stdout.write(f"  {'patient@example.org':<26} Patient")
