"""The webhook delivery queue: store first, process after the response.

``POST /webhooks/whatsapp`` only verifies the signature and appends the raw body
to ``webhook_deliveries`` in the queue's own SQLite file (see
:mod:`copilot.service.queuefile` and :mod:`copilot.service.delivery_writer`)
before the 200. The background runner reads it, parses each delivery, hands
every event to the inbox and records the delivery's state and each event's
outcome in the *inbox* database (``webhook_progress``, ``webhook_events``,
keyed by the queue file's identity), so a low-priority runner never holds a
lock the webhook needs. Nothing Meta sent is dropped, whatever its kind.

A delivery ends in one of three states, or waits in a fourth:

- ``done``: every event reached the inbox (or was kept with its outcome);
- ``failed``: *set aside*. It cannot be processed (not a WhatsApp delivery, a
  bug its content triggers, or storage trouble that outlasted
  :data:`RETRY_WINDOW`). It is kept with its error, listed by
  ``lead-copilot deliveries list --failed`` and ``GET /api/deliveries``, and
  processed again on replay. It never blocks the deliveries behind it;
- ``rejected``: refused at the door (not a JSON object), kept as it came;
- ``retry``: storage trouble (locked, I/O, disk full...): tried again with a
  growing wait (:func:`backoff`, capped at :data:`MAX_BACKOFF`). The deliveries
  behind it go on, except those of the same contact, which wait behind it so
  a status, edit or reaction never arrives before its message.

Deliveries are taken in id order, so after a crash the runner resumes where it
stopped; the inbox calls are idempotent (message ids are unique, statuses only
move forward), so redoing one is harmless.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot.inbox import Inbox, InboxDatabaseError, InboxError
from copilot.inbox.db import immediate, open_db
from copilot.integrations.whatsapp import WebhookError, parse_webhook
from copilot.integrations.whatsapp.events import WebhookParseResult
from copilot.service import queuefile
from copilot.service.delivery_writer import DeliveryWriter
from copilot.service.queuefile import QueueFile

log = logging.getLogger(__name__)

__all__ = [
    "DeliveryQueue",
    "DeliveryWriter",
    "EventOutcome",
    "apply_event",
    "backoff",
    "connect",
    "connect_state",
    "drain",
    "is_transient",
    "process_delivery",
]

#: Storage trouble is retried for as long as Meta itself retries a delivery it
#: could not hand over (about a day), and more; then the delivery is set aside.
RETRY_WINDOW = 48 * 3600.0
#: The longest wait between two tries of one delivery.
MAX_BACKOFF = 300.0
FIRST_BACKOFF = 0.5

#: SQLite result codes of storage trouble rather than of a bad delivery: busy,
#: locked, out of memory, read-only, I/O error, corrupt, disk full, cannot open,
#: lock protocol, not a database. An operator fixes these; the delivery waits.
_TRANSIENT_CODES = {5, 6, 7, 8, 10, 11, 13, 14, 15, 26}
#: RAISE() in a trigger. The inbox defines no triggers, so one that fires is an
#: operator's guard (a maintenance freeze), not this delivery's fault.
_CONSTRAINT_TRIGGER = 1811


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection to the queue file (created and migrated if missing)."""
    return queuefile.connect(path)


def connect_state(inbox_db: str | Path) -> sqlite3.Connection:
    """A connection to the inbox database, where the runner records its progress
    (its tables come with the inbox's migrations, applied here if needed)."""
    return open_db(inbox_db).conn


def backoff(attempts: int) -> float:
    """Seconds to wait before the next try after ``attempts`` failed ones."""
    return min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(0, attempts - 1))


def is_transient(exc: BaseException) -> bool:
    """True for storage trouble (retry later), False for a problem of the
    delivery itself or a bug (set it aside)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            return True
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            if code is None:
                return isinstance(current, sqlite3.OperationalError)
            return code == _CONSTRAINT_TRIGGER or (code & 0xFF) in _TRANSIENT_CODES
        current = current.__cause__ or current.__context__
    # The inbox's own word for a database it cannot use (without a SQLite cause).
    return isinstance(exc, InboxDatabaseError)


def _text(value: str, limit: int = 500) -> str:
    """``value`` cut to ``limit`` and safe to store (no lone surrogate)."""
    return value[:limit].encode("utf-8", "replace").decode("utf-8")


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: keep it as an escape
        text = json.dumps(value, default=str)
    return text


def _error(exc: BaseException) -> str:
    return _text(f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class EventOutcome:
    """What the service did with one event of a delivery."""

    kind: str
    outcome: str
    ref: str | None
    raw: Any


@dataclass
class Work:
    """One delivery to look at this round."""

    id: int
    received_at: float
    body: bytes
    door_state: str
    door_error: str | None
    attempts: int = 0
    since: float | None = None


@dataclass
class Result:
    """What became of one delivery this round."""

    work: Work
    state: str
    outcomes: list[EventOutcome] = field(default_factory=list)
    error: str | None = None
    attempts: int = 0
    keys: list[str] = field(default_factory=list)
    next_attempt_at: float | None = None
    attempted: bool = False


class DeliveryQueue:
    """The queue file's deliveries and the runner's record of them.

    ``queue`` is a connection to the queue file or a :class:`QueueFile` (which
    reopens the file when it was replaced); ``state_conn`` a connection to the
    inbox database (:func:`connect_state`).
    """

    def __init__(
        self,
        queue: sqlite3.Connection | QueueFile,
        state_conn: sqlite3.Connection,
        *,
        salvage: bool = False,
    ) -> None:
        self._queue = queue
        self.conn = state_conn
        #: the runner's queue: when the file is replaced, move what the old one
        #: still holds unprocessed into the new one rather than leave it behind
        self.salvage = salvage
        #: True when the last :func:`drain` round met storage trouble
        self.storage_trouble = False
        self._adopted: set[str] = set()

    @property
    def queue_conn(self) -> sqlite3.Connection:
        """The connection to the queue file (the file now at the path)."""
        if isinstance(self._queue, QueueFile):
            return self._queue.get()
        return self._queue

    def identity(self) -> str:
        """The queue file's identity: the key of this queue's progress rows."""
        return queuefile.identity(self.queue_conn)

    def append(self, body: bytes, state: str = "pending", error: str | None = None) -> int:
        """Store one delivery synchronously (tests, tools; the service uses
        :class:`DeliveryWriter`)."""
        cur = self.queue_conn.execute(
            "INSERT INTO webhook_deliveries (received_at, body, state, error) VALUES (?,?,?,?)",
            (time.time(), body, state, error),
        )
        return cur.lastrowid

    def cursor(self, qid: str | None = None) -> int:
        """The highest delivery id the runner recorded for this queue (0: none).
        Every delivery up to it has a row; the ones after it are new."""
        row = self.conn.execute(
            "SELECT MAX(delivery_id) FROM webhook_progress WHERE queue_id = ?",
            (qid or self.identity(),),
        ).fetchone()
        return row[0] or 0

    # --- keeping the record in step with the file -----------------------------

    def verify(self) -> str:
        """Check the record against the queue file; returns the identity to use.

        Progress written before queue files had an identity is adopted by the
        file when it fits it. When the file no longer holds the delivery the
        record says was processed last (an older copy restored under the same
        identity), the file gets a new identity and is processed from its start.
        """
        if self.salvage and isinstance(self._queue, QueueFile) and self._queue.replaced():
            self._follow_replacement(self._queue)
        qid = self.identity()
        if qid not in self._adopted:
            self._adopt_legacy(qid)
            self._adopted.add(qid)
        row = self.conn.execute(
            "SELECT delivery_id, received_at FROM webhook_progress WHERE queue_id = ?"
            " ORDER BY delivery_id DESC LIMIT 1",
            (qid,),
        ).fetchone()
        if row is None:
            return qid
        found = self.queue_conn.execute(
            "SELECT received_at FROM webhook_deliveries WHERE id = ?", (row[0],)
        ).fetchone()
        if found is None or (row[1] is not None and found[0] != row[1]):
            qid = queuefile.rotate_identity(self.queue_conn)
            log.warning(
                "the webhook queue file does not match the progress recorded for it;"
                " processing it from its first delivery (queue %s)",
                qid,
            )
        return qid

    def _follow_replacement(self, file: QueueFile) -> None:
        """The file was deleted or replaced under us: this connection still reads
        the old one. Its deliveries not processed yet (new ones and retries) are
        appended to the new file, then the new file is used. (They land after
        whatever the new file already holds: a rare event, and the inbox calls
        are idempotent.)"""
        old = file.get_current()
        old_qid = queuefile.identity(old)
        retry = [
            r[0]
            for r in self.conn.execute(
                "SELECT delivery_id FROM webhook_progress WHERE queue_id = ? AND state = 'retry'",
                (old_qid,),
            )
        ]
        rows = old.execute(
            "SELECT received_at, body, state, error FROM webhook_deliveries"
            f" WHERE id > ? OR id IN ({','.join('?' * len(retry))}) ORDER BY id",
            (self.cursor(old_qid), *retry),
        ).fetchall()
        file.close()
        new = file.get()
        if rows:
            with immediate(new):
                new.executemany(
                    "INSERT INTO webhook_deliveries (received_at, body, state, error)"
                    " VALUES (?,?,?,?)",
                    rows,
                )
        log.warning(
            "the webhook queue file was replaced; %s unprocessed deliveries moved to the new one",
            len(rows),
        )

    def _adopt_legacy(self, qid: str) -> None:
        conn = self.conn
        legacy = conn.execute(
            "SELECT MAX(delivery_id) FROM webhook_progress WHERE queue_id = ''"
        ).fetchone()[0]
        if legacy is None:
            return
        own = conn.execute(
            "SELECT 1 FROM webhook_progress WHERE queue_id = ? LIMIT 1", (qid,)
        ).fetchone()
        top = self.queue_conn.execute("SELECT MAX(id) FROM webhook_deliveries").fetchone()[0]
        if own is not None or top is None or legacy > top:
            return
        with immediate(conn):
            conn.execute("UPDATE webhook_progress SET queue_id = ? WHERE queue_id = ''", (qid,))
            conn.execute("UPDATE webhook_events SET queue_id = ? WHERE queue_id = ''", (qid,))

    # --- what to do next ---------------------------------------------------

    def next_work(self, limit: int, now: float, qid: str | None = None) -> list[Work]:
        """The retries that are due and the new deliveries, oldest first."""
        qid = qid or self.identity()
        cursor = self.cursor(qid)
        work = [
            Work(id_, received_at, bytes(body), state, error)
            for id_, received_at, body, state, error in self.queue_conn.execute(
                "SELECT id, received_at, body, state, error FROM webhook_deliveries"
                " WHERE id > ? ORDER BY id LIMIT ?",
                (cursor, limit),
            )
        ]
        due = self.conn.execute(
            "SELECT delivery_id, attempts, since FROM webhook_progress WHERE queue_id = ?"
            " AND state = 'retry' AND next_attempt_at <= ? ORDER BY delivery_id LIMIT ?",
            (qid, now, limit),
        ).fetchall()
        if due:
            rows = {
                r[0]: r
                for r in self.queue_conn.execute(
                    "SELECT id, received_at, body, state, error FROM webhook_deliveries"
                    f" WHERE id IN ({','.join('?' * len(due))})",
                    [d[0] for d in due],
                )
            }
            for delivery_id, attempts, since in due:
                r = rows.get(delivery_id)
                if r is None:  # cannot happen for one identity; never loop on it
                    work.append(Work(delivery_id, since or now, b"", "missing", None))
                    continue
                work.append(Work(r[0], r[1], bytes(r[2]), r[3], r[4], attempts, since))
        work.sort(key=lambda w: w.id)
        return work[:limit]

    def waiting_keys(self, qid: str | None = None) -> dict[str, dict[int, float]]:
        """Contact keys of the deliveries in ``retry``: key -> {delivery id: next try}."""
        out: dict[str, dict[int, float]] = {}
        for delivery_id, keys, next_at in self.conn.execute(
            "SELECT delivery_id, keys, next_attempt_at FROM webhook_progress"
            " WHERE queue_id = ? AND state = 'retry'",
            (qid or self.identity(),),
        ):
            for key in json.loads(keys or "[]"):
                out.setdefault(key, {})[delivery_id] = next_at or 0.0
        return out

    # --- recording -----------------------------------------------------------

    def record(self, results: list[Result], now: float | None = None, qid: str | None = None):
        """Record a round's results in one transaction. A result that cannot be
        written (a value SQLite refuses) is recorded alone, as set aside, so it
        never stops the others; storage trouble raises (the round is redone)."""
        if not results:
            return
        now = time.time() if now is None else now
        qid = qid or self.identity()
        try:
            self._write(results, now, qid)
        except Exception as exc:
            if is_transient(exc):
                raise
            log.exception("recording a batch of deliveries failed; recording them one by one")
            for result in results:
                try:
                    self._write([result], now, qid)
                except Exception as one:
                    if is_transient(one):
                        raise
                    log.exception("delivery %s: its outcome cannot be recorded", result.work.id)
                    result.state, result.outcomes, result.keys = "failed", [], []
                    result.error = f"its outcome cannot be recorded: {_error(one)}"
                    self._write([result], now, qid)

    def _write(self, results: list[Result], now: float, qid: str) -> None:
        conn = self.conn
        with immediate(conn):
            settled = 0
            for r in results:
                w = r.work
                if r.state == "done":
                    conn.execute(
                        "DELETE FROM webhook_events WHERE queue_id = ? AND delivery_id = ?",
                        (qid, w.id),
                    )
                    conn.executemany(
                        "INSERT INTO webhook_events"
                        " (queue_id, delivery_id, idx, kind, outcome, ref, raw)"
                        " VALUES (?,?,?,?,?,?,?)",
                        [
                            (qid, w.id, i, o.kind, _text(o.outcome, 300), o.ref, _json(o.raw))
                            for i, o in enumerate(r.outcomes)
                        ],
                    )
                settled += r.state != "retry"
                conn.execute(
                    "INSERT OR REPLACE INTO webhook_progress (queue_id, delivery_id, state,"
                    " attempts, error, keys, received_at, since, next_attempt_at,"
                    " last_attempt_at, processed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        qid,
                        w.id,
                        r.state,
                        r.attempts,
                        _text(r.error) if r.error else None,
                        json.dumps(r.keys) if r.state == "retry" else None,
                        w.received_at,
                        w.since if w.since is not None else w.received_at,
                        r.next_attempt_at if r.state == "retry" else None,
                        now if r.attempted else None,
                        now,
                    ),
                )
            if settled:
                conn.execute(
                    "INSERT OR REPLACE INTO service_status (name, value, at) VALUES (?,?,?)",
                    ("last_progress", str(settled), now),
                )

    # --- what an operator sees -------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Deliveries per state: done, failed (set aside), rejected, pending (not
        settled yet, retries included); zeros left out."""
        qid = self.identity()
        progress = dict(
            self.conn.execute(
                "SELECT state, COUNT(*) FROM webhook_progress WHERE queue_id = ? GROUP BY state",
                (qid,),
            ).fetchall()
        )
        # Refused at the door counts as rejected at once, recorded or not.
        new, door = self.queue_conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(state = 'rejected'), 0) FROM webhook_deliveries"
            " WHERE id > ?",
            (self.cursor(qid),),
        ).fetchone()
        out = {
            "done": progress.get("done", 0),
            "failed": progress.get("failed", 0),
            "rejected": progress.get("rejected", 0) + door,
            "pending": new - door + progress.get("retry", 0),
        }
        return {k: v for k, v in out.items() if v}

    def lag(self, now: float | None = None) -> dict[str, Any]:
        """How far behind the runner is: pending deliveries, the oldest one's age,
        retries (and the last storage error they met), set-aside deliveries and
        when a delivery was last settled."""
        now = time.time() if now is None else now
        qid = self.identity()
        cursor = self.cursor(qid)
        new, new_oldest = self.queue_conn.execute(
            "SELECT COUNT(*), MIN(received_at) FROM webhook_deliveries WHERE id > ?"
            " AND state != 'rejected'",
            (cursor,),
        ).fetchone()
        retry, retry_oldest, attempted = self.conn.execute(
            "SELECT COUNT(*), MIN(received_at), SUM(attempts > 0) FROM webhook_progress"
            " WHERE queue_id = ? AND state = 'retry'",
            (qid,),
        ).fetchone()
        last_error = self.conn.execute(
            "SELECT error, last_attempt_at FROM webhook_progress WHERE queue_id = ?"
            " AND state = 'retry' AND attempts > 0 ORDER BY last_attempt_at DESC LIMIT 1",
            (qid,),
        ).fetchone()
        failed = self.conn.execute(
            "SELECT COUNT(*) FROM webhook_progress WHERE queue_id = ? AND state = 'failed'",
            (qid,),
        ).fetchone()[0]
        oldest = min((t for t in (new_oldest, retry_oldest) if t is not None), default=None)
        progress = self.status().get("last_progress")
        return {
            "pending": new + retry,
            "retrying": attempted or 0,
            "waiting_behind_retries": retry - (attempted or 0),
            "oldest_pending_age": None if oldest is None else max(0.0, now - oldest),
            "last_retry_error": last_error[0] if last_error else None,
            "last_retry_at": last_error[1] if last_error else None,
            "set_aside": failed,
            "last_progress_at": progress["at"] if progress else None,
        }

    def deliveries(self, state: str = "failed", limit: int = 100) -> list[dict[str, Any]]:
        """The deliveries in ``state`` (failed: set aside), newest first, with
        their error, tries and a preview of the body."""
        qid = self.identity()
        rows = self.conn.execute(
            "SELECT delivery_id, state, attempts, error, received_at, processed_at,"
            " next_attempt_at FROM webhook_progress WHERE queue_id = ? AND state = ?"
            " ORDER BY delivery_id DESC LIMIT ?",
            (qid, state, limit),
        ).fetchall()
        bodies = (
            dict(
                self.queue_conn.execute(
                    "SELECT id, substr(body, 1, 200) FROM webhook_deliveries"
                    f" WHERE id IN ({','.join('?' * len(rows))})",
                    [r[0] for r in rows],
                ).fetchall()
            )
            if rows
            else {}
        )
        return [
            {
                "id": r[0],
                "state": r[1],
                "attempts": r[2],
                "error": r[3],
                "received_at": r[4],
                "processed_at": r[5],
                "next_attempt_at": r[6],
                "body_preview": bytes(bodies.get(r[0]) or b"").decode("utf-8", "replace"),
            }
            for r in rows
        ]

    def replay(self, ids: Iterable[int] | None = None) -> list[int]:
        """Put set-aside deliveries back in line (all of them when ``ids`` is None);
        the runner processes them on its next round. Returns the ids replayed."""
        qid = self.identity()
        now = time.time()
        conn = self.conn
        with immediate(conn):
            if ids is None:
                chosen = [
                    r[0]
                    for r in conn.execute(
                        "SELECT delivery_id FROM webhook_progress"
                        " WHERE queue_id = ? AND state = 'failed'",
                        (qid,),
                    )
                ]
            else:
                wanted = list(dict.fromkeys(int(i) for i in ids))
                chosen = [
                    i
                    for i in wanted
                    if conn.execute(
                        "SELECT 1 FROM webhook_progress WHERE queue_id = ? AND delivery_id = ?"
                        " AND state = 'failed'",
                        (qid, i),
                    ).fetchone()
                ]
            conn.executemany(
                "UPDATE webhook_progress SET state = 'retry', attempts = 0, since = ?,"
                " next_attempt_at = ?, keys = NULL WHERE queue_id = ? AND delivery_id = ?",
                [(now, now, qid, i) for i in chosen],
            )
        return chosen

    def checkpoint(self) -> None:
        """Copy the queue's WAL back into its file without blocking its writers
        (they leave checkpoints, which fsync, to the runner)."""
        self.queue_conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def set_status(self, name: str, value: str) -> None:
        """Record a piece of runner status (e.g. the last tick's report)."""
        self.conn.execute(
            "INSERT OR REPLACE INTO service_status (name, value, at) VALUES (?,?,?)",
            (name, value, time.time()),
        )

    def status(self) -> dict[str, dict[str, Any]]:
        """The runner's status rows: name -> value and time."""
        rows = self.conn.execute("SELECT name, value, at FROM service_status").fetchall()
        return {name: {"value": value, "at": at} for name, value, at in rows}

    def events(self, delivery_id: int) -> list[dict[str, Any]]:
        """The stored events of one delivery, in order."""
        rows = self.conn.execute(
            "SELECT kind, outcome, ref, raw FROM webhook_events WHERE queue_id = ?"
            " AND delivery_id = ? ORDER BY idx",
            (self.identity(), delivery_id),
        ).fetchall()
        return [
            {"kind": k, "outcome": o, "ref": r, "raw": json.loads(raw) if raw else None}
            for k, o, r, raw in rows
        ]


# --- event -> inbox ---------------------------------------------------------------


def _contact_id(inbox: Inbox, contact: Any) -> int | None:
    found = inbox.conversation_for_contact(contact.wa_id, contact.user_id)
    return found.contact_id if found is not None else None


def _ingest(inbox: Inbox, event: Any, *, backfill: bool = False) -> tuple[str, str]:
    result = inbox.ingest(event.contact, event.message, backfill=backfill, raw=event.raw)
    return ("duplicate" if result.duplicate else "ingested"), event.message.id


def _applied(kind: str, stored: Any) -> str:
    # An edit, revoke or reaction of a message the inbox never stored (sent before
    # the service existed, or not delivered yet): the raw item is kept all the same.
    return f"{kind}_applied" if stored is not None else f"{kind}_unknown_message"


def apply_event(inbox: Inbox, event: Any) -> tuple[str, str | None]:
    """Hand one parsed webhook event to the inbox; returns (outcome, ref).

    Every kind is mapped here. Kinds the inbox has no entry point for are kept
    (the caller stores the raw item with outcome ``stored``) and acknowledged.
    """
    kind = event.kind
    if kind == "message":
        return _ingest(inbox, event)
    if kind == "echo":
        return _ingest(inbox, event)
    if kind == "history":
        return _ingest(inbox, event, backfill=True)
    if kind == "status":
        if event.status is None:  # a status name WhatsApp added after this code
            return "stored", event.message_id
        error = event.errors[0] if event.errors else None
        stored = inbox.apply_status(
            event.message_id,
            event.status,
            event.timestamp,
            error_code=error.code if error else None,
            error_title=(error.title or error.message) if error else None,
        )
        return ("status_applied" if stored is not None else "status_unknown_message"), (
            event.message_id
        )
    if kind == "edit":
        stored = inbox.apply_edit(
            event.original_message_id,
            event.message.text,
            event.timestamp,
            edit_id=event.edit_id,
        )
        return _applied("edit", stored), event.original_message_id
    if kind == "revoke":
        stored = inbox.apply_revoke(
            event.original_message_id, event.timestamp, revoke_id=event.revoke_id
        )
        return _applied("revoke", stored), event.original_message_id
    if kind == "reaction":
        if event.message_id is None:  # no message to put it on: the raw item is kept
            return "stored", None
        stored = inbox.apply_reaction(
            event.message_id,
            event.emoji,
            event.timestamp,
            direction=event.direction,
            reaction_id=event.reaction_id,
        )
        return _applied("reaction", stored), event.message_id
    if kind == "user_preferences":
        contact_id = _contact_id(inbox, event.contact)
        opted_in = None if event.opted_out is None else not event.opted_out
        if contact_id is None or opted_in is None:
            return "stored", event.contact.wa_id or event.contact.user_id
        inbox.set_consent(contact_id, event.category or "marketing_messages", opted_in, "whatsapp")
        return "consent_recorded", event.contact.wa_id or event.contact.user_id
    # system, app_state_sync, history_progress, account_update, platform_error, unknown:
    # nothing for the inbox to act on; the raw item is kept in webhook_events.
    return "stored", getattr(getattr(event, "contact", None), "wa_id", None)


def delivery_keys(parsed: WebhookParseResult) -> list[str]:
    """The contacts a delivery is about (phone or business-scoped user id): the
    deliveries of one contact are applied in the order they came."""
    keys: set[str] = set()
    for event in parsed.events:
        contact = getattr(event, "contact", None)
        for value in (
            getattr(contact, "wa_id", None),
            getattr(event, "recipient_id", None),
        ):
            if value:
                keys.add(f"wa:{value}")
        for value in (
            getattr(contact, "user_id", None),
            getattr(event, "recipient_user_id", None),
        ):
            if value:
                keys.add(f"user:{value}")
    return sorted(keys)


def apply_events(inbox: Inbox, parsed: WebhookParseResult) -> list[EventOutcome]:
    """Apply every event of a parsed delivery. An event the inbox refuses is kept
    with the reason; storage trouble and bugs raise (the caller retries the
    delivery or sets it aside)."""
    outcomes: list[EventOutcome] = []
    for event in parsed.events:
        try:
            outcome, ref = apply_event(inbox, event)
        except Exception as exc:
            if is_transient(exc) or not isinstance(exc, InboxError | ValueError):
                raise
            # a bad event: keep it, note why
            outcome, ref = _text(f"rejected: {type(exc).__name__}: {exc}", 300), None
        outcomes.append(EventOutcome(event.kind, outcome, ref, event.raw))
    for problem in parsed.errors:
        outcomes.append(
            EventOutcome(
                "parse_error", _text(f"{problem.where}: {problem.error}", 300), None, problem.raw
            )
        )
    return outcomes


def process_delivery(inbox: Inbox, body: bytes) -> list[EventOutcome]:
    """Parse one delivery and apply every event. Raises :class:`WebhookError` when
    the body as a whole is unreadable; storage trouble (see :func:`is_transient`)
    and bugs propagate."""
    return apply_events(inbox, parse_webhook(body))


def _handle(
    inbox: Inbox, work: Work, waiting: dict[str, dict[int, float]], now: float
) -> tuple[Result, bool]:
    """Process one delivery; returns its result and whether the round should
    stop here (storage trouble: the next ones are tried on the next round)."""
    if work.door_state == "rejected":  # refused at the door (not a JSON object): kept as is
        return Result(work, "rejected", error=work.door_error), False
    if work.door_state == "missing":
        return Result(work, "failed", error="the delivery is not in the queue file"), False
    try:
        parsed = parse_webhook(work.body)
    except WebhookError as exc:
        return Result(work, "failed", error=_text(str(exc)), attempted=True), False
    keys = delivery_keys(parsed)
    ahead = [
        (other, next_at)
        for key in keys
        for other, next_at in waiting.get(key, {}).items()
        if other < work.id
    ]
    if ahead:
        # An earlier delivery of the same contact waits for storage: wait behind it.
        other, next_at = min(ahead)
        for key in keys:
            waiting.setdefault(key, {})[work.id] = next_at
        error = f"waiting for delivery {other} of the same contact"
        return Result(
            work, "retry", error=error, attempts=work.attempts, keys=keys, next_attempt_at=next_at
        ), False
    try:
        outcomes = apply_events(inbox, parsed)
    except Exception as exc:
        if not is_transient(exc):
            log.exception("delivery %s cannot be processed; set aside", work.id)
            return Result(work, "failed", error=_error(exc), attempted=True), False
        attempts = work.attempts + 1
        since = work.since if work.since is not None else work.received_at
        if now - since > RETRY_WINDOW:
            log.error("delivery %s: storage trouble for too long; set aside: %s", work.id, exc)
            error = f"storage trouble for {(now - since) / 3600:.0f} h, {attempts} tries: "
            return Result(
                work, "failed", error=error + _error(exc), attempts=attempts, attempted=True
            ), False
        next_at = now + backoff(attempts)
        log.warning("delivery %s: storage trouble, try %s again later: %s", work.id, attempts, exc)
        for key in keys:
            waiting.setdefault(key, {})[work.id] = next_at
        return Result(
            work,
            "retry",
            error=_error(exc),
            attempts=attempts,
            keys=keys,
            next_attempt_at=next_at,
            attempted=True,
        ), True
    for key in keys:
        waiting.get(key, {}).pop(work.id, None)
    return Result(work, "done", outcomes, attempts=work.attempts + 1, attempted=True), False


def drain(inbox: Inbox, queue: DeliveryQueue, limit: int = 100, now: float | None = None) -> int:
    """Process the due retries and the next new deliveries, oldest first; returns
    how many were recorded (retries included). Storage trouble ends the round at
    the delivery that met it (it is retried later, the ones behind it go on next
    round); a delivery that cannot be processed is set aside at once."""
    now = time.time() if now is None else now
    qid = queue.verify()
    work = queue.next_work(limit, now, qid)
    queue.storage_trouble = False
    if not work:
        return 0
    waiting = queue.waiting_keys(qid)
    results: list[Result] = []
    for item in work:
        result, stop = _handle(inbox, item, waiting, now)
        results.append(result)
        if stop:
            queue.storage_trouble = True
            break
    queue.record(results, now, qid)
    return len(results)
