"""The clinicians' thread through the API: a post made there shows on the page; a post no
one of the other practice could read is refused with the reason, leaves a denied row and
nothing posted; the thread is the clinicians', not the patient's; posts come a page at a
time."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from referrals import services
from referrals.models import ThreadPost

pytestmark = pytest.mark.django_db

TEXT = "Zq Dan says the tremor is worse in the mornings"


def _release(patient, patient_user, discloser, recipient):
    return services.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=discloser,
        recipient=recipient,
        categories=["observations"],
        purpose="So my therapist and prescriber can treat me together.",
        expires_on=date.today() + timedelta(days=30),
        signed_name="Daniel Brooks",
    )


def _post(client, patient, text=TEXT, **extra):
    return client.post(
        reverse("api_thread", args=[patient.uuid]),
        {"kind": "side_effect", "text": text, **extra},
        content_type="application/json",
    )


def test_a_post_by_api_shows_on_the_page(client, patient, patient_user, prescriber, therapist):
    _release(patient, patient_user, therapist, prescriber)
    client.force_login(therapist)
    response = _post(client, patient)
    assert response.status_code == 201, response.content
    post = ThreadPost.objects.get(uuid=response.json()["uuid"])
    # One allowed row for the post, naming it, in the thread's own category.
    rows = AuditEvent.objects.filter(object_id=str(post.uuid), action="create", outcome="allowed")
    assert rows.count() == 1 and rows.get().category == "threads"
    # The other practice's prescriber reads it on the thread page, and so does its writer.
    for reader in (prescriber, therapist):
        client.force_login(reader)
        assert TEXT in client.get(reverse("thread", args=[patient.uuid])).content.decode()
    # A reply through the API names the post it answers (the release is both ways).
    client.force_login(prescriber)
    reply = client.post(
        reverse("api_thread", args=[patient.uuid]),
        {"kind": "reply", "text": "Zq noted", "reply_to": str(post.uuid)},
        content_type="application/json",
    )
    assert reply.status_code == 201 and reply.json()["reply_to"] == str(post.uuid)


def test_a_refused_post_leaves_a_denied_row_and_nothing_posted(client, patient, therapist):
    client.force_login(therapist)
    response = _post(client, patient)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Not posted: Dr. Priya Raman")
    assert not ThreadPost.objects.filter(text=TEXT).exists()
    assert AuditEvent.objects.filter(
        actor=therapist, category="threads", action="create", outcome="denied"
    ).exists()
    assert not AuditEvent.objects.filter(
        actor=therapist, category="threads", action="create", outcome="allowed"
    ).exists()


def test_the_thread_is_the_clinicians(client, patient, patient_user):
    """The patient is not in the thread: not found, for the list, a post and its readers."""
    client.force_login(patient_user)
    assert client.get(reverse("api_thread", args=[patient.uuid])).status_code == 404
    assert client.get(reverse("api_thread_readers", args=[patient.uuid])).status_code == 404
    assert _post(client, patient).status_code == 404
    assert not ThreadPost.objects.filter(text=TEXT).exists()


def test_the_readers_box_does_not_say_the_reason_twice(client, patient, therapist):
    """The one other clinician's line says why they cannot read; the paused note beside it
    says what the patient can do, not the reason again. The refusal, on its own, says both."""
    client.force_login(therapist)
    readers = client.get(reverse("api_thread_readers", args=[patient.uuid])).json()
    (reader,) = readers["readers"]
    assert "no release of information lets your posts reach them" in reader["because"]
    assert "no release of information" not in readers["why_not"]
    assert readers["why_not"].startswith("only Dan can change that")
    page = client.get(reverse("thread", args=[patient.uuid])).content.decode()
    assert page.count("no release of information lets your posts reach them") == 1
    refused = _post(client, patient).json()["detail"]
    assert "cannot read new posts, because no release of information" in refused
    assert "Only Dan can change that" in refused


def test_posts_come_a_page_at_a_time(client, patient, patient_user, prescriber, therapist):
    _release(patient, patient_user, therapist, prescriber)
    for n in range(3):
        services.thread_post(actor=therapist, patient=patient, kind="note", text=f"Zq {n}")
    client.force_login(prescriber)
    page = client.get(reverse("api_thread", args=[patient.uuid]), {"limit": 2}).json()
    assert page["count"] == 3
    assert [p["text"] for p in page["results"]] == ["Zq 0", "Zq 1"]
    rest = client.get(reverse("api_thread", args=[patient.uuid]), {"limit": 2, "offset": 2})
    assert [p["text"] for p in rest.json()["results"]] == ["Zq 2"]
