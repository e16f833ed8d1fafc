"""The one access policy: default deny, self and care-team grants, not-found alike."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse

from core import access
from core.access import Action, Category
from core.models import AuditEvent, Patient
from tests import factories

pytestmark = pytest.mark.django_db


def test_anonymous_and_admin_are_denied_everything(patient):
    from django.contrib.auth.models import AnonymousUser

    admin = factories.AdminFactory()
    for actor in (AnonymousUser(), admin, None):
        for category in Category:
            assert not access.decide(actor, Action.READ, category, patient)
        assert not access.visible(actor, Patient.objects.all(), Category.PROFILE).exists()


def test_patient_sees_own_record_but_not_psychotherapy_notes(patient, patient_user):
    assert access.decide(patient_user, Action.READ, Category.MEDICATIONS, patient)
    assert access.decide(patient_user, Action.CREATE, Category.GOALS, patient)
    assert not access.decide(patient_user, Action.CREATE, Category.MEDICATIONS, patient)
    assert not access.decide(patient_user, Action.READ, Category.PSYCHOTHERAPY_NOTES, patient)
    assert list(access.visible(patient_user, Patient.objects.all(), Category.PROFILE)) == [patient]


def test_patient_cannot_see_another_patient(patient, patient_user):
    other = factories.PatientFactory()
    assert not access.decide(patient_user, Action.READ, Category.PROFILE, other)
    assert other not in access.visible(patient_user, Patient.objects.all(), Category.PROFILE)


def test_care_team_roles(patient, prescriber, therapist):
    assert access.decide(prescriber, Action.CREATE, Category.MEDICATIONS, patient)
    assert access.decide(therapist, Action.READ, Category.MEDICATIONS, patient)
    assert not access.decide(therapist, Action.CREATE, Category.MEDICATIONS, patient)
    for clinician in (prescriber, therapist):
        assert not access.decide(clinician, Action.READ, Category.PSYCHOTHERAPY_NOTES, patient)


def test_unrelated_clinician_is_denied(patient):
    outsider = factories.TherapistFactory()
    assert not access.decide(outsider, Action.READ, Category.PROFILE, patient)
    assert not access.visible(outsider, Patient.objects.all(), Category.PROFILE).exists()


def test_ended_membership_no_longer_grants(patient, prescriber, time_machine):
    membership = patient.care_team.get(clinician=prescriber)
    # `until` is the first day off the team: on it for the one day `since`.
    membership.until = membership.since + timedelta(days=1)
    membership.save()
    time_machine.move_to(f"{membership.since.isoformat()} 12:00")
    assert access.decide(prescriber, Action.READ, Category.PROFILE, patient)
    time_machine.shift(86400 * 2)
    assert not access.decide(prescriber, Action.READ, Category.PROFILE, patient)


def test_inactive_user_is_denied(patient, prescriber):
    prescriber.is_active = False
    prescriber.save()
    assert not access.decide(prescriber, Action.READ, Category.PROFILE, patient)


def test_get_answers_not_found_alike_and_audits_both(patient):
    outsider = factories.PrescriberFactory()
    from django.http import Http404

    with pytest.raises(Http404) as hidden:
        access.get(outsider, Action.READ, Category.PROFILE, patient=patient.uuid)
    missing_uuid = uuid.uuid4()
    with pytest.raises(Http404) as missing:
        access.get(outsider, Action.READ, Category.PROFILE, patient=missing_uuid)
    assert str(hidden.value) == str(missing.value)
    denials = AuditEvent.objects.filter(actor=outsider, outcome=AuditEvent.Outcome.DENIED)
    assert {e.object_id for e in denials} == {str(patient.uuid), str(missing_uuid)}


def test_pages_and_api_answer_404_alike_for_hidden_and_missing(client, patient):
    outsider = factories.TherapistFactory()
    client.force_login(outsider)
    for name in ("patient_detail", "api_patient_detail"):
        hidden = client.get(reverse(name, args=[patient.uuid]))
        missing = client.get(reverse(name, args=[uuid.uuid4()]))
        assert hidden.status_code == missing.status_code == 404
        if name.startswith("api"):
            assert hidden.json() == missing.json()


def test_patient_list_search_and_query_count(client, prescriber, django_assert_max_num_queries):
    for i in range(30):
        p = factories.PatientFactory(
            given_name=f"Name{i}", family_name="Zimmer" if i % 2 else "Alder"
        )
        factories.MembershipFactory(patient=p, clinician=prescriber)
    factories.PatientFactory(given_name="Hidden", family_name="Zimmer")  # not on the team
    client.force_login(prescriber)
    with django_assert_max_num_queries(18):  # session, user, audit append, count, list, team
        response = client.get(reverse("patient_list"), {"q": "zimm"})
    names = [p.family_name for p in response.context["patients"]]
    assert names == ["Zimmer"] * 15
    assert b"Hidden" not in response.content


def test_patient_list_query_count_does_not_grow(client, prescriber, django_assert_num_queries):
    def queries_for(n):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for _ in range(n):
            factories.MembershipFactory(clinician=prescriber)
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("patient_list"))
        return len(ctx.captured_queries)

    client.force_login(prescriber)
    client.get(reverse("patient_list"))  # the first audit event of a chain creates its head
    assert queries_for(1) == queries_for(40)


def test_htmx_search_returns_only_the_results_partial(client, prescriber, patient):
    client.force_login(prescriber)
    response = client.get(reverse("patient_list"), {"q": "Brooks"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "Dan Brooks" in body
    assert "<html" not in body


def test_patient_cannot_open_clinician_patient_list_of_others(client, patient_user, patient):
    other = factories.PatientFactory(given_name="Other")
    client.force_login(patient_user)
    response = client.get(reverse("patient_list"))
    assert list(response.context["patients"]) == [patient]
    assert client.get(reverse("patient_detail", args=[other.uuid])).status_code == 404


def test_the_clinician_directory_agrees_with_may_care_for(patient_user):
    from core.models import User

    retired = factories.TherapistFactory(is_active=False)
    people = [
        factories.PrescriberFactory(),
        factories.TherapistFactory(),
        retired,
        patient_user,
        factories.AdminFactory(),
    ]
    for role in (None, "prescriber", "therapist"):
        listed = set(User.objects.filter(access.care_givers_q(role)))
        for person in people:
            assert (person in listed) == access.may_care_for(person, role), (person, role)
    assert retired not in set(User.objects.filter(access.care_givers_q()))


def test_a_write_form_opened_is_audited_and_a_write_sent_is_audited_once(
    client, patient, prescriber
):
    """Opening the form of a write shows the patient's information: audited like a read. Sending
    it leaves one allowed row, the service's, naming what was written (none from the page)."""
    url = reverse("medication_new", args=[patient.uuid])
    client.force_login(prescriber)
    assert client.get(url).status_code == 200
    opened = AuditEvent.objects.filter(actor=prescriber, outcome="allowed")
    assert [(e.category, e.object_id) for e in opened] == [("medications", str(patient.uuid))]
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    client.post(url, {})  # bad input: nothing written
    sent = AuditEvent.objects.exclude(pk__in=before).filter(actor=prescriber, outcome="allowed")
    assert not sent.exists()
