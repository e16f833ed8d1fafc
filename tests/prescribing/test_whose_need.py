"""Whose need a decision serves (issue 18, part 2): every start, restart, dose increase and
switch names the patient's goals it serves (or "none of the patient's goals", explained),
whose need is driving it and a one-line reflection, before anything is saved; the timeline
shows it; a prescriber sees their own pattern, counted, and nobody else does."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from prescribing import selectors, services
from prescribing.models import DecisionRecord, Medication
from stories import services as stories_services
from tests import factories

pytestmark = pytest.mark.django_db

START = {
    "drug_name": "Sertraline",
    "strength": "50 mg",
    "form": "tablet",
    "dose": "1 tablet",
    "directions": "once a day in the morning",
    "reason": "On guard all day",
    "decided_together": True,
}


def _start(prescriber, patient, **answer):
    return services.medication_start(actor=prescriber, patient=patient, **START, **answer)


class TestTheServiceAsks:
    def test_a_start_without_a_goal_or_none_is_refused_and_nothing_is_saved(
        self, prescriber, patient
    ):
        with pytest.raises(ValidationError) as refused:
            _start(prescriber, patient, needs=["patient_request"], need_reflection="He asked.")
        assert "Choose which of the patient's goals this serves" in str(refused.value)
        assert not Medication.objects.exists()

    def test_none_of_the_goals_must_be_explained(self, prescriber, patient):
        with pytest.raises(ValidationError) as refused:
            _start(
                prescriber,
                patient,
                serves_no_goal=True,
                needs=["patient_request"],
                need_reflection="He asked.",
            )
        assert refused.value.message_dict["no_goal_reason"] == [
            "Say why it serves none of the patient's goals: the explanation is part of the record."
        ]
        assert not Medication.objects.exists()

    def test_goals_and_none_at_once_are_refused(self, prescriber, patient, goal):
        with pytest.raises(ValidationError, match="not both"):
            _start(
                prescriber,
                patient,
                goal_uuids=[goal.uuid],
                serves_no_goal=True,
                no_goal_reason="x",
                needs=["patient_goals"],
                need_reflection="r",
            )

    def test_a_start_without_a_need_or_a_reflection_is_refused(self, prescriber, patient, goal):
        with pytest.raises(ValidationError) as refused:
            _start(prescriber, patient, goal_uuids=[goal.uuid])
        problems = refused.value.message_dict
        assert problems["needs"] == ["Say whose need is driving this decision."]
        assert problems["need_reflection"] == [
            "Add a one-line reflection on whose need this serves."
        ]
        assert not Medication.objects.exists()

    def test_not_recorded_is_never_a_choice(self, prescriber, patient, goal):
        with pytest.raises(ValidationError, match="Choose whose need from the list"):
            _start(
                prescriber,
                patient,
                goal_uuids=[goal.uuid],
                needs=["not_recorded"],
                need_reflection="r",
            )

    def test_a_goal_achieved_cannot_be_named(self, prescriber, patient, patient_user, goal):
        stories_services.goal_transition(
            actor=patient_user, goal=goal, status="achieved", version=goal.version
        )
        with pytest.raises(ValidationError, match="open goals"):
            _start(
                prescriber,
                patient,
                goal_uuids=[goal.uuid],
                needs=["patient_goals"],
                need_reflection="r",
            )

    def test_the_answer_is_recorded_on_the_start(self, prescriber, patient, goal):
        med = _start(
            prescriber,
            patient,
            goal_uuids=[goal.uuid],
            needs=["patient_goals", "clinician_concern"],
            need_reflection="  His sleep; and I was worried after the last visit.  ",
        )
        decision = med.decisions.get()
        assert list(decision.goals.all()) == [goal]
        assert list(med.goals.all()) == [goal]
        assert decision.needs == ["patient_goals", "clinician_concern"]
        assert decision.need_reflection == "His sleep; and I was worried after the last visit."
        assert decision.no_goal_reason == ""


class TestDoseChanges:
    def test_an_increase_asks_and_a_decrease_does_not(self, prescriber, sertraline, goal):
        with pytest.raises(ValidationError) as refused:
            services.medication_change_dose(
                actor=prescriber, medication=sertraline, version=1, strength="100 mg", reason="r"
            )
        assert set(refused.value.message_dict) == {"goals", "needs", "need_reflection"}
        sertraline.refresh_from_db()
        assert sertraline.strength == "50 mg"
        increase = services.medication_change_dose(
            actor=prescriber,
            medication=sertraline,
            version=1,
            strength="100 mg",
            reason="Partial response",
            goal_uuids=[goal.uuid],
            needs=["patient_goals"],
            need_reflection="His sleep, still broken.",
        )
        assert increase.needs == ["patient_goals"]
        decrease = services.medication_change_dose(
            actor=prescriber, medication=sertraline, version=2, strength="50 mg", reason="Fog"
        )
        assert decrease.needs == [] and not decrease.goals.exists()

    def test_a_change_that_cannot_be_measured_asks_as_an_increase(self, prescriber, sertraline):
        with pytest.raises(ValidationError, match="whose need"):
            services.medication_change_dose(
                actor=prescriber,
                medication=sertraline,
                version=1,
                dose="as much as helps",
                reason="r",
            )

    def test_a_restart_and_a_switch_ask_too(self, prescriber, sertraline, goal):
        services.medication_set_status(
            actor=prescriber, medication=sertraline, version=1, status="stopped", reason="Fog"
        )
        with pytest.raises(ValidationError, match="whose need"):
            services.medication_set_status(
                actor=prescriber, medication=sertraline, version=2, status="active", reason="r"
            )
        sertraline.refresh_from_db()
        assert sertraline.status == "stopped"
        restart = services.medication_set_status(
            actor=prescriber,
            medication=sertraline,
            version=2,
            status="active",
            reason="Worse without it",
            goal_uuids=[goal.uuid],
            needs=["patient_request"],
            need_reflection="He asked to go back on it.",
        )
        assert restart.kind == "restart" and restart.needs == ["patient_request"]
        with pytest.raises(ValidationError, match="whose need"):
            services.medication_switch(
                actor=prescriber,
                medication=sertraline,
                version=3,
                reason="r",
                drug_name="Escitalopram",
                strength="10 mg",
                form="tablet",
                dose="1 tablet",
                directions="daily",
            )


class TestTheForms:
    def test_the_decision_form_refuses_a_dose_increase_without_a_goal_or_a_need(
        self, client, prescriber, sertraline, goal
    ):
        client.force_login(prescriber)
        url = reverse("medication_decide", args=[sertraline.uuid])
        typed = {
            "kind": "dose_change",
            "strength": "100 mg",
            "reason": "Partial response",
            "version": 1,
            "decided_together": "yes",
        }
        page = client.post(url, typed)
        body = page.content.decode()
        assert page.status_code == 400
        assert "Choose which of the patient" in body
        assert "Say whose need is driving this decision." in body
        assert "Add a one-line reflection" in body
        assert "Partial response</textarea>" in body
        sertraline.refresh_from_db()
        assert sertraline.strength == "50 mg"
        # "None of the patient's goals" alone is not enough: it is explained.
        page = client.post(
            url,
            {**typed, "serves_no_goal": "on", "needs": ["family"], "need_reflection": "His wife"},
        )
        assert page.status_code == 400
        assert "Say why it serves none of the patient" in page.content.decode()
        done = client.post(
            url,
            {
                **typed,
                "goals": [str(goal.uuid)],
                "needs": ["patient_goals", "family"],
                "need_reflection": "His sleep, and his wife asked me too.",
            },
            follow=True,
        )
        body = done.content.decode()
        assert "Decision recorded." in body
        assert "Whose need:" in body
        assert "The patient&#x27;s goals, A family member" in body
        assert "His sleep, and his wife asked me too." in body
        assert goal.what in body

    def test_the_new_medicine_form_asks_before_saving(self, client, prescriber, patient, goal):
        client.force_login(prescriber)
        url = reverse("medication_new", args=[patient.uuid])
        typed = {
            "drug_name": "Sertraline",
            "strength": "50 mg",
            "form": "tablet",
            "route": "by mouth",
            "dose": "1 tablet",
            "directions": "daily",
            "reason": "r",
            "decided_together": "yes",
        }
        page = client.post(url, typed)
        assert page.status_code == 400
        assert "Whose need this serves" in page.content.decode()
        assert not Medication.objects.exists()
        done = client.post(
            url,
            {
                **typed,
                "serves_no_goal": "on",
                "no_goal_reason": "No goals written yet: first visit.",
                "needs": ["patient_request"],
                "need_reflection": "He came asking for help sleeping.",
            },
        )
        assert done.status_code == 302
        decision = DecisionRecord.objects.get()
        assert decision.no_goal_reason == "No goals written yet: first visit."
        detail = client.get(done.url).content.decode()
        assert "none of the patient’s goals, because: No goals written yet" in detail

    def test_the_visit_screen_asks_and_keeps_what_was_typed(
        self, client, prescriber, patient, sertraline, goal
    ):
        client.force_login(prescriber)
        url = reverse("visit_action", args=[patient.uuid])
        typed = {
            "action": "decision",
            "medication": sertraline.uuid,
            "status": "dose_change",
            "strength": "100 mg",
            "version": 1,
            "reason": "Still on guard",
            "decided_together": "yes",
        }
        page = client.post(url, typed, HTTP_HX_REQUEST="true").content.decode()
        assert "Say whose need is driving this decision." in page
        assert 'value="Still on guard"' in page
        sertraline.refresh_from_db()
        assert sertraline.strength == "50 mg"
        client.post(
            url,
            {
                **typed,
                "goals": [str(goal.uuid)],
                "needs": ["clinician_concern"],
                "need_reflection": "I felt stuck; he did not ask for more.",
            },
            HTTP_HX_REQUEST="true",
        )
        sertraline.refresh_from_db()
        assert sertraline.strength == "100 mg"
        assert sertraline.decisions.first().needs == ["clinician_concern"]

    def test_the_api_asks_and_answers_with_the_record(self, client, prescriber, sertraline, goal):
        client.force_login(prescriber)
        url = reverse("api_medication_decisions", args=[sertraline.uuid])
        body = {
            "kind": "dose_change",
            "strength": "100 mg",
            "reason": "r",
            "version": 1,
            "decided_together": True,
        }
        refused = client.post(url, body, content_type="application/json")
        assert refused.status_code == 400
        assert "needs" in refused.json()
        made = client.post(
            url,
            {
                **body,
                "goal_uuids": [str(goal.uuid)],
                "needs": ["school_work"],
                "need_reflection": "His boss.",
            },
            content_type="application/json",
        )
        assert made.status_code == 201, made.json()
        assert made.json()["needs"] == ["school_work"]
        listed = client.get(url).json()["results"]
        assert listed[0]["goals"] == [str(goal.uuid)]
        assert listed[0]["need_reflection"] == "His boss."


def test_a_decision_made_before_concord_asked_says_not_recorded(client, prescriber, sertraline):
    """What the migration gives the decisions made before (it invents no need)."""
    DecisionRecord.objects.bulk_create(
        [
            DecisionRecord(
                medication=sertraline,
                patient=sertraline.patient,
                author=prescriber,
                kind="dose_change",
                before={"strength": "25 mg"},
                after={"strength": "50 mg"},
                reason="Years ago",
                needs=["not_recorded"],
                decided_on=date(2025, 1, 1),
            )
        ]
    )
    client.force_login(prescriber)
    page = client.get(reverse("medication_detail", args=[sertraline.uuid])).content.decode()
    assert "Goals served and whose need: not recorded (decided before Concord asked)." in page
    pattern = selectors.needs_pattern(prescriber)
    assert {c.need: c.count for c in pattern.counts}["not_recorded"] == 1


class TestMyPattern:
    def _decide(self, prescriber, med, goal, needs, strength):
        med.refresh_from_db()
        services.medication_change_dose(
            actor=prescriber,
            medication=med,
            version=med.version,
            strength=strength,
            reason="r",
            goal_uuids=[goal.uuid],
            needs=needs,
            need_reflection="r",
        )

    def test_counts_only_my_own_decisions_and_a_switch_once(
        self, prescriber, patient, sertraline, goal
    ):
        self._decide(prescriber, sertraline, goal, ["clinician_concern"], "100 mg")
        self._decide(prescriber, sertraline, goal, ["clinician_concern", "family"], "150 mg")
        services.medication_switch(
            actor=prescriber,
            medication=sertraline,
            version=3,
            reason="Fog",
            drug_name="Escitalopram",
            strength="10 mg",
            form="tablet",
            dose="1 tablet",
            directions="daily",
            serves_no_goal=True,
            no_goal_reason="A side effect to escape, not a goal.",
            needs=["patient_request"],
            need_reflection="He asked.",
        )
        colleague = factories.PrescriberFactory(practice=prescriber.practice)
        factories.MembershipFactory(patient=patient, clinician=colleague)
        other = _start(
            colleague,
            patient,
            goal_uuids=[goal.uuid],
            needs=["external"],
            need_reflection="Benefits review.",
        )
        assert other.decisions.exists()
        pattern = selectors.needs_pattern(prescriber)
        counts = {c.need: c.count for c in pattern.counts}
        # The start of sertraline (its fixture: the patient's goals), two increases, one switch.
        assert pattern.decisions == 4
        assert counts["clinician_concern"] == 2
        assert counts["family"] == 1
        assert counts["patient_request"] == 1
        assert counts["external"] == 0
        assert pattern.serving_no_goal == 1

    def test_the_page_is_the_prescribers_own_and_nobody_elses(
        self, client, prescriber, therapist, patient_user, sertraline, goal
    ):
        self._decide(prescriber, sertraline, goal, ["clinician_concern"], "100 mg")
        url = reverse("my_prescribing_pattern")
        client.force_login(prescriber)
        page = client.get(url)
        body = page.content.decode()
        assert page.status_code == 200
        assert "The clinician&#x27;s own concern or worry" in body
        assert "only you see this page" in body
        for someone_else in (therapist, patient_user):
            client.force_login(someone_else)
            assert client.get(url).status_code == 404
