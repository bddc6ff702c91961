"""Who may read and change a conversation: the inbox's one access rule.

The API, the web pages and the inbox's own methods ask this module; nothing else
decides who sees what.

* **A conversation's team** is its routed team, else its owner's team
  (:data:`TEAM_ID_SQL` in SQL, :func:`conversation_scope` in Python). A
  conversation with neither is in the shared queue.
* **Read** (open it, list it, see its messages, notes, tasks and analysis): an
  admin; its owner; anyone for a conversation of no team (the shared queue); a
  member of the conversation's team.
* **Write** (add notes and tags, create and close tasks in it): whoever may read it.
* **Manage** (move the stage, close, reopen, transfer, release, reject a
  suggestion, correct the copilot's labels): its owner or an admin. Replying
  needs ownership even for an admin (:meth:`Inbox.reply`).
* **Claim**: whoever may read it, so a conversation routed to another team is
  refused (an admin claims anything).
* **Transfer**: an admin to anyone; the owner only to someone who may read the
  conversation (their team or an admin).
* **Tasks**: created by whoever may write; given only to an agent who may read
  the conversation; closed by an admin, the task's owner or the conversation's owner.
* **Quick replies**: read by everyone (shared ones) and by the team they are
  for; written by an admin only.
* **Lists of teams' data** (``view=all``, another team's list, another team's
  agents): an admin only; an agent sees their team, the shared queue and what
  they own, the agents of their team and the admins.

An unknown conversation raises :class:`NotFoundError` (404); one the actor may
not read raises :class:`PermissionDenied` (403) — for every route, API and web.
Every value goes into SQL as a bound parameter.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from copilot.inbox.errors import NotFoundError, PermissionDenied

#: The id of a conversation's team: the routed team, else the owner's team.
TEAM_ID_SQL = "COALESCE(c.team_id, (SELECT ow.team_id FROM agents ow WHERE ow.id = c.assignee_id))"
#: The name of a conversation's team (NULL: the shared queue).
TEAM_SQL = f"(SELECT tn.name FROM teams tn WHERE tn.id = {TEAM_ID_SQL})"
_TEAM_ID_OF = "(SELECT tt.id FROM teams tt WHERE tt.name = ?)"


@dataclass(frozen=True)
class Actor:
    """Who acts: an agent id, their team (None: no team) and their role."""

    agent_id: int
    role: str = "agent"
    team: str | None = None

    @property
    def is_admin(self) -> bool:
        """True for the admin role."""
        return self.role == "admin"


@dataclass(frozen=True)
class Scope:
    """What the rule needs to know about one conversation."""

    conversation_id: int
    owner_id: int | None
    team: str | None


def can_read(actor: Actor, scope: Scope) -> bool:
    """True when ``actor`` may open the conversation."""
    if actor.is_admin or scope.owner_id == actor.agent_id or scope.team is None:
        return True
    return actor.team is not None and scope.team == actor.team


def can_write(actor: Actor, scope: Scope) -> bool:
    """True when ``actor`` may add notes, tags and tasks to the conversation."""
    return can_read(actor, scope)


def can_manage(actor: Actor, scope: Scope) -> bool:
    """True when ``actor`` may change the conversation's stage, status or owner."""
    return actor.is_admin or scope.owner_id == actor.agent_id


def can_claim(actor: Actor, scope: Scope) -> bool:
    """True when ``actor`` may take the conversation from the queue."""
    return can_read(actor, scope)


def conversation_scope(conn: sqlite3.Connection, conversation_id: int) -> Scope:
    """Owner and team of a conversation; raises :class:`NotFoundError`."""
    row = conn.execute(
        f"SELECT c.assignee_id, {TEAM_SQL} FROM conversations c WHERE c.id = ?",
        (conversation_id,),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no conversation {conversation_id}")
    return Scope(conversation_id, row[0], row[1])


def actor_of_agent(conn: sqlite3.Connection, agent_id: int) -> Actor:
    """The :class:`Actor` of a stored agent; raises :class:`NotFoundError`."""
    row = conn.execute(
        "SELECT a.role, t.name FROM agents a LEFT JOIN teams t ON t.id = a.team_id WHERE a.id = ?",
        (agent_id,),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no agent {agent_id}")
    return Actor(agent_id, row[0], row[1])


def require_read(conn: sqlite3.Connection, actor: Actor, conversation_id: int) -> Scope:
    """The conversation's scope, or :class:`NotFoundError` / :class:`PermissionDenied`."""
    scope = conversation_scope(conn, conversation_id)
    if not can_read(actor, scope):
        raise PermissionDenied(
            f"conversation {conversation_id} belongs to another team; only an admin may open it"
        )
    return scope


def require_write(conn: sqlite3.Connection, actor: Actor, conversation_id: int) -> Scope:
    """Like :func:`require_read`, for adding notes, tags and tasks."""
    scope = require_read(conn, actor, conversation_id)
    if not can_write(actor, scope):  # pragma: no cover - write follows read today
        raise PermissionDenied(f"agent {actor.agent_id} may not change {conversation_id}")
    return scope


def require_manage(conn: sqlite3.Connection, actor: Actor, conversation_id: int) -> Scope:
    """Like :func:`require_read`, and the actor owns the conversation or is an admin."""
    scope = require_read(conn, actor, conversation_id)
    if not can_manage(actor, scope):
        raise PermissionDenied(
            f"only the owner of conversation {conversation_id} or an admin may do this"
        )
    return scope


def require_claim(conn: sqlite3.Connection, actor: Actor, conversation_id: int) -> Scope:
    """Like :func:`require_read`, for taking the conversation from the queue."""
    scope = require_read(conn, actor, conversation_id)
    if not can_claim(actor, scope):  # pragma: no cover - claim follows read today
        raise PermissionDenied(f"conversation {conversation_id} is routed to another team")
    return scope


def require_team(actor: Actor, team: str | None) -> None:
    """Refuse (:class:`PermissionDenied`) a non-admin asking for another team's list."""
    if team is not None and not actor.is_admin and team != actor.team:
        raise PermissionDenied(f"only an admin may list team {team!r}; yours is {actor.team!r}")


def require_admin(actor: Actor, what: str) -> None:
    """Refuse (:class:`PermissionDenied`) anyone but an admin."""
    if not actor.is_admin:
        raise PermissionDenied(f"only an admin may {what}")


def can_read_team_item(actor: Actor, team: str | None) -> bool:
    """True when ``actor`` may see something kept for ``team`` (None: everyone's)."""
    return actor.is_admin or team is None or team == actor.team


def visible_sql(actor: Actor | None) -> tuple[str, list[Any]]:
    """SQL condition on ``conversations c`` limiting rows to those ``actor`` may
    read (None: no limit, for the library's own jobs)."""
    if actor is None or actor.is_admin:
        return "1 = 1", []
    if actor.team is None:
        return f"(c.assignee_id = ? OR {TEAM_ID_SQL} IS NULL)", [actor.agent_id]
    return (
        f"(c.assignee_id = ? OR {TEAM_ID_SQL} IS NULL OR {TEAM_ID_SQL} = {_TEAM_ID_OF})",
        [actor.agent_id, actor.team],
    )


def visible_conversations_sql(actor: Actor | None) -> tuple[str, list[Any]]:
    """A sub-select of the ids of the conversations ``actor`` may read, for
    tables that point at conversations (tasks, messages, analyses...)."""
    where, params = visible_sql(actor)
    return f"(SELECT c.id FROM conversations c WHERE {where})", params


def visible_agents_sql(actor: Actor | None) -> tuple[str, list[Any]]:
    """SQL condition on ``agents a``: an admin sees every agent; an agent sees
    themself, the admins and the agents of their team."""
    if actor is None or actor.is_admin:
        return "1 = 1", []
    if actor.team is None:
        return "(a.id = ? OR a.role = 'admin')", [actor.agent_id]
    return (
        f"(a.id = ? OR a.role = 'admin' OR a.team_id = {_TEAM_ID_OF})",
        [actor.agent_id, actor.team],
    )


def can_transfer_to(actor: Actor, target: Actor, scope: Scope) -> bool:
    """True when ``actor`` may hand the conversation to ``target``: an admin to
    anyone; its owner to an agent who may read it (their team, or an admin)."""
    return actor.is_admin or (can_manage(actor, scope) and can_read(target, scope))


def can_close_task(actor: Actor, scope: Scope, task_owner_id: int | None) -> bool:
    """True when ``actor`` may mark a task of the conversation done or cancelled:
    an admin, the task's owner or the conversation's owner (who may read it)."""
    if not can_read(actor, scope):
        return False
    return actor.is_admin or actor.agent_id in (task_owner_id, scope.owner_id)


def can_own_task(owner: Actor, scope: Scope) -> bool:
    """True when a task of the conversation may be given to ``owner``: only to
    someone who may open the conversation."""
    return can_read(owner, scope)
