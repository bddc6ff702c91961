"""The conversation list: one filtered query, limited by the access rule in SQL.

The JSON API, the web inbox and :meth:`Inbox.list_conversations` all call
:func:`list_conversations`; a conversation's team is the one of
:mod:`copilot.inbox.access`. Every value is a bound parameter: search text from a
lead or an agent never steers the SQL, nor the full-text query
(:mod:`copilot.inbox.search`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from copilot.inbox.access import TEAM_SQL, Actor, require_team, visible_sql
from copilot.inbox.errors import InvalidInput, PermissionDenied
from copilot.inbox.models import ConversationSummary, from_epoch, to_epoch
from copilot.inbox.search import MESSAGE_HITS, fts_query

if TYPE_CHECKING:  # pragma: no cover
    from copilot.inbox.store import InboxStore

VIEWS = ("mine", "unassigned", "team", "all")

#: The columns of :class:`ConversationSummary`, the conversation's team included.
SUMMARY_COLUMNS = (
    "c.id, c.contact_id, ct.name AS contact_name, COALESCE(ct.wa_id, ct.user_id) AS contact_key,"
    f" c.status, c.assignee_id, {TEAM_SQL} AS team, c.stage, c.lost_reason, c.handoff_needed,"
    " c.handoff_reason, ct.opted_out, c.last_message_id, c.last_message_at,"
    " c.last_message_text, c.last_message_direction, c.waiting_since, c.outcome,"
    " c.snoozed_until"
)
_SUMMARY_FIELDS = tuple(ConversationSummary.model_fields)
_SUMMARIES = TypeAdapter(list[ConversationSummary])
_COLUMNS = (
    SUMMARY_COLUMNS + ", (SELECT an.name FROM agents an WHERE an.id = c.assignee_id)"
    " AS assignee_name, c.origin, c.last_intent, c.tags"
)
_FROM = " FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
#: True when the lead wrote last and the agent (the one bound parameter) has not
#: opened the conversation since.
UNREAD_SQL = (
    "(c.last_message_direction = 'inbound' AND c.last_seq > COALESCE((SELECT r.seq FROM"
    " conversation_reads r WHERE r.agent_id = ? AND r.conversation_id = c.id), 0))"
)


@dataclass(frozen=True)
class ConversationQuery:
    """What the list shows; every filter narrows it (None: any).

    ``view``: ``all`` (admins only), ``mine``, ``unassigned`` (the queue, longest
    waiting first) or ``team`` (``team``, else the actor's team);
    ``assignee_id`` narrows to one agent's conversations.
    """

    view: str = "all"
    status: str | None = "open"
    assignee_id: int | None = None
    team: str | None = None
    stage: str | None = None
    origin: str | None = None
    tag: str | None = None
    handoff_needed: bool | None = None
    sla_breached: bool | None = None
    text: str | None = None
    before: datetime | None = None
    limit: int = 50
    offset: int = 0


def list_conversations(
    inbox: InboxStore, query: ConversationQuery, actor: Actor | None
) -> list[dict[str, Any]]:
    """The conversations ``actor`` may read that match ``query``, newest activity
    first (the unassigned queue: longest waiting first). ``actor`` None lists for
    the library itself (no access limit). Each row has the
    :class:`ConversationSummary` fields plus ``assignee_name``, ``origin``,
    ``last_intent``, ``tags`` (a list) and ``unread`` (the lead wrote since
    ``actor`` last opened it; always False without an actor); times are aware
    datetimes.

    Raises :class:`PermissionDenied` for ``view="all"`` or another team's list
    asked by a non-admin, :class:`InvalidInput` for an unknown view."""
    if query.view not in VIEWS:
        raise InvalidInput(f"view must be one of {', '.join(VIEWS)}, not {query.view!r}")
    if actor is not None:
        if query.view == "all" and not actor.is_admin:
            raise PermissionDenied("only an admin may list every conversation")
        require_team(actor, query.team)
    access, params = visible_sql(actor)
    where = [access]

    def add(sql: str, *values: Any) -> None:
        where.append(sql)
        params.extend(values)

    if query.status is not None:
        add("c.status = ?", query.status)
    if query.view == "mine":
        if actor is None:
            raise InvalidInput("the 'mine' view needs an agent")
        add("c.assignee_id = ?", actor.agent_id)
    elif query.view == "unassigned":
        add("c.assignee_id IS NULL")
    if query.assignee_id is not None:
        add("c.assignee_id = ?", query.assignee_id)
    team = query.team
    if query.view == "team" and team is None:
        team = actor.team if actor is not None else None
        if team is None:
            return []
    if team is not None:
        add(f"{TEAM_SQL} = ?", team)
    if query.stage is not None:
        add("c.stage = ?", query.stage)
    if query.origin is not None:
        add("c.origin = ?", query.origin)
    if query.tag is not None:
        add("EXISTS (SELECT 1 FROM json_each(COALESCE(c.tags, '[]')) WHERE value = ?)", query.tag)
    if query.handoff_needed is not None:
        add("c.handoff_needed = ?", int(query.handoff_needed))
    if query.sla_breached is not None:
        limit = to_epoch(inbox.clock.now()) - inbox.profile.first_response_sla_minutes * 60
        # Only an open conversation runs an SLA timer: a closed or snoozed one
        # is never overdue, whatever its clock columns say.
        if query.sla_breached:
            add("c.status = 'open' AND c.waiting_since IS NOT NULL AND c.waiting_since <= ?", limit)
        else:
            add("(c.status != 'open' OR c.waiting_since IS NULL OR c.waiting_since > ?)", limit)
    with_sql, with_params, join = "", [], ""
    if query.text:
        match = fts_query(query.text)
        if match is None:
            return []
        # The best hit per conversation: its contact (name, number) before its
        # messages, then by FTS5 rank; the matched message comes along.
        with_sql = (
            "WITH best AS (SELECT cid, kind, score, mid FROM (SELECT cid, kind, score, mid,"
            " ROW_NUMBER() OVER (PARTITION BY cid ORDER BY kind, score) AS n FROM ("
            " SELECT c2.id AS cid, 0 AS kind, cs.rank AS score, NULL AS mid"
            " FROM contact_search cs JOIN conversations c2 ON c2.contact_id = cs.rowid"
            " WHERE contact_search MATCH ?"
            # The newest message hits, ranked among themselves: FTS5 walks its
            # rowids newest first and scores only those, so a word in half the
            # file costs no more than a rare one.
            " UNION ALL SELECT m.conversation_id, 1, h.rank, m.id FROM (SELECT rowid, rank"
            " FROM message_search WHERE message_search MATCH ? ORDER BY rowid DESC LIMIT ?) h"
            " JOIN messages m ON m.id = h.rowid)) WHERE n = 1) "
        )
        with_params = [match, match, MESSAGE_HITS]
        join = " JOIN best b ON b.cid = c.id"
    if query.before is not None:
        add("c.last_message_at < ?", to_epoch(query.before))
    if join:
        # A search: the best matches first.
        order = "b.kind, b.score, c.last_message_at DESC, c.id DESC"
    elif query.view == "unassigned":
        # The queue: whoever has waited longest comes first.
        order = "COALESCE(c.waiting_since, c.created_at) ASC, c.id ASC"
    else:
        order = "c.last_message_at DESC, c.id DESC"
    columns, head = _COLUMNS, []
    if actor is not None:
        columns += f", {UNREAD_SQL} AS unread"
        head.append(actor.agent_id)
    if join:
        columns += ", b.mid AS match_seq"
    sql = (
        f"{with_sql}SELECT {columns}{_FROM}{join} WHERE {' AND '.join(where)}"
        f" ORDER BY {order} LIMIT ? OFFSET ?"
    )
    cur = inbox.conn.execute(sql, (*with_params, *head, *params, query.limit, query.offset))
    names = [d[0] for d in cur.description]
    rows = []
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        row["last_message_at"] = from_epoch(row["last_message_at"])
        row["waiting_since"] = from_epoch(row["waiting_since"])
        row["snoozed_until"] = from_epoch(row["snoozed_until"])
        row["handoff_needed"] = bool(row["handoff_needed"])
        row["opted_out"] = bool(row["opted_out"])
        row["tags"] = json.loads(row["tags"] or "[]")
        row["unread"] = bool(row.get("unread"))
        rows.append(row)
    if join:
        _attach_matches(inbox, rows)
    return rows


def _attach_matches(inbox: InboxStore, rows: list[dict[str, Any]]) -> None:
    """Give each searched row ``match_text``: the text of its best matching
    message (None when the contact matched), for highlighting."""
    seqs = [r["match_seq"] for r in rows if r.get("match_seq") is not None]
    texts: dict[int, str] = {}
    if seqs:
        marks = ",".join("?" * len(seqs))
        texts = dict(
            inbox.conn.execute(f"SELECT id, text FROM messages WHERE id IN ({marks})", seqs)
        )
    for row in rows:
        row["match_text"] = texts.get(row.pop("match_seq", None) or 0)


def summaries(rows: list[dict[str, Any]]) -> list[ConversationSummary]:
    """The rows of :func:`list_conversations` as :class:`ConversationSummary`."""
    # One validation call for the whole page.
    return _SUMMARIES.validate_python([{k: row[k] for k in _SUMMARY_FIELDS} for row in rows])


def count_unassigned(inbox: InboxStore, actor: Actor | None) -> int:
    """Open conversations in the queue that ``actor`` may read (the tab badge)."""
    access, params = visible_sql(actor)
    return inbox.conn.execute(
        f"SELECT COUNT(*) FROM conversations c WHERE c.assignee_id IS NULL"
        f" AND c.status = 'open' AND {access}",
        params,
    ).fetchone()[0]


def count_unread(inbox: InboxStore, actor: Actor) -> int:
    """Open conversations owned by ``actor`` with a message they have not read
    (the tab title's count)."""
    return inbox.conn.execute(
        f"SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = ? AND c.status = 'open'"
        f" AND {UNREAD_SQL}",
        (actor.agent_id, actor.agent_id),
    ).fetchone()[0]
