"""What changed in the inbox since a mark: the feed behind live pages.

Every change a page shows leaves a row with a growing id: a message (stored or
sent), an analysis, a suggestion, or an audit entry (claims, transfers, notes,
tags, stages, closing, snoozing, edits, reactions...). :func:`current_marks`
takes the highest ids; :func:`changes_since` reads the rows past them (each read
is an indexed range on a rowid, cheap whatever the size of the file) and says,
per conversation, what kind of change happened. ``PRAGMA data_version`` tells a
reader cheaply whether anyone committed at all (:func:`data_version`).

Only conversations the actor may read (:mod:`copilot.inbox.access`) are reported.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from copilot.inbox.access import TEAM_SQL, Actor, visible_sql

#: The tables watched and the change kind each one means.
_FEEDS = {
    "messages": "message",
    "analyses": "analysis",
    "suggestions": "suggestion",
    "audit_log": "activity",
}
#: At most this many rows per table per read: a burst is reported in the next read.
BATCH = 500


@dataclass
class Change:
    """What happened to one conversation since the last read."""

    conversation_id: int
    kinds: set[str] = field(default_factory=set)
    #: A new message from the lead.
    inbound: bool = False
    owner_id: int | None = None
    handoff_needed: bool = False
    team: str | None = None
    contact: str | None = None

    def as_dict(self) -> dict:
        """The change as JSON-ready data."""
        return {
            "id": self.conversation_id,
            "kinds": sorted(self.kinds),
            "inbound": self.inbound,
            "owner_id": self.owner_id,
            "handoff": self.handoff_needed,
            "team": self.team,
            "contact": self.contact,
        }


def data_version(conn: sqlite3.Connection) -> int:
    """A number that changes when another connection commits to the file."""
    return conn.execute("PRAGMA data_version").fetchone()[0]


def current_marks(conn: sqlite3.Connection) -> dict[str, int]:
    """The highest id of each watched table."""
    return {
        table: conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0]
        for table in _FEEDS
    }


def changes_since(
    conn: sqlite3.Connection, marks: dict[str, int], actor: Actor | None
) -> tuple[list[Change], dict[str, int]]:
    """The changes past ``marks`` in the conversations ``actor`` may read (None:
    all), and the new marks."""
    found: dict[int, Change] = {}
    new_marks = dict(marks)

    def note(cid: int | None, kind: str) -> Change | None:
        if cid is None:
            return None
        change = found.setdefault(cid, Change(cid))
        change.kinds.add(kind)
        return change

    rows = conn.execute(
        "SELECT id, conversation_id, direction, backfill FROM messages WHERE id > ?"
        " ORDER BY id LIMIT ?",
        (marks["messages"], BATCH),
    ).fetchall()
    for seq, cid, direction, backfill in rows:
        change = note(cid, "message")
        if direction == "inbound" and not backfill:
            change.inbound = True
        new_marks["messages"] = seq
    for table in ("analyses", "suggestions"):
        rows = conn.execute(
            f"SELECT id, conversation_id FROM {table} WHERE id > ? ORDER BY id LIMIT ?",
            (marks[table], BATCH),
        ).fetchall()
        for row_id, cid in rows:
            note(cid, _FEEDS[table])
            new_marks[table] = row_id
    rows = conn.execute(
        "SELECT a.id, a.entity, a.entity_id, m.conversation_id FROM audit_log a"
        " LEFT JOIN messages m ON a.entity = 'message' AND m.wa_id = a.entity_id"
        " WHERE a.id > ? ORDER BY a.id LIMIT ?",
        (marks["audit_log"], BATCH),
    ).fetchall()
    for row_id, entity, entity_id, message_cid in rows:
        new_marks["audit_log"] = row_id
        if entity == "conversation" and str(entity_id).isdigit():
            note(int(entity_id), "activity")
        elif entity == "message":
            note(message_cid, "message")
    if not found:
        return [], new_marks
    where, params = visible_sql(actor)
    ids = list(found)
    marks_sql = ",".join("?" * len(ids))
    visible = conn.execute(
        f"SELECT c.id, c.assignee_id, c.handoff_needed, ct.name, {TEAM_SQL}"
        " FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
        f" WHERE c.id IN ({marks_sql}) AND {where}",
        (*ids, *params),
    ).fetchall()
    out = []
    for cid, owner, handoff, name, team in visible:
        change = found[cid]
        change.owner_id, change.handoff_needed = owner, bool(handoff)
        change.contact, change.team = name, team
        out.append(change)
    out.sort(key=lambda c: c.conversation_id)
    return out, new_marks
