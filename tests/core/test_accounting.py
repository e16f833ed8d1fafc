"""Finding 10: what the patient's accounting ("who has seen my record") shows, page and API,
and sign-ins in the audit trail.

- a release recipient who lists the patient appears in the patient's accounting;
- sign-ins and failed sign-ins leave rows, with no password and no unknown address in clear;
- reads of psychotherapy process notes never show in the patient's accounting.
"""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from core.signins import address_digest
from referrals import services as referrals
from stories import selectors as stories_selectors
from stories import services as stories
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def accounting(client, patient_user) -> tuple[str, list[dict]]:
    """The patient's accounting as the page shows it, and as the API answers it."""
    client.force_login(patient_user)
    page = client.get(reverse("record_views"))
    api = client.get(reverse("api_record_views"))
    assert page.status_code == api.status_code == 200
    return page.content.decode(), api.json()["results"]


# --- (a) lists by a release's recipient ---------------------------------------------------


@pytest.mark.parametrize("where", ["patient_list", "api_patient_list"])
def test_a_release_recipient_listing_the_patient_shows_in_their_accounting(
    client, patient, patient_user, prescriber, where
):
    reader = factories.PrescriberFactory(full_name="Dr. Olu Outside")
    release = referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=reader,
        categories=["profile"],
        purpose="So a second prescriber can see who I am.",
        expires_on=date.today() + timedelta(days=30),
        signed_name="Daniel Brooks",
    )
    client.force_login(reader)
    listed = client.get(reverse(where))
    assert listed.status_code == 200
    assert "Brooks" in listed.content.decode()
    row = AuditEvent.objects.get(actor=reader, action="list")
    assert row.patient == patient
    assert row.object_id == str(patient.uuid)
    assert row.via == f"release:{release.uuid}"

    page, api = accounting(client, patient_user)
    assert "Dr. Olu Outside" in page
    # The day as the clinic's clock says it (just after midnight UTC it is still yesterday).
    signed_at = timezone.localtime(release.signed_at)
    signed = f"{signed_at:%b} {signed_at.day}"
    assert [(e["who"], e["what"], e["because"], e["disclosure"]) for e in api] == [
        (
            "Dr. Olu Outside",
            "saw you in a list of patients",
            f"under the release you signed on {signed}",
            True,
        )
    ]
    # In words: the release is named by the day it was signed (its id only in the link).
    shown = re.sub(r"<[^>]+>", " ", page)
    assert f"Under the release you signed on {signed}" in shown
    assert str(release.uuid) not in shown


def test_a_list_names_each_patient_it_showed_and_only_those(client, prescriber, patient):
    second = factories.PatientFactory(family_name="Okafor")
    factories.MembershipFactory(patient=second, clinician=prescriber)
    factories.PatientFactory(family_name="Notmine")
    client.force_login(prescriber)
    client.get(reverse("patient_list"))
    assert set(
        AuditEvent.objects.filter(actor=prescriber, action="list").values_list("patient", flat=True)
    ) == {patient.pk, second.pk}
    # The API pages: only the patient on the page sent is named.
    client.get(reverse("api_patient_list"), {"limit": 1})
    api_rows = AuditEvent.objects.filter(actor=prescriber, action="list").count()
    assert api_rows == 3


def test_an_empty_list_is_audited_without_a_patient(client, prescriber):
    client.force_login(prescriber)
    client.get(reverse("patient_list"), {"q": "Nobody"})
    row = AuditEvent.objects.get(actor=prescriber, action="list")
    assert row.patient is None


# --- (b) sign-ins --------------------------------------------------------------------------


def test_a_sign_in_is_audited(client, prescriber):
    response = client.post(
        LOGIN, {"login": prescriber.email, "password": PASSWORD}, REMOTE_ADDR="10.9.8.7"
    )
    assert response.status_code == 302
    row = AuditEvent.objects.get(action="sign_in")
    assert (row.actor, row.outcome, row.object_id, row.ip) == (
        prescriber,
        "allowed",
        str(prescriber.uuid),
        "10.9.8.7",
    )
    assert row.request_id == response["X-Request-ID"]


def test_a_failed_sign_in_is_audited_without_the_password(client, prescriber):
    response = client.post(
        LOGIN, {"login": prescriber.email, "password": "Wrong-horse-77"}, REMOTE_ADDR="10.9.8.7"
    )
    assert response.status_code == 200
    assert "not correct" in response.content.decode() or "incorrect" in response.content.decode()
    row = AuditEvent.objects.get(action="sign_in")
    assert (row.actor, row.outcome, row.object_id, row.ip) == (
        None,
        "denied",
        str(prescriber.uuid),
        "10.9.8.7",
    )
    for values in AuditEvent.objects.values():
        assert "Wrong-horse-77" not in " ".join(str(v) for v in values.values())


def test_a_failed_sign_in_for_an_unknown_address_keeps_no_address(client):
    for _ in range(2):
        client.post(LOGIN, {"login": "Someone.Else@Example.test", "password": "x-Wrong-1"})
    rows = list(AuditEvent.objects.filter(action="sign_in"))
    assert len(rows) == 2
    assert {r.object_id for r in rows} == {address_digest("someone.else@example.test")}
    for values in AuditEvent.objects.values():
        text = " ".join(str(v) for v in values.values()).lower()
        assert "someone.else" not in text
        assert "x-wrong-1" not in text


# --- (d) psychotherapy notes ---------------------------------------------------------------


def test_psychotherapy_note_reads_never_show_in_the_patients_accounting(
    client, patient, patient_user, therapist
):
    process = stories.note_create(
        actor=therapist,
        patient=patient,
        kind="psychotherapy",
        audience="only_me",
        body="Process note",
    )
    shared = stories.note_create(
        actor=therapist, patient=patient, kind="clinician", audience="care_team", body="Visit note"
    )
    for note in (process, shared):
        stories_selectors.note_get(actor=therapist, note_uuid=note.uuid)
    # The reads happened and the clinic's trail has them.
    assert AuditEvent.objects.filter(
        actor=therapist, category="psychotherapy_notes", action="read"
    ).exists()

    page, api = accounting(client, patient_user)
    assert "Jordan Lee" in page  # the read of the team note shows
    assert "sychotherapy" not in page
    assert "process" not in page.lower()
    # One group, Jordan's reads that day: the team note, and nothing that hints at the other.
    assert [(e["who"], e["did"], e["times"]) for e in api] == [
        ("Jordan Lee", [{"did": "looked at", "information": ["your notes"]}], 1)
    ]
    assert all("sychotherapy" not in str(e) for e in api)


def test_the_accounting_api_is_the_patients_alone(client, prescriber, patient):
    client.force_login(prescriber)
    assert client.get(reverse("api_record_views")).status_code == 404
    client.logout()
    assert client.get(reverse("api_record_views")).status_code in (401, 403)


def test_sign_ins_refused_by_the_lockout_are_audited_too(client, prescriber, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        client.post(LOGIN, {"login": prescriber.email, "password": "Wrong-horse-77"})
    locked = client.post(LOGIN, {"login": prescriber.email, "password": PASSWORD})
    assert locked.status_code in (200, 403, 429)
    rows = AuditEvent.objects.filter(action="sign_in", object_id=str(prescriber.uuid))
    assert rows.filter(outcome="denied").count() == settings.AXES_FAILURE_LIMIT + 3
    assert not rows.filter(outcome="allowed").exists()


# --- kinds the policy came to name apart read as they always did ---------------------------


def test_the_thread_consultations_and_safety_plan_read_as_they_always_did(
    client, prescriber, patient, patient_user
):
    from core import audit
    from core.access import Action, Category

    for category in (
        Category.OBSERVATIONS,
        Category.THREADS,
        Category.ALLIANCE,
        Category.CONSULTATIONS,
        Category.GOALS,
        Category.SAFETY_PLAN,
    ):
        audit.record(actor=prescriber, patient=patient, category=category, action=Action.READ)
    _page, groups = accounting(client, patient_user)
    (group,) = [g for g in groups if g["who"] == prescriber.full_name]
    (looked,) = group["did"]
    # Each said once, in the words the patient has always read for them.
    assert looked["information"] == [
        "your goals",
        "your check-ins",
        "how your medicines are working",
    ]
    assert "other information" not in group["sentence"]
