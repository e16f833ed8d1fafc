"""One audit append per request: the reads a request made before it writes go with the write's
own rows, under one lock of the patient's chain head, and none is lost if the write fails."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import audit
from core.access import Action, Category
from core.models import AuditEvent
from prescribing import services as rx

pytestmark = pytest.mark.django_db

HEAD_LOCK = "INSERT INTO core_auditchainhead"


@pytest.fixture
def medicine(prescriber, patient):
    return rx.medication_start(
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
        purpose="To feel less on guard",
        reason="agreed",
    )


def _head_locks(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith(HEAD_LOCK))


def test_a_request_that_reads_then_writes_appends_once(client, prescriber, patient, medicine):
    client.force_login(prescriber)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("visit_action", args=[patient.uuid]),
            {
                "action": "observation",
                "medication": medicine.uuid,
                "kind": "side_effect",
                "text": "Vivid dreams",
            },
        )
    assert response.status_code == 302
    assert _head_locks(queries.captured_queries) == 1
    rows = AuditEvent.objects.filter(request_id=response["X-Request-ID"]).order_by("seq")
    actions = [(r.category, r.action) for r in rows]
    # The page's own reads (the patient, the medicine) and the write, one chain, in order.
    assert ("medications", "read") in actions
    assert actions[-1] == ("observations", "create")
    assert len({r.chain for r in rows}) == 1


def test_reads_taken_along_by_a_write_that_rolls_back_are_still_written(
    prescriber, patient, medicine
):
    with audit.batch():
        audit.record(
            actor=prescriber, patient=patient, category=Category.MEDICATIONS, action=Action.READ
        )
        with pytest.raises(RuntimeError), transaction.atomic():
            audit.record(
                actor=prescriber,
                patient=patient,
                category=Category.OBSERVATIONS,
                action=Action.CREATE,
            )
            raise RuntimeError("the write failed after its audit row")
    rows = list(AuditEvent.objects.filter(actor=prescriber).values_list("category", "action"))
    assert rows.count(("medications", "read")) == 1
    assert ("observations", "create") not in rows
    assert audit.verify().ok


def test_reads_taken_along_by_a_write_that_commits_are_written_once(prescriber, patient, medicine):
    with audit.batch():
        audit.record(
            actor=prescriber, patient=patient, category=Category.MEDICATIONS, action=Action.READ
        )
        with transaction.atomic():
            audit.record(
                actor=prescriber,
                patient=patient,
                category=Category.OBSERVATIONS,
                action=Action.CREATE,
            )
    rows = list(AuditEvent.objects.filter(actor=prescriber).values_list("category", "action"))
    assert rows.count(("medications", "read")) == 1
    assert rows.count(("observations", "create")) == 1


@pytest.mark.django_db(transaction=True)
def test_with_real_commits_and_rollbacks_nothing_is_lost_or_doubled(prescriber, patient, medicine):
    before = AuditEvent.objects.count()
    with audit.batch():
        audit.record(
            actor=prescriber, patient=patient, category=Category.MEDICATIONS, action=Action.READ
        )
        with transaction.atomic():
            audit.record(
                actor=prescriber, patient=patient, category=Category.GOALS, action=Action.UPDATE
            )
        audit.record(
            actor=prescriber, patient=patient, category=Category.SUMMARY, action=Action.READ
        )
        with pytest.raises(RuntimeError), transaction.atomic():
            audit.record(
                actor=prescriber,
                patient=patient,
                category=Category.NARRATIVE_NOTES,
                action=Action.CREATE,
            )
            raise RuntimeError("rolled back")
    written = list(AuditEvent.objects.order_by("id")[before:].values_list("category", "action"))
    assert sorted(written) == sorted(
        [("medications", "read"), ("goals", "update"), ("summary", "read")]
    )
    assert audit.verify().ok
