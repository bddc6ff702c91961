"""Open the inbox database: checks, pragmas and versioned schema migrations.

Migrations are sqlite-utils' :class:`~sqlite_utils.Migrations`: each one runs in
its own transaction and is recorded in ``_sqlite_migrations``, so opening an old
file upgrades it and opening a current one does nothing. Never edit a released
migration: add a new one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database, Migrations

from copilot.inbox.errors import InboxDatabaseError


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction on ``conn`` (a connection in autocommit mode) that takes
    SQLite's write lock at once (``BEGIN IMMEDIATE``), so concurrent writers wait
    their turn instead of failing half-way. Commits when the block ends (unless the
    block rolled back itself); on any error rolls back and re-raises it, and a
    failing rollback never hides that error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
    else:
        if conn.in_transaction:
            conn.execute("COMMIT")


#: Written into the file header (``PRAGMA application_id``): "LCOP".
APPLICATION_ID = 0x4C434F50
MIGRATION_SET = "lead_copilot_inbox"
_SQLITE_MAGIC = b"SQLite format 3\x00"

migrations = Migrations(MIGRATION_SET)


@migrations()
def m001_initial(db: Database) -> None:
    """The whole first schema."""
    t = db.table
    t("teams").create({"id": int, "name": str}, pk="id", not_null={"name"})
    t("teams").create_index(["name"], unique=True)
    t("agents").create(
        {
            "id": int,
            "name": str,
            "team_id": int,
            "role": str,
            "token_hash": str,
            "available": int,
            "shift": str,
            "max_open": int,
            "last_assigned_at": float,
            "active": int,
            "created_at": float,
        },
        pk="id",
        not_null={"name", "role", "token_hash"},
        defaults={"available": 0, "active": 1, "role": "agent"},
    )
    t("agents").create_index(["token_hash"], unique=True)
    t("agents").create_index(["team_id", "active", "available"])
    t("contacts").create(
        {
            "id": int,
            "wa_id": str,
            "user_id": str,
            "name": str,
            "username": str,
            "opted_out": int,
            "opted_out_at": float,
            "created_at": float,
        },
        pk="id",
        defaults={"opted_out": 0},
    )
    t("contacts").create_index(["wa_id"], unique=True)
    t("contacts").create_index(["user_id"], unique=True)
    # Opt-in per Meta category (marketing, utility...), with where and when it was given.
    t("consents").create(
        {"contact_id": int, "category": str, "opted_in": int, "source": str, "at": float},
        pk=("contact_id", "category"),
    )
    t("conversations").create(
        {
            "id": int,
            "contact_id": int,
            "status": str,
            "assignee_id": int,
            "team_id": int,
            "assigned_at": float,
            "stage": str,
            "lost_reason": str,
            "origin": str,
            "origin_source": str,
            "origin_evidence": str,
            "tags": str,
            "fields": str,
            "language": str,
            "last_intent": str,
            "handoff_needed": int,
            "handoff_reason": str,
            "human_took_over": int,
            "suggestions_paused": int,
            "first_inbound_at": float,
            "first_response_at": float,
            "first_response_by": int,
            "last_inbound_at": float,
            "last_outbound_at": float,
            "last_human_at": float,
            "window_closes_at": float,
            "waiting_since": float,
            "ack_sent_at": float,
            "ooh_sent_at": float,
            "last_seq": int,
            "last_message_id": str,
            "last_message_at": float,
            "last_message_text": str,
            "last_message_direction": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"contact_id", "status", "stage"},
        defaults={
            "status": "open",
            "stage": "new",
            "tags": "[]",
            "fields": "{}",
            "handoff_needed": 0,
            "human_took_over": 0,
            "suggestions_paused": 0,
            "last_seq": 0,
        },
    )
    # One conversation per lead.
    t("conversations").create_index(["contact_id"], unique=True)
    # The inbox list: an agent's open conversations, newest first.
    t("conversations").create_index(["assignee_id", "status", "last_message_at"])
    # The unassigned queue, oldest first.
    db.execute(
        "CREATE INDEX idx_conversations_queue ON conversations (created_at)"
        " WHERE assignee_id IS NULL AND status = 'open'"
    )
    # Conversations whose lead waits for an answer: the SLA clock.
    db.execute(
        "CREATE INDEX idx_conversations_waiting ON conversations (waiting_since)"
        " WHERE waiting_since IS NOT NULL"
    )
    t("messages").create(
        {
            "id": int,
            "wa_id": str,
            "conversation_id": int,
            "direction": str,
            "author": str,
            "agent_id": int,
            "type": str,
            "text": str,
            "ts": float,
            "extra": str,
            "raw": str,
            "status": str,
            "status_at": float,
            "error": str,
            "template": str,
            "backfill": int,
            "analysis_state": str,
            "created_at": float,
        },
        pk="id",
        not_null={"wa_id", "conversation_id", "direction", "author", "ts"},
        defaults={"backfill": 0},
    )
    # Idempotent ingest: the WhatsApp message id is the key.
    t("messages").create_index(["wa_id"], unique=True)
    t("messages").create_index(["conversation_id", "ts"])
    db.execute(
        "CREATE INDEX idx_messages_pending ON messages (id) WHERE analysis_state IN ('pending','failed')"
    )
    t("analyses").create(
        {
            "id": int,
            "message_seq": int,
            "message_id": str,
            "conversation_id": int,
            "engine": str,
            "prompt_version": str,
            "model": str,
            "intent": str,
            "handoff_needed": int,
            "handoff_reason": str,
            "template": str,
            "result": str,
            "latency_ms": float,
            "tokens_in": int,
            "tokens_out": int,
            "cost_usd": float,
            "created_at": float,
        },
        pk="id",
    )
    # Keyed by the message's storage order: nearly append-only, so cheap to maintain.
    t("analyses").create_index(["message_seq"])
    t("analyses").create_index(["created_at"])
    t("suggestions").create(
        {
            "id": int,
            "conversation_id": int,
            "message_id": str,
            "analysis_id": int,
            "template": str,
            "text": str,
            "language": str,
            "state": str,
            "agent_id": int,
            "final_text": str,
            "similarity": float,
            "reason": str,
            "sent_message_id": str,
            "created_at": float,
            "decided_at": float,
        },
        pk="id",
        defaults={"state": "proposed"},
    )
    t("suggestions").create_index(["conversation_id", "state"])
    t("suggestions").create_index(["created_at"])
    t("notes").create(
        {"id": int, "conversation_id": int, "agent_id": int, "text": str, "created_at": float},
        pk="id",
    )
    t("notes").create_index(["conversation_id"])
    t("tasks").create(
        {
            "id": int,
            "conversation_id": int,
            "kind": str,
            "title": str,
            "owner_id": int,
            "due_at": float,
            "state": str,
            "created_at": float,
            "closed_at": float,
        },
        pk="id",
        defaults={"state": "pending"},
    )
    t("tasks").create_index(["conversation_id", "state"])
    db.execute("CREATE INDEX idx_tasks_due ON tasks (due_at) WHERE state = 'pending'")
    for name in ("stage_history", "assignment_history"):
        t(name).create(
            {
                "id": int,
                "conversation_id": int,
                "at": float,
                "by": str,
                "action": str,
                "before": str,
                "after": str,
                "note": str,
            },
            pk="id",
        )
        t(name).create_index(["conversation_id"])
        t(name).create_index(["at"])
    t("audit_log").create(
        {
            "id": int,
            "at": float,
            "actor": str,
            "action": str,
            "entity": str,
            "entity_id": str,
            "detail": str,
        },
        pk="id",
    )
    t("audit_log").create_index(["entity", "entity_id"])
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


@migrations()
def m002_edits(db: Database) -> None:
    """Edits, deletions for everyone ("revokes") and reactions of stored messages.
    ``ADD COLUMN`` only: instant on a big file, no table rewrite."""
    db.execute("ALTER TABLE messages ADD COLUMN edited_at REAL")
    db.execute("ALTER TABLE messages ADD COLUMN revoked_at REAL")
    # JSON: who reacted ("lead" / "business") -> {"emoji": ..., "at": epoch}.
    db.execute("ALTER TABLE messages ADD COLUMN reactions TEXT")


@migrations()
def m003_corrections(db: Database) -> None:
    """Labels an agent corrected (intent, origin, handoff, fields): what the copilot
    predicted beside what the agent says, for the evals' data flywheel."""
    db["corrections"].create(
        {
            "id": int,
            "message_id": str,
            "conversation_id": int,
            "agent_id": int,
            "analysis_id": int,
            # JSON objects with the same keys: label -> value.
            "predicted": str,
            "corrected": str,
            "created_at": float,
        },
        pk="id",
        not_null={"message_id", "conversation_id", "agent_id", "corrected", "created_at"},
    )
    db["corrections"].create_index(["created_at"])
    db["corrections"].create_index(["message_id"])


@migrations()
def m004_tag_names(db: Database) -> None:
    """The tags in use, one row each, so the web inbox's tag filter reads a small
    table instead of every conversation's JSON."""
    db.execute("CREATE TABLE tag_names (name TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute(
        "INSERT OR IGNORE INTO tag_names (name) SELECT DISTINCT j.value"
        " FROM conversations c, json_each(c.tags) j"
        " WHERE c.tags IS NOT NULL AND c.tags != '[]' AND json_valid(c.tags)"
        " AND j.type = 'text'"
    )


@migrations()
def m005_open_by_recency(db: Database) -> None:
    """Open conversations newest first, for the lists that are not one agent's
    (an admin's "all", a team's): without it they read and sorted every row of
    the table (70 ms median on 100,000 conversations)."""
    db.execute(
        "CREATE INDEX idx_conversations_open_recent ON conversations (last_message_at, id)"
        " WHERE status = 'open'"
    )


@migrations()
def m006_metrics_indexes(db: Database) -> None:
    """Indexes for the metrics' date ranges, none of them touched by an inbound
    message of a known lead: 90 days of metrics on 100,000 conversations read
    every conversation and every message (2.7 s)."""
    db.execute("CREATE INDEX idx_conversations_created_at ON conversations (created_at)")
    db.execute("CREATE INDEX idx_conversations_first_inbound ON conversations (first_inbound_at)")
    # Conversations handled per agent: the agents' own messages only.
    db.execute(
        "CREATE INDEX idx_messages_agent_ts ON messages (ts, agent_id, conversation_id)"
        " WHERE author = 'agent'"
    )
    db.execute("CREATE INDEX idx_messages_template_ts ON messages (ts) WHERE template IS NOT NULL")
    # The handoff rate reads four small columns; the rows also hold the whole analysis.
    db.execute("DROP INDEX idx_analyses_created_at")
    db.execute(
        "CREATE INDEX idx_analyses_created_at ON analyses"
        " (created_at, conversation_id, handoff_needed, handoff_reason)"
    )


@migrations()
def m007_service_tables(db: Database) -> None:
    """The service's own tables, which it used to create beside the migrations:
    the webhook runner's progress per delivery (keyed by the queue file's
    identity, so a new queue file starts its own count), each event's outcome,
    status rows and leases. A file the service already wrote keeps its rows."""
    old_progress = db["webhook_progress"].exists()
    old_events = db["webhook_events"].exists()
    if old_progress:
        db.execute("ALTER TABLE webhook_progress RENAME TO webhook_progress_v1")
    if old_events:
        db.execute("DROP INDEX IF EXISTS webhook_events_ref")
        db.execute("ALTER TABLE webhook_events RENAME TO webhook_events_v1")
    # One row per delivery the runner looked at. state: done, failed (set aside:
    # kept with its error until replayed), rejected (refused at the door) or
    # retry (storage trouble, or waiting behind an earlier delivery of the same
    # contact). queue_id '' marks rows written before queue files had an identity.
    db.execute(
        """
        CREATE TABLE webhook_progress (
            queue_id TEXT NOT NULL,
            delivery_id INTEGER NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            keys TEXT,
            received_at REAL,
            since REAL,
            next_attempt_at REAL,
            last_attempt_at REAL,
            processed_at REAL NOT NULL,
            PRIMARY KEY (queue_id, delivery_id)
        )
        """
    )
    db.execute(
        "CREATE INDEX idx_webhook_progress_state ON webhook_progress"
        " (queue_id, state, next_attempt_at)"
    )
    db.execute(
        """
        CREATE TABLE webhook_events (
            id INTEGER PRIMARY KEY,
            queue_id TEXT NOT NULL,
            delivery_id INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            kind TEXT NOT NULL,
            outcome TEXT NOT NULL,
            ref TEXT,
            raw TEXT,
            UNIQUE (queue_id, delivery_id, idx)
        )
        """
    )
    db.execute("CREATE INDEX webhook_events_ref ON webhook_events (ref)")
    if old_progress:
        db.execute(
            "INSERT INTO webhook_progress (queue_id, delivery_id, state, attempts, error,"
            " processed_at) SELECT '', delivery_id, state, attempts, error, processed_at"
            " FROM webhook_progress_v1"
        )
        db.execute("DROP TABLE webhook_progress_v1")
    if old_events:
        db.execute(
            "INSERT INTO webhook_events (queue_id, delivery_id, idx, kind, outcome, ref, raw)"
            " SELECT '', delivery_id, idx, kind, outcome, ref, raw FROM webhook_events_v1"
        )
        db.execute("DROP TABLE webhook_events_v1")
    db.execute(
        "CREATE TABLE IF NOT EXISTS service_status"
        " (name TEXT PRIMARY KEY, value TEXT, at REAL NOT NULL)"
    )
    # A lease names its holder's process (boot id, pid, start time): a new
    # process on the same machine takes a dead holder's lease at once.
    if db["service_leases"].exists():
        if "process" not in db["service_leases"].columns_dict:
            db.execute("ALTER TABLE service_leases ADD COLUMN process TEXT")
    else:
        db.execute(
            "CREATE TABLE service_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
            " expires_at REAL NOT NULL, process TEXT)"
        )


@migrations()
def m008_close_and_snooze(db: Database) -> None:
    """How a conversation was closed (its outcome, when) and until when it sleeps.
    ``status`` gains ``snoozed``; ``ADD COLUMN`` only, so instant on a big file."""
    db.execute("ALTER TABLE conversations ADD COLUMN outcome TEXT")
    db.execute("ALTER TABLE conversations ADD COLUMN closed_at REAL")
    db.execute("ALTER TABLE conversations ADD COLUMN snoozed_until REAL")
    # The clock tick wakes what is due: a small partial index over the sleepers.
    db.execute(
        "CREATE INDEX idx_conversations_snoozed ON conversations (snoozed_until)"
        " WHERE status = 'snoozed'"
    )


@migrations()
def m009_reads(db: Database) -> None:
    """How far each agent has read each conversation (its ``last_seq`` when they
    last opened it): the unread markers and counts."""
    db.execute(
        "CREATE TABLE conversation_reads (agent_id INTEGER NOT NULL,"
        " conversation_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
        " PRIMARY KEY (agent_id, conversation_id)) WITHOUT ROWID"
    )


_SEARCH_TRIGGERS = (
    "CREATE TRIGGER message_search_ai AFTER INSERT ON messages WHEN new.text IS NOT NULL"
    " BEGIN INSERT INTO message_search (rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER message_search_ad AFTER DELETE ON messages WHEN old.text IS NOT NULL"
    " BEGIN INSERT INTO message_search (message_search, rowid, text)"
    " VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER message_search_au AFTER UPDATE OF text ON messages BEGIN"
    " INSERT INTO message_search (message_search, rowid, text)"
    " SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL;"
    " INSERT INTO message_search (rowid, text) SELECT new.id, new.text"
    " WHERE new.text IS NOT NULL; END",
    "CREATE TRIGGER contact_search_ai AFTER INSERT ON contacts BEGIN"
    " INSERT INTO contact_search (rowid, name, wa_id, user_id)"
    " VALUES (new.id, new.name, new.wa_id, new.user_id); END",
    "CREATE TRIGGER contact_search_ad AFTER DELETE ON contacts BEGIN"
    " INSERT INTO contact_search (contact_search, rowid, name, wa_id, user_id)"
    " VALUES ('delete', old.id, old.name, old.wa_id, old.user_id); END",
    "CREATE TRIGGER contact_search_au AFTER UPDATE OF name, wa_id, user_id ON contacts BEGIN"
    " INSERT INTO contact_search (contact_search, rowid, name, wa_id, user_id)"
    " VALUES ('delete', old.id, old.name, old.wa_id, old.user_id);"
    " INSERT INTO contact_search (rowid, name, wa_id, user_id)"
    " VALUES (new.id, new.name, new.wa_id, new.user_id); END",
)


@migrations()
def m010_search(db: Database) -> None:
    """Accent- and case-insensitive full-text indexes of contacts and messages
    (FTS5 over the tables' own rows), kept in step by triggers, filled once."""
    tokenize = "tokenize = 'unicode61 remove_diacritics 2'"
    db.execute(
        "CREATE VIRTUAL TABLE message_search USING fts5(text, content = 'messages',"
        f" content_rowid = 'id', {tokenize})"
    )
    db.execute(
        "CREATE VIRTUAL TABLE contact_search USING fts5(name, wa_id, user_id,"
        f" content = 'contacts', content_rowid = 'id', {tokenize})"
    )
    # An external-content index forgets a row by being told its old values.
    # One statement each: executescript would commit the migration's transaction.
    for trigger in _SEARCH_TRIGGERS:
        db.execute(trigger)
    db.execute("INSERT INTO message_search (message_search) VALUES ('rebuild')")
    db.execute("INSERT INTO contact_search (contact_search) VALUES ('rebuild')")


@migrations()
def m011_web_sessions(db: Database) -> None:
    """Web sessions that survive restarts and can all be ended at once: an epoch
    per agent (signing out everywhere moves it) and the inbox's own secrets
    (what signs the session cookies and derives the demo tokens)."""
    db.execute("ALTER TABLE agents ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "CREATE TABLE inbox_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
    )


@migrations()
def m012_quick_replies(db: Database) -> None:
    """Quick replies (canned responses): a shortcut and a text, for one team or
    (no team) for everyone."""
    db["quick_replies"].create(
        {
            "id": int,
            "team_id": int,
            "shortcut": str,
            "text": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"shortcut", "text", "created_at"},
    )
    db["quick_replies"].create_index(["team_id", "shortcut"])


@migrations()
def m013_synced_templates(db: Database) -> None:
    """The Meta-approved templates last read from the WhatsApp Business Account
    (``lead-copilot templates sync``), by name and language."""
    db.execute(
        "CREATE TABLE synced_templates (name TEXT NOT NULL, language TEXT NOT NULL,"
        " category TEXT NOT NULL, body TEXT NOT NULL, variables TEXT NOT NULL,"
        " synced_at REAL NOT NULL, PRIMARY KEY (name, language)) WITHOUT ROWID"
    )


#: Files whose header this process already checked (see ``_check_file``).
_HEADER_CHECKED: set[str] = set()


def _check_file(path: Path) -> None:
    # Closing any descriptor of a file drops every POSIX lock this process holds on
    # it, including SQLite's: another process could then delete the WAL under our
    # open connections. So read the header once per process, before connecting.
    key = str(path.resolve())
    if key in _HEADER_CHECKED:
        return
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as fh:
        head = fh.read(len(_SQLITE_MAGIC))
    if head != _SQLITE_MAGIC:
        raise InboxDatabaseError(
            f"{path}: not a SQLite database (wrong file header); "
            "point the inbox at a new path or at a Lead Copilot database"
        )
    _HEADER_CHECKED.add(key)


def _check_schema(db: Database, label: str) -> None:
    try:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = set(db.table_names())
    except sqlite3.DatabaseError as exc:
        raise InboxDatabaseError(f"{label}: the database file is corrupt: {exc}") from exc
    if app_id not in (0, APPLICATION_ID):
        raise InboxDatabaseError(
            f"{label}: belongs to another application (application_id {app_id:#x})"
        )
    user_tables = {t for t in tables if not t.startswith(("sqlite_", "_sqlite_migrations"))}
    if not user_tables:
        return
    applied = set()
    if "_sqlite_migrations" in tables:
        applied = {m.name for m in migrations.applied(db)}
    if not applied:
        sample = ", ".join(sorted(user_tables)[:5])
        raise InboxDatabaseError(
            f"{label}: holds another application's tables ({sample}), not a Lead Copilot inbox"
        )
    known = {m.name for m in migrations._migrations}
    unknown = applied - known
    if unknown:
        raise InboxDatabaseError(
            f"{label}: written by a newer Lead Copilot (migrations {', '.join(sorted(unknown))}); "
            "upgrade the package"
        )


def open_db(
    path: str | Path = ":memory:",
    *,
    synchronous: str = "NORMAL",
    autocheckpoint_pages: int = 20_000,
) -> Database:
    """Open (creating and migrating if needed) the inbox database at ``path``.

    ``":memory:"`` gives a private in-memory database (tests). Files use WAL mode;
    ``synchronous=NORMAL`` keeps every committed transaction through a process
    crash (SIGKILL); pass ``"FULL"`` to also survive power loss at some cost.
    The WAL is checkpointed by :func:`checkpoint` (the clock tick calls it) and
    only as a fallback every ``autocheckpoint_pages`` pages, so ingest does not
    pay for a checkpoint's fsync every few dozen messages.
    Raises :class:`InboxDatabaseError` for a corrupt, foreign or newer file.
    """
    memory = str(path) == ":memory:"
    label = str(path)
    if not memory:
        _check_file(Path(path))
    try:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a writer
        # takes the lock up front instead of failing to upgrade a read lock.
        conn = sqlite3.connect(
            ":memory:" if memory else str(path), timeout=30, isolation_level=None
        )
        db = Database(conn)
        _check_schema(db, label)
        if not memory:
            db.enable_wal()
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise InboxDatabaseError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        db.execute(f"PRAGMA synchronous = {synchronous}")
        db.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint_pages)}")
        db.execute("PRAGMA journal_size_limit = 67108864")
        db.execute("PRAGMA temp_store = MEMORY")
        db.execute("PRAGMA cache_size = -65536")
        # Read pages through a memory map: fewer syscalls on a database bigger than the cache.
        db.execute("PRAGMA mmap_size = 268435456")
        if migrations.pending(db):
            _migrate(db)
    except sqlite3.DatabaseError as exc:
        raise InboxDatabaseError(f"{label}: cannot open the database: {exc}") from exc
    return db


def _migrate(db: Database) -> None:
    """Apply the pending migrations under the write lock, taken before anything
    is read: several processes opening a new file at once (the service's workers)
    queue here, and the ones after the first find nothing left to do. (Reading
    first and writing after fails at once in WAL mode when another process wrote
    in between, whatever the busy timeout.)"""
    conn = db.conn
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if migrations.pending(db):
            migrations.apply(db)  # each migration nests as a savepoint
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def check_integrity(db: Database) -> list[str]:
    """Run SQLite's ``quick_check``; an empty list means the file is sound."""
    rows = [r[0] for r in db.execute("PRAGMA quick_check").fetchall()]
    return [] if rows == ["ok"] else rows


def checkpoint(db: Database) -> tuple[int, int]:
    """Copy the WAL back into the database file without blocking writers
    (``PRAGMA wal_checkpoint(PASSIVE)``); returns (WAL pages, pages copied)."""
    busy, log, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    del busy
    return log, copied


class Checkpointer:
    """Checkpoints the WAL from a background thread on its own connection, so
    writers never stall on a checkpoint's fsync (SQLite's advice for
    latency-sensitive writers). Start one per database file and process:

        with Checkpointer("inbox.db"):
            ...  # ingest

    A passive checkpoint never waits for anyone, but under steady writes it
    never catches up with the end of the WAL either, so SQLite never starts the
    WAL over and the file only grows (400 MB in 5,500 bench ingests). Past
    ``max_wal_bytes`` the thread tries a TRUNCATE checkpoint instead, which
    empties the WAL. It holds the write lock while it waits for readers, so it
    waits at most ``truncate_wait_ms``: a long read (a big metrics page) makes it
    give up until the next interval rather than stall every writer behind it.
    """

    def __init__(
        self,
        path: str | Path,
        interval: float = 1.0,
        max_wal_bytes: int = 64 * 1024 * 1024,
        truncate_wait_ms: int = 100,
    ) -> None:
        self.path = str(path)
        self.interval = interval
        self.max_wal_bytes = max_wal_bytes
        self.truncate_wait_ms = truncate_wait_ms
        self.runs = 0
        self.truncations = 0  # TRUNCATE checkpoints that completed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _wal_bytes(self) -> int:
        try:
            return os.path.getsize(self.path + "-wal")
        except OSError:
            return 0

    def _run(self) -> None:
        # A short busy timeout: this connection only ever waits in a TRUNCATE,
        # and there every millisecond it waits, writers wait too.
        conn = sqlite3.connect(
            self.path, timeout=self.truncate_wait_ms / 1000, isolation_level=None
        )
        try:
            while not self._stop.wait(self.interval):
                try:
                    # Passive first, always: it copies nearly everything without
                    # blocking anyone, so a TRUNCATE after it holds the lock briefly.
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if self._wal_bytes() > self.max_wal_bytes:
                        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                        self.truncations += not busy
                    self.runs += 1
                except sqlite3.OperationalError:  # busy: try again next interval
                    continue
        finally:
            conn.close()

    def start(self) -> Checkpointer:
        """Start the background thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Checkpointer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
