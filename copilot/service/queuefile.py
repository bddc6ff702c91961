"""The webhook queue's own SQLite file: its schema (a migration list of its
own), its identity, and noticing that the file at its path was replaced.

The queue file holds the raw deliveries only; the runner records its progress
in the inbox database, keyed by the queue's *identity*, a random id written
into the file when it is created. A deleted or recreated queue file therefore
gets a new identity and its deliveries are processed from its first one, never
skipped because an older file's count was further along.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

from sqlite_utils import Database, Migrations

from copilot.inbox.db import immediate

MIGRATION_SET = "lead_copilot_queue"

migrations = Migrations(MIGRATION_SET)


@migrations()
def q001_deliveries(db: Database) -> None:
    """The raw deliveries, as the webhook acknowledged them (``IF NOT EXISTS``:
    files written before this list existed already have the table)."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS webhook_deliveries (
            id INTEGER PRIMARY KEY,
            received_at REAL NOT NULL,
            body BLOB NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            error TEXT
        )
        """
    )


@migrations()
def q002_identity(db: Database) -> None:
    """The file's identity, recorded beside the runner's progress."""
    db.execute("CREATE TABLE queue_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO queue_meta (key, value) VALUES ('identity', ?)", (new_identity(),))


def new_identity() -> str:
    """A fresh random queue identity."""
    return uuid.uuid4().hex


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection to the queue file, created and migrated if needed.

    The queue has its own SQLite file, not the inbox's: appending a delivery
    never waits behind an inbox transaction (analysis, assignment).
    """
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        db = Database(conn)
        if migrations.pending(db):
            # Under the write lock, re-checked: several processes may create the file at once.
            with immediate(conn):
                if migrations.pending(db):
                    migrations.apply(db)
    except BaseException:
        conn.close()
        raise
    return conn


def identity(conn: sqlite3.Connection) -> str:
    """The identity of the queue file ``conn`` is open on."""
    return conn.execute("SELECT value FROM queue_meta WHERE key = 'identity'").fetchone()[0]


def rotate_identity(conn: sqlite3.Connection) -> str:
    """Give the file a new identity (its deliveries will all be processed again,
    harmlessly: the inbox calls are idempotent); returns it."""
    value = new_identity()
    conn.execute("UPDATE queue_meta SET value = ? WHERE key = 'identity'", (value,))
    return value


def path_of(conn: sqlite3.Connection) -> str:
    """The file a connection is open on."""
    return conn.execute("PRAGMA database_list").fetchone()[2]


def file_id(path: str | Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path``; None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class QueueFile:
    """A connection to the queue file that notices when the file at its path was
    deleted or replaced (a connection keeps writing into the old, unlinked file:
    deliveries stored there would never be read by a process started later)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.conn: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None

    def get(self) -> sqlite3.Connection:
        """The connection, reopened on the file now at the path if it changed."""
        if self.conn is not None and self.replaced():
            self.close()
        if self.conn is None:
            self.conn = connect(self.path)
            self._file = file_id(self.path)
        return self.conn

    def get_current(self) -> sqlite3.Connection:
        """The connection as it is, even on a file that was replaced since."""
        return self.conn if self.conn is not None else self.get()

    def replaced(self) -> bool:
        """True when the path no longer names the file this connection is open on."""
        return self.conn is not None and file_id(self.path) != self._file

    def close(self) -> None:
        """Close the connection (reopened on the next :meth:`get`)."""
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None
                self._file = None
