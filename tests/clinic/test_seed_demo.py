"""The demo clinic: believable, idempotent, and the four demo sign-ins work."""

import io

import pytest
from django.core.management import call_command

from core.models import CareTeamMembership, Patient, Practice, User
from prescribing.models import Medication
from stories.models import Goal

pytestmark = pytest.mark.django_db

COUNTED = (Practice, User, Patient, CareTeamMembership, Goal, Medication)


def test_seed_builds_the_clinic_once(client):
    call_command("seed_demo", stdout=io.StringIO())
    first = {model.__name__: model.objects.count() for model in COUNTED}
    call_command("seed_demo", stdout=io.StringIO())
    assert {model.__name__: model.objects.count() for model in COUNTED} == first
    assert first["Practice"] == 2
    # The six of the README's table, and Dr. Okafor's 48 without a login.
    assert first["Patient"] == 6 + 48
    assert User.objects.filter(role="prescriber").count() == 2
    assert User.objects.filter(role="therapist").count() == 2
    practices_per_patient = {
        p.pk: set(p.care_team.values_list("practice__kind", flat=True))
        for p in Patient.objects.all()
    }
    assert (
        sum(1 for kinds in practices_per_patient.values() if kinds == {"psychiatry", "therapy"})
        >= 4
    )
    dan = Patient.objects.get(user__email="patient@example.org")
    assert Goal.objects.filter(patient=dan).count() == 3
    assert Medication.objects.filter(patient=dan, status="active").count() == 2
    for email in (
        "admin@example.org",
        "prescriber@example.org",
        "therapist@example.org",
        "patient@example.org",
    ):
        response = client.post("/accounts/login/", {"login": email, "password": "concord-demo"})
        assert response.status_code == 302, email
        client.logout()


def test_the_demo_gives_the_equity_view_groups_to_show_and_groups_to_hide():
    from datetime import date, timedelta

    from clinic import equity
    from core.models import SelfDescription

    call_command("seed_demo", stdout=io.StringIO())
    assert SelfDescription.objects.count() >= 40
    assert User.objects.get(email="prescriber2@example.org").is_clinic_lead
    table = equity.equity_table(
        practices=Practice.objects.all(),
        dimension="race",
        since=date.today() - timedelta(days=365),
        until=date.today(),
    )
    shown = [g for g, _ in table.groups if table.rows[g]["patients"] != equity.HIDDEN]
    hidden = [g for g, _ in table.groups if table.rows[g]["patients"] == equity.HIDDEN]
    assert len(shown) >= 2 and len(hidden) >= 2
