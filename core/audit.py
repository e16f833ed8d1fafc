"""The audit trail: append-only, hash-chained per patient, no clinical content.

Every read, list, export, write and denial of patient information calls `record()`.
One chain per patient (and one for events with no patient): appending locks only that
chain's head row, so requests about different patients never wait on each other.
"""

import contextvars
import hashlib
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from . import db
from .models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
NO_PATIENT_CHAIN = "none"


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None


_NO_REQUEST = RequestContext()
_context: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("concord_audit_context")


def set_context(ctx: RequestContext) -> contextvars.Token:
    """Bind the request id and address that audit rows written from here will carry."""
    return _context.set(ctx)


def reset_context(token: contextvars.Token) -> None:
    _context.reset(token)


def _chain_key(patient) -> str:
    return str(patient.uuid) if patient is not None else NO_PATIENT_CHAIN


def compute_hash(event: AuditEvent) -> str:
    """The hash of one row's content and its predecessor's hash."""
    payload = {
        "chain": event.chain,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "actor_role": event.actor_role,
        "patient": event.patient_id,
        "category": str(event.category),
        "action": str(event.action),
        "object_type": event.object_type,
        "object_id": event.object_id,
        "outcome": str(event.outcome),
        "via": event.via,
        "request_id": event.request_id,
        "ip": event.ip,
        "prev_hash": event.prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def record(
    *,
    actor,
    patient,
    category: str,
    action: str,
    outcome: str = AuditEvent.Outcome.ALLOWED,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    via: str = "",
) -> AuditEvent:
    """Append one event to the patient's chain. Never pass clinical content.

    Inside a request and outside any transaction (a read), the event joins the request's
    batch, written in one transaction before the response leaves (see `batch`); inside a
    write's transaction it is written at once, with the write.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(getattr(obj, "uuid", None) or obj.pk)
    ctx = _context.get(_NO_REQUEST)
    actor = actor if (actor is not None and getattr(actor, "is_authenticated", False)) else None
    event = AuditEvent(
        chain=_chain_key(patient),
        at=timezone.now(),
        actor=actor,
        actor_role=actor.role if actor else "",
        patient=patient,
        category=str(category),
        action=str(action),
        object_type=object_type,
        object_id=object_id[:64],
        outcome=str(outcome),
        via=via[:400],
        request_id=ctx.request_id,
        ip=ctx.ip,
    )
    pending = _batch.get(None)
    if pending is not None and not connection.in_atomic_block:
        pending.append(event)
        return event
    _append([event])
    return event


def _append(events: list[AuditEvent]) -> None:
    """Write events, chaining each onto its chain's head; one transaction for all of them.

    Chains are locked in a fixed order (sorted) so that two batches never deadlock.
    """
    by_chain: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(event.chain, []).append(event)
    with transaction.atomic():
        for chain in sorted(by_chain):
            head = _lock_head(chain)
            seq, prev = head.seq, head.hash
            for event in by_chain[chain]:
                seq += 1
                event.seq = seq
                event.prev_hash = prev
                event.hash = compute_hash(event)
                prev = event.hash
            AuditEvent.objects.bulk_create(by_chain[chain])
            AuditChainHead.objects.filter(pk=head.pk).update(seq=seq, hash=prev)


_batch: contextvars.ContextVar[list | None] = contextvars.ContextVar("concord_audit_batch")


class batch:
    """Collect a request's read events and write them together when it ends (even on error).

    Used by the request middleware: a page that reads ten kinds of information commits once.
    """

    def __enter__(self):
        self._token = _batch.set([])
        return self

    def __exit__(self, *exc):
        events = _batch.get()
        _batch.reset(self._token)
        if events:
            _append(events)
        return False


def _lock_head(chain: str) -> AuditChainHead:
    """Return the chain's head row, locked until the surrounding transaction ends."""
    head = AuditChainHead.objects.select_for_update().filter(chain=chain).first()
    if head is not None:
        return head
    with transaction.atomic():
        # Two first events for one patient may race to create the head: the unique
        # constraint lets one win; the other then locks the winner's row.
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(chain=chain, seq=0, hash=GENESIS)], ignore_conflicts=True
        )
    return AuditChainHead.objects.select_for_update().get(chain=chain)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    message: str


def verify(using: str = "default") -> VerifyResult:
    """Walk every chain; report the first broken link, or that all chains are intact."""
    checked = 0
    current_chain = None
    prev_hash = GENESIS
    expected_seq = 1
    last = {}
    rows = AuditEvent.objects.using(using).order_by("chain", "seq").iterator(chunk_size=2000)
    for event in rows:
        if event.chain != current_chain:
            current_chain = event.chain
            prev_hash = GENESIS
            expected_seq = 1
        where = f"chain {event.chain}, event #{event.seq} (id {event.pk})"
        if event.seq != expected_seq:
            return VerifyResult(
                False,
                checked,
                f"Broken at {where}: expected event #{expected_seq}; a row is missing.",
            )
        if event.prev_hash != prev_hash:
            return VerifyResult(
                False, checked, f"Broken at {where}: it does not link to the event before it."
            )
        if compute_hash(event) != event.hash:
            return VerifyResult(
                False, checked, f"Broken at {where}: its content does not match its hash."
            )
        prev_hash = event.hash
        expected_seq += 1
        last[event.chain] = (event.seq, event.hash)
        checked += 1
    for head in AuditChainHead.objects.using(using).all():
        if head.seq == 0:
            continue
        if last.get(head.chain) != (head.seq, head.hash):
            return VerifyResult(
                False, checked, f"Broken at chain {head.chain}: its last events are missing."
            )
    return VerifyResult(True, checked, f"The audit trail is intact: {checked} events checked.")


def install_append_only_triggers(conn=None) -> None:
    """Make the audit table append-only at the database (used by its migration)."""
    db.install_append_only(AuditEvent._meta.db_table, conn)


def drop_append_only_triggers(conn=None) -> None:
    db.drop_append_only(AuditEvent._meta.db_table, conn)
