"""The alliance's rules live in core.access, and every door agrees with them: a consultation's
audience, the clinician a concern is about, a check-in that is its patient's own answers
(and, until sent, theirs alone). A refusal leaves a denied row and no allowed one; a write
that did not happen leaves no allowed row; a write that did, exactly one, naming it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from alliance import selectors, services
from alliance.models import CheckIn, Consultation, Flag
from core import access
from core.access import Action, Category
from core.exceptions import NotAllowed
from core.models import AuditEvent
from referrals import services as referrals
from tests import factories
from tests.alliance.conftest import answer_all

pytestmark = pytest.mark.django_db


def _rows(actor, action, outcome=None, obj=None):
    rows = AuditEvent.objects.filter(actor=actor, action=action)
    if outcome:
        rows = rows.filter(outcome=outcome)
    if obj is not None:
        rows = rows.filter(object_id=str(obj.uuid))
    return rows


def _send(patient_user, patient, instrument, value, clinician=None):
    check_in = services.check_in_start(
        actor=patient_user, patient=patient, instrument=instrument, clinician=clinician
    )
    return services.check_in_submit(
        actor=patient_user, check_in=check_in, answers=answer_all(instrument, value)
    )


def _agrees(actors, model, category, records, actions):
    """The list (`visible`) and the single record (`decide_record`) say the same thing."""
    for actor in actors:
        for action in actions:
            listed = set(
                access.visible(
                    actor, model.objects.filter(pk__in=[r.pk for r in records]), category, action
                )
            )
            for record in records:
                single = access.decide_record(actor, action, category, record).allowed
                assert (record in listed) == single, (actor, record, action)


@pytest.fixture
def colleague(patient, prescriber):
    """A prescriber in the prescriber's practice, on the patient's team too."""
    colleague = factories.PrescriberFactory(practice=prescriber.practice)
    factories.MembershipFactory(patient=patient, clinician=colleague)
    return colleague


class TestConsultationAudience:
    @pytest.fixture
    def both(self, patient, prescriber, therapist):
        def consult(audience):
            return services.consultation_create(
                actor=prescriber,
                patient=patient,
                prescriber=prescriber,
                therapist=therapist,
                issues="Dan feels rushed",
                actions=f"Zq-{audience}",
                audience=audience,
            )

        return consult("clinicians"), consult("patient")

    def test_the_patient_reads_only_the_shared_one_and_the_single_record_agrees(
        self, both, patient, patient_user, prescriber, colleague
    ):
        between, shared = both
        assert selectors.consultations(actor=patient_user, patient=patient) == [shared]
        assert set(selectors.consultations(actor=prescriber, patient=patient)) == {between, shared}
        assert not access.decide_record(patient_user, Action.READ, Category.CONSULTATIONS, between)
        assert access.decide_record(patient_user, Action.READ, Category.CONSULTATIONS, shared)
        _agrees(
            [patient_user, prescriber, colleague, factories.TherapistFactory()],
            Consultation,
            Category.CONSULTATIONS,
            list(both),
            [Action.READ, Action.LIST, Action.UPDATE],
        )

    def test_another_practice_reads_them_only_under_a_release_naming_alliance_check_ins(
        self, both, patient, patient_user, prescriber, therapist
    ):
        # The therapist (Harbor) reads what the prescriber (Riverside) wrote only under a release:
        # consultations travel with the alliance check-ins on the release form.
        assert selectors.consultations(actor=therapist, patient=patient) == []
        referrals.release_sign(
            actor=patient_user,
            patient=patient,
            discloser=prescriber,
            recipient=therapist,
            categories=["alliance"],
            purpose="So my prescriber and therapist can work together.",
            expires_on=timezone.localdate() + timedelta(days=30),
            signed_name="Daniel Brooks",
            mutual=False,
        )
        assert set(selectors.consultations(actor=therapist, patient=patient)) == set(both)
        _agrees(
            [therapist],
            Consultation,
            Category.CONSULTATIONS,
            list(both),
            [Action.READ, Action.LIST],
        )

    def test_one_allowed_row_names_it_and_the_patient_is_refused_with_a_denied_row(
        self, patient, patient_user, prescriber, therapist
    ):
        consultation = services.consultation_create(
            actor=prescriber,
            patient=patient,
            prescriber=prescriber,
            therapist=therapist,
            issues="i",
            actions="a",
        )
        rows = _rows(prescriber, "create", "allowed")
        assert [(r.object_type, r.object_id, r.category) for r in rows] == [
            ("alliance.Consultation", str(consultation.uuid), "consultations")
        ]
        with pytest.raises(Http404):
            services.consultation_create(
                actor=patient_user,
                patient=patient,
                prescriber=prescriber,
                therapist=therapist,
                issues="i",
                actions="b",
            )
        assert _rows(patient_user, "create", "denied").count() == 1
        assert not _rows(patient_user, "create", "allowed").exists()
        assert Consultation.objects.count() == 1

    def test_a_refused_consultation_leaves_no_allowed_row(
        self, patient, prescriber, therapist, colleague
    ):
        # The colleague is on the team, but not in this consultation.
        with pytest.raises(NotAllowed, match="Only the prescriber or the therapist"):
            services.consultation_create(
                actor=colleague,
                patient=patient,
                prescriber=prescriber,
                therapist=therapist,
                issues="i",
                actions="a",
            )
        with pytest.raises(ValidationError):
            services.consultation_create(
                actor=prescriber,
                patient=patient,
                prescriber=prescriber,
                therapist=factories.TherapistFactory(),
                issues="i",
                actions="a",
            )
        assert not AuditEvent.objects.filter(action="create", outcome="allowed").exists()
        assert not Consultation.objects.exists()


class TestConcernAcknowledgement:
    @pytest.fixture
    def concern(self, instruments, patient, patient_user, prescriber):
        _send(patient_user, patient, instruments["concord-alliance"], 2, prescriber)
        return Flag.objects.get(kind=Flag.Kind.ALLIANCE_CONCERN)

    def test_only_the_clinician_it_is_about_acknowledges_it(
        self, concern, prescriber, colleague, therapist, patient_user
    ):
        # The colleague reads the concern, but it is not theirs to take up.
        assert access.decide_record(colleague, Action.READ, Category.ALLIANCE, concern)
        with pytest.raises(NotAllowed, match="Only the clinician this check-in is about"):
            services.flag_acknowledge(actor=colleague, flag=concern)
        assert _rows(colleague, "acknowledge", "denied", concern).count() == 1
        assert not _rows(colleague, "acknowledge", "allowed").exists()
        assert not AuditEvent.objects.filter(actor=colleague, outcome="allowed").exists()
        # The therapist (another practice) and the patient do not get that far: not found.
        for outsider in (therapist, patient_user):
            with pytest.raises(Http404):
                services.flag_acknowledge(actor=outsider, flag=concern)
            assert not _rows(outsider, "acknowledge", "allowed").exists()
        concern.refresh_from_db()
        assert concern.acknowledged_at is None
        services.flag_acknowledge(actor=prescriber, flag=concern, note="Talked it over")
        rows = _rows(prescriber, "acknowledge", "allowed")
        assert [(r.object_id, r.category) for r in rows] == [(str(concern.uuid), "alliance")]
        _agrees(
            [prescriber, colleague, therapist, patient_user],
            Flag,
            Category.ALLIANCE,
            [concern],
            [Action.ACKNOWLEDGE, Action.READ],
        )

    def test_on_the_page_the_colleague_is_told_why_and_nothing_is_recorded(
        self, client, concern, colleague
    ):
        client.force_login(colleague)
        response = client.post(reverse("flag_acknowledge", args=[concern.uuid]), follow=True)
        assert "Only the clinician this check-in is about" in response.content.decode()
        assert _rows(colleague, "acknowledge", "denied", concern).count() == 1
        assert not _rows(colleague, "acknowledge", "allowed").exists()
        concern.refresh_from_db()
        assert concern.acknowledged_at is None

    def test_the_alliance_page_offers_the_button_only_to_the_clinician_it_is_about(
        self, client, concern, colleague, prescriber, patient
    ):
        url = reverse("alliance", args=[patient.uuid])
        client.force_login(colleague)
        page = client.get(url).content.decode()
        assert "Alliance concern" in page
        assert reverse("flag_acknowledge", args=[concern.uuid]) not in page
        assert f"{prescriber.full_name} acknowledges this concern" in page
        client.force_login(prescriber)
        page = client.get(url).content.decode()
        assert reverse("flag_acknowledge", args=[concern.uuid]) in page

    def test_a_safety_alert_acknowledged_already_records_nothing_more(
        self, instruments, patient, patient_user, prescriber, therapist
    ):
        phq9 = instruments["phq-9"]
        answers = answer_all(phq9, 0) | {"phq9_9": 1}
        check_in = services.check_in_start(actor=patient_user, patient=patient, instrument=phq9)
        services.check_in_submit(actor=patient_user, check_in=check_in, answers=answers)
        alert = Flag.objects.get(kind=Flag.Kind.SAFETY)
        services.flag_acknowledge(actor=therapist, flag=alert, note="Called")
        later = services.flag_acknowledge(actor=prescriber, flag=alert, note="Me too")
        assert (later.acknowledged_by, later.acknowledgement_note) == (therapist, "Called")
        assert _rows(therapist, "acknowledge", "allowed", alert).count() == 1
        # The prescriber's attempt wrote nothing: no allowed row says it did.
        assert not _rows(prescriber, "acknowledge", "allowed").exists()


class TestCheckInAnswers:
    def test_a_refused_answer_by_someone_else_leaves_a_denied_row_and_no_allowed_one(
        self, client, instruments, patient, patient_user, prescriber
    ):
        sent = _send(patient_user, patient, instruments["concord-alliance"], 8, prescriber)
        other_patient = factories.PatientUserFactory()
        for who in (prescriber, other_patient):
            for answer in (services.check_in_submit, services.check_in_save):
                with pytest.raises(Http404):
                    answer(actor=who, check_in=sent, answers=answer_all(sent.instrument, 1))
            assert _rows(who, "update", "denied", sent).count() == 2
            assert not _rows(who, "update", "allowed").exists()
        # The page refuses the clinician it is about in the same way.
        client.force_login(prescriber)
        response = client.post(
            reverse("check_in", args=[sent.uuid]), {"bond": "1", "action": "submit"}
        )
        assert response.status_code == 404
        assert _rows(prescriber, "update", "denied", sent).count() == 3
        assert not _rows(prescriber, "update", "allowed").exists()
        sent.refresh_from_db()
        assert sent.total == 8

    def test_one_allowed_row_per_answer_kept_and_none_for_an_answer_not_kept(
        self, instruments, patient, patient_user
    ):
        gad7 = instruments["gad-7"]
        check_in = services.check_in_start(actor=patient_user, patient=patient, instrument=gad7)
        assert _rows(patient_user, "create", "allowed", check_in).count() == 1
        services.check_in_save(actor=patient_user, check_in=check_in, answers={"gad7_1": 1})
        services.check_in_submit(actor=patient_user, check_in=check_in, answers=answer_all(gad7, 1))
        assert _rows(patient_user, "update", "allowed", check_in).count() == 2
        # Sent already: a second send and a late save change nothing, and say nothing was done.
        again = services.check_in_submit(
            actor=patient_user, check_in=check_in, answers=answer_all(gad7, 3)
        )
        assert again.answers_not_sent
        with pytest.raises(ValidationError, match="already sent"):
            services.check_in_save(actor=patient_user, check_in=check_in, answers={"gad7_1": 2})
        assert _rows(patient_user, "update", "allowed", check_in).count() == 2
        # Resuming a draft writes nothing either.
        draft = services.check_in_start(
            actor=patient_user, patient=patient, instrument=instruments["phq-9"]
        )
        assert (
            services.check_in_start(
                actor=patient_user, patient=patient, instrument=instruments["phq-9"]
            )
            == draft
        )
        assert _rows(patient_user, "create", "allowed", draft).count() == 1

    def test_a_draft_is_its_patients_alone_in_lists_and_single_reads(
        self, instruments, patient, patient_user, prescriber, therapist
    ):
        draft = services.check_in_start(
            actor=patient_user, patient=patient, instrument=instruments["phq-9"]
        )
        sent = _send(patient_user, patient, instruments["gad-7"], 1)
        assert not access.decide_record(prescriber, Action.READ, Category.OUTCOMES, draft)
        assert access.decide_record(prescriber, Action.READ, Category.OUTCOMES, sent)
        assert access.decide_record(patient_user, Action.READ, Category.OUTCOMES, draft)
        _agrees(
            [patient_user, prescriber, therapist],
            CheckIn,
            Category.OUTCOMES,
            [draft, sent],
            [Action.READ, Action.LIST, Action.UPDATE, Action.CREATE],
        )

    def test_the_care_team_is_offered_no_check_in_to_start(self, patient, prescriber):
        assert not access.can(prescriber, Action.CREATE, Category.OUTCOMES, patient)
        assert selectors.check_in_offers(actor=prescriber, patient=patient) == []
