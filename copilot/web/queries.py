"""Read queries of the web inbox: the list page's rows and the live fingerprint.

The access rule and the conversation list live in the inbox
(:mod:`copilot.inbox.access`, :mod:`copilot.inbox.listing`), shared with the
JSON API: an admin sees and changes everything; an agent may open a
conversation they own, one of their team, or one no team has yet (the shared
queue); a conversation's team is its routed team, else its owner's team.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot.inbox import Inbox, NotFoundError
from copilot.inbox.listing import (
    VIEWS,
    ConversationQuery,
    count_unassigned,
    count_unread,
    list_conversations,
)
from copilot.inbox.models import to_epoch
from copilot.inbox.search import highlight
from copilot.service.auth import Principal

__all__ = ["PAGE_SIZE", "VIEWS", "ListQuery", "Row", "list_rows", "live_state", "view_counts"]

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
    status: str = "open"
    outcome: str | None = None
    unread: bool = False
    #: With a search: the contact and the matching text as (segment, is_match).
    contact_parts: list[tuple[str, bool]] | None = None
    match_parts: list[tuple[str, bool]] | None = None


def list_rows(
    inbox: Inbox, principal: Principal, query: ListQuery, now: datetime
) -> tuple[list[Row], bool]:
    """The rows of one list page and whether there is a next page."""
    found = list_conversations(
        inbox,
        ConversationQuery(
            view=query.view,
            status=query.status,
            stage=query.stage,
            origin=query.origin,
            tag=query.tag,
            handoff_needed=True if query.handoff else None,
            sla_breached=True if query.sla else None,
            text=query.q,
            limit=PAGE_SIZE + 1,
            offset=query.page * PAGE_SIZE,
        ),
        principal,
    )
    sla_limit = to_epoch(now) - inbox.profile.first_response_sla_minutes * 60
    now_ts = to_epoch(now)
    rows = []
    for r in found:
        # Only an open conversation runs a waiting clock.
        open_ = r["status"] == "open"
        waiting = to_epoch(r["waiting_since"]) if r["waiting_since"] and open_ else None
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
                handoff_needed=r["handoff_needed"],
                handoff_reason=r["handoff_reason"],
                opted_out=r["opted_out"],
                origin=r["origin"],
                intent=r["last_intent"],
                tags=r["tags"],
                last_message_at=r["last_message_at"],
                last_message_text=r["last_message_text"],
                last_message_direction=r["last_message_direction"],
                waiting_since=r["waiting_since"],
                waiting_seconds=None if waiting is None else max(0.0, now_ts - waiting),
                sla_breached=waiting is not None and waiting <= sla_limit,
                status=r["status"],
                outcome=r["outcome"],
                unread=r["unread"],
                contact_parts=highlight(r["contact_name"] or r["contact_key"], query.q)
                if query.q
                else None,
                match_parts=highlight(r.get("match_text") or r["last_message_text"], query.q)
                if query.q
                else None,
            )
        )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def view_counts(inbox: Inbox, principal: Principal) -> dict[str, int]:
    """Open conversations in "mine" and "unassigned" (the tab badges) and the
    agent's unread ones (the page title)."""
    # Two counts that each read one index (the agent's list, the unassigned
    # queue) instead of one pass over every open conversation.
    mine = inbox.conn.execute(
        "SELECT COUNT(*) FROM conversations WHERE assignee_id = ? AND status = 'open'",
        (principal.agent_id,),
    ).fetchone()[0]
    return {
        "mine": mine,
        "unassigned": count_unassigned(inbox, principal),
        "unread": count_unread(inbox, principal),
    }


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
