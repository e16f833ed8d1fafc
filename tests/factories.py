from datetime import date

import factory

from core.models import CareTeamMembership, Patient, Practice, Role, User

PASSWORD = "a-long-test-password"


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Practice {n}")
    kind = Practice.Kind.PSYCHIATRY


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    role = Role.PRESCRIBER
    practice = factory.SubFactory(PracticeFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class PrescriberFactory(UserFactory):
    role = Role.PRESCRIBER
    practice = factory.SubFactory(
        PracticeFactory, name="Riverside Psychiatry", kind=Practice.Kind.PSYCHIATRY
    )


class TherapistFactory(UserFactory):
    role = Role.THERAPIST
    practice = factory.SubFactory(
        PracticeFactory, name="Harbor Counseling", kind=Practice.Kind.THERAPY
    )


class AdminFactory(UserFactory):
    role = Role.ADMIN
    practice = None
    is_staff = True
    is_superuser = True


class PatientUserFactory(UserFactory):
    role = Role.PATIENT
    practice = None


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = date(1985, 5, 17)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareTeamMembership

    patient = factory.SubFactory(PatientFactory)
    clinician = factory.SubFactory(PrescriberFactory)
    role = factory.LazyAttribute(lambda o: o.clinician.role)
    practice = factory.LazyAttribute(lambda o: o.clinician.practice)
    since = date(2020, 1, 1)


def api_token(user, *, days: int = 90) -> str:
    """A personal API token for the user, made as they would make it (with their password)."""
    from core import credentials

    _, key = credentials.api_token_create(actor=user, name="test", days=days, password=PASSWORD)
    return key


def totp_device(user) -> str:
    """Give the user a TOTP authenticator as allauth's setup would; returns its secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now for this secret."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


# What a start, restart, dose increase or switch must say (which goals it serves, whose need
# drives it): for tests about something else, "none of the patient's goals", explained.
WHOSE_NEED = {
    "serves_no_goal": True,
    "no_goal_reason": "No goal written yet.",
    "needs": ["patient_request"],
    "need_reflection": "What the patient asked for.",
}
# The same, as a page's form posts it.
WHOSE_NEED_POST = {
    "serves_no_goal": "on",
    "no_goal_reason": "No goal written yet.",
    "needs": ["patient_request"],
    "need_reflection": "What the patient asked for.",
}
