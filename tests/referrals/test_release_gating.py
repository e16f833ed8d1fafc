"""Sharing is gated by the release: every state, every shared category, pages and API.

The prescriber (Riverside) writes; the therapist (Harbor) is on the care team but sees what
Riverside wrote only under a release in force that covers that category."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance import services as alliance
from core.models import AuditEvent
from prescribing import services as rx
from referrals import services
from referrals.models import Release
from stories import services as stories
from tests import factories

pytestmark = pytest.mark.django_db

SECRET = {
    "medications": "Lithium",
    "observations": "Tremor noticed at the visit",
    "goals": "Return to night shifts",
    "narrative_notes": "Shareable visit summary",
    "alliance": "Longer visits agreed",
}


@pytest.fixture
def written(patient, prescriber, therapist):
    """What Riverside wrote about the patient, one item per category."""
    rx.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name=SECRET["medications"],
        not_coded=True,  # not in the formulary: free text
        schedule="none",
        strength="300 mg",
        form="tablet",
        dose="1",
        directions="twice a day",
        reason="r",
    )
    # Posted while an earlier release let the therapist read it (a post nobody could read is
    # refused); that release was revoked before the states below begin.
    earlier = services.release_sign(
        actor=patient.user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        categories=["observations"],
        purpose="Earlier",
        expires_on=date.today() + timedelta(days=30),
        signed_name="Daniel Brooks",
    )
    services.thread_post(
        actor=prescriber, patient=patient, kind="note", text=SECRET["observations"]
    )
    services.release_revoke(actor=patient.user, release=earlier)
    stories.goal_create(actor=prescriber, patient=patient, what=SECRET["goals"])
    stories.note_create(
        actor=prescriber,
        patient=patient,
        kind="clinician",
        audience="release",
        body=SECRET["narrative_notes"],
    )
    alliance.consultation_create(
        actor=prescriber,
        patient=patient,
        prescriber=prescriber,
        therapist=therapist,
        issues="i",
        actions=SECRET["alliance"],
    )


def seen(client, patient, category) -> bool:
    """Does the therapist see Riverside's item of this category, through its page or API?"""
    urls = {
        "medications": reverse("api_medication_list", args=[patient.uuid]),
        "observations": reverse("thread", args=[patient.uuid]),
        "goals": reverse("api_goal_list", args=[patient.uuid]),
        "narrative_notes": reverse("notes", args=[patient.uuid]),
        "alliance": reverse("api_consultations", args=[patient.uuid]),
    }
    response = client.get(urls[category])
    assert response.status_code == 200, (category, response.status_code)
    return SECRET[category] in response.content.decode()


def sign(patient, patient_user, prescriber, recipient, categories, days=30):
    return services.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=recipient,
        categories=categories,
        purpose="So my prescriber and therapist can treat me together.",
        expires_on=date.today() + timedelta(days=days),
        signed_name="Daniel Brooks",
    )


CATEGORIES = list(SECRET)


@pytest.mark.parametrize("category", CATEGORIES)
def test_release_states(
    client, written, patient, patient_user, prescriber, therapist, category, time_machine
):
    client.force_login(therapist)
    wrong = 0

    def expect(visible: bool, state: str):
        nonlocal wrong
        client.force_login(therapist)
        if seen(client, patient, category) != visible:
            wrong += 1
            print(f"wrong decision: {category} / {state}")

    expect(False, "none")
    other = [c for c in CATEGORIES if c != category][0]
    sign(patient, patient_user, prescriber, therapist, [other])
    expect(False, "other category")
    colleague = factories.TherapistFactory(practice=therapist.practice)
    sign(patient, patient_user, prescriber, colleague, [category])
    expect(False, "other recipient")
    release = sign(patient, patient_user, prescriber, therapist, [category], days=3)
    expect(True, "in force")
    time_machine.move_to(release.expires_at - timedelta(seconds=1))
    expect(True, "one second before expiry")
    time_machine.move_to(release.expires_at + timedelta(seconds=1))
    expect(False, "one second after expiry")
    fresh = sign(patient, patient_user, prescriber, therapist, [category])
    expect(True, "in force again")
    services.release_revoke(actor=patient_user, release=fresh)
    expect(False, "revoked")
    assert wrong == 0


def test_views_under_a_release_are_in_the_disclosure_log(
    client, written, patient, patient_user, prescriber, therapist
):
    release = sign(patient, patient_user, prescriber, therapist, ["medications"])
    client.force_login(therapist)
    client.get(reverse("api_medication_list", args=[patient.uuid]))
    event = AuditEvent.objects.filter(actor=therapist, via__contains="release:").get()
    assert str(release.uuid) in event.via
    client.force_login(patient_user)
    page = client.get(reverse("releases", args=[patient.uuid])).content.decode()
    assert "What was shared under my releases" in page
    assert therapist.full_name in page.split("What was shared under my releases")[1]


def test_psychotherapy_notes_are_never_reachable(
    client, patient, patient_user, prescriber, therapist
):
    from django.core.exceptions import ValidationError

    stories.note_create(
        actor=prescriber,
        patient=patient,
        kind="psychotherapy",
        audience="only_me",
        body="Zq-process-words",
    )
    with pytest.raises(ValidationError, match="psychotherapy notes can never be"):
        sign(patient, patient_user, prescriber, therapist, ["psychotherapy_notes"])
    # Even a release row that names the category (forged past the service) opens nothing.
    sign(patient, patient_user, prescriber, therapist, ["narrative_notes"])
    forged = Release.objects.create(
        patient=patient,
        author=patient_user,
        discloser=prescriber,
        discloser_practice=prescriber.practice,
        recipient=therapist,
        recipient_practice=therapist.practice,
        categories=["psychotherapy_notes", "narrative_notes"],
        purpose="x",
        expires_at=timezone.now() + timedelta(days=5),
        signed_name="Daniel Brooks",
        content_hash="x",
    )
    assert forged.pk
    client.force_login(therapist)
    assert (
        "Zq-process-words" not in client.get(reverse("notes", args=[patient.uuid])).content.decode()
    )
    assert (
        "Zq-process-words"
        not in client.get(reverse("api_note_list", args=[patient.uuid])).content.decode()
    )


def test_signed_release_cannot_be_altered(patient, patient_user, prescriber, therapist):
    from django.db import DatabaseError, transaction

    release = sign(patient, patient_user, prescriber, therapist, ["medications"])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Release.objects.filter(pk=release.pk).update(categories=["medications", "substance_use"])


def test_bad_release_input_is_explained_and_nothing_stored(
    patient, patient_user, prescriber, therapist
):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.release_sign(
            actor=patient_user,
            patient=patient,
            discloser=prescriber,
            recipient=prescriber,
            categories=["substance_use"],
            purpose=" ",
            expires_on=date.today(),
            signed_name="Someone Else",
        )
    problems = error.value.message_dict
    assert set(problems) == {"recipient", "part2_consent", "purpose", "expires_on", "signed_name"}
    assert not Release.objects.exists()


def test_only_the_patient_signs_and_revokes(patient, patient_user, prescriber, therapist):
    from django.http import Http404

    from core.exceptions import NotAllowed

    with pytest.raises((NotAllowed, Http404)):
        services.release_sign(
            actor=prescriber,
            patient=patient,
            discloser=prescriber,
            recipient=therapist,
            categories=["medications"],
            purpose="p",
            expires_on=date.today() + timedelta(days=3),
            signed_name="Daniel Brooks",
        )
    release = sign(patient, patient_user, prescriber, therapist, ["medications"])
    with pytest.raises((NotAllowed, Http404)):
        services.release_revoke(actor=therapist, release=release)


class TestReferrals:
    def test_refer_accept_and_join_the_team(
        self, client, patient, therapist, django_capture_on_commit_callbacks
    ):
        from core.models import Notification
        from referrals.models import Referral

        new_prescriber = factories.PrescriberFactory(full_name="Dr. New")
        with django_capture_on_commit_callbacks(execute=True):
            referral = services.referral_create(
                actor=therapist,
                patient=patient,
                to_clinician=new_prescriber,
                reason="Nightmares despite therapy",
                questions="Would prazosin help?",
                urgency="soon",
            )
        assert Notification.objects.filter(
            recipient=new_prescriber, kind="referral_received"
        ).exists()
        client.force_login(new_prescriber)
        assert (
            patient.display_name
            in client.get(reverse("referral", args=[referral.uuid])).content.decode()
        )
        assert (
            client.get(reverse("api_goal_list", args=[patient.uuid])).status_code == 404
        )  # not on the team yet
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("referral_move", args=[referral.uuid]), {"status": "accepted"})
        assert Referral.objects.get().status == "accepted"
        assert patient.care_team.filter(clinician=new_prescriber).exists()
        assert Notification.objects.filter(recipient=therapist, kind="referral_accepted").exists()
        assert client.get(reverse("api_goal_list", args=[patient.uuid])).status_code == 200

    def test_decline_needs_a_reason_and_only_the_recipient_answers(
        self, patient, therapist, prescriber
    ):
        from django.core.exceptions import ValidationError

        from core.exceptions import NotAllowed

        to = factories.PrescriberFactory()
        referral = services.referral_create(
            actor=therapist, patient=patient, to_clinician=to, reason="r"
        )
        with pytest.raises(NotAllowed):
            services.referral_move(actor=therapist, referral=referral, status="accepted")
        with pytest.raises(ValidationError, match="Say why"):
            services.referral_move(actor=to, referral=referral, status="declined")
        services.referral_move(
            actor=to, referral=referral, status="declined", reason="Not taking new patients"
        )
        with pytest.raises(ValidationError, match="cannot become"):
            services.referral_move(actor=therapist, referral=referral, status="closed")
        referral.refresh_from_db()
        assert (referral.status, referral.decline_reason) == ("declined", "Not taking new patients")


def test_release_pdf_has_every_required_element(
    client, patient, patient_user, prescriber, therapist
):
    import io

    from pypdf import PdfReader

    release = services.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        categories=["medications", "substance_use"],
        part2_consent=True,
        purpose="So my team can treat me together.",
        expires_on=date.today() + timedelta(days=90),
        expiry_event="the end of treatment",
        signed_name="Daniel Brooks",
    )
    client.force_login(patient_user)
    response = client.get(reverse("release_pdf", args=[release.uuid]))
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split()
    )
    for element in (
        "Daniel Brooks",  # patient, and the signature line
        prescriber.full_name,
        therapist.full_name,  # who discloses, to whom
        "My medicines and why I take them",
        "Substance-use disorder information",  # what
        "So my team can treat me together.",  # purpose
        "the end of treatment",  # expiry event
        "right to revoke",
        "will not be conditioned",
        "redisclosed",  # the required statements
        "42 CFR part 2",  # the Part 2 notice
        "Signed electronically by",
    ):
        assert element.lower() in text.lower(), element
    assert AuditEvent.objects.filter(
        actor=patient_user, action="export", category="releases"
    ).exists()


def test_a_reply_does_not_carry_the_hidden_post_it_answers(
    patient, patient_user, prescriber, therapist
):
    from referrals import selectors

    release = sign(patient, patient_user, prescriber, therapist, ["observations"])
    question = services.thread_post(
        actor=therapist, patient=patient, kind="question", text="Zq-therapist-words"
    )
    services.thread_post(
        actor=prescriber, patient=patient, kind="reply", text="Answer", reply_to=question
    )
    services.release_revoke(actor=patient_user, release=release)
    posts = selectors.thread(actor=prescriber, patient=patient)
    assert [p.text for p in posts] == ["Answer"]
    assert posts[0].reply_to is None


def test_a_referred_clinician_sees_only_the_referral_sent_to_them(client, patient, therapist):
    first = factories.PrescriberFactory(practice=factories.PracticeFactory(name="North"))
    second = factories.PrescriberFactory(practice=factories.PracticeFactory(name="South"))
    mine = services.referral_create(
        actor=therapist, patient=patient, to_clinician=first, reason="Zq-for-first"
    )
    theirs = services.referral_create(
        actor=therapist, patient=patient, to_clinician=second, reason="Zq-for-second"
    )
    client.force_login(first)
    assert "Zq-for-first" in client.get(reverse("referral", args=[mine.uuid])).content.decode()
    assert client.get(reverse("referral", args=[theirs.uuid])).status_code == 404
    listed = client.get(reverse("api_referrals", args=[patient.uuid])).content.decode()
    assert "Zq-for-first" in listed and "Zq-for-second" not in listed


def test_a_release_signed_again_right_after_its_revocation_is_in_force(
    patient, patient_user, prescriber, therapist
):
    from referrals.access import releases_in_force

    first = sign(patient, patient_user, prescriber, therapist, ["medications"])
    assert sign(patient, patient_user, prescriber, therapist, ["medications"]) == first
    services.release_revoke(actor=patient_user, release=first)
    again = sign(patient, patient_user, prescriber, therapist, ["medications"])
    assert again != first
    assert list(releases_in_force().filter(patient=patient)) == [again]
