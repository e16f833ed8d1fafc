"""The audit trail: every patient-data request leaves a row; rows are append-only and chained."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from core import audit
from core.access import Action, Category
from core.models import AuditEvent
from tests import factories


@pytest.mark.django_db
def test_each_patient_data_request_leaves_an_event(client, prescriber, patient):
    client.force_login(prescriber)
    response = client.get(reverse("patient_detail", args=[patient.uuid]), REMOTE_ADDR="10.1.2.3")
    request_id = response["X-Request-ID"]
    events = list(AuditEvent.objects.filter(request_id=request_id))
    assert events, "the request left no audit event"
    for event in events:
        assert (event.actor, event.patient, event.action) == (prescriber, patient, "read")
        assert (event.outcome, event.via, event.ip, event.actor_role) == (
            "allowed",
            "care_team",
            "10.1.2.3",
            "prescriber",
        )
    assert AuditEvent.objects.exclude(request_id=request_id).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["patient_detail", "api_patient_detail"])
def test_request_ids_are_made_by_the_server_not_the_client(client, prescriber, patient, url):
    """Finding 10: a client could name its requests after someone else's and forge the
    correlation of audit rows. The id a client sends is ignored; the server's is answered."""
    client.force_login(prescriber)
    forged = "req-000042-someone-elses"
    first = client.get(reverse(url, args=[patient.uuid]), HTTP_X_REQUEST_ID=forged)
    second = client.get(reverse(url, args=[patient.uuid]), HTTP_X_REQUEST_ID=forged)
    assert first.status_code == second.status_code == 200
    assert not AuditEvent.objects.filter(request_id=forged).exists()
    assert first["X-Request-ID"] != forged
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert AuditEvent.objects.filter(request_id=first["X-Request-ID"]).exists()
    assert AuditEvent.objects.filter(request_id=second["X-Request-ID"]).exists()


@pytest.mark.django_db
def test_api_reads_and_lists_are_audited(client, prescriber, patient):
    client.force_login(prescriber)
    client.get(reverse("api_patient_list"))
    client.get(reverse("api_patient_detail", args=[patient.uuid]))
    actions = list(
        AuditEvent.objects.filter(actor=prescriber)
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["list", "read"]


@pytest.mark.django_db
def test_denials_are_audited(client, patient):
    outsider = factories.TherapistFactory()
    client.force_login(outsider)
    client.get(reverse("patient_detail", args=[patient.uuid]))
    event = AuditEvent.objects.get(actor=outsider)
    assert event.outcome == "denied"
    assert event.patient == patient


@pytest.mark.django_db
def test_no_clinical_content_in_audit_rows(client, prescriber, patient):
    client.force_login(prescriber)
    client.get(reverse("patient_list"), {"q": "Brooks"})
    client.get(reverse("patient_detail", args=[patient.uuid]))
    for row in AuditEvent.objects.values():
        text = " ".join(str(v) for v in row.values())
        assert "Brooks" not in text
        assert "Daniel" not in text


@pytest.mark.django_db
def test_chain_links_and_verify_reports_intact(prescriber, patient):
    for _ in range(3):
        audit.record(
            actor=prescriber, patient=patient, category=Category.PROFILE, action=Action.READ
        )
    events = list(AuditEvent.objects.filter(chain=str(patient.uuid)).order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS
    assert events[1].prev_hash == events[0].hash
    result = audit.verify()
    assert result.ok, result.message


def _tamper(sql, params):
    """What an attacker with database access would do: switch off the guard and edit."""
    audit.drop_append_only_triggers()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        audit.install_append_only_triggers()


@pytest.mark.django_db
def test_verify_catches_an_altered_row(prescriber, patient):
    for _ in range(3):
        audit.record(
            actor=prescriber, patient=patient, category=Category.PROFILE, action=Action.READ
        )
    target = AuditEvent.objects.get(chain=str(patient.uuid), seq=2)
    _tamper("UPDATE core_auditevent SET action = %s WHERE id = %s", ["export", target.pk])
    with pytest.raises(
        CommandError, match=f"event #2 \\(id {target.pk}\\).*does not match its hash"
    ):
        call_command("audit_verify")


@pytest.mark.django_db
def test_verify_catches_a_deleted_row(prescriber, patient):
    for _ in range(3):
        audit.record(
            actor=prescriber, patient=patient, category=Category.PROFILE, action=Action.READ
        )
    target = AuditEvent.objects.get(chain=str(patient.uuid), seq=2)
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [target.pk])
    with pytest.raises(CommandError, match="expected event #2; a row is missing"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_verify_catches_a_removed_tail(prescriber, patient):
    for _ in range(3):
        audit.record(
            actor=prescriber, patient=patient, category=Category.PROFILE, action=Action.READ
        )
    target = AuditEvent.objects.get(chain=str(patient.uuid), seq=3)
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [target.pk])
    with pytest.raises(CommandError, match="last events are missing"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_audit_verify_command_says_intact(prescriber, patient, capsys):
    audit.record(actor=prescriber, patient=patient, category=Category.PROFILE, action=Action.READ)
    call_command("audit_verify")
    assert "intact: 1 events checked" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement", ["UPDATE core_auditevent SET action = 'export'", "DELETE FROM core_auditevent"]
)
def test_database_refuses_update_and_delete(prescriber, patient, statement):
    """Holds on PostgreSQL (CI) and SQLite (embedded) alike."""
    audit.record(actor=prescriber, patient=patient, category=Category.PROFILE, action=Action.READ)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.filter(action="read").count() == 1


@pytest.mark.django_db
def test_orm_update_and_delete_are_refused(prescriber, patient):
    event = audit.record(
        actor=prescriber, patient=patient, category=Category.PROFILE, action=Action.READ
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(outcome="denied")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_each_chain_whole(require_postgresql):
    """Eight threads append to two patients' chains at once: no gaps, no forks."""
    prescriber = factories.PrescriberFactory()
    patients = [factories.PatientFactory(), factories.PatientFactory()]
    errors = []

    def work(p):
        try:
            for _ in range(10):
                audit.record(
                    actor=prescriber, patient=p, category=Category.PROFILE, action=Action.READ
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(patients[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for p in patients:
        assert list(
            AuditEvent.objects.filter(chain=str(p.uuid))
            .order_by("seq")
            .values_list("seq", flat=True)
        ) == list(range(1, 41))
    assert audit.verify().ok


@pytest.mark.django_db
def test_every_append_only_table_is_guarded_after_all_migrations():
    """A schema change can silently drop a trigger (SQLite rebuilds tables): check them all."""
    from core.db import APPEND_ONLY_TABLES

    assert {
        "core_auditevent",
        "prescribing_decisionrecord",
        "referrals_release",
        "referrals_revocation",
    } <= set(APPEND_ONLY_TABLES)
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                    [table],
                )
                # UPDATE or DELETE (row level) and TRUNCATE (statement level).
                assert cursor.fetchone()[0] == 2, table
            else:
                cursor.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [table],
                )
                assert cursor.fetchone()[0] == 2, table


@pytest.mark.django_db(transaction=True)
def test_a_page_request_audits_its_reads_together_and_the_chain_holds(client):
    """Outside test transactions a request's reads are written in one batch at its end."""
    prescriber = factories.PrescriberFactory()
    patient = factories.PatientFactory()
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    client.force_login(prescriber)
    for _ in range(3):
        assert client.get(reverse("visit", args=[patient.uuid])).status_code == 200
    events = AuditEvent.objects.filter(actor=prescriber, patient=patient)
    assert events.count() >= 3 * 5  # each visit reads several kinds of information
    assert len({e.request_id for e in events}) == 3
    assert audit.verify().ok
    outsider = factories.TherapistFactory()
    client.force_login(outsider)
    assert client.get(reverse("visit", args=[patient.uuid])).status_code == 404
    assert AuditEvent.objects.filter(actor=outsider, outcome="denied").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_lists_of_the_same_patients_never_deadlock(require_postgresql):
    """Six threads each write lists of the same six patients (half in reverse order, the first
    ones creating the heads): one upsert locks every head in sorted order, so none waits on
    another in a cycle, and every chain stays whole."""
    prescriber = factories.PrescriberFactory()
    patients = [factories.PatientFactory() for _ in range(6)]
    errors = []

    def work(order):
        try:
            for _ in range(10):
                audit.record_each(
                    actor=prescriber,
                    patients_via=[(p, "care_team") for p in order],
                    category=Category.PROFILE,
                    action=Action.LIST,
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(patients if i % 2 else patients[::-1],))
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for p in patients:
        assert list(
            AuditEvent.objects.filter(chain=str(p.uuid))
            .order_by("seq")
            .values_list("seq", flat=True)
        ) == list(range(1, 61))
    assert audit.verify().ok


@pytest.mark.django_db
def test_the_audit_search_is_itself_audited_allowed_and_refused(client):
    from core.models import AuditEvent
    from tests import factories

    admin, prescriber = factories.AdminFactory(), factories.PrescriberFactory()
    for who, status, outcome in ((admin, 200, "allowed"), (prescriber, 403, "denied")):
        client.force_login(who)
        assert client.get(reverse("audit_search")).status_code == status
        rows = AuditEvent.objects.filter(actor=who, category="audit", object_type="core.AuditEvent")
        assert [r.outcome for r in rows] == [outcome]
