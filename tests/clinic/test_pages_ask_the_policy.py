"""The clinic's pages ask core.access, not a user's role: the header by `kind_of`, what a
page offers by `{% can %}`, the care team's working screens by `may_care_for`. What each
person sees is what it was."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _page(client, user, name, *args):
    client.force_login(user)
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode()


@pytest.mark.parametrize(
    "who, start",
    [
        ("prescriber", "patient_list"),
        ("therapist", "patient_list"),
        ("patient_user", "patient_home"),
        ("admin", "console_home"),
    ],
)
def test_home_sends_each_kind_of_account_to_its_start(who, start, request, client, patient):
    user = factories.AdminFactory() if who == "admin" else request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(start)


@pytest.mark.parametrize("name", ["visit", "visit_pdf", "shared", "thread"])
def test_the_care_teams_screens_are_not_found_for_the_patient(name, client, patient, patient_user):
    client.force_login(patient_user)
    assert client.get(reverse(name, args=[patient.uuid])).status_code == 404
    # Audited as the page's read was: every decided request leaves its row.
    assert AuditEvent.objects.filter(actor=patient_user, patient=patient).exists()


def test_the_thread_is_refused_to_the_patient_by_the_policy(client, patient, patient_user):
    client.force_login(patient_user)
    assert client.get(reverse("thread", args=[patient.uuid])).status_code == 404
    (row,) = AuditEvent.objects.filter(actor=patient_user, patient=patient)
    assert (row.category, row.outcome) == ("threads", "denied")


def test_today_is_not_found_for_the_patient(client, patient_user):
    client.force_login(patient_user)
    assert client.get(reverse("today")).status_code == 404


def test_the_header_by_kind_and_what_it_offers_by_the_policy(
    client, patient, patient_user, prescriber, therapist
):
    refills = reverse("refill_queue")
    page = _page(client, prescriber, "today")
    assert reverse("patient_list") in page and refills in page
    assert "Need help now?" not in page
    page = _page(client, therapist, "today")
    assert reverse("patient_list") in page and refills not in page
    # The therapist starts from their caseload; the prescriber from the refill queue.
    assert "My caseload" in page
    assert "My caseload" not in _page(client, prescriber, "today")
    page = _page(client, patient_user, "patient_home")
    assert reverse("medications", args=[patient.uuid]) in page and "Need help now?" in page
    assert reverse("today") not in page
    page = _page(client, factories.AdminFactory(), "audit_search")
    assert reverse("console_home") in page and reverse("today") not in page
    # The Django admin is out of the everyday path, even for an admin who is a superuser.
    assert f'href="{reverse("admin:index")}"' not in page


def test_the_shared_tab_is_offered_to_who_does_not_prescribe(
    client, patient, prescriber, therapist
):
    shared = reverse("shared", args=[patient.uuid])
    assert shared in _page(client, therapist, "patient_detail", patient.uuid)
    assert shared not in _page(client, prescriber, "patient_detail", patient.uuid)


def test_the_thread_offers_the_reports_to_who_does_not_prescribe(
    client, patient, prescriber, therapist
):
    assert 'value="evaluation"' in _page(client, therapist, "thread", patient.uuid)
    page = _page(client, prescriber, "thread", patient.uuid)
    assert 'value="evaluation"' not in page and 'value="question"' in page


def test_the_visit_offers_decisions_to_the_patients_prescriber(
    client, patient, patient_user, prescriber, therapist
):
    from prescribing import services as rx

    rx.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="each morning",
        reason="agreed",
    )
    assert "Record decision" in _page(client, prescriber, "visit", patient.uuid)
    # The therapist sees no medicine without a release, and is told why.
    page = _page(client, therapist, "visit", patient.uuid)
    assert "Record decision" not in page
    assert "a release of information covering medicines is needed" in page
