"""The deprescribing review (issue 18, part 3): a medicine that serves no open goal, one whose
purpose is not written in the patient's words, one started for a goal since achieved or let
go, and five or more at once are flagged on the visit screen; the prescriber answers with a
decision (continue with a reason, taper, stop) or puts the review off to a date; the patient
is asked "Is this still helping with what you want?"; the API and the FHIR export carry the
flag as a DetectedIssue."""

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from prescribing import review, selectors, services
from prescribing.models import DecisionRecord, Medication
from stories import services as stories_services

pytestmark = pytest.mark.django_db


def _start(prescriber, patient, name, goal=None, purpose="So I can sleep"):
    answer = (
        {"goal_uuids": [goal.uuid], "needs": ["patient_goals"]}
        if goal
        else {"serves_no_goal": True, "no_goal_reason": "None yet", "needs": ["patient_request"]}
    )
    return services.medication_start(
        actor=prescriber,
        patient=patient,
        drug_name=name,
        not_coded=True,
        schedule="none",
        strength="10 mg",
        form="tablet",
        dose="1 tablet",
        directions="once a day",
        purpose=purpose,
        reason="Agreed",
        decided_together=True,
        need_reflection="r",
        **answer,
    )


def _state(prescriber, med, on=None):
    med = Medication.objects.get(pk=med.pk)
    return selectors.review_state_for(actor=prescriber, medication=med, on=on or date.today())


def _kinds(state):
    return sorted(f.kind for f in state.flags)


class TestFlags:
    def test_four_medicines_are_not_flagged_and_a_fifth_flags_each(self, prescriber, patient, goal):
        meds = [_start(prescriber, patient, f"Medicine {i}", goal) for i in range(4)]
        assert all(_kinds(_state(prescriber, m)) == [] for m in meds)
        meds.append(_start(prescriber, patient, "Medicine 4", goal))
        assert all(_kinds(_state(prescriber, m)) == ["many_medicines"] for m in meds)
        assert _state(prescriber, meds[0]).flags[0].text == "One of 5 medicines taken at once"
        # A stopped one no longer counts: four again.
        services.medication_set_status(
            actor=prescriber, medication=meds[4], version=1, status="stopped", reason="Done"
        )
        assert _kinds(_state(prescriber, meds[0])) == []

    def test_a_goal_achieved_flags_the_medicine_started_for_it(
        self, prescriber, patient, patient_user, goal
    ):
        med = _start(prescriber, patient, "Prazosin", goal)
        assert _kinds(_state(prescriber, med)) == []
        stories_services.goal_transition(
            actor=patient_user, goal=goal, status="achieved", version=goal.version
        )
        state = _state(prescriber, med)
        assert _kinds(state) == ["goal_closed", "no_open_goal"]
        assert "Started for “Sleep through the night”, since achieved" in [
            f.text for f in state.flags
        ]

    def test_a_goal_let_go_flags_it_too(self, prescriber, patient, patient_user, goal):
        med = _start(prescriber, patient, "Prazosin", goal)
        stories_services.goal_transition(
            actor=patient_user, goal=goal, status="let_go", version=goal.version
        )
        assert "since let go" in " ".join(f.text for f in _state(prescriber, med).flags)

    def test_no_goal_and_no_purpose_in_the_patients_words(self, prescriber, patient):
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        assert _kinds(_state(prescriber, med)) == ["no_open_goal", "no_purpose"]

    def test_a_proposed_or_stopped_medicine_is_not_reviewed(self, prescriber, patient):
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        services.medication_set_status(
            actor=prescriber, medication=med, version=1, status="stopped", reason="Done"
        )
        assert _state(prescriber, med).flags == []


class TestAnswers:
    def test_a_taper_answers_the_flags_it_saw_and_lowers_the_dose(
        self, prescriber, patient, patient_user, goal
    ):
        med = _start(prescriber, patient, "Prazosin", goal)
        stories_services.goal_transition(
            actor=patient_user, goal=goal, status="achieved", version=goal.version
        )
        record = services.medication_review(
            actor=prescriber,
            medication=med,
            version=1,
            outcome="taper",
            reason="Half for two weeks, then stop",
            strength="5 mg",
            decided_together=True,
        )
        assert record.kind == "review" and record.review_outcome == "taper"
        assert sorted(record.review_flags) == sorted([f"goal_closed:{goal.uuid}", "no_open_goal"])
        med.refresh_from_db()
        assert med.strength == "5 mg" and med.status == "active"
        assert ("Strength", "10 mg", "5 mg") in record.changes()
        assert _state(prescriber, med).flags == []

    def test_a_taper_that_raises_the_dose_is_refused(self, prescriber, patient):
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        with pytest.raises(ValidationError, match="A taper lowers the dose"):
            services.medication_review(
                actor=prescriber,
                medication=med,
                version=1,
                outcome="taper",
                reason="r",
                strength="20 mg",
            )

    def test_a_flag_raised_after_the_review_asks_again(
        self, prescriber, patient, patient_user, goal
    ):
        other = stories_services.goal_create(actor=patient_user, patient=patient, what="Work")
        med = services.medication_start(
            actor=prescriber,
            patient=patient,
            drug_name="Prazosin",
            not_coded=True,
            schedule="none",
            strength="1 mg",
            form="tablet",
            dose="1 tablet",
            directions="at night",
            purpose="Fewer nightmares",
            reason="r",
            goal_uuids=[goal.uuid, other.uuid],
            needs=["patient_goals"],
            need_reflection="r",
        )
        stories_services.goal_transition(
            actor=patient_user, goal=goal, status="achieved", version=goal.version
        )
        services.medication_review(
            actor=prescriber, medication=med, version=1, outcome="continue", reason="Still for work"
        )
        assert _state(prescriber, med).flags == []
        other.refresh_from_db()
        stories_services.goal_transition(
            actor=patient_user, goal=other, status="let_go", version=other.version
        )
        assert _kinds(_state(prescriber, med)) == ["goal_closed", "no_open_goal"]

    def test_continue_needs_a_reason(self, prescriber, patient):
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        with pytest.raises(ValidationError, match="Say why it continues"):
            services.medication_review(
                actor=prescriber, medication=med, version=1, outcome="continue"
            )

    def test_stop_stops_it_as_the_reviews_answer(self, prescriber, patient):
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        record = services.medication_review(
            actor=prescriber, medication=med, version=1, outcome="stop", reason="Not needed"
        )
        med.refresh_from_db()
        assert med.status == "stopped"
        assert (record.kind, record.review_outcome) == ("stop", "stop")
        assert record.review_flags == ["no_open_goal", "no_purpose"]

    def test_only_a_prescriber_answers(self, therapist, patient_user, prescriber, patient):
        from django.http import Http404

        from core.exceptions import NotAllowed

        med = _start(prescriber, patient, "Quetiapine", purpose="")
        for actor in (therapist, patient_user):
            with pytest.raises((Http404, NotAllowed)):
                services.medication_review(
                    actor=actor, medication=med, version=1, outcome="stop", reason="x"
                )
        assert not DecisionRecord.objects.filter(kind="review").exists()


class TestReviewLater:
    def test_put_off_until_a_date_and_back_that_day(self, prescriber, patient, time_machine):
        time_machine.move_to("2026-12-07 10:00", tick=False)
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        services.medication_review(
            actor=prescriber,
            medication=med,
            version=1,
            outcome="snooze",
            review_until=date(2027, 1, 4),
        )
        state = _state(prescriber, med, on=date(2027, 1, 3))
        assert state.flags == [] and state.snoozed_until == date(2027, 1, 4)
        assert _kinds(_state(prescriber, med, on=date(2027, 1, 4))) == [
            "no_open_goal",
            "no_purpose",
        ]
        # The pages read "today" from the clock: frozen on the day before, then on the day.
        time_machine.move_to("2027-01-03 10:00", tick=False)
        assert not selectors.review_state_for(actor=prescriber, medication=med, on=date.today()).due
        time_machine.move_to("2027-01-04 08:00", tick=False)
        assert selectors.review_state_for(actor=prescriber, medication=med, on=date.today()).due

    @pytest.mark.parametrize(
        "until, message",
        [
            (None, "Choose the day to review it again."),
            (date(2026, 12, 7), "Choose a day after today."),
            (date(2026, 12, 7) + timedelta(days=review.SNOOZE_MAX_DAYS + 1), "at most six months"),
        ],
    )
    def test_the_date_is_after_today_and_at_most_six_months_ahead(
        self, prescriber, patient, time_machine, until, message
    ):
        time_machine.move_to("2026-12-07 10:00", tick=False)
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        with pytest.raises(ValidationError, match=message):
            services.medication_review(
                actor=prescriber, medication=med, version=1, outcome="snooze", review_until=until
            )
        assert not DecisionRecord.objects.filter(kind="review").exists()


class TestPages:
    def test_the_visit_screen_flags_and_the_medicine_page_takes_the_answer(
        self, client, prescriber, patient
    ):
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        client.force_login(prescriber)
        visit = client.get(reverse("visit", args=[patient.uuid])).content.decode()
        assert "1 medicine to review" in visit
        assert "Serves none of the patient&#x27;s open goals" in visit
        assert "Its purpose is not written in the patient&#x27;s words" in visit
        page = client.get(reverse("medication_detail", args=[med.uuid])).content.decode()
        assert "Deprescribing review" in page
        url = reverse("medication_review", args=[med.uuid])
        refused = client.post(url, {"outcome": "taper", "version": 1, "decided_together": "yes"})
        assert refused.status_code == 400
        assert "Write the taper plan" in refused.content.decode()
        done = client.post(
            url,
            {
                "outcome": "taper",
                "reason": "5 mg for two weeks, then stop",
                "strength": "5 mg",
                "version": 1,
                "decided_together": "yes",
            },
            follow=True,
        )
        body = done.content.decode()
        assert "Review recorded: taper." in body
        assert "Review outcome:</span> Taper" in body
        visit = client.get(reverse("visit", args=[patient.uuid])).content.decode()
        assert "to review" not in visit

    def test_the_patient_is_asked_whether_it_still_helps(
        self, client, prescriber, patient, patient_user, goal
    ):
        helping = _start(prescriber, patient, "Sertraline", goal)
        _start(prescriber, patient, "Quetiapine", purpose="")
        client.force_login(patient_user)
        page = client.get(reverse("medications", args=[patient.uuid])).content.decode()
        assert page.count("Is this still helping with what you want?") == 1
        asked = page.split('id="med-')
        assert not any(str(helping.uuid) in part and "still helping" in part for part in asked)


class TestApiAndFhir:
    def test_the_api_lists_the_flags_and_takes_the_answer(self, client, prescriber, patient):
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        client.force_login(prescriber)
        url = reverse("api_medication_review", args=[med.uuid])
        state = client.get(url).json()
        assert state["due"] is True
        assert [f["kind"] for f in state["flags"]] == ["no_open_goal", "no_purpose"]
        plan = client.get(reverse("api_medication_list", args=[patient.uuid])).json()["results"]
        assert plan[0]["review"]["due"] is True
        made = client.post(
            url,
            {"version": 1, "outcome": "continue", "reason": "Helps", "decided_together": True},
            content_type="application/json",
        )
        assert made.status_code == 201, made.json()
        assert made.json()["review_outcome"] == "continue"
        assert client.get(url).json()["due"] is False

    def test_the_fhir_export_carries_a_detected_issue(self, client, prescriber, patient):
        from fhir.resources.R4B.bundle import Bundle

        med = _start(prescriber, patient, "Quetiapine", purpose="")
        client.force_login(prescriber)
        response = client.get(reverse("fhir_export", args=[patient.uuid]))
        bundle = json.loads(response.content)
        Bundle.model_validate(bundle)
        issues = [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "DetectedIssue"
        ]
        assert sorted(i["code"]["coding"][0]["code"] for i in issues) == [
            "no_open_goal",
            "no_purpose",
        ]
        assert all(i["implicated"][0]["reference"] == f"urn:uuid:{med.uuid}" for i in issues)


class TestReviewDueReminder:
    def _due(self, on):
        return [
            (c.kind, c.due_on, c.recipient_id, c.link)
            for c in selectors.review_due_candidates(on=on)
        ]

    def test_the_prescriber_is_told_on_the_day_a_review_was_put_off_to(
        self, prescriber, patient, time_machine
    ):
        time_machine.move_to("2026-12-07 10:00", tick=False)
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        services.medication_review(
            actor=prescriber,
            medication=med,
            version=1,
            outcome="snooze",
            review_until=date(2027, 1, 4),
        )
        assert self._due(date(2027, 1, 3)) == []
        told = [("review_due", date(2027, 1, 4), prescriber.pk, f"/medications/{med.uuid}/#review")]
        assert self._due(date(2027, 1, 4)) == told
        # A sweep missed that day still tells them in the week after, once (the same due day).
        assert self._due(date(2027, 1, 6)) == told

    def test_a_review_made_since_or_a_medicine_stopped_ends_it(
        self, prescriber, patient, time_machine
    ):
        time_machine.move_to("2026-12-07 10:00", tick=False)
        med = _start(prescriber, patient, "Quetiapine", purpose="")
        other = _start(prescriber, patient, "Mirtazapine", purpose="")
        for m in (med, other):
            services.medication_review(
                actor=prescriber,
                medication=m,
                version=1,
                outcome="snooze",
                review_until=date(2027, 1, 4),
            )
        services.medication_review(
            actor=prescriber, medication=med, version=2, outcome="continue", reason="Helps"
        )
        services.medication_set_status(
            actor=prescriber, medication=other, version=2, status="stopped", reason="Done"
        )
        assert self._due(date(2027, 1, 4)) == []


def test_the_flags_cost_no_query_of_their_own(prescriber, patient, goal):
    """The visit screen's flags come from what the plan already read: with the policy's
    decision for the patient remembered (the visit screen has it), no query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core import access, audit

    for i in range(6):
        _start(prescriber, patient, f"Medicine {i}", goal if i % 2 else None)
    with audit.batch(), access.request_scope():
        items = selectors.medication_plan(actor=prescriber, patient=patient)
        selectors.with_reviews(actor=prescriber, patient=patient, items=items)
        with CaptureQueriesContext(connection) as captured:
            selectors.with_reviews(actor=prescriber, patient=patient, items=items)
        assert captured.captured_queries == []
    assert all(item.review.due for item in items)
