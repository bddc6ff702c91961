"""Read queries of the web inbox and its access rule.

Access rule (enforced in every route, not only by hiding links): an admin sees
and changes everything; an agent may open a conversation they own, one of their
team, or one no team has yet (the shared queue). A conversation's team is its
routed team, else its owner's team. Every value is a bound parameter.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot.inbox import Inbox, NotFoundError, PermissionDenied
from copilot.inbox.models import from_epoch, to_epoch
from copilot.service.auth import Principal

_FROM = (
    " FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
    " LEFT JOIN teams tm ON tm.id = c.team_id"
    " LEFT JOIN agents ow ON ow.id = c.assignee_id"
    " LEFT JOIN teams otm ON otm.id = ow.team_id"
)
_TEAM = "COALESCE(tm.name, otm.name)"
_ROW_COLUMNS = (
    "c.id, ct.name AS contact_name, COALESCE(ct.wa_id, ct.user_id) AS contact_key,"
    " c.status, c.assignee_id, ow.name AS assignee_name, " + _TEAM + " AS team, c.stage,"
    " c.lost_reason, c.handoff_needed, c.handoff_reason, ct.opted_out, c.origin,"
    " c.last_intent, c.tags, c.last_message_at, c.last_message_text,"
    " c.last_message_direction, c.waiting_since"
)

VIEWS = ("mine", "unassigned", "team", "all")
PAGE_SIZE = 50


@dataclass(frozen=True)
class ListQuery:
    """What the list shows; every filter narrows it (None: any)."""

    view: str = "mine"
    status: str | None = "open"
    stage: str | None = None
    origin: str | None = None
    tag: str | None = None
    handoff: bool = False
    sla: bool = False
    q: str | None = None
    page: int = 0


@dataclass
class Row:
    """One line of the inbox list."""

    id: int
    contact: str
    contact_key: str
    assignee_id: int | None
    assignee_name: str | None
    team: str | None
    stage: str
    lost_reason: str | None
    handoff_needed: bool
    handoff_reason: str | None
    opted_out: bool
    origin: str | None
    intent: str | None
    tags: list[str]
    last_message_at: datetime | None
    last_message_text: str | None
    last_message_direction: str | None
    waiting_since: datetime | None
    waiting_seconds: float | None
    sla_breached: bool


def _access_sql(principal: Principal) -> tuple[str, list[Any]]:
    """SQL condition limiting conversations to those ``principal`` may see."""
    if principal.is_admin:
        return "1 = 1", []
    if principal.team is None:
        return f"(c.assignee_id = ? OR {_TEAM} IS NULL)", [principal.agent_id]
    return f"(c.assignee_id = ? OR {_TEAM} IS NULL OR {_TEAM} = ?)", [
        principal.agent_id,
        principal.team,
    ]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_rows(
    inbox: Inbox, principal: Principal, query: ListQuery, now: datetime
) -> tuple[list[Row], bool]:
    """The rows of one list page and whether there is a next page."""
    access, params = _access_sql(principal)
    where = [access]

    def add(sql: str, *values: Any) -> None:
        where.append(sql)
        params.extend(values)

    if query.status is not None:
        add("c.status = ?", query.status)
    if query.view == "mine":
        add("c.assignee_id = ?", principal.agent_id)
    elif query.view == "unassigned":
        add("c.assignee_id IS NULL")
    elif query.view == "team":
        if principal.team is None:
            return [], False
        add(f"{_TEAM} = ?", principal.team)
    if query.stage:
        add("c.stage = ?", query.stage)
    if query.origin:
        add("c.origin = ?", query.origin)
    if query.tag:
        add("EXISTS (SELECT 1 FROM json_each(COALESCE(c.tags, '[]')) WHERE value = ?)", query.tag)
    if query.handoff:
        add("c.handoff_needed = 1")
    sla_limit = to_epoch(now) - inbox.profile.first_response_sla_minutes * 60
    if query.sla:
        add("c.waiting_since IS NOT NULL AND c.waiting_since <= ?", sla_limit)
    if query.q:
        like = _like(query.q.strip())
        add(
            "(ct.name LIKE ? ESCAPE '\\' OR COALESCE(ct.wa_id, ct.user_id) LIKE ? ESCAPE '\\'"
            " OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id"
            " AND m.text LIKE ? ESCAPE '\\'))",
            like,
            like,
            like,
        )
    if query.view == "unassigned":
        # The queue: whoever has waited longest comes first.
        order = "COALESCE(c.waiting_since, c.created_at) ASC, c.id ASC"
    else:
        order = "c.last_message_at DESC, c.id DESC"
    sql = (
        f"SELECT {_ROW_COLUMNS}{_FROM} WHERE {' AND '.join(where)} ORDER BY {order}"
        " LIMIT ? OFFSET ?"
    )
    cur = inbox.conn.execute(sql, (*params, PAGE_SIZE + 1, query.page * PAGE_SIZE))
    names = [d[0] for d in cur.description]
    now_ts = to_epoch(now)
    rows = []
    for values in cur.fetchall():
        r = dict(zip(names, values, strict=True))
        waiting = r["waiting_since"]
        rows.append(
            Row(
                id=r["id"],
                contact=r["contact_name"] or r["contact_key"],
                contact_key=r["contact_key"],
                assignee_id=r["assignee_id"],
                assignee_name=r["assignee_name"],
                team=r["team"],
                stage=r["stage"],
                lost_reason=r["lost_reason"],
                handoff_needed=bool(r["handoff_needed"]),
                handoff_reason=r["handoff_reason"],
                opted_out=bool(r["opted_out"]),
                origin=r["origin"],
                intent=r["last_intent"],
                tags=json.loads(r["tags"] or "[]"),
                last_message_at=from_epoch(r["last_message_at"]),
                last_message_text=r["last_message_text"],
                last_message_direction=r["last_message_direction"],
                waiting_since=from_epoch(waiting),
                waiting_seconds=None if waiting is None else max(0.0, now_ts - waiting),
                sla_breached=waiting is not None and waiting <= sla_limit,
            )
        )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def view_counts(inbox: Inbox, principal: Principal) -> dict[str, int]:
    """Open conversations in "mine" and "unassigned" (the tab badges)."""
    access, params = _access_sql(principal)
    # Two counts that each read one index (the agent's list, the unassigned
    # queue) instead of one pass over every open conversation.
    mine = inbox.conn.execute(
        "SELECT COUNT(*) FROM conversations WHERE assignee_id = ? AND status = 'open'",
        (principal.agent_id,),
    ).fetchone()[0]
    unassigned = inbox.conn.execute(
        f"SELECT COUNT(*){_FROM} WHERE c.assignee_id IS NULL AND c.status = 'open' AND {access}",
        params,
    ).fetchone()[0]
    return {"mine": mine, "unassigned": unassigned}


def conversation_team(inbox: Inbox, conversation_id: int) -> tuple[int | None, str | None]:
    """(owner id, team) of a conversation; raises :class:`NotFoundError`."""
    row = inbox.conn.execute(
        f"SELECT c.assignee_id, {_TEAM}{_FROM} WHERE c.id = ?", (conversation_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no conversation {conversation_id}")
    return row[0], row[1]


def check_access(inbox: Inbox, principal: Principal, conversation_id: int) -> None:
    """Raise :class:`PermissionDenied` unless ``principal`` may see the conversation
    (and :class:`NotFoundError` for an unknown one)."""
    owner, team = conversation_team(inbox, conversation_id)
    if principal.is_admin or owner == principal.agent_id or team is None:
        return
    if principal.team is not None and team == principal.team:
        return
    raise PermissionDenied(
        f"conversation {conversation_id} belongs to another team; only an admin may open it"
    )


def live_state(inbox: Inbox, conversation_id: int) -> dict[str, Any]:
    """A small fingerprint of what the conversation page shows, for polling."""
    row = inbox.conn.execute(
        "SELECT c.last_seq, c.assignee_id, c.updated_at, c.stage,"
        " (SELECT MAX(status_at) FROM messages m WHERE m.conversation_id = c.id),"
        # An edit, revoke or reaction of an older message does not touch the
        # conversation row: fold them in so the open chat refreshes for them too.
        " (SELECT MAX(edited_at) FROM messages m WHERE m.conversation_id = c.id),"
        " (SELECT MAX(revoked_at) FROM messages m WHERE m.conversation_id = c.id),"
        " (SELECT group_concat(m.reactions) FROM messages m"
        "   WHERE m.conversation_id = c.id AND m.reactions IS NOT NULL)"
        " FROM conversations c WHERE c.id = ?",
        (conversation_id,),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no conversation {conversation_id}")
    last_seq, assignee, updated, stage, status_at, edited, revoked, reactions = row
    # The reactions JSON carries each one's timestamp: a short digest changes with them.
    reacted = hashlib.blake2s((reactions or "").encode(), digest_size=6).hexdigest()
    return {
        "seq": last_seq or 0,
        "assignee_id": assignee,
        "stage": stage,
        "version": f"{last_seq}:{assignee}:{updated}:{status_at}:{edited}:{revoked}:{reacted}",
    }
