"""A release opens what the patient signed, and nothing more; a closed referral closes the door.

Issue 13, findings 7 and 8:
- a mutual release between the prescriber and a therapist not on the team opened to the
  prescriber a goal written by a different, unnamed therapist of the same practice;
- a release covering only "profile", and an open referral not yet accepted, handed the
  recipient the plain-language summary and the patient's written response to it;
- after a referral was closed, the referred prescriber still read the plan and the check-ins
  and was still listed on the care team.
"""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance import selectors as alliance_selectors
from alliance import services as alliance
from core.models import AuditEvent, CareTeamMembership
from prescribing import services as rx
from referrals import services
from referrals.models import Referral
from stories import services as stories
from stories.models import Goal
from tests import factories

pytestmark = pytest.mark.django_db

SUMMARY = "Dan fixes boats and wants to sail again"
RESPONSE = "please keep the Army part between us"


def _sign(patient_user, patient, discloser, recipient, categories, mutual=False):
    return services.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=discloser,
        recipient=recipient,
        categories=categories,
        purpose="So the people treating me can work together.",
        expires_on=date.today() + timedelta(days=30),
        signed_name="Daniel Brooks",
        mutual=mutual,
    )


def _shows(client, url, *texts) -> list[bool]:
    response = client.get(url)
    body = response.content.decode() if response.status_code == 200 else ""
    return [text in body for text in texts]


# --- 7a: a release names people, not practices -----------------------------------------------


def test_a_mutual_release_opens_what_the_named_therapist_wrote_not_a_colleague(
    client, patient, patient_user, prescriber, therapist
):
    # Jordan Lee (Harbor) is on the team and proposed a goal. Alex (Harbor too) was on the team
    # once and wrote one then; the patient signs a mutual release between the prescriber and
    # Alex only.
    stories.goal_create(actor=therapist, patient=patient, what="Zqjordan grounding")
    alex = factories.TherapistFactory(full_name="Alex Harbor", practice=therapist.practice)
    factories.MembershipFactory(
        patient=patient, clinician=alex, since=date(2020, 1, 1), until=date(2021, 1, 1)
    )
    alexs = Goal.objects.create(
        patient=patient,
        practice=alex.practice,
        author=alex,
        proposed_by="clinician",
        what="Zqalex breathing",
    )
    jordans = Goal.objects.get(what="Zqjordan grounding")
    _sign(patient_user, patient, prescriber, alex, ["goals"], mutual=True)
    client.force_login(prescriber)
    for url in (
        reverse("goals", args=[patient.uuid]),
        reverse("api_goal_list", args=[patient.uuid]),
    ):
        assert _shows(client, url, "Zqalex breathing", "Zqjordan grounding") == [True, False], url
    assert client.get(reverse("api_goal_detail", args=[jordans.uuid])).status_code == 404
    assert client.get(reverse("api_goal_detail", args=[alexs.uuid])).status_code == 200
    # Jordan still sees their own, Alex what the prescriber wrote.
    client.force_login(therapist)
    assert _shows(client, reverse("api_goal_list", args=[patient.uuid]), "Zqjordan") == [True]


# --- 7b: the summary and the response are their own categories ------------------------------


@pytest.fixture
def summary(patient, patient_user, prescriber):
    written = stories.summary_save(actor=prescriber, patient=patient, text=SUMMARY, version=0)
    return stories.summary_respond(
        actor=patient_user, patient=patient, response=RESPONSE, version=written.version
    )


def _what_they_see(client, patient) -> dict:
    page = client.get(reverse("patient_detail", args=[patient.uuid]))
    api = client.get(reverse("api_summary", args=[patient.uuid]))
    page_body = page.content.decode() if page.status_code == 200 else ""
    api_body = api.content.decode() if api.status_code == 200 else ""
    return {
        "profile": patient.family_name in page_body,
        "summary on the page": SUMMARY in page_body,
        "response on the page": RESPONSE in page_body,
        "summary by the api": SUMMARY in api_body,
        "response by the api": RESPONSE in api_body,
    }


@pytest.mark.parametrize(
    "categories, summary_seen, response_seen",
    [
        (["profile"], False, False),
        (["profile", "summary"], True, False),
        (["profile", "summary", "summary_response"], True, True),
    ],
)
def test_a_release_carries_the_summary_and_the_response_only_when_it_names_them(
    client, patient, patient_user, prescriber, summary, categories, summary_seen, response_seen
):
    lakeside = factories.PracticeFactory(name="Lakeside Therapy")
    recipient = factories.TherapistFactory(practice=lakeside)
    _sign(patient_user, patient, prescriber, recipient, categories)
    client.force_login(recipient)
    assert _what_they_see(client, patient) == {
        "profile": True,
        "summary on the page": summary_seen,
        "response on the page": response_seen,
        "summary by the api": summary_seen,
        "response by the api": response_seen,
    }
    if summary_seen:
        # The patient's accounting names what was read, category by category.
        client.force_login(patient_user)
        log = client.get(reverse("releases", args=[patient.uuid])).content.decode()
        assert "summary by the care team" in log.lower()


def test_an_unaccepted_referral_shows_who_the_patient_is_and_not_the_summary(
    client, patient, therapist, summary
):
    referred = factories.PrescriberFactory(
        practice=factories.PracticeFactory(name="Summit Psychiatry")
    )
    referral = services.referral_create(
        actor=therapist, patient=patient, to_clinician=referred, reason="Zqreason"
    )
    client.force_login(referred)
    assert _what_they_see(client, patient) == {
        "profile": True,
        "summary on the page": False,
        "response on the page": False,
        "summary by the api": False,
        "response by the api": False,
    }
    assert _shows(client, reverse("referral", args=[referral.uuid]), "Zqreason") == [True]
    # Reading who the patient is, not exporting the record.
    assert client.get(reverse("api_fhir_export", args=[patient.uuid])).status_code == 404


def test_the_care_team_and_the_patient_still_see_summary_and_response(
    client, patient, patient_user, therapist, summary
):
    for who in (therapist, patient_user):
        client.force_login(who)
        api = client.get(reverse("api_summary", args=[patient.uuid])).content.decode()
        assert SUMMARY in api and RESPONSE in api, who


# --- 8: closing a referral closes the door ---------------------------------------------------


def _start_medicine(prescriber, patient):
    rx.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Zqlithium",
        not_coded=True,  # not in the formulary: free text
        schedule="none",
        strength="300 mg",
        form="tablet",
        dose="1",
        directions="twice a day",
        reason="Mood",
    )


@pytest.fixture
def care(patient, patient_user):
    """A check-in: the patient's own answers, which the whole team reads."""
    alliance.install_shipped()
    offered = {i.key: i for i in alliance_selectors.instruments_offered()}
    check_in = alliance.check_in_start(
        actor=patient_user, patient=patient, instrument=offered["phq-9"]
    )
    return alliance.check_in_submit(
        actor=patient_user, check_in=check_in, answers={f"phq9_{i}": 1 for i in range(1, 10)}
    )


def _reads(client, patient, check_in) -> dict:
    return {
        "plan": _shows(client, reverse("api_medication_list", args=[patient.uuid]), "Zqlithium")[0],
        "check-ins": _shows(
            client, reverse("api_check_ins", args=[patient.uuid]), str(check_in.uuid)
        )[0],
        "patient page": client.get(reverse("patient_detail", args=[patient.uuid])).status_code
        == 200,
    }


def _on_team_page(client, patient, name) -> bool:
    return name in client.get(reverse("patient_detail", args=[patient.uuid])).content.decode()


@pytest.mark.parametrize("closed_by", ["sender", "recipient"])
@pytest.mark.parametrize("channel", ["page", "api"])
def test_closing_a_referral_ends_the_care_team_place_it_gave(
    client, patient, therapist, care, closed_by, channel
):
    referred = factories.PrescriberFactory(
        full_name="Dr. Zqreferred", practice=factories.PracticeFactory(name="Summit Psychiatry")
    )
    referral = services.referral_create(
        actor=therapist, patient=patient, to_clinician=referred, reason="Second opinion"
    )
    services.referral_move(actor=referred, referral=referral, status="accepted")
    services.referral_move(actor=referred, referral=referral, status="active")
    # On the team, the referred prescriber starts a medicine of the plan.
    _start_medicine(referred, patient)
    client.force_login(referred)
    assert _reads(client, patient, care) == {"plan": True, "check-ins": True, "patient page": True}
    client.force_login(therapist)
    assert _on_team_page(client, patient, "Dr. Zqreferred")

    closer = therapist if closed_by == "sender" else referred
    client.force_login(closer)
    if channel == "page":
        response = client.post(reverse("referral_move", args=[referral.uuid]), {"status": "closed"})
        assert response.status_code == 302
    else:
        response = client.post(
            reverse("api_referral_move", args=[referral.uuid]),
            {"status": "closed"},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
    assert Referral.objects.get(pk=referral.pk).status == "closed"

    client.force_login(referred)
    assert _reads(client, patient, care) == {
        "plan": False,
        "check-ins": False,
        "patient page": False,
    }
    client.force_login(therapist)
    assert not _on_team_page(client, patient, "Dr. Zqreferred")
    membership = CareTeamMembership.objects.get(patient=patient, clinician=referred)
    assert membership.until == timezone.localdate()
    ended = AuditEvent.objects.get(
        object_type="core.CareTeamMembership", via="referral closed", actor=closer
    )
    assert ended.patient_id == patient.pk and ended.action == "update"


def test_closing_leaves_a_clinician_who_was_on_the_team_before(
    client, patient, prescriber, therapist, care
):
    referral = services.referral_create(
        actor=therapist, patient=patient, to_clinician=prescriber, reason="Review the dose"
    )
    services.referral_move(actor=prescriber, referral=referral, status="accepted")
    _start_medicine(prescriber, patient)
    services.referral_move(actor=therapist, referral=referral, status="closed")
    client.force_login(prescriber)
    assert _reads(client, patient, care) == {"plan": True, "check-ins": True, "patient page": True}
    assert CareTeamMembership.objects.active().filter(clinician=prescriber).exists()


def test_referred_again_the_same_day_after_a_close_joins_the_team_again(patient, therapist):
    referred = factories.PrescriberFactory(practice=factories.PracticeFactory(name="Summit"))
    for _ in range(2):
        referral = services.referral_create(
            actor=therapist, patient=patient, to_clinician=referred, reason="Second opinion"
        )
        services.referral_move(actor=referred, referral=referral, status="accepted")
        assert CareTeamMembership.objects.active().filter(clinician=referred).exists()
        services.referral_move(actor=therapist, referral=referral, status="closed")
        assert not CareTeamMembership.objects.active().filter(clinician=referred).exists()
