"""The referrals API on the access bases: only a referral's recipient answers it, only its two
clinicians move it on, only the patient revokes a release; each refusal leaves a denied row
and nothing written, each write one allowed row naming what it wrote, a write that did not
happen none. Lists come a page at a time; the single records the pages show are there too."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from core import access
from core.access import Action, Category
from core.models import AuditEvent
from referrals import services
from referrals.models import Referral, Revocation
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


def _move(client, referral, status, reason=""):
    return client.post(
        reverse("api_referral_move", args=[referral.uuid]),
        {"status": status, "reason": reason},
        content_type="application/json",
    )


def _rows(obj, **filters):
    return AuditEvent.objects.filter(object_id=str(obj.uuid), **filters)


def test_only_the_recipient_answers(client, referral, therapist, referred):
    """The sender may read the referral and move it on once answered, not answer it: refused
    with the reason, a denied "answer" row, no allowed one, the referral still waiting."""
    client.force_login(therapist)
    refused = _move(client, referral, "accepted")
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Only the clinician it was sent to can accept or decline a referral."
    )
    assert Referral.objects.get(pk=referral.pk).status == "sent"
    assert _rows(referral, actor=therapist, action="answer", outcome="denied").count() == 1
    assert not _rows(referral, actor=therapist, action="answer", outcome="allowed").exists()
    assert not _rows(referral, actor=therapist, action="update", outcome="allowed").exists()

    client.force_login(referred)
    accepted = _move(client, referral, "accepted")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert accepted.json()["answered_at"]
    # One allowed row for the answer, naming the referral.
    answers = _rows(referral, actor=referred, action="answer", outcome="allowed")
    assert answers.count() == 1
    assert answers.get().object_type == "referrals.Referral"


def test_only_its_two_clinicians_move_it_on(client, patient, referral, referred):
    """A colleague on the care team reads the referral but neither answers nor closes it."""
    services.referral_move(actor=referred, referral=referral, status="accepted")
    colleague = factories.TherapistFactory(practice=referral.author.practice)
    factories.MembershipFactory(patient=patient, clinician=colleague)
    client.force_login(colleague)
    assert client.get(reverse("api_referral", args=[referral.uuid])).status_code == 200
    refused = _move(client, referral, "closed")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only the two clinicians of a referral move it on."
    assert _rows(referral, actor=colleague, action="update", outcome="denied").count() == 1
    assert not _rows(referral, actor=colleague, outcome="allowed").exclude(action="read").exists()
    assert Referral.objects.get(pk=referral.pk).status == "accepted"


def test_a_move_that_cannot_happen_leaves_no_allowed_row(client, referral, therapist, referred):
    services.referral_move(actor=referred, referral=referral, status="declined", reason="Full")
    client.force_login(therapist)
    response = _move(client, referral, "active")
    assert response.status_code == 400
    assert "cannot become active collaboration" in response.json()["status"][0]
    assert not _rows(referral, actor=therapist, action="update", outcome="allowed").exists()
    # A decline without a reason: bad input, nothing written, no allowed row either.
    second = services.referral_create(
        actor=therapist, patient=referral.patient, to_clinician=referred, reason="Zq again"
    )
    client.force_login(referred)
    assert _move(client, second, "declined").status_code == 400
    assert not _rows(second, actor=referred, action="answer").exists()


def test_the_single_record_agrees_with_the_list_for_answers_and_moves(
    patient, patient_user, prescriber, therapist, referral, referred
):
    """For every actor and action, including ANSWER: in visible ⇔ decide_record allows."""
    colleague = factories.TherapistFactory(practice=therapist.practice)
    factories.MembershipFactory(patient=patient, clinician=colleague)
    outsider = factories.PrescriberFactory()
    accepted = services.referral_create(
        actor=prescriber, patient=patient, to_clinician=referred, reason="Zq accepted"
    )
    services.referral_move(actor=referred, referral=accepted, status="accepted")
    records = [referral, accepted]
    checked = 0
    for actor in (patient_user, prescriber, therapist, colleague, outsider, referred):
        for action in (Action.ANSWER, Action.UPDATE, Action.READ, Action.LIST):
            shown = set(
                access.visible(
                    actor,
                    Referral.objects.filter(pk__in=[r.pk for r in records]),
                    Category.REFERRALS,
                    action,
                )
            )
            for record in records:
                assert (record in shown) == access.decide_record(
                    actor, action, Category.REFERRALS, record
                ).allowed, (actor, action, record)
                checked += 1
    assert checked == 48
    # What the rules say, as well as agreeing.
    assert access.can(referred, Action.ANSWER, Category.REFERRALS, referral)
    assert not access.can(therapist, Action.ANSWER, Category.REFERRALS, referral)
    assert access.can(therapist, Action.UPDATE, Category.REFERRALS, referral)
    assert not access.can(colleague, Action.UPDATE, Category.REFERRALS, referral)


def test_a_referral_sent_by_api_names_it_once(client, patient, therapist, referred):
    client.force_login(therapist)
    response = client.post(
        reverse("api_referrals", args=[patient.uuid]),
        {"to_clinician": str(referred.uuid), "reason": "Zq by api"},
        content_type="application/json",
    )
    assert response.status_code == 201
    made = Referral.objects.get(uuid=response.json()["uuid"])
    assert _rows(made, action="create", outcome="allowed").count() == 1
    # Referring to someone who cannot be on a care team: bad input, nothing written.
    deactivated = factories.PrescriberFactory(is_active=False)
    refused = client.post(
        reverse("api_referrals", args=[patient.uuid]),
        {"to_clinician": str(deactivated.uuid), "reason": "Zq nobody"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert not Referral.objects.filter(reason="Zq nobody").exists()


def test_referral_lists_come_a_page_at_a_time(client, patient, therapist, referred, referral):
    services.referral_create(
        actor=therapist, patient=patient, to_clinician=referred, reason="Zq second"
    )
    client.force_login(therapist)
    page = client.get(reverse("api_referrals", args=[patient.uuid]), {"limit": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    assert (
        client.get(reverse("api_referrals", args=[patient.uuid]), {"limit": 0}).status_code == 400
    )
    sent = client.get(reverse("api_referral_inbox"), {"box": "sent"}).json()
    assert sent["count"] == 2
    assert client.get(reverse("api_referral_inbox"), {"box": "received"}).json()["count"] == 0
    client.force_login(referred)
    received = client.get(reverse("api_referral_inbox")).json()
    assert {r["reason"] for r in received["results"]} == {"Zq second opinion", "Zq second"}
    assert client.get(reverse("api_referral_inbox"), {"box": "x"}).status_code == 400


def test_an_outsider_finds_no_referral(client, referral):
    client.force_login(factories.PrescriberFactory())
    assert client.get(reverse("api_referral", args=[referral.uuid])).status_code == 404
    assert _move(client, referral, "accepted").status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == "sent"


# --- Releases ---------------------------------------------------------------------------------


@pytest.fixture
def release(patient, patient_user, prescriber, therapist):
    return services.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        categories=["goals"],
        purpose="Zq together",
        expires_on=date.today() + timedelta(days=30),
        signed_name="Daniel Brooks",
    )


def test_only_the_patient_revokes(client, release, patient_user, prescriber):
    """A clinician the release names reads it, and cannot revoke it: not found, a denied row,
    no revocation; the patient revokes it, one allowed row naming the release."""
    client.force_login(prescriber)
    assert client.get(reverse("api_release", args=[release.uuid])).json()["purpose"] == (
        "Zq together"
    )
    assert client.post(reverse("api_release_revoke", args=[release.uuid])).status_code == 404
    assert not Revocation.objects.filter(release=release).exists()
    assert _rows(release, actor=prescriber, action="update", outcome="denied").count() == 1
    assert not _rows(release, actor=prescriber, action="update", outcome="allowed").exists()

    client.force_login(patient_user)
    response = client.post(reverse("api_release_revoke", args=[release.uuid]))
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert _rows(release, actor=patient_user, action="update", outcome="allowed").count() == 1
    # Revoking again changes nothing and writes no second row.
    assert client.post(reverse("api_release_revoke", args=[release.uuid])).status_code == 200
    assert _rows(release, actor=patient_user, action="update", outcome="allowed").count() == 1


def test_only_the_patient_signs(client, patient, prescriber, therapist):
    client.force_login(prescriber)
    response = client.post(
        reverse("api_releases", args=[patient.uuid]),
        {
            "discloser": str(prescriber.uuid),
            "recipient": str(therapist.uuid),
            "categories": ["goals"],
            "purpose": "Zq signed for them",
            "expires_on": str(date.today() + timedelta(days=5)),
            "signed_name": "Daniel Brooks",
        },
        content_type="application/json",
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        actor=prescriber, category="releases", action="create", outcome="denied"
    ).exists()
    assert not AuditEvent.objects.filter(
        actor=prescriber, category="releases", action="create", outcome="allowed"
    ).exists()


def test_release_list_comes_a_page_at_a_time(client, release, patient, patient_user):
    client.force_login(patient_user)
    listed = client.get(reverse("api_releases", args=[patient.uuid])).json()
    assert listed["count"] == 1 and listed["results"][0]["uuid"] == str(release.uuid)
