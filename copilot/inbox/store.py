"""The storage layer every inbox part builds on: transactions, audit, reads.

:class:`InboxStore` holds the connection, the profile, the configuration and the
clock; the other modules add their methods on top of it as mixins.
Timestamps are stored as epoch seconds (UTC) and returned as aware datetimes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from copilot.inbox.access import Actor, visible_sql
from copilot.inbox.clock import Clock, SystemClock
from copilot.inbox.db import Checkpointer, open_db
from copilot.inbox.errors import InboxDatabaseError, NotFoundError
from copilot.inbox.listing import (
    SUMMARY_COLUMNS,
    ConversationQuery,
    list_conversations,
    summaries,
)
from copilot.inbox.models import (
    AuditEntry,
    ConversationDetail,
    ConversationSummary,
    HistoryEntry,
    InboxConfig,
    Note,
    StoredMessage,
    from_epoch,
    to_epoch,
)
from copilot.profile import BusinessProfile, load_profile

_FROM = " FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
_SUMMARY_TIMES = ("last_message_at", "waiting_since", "snoozed_until")
_DETAIL_TIMES = (
    *_SUMMARY_TIMES,
    "first_inbound_at",
    "first_response_at",
    "last_inbound_at",
    "last_outbound_at",
    "window_closes_at",
    "created_at",
)


#: The newest analysis of a conversation, found through its messages (CROSS JOIN
#: keeps that order) on index entries alone, then read by its id: analyses has
#: no index by conversation, and scanning it backwards for an old conversation
#: took 22 ms on 100,000 analyses, growing with the table.
LATEST_ANALYSIS_SQL = (
    "SELECT message_id, engine, prompt_version, model, result, created_at FROM analyses"
    " WHERE id = (SELECT MAX(a.id) FROM messages m CROSS JOIN analyses a"
    " ON a.message_seq = m.id WHERE m.conversation_id = ?)"
)


def current_reactions(stored: str | None) -> dict[str, str]:
    """The reactions column (who -> {"emoji", "at"}) as who -> emoji, removals left out."""
    if not stored:
        return {}
    return {who: r["emoji"] for who, r in json.loads(stored).items() if r.get("emoji")}


def actor_of(agent_id: int | None) -> str:
    """How an agent (or the system, for ``None``) is named in history and audit."""
    return "system" if agent_id is None else f"agent:{agent_id}"


class InboxStore:
    """Connection, configuration and the shared reads of the inbox."""

    def __init__(
        self,
        db: Database | str | Path = ":memory:",
        *,
        profile: BusinessProfile | None = None,
        config: InboxConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.db = db if isinstance(db, Database) else open_db(db)
        self.conn: sqlite3.Connection = self.db.conn
        self.profile = profile or load_profile()
        self.config = config or InboxConfig()
        self.clock = clock or SystemClock()
        self._checkpointer: Checkpointer | None = None

    def close(self) -> None:
        """Close the database connection (and stop the checkpointer, if started)."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.db.close()

    def start_checkpointer(self, interval: float = 1.0) -> None:
        """Checkpoint the WAL from a background thread every ``interval`` seconds, so
        ingest never pays for a checkpoint inline. The inline automatic checkpoint
        stays as a safety net, only much later (100,000 pages)."""
        if self.db.memory or self._checkpointer is not None:
            return
        path = self.conn.execute("PRAGMA database_list").fetchone()[2]
        self._checkpointer = Checkpointer(path, interval).start()
        self.conn.execute("PRAGMA wal_autocheckpoint = 100000")

    # --- plumbing -------------------------------------------------------

    def _now(self) -> float:
        return to_epoch(self.clock.now())

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock at once (BEGIN IMMEDIATE),
        so concurrent writers queue instead of failing half-way."""
        conn = self.conn
        if conn.in_transaction:  # nested: join the outer transaction
            yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise InboxDatabaseError(f"cannot write to the inbox database: {exc}") from exc
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            if conn.in_transaction:  # a body may have rolled back on purpose
                conn.execute("COMMIT")

    def _audit(
        self,
        actor: str,
        action: str,
        entity: str,
        entity_id: Any = None,
        at: float | None = None,
        **detail: Any,
    ) -> None:
        self.conn.execute(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                self._now() if at is None else at,
                actor,
                action,
                entity,
                None if entity_id is None else str(entity_id),
                json.dumps(detail, default=str, ensure_ascii=False) if detail else None,
            ),
        )

    def _history(
        self,
        table: str,
        conversation_id: int,
        by: str,
        action: str,
        before: Any,
        after: Any,
        note: str | None = None,
        at: float | None = None,
    ) -> None:
        self.conn.execute(
            f"INSERT INTO {table} (conversation_id, at, by, action, before, after, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                conversation_id,
                self._now() if at is None else at,
                by,
                action,
                None if before is None else str(before),
                None if after is None else str(after),
                note,
            ),
        )

    def _row(self, sql: str, params: tuple = ()) -> dict[str, Any] | None:
        cur = self.conn.execute(sql, params)
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def _rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def _conversation_row(self, conversation_id: int) -> dict[str, Any]:
        row = self._row("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            raise NotFoundError(f"no conversation {conversation_id}")
        return row

    # --- reads ------------------------------------------------------------

    @staticmethod
    def _summary(row: dict[str, Any], times: tuple[str, ...] = _SUMMARY_TIMES) -> dict:
        out = dict(row)
        for name in times:
            out[name] = from_epoch(out.get(name))
        out["handoff_needed"] = bool(out.get("handoff_needed"))
        out["opted_out"] = bool(out.get("opted_out"))
        return out

    def list_conversations(
        self,
        agent_id: int | None = None,
        *,
        status: str = "open",
        queue: bool = False,
        team: str | None = None,
        limit: int = 50,
        before: datetime | None = None,
    ) -> list[ConversationSummary]:
        """The inbox list, newest activity first, with no access limit (the
        service lists through :func:`copilot.inbox.listing.list_conversations`
        with the caller as actor).

        ``agent_id`` gives one agent's conversations; ``queue=True`` the unassigned
        ones (longest waiting first, the order they are served in); ``before`` pages back.
        """
        if queue:
            view, agent_id = "unassigned", None
        else:
            view = "all"
        query = ConversationQuery(
            view=view, status=status, assignee_id=agent_id, team=team, before=before, limit=limit
        )
        return summaries(list_conversations(self, query, None))

    def conversation(self, conversation_id: int) -> ConversationDetail:
        """Everything about one conversation (raises :class:`NotFoundError`)."""
        row = self._row(
            f"SELECT {SUMMARY_COLUMNS}, c.origin, c.origin_source, c.origin_evidence, c.tags,"
            " c.fields, c.language, c.last_intent, c.human_took_over, c.suggestions_paused,"
            " c.first_inbound_at, c.first_response_at, c.last_inbound_at, c.last_outbound_at,"
            f" c.window_closes_at, c.created_at{_FROM} WHERE c.id = ?",
            (conversation_id,),
        )
        if row is None:
            raise NotFoundError(f"no conversation {conversation_id}")
        out = self._summary(row, _DETAIL_TIMES)
        out["tags"] = json.loads(out["tags"] or "[]")
        out["fields"] = json.loads(out["fields"] or "{}")
        out["human_took_over"] = bool(out["human_took_over"])
        out["suggestions_paused"] = bool(out["suggestions_paused"])
        return ConversationDetail.model_validate(out)

    def conversation_for_contact(self, wa_id: str | None = None, user_id: str | None = None):
        """The conversation of a contact given by phone or business-scoped id, or None."""
        # One indexed lookup per key: "wa_id = ? OR user_id = ?" scanned every contact.
        row = None
        for column, value in (("wa_id", wa_id), ("user_id", user_id)):
            if value and row is None:
                row = self._row(
                    "SELECT c.id FROM contacts ct JOIN conversations c ON c.contact_id = ct.id"
                    f" WHERE ct.{column} = ?",
                    (value,),
                )
        return self.conversation(row["id"]) if row else None

    @staticmethod
    def _message(row: dict[str, Any]) -> StoredMessage:
        return StoredMessage(
            id=row["wa_id"],
            seq=row["id"],
            conversation_id=row["conversation_id"],
            direction=row["direction"],
            author=row["author"],
            agent_id=row["agent_id"],
            type=row["type"] or "text",
            text=row["text"],
            timestamp=from_epoch(row["ts"]),
            status=row["status"],
            error=row["error"],
            template=row["template"],
            backfill=bool(row["backfill"]),
            analysis_state=row["analysis_state"],
            edited_at=from_epoch(row.get("edited_at")),
            revoked_at=from_epoch(row.get("revoked_at")),
            reactions=current_reactions(row.get("reactions")),
        )

    def messages(self, conversation_id: int, *, limit: int = 100) -> list[StoredMessage]:
        """The latest ``limit`` messages of a conversation, oldest first."""
        rows = self._rows(
            "SELECT * FROM (SELECT * FROM messages WHERE conversation_id = ?"
            " ORDER BY ts DESC, id DESC LIMIT ?) ORDER BY ts, id",
            (conversation_id, limit),
        )
        return [self._message(r) for r in rows]

    def message(self, message_id: str) -> StoredMessage:
        """One message by its WhatsApp (or local) id."""
        row = self._row("SELECT * FROM messages WHERE wa_id = ?", (message_id,))
        if row is None:
            raise NotFoundError(f"no message {message_id!r}")
        return self._message(row)

    def latest_analysis(self, conversation_id: int) -> dict[str, Any] | None:
        """The newest stored analysis of a conversation: the message it is about,
        engine, prompt version, model, time and the analysis itself (a dict)."""
        row = self._row(LATEST_ANALYSIS_SQL, (conversation_id,))
        if row is None:
            return None
        row["created_at"] = from_epoch(row["created_at"])
        row["result"] = json.loads(row["result"]) if row["result"] else None
        return row

    def add_note(self, conversation_id: int, agent_id: int | None, text: str) -> Note:
        """Add an internal note (never sent to the lead)."""
        self._conversation_row(conversation_id)
        now = self._now()
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO notes (conversation_id, agent_id, text, created_at) VALUES (?,?,?,?)",
                (conversation_id, agent_id, text, now),
            )
            self._audit(actor_of(agent_id), "note", "conversation", conversation_id, text=text)
        return Note(
            id=cur.lastrowid,
            conversation_id=conversation_id,
            agent_id=agent_id,
            text=text,
            created_at=from_epoch(now),
        )

    def notes(self, conversation_id: int) -> list[Note]:
        """Internal notes of a conversation, oldest first."""
        rows = self._rows(
            "SELECT * FROM notes WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        return [
            Note(
                id=r["id"],
                conversation_id=r["conversation_id"],
                agent_id=r["agent_id"],
                text=r["text"],
                created_at=from_epoch(r["created_at"]),
            )
            for r in rows
        ]

    def tags_in_use(self, limit: int = 200, *, visible_to: Actor | None = None) -> list[str]:
        """The tags some conversation carries, in alphabetical order. ``visible_to``:
        only the tags of the open conversations that actor may read."""
        if visible_to is not None and not visible_to.is_admin:
            # Another team's tags name its leads' business, so they come off the
            # conversations the agent may open, not the shared index; only the
            # open ones (their partial index), so the cost follows the day's
            # work, not the size of the file.
            where, params = visible_sql(visible_to)
            rows = self.conn.execute(
                "SELECT DISTINCT j.value FROM conversations c, json_each(c.tags) j"
                " WHERE c.status = 'open' AND c.tags IS NOT NULL AND c.tags != '[]'"
                f" AND {where} ORDER BY 1 LIMIT ?",
                (*params, limit),
            ).fetchall()
            return [r[0] for r in rows]
        rows = self.conn.execute(
            "SELECT name FROM tag_names ORDER BY name LIMIT ?", (limit,)
        ).fetchall()
        return [r[0] for r in rows]

    def set_tags(
        self, conversation_id: int, add: list[str] = (), remove: list[str] = (), *, agent_id=None
    ) -> list[str]:
        """Add and remove tags; returns the conversation's tags."""
        with self._tx() as conn:
            row = self._conversation_row(conversation_id)
            tags = [t for t in json.loads(row["tags"] or "[]") if t not in set(remove)]
            tags += [t for t in add if t not in tags]
            conn.execute(
                "UPDATE conversations SET tags = ?, updated_at = ? WHERE id = ?",
                (json.dumps(tags, ensure_ascii=False), self._now(), conversation_id),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO tag_names (name) VALUES (?)", [(t,) for t in add]
            )
            # A tag no conversation carries any more leaves the list (one pass over
            # the tagged conversations, on a rare click).
            conn.executemany(
                "DELETE FROM tag_names WHERE name = ? AND NOT EXISTS (SELECT 1 FROM"
                " conversations c, json_each(c.tags) j WHERE c.tags != '[]'"
                " AND json_valid(c.tags) AND j.value = ?)",
                [(t, t) for t in remove if t not in tags],
            )
            self._audit(
                actor_of(agent_id), "tags", "conversation", conversation_id, add=add, remove=remove
            )
        return tags

    def history(self, conversation_id: int) -> list[HistoryEntry]:
        """Stage and assignment changes of a conversation, in order."""
        rows = self._rows(
            "SELECT conversation_id, at, by, action, before, after, note FROM stage_history"
            " WHERE conversation_id = ? UNION ALL"
            " SELECT conversation_id, at, by, action, before, after, note FROM assignment_history"
            " WHERE conversation_id = ? ORDER BY at",
            (conversation_id, conversation_id),
        )
        return [HistoryEntry.model_validate({**r, "at": from_epoch(r["at"])}) for r in rows]

    def audit_log(
        self, entity: str | None = None, entity_id: Any = None, limit: int = 1000
    ) -> list[AuditEntry]:
        """The audit log, oldest first, optionally for one entity."""
        if entity is None:
            rows = self._rows("SELECT * FROM audit_log ORDER BY id LIMIT ?", (limit,))
        else:
            rows = self._rows(
                "SELECT * FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id LIMIT ?",
                (entity, str(entity_id), limit),
            )
        return [
            AuditEntry.model_validate(
                {**r, "at": from_epoch(r["at"]), "detail": json.loads(r["detail"] or "{}")}
            )
            for r in rows
        ]
