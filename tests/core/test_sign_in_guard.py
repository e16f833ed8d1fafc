"""Who manages a patient's sign-in (the invitation, the address on file) is one rule in
core.access (Category.SIGN_IN, the care team's), guarded once by the service: a refusal leaves
a denied row and no allowed one; a write that did not happen leaves no allowed row; one that
did leaves exactly one, naming what was written."""

from datetime import date

import pytest
from django.http import Http404
from django.urls import reverse

from core import access, services
from core.access import Action, Category
from core.models import AuditEvent, Invitation
from referrals import services as referrals
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def aisha(prescriber, therapist):
    patient = factories.PatientFactory(
        given_name="Aisha", family_name="Karim", date_of_birth=date(1994, 11, 2)
    )
    patient.email = "aisha@example.test"
    patient.save(update_fields=["email"])
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    return patient


def _rows(patient, **filters):
    return AuditEvent.objects.filter(patient=patient, category=Category.SIGN_IN, **filters)


def test_the_policy_gives_the_sign_in_to_the_care_team_only(
    aisha, patient, patient_user, prescriber
):
    assert access.can(prescriber, Action.UPDATE, Category.SIGN_IN, aisha)
    assert not access.can(factories.PrescriberFactory(), Action.UPDATE, Category.SIGN_IN, aisha)
    # The patient's own profile grant covers their words, not who signs in as them.
    assert not access.can(patient_user, Action.UPDATE, Category.SIGN_IN, patient)
    assert not access.can(patient_user, Action.UPDATE, Category.SIGN_IN)


@pytest.mark.parametrize("who", ["outsider", "the patient"])
def test_a_refused_invitation_leaves_a_denied_row_and_no_allowed_one(who, patient, patient_user):
    actor = factories.PrescriberFactory() if who == "outsider" else patient_user
    with pytest.raises(Http404):
        services.invitation_create(actor=actor, patient=patient)
    assert _rows(patient, outcome="denied", actor=actor).count() == 1
    assert not AuditEvent.objects.filter(actor=actor, outcome="allowed").exists()
    assert not Invitation.objects.exists()


def test_an_invitation_that_was_not_sent_leaves_no_allowed_row(patient, prescriber):
    # Dan already signs in: nothing to invite him to.
    with pytest.raises(Exception, match="already has a Concord sign-in"):
        services.invitation_create(actor=prescriber, patient=patient)
    assert not AuditEvent.objects.filter(actor=prescriber, outcome="allowed").exists()


def test_a_sent_invitation_leaves_exactly_one_allowed_row_naming_it(aisha, prescriber):
    invitation, _link, _code = services.invitation_create(actor=prescriber, patient=aisha)
    (row,) = AuditEvent.objects.filter(actor=prescriber, outcome="allowed")
    assert (row.category, row.action, row.via) == ("sign_in", "create", "care_team")
    assert (row.object_type, row.object_id) == ("core.Invitation", str(invitation.uuid))


def test_an_address_change_refused_leaves_no_allowed_row(patient, patient_user):
    with pytest.raises(Http404):
        services.patient_email_change(
            actor=patient_user,
            patient=patient,
            new_email="dan.new@example.test",
            method="in_person",
            proof="photo_id",
        )
    assert _rows(patient, outcome="denied").count() == 1
    assert not _rows(patient, outcome="allowed").exists()


def test_an_address_change_with_bad_input_leaves_no_allowed_row(aisha, prescriber):
    with pytest.raises(Exception, match="verified the patient in person"):
        services.patient_email_change(
            actor=prescriber,
            patient=aisha,
            new_email="aisha.new@example.test",
            method="in_person",
            proof="nonsense",
        )
    assert not AuditEvent.objects.filter(actor=prescriber, outcome="allowed").exists()


def test_the_patient_cannot_open_their_sign_in_page(client, patient, patient_user):
    client.force_login(patient_user)
    assert client.get(reverse("patient_invite", args=[patient.uuid])).status_code == 404
    assert _rows(patient, outcome="denied", actor=patient_user).count() == 1


def test_the_overview_offers_the_invitation_to_the_care_team_only(client, aisha, prescriber):
    client.force_login(prescriber)
    page = client.get(reverse("patient_detail", args=[aisha.uuid])).content.decode()
    assert reverse("patient_invite", args=[aisha.uuid]) in page
    # A clinician who reaches the overview some other way (a referral) is not offered it.
    referred = factories.TherapistFactory()
    referrals.referral_create(
        actor=prescriber, patient=aisha, to_clinician=referred, reason="Therapy", urgency="routine"
    )
    client.force_login(referred)
    response = client.get(reverse("patient_detail", args=[aisha.uuid]))
    assert response.status_code == 200
    assert reverse("patient_invite", args=[aisha.uuid]) not in response.content.decode()
