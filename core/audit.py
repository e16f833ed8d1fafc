"""The audit trail: append-only, hash-chained per patient, no clinical content.

Every read, list, export, write and denial of patient information calls `record()`.
One chain per patient (and one for events with no patient): appending locks only that
chain's head row, so requests about different patients never wait on each other.

The chain is an HMAC-SHA256 with CONCORD_AUDIT_KEY, which the database does not hold, and
`checkpoint()` appends a signed copy of every chain head and the event count to a file
outside the database (CONCORD_AUDIT_CHECKPOINT_PATH). `verify()` checks the table against
both: someone who can write the tables but does not have the key can neither re-hash a
rewritten chain nor remove whole chains, tails or the table's content unnoticed.
See docs/security/threat-model.md for what this does and does not protect.
"""

import contextvars
import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, connections, transaction
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


def _key() -> bytes:
    return settings.CONCORD_AUDIT_KEY.encode()


def compute_hash(event: AuditEvent) -> str:
    """The hash of one row's content and its predecessor's hash: an HMAC with the audit key
    (v=2), or plain SHA-256 for rows written before the key existed (v=1)."""
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
    if event.v == AuditEvent.HashVersion.SHA256:
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()
    payload["v"] = event.v
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(_key(), blob, hashlib.sha256).hexdigest()


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
    event = _event(
        actor=actor,
        patient=patient,
        category=category,
        action=action,
        outcome=outcome,
        object_type=object_type,
        object_id=object_id,
        via=via,
    )
    _submit([event])
    return event


def record_each(
    *, actor, patients_via: list[tuple], category: str, action: str, object_type: str = ""
) -> None:
    """One event per (patient, via): a list that showed these patients. Written together (a
    handful of queries however many patients), in the request's batch or the transaction."""
    _submit(
        [
            _event(
                actor=actor,
                patient=patient,
                category=category,
                action=action,
                outcome=AuditEvent.Outcome.ALLOWED,
                object_type=object_type,
                object_id=str(patient.uuid),
                via=via,
            )
            for patient, via in patients_via
        ]
    )


def _event(*, actor, patient, category, action, outcome, object_type, object_id, via):
    ctx = _context.get(_NO_REQUEST)
    actor = actor if (actor is not None and getattr(actor, "is_authenticated", False)) else None
    return AuditEvent(
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
        v=AuditEvent.HashVersion.HMAC,
    )


def _in_a_write() -> bool:
    """Inside a transaction opened since the request's batch began (a service's write), not
    one that encloses the whole request (a test's, or ATOMIC_REQUESTS)."""
    return len(connection.atomic_blocks) > _depth.get(0)


def _submit(events: list[AuditEvent]) -> None:
    pending = _batch.get(None)
    if pending is not None and not _in_a_write():
        pending.extend(events)
        return
    if pending:
        # A write in a request that has already read: the reads so far join the write's own
        # rows in one append (one lock of each chain's head), in the write's transaction.
        # They record what the request already did, so they stand even if the write fails:
        # the batch writes them again at the end if that transaction rolled back.
        moved = _Moved(list(pending))
        pending.clear()
        transaction.on_commit(moved)
        _moved.get().append(moved)
        events = moved.events + events
    if events:
        _append(events)


class _Moved:
    """Read events a write's transaction took along; called when that transaction commits."""

    def __init__(self, events: list[AuditEvent]):
        self.events = events
        self.committed = False

    def __call__(self):
        self.committed = True

    def lost(self) -> bool:
        """Rolled back: neither committed nor still waiting for an enclosing commit."""
        if self.committed:
            return False
        return not any(entry[1] is self for entry in connection.run_on_commit)

    def again(self) -> list[AuditEvent]:
        """The events as new rows, to be chained afresh."""
        fresh = []
        for event in self.events:
            copy = AuditEvent(
                **{
                    f.attname: getattr(event, f.attname)
                    for f in AuditEvent._meta.concrete_fields
                    if f.attname not in ("id", "seq", "prev_hash", "hash")
                }
            )
            fresh.append(copy)
        return fresh


def _append(events: list[AuditEvent]) -> None:
    """Write events, chaining each onto its chain's head; one transaction for all of them.

    Heads are locked in a fixed order (sorted by chain) so that two batches never deadlock;
    a list of many patients costs a handful of queries, not a few per patient.
    """
    by_chain: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(event.chain, []).append(event)
    chains = sorted(by_chain)
    with transaction.atomic():
        heads = _lock_heads(chains)
        for chain in chains:
            head = heads[chain]
            seq, prev = head.seq, head.hash
            for event in by_chain[chain]:
                seq += 1
                event.seq = seq
                event.prev_hash = prev
                event.hash = compute_hash(event)
                prev = event.hash
            head.seq, head.hash = seq, prev
        ordered = [e for chain in chains for e in by_chain[chain]]
        if connection.vendor == "postgresql":
            _insert_and_move_heads(ordered, [heads[c] for c in chains])
            return
        AuditEvent.objects.bulk_create(ordered)
        AuditChainHead.objects.bulk_update(list(heads.values()), ["seq", "hash"])


# The columns an append writes, in order (the id is the database's).
_COLUMNS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]


def _insert_and_move_heads(events: list[AuditEvent], heads: list[AuditChainHead]) -> None:
    """PostgreSQL: the rows and the heads' new positions in one statement, one round trip (the
    ORM's bulk_create and update cost more to build than the database takes to run them)."""
    table, head_table = AuditEvent._meta.db_table, AuditChainHead._meta.db_table
    names = ", ".join(connection.ops.quote_name(f.column) for f in _COLUMNS)
    row = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    params = [
        f.get_db_prep_save(getattr(event, f.attname), connection)
        for event in events
        for f in _COLUMNS
    ]
    moved = ", ".join(["(%s::bigint, %s::bigint, %s)"] * len(heads))
    params += [value for head in heads for value in (head.pk, head.seq, head.hash)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH added AS (INSERT INTO {table} ({names}) "  # noqa: S608 - our own tables
            f"VALUES {', '.join([row] * len(events))} RETURNING id), "
            f"moved AS (UPDATE {head_table} AS h SET seq = m.seq, hash = m.hash "
            f"FROM (VALUES {moved}) AS m(id, seq, hash) WHERE h.id = m.id RETURNING 1) "
            "SELECT id FROM added",
            params,
        )
        # Rows come back in the order they were given, as Django's bulk_create relies on.
        for event, (pk,) in zip(events, cursor.fetchall(), strict=True):
            event.pk = event.id = pk
            event._state.adding = False


_batch: contextvars.ContextVar[list | None] = contextvars.ContextVar("concord_audit_batch")
_moved: contextvars.ContextVar[list] = contextvars.ContextVar("concord_audit_moved")
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("concord_audit_depth")


class batch:
    """Collect a request's read events and write them together when it ends (even on error).

    Used by the request middleware: a page that reads ten kinds of information commits once,
    and a request that reads and then writes appends once, with the write (see `_submit`).
    """

    def __enter__(self):
        self._token = _batch.set([])
        self._moved_token = _moved.set([])
        self._depth_token = _depth.set(len(connection.atomic_blocks))
        return self

    def __exit__(self, *exc):
        events = _batch.get()
        moved = _moved.get()
        _batch.reset(self._token)
        _moved.reset(self._moved_token)
        _depth.reset(self._depth_token)
        lost = [e for m in moved if m.lost() for e in m.again()]
        events = lost + events
        if events:
            _append(events)
        return False


def _lock_heads(chains: list[str]) -> dict[str, AuditChainHead]:
    """The chains' head rows (`chains` sorted), locked until the surrounding transaction ends.

    One upsert creates the heads that are missing and locks the others (the no-op update is
    what takes the lock), row by row in the order given: two batches take their locks in the
    same order, whether a head is new or not, and never deadlock. Two first events of one
    patient racing to create its head: the unique constraint makes the second wait for the
    first and then lock its row. One query, however many chains.
    """
    table = AuditChainHead._meta.db_table
    rows = ", ".join(["(%s, 0, %s)"] * len(chains))
    params = [value for chain in chains for value in (chain, GENESIS)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (chain, seq, hash) VALUES {rows} "  # noqa: S608 - our table
            "ON CONFLICT (chain) DO UPDATE SET chain = excluded.chain "
            "RETURNING id, chain, seq, hash",
            params,
        )
        found = cursor.fetchall()
    return {
        chain: AuditChainHead(pk=pk, chain=chain, seq=seq, hash=hash_)
        for pk, chain, seq, hash_ in found
    }


# --- Checkpoints -----------------------------------------------------------------------
# One JSON line per checkpoint: its number, when, the event count, how many chains, the heads
# that changed since the line before (every head on the first line), the previous line's
# signature, and its own signature (HMAC with the audit key). Replaying the lines gives every
# chain's head at the last checkpoint.


class CheckpointError(Exception):
    """The checkpoint file is not what Concord wrote: a line is forged, altered or missing."""


@dataclass
class Checkpoint:
    n: int = 0
    at: str = ""
    count: int = 0
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    sig: str = ""
    legacy: int = 0  # rows hashed without the key (before migration core.0008)
    # With history: {chain: {seq: (hash, line)}}, every head any line recorded.
    history: dict | None = None

    def __str__(self) -> str:
        return f"checkpoint #{self.n} of {self.at}"


def _checkpoint_path() -> str:
    return str(settings.CONCORD_AUDIT_CHECKPOINT_PATH)


def _sign(line: dict) -> str:
    body = {k: v for k, v in line.items() if k != "sig"}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(_key(), b"concord-audit-checkpoint:" + blob, hashlib.sha256).hexdigest()


def checkpoints_read(
    path: str | None = None, *, as_of: datetime | None = None, history: bool = False
) -> Checkpoint | None:
    """Replay the checkpoint file; the state at its last line (or the last one written at or
    before `as_of`), None when there is none. With `history`, also every head each line
    recorded (`Checkpoint.history`). Raises CheckpointError naming the first bad line."""
    path = path or _checkpoint_path()
    if not os.path.exists(path):
        return None
    state = Checkpoint()
    chosen = None  # the state at the last line at or before as_of, once a later line is seen
    anchors: dict[str, dict[int, tuple[str, int]]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            where = f"Checkpoint file {path}, line {number}"
            try:
                line = json.loads(text)
                heads = {c: (int(h[0]), str(h[1])) for c, h in line["heads"].items()}
                n, at, count, sig, prev, legacy = (
                    line["n"],
                    line["at"],
                    line["count"],
                    line["sig"],
                    line["prev"],
                    line["legacy"],
                )
                written = datetime.fromisoformat(at)
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
                raise CheckpointError(f"{where}: not a checkpoint Concord wrote.") from error
            if not hmac.compare_digest(str(sig), _sign(line)):
                raise CheckpointError(
                    f"{where} (dated {at}): its signature is wrong; it was forged or altered."
                )
            if n != number or prev != state.sig:
                raise CheckpointError(
                    f"{where}: it does not follow the line before it; a line was removed, "
                    "reordered or inserted."
                )
            for chain, (seq, _hash) in heads.items():
                before = state.heads.get(chain)
                # Signed, yet a chain went back: only someone holding the key writes this.
                if before is not None and seq <= before[0]:
                    raise CheckpointError(
                        f"{where}: it moves chain {chain} back from event #{before[0]} to "
                        f"#{seq}; it was written with the key to hide a rewrite."
                    )
            if as_of is not None and chosen is None and written > as_of:
                chosen = Checkpoint(
                    state.n, state.at, state.count, dict(state.heads), state.sig, state.legacy
                )
            state.heads.update(heads)
            state.n, state.at, state.count, state.sig, state.legacy = n, at, count, sig, legacy
            if len(state.heads) != line.get("chains"):
                raise CheckpointError(f"{where}: its chain count does not add up.")
            if history and (as_of is None or written <= as_of):
                for chain, (seq, hash_) in heads.items():
                    anchors.setdefault(chain, {})[seq] = (hash_, n)
    if chosen is None:
        chosen = state
    if chosen.n == 0:
        return None
    chosen.history = anchors if history else None
    return chosen


def checkpoint(path: str | None = None) -> Checkpoint:
    """Append a signed checkpoint of every chain head and the event count. Raises
    CheckpointError when the file holds a line Concord did not write (nothing is appended)."""
    path = path or _checkpoint_path()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # Append mode only: the file may be append-only for this process (chattr +a).
    with open(path, "a", encoding="utf-8") as handle:
        # One writer at a time (beat and a manual run), so that lines never fork.
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            last = checkpoints_read(path) or Checkpoint()
            count, legacy, heads = _snapshot()
            at = timezone.now().isoformat()
            changed = {c: h for c, h in heads.items() if last.heads.get(c) != h}
            # Never sign a table that no longer holds what the last checkpoint recorded.
            _still_anchored(last, changed)
            line = {
                "n": last.n + 1,
                "at": at,
                "count": count,
                "legacy": legacy,
                "chains": len({**last.heads, **heads}),
                "heads": {c: list(h) for c, h in sorted(changed.items())},
                "prev": last.sig,
            }
            line["sig"] = _sign(line)
            handle.write(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return Checkpoint(line["n"], at, count, {**last.heads, **heads}, line["sig"], legacy)


def _still_anchored(last: Checkpoint, changed: dict[str, tuple[int, str]]) -> None:
    """Raise CheckpointError if a changed head went back, or its chain no longer holds the
    row the last checkpoint recorded as its head."""
    before = {c: last.heads[c] for c in changed if c in last.heads}
    for chain, (seq, _hash) in changed.items():
        if chain in before and seq <= before[chain][0]:
            raise CheckpointError(
                f"Chain {chain} went back from event #{before[chain][0]} to #{seq} since "
                f"{last}: nothing written; run audit_verify."
            )
    pairs = sorted(before.items())
    table = AuditEvent._meta.db_table
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        params = [v for chain, (seq, _hash) in chunk for v in (chain, seq)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT chain, seq, hash FROM {table} "  # noqa: S608 - our own table
                f"WHERE (chain, seq) IN (VALUES {values})",
                params,
            )
            found = {(chain, seq): hash_ for chain, seq, hash_ in cursor.fetchall()}
        for chain, (seq, hash_) in chunk:
            if found.get((chain, seq)) != hash_:
                raise CheckpointError(
                    f"Chain {chain}, event #{seq} is not what {last} recorded: nothing "
                    "written; run audit_verify."
                )


def _snapshot(using: str = "default") -> tuple[int, int, dict[str, tuple[int, str]]]:
    """The event count, the legacy rows' count and every chain head, read in one statement
    (one snapshot)."""
    events = AuditEvent._meta.db_table
    heads_table = AuditChainHead._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            # One statement reads one snapshot, whatever the isolation level.
            "WITH c AS (SELECT count(*) AS n, "  # noqa: S608 - our own table names
            f"coalesce(sum(CASE WHEN v = 1 THEN 1 ELSE 0 END), 0) AS l FROM {events}) "
            f"SELECT c.n, c.l, h.chain, h.seq, h.hash FROM c "
            f"LEFT JOIN {heads_table} h ON h.seq > 0"
        )
        rows = cursor.fetchall()
    count, legacy = rows[0][0], rows[0][1]
    return count, legacy, {c: (seq, h) for _, _, c, seq, h in rows if c is not None}


# --- Verification ------------------------------------------------------------------------


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    message: str


def verify(
    using: str = "default",
    *,
    checkpoint_path: str | None = None,
    as_of: datetime | None = None,
    require_checkpoint: bool = False,
    every_checkpoint: bool = False,
    max_age: timedelta | None = None,
) -> VerifyResult:
    """Walk every chain and compare it with the last checkpoint (or the last one at or before
    `as_of`; with `every_checkpoint`, with every head any line recorded); report the first
    broken place, or that all chains are intact. `max_age`: a last checkpoint older is broken
    (the checkpoint task stopped)."""
    try:
        anchor = checkpoints_read(checkpoint_path, as_of=as_of, history=every_checkpoint)
    except CheckpointError as error:
        return VerifyResult(False, 0, f"Broken checkpoint: {error}")
    if anchor is None and (require_checkpoint or max_age is not None):
        return VerifyResult(False, 0, "No checkpoint to compare against: run audit_checkpoint.")
    if max_age is not None and datetime.fromisoformat(anchor.at) < timezone.now() - max_age:
        return VerifyResult(
            False, 0, f"The last checkpoint is {anchor}: checkpoints are no longer written."
        )
    anchored = anchor.heads if anchor else {}
    history = (anchor.history if anchor else None) or {}
    total = AuditEvent.objects.using(using).count()
    if anchor is not None and total == 0 and anchor.count > 0:
        return VerifyResult(
            False,
            0,
            f"Broken: the audit table is empty, but {anchor} recorded {anchor.count} events; "
            "it was emptied.",
        )

    problems: dict[str, str] = {}
    checked = 0
    legacy = 0
    last: dict[str, tuple[int, str]] = {}
    state = None  # (chain, expected seq, previous hash, seen an HMAC row)
    # (chain, seq) is unique by the chain head's lock, not by a constraint: the partitioned
    # table cannot have one across partitions. A second row with a number is reported below.
    rows = (
        AuditEvent.objects.using(using).order_by("chain", "seq", "id").iterator(chunk_size=2000)
    )
    for event in rows:
        if state is None or state[0] != event.chain:
            state = (event.chain, 1, GENESIS, False)
        chain, expected_seq, prev_hash, keyed = state
        if chain in problems:
            continue
        problem = _check_row(event, expected_seq, prev_hash, keyed, anchored.get(chain), anchor)
        recorded = history.get(chain, {}).get(event.seq)
        if not problem and recorded is not None and recorded[0] != event.hash:
            problem = (
                f"Broken at chain {chain}, event #{event.seq} (id {event.pk}): it differs from "
                f"checkpoint #{recorded[1]}; the chain was rewritten."
            )
        if problem:
            problems[chain] = problem
            continue
        state = (chain, expected_seq + 1, event.hash, keyed or event.v != 1)
        last[chain] = (event.seq, event.hash)
        checked += 1
        legacy += event.v == AuditEvent.HashVersion.SHA256

    for chain, (seq, _hash) in anchored.items():
        if chain in problems:
            continue
        if chain not in last:
            problems[chain] = (
                f"Broken at chain {chain}: the whole chain is missing; {anchor} recorded "
                f"{seq} events in it, the table has none."
            )
        elif last[chain][0] < seq:
            problems[chain] = (
                f"Broken at chain {chain}: its tail was cut; {anchor} recorded event #{seq}, "
                f"the table ends at event #{last[chain][0]}."
            )
    for head in AuditChainHead.objects.using(using).all():
        if head.seq == 0 or head.chain in problems:
            continue
        if last.get(head.chain) != (head.seq, head.hash):
            problems[head.chain] = f"Broken at chain {head.chain}: its last events are missing."
    if problems:
        first = sorted(problems)[0]
        more = len(problems) - 1
        also = f" ({more} more chain{'s' if more != 1 else ''} broken.)" if more else ""
        return VerifyResult(False, checked, problems[first] + also)
    if anchor is not None and total < anchor.count:
        return VerifyResult(
            False,
            checked,
            f"Broken: the table holds {total} events, fewer than the {anchor.count} that "
            f"{anchor} recorded.",
        )

    message = f"The audit trail is intact: {checked} events checked."
    if anchor is not None:
        chains = f"{len(anchored)} chain{'' if len(anchored) == 1 else 's'}"
        message += f" It matches {anchor} ({anchor.count} events, {chains})."
    else:
        message += " No checkpoint yet to compare it with (run audit_checkpoint)."
        if legacy:
            message += f" {legacy} rows hashed before the audit key are not anchored yet."
    return VerifyResult(True, checked, message)


def _check_row(event, expected_seq, prev_hash, keyed, anchored_head, anchor) -> str:
    """What is wrong with this row, given the row before it and the checkpoint; "" if nothing."""
    where = f"Broken at chain {event.chain}, event #{event.seq} (id {event.pk})"
    if event.seq == expected_seq - 1 and expected_seq > 1:
        return f"{where}: a second event #{event.seq} in the chain; a row was added."
    if event.seq != expected_seq:
        return f"{where}: expected event #{expected_seq}; a row is missing."
    if event.prev_hash != prev_hash:
        return f"{where}: it does not link to the event before it."
    if event.v not in AuditEvent.HashVersion.values:
        return f"{where}: unknown hash version {event.v}."
    if event.v == AuditEvent.HashVersion.SHA256:
        # Legacy rows come before every keyed row, and before the first checkpoint.
        if keyed:
            return f"{where}: a row hashed without the key after keyed rows; it was re-hashed."
        if anchor is not None and anchor.legacy == 0:
            return (
                f"{where}: a row hashed without the key, and {anchor} recorded none; "
                "it was re-hashed without the audit key."
            )
        if anchor is not None and (anchored_head is None or event.seq > anchored_head[0]):
            return (
                f"{where}: a row hashed without the key after {anchor}; it was re-hashed "
                "without the audit key."
            )
    if compute_hash(event) != event.hash:
        return f"{where}: its content does not match its hash."
    if (
        anchored_head is not None
        and event.seq == anchored_head[0]
        and event.hash != anchored_head[1]
    ):
        return f"{where}: it differs from {anchor}; the chain was rewritten."
    return ""


def install_append_only_triggers(conn=None) -> None:
    """Make the audit table append-only at the database (used by its migration)."""
    db.install_append_only(AuditEvent._meta.db_table, conn)


def drop_append_only_triggers(conn=None) -> None:
    db.drop_append_only(AuditEvent._meta.db_table, conn)
