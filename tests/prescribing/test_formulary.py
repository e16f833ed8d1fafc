"""The formulary and the duplicate/combination rules: a medicine's schedule and RxNorm code come
from the formulary, free text is marked not coded with the schedule the prescriber set, and a
duplicate or dangerous combination warns before anything is saved, until the prescriber
confirms with a reason that the decision keeps. Pages, API, FHIR and the rules themselves."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from prescribing import coding, rules, services
from prescribing.models import (
    DecisionRecord,
    DrugClass,
    FormularyEntry,
    InteractionRule,
    Medication,
    ScheduleChoices,
)
from tests import factories

# --- the rules, as pure functions --------------------------------------------------------------

SHIPPED_RULES = [
    rules.Rule(
        code=r["code"],
        kind=r["kind"],
        message=r["message"],
        class_a=r["class_a"],
        class_b=r["class_b"],
    )
    for r in coding.read(coding.RULES_FILE, "rules")
]
CLASSES = ["ssri", "snri", "maoi", "benzodiazepine", "opioid", "stimulant", "antipsychotic", ""]
drugs = st.builds(
    rules.Drug,
    key=st.sampled_from([f"entry:{n}" for n in range(6)] + ["name:zqherb"]),
    name=st.just("A medicine"),
    drug_class=st.sampled_from(CLASSES),
)


def _codes(found):
    return {w.rule for w in found}


@given(new=drugs, current=st.lists(drugs, max_size=5))
def test_same_drug_warns_exactly_when_the_drug_is_already_on_the_plan(new, current):
    found = rules.warnings_for(new, current, SHIPPED_RULES)
    assert ("same-drug" in _codes(found)) == any(d.key == new.key for d in current)


@given(a=drugs, b=drugs)
def test_a_combination_warns_whichever_of_the_two_comes_first(a, b):
    pair_rules = [r for r in SHIPPED_RULES if r.kind == rules.Kind.CLASS_PAIR]
    assert _codes(rules.warnings_for(a, [b], pair_rules)) == _codes(
        rules.warnings_for(b, [a], pair_rules)
    )


@given(new=drugs, current=st.lists(drugs, max_size=5))
def test_the_plan_warns_as_the_sum_of_its_medicines(new, current):
    together = rules.warnings_for(new, current, SHIPPED_RULES)
    one_by_one = [w for d in current for w in rules.warnings_for(new, [d], SHIPPED_RULES)]
    assert sorted(map(rules.Warning.as_dict, together), key=repr) == sorted(
        map(rules.Warning.as_dict, one_by_one), key=repr
    )


@given(
    new=drugs,
    current=st.lists(drugs, max_size=5),
    confirmed=st.sets(st.sampled_from([r.code for r in SHIPPED_RULES])),
)
def test_only_confirmed_rules_are_let_through(new, current, confirmed):
    found = rules.warnings_for(new, current, SHIPPED_RULES)
    pending = rules.unconfirmed(found, confirmed)
    assert {w.rule for w in pending} == _codes(found) - confirmed
    assert rules.unconfirmed(found, _codes(found)) == []


def test_two_benzodiazepines_and_an_opioid_with_one_warn_but_one_benzodiazepine_twice_is_a_duplicate():
    lorazepam = rules.Drug("entry:1", "Lorazepam 1 mg", "benzodiazepine")
    clonazepam = rules.Drug("entry:2", "Clonazepam 0.5 mg", "benzodiazepine")
    oxycodone = rules.Drug("entry:3", "Oxycodone 5 mg", "opioid")
    sertraline = rules.Drug("entry:4", "Sertraline 50 mg", "ssri")
    assert _codes(rules.warnings_for(lorazepam, [clonazepam], SHIPPED_RULES)) == {
        "two-benzodiazepines"
    }
    assert _codes(rules.warnings_for(oxycodone, [lorazepam, sertraline], SHIPPED_RULES)) == {
        "opioid-benzodiazepine"
    }
    assert _codes(rules.warnings_for(lorazepam, [lorazepam], SHIPPED_RULES)) == {"same-drug"}
    assert rules.warnings_for(sertraline, [lorazepam], SHIPPED_RULES) == []


# --- the shipped data ----------------------------------------------------------------------------


def test_the_shipped_formulary_is_valid_and_loaded(db):
    rows = coding.read(coding.MEDICINES_FILE, "medicines")
    assert len(rows) >= 60
    codes = [r["rxnorm_code"] for r in rows if r["rxnorm_code"]]
    assert len(codes) == len(set(codes))
    assert all(c.isdigit() for c in codes)
    for row in rows:
        assert row["schedule"] in ScheduleChoices.values, row
        assert row["drug_class"] in DrugClass.values, row
    by_class = {}
    for row in rows:
        by_class.setdefault(row["drug_class"], set()).add(row["schedule"])
    # Federal schedules a clinician would check first.
    assert by_class["benzodiazepine"] == {"IV"}
    assert by_class["stimulant"] == {"II"}
    assert by_class["ssri"] == {"none"}
    assert FormularyEntry.objects.count() == len(rows)
    assert FormularyEntry.objects.get(name="Sertraline").rxnorm_code == "36437"
    assert set(InteractionRule.objects.values_list("code", flat=True)) >= {
        "same-drug",
        "two-benzodiazepines",
        "opioid-benzodiazepine",
    }


def test_import_formulary_updates_the_clinic_list_and_refuses_a_bad_file_whole(db, tmp_path):
    medicines = tmp_path / "medicines.json"
    rule_file = tmp_path / "rules.json"
    rule_file.write_text(json.dumps({"rules": []}))
    medicines.write_text(
        json.dumps(
            {
                "medicines": [
                    {
                        "name": "Zqnewdrug",
                        "schedule": "IV",
                        "drug_class": "hypnotic",
                        "rxnorm_code": "",
                    }
                ]
            }
        )
    )
    call_command("import_formulary", medicines=str(medicines), rules=str(rule_file))
    assert FormularyEntry.objects.get(name="Zqnewdrug").schedule == "IV"
    before = FormularyEntry.objects.count()
    medicines.write_text(
        json.dumps(
            {
                "medicines": [
                    {"name": "Zqother", "schedule": "IV", "drug_class": "hypnotic"},
                    {"name": "Zqbad", "schedule": "VII", "drug_class": "hypnotic"},
                ]
            }
        )
    )
    with pytest.raises(CommandError, match="Zqbad"):
        call_command("import_formulary", medicines=str(medicines), rules=str(rule_file))
    assert FormularyEntry.objects.count() == before
    assert not FormularyEntry.objects.filter(name="Zqother").exists()


# --- the services --------------------------------------------------------------------------------


def _start(prescriber, patient, name, strength="1 mg", **extra):
    # Which goals it serves and whose need: asked of every start.
    if not extra.get("goal_uuids"):
        extra.setdefault("serves_no_goal", True)
        extra.setdefault("no_goal_reason", "No goal written yet.")
    extra.setdefault("needs", ["patient_request"])
    extra.setdefault("need_reflection", "What the patient asked for.")
    return services.medication_start(
        actor=prescriber,
        patient=patient,
        drug_name=name,
        strength=strength,
        form="tablet",
        dose="1 tablet",
        directions="as directed",
        reason="Agreed at the visit",
        decided_together=True,
        **extra,
    )


@pytest.mark.django_db
class TestServices:
    def test_a_formulary_medicine_takes_its_schedule_and_code_from_the_formulary(
        self, prescriber, patient
    ):
        med = _start(prescriber, patient, "clonazepam")
        assert (med.drug_name, med.schedule, med.rxnorm_code) == ("Clonazepam", "IV", "2598")
        assert med.is_coded

    def test_a_schedule_that_contradicts_the_formulary_is_refused(self, prescriber, patient):
        with pytest.raises(ValidationError, match="Clonazepam is schedule iv in the formulary"):
            _start(prescriber, patient, "Clonazepam", schedule="none")
        assert not Medication.objects.exists()

    def test_free_text_needs_saying_so_and_a_schedule(self, prescriber, patient):
        with pytest.raises(ValidationError, match="is not in the formulary"):
            _start(prescriber, patient, "Zqherb")
        with pytest.raises(ValidationError, match="set its controlled-substance schedule"):
            _start(prescriber, patient, "Zqherb", not_coded=True)
        assert not Medication.objects.exists()
        med = _start(prescriber, patient, "Zqherb", not_coded=True, schedule="III")
        assert (med.schedule, med.rxnorm_code, med.is_coded) == ("III", "", False)

    def test_two_benzodiazepines_warn_and_save_nothing_until_confirmed_with_a_reason(
        self, prescriber, patient
    ):
        _start(prescriber, patient, "Clonazepam", "0.5 mg")
        with pytest.raises(coding.WarningsToConfirm) as raised:
            _start(prescriber, patient, "Lorazepam")
        assert [w.rule for w in raised.value.warnings] == ["two-benzodiazepines"]
        assert raised.value.warnings[0].other == "Clonazepam 0.5 mg"
        # Confirming some other rule is not confirming this one.
        with pytest.raises(coding.WarningsToConfirm):
            _start(prescriber, patient, "Lorazepam", confirm_warnings=["same-drug"])
        with pytest.raises(ValidationError, match="Say why you are going ahead"):
            _start(prescriber, patient, "Lorazepam", confirm_warnings=["two-benzodiazepines"])
        assert Medication.objects.count() == 1
        med = _start(
            prescriber,
            patient,
            "Lorazepam",
            confirm_warnings=["two-benzodiazepines"],
            warning_reason="Cross-taper over two weeks; clonazepam stops on the 14th",
        )
        decision = med.decisions.get()
        assert decision.warnings_confirmed == [
            {
                "rule": "two-benzodiazepines",
                "message": InteractionRule.objects.get(code="two-benzodiazepines").message,
                "with": "Clonazepam 0.5 mg",
            }
        ]
        assert decision.warning_reason.startswith("Cross-taper")

    def test_an_opioid_with_a_benzodiazepine_warns(self, prescriber, patient):
        _start(prescriber, patient, "Lorazepam")
        with pytest.raises(coding.WarningsToConfirm) as raised:
            _start(prescriber, patient, "Oxycodone", "5 mg")
        assert [w.rule for w in raised.value.warnings] == ["opioid-benzodiazepine"]
        assert "breathing" in raised.value.message

    def test_the_same_drug_twice_warns_but_a_stopped_one_does_not(self, prescriber, patient):
        first = _start(prescriber, patient, "Sertraline", "50 mg")
        with pytest.raises(coding.WarningsToConfirm) as raised:
            _start(prescriber, patient, "Sertraline", "100 mg")
        assert [w.rule for w in raised.value.warnings] == ["same-drug"]
        services.medication_set_status(
            actor=prescriber, medication=first, version=1, status="stopped", reason="Done"
        )
        assert _start(prescriber, patient, "Sertraline", "100 mg").status == "active"

    def test_free_text_duplicates_are_caught_by_name(self, prescriber, patient):
        _start(prescriber, patient, "Zqherb", not_coded=True, schedule="none")
        with pytest.raises(coding.WarningsToConfirm):
            _start(prescriber, patient, " zqHERB ", "2 mg", not_coded=True, schedule="none")

    def test_a_rule_the_clinic_turned_off_no_longer_warns(self, prescriber, patient):
        InteractionRule.objects.filter(code="two-benzodiazepines").update(active=False)
        _start(prescriber, patient, "Clonazepam")
        assert _start(prescriber, patient, "Lorazepam").is_coded

    def test_a_switch_is_checked_against_the_rest_of_the_plan(self, prescriber, patient):
        clonazepam = _start(prescriber, patient, "Clonazepam")
        sertraline = _start(prescriber, patient, "Sertraline", "50 mg")
        # Clonazepam to lorazepam: the one it replaces is not counted.
        lorazepam = services.medication_switch(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            medication=clonazepam,
            version=1,
            reason="Shorter acting",
            drug_name="Lorazepam",
            strength="1 mg",
            form="tablet",
            dose="1",
            directions="at night",
        )
        assert lorazepam.schedule == "IV"
        with pytest.raises(coding.WarningsToConfirm) as raised:
            services.medication_switch(
                serves_no_goal=True,
                no_goal_reason="No goal written yet.",
                needs=["patient_request"],
                need_reflection="What the patient asked for.",
                actor=prescriber,
                medication=sertraline,
                version=1,
                reason="Pain",
                drug_name="Tramadol",
                strength="50 mg",
                form="tablet",
                dose="1",
                directions="twice a day",
            )
        assert [w.rule for w in raised.value.warnings] == ["opioid-benzodiazepine"]
        sertraline.refresh_from_db()
        assert sertraline.status == "active"
        assert not Medication.objects.filter(drug_name="Tramadol").exists()


# --- pages ---------------------------------------------------------------------------------------

FORM = {
    "strength": "1 mg",
    "form": "tablet",
    "route": "by mouth",
    "dose": "1 tablet",
    "directions": "at night when anxious",
    "reason": "Panic at night",
    "decided_together": "yes",
    **factories.WHOSE_NEED_POST,
}


@pytest.mark.django_db
class TestPages:
    def test_the_new_medication_page_offers_the_formulary_without_javascript(
        self, client, prescriber, patient
    ):
        client.force_login(prescriber)
        page = client.get(reverse("medication_new", args=[patient.uuid])).content.decode()
        assert 'list="formulary-medicines"' in page
        assert '<datalist id="formulary-medicines">' in page
        assert '<option value="Sertraline">' in page
        assert "From the formulary" in page
        assert "RxNorm code (optional)" not in page

    def test_a_coded_medicine_is_saved_with_the_formulary_schedule(
        self, client, prescriber, patient
    ):
        client.force_login(prescriber)
        response = client.post(
            reverse("medication_new", args=[patient.uuid]), {**FORM, "drug_name": "Lorazepam"}
        )
        assert response.status_code == 302
        med = Medication.objects.get()
        assert (med.schedule, med.rxnorm_code) == ("IV", "6470")

    def test_free_text_is_refused_until_marked_not_coded_with_a_schedule(
        self, client, prescriber, patient
    ):
        client.force_login(prescriber)
        url = reverse("medication_new", args=[patient.uuid])
        response = client.post(url, {**FORM, "drug_name": "Zqherb"})
        assert response.status_code == 400
        assert "“Zqherb” is not in the formulary" in response.content.decode()
        response = client.post(url, {**FORM, "drug_name": "Zqherb", "not_coded": "on"})
        assert response.status_code == 400
        assert "set its controlled-substance schedule" in response.content.decode()
        assert not Medication.objects.exists()
        response = client.post(
            url, {**FORM, "drug_name": "Zqherb", "not_coded": "on", "schedule": "none"}
        )
        assert response.status_code == 302
        med = Medication.objects.get()
        assert not med.is_coded
        detail = client.get(reverse("medication_detail", args=[med.uuid])).content.decode()
        assert "Not coded" in detail
        plan = client.get(reverse("medications", args=[patient.uuid])).content.decode()
        assert "Not coded" in plan

    def test_a_combination_warns_keeps_what_was_typed_and_saves_after_confirmation(
        self, client, prescriber, patient
    ):
        _start(prescriber, patient, "Oxycodone", "5 mg")
        client.force_login(prescriber)
        url = reverse("medication_new", args=[patient.uuid])
        typed = {**FORM, "drug_name": "Lorazepam", "purpose": "To stop the 3 am panic"}
        response = client.post(url, typed)
        page = response.content.decode()
        assert response.status_code == 409
        assert "Check before saving: nothing is saved yet" in page
        assert "can slow or stop breathing" in page
        assert "With Oxycodone 5 mg:" in page
        assert 'value="opioid-benzodiazepine"' in page
        assert "To stop the 3 am panic" in page and 'value="Lorazepam"' in page
        assert Medication.objects.count() == 1
        response = client.post(url, {**typed, "confirm_warnings": "opioid-benzodiazepine"})
        assert response.status_code == 400
        assert "Say why you are going ahead" in response.content.decode()
        assert Medication.objects.count() == 1
        response = client.post(
            url,
            {
                **typed,
                "confirm_warnings": "opioid-benzodiazepine",
                "warning_reason": "Oxycodone ends on Friday; naloxone given",
            },
        )
        assert response.status_code == 302
        decision = DecisionRecord.objects.get(medication__drug_name="Lorazepam")
        assert decision.warnings_confirmed[0]["rule"] == "opioid-benzodiazepine"
        assert decision.warning_reason == "Oxycodone ends on Friday; naloxone given"
        detail = client.get(response.url).content.decode()
        assert "Went ahead despite:" in detail and "naloxone given" in detail

    def test_a_switch_warns_on_the_medicine_page_and_keeps_the_form_open(
        self, client, prescriber, patient
    ):
        _start(prescriber, patient, "Clonazepam")
        sertraline = _start(prescriber, patient, "Sertraline", "50 mg")
        client.force_login(prescriber)
        url = reverse("medication_switch", args=[sertraline.uuid])
        typed = {**FORM, "drug_name": "Alprazolam", "version": 1, "strength": "0.25 mg"}
        response = client.post(url, typed)
        page = response.content.decode()
        assert response.status_code == 409
        assert "Two benzodiazepines at once" in page
        assert 'value="0.25 mg"' in page
        sertraline.refresh_from_db()
        assert sertraline.status == "active"
        response = client.post(
            url,
            {**typed, "confirm_warnings": "two-benzodiazepines", "warning_reason": "One week only"},
        )
        assert response.status_code == 302
        assert Medication.objects.get(drug_name="Alprazolam").schedule == "IV"


# --- API -----------------------------------------------------------------------------------------

API_BODY = {
    "strength": "1 mg",
    "form": "tablet",
    "dose": "1",
    "directions": "at night",
    "reason": "Panic at night",
    "decided_together": True,
    **factories.WHOSE_NEED,
}


@pytest.mark.django_db
class TestApi:
    def _post(self, client, patient, body):
        return client.post(
            reverse("api_medication_list", args=[patient.uuid]),
            body,
            content_type="application/json",
        )

    def test_a_formulary_code_names_the_medicine_and_its_schedule(
        self, client, prescriber, patient
    ):
        client.force_login(prescriber)
        response = self._post(client, patient, {**API_BODY, "formulary_code": "6470"})
        assert response.status_code == 201, response.json()
        data = response.json()
        assert (data["drug_name"], data["schedule"], data["rxnorm_code"], data["coded"]) == (
            "Lorazepam",
            "IV",
            "6470",
            True,
        )

    def test_an_unknown_code_or_uncoded_free_text_is_refused(self, client, prescriber, patient):
        client.force_login(prescriber)
        response = self._post(client, patient, {**API_BODY, "formulary_code": "99999999"})
        assert response.status_code == 400
        assert "No medicine in the formulary has the RxNorm code 99999999" in str(response.json())
        response = self._post(client, patient, {**API_BODY, "drug_name": "Zqherb"})
        assert response.status_code == 400
        assert "not in the formulary" in str(response.json()["drug_name"])
        assert not Medication.objects.exists()
        response = self._post(
            client,
            patient,
            {**API_BODY, "drug_name": "Zqherb", "not_coded": True, "schedule": "none"},
        )
        assert response.status_code == 201
        assert response.json()["coded"] is False

    def test_a_warning_is_a_409_until_confirmed_with_a_reason(self, client, prescriber, patient):
        _start(prescriber, patient, "Lorazepam")
        client.force_login(prescriber)
        response = self._post(client, patient, {**API_BODY, "drug_name": "Hydrocodone"})
        assert response.status_code == 409
        body = response.json()
        assert [w["rule"] for w in body["warnings"]] == ["opioid-benzodiazepine"]
        assert body["warnings"][0]["with"] == "Lorazepam 1 mg"
        assert "confirm_warnings" in body["detail"]
        assert Medication.objects.count() == 1
        response = self._post(
            client,
            patient,
            {**API_BODY, "drug_name": "Hydrocodone", "confirm_warnings": ["opioid-benzodiazepine"]},
        )
        assert response.status_code == 400
        assert "warning_reason" in response.json()
        response = self._post(
            client,
            patient,
            {
                **API_BODY,
                "drug_name": "Hydrocodone",
                "confirm_warnings": ["opioid-benzodiazepine"],
                "warning_reason": "Palliative; lorazepam tapering",
            },
        )
        assert response.status_code == 201
        decisions = client.get(
            reverse("api_medication_decisions", args=[response.json()["uuid"]])
        ).json()["results"]
        assert decisions[0]["warnings_confirmed"][0]["rule"] == "opioid-benzodiazepine"
        assert decisions[0]["warning_reason"] == "Palliative; lorazepam tapering"


# --- FHIR ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_fhir_carries_the_rxnorm_coding_of_coded_medicines_only(client, prescriber, patient):
    sertraline = _start(prescriber, patient, "Sertraline", "50 mg")
    herb = _start(prescriber, patient, "Zqherb", not_coded=True, schedule="none")
    client.force_login(prescriber)
    bundle = client.get(reverse("api_fhir_export", args=[patient.uuid])).json()
    requests = {
        e["resource"]["id"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    }
    coded = requests[str(sertraline.uuid)]["medicationCodeableConcept"]
    assert coded["coding"] == [
        {
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
            "code": "36437",
            "display": "Sertraline",
        }
    ]
    assert "coding" not in requests[str(herb.uuid)]["medicationCodeableConcept"]


# --- at the same moment --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_benzodiazepines_started_at_the_same_moment_still_warn(require_postgresql):
    """Two tabs start lorazepam and clonazepam at once: the patient's row serialises the starts,
    so the second sees the first and warns instead of both saving unchecked."""
    import threading

    from django.db import connection

    from tests import factories

    prescriber = factories.PrescriberFactory()
    patient = factories.PatientFactory(user=factories.PatientUserFactory())
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    barrier = threading.Barrier(2)
    outcomes = []

    def start(name):
        try:
            barrier.wait()
            _start(prescriber, patient, name)
            outcomes.append("saved")
        except coding.WarningsToConfirm as exc:
            outcomes.append(exc.warnings[0].rule)
        except Exception as error:  # noqa: BLE001 - reported in the assertion
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=(n,)) for n in ("Lorazepam", "Clonazepam")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["saved", "two-benzodiazepines"]
    assert Medication.objects.filter(patient=patient).count() == 1


# --- a restart is a start ------------------------------------------------------------------------


@pytest.mark.django_db
class TestRestart:
    def _stopped_lorazepam_beside_oxycodone(self, prescriber, patient):
        lorazepam = _start(prescriber, patient, "Lorazepam")
        services.medication_set_status(
            actor=prescriber, medication=lorazepam, version=1, status="stopped", reason="Stopped"
        )
        _start(
            prescriber,
            patient,
            "Oxycodone",
            "5 mg",
        )
        lorazepam.refresh_from_db()
        return lorazepam

    def test_restarting_beside_an_opioid_warns_until_confirmed(self, prescriber, patient):
        lorazepam = self._stopped_lorazepam_beside_oxycodone(prescriber, patient)
        with pytest.raises(coding.WarningsToConfirm) as raised:
            services.medication_set_status(
                actor=prescriber,
                medication=lorazepam,
                version=2,
                status="active",
                reason="Back",
                **factories.WHOSE_NEED,
            )
        assert [w.rule for w in raised.value.warnings] == ["opioid-benzodiazepine"]
        lorazepam.refresh_from_db()
        assert lorazepam.status == "stopped"
        decision = services.medication_set_status(
            actor=prescriber,
            medication=lorazepam,
            version=2,
            status="active",
            reason="Back",
            confirm_warnings=["opioid-benzodiazepine"],
            warning_reason="Oxycodone ends tomorrow",
            **factories.WHOSE_NEED,
        )
        assert decision.kind == "restart"
        assert decision.warnings_confirmed[0]["with"] == "Oxycodone 5 mg"

    def test_pausing_or_stopping_never_warns(self, prescriber, patient):
        _start(prescriber, patient, "Oxycodone", "5 mg")
        lorazepam = _start(
            prescriber,
            patient,
            "Lorazepam",
            confirm_warnings=["opioid-benzodiazepine"],
            warning_reason="Short course",
        )
        services.medication_set_status(
            actor=prescriber, medication=lorazepam, version=1, status="paused", reason="Travel"
        )

    def test_the_decision_form_warns_and_the_api_answers_409(self, client, prescriber, patient):
        lorazepam = self._stopped_lorazepam_beside_oxycodone(prescriber, patient)
        client.force_login(prescriber)
        typed = {
            "kind": "active",
            "version": 2,
            "reason": "Panic is back",
            "decided_together": "yes",
            **factories.WHOSE_NEED_POST,
        }
        url = reverse("medication_decide", args=[lorazepam.uuid])
        response = client.post(url, typed)
        page = response.content.decode()
        assert response.status_code == 409
        assert "With Oxycodone 5 mg:" in page and "Panic is back" in page
        assert "Record the decision despite the warning" in page
        lorazepam.refresh_from_db()
        assert lorazepam.status == "stopped"
        api = reverse("api_medication_decisions", args=[lorazepam.uuid])
        body = {
            "kind": "active",
            "version": 2,
            "reason": "Panic is back",
            "decided_together": True,
            **factories.WHOSE_NEED,
        }
        response = client.post(api, body, content_type="application/json")
        assert response.status_code == 409
        assert response.json()["warnings"][0]["rule"] == "opioid-benzodiazepine"
        response = client.post(
            url,
            {
                **typed,
                "confirm_warnings": "opioid-benzodiazepine",
                "warning_reason": "Oxycodone ends tomorrow",
            },
        )
        assert response.status_code == 302
        lorazepam.refresh_from_db()
        assert lorazepam.status == "active"
