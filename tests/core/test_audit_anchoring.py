"""Finding 9: the audit trail cannot be emptied or rewritten so that it still verifies.

On PostgreSQL, as the tables' owner (the migrate role) with the guards switched off, each
tampering an administrator could try is reported by `audit_verify`, naming the first broken
place. The chain is an HMAC with a key the database does not hold, and signed checkpoints in
a file outside the database anchor every chain head and the event count.
"""

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from core import audit
from core.access import Action, Category
from core.db import partitions_of
from core.models import AuditChainHead, AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(require_postgresql, prescriber, patient):
    """Two patients with five reads each, and a signed checkpoint of them."""
    other = factories.PatientFactory()
    for p in (patient, other):
        for _ in range(5):
            audit.record(actor=prescriber, patient=p, category=Category.GOALS, action=Action.READ)
    call_command("audit_checkpoint", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return patient, other


def owner_sql(sql, params=()):
    """The owner of the tables, guards switched off (rolled back with the test)."""
    # On PostgreSQL each monthly partition has its own TRUNCATE guard: the owner switches
    # off every one of them.
    tables = ["core_auditevent", *partitions_of("core_auditevent")]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # see test_truncate_is_refused
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def broken(match):
    with pytest.raises(CommandError, match=match):
        call_command("audit_verify")


def test_intact_trail_matches_its_checkpoint(trail, capsys):
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "The audit trail is intact: 10 events checked." in out
    assert "It matches checkpoint #1" in out
    assert "(10 events, 2 chains)" in out


def test_truncate_is_refused(trail):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            # The test's own inserts leave deferred key checks pending, which TRUNCATE
            # refuses for its own reason: run them first, so that only the guard can refuse.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE core_auditevent")
    assert AuditEvent.objects.count() == 10
    call_command("audit_verify")


def test_a_whole_chain_and_its_head_removed(trail):
    patient, _ = trail
    chain = str(patient.uuid)
    owner_sql("DELETE FROM core_auditevent WHERE chain = %s", [chain])
    AuditChainHead.objects.filter(chain=chain).delete()
    broken(
        f"Broken at chain {chain}: the whole chain is missing; checkpoint #1 .* recorded 5 events"
    )


def test_a_cut_tail_with_the_head_moved_back(trail):
    patient, _ = trail
    chain = str(patient.uuid)
    third = AuditEvent.objects.get(chain=chain, seq=3)
    owner_sql("DELETE FROM core_auditevent WHERE chain = %s AND seq > 3", [chain])
    AuditChainHead.objects.filter(chain=chain).update(seq=3, hash=third.hash)
    broken(
        f"Broken at chain {chain}: its tail was cut; checkpoint #1 .* recorded event #5, "
        "the table ends at event #3"
    )


def _legacy_hash(event):
    """What someone without the key can compute: the plain SHA-256 of the row."""
    event.v = AuditEvent.HashVersion.SHA256
    return audit.compute_hash(event)


@pytest.mark.parametrize("claimed_version", [1, 2])
def test_a_row_rewritten_and_the_rest_rehashed_with_plain_sha256(trail, claimed_version):
    patient, _ = trail
    chain = str(patient.uuid)
    owner_sql("UPDATE core_auditevent SET action = 'export' WHERE chain = %s AND seq = 2", [chain])
    events = list(AuditEvent.objects.filter(chain=chain).order_by("seq"))
    prev = events[0].hash
    for event in events[1:]:
        event.prev_hash = prev
        new_hash = _legacy_hash(event)
        owner_sql(
            "UPDATE core_auditevent SET prev_hash = %s, hash = %s, v = %s WHERE id = %s",
            [prev, new_hash, claimed_version, event.pk],
        )
        prev = new_hash
    AuditChainHead.objects.filter(chain=chain).update(hash=prev)
    target = events[1]
    if claimed_version == 2:
        broken(
            f"Broken at chain {chain}, event #2 \\(id {target.pk}\\): its content does not match"
        )
    else:
        broken(
            f"Broken at chain {chain}, event #2 \\(id {target.pk}\\): a row hashed without the key"
        )


def test_a_whole_chain_rehashed_with_plain_sha256_from_its_first_row(trail):
    patient, _ = trail
    chain = str(patient.uuid)
    events = list(AuditEvent.objects.filter(chain=chain).order_by("seq"))
    prev = audit.GENESIS
    for event in events:
        event.action = "export" if event.seq == 1 else event.action
        event.prev_hash = prev
        new_hash = _legacy_hash(event)
        owner_sql(
            "UPDATE core_auditevent SET action = %s, prev_hash = %s, hash = %s, v = 1 "
            "WHERE id = %s",
            [event.action, prev, new_hash, event.pk],
        )
        prev = new_hash
    AuditChainHead.objects.filter(chain=chain).update(hash=prev)
    broken(
        f"Broken at chain {chain}, event #1 \\(id {events[0].pk}\\): a row hashed without the "
        "key, and checkpoint #1 .* recorded none"
    )


def test_the_table_emptied(trail):
    owner_sql("TRUNCATE core_auditevent")
    AuditChainHead.objects.all().delete()
    broken("the audit table is empty, but checkpoint #1 .* recorded 10 events; it was emptied")


def test_a_forged_checkpoint_line(trail, settings):
    """Rows cut, and a checkpoint line added that agrees with the cut table, signed without
    the key: the line is reported, not believed."""
    patient, _ = trail
    chain = str(patient.uuid)
    path = settings.CONCORD_AUDIT_CHECKPOINT_PATH
    first = json.loads(open(path).read().splitlines()[0])
    owner_sql("DELETE FROM core_auditevent WHERE chain = %s AND seq > 3", [chain])
    third = AuditEvent.objects.get(chain=chain, seq=3)
    AuditChainHead.objects.filter(chain=chain).update(seq=3, hash=third.hash)
    forged = {
        "n": 2,
        "at": first["at"],
        "count": 8,
        "legacy": 0,
        "chains": 2,
        "heads": {chain: [3, third.hash]},
        "prev": first["sig"],
    }
    blob = json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    forged["sig"] = hashlib.sha256(blob).hexdigest()
    with open(path, "a") as handle:
        handle.write(json.dumps(forged) + "\n")
    broken("line 2 .*: its signature is wrong; it was forged or altered")


def test_a_removed_checkpoint_line(trail, prescriber, settings):
    patient, _ = trail
    audit.record(actor=prescriber, patient=patient, category=Category.GOALS, action=Action.READ)
    audit.checkpoint()
    audit.checkpoint()
    path = settings.CONCORD_AUDIT_CHECKPOINT_PATH
    lines = open(path).read().splitlines()
    with open(path, "w") as handle:
        handle.write("\n".join([lines[0], lines[2]]) + "\n")
    broken("line 2: it does not follow the line before it")


def test_checkpoints_record_only_changed_heads_and_replay_to_all(trail, prescriber, settings):
    patient, other = trail
    audit.record(actor=prescriber, patient=patient, category=Category.GOALS, action=Action.READ)
    audit.checkpoint()
    lines = [json.loads(t) for t in open(settings.CONCORD_AUDIT_CHECKPOINT_PATH)]
    assert set(lines[0]["heads"]) == {str(patient.uuid), str(other.uuid)}
    assert set(lines[1]["heads"]) == {str(patient.uuid)}
    assert lines[1]["count"] == 11
    state = audit.checkpoints_read()
    assert state.heads[str(other.uuid)][0] == 5
    assert state.heads[str(patient.uuid)][0] == 6
    call_command("audit_verify")


def test_events_after_the_checkpoint_verify(trail, prescriber):
    """The table grows between checkpoints: new events and new chains are not tampering."""
    patient, _ = trail
    audit.record(actor=prescriber, patient=patient, category=Category.GOALS, action=Action.READ)
    audit.record(
        actor=prescriber,
        patient=factories.PatientFactory(),
        category=Category.GOALS,
        action=Action.READ,
    )
    call_command("audit_verify")


def test_a_wrong_key_is_reported(trail, settings):
    settings.CONCORD_AUDIT_KEY = "another-key-another-key-another-key"
    broken("line 1 .*: its signature is wrong")


def test_a_rewrite_with_the_key_and_a_new_checkpoint_is_caught_by_every_checkpoint(
    trail, prescriber, settings
):
    """Someone holding the key rewrites a row, re-hashes the chain, appends events and a
    checkpoint line of their own: the last line agrees with the table, the first does not."""
    patient, _ = trail
    chain = str(patient.uuid)
    owner_sql("UPDATE core_auditevent SET action = 'export' WHERE chain = %s AND seq = 2", [chain])
    prev = AuditEvent.objects.get(chain=chain, seq=1).hash
    for event in AuditEvent.objects.filter(chain=chain, seq__gte=2).order_by("seq"):
        event.prev_hash = prev
        prev = audit.compute_hash(event)
        owner_sql(
            "UPDATE core_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [event.prev_hash, prev, event.pk],
        )
    AuditChainHead.objects.filter(chain=chain).update(hash=prev)
    audit.record(actor=prescriber, patient=patient, category=Category.GOALS, action=Action.READ)
    head = AuditChainHead.objects.get(chain=chain)
    path = settings.CONCORD_AUDIT_CHECKPOINT_PATH
    first = json.loads(open(path).read().splitlines()[0])
    forged = {
        "n": 2,
        "at": first["at"],
        "count": 11,
        "legacy": 0,
        "chains": 2,
        "heads": {chain: [head.seq, head.hash]},
        "prev": first["sig"],
    }
    forged["sig"] = audit._sign(forged)
    with open(path, "a") as handle:
        handle.write(json.dumps(forged) + "\n")
    call_command("audit_verify")  # the last line alone agrees: this is what the key protects
    with pytest.raises(
        CommandError, match=f"chain {chain}, event #5 .*: it differs from checkpoint #1"
    ):
        call_command("audit_verify", "--every-checkpoint")


def test_the_checkpoint_task_refuses_to_sign_a_table_that_went_back(trail):
    patient, _ = trail
    chain = str(patient.uuid)
    third = AuditEvent.objects.get(chain=chain, seq=3)
    owner_sql("DELETE FROM core_auditevent WHERE chain = %s AND seq > 3", [chain])
    AuditChainHead.objects.filter(chain=chain).update(seq=3, hash=third.hash)
    with pytest.raises(CommandError, match=f"No checkpoint written: Chain {chain} went back"):
        call_command("audit_checkpoint")


def test_a_stale_checkpoint_fails_the_age_check(trail, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    call_command("audit_verify", "--max-age", "15")
    time_machine.move_to(timezone.now() + timedelta(minutes=20))
    broken_old = pytest.raises(CommandError, match="checkpoints are no longer written")
    with broken_old:
        call_command("audit_verify", "--max-age", "15")


def test_as_of_compares_with_the_last_checkpoint_written_before_then(trail, prescriber):
    """A backup taken between two checkpoints ends where the first one says, not the second."""
    from datetime import timedelta

    from django.utils import timezone

    patient, _ = trail
    chain = str(patient.uuid)
    between = timezone.now() + timedelta(microseconds=1)
    audit.record(actor=prescriber, patient=patient, category=Category.GOALS, action=Action.READ)
    audit.checkpoint()
    fifth = AuditEvent.objects.get(chain=chain, seq=5)
    owner_sql("DELETE FROM core_auditevent WHERE chain = %s AND seq > 5", [chain])
    AuditChainHead.objects.filter(chain=chain).update(seq=5, hash=fifth.hash)
    broken("its tail was cut; checkpoint #2 .* recorded event #6, the table ends at event #5")
    call_command("audit_verify", "--as-of", between.isoformat())
