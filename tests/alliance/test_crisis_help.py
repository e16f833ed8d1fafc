"""Crisis help: first on the page after a self-harm answer, one link away everywhere else, with
the clinic's own after-hours help, and never a promise the clinic does not keep."""

import pytest
from django.core import mail
from django.urls import reverse

from alliance import services as alliance_services
from alliance.models import CheckIn
from core.models import AuditEvent, Notification, Practice
from core.tasks import deliver_nudges
from tests import factories
from tests.alliance.conftest import answer_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def riverside(prescriber):
    practice = prescriber.practice
    practice.after_hours_phone = "(555) 010-0199"
    practice.after_hours_instructions = "Call the on-call psychiatrist through the main line."
    practice.reply_time = "within one business day"
    practice.save()
    return practice


def _phq9(client, patient_user, patient, instruments, item_9):
    phq9 = instruments["phq-9"]
    check_in = alliance_services.check_in_start(
        actor=patient_user, patient=patient, instrument=phq9
    )
    answers = answer_all(phq9, 0)
    answers["phq9_9"] = item_9
    client.force_login(patient_user)
    url = reverse("check_in", args=[check_in.uuid])
    response = client.post(url, {**answers, "action": "submit"}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_a_self_harm_answer_shows_crisis_help_before_anything_else(
    client, instruments, patient, patient_user, prescriber, therapist, riverside
):
    page = _phq9(client, patient_user, patient, instruments, item_9=1)
    main = page[page.index('<main id="main"') :]
    help_at = main.index("If you need help now")
    # Before the check-in's own heading, its score and its answers.
    assert help_at < main.index("<h1>")
    assert help_at < main.index("Sent on")
    assert 'href="tel:988"' in main and 'href="sms:988"' in main
    assert 'href="tel:911"' in main and "nearest emergency department" in main
    assert "Call the on-call psychiatrist through the main line." in main
    assert 'href="tel:5550100199"' in main
    # Who was told, and when they will be in touch: the practice's own words, nothing more.
    assert "Dr. Priya Raman, Jordan Lee" in main
    assert "Riverside Psychiatry will be in touch within one business day." in main
    assert "Thank you. Your answers are with your care team." not in page


def test_without_a_stated_reply_time_it_promises_no_time(
    client, instruments, patient, patient_user, prescriber
):
    page = _phq9(client, patient_user, patient, instruments, item_9=2)
    assert "They will be in touch, but they may not see this straight away." in page
    assert "will be in touch within" not in page
    # Nothing the practice has not set: no after-hours entry at all.
    assert "after hours:" not in page


def test_no_crisis_panel_when_item_9_is_zero(client, instruments, patient, patient_user, riverside):
    page = _phq9(client, patient_user, patient, instruments, item_9=0)
    assert "Thank you. Your answers are with your care team." in page
    assert "If you need help now" not in page
    assert "Need help now?" in page  # the header link stays


def test_the_clinicians_view_of_the_check_in_has_no_patient_crisis_panel(
    client, instruments, patient, patient_user, prescriber, riverside
):
    _phq9(client, patient_user, patient, instruments, item_9=1)
    check_in = CheckIn.objects.get(patient=patient)
    client.force_login(prescriber)
    page = client.get(reverse("check_in", args=[check_in.uuid])).content.decode()
    assert "If you need help now" not in page
    assert "Need help now?" not in page


def test_the_patient_gets_the_help_in_the_app_and_never_by_email(
    client,
    instruments,
    patient,
    patient_user,
    prescriber,
    therapist,
    riverside,
    django_capture_on_commit_callbacks,
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _phq9(client, patient_user, patient, instruments, item_9=3)
    notice = Notification.objects.get(recipient=patient_user)
    assert notice.kind == "crisis_help"
    assert notice.link == reverse("crisis_help")
    assert patient_user.email not in [to for m in mail.outbox for to in m.to]
    # The clinicians are alerted (by e-mail too: their alert is essential), by a worker: the
    # patient's request sends nobody else anything.
    assert mail.outbox == []
    deliver_nudges()
    assert {m.to[0] for m in mail.outbox} == {prescriber.email, therapist.email}
    page = client.get(reverse("notifications")).content.decode()
    assert "If you need help now" in page


def test_the_crisis_page_is_open_to_anyone_and_shows_a_patients_own_clinic(
    client, patient, patient_user, riverside
):
    response = client.get(reverse("crisis_help"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="tel:988"' in page and 'href="tel:911"' in page
    assert "Riverside Psychiatry" not in page  # nobody signed in: no clinic named
    client.force_login(patient_user)
    page = client.get(reverse("crisis_help")).content.decode()
    assert "Riverside Psychiatry, after hours:" in page
    assert AuditEvent.objects.filter(
        actor=patient_user, patient=patient, category="profile", action="read"
    ).exists()


def test_every_patient_page_links_to_help_and_clinician_pages_do_not(
    client, patient, patient_user, prescriber
):
    client.force_login(patient_user)
    for url in (
        reverse("patient_home"),
        reverse("goals", args=[patient.uuid]),
        reverse("medications", args=[patient.uuid]),
        reverse("notifications"),
    ):
        page = client.get(url).content.decode()
        assert f'href="{reverse("crisis_help")}"' in page, url
    client.logout()
    assert "Need help now?" in client.get(reverse("account_login")).content.decode()
    client.force_login(prescriber)
    assert "Need help now?" not in client.get(reverse("today")).content.decode()


class TestClinicAdminSetsAfterHoursHelp:
    @pytest.fixture
    def clinic_admin(self, prescriber):
        return factories.UserFactory(
            role="admin", practice=prescriber.practice, email="office@example.org"
        )

    def _url(self, practice):
        return reverse("practice_settings", args=[practice.uuid])

    def test_the_admin_saves_it_and_patients_see_it(
        self, client, clinic_admin, patient_user, patient
    ):
        client.force_login(clinic_admin)
        # A practice's own admin has one practice: the list goes straight to it.
        assert client.get(reverse("practice_list")).url == self._url(clinic_admin.practice)
        response = client.post(
            self._url(clinic_admin.practice),
            {
                "after_hours_phone": "+1 555 010 0100",
                "after_hours_instructions": "Press 2 for the doctor on call.",
                "reply_time": "by the end of the next working day",
            },
        )
        assert response.status_code == 302
        practice = Practice.objects.get(pk=clinic_admin.practice_id)
        assert practice.after_hours_tel == "+15550100100"
        assert AuditEvent.objects.filter(
            actor=clinic_admin, object_type="core.Practice", action="update"
        ).exists()
        client.force_login(patient_user)
        page = client.get(reverse("crisis_help")).content.decode()
        assert "Press 2 for the doctor on call." in page
        assert 'href="tel:+15550100100"' in page

    def test_bad_input_is_explained_and_nothing_changes(self, client, clinic_admin):
        client.force_login(clinic_admin)
        response = client.post(
            self._url(clinic_admin.practice),
            {"after_hours_phone": "call Jo", "after_hours_instructions": "x", "reply_time": ""},
        )
        assert response.status_code == 400
        assert "Enter a phone number" in response.content.decode()
        practice = Practice.objects.get(pk=clinic_admin.practice_id)
        assert (practice.after_hours_phone, practice.after_hours_instructions) == ("", "")

    def test_a_clinic_wide_admin_chooses_among_every_practice(self, client, prescriber, therapist):
        admin = factories.UserFactory(role="admin", practice=None, email="clinic@example.org")
        client.force_login(admin)
        page = client.get(reverse("practice_list")).content.decode()
        assert prescriber.practice.name in page and therapist.practice.name in page
        response = client.post(self._url(therapist.practice), {"reply_time": "the same day"})
        assert response.status_code == 302
        assert Practice.objects.get(pk=therapist.practice_id).reply_time == "the same day"

    def test_only_the_practices_admin_may_set_it(
        self, client, clinic_admin, prescriber, therapist, patient_user
    ):
        other = therapist.practice
        for user in (prescriber, patient_user, clinic_admin):
            client.force_login(user)
            if user is not clinic_admin:
                assert client.get(reverse("practice_list")).status_code == 404
            assert client.get(self._url(other)).status_code == 404
            response = client.post(self._url(other), {"after_hours_phone": "555 0100"})
            assert response.status_code == 404
        assert Practice.objects.get(pk=other.pk).after_hours_phone == ""
        assert AuditEvent.objects.filter(
            actor=clinic_admin, object_type="core.Practice", outcome="denied"
        ).exists()


def test_the_service_refuses_anyone_who_does_not_run_the_practice(prescriber, therapist):
    from django.http import Http404

    from core import services as core_services

    admin_elsewhere = factories.UserFactory(role="admin", practice=therapist.practice)
    for actor in (prescriber, admin_elsewhere):
        with pytest.raises(Http404):
            core_services.practice_crisis_help_update(
                actor=actor, practice=prescriber.practice, data={"reply_time": "today"}
            )
    assert Practice.objects.get(pk=prescriber.practice_id).reply_time == ""
    assert AuditEvent.objects.filter(
        actor=admin_elsewhere, object_type="core.Practice", outcome="denied"
    ).exists()
