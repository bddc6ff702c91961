"""Read queries the JSON API needs beyond the inbox's own list: the filtered
conversation list and the latest stored analysis. Read-only SQL over the inbox
database; every value is a bound parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot.inbox import ConversationSummary, Inbox
from copilot.inbox.models import from_epoch, to_epoch
from copilot.inbox.store import SUMMARY_COLUMNS

_FROM = (
    " FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
    " LEFT JOIN teams tm ON tm.id = c.team_id"
)


@dataclass(frozen=True)
class ConversationFilter:
    """What the inbox list shows; every field narrows it (None: any)."""

    status: str | None = "open"
    assignee_id: int | None = None
    unassigned: bool = False
    team: str | None = None
    stage: str | None = None
    origin: str | None = None
    tag: str | None = None
    handoff_needed: bool | None = None
    sla_breached: bool | None = None
    text: str | None = None
    before: datetime | None = None
    limit: int = 50


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_conversations(inbox: Inbox, f: ConversationFilter) -> list[ConversationSummary]:
    """The filtered inbox list, newest activity first (the unassigned queue:
    oldest first, the order it is served in)."""
    where: list[str] = []
    params: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        where.append(sql)
        params.extend(values)

    if f.status is not None:
        add("c.status = ?", f.status)
    if f.unassigned:
        add("c.assignee_id IS NULL")
    elif f.assignee_id is not None:
        add("c.assignee_id = ?", f.assignee_id)
    if f.team is not None:  # routed to the team, or owned by one of its members
        add(
            "(tm.name = ? OR c.assignee_id IN (SELECT a.id FROM agents a"
            " JOIN teams t2 ON t2.id = a.team_id WHERE t2.name = ?))",
            f.team,
            f.team,
        )
    if f.stage is not None:
        add("c.stage = ?", f.stage)
    if f.origin is not None:
        add("c.origin = ?", f.origin)
    if f.tag is not None:
        add("EXISTS (SELECT 1 FROM json_each(COALESCE(c.tags, '[]')) WHERE value = ?)", f.tag)
    if f.handoff_needed is not None:
        add("c.handoff_needed = ?", int(f.handoff_needed))
    if f.sla_breached is not None:
        limit = to_epoch(inbox.clock.now()) - inbox.profile.first_response_sla_minutes * 60
        if f.sla_breached:
            add("c.waiting_since IS NOT NULL AND c.waiting_since <= ?", limit)
        else:
            add("(c.waiting_since IS NULL OR c.waiting_since > ?)", limit)
    if f.text:
        like = _like(f.text)
        add(
            "(ct.name LIKE ? ESCAPE '\\' OR COALESCE(ct.wa_id, ct.user_id) LIKE ? ESCAPE '\\'"
            " OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id"
            " AND m.text LIKE ? ESCAPE '\\'))",
            like,
            like,
            like,
        )
    if f.before is not None:
        add("c.last_message_at < ?", to_epoch(f.before))
    order = "c.created_at ASC" if f.unassigned else "c.last_message_at DESC"
    sql = f"SELECT {SUMMARY_COLUMNS}{_FROM}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order}, c.id LIMIT ?"
    cur = inbox.conn.execute(sql, (*params, f.limit))
    names = [d[0] for d in cur.description]
    out = []
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        for name in ("last_message_at", "waiting_since"):
            row[name] = from_epoch(row[name])
        row["handoff_needed"] = bool(row["handoff_needed"])
        row["opted_out"] = bool(row["opted_out"])
        out.append(ConversationSummary.model_validate(row))
    return out
