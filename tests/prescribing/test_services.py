"""Medication plans: decisions as the only way to change, observations, supply, refill requests."""

import threading
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.http import Http404

from core.exceptions import Conflict, NotAllowed
from prescribing import selectors, services
from prescribing.models import DecisionRecord, Medication, RefillRequest, SupplyPolicy
from tests import factories

pytestmark = pytest.mark.django_db


def test_start_records_a_decision_with_purpose_and_goal(sertraline, goal):
    decision = sertraline.decisions.get()
    assert decision.kind == "start"
    assert decision.decided_together
    assert decision.after["strength"] == "50 mg"
    assert list(sertraline.goals.all()) == [goal]
    assert sertraline.purpose == "To feel less on edge so I can sleep"


def test_dose_change_keeps_before_and_after(sertraline, prescriber):
    decision = services.medication_change_dose(
        actor=prescriber,
        medication=sertraline,
        version=1,
        strength="100 mg",
        reason="Partial response after 6 weeks",
        decided_together=True,
        **factories.WHOSE_NEED,
    )
    sertraline.refresh_from_db()
    assert sertraline.strength == "100 mg"
    assert ("Strength", "50 mg", "100 mg") in decision.changes()
    assert [d.kind for d in sertraline.decisions.order_by("created_at", "id")] == [
        "start",
        "dose_change",
    ]


def test_decision_without_a_reason_is_refused_and_changes_nothing(sertraline, prescriber):
    with pytest.raises(ValidationError, match="Say why"):
        services.medication_change_dose(
            actor=prescriber,
            medication=sertraline,
            version=1,
            strength="100 mg",
            reason=" ",
            **factories.WHOSE_NEED,
        )
    sertraline.refresh_from_db()
    assert sertraline.strength == "50 mg"
    assert sertraline.decisions.count() == 1


def test_stale_decision_conflicts(sertraline, prescriber):
    services.medication_set_status(
        actor=prescriber, medication=sertraline, version=1, status="paused", reason="Travel"
    )
    with pytest.raises(Conflict):
        services.medication_change_dose(
            actor=prescriber,
            medication=sertraline,
            version=1,
            strength="25 mg",
            reason="x",
            **factories.WHOSE_NEED,
        )


@pytest.mark.parametrize(
    ("path", "kinds"),
    [
        (["paused", "active", "stopped", "active"], ["pause", "restart", "stop", "restart"]),
    ],
)
def test_status_changes_are_decisions(sertraline, prescriber, path, kinds):
    med = sertraline
    for status in path:
        services.medication_set_status(
            actor=prescriber,
            medication=med,
            version=med.version,
            status=status,
            reason="r",
            **factories.WHOSE_NEED,
        )
        med.refresh_from_db()
    assert [d.kind for d in med.decisions.order_by("created_at", "id")][1:] == kinds


def test_bad_status_change_refused(sertraline, prescriber):
    with pytest.raises(ValidationError, match="cannot be changed to proposed"):
        services.medication_set_status(
            actor=prescriber,
            medication=sertraline,
            version=1,
            status="proposed",
            reason="r",
            **factories.WHOSE_NEED,
        )


def test_switch_stops_one_and_starts_another_with_the_same_purpose(sertraline, prescriber, goal):
    new = services.medication_switch(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        medication=sertraline,
        version=1,
        reason="Sexual side effects",
        drug_name="Bupropion",
        strength="150 mg",
        form="tablet",
        dose="1 tablet",
        directions="each morning",
    )
    sertraline.refresh_from_db()
    assert sertraline.status == "stopped"
    assert new.switched_from == sertraline
    assert new.purpose == sertraline.purpose
    assert list(new.goals.all()) == [goal]


def test_decision_records_are_append_only_in_the_database(sertraline):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DecisionRecord.objects.filter(medication=sertraline).update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DecisionRecord.objects.filter(medication=sertraline).delete()


def test_therapist_and_patient_cannot_prescribe(patient, therapist, patient_user):
    for actor in (therapist, patient_user):
        with pytest.raises(Http404):
            services.medication_start(
                serves_no_goal=True,
                no_goal_reason="No goal written yet.",
                needs=["patient_request"],
                need_reflection="What the patient asked for.",
                actor=actor,
                patient=patient,
                drug_name="X",
                not_coded=True,  # not in the formulary: free text
                schedule="none",
                strength="1",
                form="t",
                dose="1",
                directions="d",
                reason="r",
            )
    assert not Medication.objects.exists()


def test_patient_writes_purpose_in_their_words(sertraline, patient_user):
    decision = services.medication_set_purpose(
        actor=patient_user,
        medication=sertraline,
        version=1,
        purpose="So I can stop checking the locks all night",
        worries="Becoming dependent",
        concerns=["dependency"],
    )
    assert decision.author == patient_user and decision.kind == "purpose"
    sertraline.refresh_from_db()
    assert sertraline.concern_labels() == ["Becoming dependent on it"]


def test_patient_cannot_change_the_dose(sertraline, patient_user):
    with pytest.raises(NotAllowed):
        services.medication_change_dose(
            actor=patient_user,
            medication=sertraline,
            version=1,
            strength="500 mg",
            reason="more",
            **factories.WHOSE_NEED,
        )


def test_other_practice_therapist_does_not_see_medications_without_release(
    sertraline, therapist, patient
):
    assert selectors.medication_plan(actor=therapist, patient=patient) == []
    with pytest.raises(Http404):
        selectors.medication_get(actor=therapist, medication_uuid=sertraline.uuid)


def test_observation_bad_input(sertraline, patient_user):
    with pytest.raises(ValidationError):
        services.observation_create(
            actor=patient_user, medication=sertraline, kind="response", text=""
        )
    with pytest.raises(ValidationError, match="future"):
        services.observation_create(
            actor=patient_user,
            medication=sertraline,
            kind="response",
            text="x",
            observed_on=date.today() + timedelta(days=3),
        )
    obs = services.observation_create(
        actor=patient_user,
        medication=sertraline,
        kind="side_effect",
        severity="mild",
        text="Sleepy until noon",
    )
    assert obs.practice is None


class TestSupplyThroughServices:
    def test_schedule_ii_second_fill_refused(self, patient, prescriber, time_machine):
        time_machine.move_to("2026-03-01 10:00")
        med = services.medication_start(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            patient=patient,
            drug_name="Methylphenidate",
            strength="10 mg",
            form="tablet",
            dose="1",
            directions="twice a day",
            schedule="II",
            reason="ADHD, agreed trial",
        )
        with pytest.raises(ValidationError, match="cannot have refills"):
            services.prescription_write(
                actor=prescriber, medication=med, quantity=60, days_supply=30, refills_authorised=1
            )
        rx = services.prescription_write(
            actor=prescriber, medication=med, quantity=60, days_supply=30
        )
        services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
        time_machine.move_to("2026-03-28 10:00")
        with pytest.raises(ValidationError, match="Schedule II medicines cannot be refilled"):
            services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 28))

    def test_schedule_ii_series_with_earliest_fill_dates(self, patient, prescriber, time_machine):
        time_machine.move_to("2026-03-01 10:00")
        med = services.medication_start(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            patient=patient,
            drug_name="Amphetamine",
            strength="10 mg",
            form="tablet",
            dose="1",
            directions="morning",
            schedule="II",
            reason="r",
        )
        for i in range(3):
            services.prescription_write(
                actor=prescriber,
                medication=med,
                quantity=30,
                days_supply=30,
                earliest_fill_on=date(2026, 3, 1) + timedelta(days=30 * i),
            )
        with pytest.raises(ValidationError, match="at most 90 days"):
            services.prescription_write(
                actor=prescriber,
                medication=med,
                quantity=30,
                days_supply=30,
                earliest_fill_on=date(2026, 6, 1),
            )
        second = med.prescriptions.order_by("earliest_fill_on")[1]
        time_machine.move_to("2026-03-20 10:00")
        with pytest.raises(ValidationError, match="cannot be filled before"):
            services.fill_record(actor=prescriber, prescription=second, filled_on=date(2026, 3, 15))

    def test_schedule_iii_sixth_refill_and_after_six_months(
        self, patient, prescriber, time_machine
    ):
        time_machine.move_to("2026-01-10 10:00")
        med = services.medication_start(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            patient=patient,
            drug_name="Testosterone",
            not_coded=True,
            strength="1%",
            form="gel",
            dose="1 pump",
            directions="daily",
            schedule="III",
            reason="r",
        )
        with pytest.raises(ValidationError, match="at most 5 refills"):
            services.prescription_write(
                actor=prescriber, medication=med, quantity=1, days_supply=30, refills_authorised=6
            )
        rx = services.prescription_write(
            actor=prescriber, medication=med, quantity=1, days_supply=30, refills_authorised=5
        )
        time_machine.move_to("2026-07-15 10:00")
        services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 1, 10))
        with pytest.raises(ValidationError, match="valid until Jul 10, 2026"):
            services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 7, 11))

    def test_state_policy_row_overrides_the_default(self, patient, prescriber, time_machine):
        time_machine.move_to("2026-01-10 10:00")
        prescriber.practice.state = "XX"
        prescriber.practice.save()
        SupplyPolicy.objects.create(
            state="XX", schedule="IV", lead_days=5, max_refills=1, validity_months=3
        )
        med = services.medication_start(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            patient=patient,
            drug_name="Lorazepam",
            strength="0.5 mg",
            form="tablet",
            dose="1",
            directions="as needed",
            schedule="IV",
            reason="r",
        )
        with pytest.raises(ValidationError, match="at most 1 refills"):
            services.prescription_write(
                actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=2
            )


class TestRefillRequests:
    @pytest.fixture
    def filled(self, sertraline, prescriber, time_machine):
        time_machine.move_to("2026-03-01 10:00")
        rx = services.prescription_write(
            actor=prescriber,
            medication=sertraline,
            quantity=30,
            days_supply=30,
            refills_authorised=3,
        )
        services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
        return sertraline

    def test_request_in_time_is_not_flagged_and_prescriber_is_told(
        self, filled, patient_user, prescriber, time_machine, django_capture_on_commit_callbacks
    ):
        time_machine.move_to("2026-03-20 10:00")
        with django_capture_on_commit_callbacks(execute=True):
            request = services.refill_request_create(
                actor=patient_user, medication=filled, note="Running low"
            )
        from core.tasks import deliver_nudges

        deliver_nudges()  # a worker tells the prescriber, not the patient's request
        assert (request.run_out_on, request.needed_by, request.late) == (
            date(2026, 3, 31),
            date(2026, 3, 24),
            False,
        )
        assert prescriber.notifications.get().title == "A refill request is waiting for you"
        assert "Sertraline" not in mail.outbox[0].body  # e-mails carry a link, no clinical content

    def test_late_request_is_accepted_but_flagged(self, filled, patient_user, time_machine):
        time_machine.move_to("2026-03-27 10:00")
        request = services.refill_request_create(actor=patient_user, medication=filled)
        assert request.late

    def test_second_open_request_gets_a_clear_message(self, filled, patient_user):
        services.refill_request_create(actor=patient_user, medication=filled)
        with pytest.raises(ValidationError, match="already open"):
            services.refill_request_create(actor=patient_user, medication=filled)
        assert RefillRequest.objects.count() == 1

    def test_workflow_and_decline_needs_a_reason(self, filled, patient_user, prescriber):
        request = services.refill_request_create(actor=patient_user, medication=filled)
        with pytest.raises(ValidationError, match="Say why"):
            services.refill_request_decide(actor=prescriber, request=request, status="declined")
        request = services.refill_request_decide(
            actor=prescriber, request=request, status="approved"
        )
        with pytest.raises(ValidationError, match="cannot become"):
            services.refill_request_decide(
                actor=prescriber, request=request, status="declined", reason="x"
            )
        request = services.refill_request_decide(actor=prescriber, request=request, status="sent")
        assert request.sent_at is not None
        assert selectors.refill_queue(actor=prescriber) == []
        services.refill_request_create(
            actor=patient_user, medication=filled
        )  # a new one may open now

    def test_patient_cannot_approve_their_own_request(self, filled, patient_user):
        request = services.refill_request_create(actor=patient_user, medication=filled)
        with pytest.raises((Http404, NotAllowed)):
            services.refill_request_decide(actor=patient_user, request=request, status="approved")


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_refill_requests_make_one(require_postgresql):
    prescriber = factories.PrescriberFactory()
    patient_user = factories.PatientUserFactory()
    patient = factories.PatientFactory(user=patient_user)
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    med = services.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1",
        directions="daily",
        reason="r",
    )
    barrier = threading.Barrier(20)
    outcomes = []

    def ask():
        try:
            barrier.wait()
            services.refill_request_create(actor=patient_user, medication=med)
            outcomes.append("created")
        except ValidationError as error:
            outcomes.append("already open" if "already open" in str(error) else str(error))
        except Exception as error:  # noqa: BLE001 - reported in the assertion
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already open"] * 19 + ["created"]
    assert RefillRequest.objects.filter(medication=med).count() == 1


class TestReviewedRules:
    """Rules a reviewer found open; each test reproduces what used to slip through."""

    def test_patient_cannot_record_fills(self, sertraline, prescriber, patient_user):
        rx = services.prescription_write(
            actor=prescriber,
            medication=sertraline,
            quantity=30,
            days_supply=30,
            refills_authorised=3,
        )
        with pytest.raises((NotAllowed, Http404)):
            services.fill_record(actor=patient_user, prescription=rx, filled_on=date.today())
        assert not rx.fills.exists()

    def test_first_fill_checks_validity(self, patient, prescriber, time_machine):
        time_machine.move_to("2026-01-10 10:00")
        med = services.medication_start(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            patient=patient,
            drug_name="Clonazepam",
            strength="0.5 mg",
            form="tablet",
            dose="1",
            directions="at night",
            schedule="IV",
            reason="r",
        )
        rx = services.prescription_write(
            actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=2
        )
        time_machine.move_to("2026-09-01 10:00")
        with pytest.raises(ValidationError, match="valid until Jul 10, 2026"):
            services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 9, 1))

    def test_a_renewal_does_not_hide_the_run_out_date(
        self, sertraline, prescriber, patient_user, time_machine
    ):
        time_machine.move_to("2026-03-01 10:00")
        rx = services.prescription_write(
            actor=prescriber, medication=sertraline, quantity=30, days_supply=30
        )
        services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
        time_machine.move_to("2026-03-26 10:00")
        services.prescription_write(
            actor=prescriber,
            medication=sertraline,
            quantity=30,
            days_supply=30,
            refills_authorised=5,
        )
        status = selectors.supply_status_for(medication=sertraline, on=date(2026, 3, 26))
        assert status.run_out == date(2026, 3, 31)
        assert status.answer.allowed  # the renewal can be filled
        request = services.refill_request_create(actor=patient_user, medication=sertraline)
        assert request.late and not request.needs_renewal

    def test_no_future_dated_prescriptions(self, sertraline, prescriber):
        with pytest.raises(ValidationError, match="cannot be dated in the future"):
            services.prescription_write(
                actor=prescriber,
                medication=sertraline,
                quantity=30,
                days_supply=30,
                written_on=date.today() + timedelta(days=1),
            )

    def test_schedule_ii_series_needs_dates_and_stays_within_90_days(self, patient, prescriber):
        med = services.medication_start(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            patient=patient,
            drug_name="Methylphenidate",
            strength="10 mg",
            form="tablet",
            dose="1",
            directions="morning",
            schedule="II",
            reason="r",
        )
        first = services.prescription_write(
            actor=prescriber, medication=med, quantity=30, days_supply=30
        )
        # The same form sent twice (a double click) is the same prescription, not an error.
        assert (
            services.prescription_write(
                actor=prescriber, medication=med, quantity=30, days_supply=30
            )
            == first
        )
        with pytest.raises(ValidationError, match="give it an earliest fill date"):
            services.prescription_write(
                actor=prescriber, medication=med, quantity=60, days_supply=60
            )
        services.prescription_write(
            actor=prescriber,
            medication=med,
            quantity=30,
            days_supply=60,
            earliest_fill_on=date.today() + timedelta(days=30),
        )
        with pytest.raises(ValidationError, match="at most 90 days"):
            services.prescription_write(
                actor=prescriber,
                medication=med,
                quantity=30,
                days_supply=1,
                earliest_fill_on=date.today() + timedelta(days=90),
            )
        assert med.prescriptions.count() == 2

    def test_a_request_needing_renewal_cannot_be_approved_as_a_refill(
        self, patient, prescriber, patient_user, time_machine
    ):
        time_machine.move_to("2026-03-01 10:00")
        med = services.medication_start(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            patient=patient,
            drug_name="Lisdexamfetamine",
            strength="30 mg",
            form="capsule",
            dose="1",
            directions="morning",
            schedule="II",
            reason="r",
        )
        rx = services.prescription_write(
            actor=prescriber, medication=med, quantity=30, days_supply=30
        )
        services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
        time_machine.move_to("2026-03-20 10:00")
        request = services.refill_request_create(actor=patient_user, medication=med)
        assert request.needs_renewal
        with pytest.raises(ValidationError, match="needs a new prescription"):
            services.refill_request_decide(actor=prescriber, request=request, status="approved")
        time_machine.move_to("2026-03-20 11:00")
        services.prescription_write(actor=prescriber, medication=med, quantity=30, days_supply=30)
        assert (
            services.refill_request_decide(
                actor=prescriber, request=request, status="approved"
            ).status
            == "approved"
        )

    def test_a_clinician_who_left_the_team_can_no_longer_change_what_they_wrote(
        self, sertraline, prescriber, patient
    ):
        membership = patient.care_team.get(clinician=prescriber)
        membership.until = membership.since
        membership.save()
        assert selectors.medication_get(
            actor=prescriber, medication_uuid=sertraline.uuid
        )  # still sees it
        with pytest.raises(Http404):
            services.medication_change_dose(
                actor=prescriber,
                medication=sertraline,
                version=1,
                strength="100 mg",
                reason="x",
                **factories.WHOSE_NEED,
            )
