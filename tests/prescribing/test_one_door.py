"""One door for the medication plan: every write is guarded once, before its transaction; a
refusal leaves a denied row and no allowed one; a write that did not happen (a conflict, bad
input) leaves no allowed row; a write that happened leaves exactly one allowed row, naming
what was written."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from core.exceptions import Conflict, NotAllowed
from core.models import AuditEvent
from prescribing import services
from prescribing.models import Medication
from tests import factories

pytestmark = pytest.mark.django_db

ALLOWED, DENIED = AuditEvent.Outcome.ALLOWED, AuditEvent.Outcome.DENIED
WRITES = ("create", "update", "prescribe")


def _rows(obj, **filters):
    return AuditEvent.objects.filter(
        object_type=obj._meta.label, object_id=str(getattr(obj, "uuid", None) or obj.pk), **filters
    )


def _writes_allowed(actor):
    return AuditEvent.objects.filter(actor=actor, outcome=ALLOWED, action__in=WRITES)


def _start(actor, patient, **extra):
    # Which goals it serves and whose need: asked of every start.
    if not extra.get("goal_uuids"):
        extra.setdefault("serves_no_goal", True)
        extra.setdefault("no_goal_reason", "No goal written yet.")
    extra.setdefault("needs", ["patient_request"])
    extra.setdefault("need_reflection", "What the patient asked for.")
    return services.medication_start(
        actor=actor,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="each morning",
        reason="Agreed together",
        **extra,
    )


# --- Refused: a denied row, no allowed one -------------------------------------------------


def test_a_therapists_attempt_to_prescribe_is_refused_and_audited(
    sertraline, patient, colleague_therapist
):
    therapist = colleague_therapist
    with pytest.raises(Http404):
        _start(therapist, patient)
    with pytest.raises(Http404):
        services.medication_change_dose(
            actor=therapist,
            medication=sertraline,
            version=1,
            dose="2 tablets",
            reason="r",
            **factories.WHOSE_NEED,
        )
    with pytest.raises(Http404):
        services.prescription_write(
            actor=therapist, medication=sertraline, quantity=30, days_supply=30
        )
    denied = AuditEvent.objects.filter(actor=therapist, outcome=DENIED, action="prescribe")
    assert denied.count() == 3
    assert _rows(sertraline, actor=therapist, outcome=DENIED).count() == 2
    assert not _writes_allowed(therapist).exists()
    assert Medication.objects.count() == 1 and not sertraline.prescriptions.exists()


def test_the_patient_is_told_only_a_prescriber_changes_the_dose(sertraline, patient_user):
    with pytest.raises(NotAllowed, match="Only a prescriber can make this decision."):
        services.medication_change_dose(
            actor=patient_user,
            medication=sertraline,
            version=1,
            dose="2 tablets",
            reason="r",
            **factories.WHOSE_NEED,
        )
    assert _rows(sertraline, actor=patient_user, outcome=DENIED, action="prescribe").exists()
    assert not _rows(sertraline, actor=patient_user, outcome=ALLOWED, action__in=WRITES).exists()


def test_a_therapist_may_not_word_what_a_medicine_is_for(sertraline, colleague_therapist):
    with pytest.raises(Http404):
        services.medication_set_purpose(
            actor=colleague_therapist, medication=sertraline, version=1, purpose="x"
        )
    assert _rows(sertraline, outcome=DENIED, category="purpose", action="update").exists()
    assert not _writes_allowed(colleague_therapist).exists()
    sertraline.refresh_from_db()
    assert sertraline.purpose == "To feel less on edge so I can sleep"


def test_the_decision_page_refuses_a_therapist_and_leaves_no_allowed_write(
    client, sertraline, colleague_therapist
):
    client.force_login(colleague_therapist)
    response = client.post(
        reverse("medication_decide", args=[sertraline.uuid]),
        {"kind": "paused", "version": 1, "reason": "r", "decided_together": "yes"},
    )
    assert response.status_code == 404
    assert _rows(sertraline, actor=colleague_therapist, outcome=DENIED).exists()
    assert not _writes_allowed(colleague_therapist).exists()


# --- Did not happen: no allowed row -----------------------------------------------------


def test_a_conflicted_dose_change_leaves_no_allowed_update_row(sertraline, prescriber):
    services.medication_set_status(
        actor=prescriber, medication=sertraline, version=1, status="paused", reason="Travel"
    )
    before = _rows(sertraline, outcome=ALLOWED, action="update").count()
    with pytest.raises(Conflict):
        services.medication_change_dose(
            actor=prescriber,
            medication=sertraline,
            version=1,
            dose="2 tablets",
            reason="r",
            **factories.WHOSE_NEED,
        )
    assert _rows(sertraline, outcome=ALLOWED, action="update").count() == before == 1


def test_a_conflicted_dose_change_on_the_page_is_a_409_with_no_allowed_update_row(
    client, sertraline, prescriber
):
    services.medication_set_status(
        actor=prescriber, medication=sertraline, version=1, status="paused", reason="Travel"
    )
    client.force_login(prescriber)
    response = client.post(
        reverse("medication_decide", args=[sertraline.uuid]),
        {
            "kind": "dose_change",
            "version": 1,
            "dose": "2 tablets",
            "reason": "More",
            "decided_together": "yes",
        },
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert _rows(sertraline, outcome=ALLOWED, action="update").count() == 1  # the pause's


def test_bad_input_leaves_no_allowed_row(sertraline, prescriber):
    with pytest.raises(ValidationError):
        services.medication_change_dose(
            actor=prescriber,
            medication=sertraline,
            version=1,
            dose="2 tablets",
            reason=" ",
            **factories.WHOSE_NEED,
        )
    assert not _rows(sertraline, outcome=ALLOWED, action="update").exists()


# --- Happened: exactly one allowed row, naming it ------------------------------------------


def _one(obj, action, category="medications"):
    rows = _rows(obj, outcome=ALLOWED, action__in=WRITES)
    assert [(r.action, r.category) for r in rows] == [(action, category)], obj


def test_each_write_leaves_one_allowed_row_naming_it(
    client, patient, patient_user, prescriber, time_machine
):
    time_machine.move_to("2026-03-01 10:00")
    med = _start(prescriber, patient)
    _one(med, "create")
    services.medication_change_dose(
        actor=prescriber,
        medication=med,
        version=1,
        dose="2 tablets",
        reason="More",
        **factories.WHOSE_NEED,
    )
    services.medication_set_status(
        actor=prescriber, medication=med, version=2, status="paused", reason="Travel"
    )
    services.medication_decide(
        actor=prescriber,
        medication=med,
        kind="active",
        version=3,
        reason="Back",
        **factories.WHOSE_NEED,
    )
    assert _rows(med, outcome=ALLOWED, action="update").count() == 3  # one per decision
    services.medication_set_purpose(
        actor=patient_user, medication=med, version=4, purpose="To sleep"
    )
    assert _rows(med, outcome=ALLOWED, action="update", category="purpose").count() == 1
    rx = services.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=0
    )
    _one(rx, "create")
    fill = services.fill_record(actor=prescriber, prescription=rx, filled_on=date(2026, 3, 1))
    _one(fill, "create")
    observation = services.observation_create(
        actor=patient_user, medication=med, kind="response", text="Sleeping better"
    )
    _one(observation, "create", "observations")
    time_machine.move_to("2026-03-20 10:00")
    request = services.refill_request_create(actor=patient_user, medication=med)
    _one(request, "create", "refills")
    # A renewal: the prescription written as by hand, the request approved as by hand.
    services.refill_request_renew(actor=prescriber, request=request, quantity=30, days_supply=30)
    request.refresh_from_db()
    _one(request.renewal, "create")
    assert _rows(request, outcome=ALLOWED, action="update", category="refills").count() == 1
    # Sent again (a double click): nothing new was written, nothing more is audited.
    services.refill_request_renew(actor=prescriber, request=request, quantity=30, days_supply=30)
    assert _rows(request, outcome=ALLOWED, action="update").count() == 1
    services.refill_request_decide(actor=prescriber, request=request, status="sent")
    assert _rows(request, outcome=ALLOWED, action="update", category="refills").count() == 2
    new = services.medication_switch(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        medication=med,
        version=5,
        reason="Side effects",
        drug_name="Fluoxetine",
        strength="20 mg",
        form="capsule",
        dose="1 capsule",
        directions="each morning",
    )
    _one(new, "create")


def test_a_decision_from_the_page_leaves_one_allowed_update_row(client, sertraline, prescriber):
    client.force_login(prescriber)
    response = client.post(
        reverse("medication_decide", args=[sertraline.uuid]),
        {"kind": "paused", "version": 1, "reason": "Travel", "decided_together": "yes"},
    )
    assert response.status_code == 302
    assert _rows(sertraline, outcome=ALLOWED, action="update").count() == 1
