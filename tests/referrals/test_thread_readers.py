"""The team thread says who reads a new post; with no release in force that lets the other
practice's clinician read it, a post is refused with the reason and what the patient can do,
instead of being accepted and read by no one. Posts written under a release that has since
ended say so. Same-practice colleagues always read."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from time_machine import travel

from core.models import Notification
from referrals import selectors, services
from referrals.models import ThreadPost
from tests import factories

pytestmark = pytest.mark.django_db

TEXT = "Zq Dan mentioned skipping the evening dose twice this week"


def _sign(patient, patient_user, discloser, recipient, categories, days=30, mutual=False):
    return services.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=discloser,
        recipient=recipient,
        categories=categories,
        purpose="So my therapist and prescriber can treat me together.",
        expires_on=date.today() + timedelta(days=days),
        signed_name="Daniel Brooks",
        mutual=mutual,
    )


def _post_page(client, patient, text=TEXT):
    return client.post(reverse("thread", args=[patient.uuid]), {"kind": "adherence", "text": text})


def _post_api(client, patient, text=TEXT):
    return client.post(
        reverse("api_thread", args=[patient.uuid]),
        {"kind": "adherence", "text": text},
        content_type="application/json",
    )


def _state(state, patient, patient_user, prescriber, therapist):
    """The releases from the therapist (Harbor) to the prescriber (Riverside)."""
    if state == "in force":
        _sign(patient, patient_user, therapist, prescriber, ["observations"])
    elif state == "revoked":
        release = _sign(patient, patient_user, therapist, prescriber, ["observations"])
        services.release_revoke(actor=patient_user, release=release)
    elif state == "expired":
        with travel(timezone.now() - timedelta(days=10), tick=True):
            _sign(patient, patient_user, therapist, prescriber, ["observations"], days=3)
    elif state == "another category":
        _sign(patient, patient_user, therapist, prescriber, ["goals", "alliance"])
    elif state == "the other way":
        # The prescriber's posts reach the therapist; the therapist's do not reach her.
        _sign(patient, patient_user, prescriber, therapist, ["observations"])


@pytest.mark.parametrize(
    "state, accepted",
    [
        ("none", False),
        ("in force", True),
        ("revoked", False),
        ("expired", False),
        ("another category", False),
        ("the other way", False),
    ],
)
@pytest.mark.parametrize("channel", ["page", "api"])
def test_a_post_is_accepted_only_when_the_other_practice_can_read_it(
    client, patient, patient_user, prescriber, therapist, state, accepted, channel
):
    _state(state, patient, patient_user, prescriber, therapist)
    client.force_login(therapist)
    page = client.get(reverse("thread", args=[patient.uuid])).content.decode()
    # Above the form: who reads a new post, and why.
    assert "Who reads what you post now" in page
    assert "Dr. Priya Raman" in page
    assert ("reads new posts under the release" in page) == accepted
    assert ("Posting is paused" in page) == (not accepted)
    response = _post_page(client, patient) if channel == "page" else _post_api(client, patient)
    assert ThreadPost.objects.filter(text=TEXT).exists() == accepted
    if accepted:
        assert response.status_code == (302 if channel == "page" else 201)
        return
    assert response.status_code == 403
    said = (response.content.decode() if channel == "page" else response.json()["detail"]).replace(
        "&#x27;", "'"
    )
    assert "Not posted" in said
    assert "Dr. Priya Raman (Riverside Psychiatry) cannot read new posts" in said
    assert "Only Dan can change that" in said and "by signing a release of information" in said
    if state in ("revoked", "expired"):
        assert "let them read your posts has ended" in said
    if channel == "page":
        # Nothing typed is lost: the message is still in the form to copy or send later.
        assert TEXT in said


def test_the_readers_api_says_who_reads_and_why(
    client, patient, patient_user, prescriber, therapist
):
    client.force_login(therapist)
    url = reverse("api_thread_readers", args=[patient.uuid])
    before = client.get(url).json()
    assert before["can_post"] is False
    assert "by signing a release" in before["why_not"]
    assert [(r["name"], r["reads"]) for r in before["readers"]] == [("Dr. Priya Raman", False)]
    release = _sign(patient, patient_user, therapist, prescriber, ["observations"])
    during = client.get(url).json()
    assert during["can_post"] is True and during["why_not"] == ""
    assert during["readers"][0]["reads"] is True
    assert during["readers"][0]["release"] == str(release.uuid)
    services.release_revoke(actor=patient_user, release=release)
    after = client.get(url).json()
    assert after["can_post"] is False
    assert "was revoked on" in after["readers"][0]["because"]


def test_a_post_written_under_a_release_that_ended_says_so(
    client, patient, patient_user, prescriber, therapist
):
    release = _sign(patient, patient_user, therapist, prescriber, ["observations"])
    client.force_login(therapist)
    assert _post_page(client, patient).status_code == 302
    client.force_login(prescriber)
    assert TEXT in client.get(reverse("thread", args=[patient.uuid])).content.decode()
    services.release_revoke(actor=patient_user, release=release)
    # The prescriber no longer reads it; the therapist's own page says why.
    assert TEXT not in client.get(reverse("thread", args=[patient.uuid])).content.decode()
    client.force_login(therapist)
    page = client.get(reverse("thread", args=[patient.uuid])).content.decode()
    assert "which was revoked on" in page
    assert "Dr. Priya Raman can no longer read it." in page
    listed = client.get(reverse("api_thread", args=[patient.uuid])).json()["results"]
    assert "Dr. Priya Raman can no longer read it." in listed[0]["sharing_note"]
    # A new release lets her read it again, and the post says that too.
    _sign(patient, patient_user, therapist, prescriber, ["observations"])
    listed = client.get(reverse("api_thread", args=[patient.uuid])).json()["results"]
    assert "still reads it under a newer release" in listed[0]["sharing_note"]


def test_same_practice_colleagues_always_read(client, patient, prescriber, therapist):
    """A Harbor colleague on the team reads the therapist's posts without a release; with no
    one of another practice on the team, the post goes through."""
    colleague = factories.TherapistFactory(full_name="Casey Harbor", practice=therapist.practice)
    factories.MembershipFactory(patient=patient, clinician=colleague)
    readers = selectors.thread_readers(actor=therapist, patient=patient)
    assert {r.clinician.full_name: r.reads for r in readers.readers} == {
        "Casey Harbor": True,
        "Dr. Priya Raman": False,
    }
    # The other clinician (Riverside) cannot read it: still refused.
    client.force_login(therapist)
    assert _post_page(client, patient).status_code == 403
    # Without another practice on the team, the colleague reads it and it is accepted.
    patient.care_team.filter(clinician=prescriber).update(until=date.today())
    assert selectors.thread_readers(actor=therapist, patient=patient).can_post
    assert _post_page(client, patient).status_code == 302


def test_only_those_who_can_read_a_post_are_told_of_it(
    patient, patient_user, prescriber, therapist, django_capture_on_commit_callbacks
):
    outsider_on_team = factories.PrescriberFactory(
        full_name="Dr. Hill", practice=factories.PracticeFactory(name="Hillside Psychiatry")
    )
    factories.MembershipFactory(patient=patient, clinician=outsider_on_team)
    _sign(patient, patient_user, therapist, prescriber, ["observations"])
    with django_capture_on_commit_callbacks(execute=True):
        services.thread_post(actor=therapist, patient=patient, kind="note", text=TEXT)
    told = set(
        Notification.objects.filter(kind="thread_post").values_list(
            "recipient__full_name", flat=True
        )
    )
    assert told == {"Dr. Priya Raman"}


def test_a_reply_is_refused_the_same_way(client, patient, patient_user, prescriber, therapist):
    release = _sign(patient, patient_user, therapist, prescriber, ["observations"])
    question = services.thread_post(actor=therapist, patient=patient, kind="question", text="Q?")
    services.release_revoke(actor=patient_user, release=release)
    client.force_login(therapist)
    response = client.post(
        reverse("thread", args=[patient.uuid]),
        {"kind": "reply", "text": "Zq follow-up", "reply_to": str(question.uuid)},
    )
    assert response.status_code == 403
    assert "Not posted: Dr. Priya Raman" in response.content.decode()
    assert not ThreadPost.objects.filter(text="Zq follow-up").exists()


def test_a_reply_to_a_post_no_longer_shared_is_not_found_and_stores_nothing(
    client, patient, patient_user, prescriber, therapist
):
    release = _sign(patient, patient_user, prescriber, therapist, ["observations"], mutual=True)
    question = services.thread_post(actor=prescriber, patient=patient, kind="question", text="Q?")
    services.release_revoke(actor=patient_user, release=release)
    client.force_login(therapist)
    response = client.post(
        reverse("thread", args=[patient.uuid]),
        {"kind": "reply", "text": "Zq answer", "reply_to": str(question.uuid)},
    )
    assert response.status_code == 404
    assert not ThreadPost.objects.filter(text="Zq answer").exists()
