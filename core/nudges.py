"""Reminders and alerts, each sent once: the registry of kinds, scheduling (idempotent by
natural key) and delivery (claim, send, mark sent in one transaction), honouring each person's
channels, quiet hours and opt-out.

Every kind is registered once, by the domain app it belongs to (from its AppConfig.ready()):
what it says, where it links, which group of reminders it belongs to (what a person turns off,
in plain words, on their account page), and either who is due (a set-based query the sweep
calls on a schedule) or nothing, for a kind sent when something happens (`send`). Core imports
none of the domain apps: it asks the registry. Delivery runs only in a worker or the loop
(`manage.py nudges --loop`), never in the request that scheduled a reminder.
"""

import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .models import Notification, NotificationPreference, Nudge, Patient

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Candidate:
    """A nudge someone is due: what, about which record (uuid), for which day, to whom."""

    kind: str
    subject: str
    due_on: date
    recipient_id: int
    title: str
    link: str = ""
    essential: bool = False
    reason: str = ""


@dataclass(frozen=True)
class ReminderKind:
    """One kind of reminder, all of it in one place.

    title: what it says, in lists and e-mails alike, so never clinical content.
    link: the path it opens; "{subject}" and any keyword given to `reminder()` are filled in.
    candidates: who is due on a day, `candidates(on=date) -> list[Candidate]`, one set-based
      query (several kinds may share one function: the sweep calls it once). None for a kind
      sent when its event happens (`send`).
    every: minutes between sweeps (beat); only for a kind with candidates.
    essential: ignores opt-out and quiet hours, goes by every channel (safety alerts); it
      belongs to no group, so it is never a switch.
    group: the key of the registered group a person turns its e-mails off with (`group()`).
    rows: optionally, the same candidates as querysets, `rows(on=date) -> list[QuerySet]`,
      each made by `rows()` below: on PostgreSQL the sweep then schedules them in one
      INSERT … SELECT … ON CONFLICT DO NOTHING, with no Python object per row (its link may
      use "{subject}" only). `candidates` stays the definition elsewhere (SQLite, `due`).
    """

    kind: str
    title: str
    link: str
    candidates: Callable[..., Iterable[Candidate]] | None = None
    every: int | None = None
    essential: bool = False
    rows: Callable[..., list] | None = None
    group: str = ""


@dataclass(frozen=True)
class ReminderGroup:
    """Reminders a person turns on or off together, named as they would say it.

    label: a noun phrase ("Refills"); about: one sentence on when they come; audience: who
    receives them ("patient", "clinician"): a person sees the switches of their own only.
    """

    key: str
    label: str
    about: str
    audience: frozenset[str]


_KINDS: dict[str, ReminderKind] = {}
_GROUPS: dict[str, ReminderGroup] = {}


def group(key: str, *, label: str, about: str, audience: Iterable[str]) -> ReminderGroup:
    """Add a group of reminders (from the owning app's AppConfig.ready(), before its kinds).
    The same definition again is harmless; a different one raises."""
    entry = ReminderGroup(key, label, about, frozenset(audience))
    known = _GROUPS.setdefault(key, entry)
    if known != entry:
        raise ValueError(f"Reminder group {key!r} is registered twice, differently.")
    return entry


def groups_for(user) -> list[ReminderGroup]:
    """The groups this person may receive reminders of (one with a kind registered), by label.
    A clinic admin receives none."""
    from .access import kind_of  # "patient", "clinician" or "admin": who the person is

    audience = kind_of(user)
    used = {k.group for k in _KINDS.values() if k.group}
    return sorted(
        (g for g in _GROUPS.values() if audience in g.audience and g.key in used),
        key=lambda g: g.label,
    )


def group_of(kind: str) -> ReminderGroup | None:
    """The group a kind belongs to (None for an essential kind, or one not registered)."""
    entry = _KINDS.get(kind)
    return _GROUPS.get(entry.group) if entry and entry.group else None


def register(
    kind: str,
    *,
    title: str,
    link: str,
    candidates: Callable[..., Iterable[Candidate]] | None = None,
    every: int | None = None,
    essential: bool = False,
    rows: Callable[..., list] | None = None,
    group: str = "",
) -> ReminderKind:
    """Add a kind (call from the owning app's AppConfig.ready()). Registering the same kind
    again with the same definition is harmless; a different one is a mistake and raises."""
    if essential and group:
        raise ValueError(f"Reminder {kind!r}: an essential kind cannot be turned off.")
    if group and group not in _GROUPS:
        raise ValueError(f"Reminder {kind!r}: register its group {group!r} first.")
    if (candidates is None) != (every is None):
        raise ValueError(f"Reminder {kind!r}: a swept kind needs both candidates and every.")
    if rows is not None and candidates is None:
        raise ValueError(f"Reminder {kind!r}: rows are the set-based form of its candidates.")
    if rows is not None and link.replace("{subject}", "").count("{"):
        raise ValueError(f"Reminder {kind!r}: a set-based link may use {{subject}} only.")
    entry = ReminderKind(kind, title, link, candidates, every, essential, rows, group)
    known = _KINDS.setdefault(kind, entry)
    if known != entry:
        raise ValueError(f"Reminder {kind!r} is registered twice, differently.")
    return entry


def unregister(kind: str) -> None:
    _KINDS.pop(kind, None)


def kinds() -> list[ReminderKind]:
    """Every registered kind, by name."""
    return [_KINDS[k] for k in sorted(_KINDS)]


def reminder(
    kind: str, *, subject, due_on: date, recipient_id: int, reason: str = "", **link_args
) -> Candidate:
    """A candidate of a registered kind: its title, link and essential flag come from the
    registry (an unregistered kind raises KeyError)."""
    entry = _KINDS[kind]
    return Candidate(
        kind=kind,
        subject=str(subject),
        due_on=due_on,
        recipient_id=recipient_id,
        title=entry.title,
        link=entry.link.format(subject=subject, **link_args),
        essential=entry.essential,
        reason=reason,
    )


def _swept(every: int | None) -> list[ReminderKind]:
    return [k for k in _KINDS.values() if k.candidates and (every is None or k.every == every)]


def due(on: date, every: int | None = None, *, chosen=None) -> list[Candidate]:
    """Everyone due a swept reminder on `on` (of the kinds swept every `every` minutes, or of
    all of them): each kind's candidates function called once, however many kinds share it."""
    chosen = _swept(every) if chosen is None else chosen
    wanted = {k.kind for k in chosen}
    sources = list(dict.fromkeys(k.candidates for k in chosen))
    return [c for source in sources for c in source(on=on) if c.kind in wanted]


def sweep(on: date | None = None, every: int | None = None, set_based: bool | None = None) -> int:
    """Schedule today's swept reminders (once each); returns how many were due.

    On PostgreSQL (or with set_based=True) the kinds that give `rows` are scheduled in one
    statement per rows function; the others, and every kind elsewhere, through `due`."""
    on = on or timezone.localdate()
    chosen = _swept(every)
    if set_based is None:
        set_based = connection.vendor == "postgresql"
    in_sql = [k for k in chosen if k.rows] if set_based else []
    count = 0
    for source in dict.fromkeys(k.rows for k in in_sql):
        wanted = [k for k in in_sql if k.rows is source]
        count += schedule_sets(source(on=on), kinds=wanted)[0]
    rest = [k for k in chosen if k not in in_sql]
    if rest:
        count += schedule(due(on, chosen=rest))
    return count


ROW_COLUMNS = ("nudge_kind", "nudge_subject", "nudge_due_on", "nudge_recipient")


def rows(queryset, *, kind, subject, due_on, recipient_id):
    """A queryset in the set-based form: one row per candidate with its kind, subject (text),
    due date and recipient, each an expression over the queryset's model (unordered: the
    insert needs no sort)."""
    from django.db.models import CharField, DateField
    from django.db.models.functions import Cast

    return (
        queryset.annotate(
            nudge_kind=kind,
            nudge_subject=Cast(subject, CharField(max_length=64)),
            nudge_due_on=Cast(due_on, DateField()),
            nudge_recipient=recipient_id,
        )
        .order_by()
        .values_list(*ROW_COLUMNS)
    )


def schedule_sets(querysets, kinds: Iterable[ReminderKind] | None = None) -> tuple[int, int]:
    """Schedule the candidates that `rows()` querysets select, of `kinds` (by default every
    registered kind), in one INSERT … SELECT … ON CONFLICT DO NOTHING: nothing per row in
    Python. Returns (how many were due, how many were new). PostgreSQL only."""
    kinds = list(_KINDS.values()) if kinds is None else list(kinds)
    if not querysets or not kinds:
        return 0, 0
    parts, params = [], []
    for queryset in querysets:
        sql, part_params = queryset.query.sql_with_params()
        parts.append(f"({sql})")
        params.extend(part_params)
    registry = ", ".join(["(%s, %s, %s, %s)"] * len(kinds))
    for k in kinds:
        params.extend([k.kind, k.title, k.link, k.essential])
    now = timezone.now()
    params.extend([now, now])
    table = connection.ops.quote_name(Nudge._meta.db_table)
    statement = f"""
        WITH c AS ({" UNION ALL ".join(parts)}),
        t (kind, title, link, essential) AS (VALUES {registry}),
        due AS (
            SELECT c.nudge_kind, c.nudge_subject, c.nudge_due_on, c.nudge_recipient,
                   t.title, t.link, t.essential
            FROM c JOIN t ON t.kind = c.nudge_kind
        ),
        inserted AS (
            INSERT INTO {table} (kind, subject, due_on, recipient_id, title, link, essential,
                                 status, deliver_after, attempts, last_error, created_at)
            SELECT nudge_kind, nudge_subject, nudge_due_on, nudge_recipient, title,
                   replace(link, '{{subject}}', nudge_subject), essential,
                   'pending', %s, 0, '', %s
            FROM due
            ON CONFLICT DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM due), (SELECT count(*) FROM inserted)
    """  # noqa: S608 - compiled querysets and our own table; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        due_count, new_count = cursor.fetchone()
    return due_count, new_count


def sweep_intervals() -> list[int]:
    """The distinct sweep intervals (minutes) of the registered kinds: one beat entry each."""
    return sorted({k.every for k in _KINDS.values() if k.every})


def send(kind: str, *, subject, recipient_ids: Iterable[int], on: date | None = None, **link_args):
    """A reminder of an event kind, to each recipient once: scheduled now (inside the caller's
    transaction, so it commits with the event), delivered by a worker after commit."""
    on = on or timezone.localdate()
    scheduled = schedule(
        reminder(kind, subject=subject, due_on=on, recipient_id=r, **link_args)
        for r in recipient_ids
    )
    deliver_soon()
    return scheduled


def schedule(candidates: Iterable[Candidate]) -> int:
    """Insert the nudges; ones already scheduled (same natural key) are left as they are."""
    rows = [
        Nudge(
            kind=c.kind,
            subject=str(c.subject),
            due_on=c.due_on,
            recipient_id=c.recipient_id,
            title=c.title,
            link=c.link,
            essential=c.essential,
        )
        for c in candidates
    ]
    Nudge.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def quiet_end(
    now_local: datetime, quiet_from: time | None, quiet_until: time | None
) -> datetime | None:
    """If `now_local` falls in the quiet hours, when they end (local time); otherwise None.

    Quiet hours may cross midnight (22:00 → 07:00).
    """
    if quiet_from is None or quiet_until is None or quiet_from == quiet_until:
        return None
    now = now_local.time()
    if quiet_from < quiet_until:
        inside = quiet_from <= now < quiet_until
        ends_today = True
    else:
        inside = now >= quiet_from or now < quiet_until
        ends_today = now < quiet_until
    if not inside:
        return None
    end_day = now_local.date() if ends_today else now_local.date() + timedelta(days=1)
    return datetime.combine(end_day, quiet_until, tzinfo=now_local.tzinfo)


def zone_of(user, pref) -> zoneinfo.ZoneInfo:
    """The zone a person's quiet hours are in: theirs if they chose one, a patient's record's,
    or the clinic's."""
    name = (pref.time_zone if pref and pref.time_zone else "") or ""
    if not name:  # a patient's record may say where they live; anyone else has no such row
        name = Patient.objects.filter(user=user).values_list("time_zone", flat=True).first() or ""
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def deliver(now: datetime | None = None, limit: int = 500, batch: int = 100) -> dict:
    """Send the pending nudges that are due, each exactly once, oldest first, up to `limit`.
    Returns counts by outcome.

    They are read `batch` ids at a time, each batch after the last one looked at (by
    deliver_after, id), so memory stays flat however many are due and a row another worker
    holds, deferred or failed is not looked at twice in one call."""
    now = now or timezone.now()
    counts = {"sent": 0, "deferred": 0, "skipped": 0, "failed": 0, "taken": 0}
    pending = Nudge.objects.filter(status=Nudge.Status.PENDING, deliver_after__lte=now)
    last = None
    looked = 0
    while looked < limit:
        page = pending
        if last is not None:
            page = page.filter(
                Q(deliver_after__gt=last[1]) | Q(deliver_after=last[1], pk__gt=last[0])
            )
        chunk = list(
            page.order_by("deliver_after", "id").values_list("pk", "deliver_after")[
                : min(batch, limit - looked)
            ]
        )
        if not chunk:
            break
        for nudge_id, _ in chunk:
            try:
                outcome = _deliver_one(nudge_id, now)
            except Exception as error:  # noqa: BLE001 - a failure is recorded on the row, retried
                _record_failure(nudge_id, error)
                outcome = "failed"
            counts[outcome] += 1
        last = chunk[-1]
        looked += len(chunk)
    return counts


def _deliver_one(nudge_id: int, now: datetime) -> str:
    with transaction.atomic():
        # The claim: a row another worker holds is skipped, one already sent is not pending.
        nudge = (
            Nudge.objects.select_for_update(skip_locked=True)
            .select_related("recipient")
            .filter(pk=nudge_id, status=Nudge.Status.PENDING)
            .first()
        )
        if nudge is None:
            return "taken"
        user = nudge.recipient
        pref = NotificationPreference.objects.filter(user=user).first()
        if not nudge.essential and pref is not None:
            end = quiet_end(now.astimezone(zone_of(user, pref)), pref.quiet_from, pref.quiet_until)
            if end is not None:
                nudge.deliver_after = end  # deferred, not dropped
                nudge.save(update_fields=["deliver_after"])
                return "deferred"
        # Every reminder appears in Concord; a person chooses only whether it is e-mailed too.
        kind_group = None if nudge.essential else group_of(nudge.kind)
        by_email = (
            nudge.essential or pref is None or pref.emails(kind_group.key if kind_group else "")
        )
        notification = Notification.objects.create(
            recipient=user,
            kind=nudge.kind,
            title=nudge.title,
            link=nudge.link,
            emailed_at=now if by_email else None,
        )
        if by_email:
            # Inside the claim's transaction: if sending fails, nothing is marked and it is retried.
            _email(nudge, user, kind_group)
        nudge.status = Nudge.Status.SENT
        nudge.sent_at = now
        nudge.notification = notification
        nudge.attempts += 1
        nudge.save(update_fields=["status", "sent_at", "notification", "attempts"])
        return "sent"


def _email(nudge: Nudge, user, kind_group: ReminderGroup | None) -> None:
    """The reminder by e-mail: its title and a link, never clinical content. A reminder one
    may turn off carries a link that turns off this group's e-mails, without signing in, and
    says so in RFC 8058's headers, so that a mail program's "unsubscribe" does the same."""
    site = settings.CONCORD_SITE_URL.rstrip("/")
    body = f"{nudge.title}\n\nSign in to see it: {site}{nudge.link or '/notifications/'}\n"
    headers = {}
    if kind_group is not None:
        stop = site + reverse("unsubscribe", args=[unsubscribe_token(user, kind_group.key)])
        body += (
            f"\nTo stop e-mails about {kind_group.label.lower()}, open {stop}\n"
            "You will still see these reminders in Concord. All your settings: "
            f"{site}{reverse('account_page')}#notifications\n"
        )
        headers = {
            "List-Unsubscribe": f"<{stop}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    EmailMessage(
        subject="Concord: " + nudge.title, body=body, to=[user.email], headers=headers
    ).send()


UNSUBSCRIBE_SALT = "concord.nudges.unsubscribe"
UNSUBSCRIBE_DAYS = 60  # as long as a reminder e-mail is likely to be opened, and not for ever


def unsubscribe_token(user, group_key: str) -> str:
    """A link's token that turns off one group's e-mails for one person: signed with the
    server's secret and a salt of its own (no other signed value of ours passes for it),
    dated, and naming the account by uuid, nothing else."""
    return signing.dumps({"u": str(user.uuid), "g": group_key}, salt=UNSUBSCRIBE_SALT)


class UnsubscribeInvalid(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "expired" or "invalid"


def unsubscribe_read(token: str) -> tuple[str, ReminderGroup]:
    """(user uuid, group) of a token from `unsubscribe_token`. Raises UnsubscribeInvalid for
    one tampered with, made for another purpose, older than UNSUBSCRIBE_DAYS, or naming a
    group there is no switch for."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=timedelta(days=UNSUBSCRIBE_DAYS))
    except signing.SignatureExpired as error:
        raise UnsubscribeInvalid("expired") from error
    except signing.BadSignature as error:
        raise UnsubscribeInvalid("invalid") from error
    if not isinstance(data, dict) or data.get("g") not in _GROUPS or not data.get("u"):
        raise UnsubscribeInvalid("invalid")
    return str(data["u"]), _GROUPS[data["g"]]


def _record_failure(nudge_id: int, error: Exception) -> None:
    with transaction.atomic():
        nudge = Nudge.objects.select_for_update().filter(pk=nudge_id).first()
        if nudge is None or nudge.status != Nudge.Status.PENDING:
            return
        nudge.attempts += 1
        nudge.last_error = f"{type(error).__name__}: {error}"[:300]
        # Back off: 1, 2, 4, 8 minutes; then it is left failed and visible in the admin.
        nudge.deliver_after = timezone.now() + timedelta(minutes=2 ** (nudge.attempts - 1))
        if nudge.attempts >= MAX_ATTEMPTS:
            nudge.status = Nudge.Status.FAILED
        nudge.save(update_fields=["attempts", "last_error", "deliver_after", "status"])


def deliver_soon() -> None:
    """Ask a worker to deliver what is due, once the current transaction commits.

    Never delivers in this process: a request must not send other people's reminders. With no
    broker (embedded, tests: tasks would run eagerly, right here) it does nothing, and the loop
    (`manage.py nudges --loop`) delivers on its next turn."""
    from .tasks import deliver_nudges

    if deliver_nudges.app.conf.task_always_eager:
        return
    transaction.on_commit(lambda: deliver_nudges.delay())
