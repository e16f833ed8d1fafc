"""The referral and release pages offer what the policy allows, asked of it ({% can %},
{% own_record %}), and say a refusal's reason; a refused write leaves a denied row, no
allowed one."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from referrals import services
from referrals.models import Referral
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def referred(db):
    return factories.PrescriberFactory(
        full_name="Dr. Zqreferred", practice=factories.PracticeFactory(name="Summit Psychiatry")
    )


@pytest.fixture
def referral(patient, therapist, referred):
    return services.referral_create(
        actor=therapist, patient=patient, to_clinician=referred, reason="Zq second opinion"
    )


def test_the_answer_is_offered_to_the_recipient_alone(client, referral, therapist, referred):
    client.force_login(referred)
    page = client.get(reverse("referral", args=[referral.uuid])).content.decode()
    assert "Your answer" in page and 'value="accepted"' in page
    client.force_login(therapist)
    page = client.get(reverse("referral", args=[referral.uuid])).content.decode()
    assert "Your answer" not in page
    assert "Waiting for Dr. Zqreferred to answer." in page
    # Sent anyway: refused with the reason, a denied row, the referral still waiting.
    response = client.post(
        reverse("referral_move", args=[referral.uuid]), {"status": "accepted"}, follow=True
    )
    assert "Only the clinician it was sent to can accept or decline" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == "sent"
    rows = AuditEvent.objects.filter(actor=therapist, object_id=str(referral.uuid))
    assert rows.filter(action="answer", outcome="denied").count() == 1
    assert not rows.filter(outcome="allowed", action__in=["answer", "update"]).exists()


def test_a_referral_page_offers_refer_to_the_team_only(client, patient, patient_user, therapist):
    client.force_login(therapist)
    assert (
        "Send referral"
        in client.get(reverse("patient_referrals", args=[patient.uuid])).content.decode()
    )
    client.force_login(patient_user)
    page = client.get(reverse("patient_referrals", args=[patient.uuid]))
    assert page.status_code == 200 and "Send referral" not in page.content.decode()


def test_a_referral_with_bad_input_says_so_and_writes_nothing(client, patient, therapist):
    client.force_login(therapist)
    response = client.post(
        reverse("patient_referrals", args=[patient.uuid]),
        {"to_clinician": str(therapist.uuid), "reason": "Zq to myself", "urgency": "routine"},
    )
    assert response.status_code == 400
    assert not Referral.objects.filter(reason="Zq to myself").exists()
    assert not AuditEvent.objects.filter(
        actor=therapist, category="referrals", action="create", outcome="allowed"
    ).exists()


def test_releases_are_worded_for_whoever_reads_them(
    client, patient, patient_user, prescriber, therapist
):
    release = services.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        categories=["goals"],
        purpose="Zq together",
        expires_on=date.today() + timedelta(days=30),
        signed_name="Daniel Brooks",
    )
    client.force_login(patient_user)
    mine = client.get(reverse("releases", args=[patient.uuid])).content.decode()
    assert "My releases of information" in mine and "Sign a new release" in mine
    assert "What was shared under my releases" in mine
    detail = client.get(reverse("release", args=[release.uuid])).content.decode()
    assert "What you read before signing" in detail and "Revoke this release" in detail

    client.force_login(prescriber)
    theirs = client.get(reverse("releases", args=[patient.uuid])).content.decode()
    assert ": releases of information" in theirs and "My releases" not in theirs
    assert "Sign a new release" not in theirs and "What was shared under my releases" not in theirs
    detail = client.get(reverse("release", args=[release.uuid])).content.decode()
    assert "What you read before signing" not in detail and "Revoke this release" not in detail
    # Sent anyway: not found, a denied row, nothing revoked.
    assert client.post(reverse("release_revoke", args=[release.uuid])).status_code == 404
    assert AuditEvent.objects.filter(
        actor=prescriber, object_id=str(release.uuid), action="update", outcome="denied"
    ).exists()
