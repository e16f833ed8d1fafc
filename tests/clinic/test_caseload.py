"""The caseload page: a clinician's patients with outcomes beside the alliance, not on track
first, audited per patient, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from time_machine import travel

from alliance import selectors as alliance_selectors
from alliance import services as alliance
from core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def phq9(total: int) -> list[int]:
    """Nine answers adding up to `total` (at most 24), item 9 always 0."""
    answers = [0] * 9
    for i in range(total):
        answers[i % 8] += 1
    return answers


def gad7(total: int) -> list[int]:
    answers = [0] * 7
    for i in range(total):
        answers[i % 7] += 1
    return answers


@pytest.fixture
def offered(db):
    alliance.install_shipped()
    return {i.key: i for i in alliance_selectors.instruments_offered()}


def sends(patient, offered, key, totals, *, every_weeks=2, clinician=None, values=None):
    """The patient sends one check-in every `every_weeks` weeks, ending this week."""
    instrument = offered[key]
    ids = [item["id"] for item in instrument.definition["items"]]
    start = timezone.now() - timedelta(weeks=every_weeks * (len(totals) - 1), hours=1)
    for n, total in enumerate(totals):
        answers = values[n] if values else {"phq-9": phq9, "gad-7": gad7}[key](total)
        with travel(start + timedelta(weeks=every_weeks * n), tick=False):
            alliance.check_in_submit_new(
                actor=patient.user,
                patient=patient,
                instrument=instrument,
                clinician=clinician,
                answers=dict(zip(ids, answers, strict=True)),
            )


def new_patient(prescriber, given, family, *, therapist=None):
    user = factories.PatientUserFactory(full_name=f"{given} {family}")
    patient = factories.PatientFactory(given_name=given, family_name=family, user=user)
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    if therapist is not None:
        factories.MembershipFactory(patient=patient, clinician=therapist)
    return patient


@pytest.fixture
def caseload(prescriber, therapist, offered):
    """Three patients: one better, one worse, one stuck for ten weeks; and one whom the
    prescriber reads only under a release (not theirs)."""
    better = new_patient(prescriber, "Ann", "Abbott", therapist=therapist)
    sends(better, offered, "phq-9", [18, 14, 10, 8])
    sends(better, offered, "gad-7", [12, 8, 5])
    worse = new_patient(prescriber, "Zed", "Zimmer")
    sends(worse, offered, "phq-9", [8, 11, 15])
    stuck = new_patient(prescriber, "Mia", "Moss")
    sends(stuck, offered, "phq-9", [16, 15, 16, 14, 15, 14])
    return {"better": better, "worse": worse, "stuck": stuck}


def page(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("caseload"), params)
    assert response.status_code == 200
    return response


def names_in_order(response) -> list[str]:
    return [row.patient.family_name for row in response.context["load"].rows]


def test_not_on_track_first_worst_first_then_by_name(client, prescriber, caseload):
    response = page(client, prescriber)
    assert names_in_order(response) == ["Zimmer", "Moss", "Abbott"]
    text = response.content.decode()
    assert "2 not on track" in text
    assert "Reliably worse" in text
    assert "No reliable improvement after 8 weeks" in text
    # Abbott: 18 → 8 is reliable improvement and response, not remission (8 is not below 5).
    abbott = response.context["load"].rows[-1]
    assert abbott.phq9.change.reliable_improvement and abbott.phq9.change.response
    assert not abbott.phq9.change.remission
    # Each row opens the visit screen.
    assert reverse("visit", args=[caseload["worse"].uuid]) in text


def test_any_sort_keeps_not_on_track_first(client, prescriber, caseload):
    for sort in ("name", "phq9", "gad7", "change"):
        order = names_in_order(page(client, prescriber, sort=sort))
        assert order[:2] == ["Zimmer", "Moss"], sort


def test_a_filter_says_how_many_not_on_track_it_hides(client, prescriber, caseload):
    response = page(client, prescriber, q="Abbott")
    assert names_in_order(response) == ["Abbott"]
    assert "2 of them hidden by your filter" in response.content.decode()
    assert names_in_order(page(client, prescriber, show="not_on_track")) == ["Zimmer", "Moss"]


def test_an_alliance_concern_puts_the_patient_first(
    client, prescriber, therapist, caseload, offered
):
    better = caseload["better"]
    sends(
        better, offered, "concord-alliance", [0, 0], clinician=therapist, values=[[9] * 4, [3] * 4]
    )
    response = page(client, therapist)
    rows = response.context["load"].rows
    assert [r.patient.family_name for r in rows] == ["Abbott"]  # the therapist's only patient
    assert rows[0].reasons == ["alliance_concern"]
    assert "Alliance concern" in response.content.decode()


def test_only_patients_on_the_care_team_are_listed(client, prescriber, therapist, caseload):
    """A patient the clinician reads only under a release is not their caseload."""
    from referrals import services as referrals

    other_prescriber = factories.PrescriberFactory()
    theirs = new_patient(other_prescriber, "Ray", "Released", therapist=None)
    referrals.release_sign(
        actor=theirs.user,
        patient=theirs,
        discloser=other_prescriber,
        recipient=prescriber,
        categories=["medications"],
        purpose="Co-treatment",
        expires_on=timezone.localdate() + timedelta(days=90),
        signed_name=theirs.user.full_name,
    )
    assert "Released" not in names_in_order(page(client, prescriber))


def test_patients_and_outsiders_are_refused(client, patient_user, caseload):
    client.force_login(patient_user)
    assert client.get(reverse("caseload")).status_code == 404


def test_each_patient_shown_is_audited_for_what_was_read(client, prescriber, caseload):
    before = AuditEvent.objects.count()
    page(client, prescriber)
    rows = AuditEvent.objects.all().order_by("-id")[: AuditEvent.objects.count() - before]
    read = {(e.patient_id, e.category) for e in rows}
    for patient in caseload.values():
        for category in ("profile", "outcomes", "alliance", "goals"):
            assert (patient.pk, category) in read, (patient, category)


def test_queries_do_not_grow_with_the_caseload(client, prescriber, therapist, caseload, offered):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(prescriber)
    client.get(reverse("caseload"))  # the session's first request reads the account once
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("caseload"))
    for n in range(4):
        extra = new_patient(prescriber, f"Extra{n}", f"Extra{n}", therapist=therapist)
        sends(extra, offered, "phq-9", [10, 12, 9])
        sends(extra, offered, "concord-alliance", [0], clinician=prescriber, values=[[8] * 4])
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("caseload"))
    assert len(response.context["load"].rows) == 7
    assert len(large) == len(small)
    assert len(large) <= 30


def test_the_api_answers_the_same_rows_in_the_same_order(
    client, prescriber, patient_user, caseload
):
    client.force_login(prescriber)
    body = client.get(reverse("api_caseload")).json()
    assert body["count"] == 3
    rows = body["results"]
    assert [r["name"].split()[-1] for r in rows] == ["Zimmer", "Moss", "Abbott"]
    assert rows[0]["not_on_track"] == ["reliable_deterioration"]
    worse = rows[0]["outcomes"][0]
    assert (worse["instrument"], worse["baseline"], worse["latest"]) == ("phq-9", 8, 15)
    assert worse["reliable_deterioration"] and worse["rci"] > 1.96
    abbott = {o["instrument"]: o for o in rows[2]["outcomes"]}
    assert abbott["phq-9"]["response"] and not abbott["phq-9"]["remission"]
    assert abbott["gad-7"]["reliable_improvement"] and not abbott["gad-7"]["remission"]
    # The first page of any sort starts with those not on track.
    first = client.get(reverse("api_caseload"), {"sort": "phq9", "limit": 1}).json()
    assert first["results"][0]["not_on_track"]
    client.force_login(patient_user)
    assert client.get(reverse("api_caseload")).status_code == 404


def test_the_api_refuses_a_filter_it_does_not_know(client, prescriber, caseload):
    client.force_login(prescriber)
    response = client.get(reverse("api_caseload"), {"show": "everything", "sort": "age"})
    assert response.status_code == 400
    assert set(response.json()) >= {"show", "sort"}
