"""Notifications say who did what to which record, in words a busy clinician reads at a
glance, and never who the patient is or what the record says (titles are e-mailed)."""

from datetime import date, timedelta

import pytest

from core.models import Notification
from referrals import services
from tests import factories

pytestmark = pytest.mark.django_db


def _titles(recipient) -> list[str]:
    return list(
        Notification.objects.filter(recipient=recipient)
        .order_by("id")
        .values_list("title", flat=True)
    )


def test_referral_and_release_notifications_name_who_and_what(
    patient, patient_user, prescriber, therapist, django_capture_on_commit_callbacks, mailoutbox
):
    new = factories.PrescriberFactory(full_name="Dr. Olu Okafor")
    with django_capture_on_commit_callbacks(execute=True):
        referral = services.referral_create(
            actor=therapist, patient=patient, to_clinician=new, reason="Nightmares despite therapy"
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_move(actor=new, referral=referral, status="accepted")
    with django_capture_on_commit_callbacks(execute=True):
        release = services.release_sign(
            actor=patient_user,
            patient=patient,
            discloser=prescriber,
            recipient=therapist,
            categories=["medications"],
            purpose="So my team can treat me together.",
            expires_on=date.today() + timedelta(days=90),
            signed_name="Daniel Brooks",
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.release_revoke(actor=patient_user, release=release)

    assert _titles(new) == ["Jordan Lee sent you a referral"]
    assert _titles(therapist) == [
        "Dr. Olu Okafor accepted your referral",
        "A patient signed a release of information: Dr. Priya Raman may share with Jordan Lee",
        "A patient revoked the release of information by which Dr. Priya Raman shared with "
        "Jordan Lee",
    ]
    # Neither the patient nor the reason travels, in the app or by e-mail.
    everything = " ".join(Notification.objects.values_list("title", flat=True))
    everything += " ".join(m.subject + m.body for m in mailoutbox)
    for private in ("Dan", "Daniel", "Brooks", "Nightmares", "medicines"):
        assert private not in everything
    assert mailoutbox, "the e-mails were sent"
