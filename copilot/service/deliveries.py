"""The webhook delivery queue: store first, process after the response.

``POST /webhooks/whatsapp`` only verifies the signature and appends the raw body
to ``webhook_deliveries`` in the queue's own SQLite file (group-committed by
:class:`DeliveryWriter`, before the 200). Only the HTTP workers ever write that
file. The background runner reads it (a WAL reader never blocks a writer),
parses each delivery, hands every event to the inbox and records its progress
and each event's outcome, beside the raw item, in the *inbox* database
(``webhook_progress``, ``webhook_events``): a low-priority runner therefore never
holds a lock the webhook needs. Nothing Meta sent is dropped, whatever its kind.
Deliveries are processed in id order from the last recorded one, so after a
crash the runner resumes where it stopped; the inbox calls are idempotent
(message ids are unique, statuses only move forward), so redoing one is harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from copilot.inbox import Inbox, InboxDatabaseError, InboxError
from copilot.integrations.whatsapp import WebhookError, parse_webhook

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5

QUEUE_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    error TEXT
);
"""

#: the runner's tables, in the inbox database
STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_progress (
    delivery_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    error TEXT,
    processed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_events (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    ref TEXT,
    raw TEXT,
    UNIQUE (delivery_id, idx)
);
CREATE INDEX IF NOT EXISTS webhook_events_ref ON webhook_events (ref);
CREATE TABLE IF NOT EXISTS service_status (
    name TEXT PRIMARY KEY,
    value TEXT,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS service_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""


def _open(path: str | Path, schema: str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 30000")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(schema)
    return conn


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection to the queue file (created with its table if missing).

    The queue has its own SQLite file, not the inbox's: appending a delivery
    never waits behind an inbox transaction (analysis, assignment).
    """
    return _open(path, QUEUE_SCHEMA)


def connect_state(inbox_db: str | Path) -> sqlite3.Connection:
    """A connection to the inbox database with the runner's tables (created if
    missing). Open the :class:`Inbox` on the file first: it migrates the schema."""
    return _open(inbox_db, STATE_SCHEMA)


@dataclass(frozen=True)
class EventOutcome:
    """What the service did with one event of a delivery."""

    kind: str
    outcome: str
    ref: str | None
    raw: Any


class DeliveryQueue:
    """Read the queue file, record progress and outcomes in the state database."""

    def __init__(self, queue_conn: sqlite3.Connection, state_conn: sqlite3.Connection) -> None:
        self.queue_conn = queue_conn
        self.conn = state_conn
        self._attempts: dict[int, int] = {}

    def append(self, body: bytes, state: str = "pending", error: str | None = None) -> int:
        """Store one delivery synchronously (tests, tools; the service uses
        :class:`DeliveryWriter`)."""
        cur = self.queue_conn.execute(
            "INSERT INTO webhook_deliveries (received_at, body, state, error) VALUES (?,?,?,?)",
            (time.time(), body, state, error),
        )
        return cur.lastrowid

    def cursor(self) -> int:
        """The id of the last delivery the runner recorded (0: none)."""
        row = self.conn.execute("SELECT MAX(delivery_id) FROM webhook_progress").fetchone()
        return row[0] or 0

    def next_batch(self, limit: int = 100) -> list[tuple[int, bytes, str, str | None]]:
        """The deliveries after the cursor, oldest first: (id, body, state, error)."""
        return self.queue_conn.execute(
            "SELECT id, body, state, error FROM webhook_deliveries WHERE id > ? ORDER BY id"
            " LIMIT ?",
            (self.cursor(), limit),
        ).fetchall()

    def finish_many(self, results: list[tuple[int, str, list[EventOutcome], str | None]]) -> None:
        """Record (delivery id, state, outcomes, error) for a batch, in one transaction."""
        if not results:
            return
        conn = self.conn
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for delivery_id, state, outcomes, error in results:
                conn.execute("DELETE FROM webhook_events WHERE delivery_id = ?", (delivery_id,))
                conn.executemany(
                    "INSERT INTO webhook_events (delivery_id, idx, kind, outcome, ref, raw)"
                    " VALUES (?,?,?,?,?,?)",
                    [
                        (
                            delivery_id,
                            i,
                            o.kind,
                            o.outcome,
                            o.ref,
                            json.dumps(o.raw, ensure_ascii=False, default=str),
                        )
                        for i, o in enumerate(outcomes)
                    ],
                )
                conn.execute(
                    "INSERT OR REPLACE INTO webhook_progress"
                    " (delivery_id, state, attempts, error, processed_at) VALUES (?,?,?,?,?)",
                    (delivery_id, state, self._attempts.pop(delivery_id, 1), error, now),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def failed_attempt(self, delivery_id: int) -> bool:
        """Count a transient failure; True when the delivery should be given up."""
        self._attempts[delivery_id] = self._attempts.get(delivery_id, 0) + 1
        return self._attempts[delivery_id] >= MAX_ATTEMPTS

    def counts(self) -> dict[str, int]:
        """Deliveries per state: pending, done, failed, rejected (zeros left out)."""
        received = self.queue_conn.execute(
            "SELECT COUNT(*), MAX(id) FROM webhook_deliveries"
        ).fetchone()
        rejected = self.queue_conn.execute(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'rejected'"
        ).fetchone()[0]
        progress = dict(
            self.conn.execute(
                "SELECT state, COUNT(*) FROM webhook_progress WHERE state != 'rejected'"
                " GROUP BY state"
            ).fetchall()
        )
        recorded_rejected = self.conn.execute(
            "SELECT COUNT(*) FROM webhook_progress WHERE state = 'rejected'"
        ).fetchone()[0]
        out = {
            **progress,
            "rejected": rejected,
            "pending": received[0] - sum(progress.values()) - max(rejected, recorded_rejected),
        }
        return {k: v for k, v in out.items() if v}

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
            "SELECT kind, outcome, ref, raw FROM webhook_events WHERE delivery_id = ? ORDER BY idx",
            (delivery_id,),
        ).fetchall()
        return [
            {"kind": k, "outcome": o, "ref": r, "raw": json.loads(raw)} for k, o, r, raw in rows
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


def process_delivery(inbox: Inbox, body: bytes) -> list[EventOutcome]:
    """Parse one delivery and apply every event. Raises :class:`WebhookError` when
    the body as a whole is unreadable and :class:`InboxDatabaseError` /
    :class:`sqlite3.OperationalError` for transient storage trouble (retry)."""
    parsed = parse_webhook(body)
    outcomes: list[EventOutcome] = []
    for event in parsed.events:
        try:
            outcome, ref = apply_event(inbox, event)
        except (InboxDatabaseError, sqlite3.OperationalError):
            raise
        except (InboxError, ValueError) as exc:  # a bad event: keep it, note why
            outcome, ref = f"rejected: {type(exc).__name__}: {exc}"[:300], None
        outcomes.append(EventOutcome(event.kind, outcome, ref, event.raw))
    for problem in parsed.errors:
        outcomes.append(
            EventOutcome(
                "parse_error", f"{problem.where}: {problem.error}"[:300], None, problem.raw
            )
        )
    return outcomes


def drain(inbox: Inbox, queue: DeliveryQueue, limit: int = 100) -> int:
    """Process the next batch of deliveries in order; returns how many were
    recorded. A transient storage error stops the batch there (retried next
    round, given up after :data:`MAX_ATTEMPTS`)."""
    results: list[tuple[int, str, list[EventOutcome], str | None]] = []
    for delivery_id, body, state, error in queue.next_batch(limit):
        if state == "rejected":  # refused at the door (not a JSON object): kept as is
            results.append((delivery_id, "rejected", [], error))
            continue
        try:
            outcomes = process_delivery(inbox, bytes(body))
        except WebhookError as exc:
            results.append((delivery_id, "failed", [], str(exc)[:500]))
        except Exception as exc:  # storage busy, or a bug: keep the body, retry later
            if isinstance(exc, InboxDatabaseError | sqlite3.OperationalError):
                log.warning("delivery %s: storage busy, will retry: %s", delivery_id, exc)
            else:
                log.exception("delivery %s could not be processed", delivery_id)
            if not queue.failed_attempt(delivery_id):
                break
            results.append((delivery_id, "failed", [], f"{type(exc).__name__}: {exc}"[:500]))
        else:
            results.append((delivery_id, "done", outcomes, None))
    queue.finish_many(results)
    return len(results)


class DeliveryWriter:
    """Appends webhook deliveries from the event loop without blocking it.

    One thread per process owns a queue connection and commits whatever arrived
    meanwhile in one transaction (group commit); each request awaits its own
    delivery's commit, so the 200 still goes out only once the body is stored.
    SQLite lock waits and WAL checkpoints happen in this thread, never on the loop.
    """

    def __init__(self, path: str | Path, max_batch: int = 256) -> None:
        self.path = path
        self.max_batch = max_batch
        self._items: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def append(self, body: bytes, state: str = "pending", error: str | None = None) -> int:
        """Store one delivery; returns its id once committed."""
        self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._items.put((body, state, error, future, loop))
        return await future

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    thread = threading.Thread(
                        target=self._run, name="copilot-webhook-writer", daemon=True
                    )
                    thread.start()
                    self._thread = thread

    def close(self, timeout: float = 5.0) -> None:
        """Finish what is queued, then stop the thread."""
        if self._thread is not None:
            self._items.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        conn = connect(self.path)
        # Checkpoints (which fsync) are the runner's job, not the webhook path's.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            while True:
                item = self._items.get()
                if item is None:
                    return
                batch = [item]
                while len(batch) < self.max_batch:
                    try:
                        nxt = self._items.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        self._items.put(None)  # stop after this batch
                        break
                    batch.append(nxt)
                self._commit(conn, batch)
        finally:
            conn.close()

    @staticmethod
    def _commit(conn: sqlite3.Connection, batch: list) -> None:
        now = time.time()
        try:
            conn.execute("BEGIN IMMEDIATE")
            ids = [
                conn.execute(
                    "INSERT INTO webhook_deliveries (received_at, body, state, error)"
                    " VALUES (?,?,?,?)",
                    (now, body, state, error),
                ).lastrowid
                for body, state, error, _, _ in batch
            ]
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _, _, _, future, loop in batch:
                loop.call_soon_threadsafe(_resolve, future, None, exc)
            return
        for (_, _, _, future, loop), delivery_id in zip(batch, ids, strict=True):
            loop.call_soon_threadsafe(_resolve, future, delivery_id, None)


def _resolve(future: asyncio.Future, value: Any, exc: BaseException | None) -> None:
    if future.done():  # the client went away meanwhile; the delivery is stored anyway
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(value)
