"""An alliance check-in about one clinician is that clinician's (and the patient's): the other
practice's clinician sees it only under a release in force that covers alliance check-ins,
and loses it at the next request after the release is revoked or expires. Outcome
questionnaires stay with the whole care team; safety alerts too."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from time_machine import travel

from alliance import selectors, services
from alliance.models import Flag
from referrals import services as referrals
from tests import factories
from tests.alliance.conftest import answer_all

pytestmark = pytest.mark.django_db

COMMENT = "Zq Dr Raman rushes me and I stopped saying how I feel"
PHQ_COMMENT = "Zq sleeping badly this week"


def _send(patient_user, patient, instrument, value, clinician=None, open_answer=""):
    check_in = services.check_in_start(
        actor=patient_user, patient=patient, instrument=instrument, clinician=clinician
    )
    return services.check_in_submit(
        actor=patient_user,
        check_in=check_in,
        answers=answer_all(instrument, value),
        open_answer=open_answer,
    )


def _sign(patient, patient_user, prescriber, therapist, categories, days=30, **extra):
    return referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        categories=categories,
        purpose="So my therapist and prescriber can work together.",
        expires_on=timezone.localdate() + timedelta(days=days),
        signed_name="Daniel Brooks",
        mutual=False,
        **extra,
    )


@pytest.fixture
def sent(instruments, patient, patient_user, prescriber):
    """The patient's low alliance check-in about the prescriber (it raises a concern), and a
    PHQ-9 with a self-harm answer (it raises a safety alert)."""
    about_prescriber = _send(
        patient_user, patient, instruments["concord-alliance"], 0, prescriber, COMMENT
    )
    phq = _send(patient_user, patient, instruments["phq-9"], 1)
    return {"alliance": about_prescriber, "phq": phq}


def _make_state(state, patient, patient_user, prescriber, therapist):
    if state == "in force":
        _sign(patient, patient_user, prescriber, therapist, ["alliance"])
    elif state == "revoked":
        release = _sign(patient, patient_user, prescriber, therapist, ["alliance"])
        referrals.release_revoke(actor=patient_user, release=release)
    elif state == "expired":
        with travel(timezone.now() - timedelta(days=10), tick=True):
            _sign(patient, patient_user, prescriber, therapist, ["alliance"], days=3)
    elif state == "another category":
        _sign(patient, patient_user, prescriber, therapist, ["medications", "outcomes"])


def _what_the_therapist_gets(client, patient, sent) -> dict:
    """What the therapist can see of the check-in about the prescriber, channel by channel."""
    alliance = sent["alliance"]
    page = client.get(reverse("check_in", args=[alliance.uuid]))
    trends = client.get(reverse("alliance", args=[patient.uuid]))
    api_list = client.get(reverse("api_check_ins", args=[patient.uuid]))
    api_one = client.get(reverse("api_check_in", args=[alliance.uuid]))
    flags = client.get(reverse("api_flags", args=[patient.uuid]))
    assert trends.status_code == api_list.status_code == flags.status_code == 200
    return {
        "check-in page": page.status_code == 200 and COMMENT in page.content.decode(),
        "alliance page": COMMENT in trends.content.decode(),
        "api list": str(alliance.uuid) in api_list.content.decode(),
        "api check-in": api_one.status_code == 200 and COMMENT in api_one.content.decode(),
        "concern flag": "alliance_concern" in flags.content.decode(),
        # Refused alike with not-found, never a 403 that says the record exists.
        "refusals are not found": page.status_code in (200, 404)
        and api_one.status_code in (200, 404),
        # The PHQ-9 and its safety alert stay with the whole care team.
        "outcome check-in": str(sent["phq"].uuid) in api_list.content.decode(),
        "safety alert": "safety" in flags.content.decode(),
    }


EVERYWHERE = ("check-in page", "alliance page", "api list", "api check-in", "concern flag")


@pytest.mark.parametrize(
    "state, sees",
    [
        ("none", False),
        ("in force", True),
        ("revoked", False),
        ("expired", False),
        ("another category", False),
    ],
)
def test_the_other_clinician_sees_a_check_in_about_the_prescriber_only_under_a_release(
    client, sent, patient, patient_user, prescriber, therapist, state, sees
):
    _make_state(state, patient, patient_user, prescriber, therapist)
    client.force_login(therapist)
    got = _what_the_therapist_gets(client, patient, sent)
    assert {channel: got[channel] for channel in EVERYWHERE} == dict.fromkeys(EVERYWHERE, sees)
    assert got["refusals are not found"]
    assert got["outcome check-in"] and got["safety alert"]


def test_revoking_takes_the_check_in_away_at_the_next_request(
    client, sent, patient, patient_user, prescriber, therapist
):
    release = _sign(patient, patient_user, prescriber, therapist, ["alliance"])
    client.force_login(therapist)
    assert all(_what_the_therapist_gets(client, patient, sent)[c] for c in EVERYWHERE)
    referrals.release_revoke(actor=patient_user, release=release)
    after = _what_the_therapist_gets(client, patient, sent)
    assert not any(after[c] for c in EVERYWHERE)
    assert client.get(reverse("check_in", args=[sent["alliance"].uuid])).status_code == 404
    assert client.get(reverse("api_check_in", args=[sent["alliance"].uuid])).status_code == 404


def test_expiry_takes_the_check_in_away_the_day_after_it_ends(
    client, sent, patient, patient_user, prescriber, therapist
):
    _sign(patient, patient_user, prescriber, therapist, ["alliance"], days=2)
    client.force_login(therapist)
    assert _what_the_therapist_gets(client, patient, sent)["api list"]
    with travel(timezone.now() + timedelta(days=3), tick=True):
        client.force_login(therapist)  # the session from three days ago has timed out
        assert not any(_what_the_therapist_gets(client, patient, sent)[c] for c in EVERYWHERE)


def test_the_clinician_it_is_about_and_the_patient_always_see_it(
    client, sent, patient, patient_user, prescriber
):
    for who in (prescriber, patient_user):
        client.force_login(who)
        page = client.get(reverse("check_in", args=[sent["alliance"].uuid]))
        assert page.status_code == 200 and COMMENT in page.content.decode()
        listed = client.get(reverse("api_check_ins", args=[patient.uuid]))
        assert str(sent["alliance"].uuid) in listed.content.decode()


def test_a_colleague_in_the_prescribers_practice_reads_it_as_they_read_her_notes(
    client, sent, patient, prescriber
):
    colleague = factories.TherapistFactory(practice=prescriber.practice)
    factories.MembershipFactory(patient=patient, clinician=colleague)
    client.force_login(colleague)
    listed = client.get(reverse("api_check_ins", args=[patient.uuid]))
    assert str(sent["alliance"].uuid) in listed.content.decode()


def test_a_check_in_about_the_therapist_is_hidden_from_the_prescriber_the_same_way(
    client, instruments, patient, patient_user, prescriber, therapist
):
    about_therapist = _send(
        patient_user, patient, instruments["concord-alliance"], 3, therapist, "Zq Jordan listens"
    )
    # The release names the prescriber as the one disclosing: it carries nothing of Harbor's.
    _sign(patient, patient_user, prescriber, therapist, ["alliance"])
    client.force_login(prescriber)
    assert client.get(reverse("api_check_in", args=[about_therapist.uuid])).status_code == 404
    page = client.get(reverse("alliance", args=[patient.uuid])).content.decode()
    assert "Zq Jordan listens" not in page
    # A release the other way round, from the therapist to the prescriber, opens it.
    _sign(patient, patient_user, therapist, prescriber, ["alliance"])
    assert client.get(reverse("api_check_in", args=[about_therapist.uuid])).status_code == 200


def test_the_selectors_every_page_composes_leave_out_the_other_relationship(
    sent, patient, prescriber, therapist
):
    """The selectors every page composes (visit screen, PDF, FHIR) read through `trends`."""
    series = selectors.trends(actor=therapist, patient=patient)
    assert [s.instrument.key for s in series] == ["phq-9"]
    assert [f.kind for f in selectors.open_flags(actor=therapist, patient=patient)] == [
        Flag.Kind.SAFETY
    ]
    mine = selectors.open_flags(actor=prescriber, patient=patient)
    assert sorted(f.kind for f in mine) == [Flag.Kind.ALLIANCE_CONCERN, Flag.Kind.SAFETY]
