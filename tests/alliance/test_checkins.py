"""Check-ins: per relationship, resumable, never incomplete, sent once; flags and safety alerts."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.urls import reverse

from alliance import selectors, services
from alliance.models import AllianceSettings, CheckIn, Consultation, Flag
from core.exceptions import NotAllowed
from core.models import AuditEvent, Notification
from core.tasks import deliver_nudges
from tests import factories
from tests.alliance.conftest import answer_all

pytestmark = pytest.mark.django_db


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


class TestCheckIns:
    def test_one_check_in_per_relationship(
        self, instruments, patient, patient_user, prescriber, therapist
    ):
        alliance = instruments["concord-alliance"]
        with_prescriber = _send(patient_user, patient, alliance, 9, prescriber)
        with_therapist = _send(patient_user, patient, alliance, 6, therapist)
        assert (with_prescriber.clinician, with_prescriber.total) == (prescriber, 9)
        assert (with_therapist.clinician, with_therapist.total) == (therapist, 6)

    def test_alliance_check_in_must_name_a_clinician_on_the_team(
        self, instruments, patient, patient_user
    ):
        with pytest.raises(ValidationError, match="care team"):
            services.check_in_start(
                actor=patient_user, patient=patient, instrument=instruments["concord-alliance"]
            )
        outsider = factories.PrescriberFactory()
        with pytest.raises(ValidationError, match="care team"):
            services.check_in_start(
                actor=patient_user,
                patient=patient,
                instrument=instruments["concord-alliance"],
                clinician=outsider,
            )

    def test_incomplete_submit_is_explained_and_stores_nothing(
        self, instruments, patient, patient_user
    ):
        phq9 = instruments["phq-9"]
        check_in = services.check_in_start(actor=patient_user, patient=patient, instrument=phq9)
        partial = answer_all(phq9, 1)
        del partial["phq9_4"]
        with pytest.raises(services.Incomplete) as error:
            services.check_in_submit(actor=patient_user, check_in=check_in, answers=partial)
        assert [item["id"] for item in error.value.items] == ["phq9_4"]
        check_in.refresh_from_db()
        assert (check_in.status, check_in.answers, check_in.total) == ("draft", {}, None)

    def test_resumable(self, instruments, patient, patient_user):
        gad7 = instruments["gad-7"]
        check_in = services.check_in_start(actor=patient_user, patient=patient, instrument=gad7)
        services.check_in_save(
            actor=patient_user, check_in=check_in, answers={"gad7_1": "2", "gad7_2": "9"}
        )
        resumed = services.check_in_start(actor=patient_user, patient=patient, instrument=gad7)
        assert resumed.pk == check_in.pk
        assert resumed.answers == {"gad7_1": 2}  # the invalid 9 is not kept

    def test_double_submit_records_one_response(
        self, instruments, patient, patient_user, prescriber
    ):
        alliance = instruments["concord-alliance"]
        check_in = services.check_in_start(
            actor=patient_user, patient=patient, instrument=alliance, clinician=prescriber
        )
        first = services.check_in_submit(
            actor=patient_user, check_in=check_in, answers=answer_all(alliance, 8)
        )
        second = services.check_in_submit(
            actor=patient_user, check_in=check_in, answers=answer_all(alliance, 2)
        )
        assert first.pk == second.pk
        assert CheckIn.objects.filter(status="submitted").count() == 1
        assert second.total == 8  # the repeat changed nothing
        assert not Flag.objects.exists()

    def test_a_second_tab_is_told_its_different_answers_were_not_sent(
        self, client, instruments, patient, patient_user
    ):
        from django.urls import reverse

        phq9 = instruments["phq-9"]
        check_in = services.check_in_start(actor=patient_user, patient=patient, instrument=phq9)
        client.force_login(patient_user)
        url = reverse("check_in", args=[check_in.uuid])
        same = {k: str(v) for k, v in answer_all(phq9, 1).items()}
        first = client.post(url, {**same, "action": "send"}, follow=True)
        assert "Thank you" in first.content.decode()
        again = client.post(url, {**same, "action": "send"}, follow=True)
        assert "Thank you" in again.content.decode()  # a second click: nothing to explain
        other = {k: "3" for k in same}
        late = client.post(url, {**other, "action": "send"}, follow=True).content.decode()
        assert "the ones you just gave were not sent" in late
        check_in.refresh_from_db()
        assert set(check_in.answers.values()) == {1}
        api = client.post(
            reverse("api_check_in_submit", args=[check_in.uuid]),
            {"answers": {k: 3 for k in same}},
            content_type="application/json",
        )
        assert api.status_code == 409
        assert "not recorded" in api.json()["detail"]

    def test_response_keeps_its_instrument_version(self, instruments, patient, patient_user):
        import copy

        phq9 = instruments["phq-9"]
        sent = _send(patient_user, patient, phq9, 0)
        newer = copy.deepcopy(phq9.definition)
        newer["version"] = 2
        newer["name"] = "PHQ-9 (revised wording)"
        services.instrument_import(definition=newer)
        sent.refresh_from_db()
        assert sent.instrument.version == 1
        assert [i.version for i in selectors.instruments_offered() if i.key == "phq-9"] == [2]

    def test_import_refuses_a_duplicate_version_and_a_bad_definition(self, instruments):
        with pytest.raises(ValidationError, match="already installed"):
            services.instrument_import(definition=instruments["gad-7"].definition)
        with pytest.raises(ValidationError, match="cannot be used"):
            services.instrument_import(definition={"key": "x"})

    def test_only_the_patient_answers(self, instruments, patient, prescriber):
        # Check-ins are the patient's own answers: the policy gives the team no check-in to
        # start, and the refusal is audited.
        with pytest.raises(Http404):
            services.check_in_start(
                actor=prescriber, patient=patient, instrument=instruments["phq-9"]
            )
        assert not CheckIn.objects.exists()
        rows = AuditEvent.objects.filter(actor=prescriber, action="create")
        assert [(r.category, r.outcome) for r in rows] == [("outcomes", "denied")]


class TestFlags:
    def test_low_score_flags_the_clinician_of_that_relationship(
        self,
        instruments,
        patient,
        patient_user,
        prescriber,
        therapist,
        django_capture_on_commit_callbacks,
    ):
        alliance = instruments["concord-alliance"]
        with django_capture_on_commit_callbacks(execute=True):
            _send(patient_user, patient, alliance, 8, prescriber)
            _send(patient_user, patient, alliance, 4, prescriber, open_answer="I feel rushed")
        deliver_nudges()  # a worker delivers the alert, not the patient's request
        flag = Flag.objects.get()
        assert (flag.kind, flag.clinician, flag.reasons) == (
            "alliance_concern",
            prescriber,
            ["below_cutoff", "drop_from_baseline"],
        )
        assert (
            Notification.objects.filter(recipient=prescriber, kind="alliance_concern").count() == 1
        )
        assert not Notification.objects.filter(recipient=therapist).exists()
        assert "rushed" not in Notification.objects.get().title

    def test_no_flag_on_a_good_first_response(self, instruments, patient, patient_user, prescriber):
        _send(patient_user, patient, instruments["concord-alliance"], 8, prescriber)
        assert not Flag.objects.exists()

    def test_phq9_item_9_alerts_the_whole_team_until_acknowledged(
        self,
        instruments,
        patient,
        patient_user,
        prescriber,
        therapist,
        django_capture_on_commit_callbacks,
    ):
        phq9 = instruments["phq-9"]
        answers = answer_all(phq9, 0)
        answers["phq9_9"] = 1
        check_in = services.check_in_start(actor=patient_user, patient=patient, instrument=phq9)
        with django_capture_on_commit_callbacks(execute=True):
            services.check_in_submit(actor=patient_user, check_in=check_in, answers=answers)
        deliver_nudges()  # a worker delivers the alert, not the patient's request
        alert = Flag.objects.get(kind="safety")
        for clinician in (prescriber, therapist):
            assert (
                Notification.objects.filter(recipient=clinician, kind="safety_alert").count() == 1
            )
            assert [f.kind for f in selectors.open_flags(actor=clinician, patient=patient)] == [
                "safety"
            ]
        services.flag_acknowledge(
            actor=therapist, flag=alert, note="Called Dan, safety plan reviewed"
        )
        assert selectors.open_flags(actor=prescriber, patient=patient) == []
        assert AuditEvent.objects.filter(
            actor=therapist, action="acknowledge", outcome="allowed", object_id=str(alert.uuid)
        ).exists()

    def test_patient_cannot_acknowledge(self, instruments, patient, patient_user, prescriber):
        _send(patient_user, patient, instruments["concord-alliance"], 2, prescriber)
        flag = Flag.objects.get()
        with pytest.raises((NotAllowed, Http404)):
            services.flag_acknowledge(actor=patient_user, flag=flag)


def test_consultation_between_the_patients_prescriber_and_therapist(patient, prescriber, therapist):
    consultation = services.consultation_create(
        actor=prescriber,
        patient=patient,
        prescriber=prescriber,
        therapist=therapist,
        issues="Dan feels rushed in med visits",
        actions="Longer visit next time; therapist to check in",
    )
    assert Consultation.objects.get() == consultation
    outsider = factories.TherapistFactory()
    with pytest.raises(ValidationError, match="therapist"):
        services.consultation_create(
            actor=prescriber,
            patient=patient,
            prescriber=prescriber,
            therapist=outsider,
            issues="x",
            actions="y",
        )


class TestPages:
    def test_patient_completes_a_check_in_about_their_prescriber(
        self, client, instruments, patient, patient_user, prescriber
    ):
        client.force_login(patient_user)
        page = client.get(reverse("check_ins", args=[patient.uuid])).content.decode()
        assert f"How is it going with {prescriber.full_name}?" in page
        start = client.post(
            reverse("check_in_start", args=[patient.uuid]),
            {"instrument": instruments["concord-alliance"].pk, "clinician": str(prescriber.uuid)},
        )
        url = start["Location"]
        form = client.get(url).content.decode()
        assert f"I feel heard, understood and respected by {prescriber.full_name}." in form
        incomplete = client.post(url, {"bond": "8", "action": "submit"})
        assert incomplete.status_code == 400
        assert (
            "Please answer every question before sending: 3 still unanswered."
            in incomplete.content.decode()
        )
        assert not CheckIn.objects.filter(status="submitted").exists()
        done = client.post(
            url,
            {
                "bond": "8",
                "goals": "7",
                "tasks": "7",
                "fit": "8",
                "open_answer": "More time",
                "action": "submit",
            },
            follow=True,
        )
        assert "Thank you." in done.content.decode()
        client.post(
            url, {"bond": "1", "goals": "1", "tasks": "1", "fit": "1", "action": "submit"}
        )  # a double submit
        assert CheckIn.objects.get(status="submitted").total == 7.5

    def test_clinic_can_hide_alliance_scores_from_patients(
        self, client, instruments, patient, patient_user, prescriber
    ):
        sent = _send(patient_user, patient, instruments["concord-alliance"], 6, prescriber)
        AllianceSettings.objects.all().delete()
        AllianceSettings.objects.create(show_alliance_scores_to_patients=False)
        client.force_login(patient_user)
        page = client.get(reverse("check_in", args=[sent.uuid])).content.decode()
        assert "Score:" not in page
        assert "<dd>6</dd>" in page  # their own answers are always shown
        client.force_login(prescriber)
        assert (
            "Score: <strong>6</strong>"
            in client.get(reverse("check_in", args=[sent.uuid])).content.decode()
        )

    def test_prescriber_sees_flag_and_trend(
        self, client, instruments, patient, patient_user, prescriber
    ):
        for value in (9, 9, 4):
            _send(patient_user, patient, instruments["concord-alliance"], value, prescriber)
        client.force_login(prescriber)
        page = client.get(reverse("alliance", args=[patient.uuid])).content.decode()
        assert f"Alliance concern with {prescriber.full_name}" in page
        assert '<svg class="chart"' in page
        assert "latest 4, cut-off 7" in page

    def test_outsider_gets_not_found(self, client, instruments, patient, patient_user, prescriber):
        sent = _send(patient_user, patient, instruments["concord-alliance"], 2, prescriber)
        client.force_login(factories.TherapistFactory())
        assert client.get(reverse("alliance", args=[patient.uuid])).status_code == 404
        assert client.get(reverse("check_in", args=[sent.uuid])).status_code == 404
        flag = Flag.objects.get()
        assert client.post(reverse("flag_acknowledge", args=[flag.uuid])).status_code == 404
        flag.refresh_from_db()
        assert flag.acknowledged_at is None


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submits_record_one_response(require_postgresql):
    services.install_shipped()
    instrument = next(i for i in selectors.instruments_offered() if i.key == "gad-7")
    patient_user = factories.PatientUserFactory()
    patient = factories.PatientFactory(user=patient_user)
    check_in = services.check_in_start(actor=patient_user, patient=patient, instrument=instrument)
    barrier = threading.Barrier(8)
    errors = []

    def submit():
        try:
            barrier.wait()
            services.check_in_submit(
                actor=patient_user,
                check_in=CheckIn.objects.get(pk=check_in.pk),
                answers=answer_all(instrument, 1),
            )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert CheckIn.objects.filter(patient=patient, status="submitted").count() == 1


class TestAPI:
    def test_check_in_through_the_api(self, client, instruments, patient, patient_user, prescriber):
        client.force_login(patient_user)
        assert {"concord-alliance", "phq-9", "gad-7"} <= {
            i["key"] for i in client.get(reverse("api_instruments")).json()["results"]
        }
        started = client.post(
            reverse("api_check_ins", args=[patient.uuid]),
            {"instrument": "concord-alliance", "clinician": str(prescriber.uuid)},
            content_type="application/json",
        )
        assert started.status_code == 201
        uuid = started.json()["uuid"]
        incomplete = client.post(
            reverse("api_check_in_submit", args=[uuid]),
            {"answers": {"bond": 5}},
            content_type="application/json",
        )
        assert incomplete.status_code == 400
        sent = client.post(
            reverse("api_check_in_submit", args=[uuid]),
            {"answers": {"bond": 3, "goals": 3, "tasks": 3, "fit": 3}},
            content_type="application/json",
        )
        assert sent.json()["total"] == 3
        client.force_login(prescriber)
        flags = client.get(reverse("api_flags", args=[patient.uuid])).json()["results"]
        assert [f["kind"] for f in flags] == ["alliance_concern"]
        acked = client.post(
            reverse("api_flag_acknowledge", args=[flags[0]["uuid"]]),
            {},
            content_type="application/json",
        )
        assert acked.json()["acknowledged_at"] is not None


def test_import_instrument_command(tmp_path, instruments):
    import json

    from django.core.management import call_command
    from django.core.management.base import CommandError

    definition = dict(
        instruments["gad-7"].definition,
        key="licensed-srs",
        name="Session Rating Scale",
        licence_note="Licensed to the clinic",
    )
    path = tmp_path / "srs.json"
    path.write_text(json.dumps(definition))
    call_command("import_instrument", str(path))
    assert "licensed-srs" in {i.key for i in selectors.instruments_offered()}
    with pytest.raises(CommandError, match="already installed"):
        call_command("import_instrument", str(path))


def test_only_the_clinician_of_the_relationship_acknowledges_a_concern(
    instruments, patient, patient_user, prescriber, therapist
):
    _send(patient_user, patient, instruments["concord-alliance"], 2, prescriber)
    flag = Flag.objects.get()
    # A colleague of the prescriber on the team sees the concern, but it is not theirs to take up.
    colleague = factories.PrescriberFactory(practice=prescriber.practice)
    factories.MembershipFactory(patient=patient, clinician=colleague)
    with pytest.raises(NotAllowed, match="Only the clinician"):
        services.flag_acknowledge(actor=colleague, flag=flag)
    # The therapist, of another practice, does not see it at all without a release.
    with pytest.raises(Http404):
        services.flag_acknowledge(actor=therapist, flag=flag)
    assert [f.kind for f in selectors.open_flags(actor=prescriber, patient=patient)] == [
        "alliance_concern"
    ]


def test_a_draft_is_the_patients_own_until_sent(instruments, patient, patient_user, prescriber):
    draft = services.check_in_start(
        actor=patient_user, patient=patient, instrument=instruments["phq-9"]
    )
    with pytest.raises(Http404):
        selectors.check_in_get(actor=prescriber, check_in_uuid=draft.uuid)
    assert selectors.check_in_get(actor=patient_user, check_in_uuid=draft.uuid) == draft
