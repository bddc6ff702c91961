"""Who owns a conversation: routing to teams, automatic assignment inside a team,
the unassigned queue, claim / transfer / release and SLA reassignment.

Every ownership change is one conditional ``UPDATE ... WHERE assignee_id IS <what
we read>`` inside a ``BEGIN IMMEDIATE`` transaction, so two agents (threads or
processes) racing for the same conversation can never both win.
"""

from __future__ import annotations

from typing import Any

from copilot.inbox.access import (
    actor_of_agent,
    can_transfer_to,
    conversation_scope,
    require_claim,
)
from copilot.inbox.agents import AgentsMixin
from copilot.inbox.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from copilot.inbox.models import ConversationDetail
from copilot.inbox.store import actor_of


class AssignmentMixin(AgentsMixin):
    """Routing and ownership."""

    def route(
        self,
        *,
        origin: str | None = None,
        intent: str | None = None,
        language: str | None = None,
        tags: list[str] = (),
    ) -> str | None:
        """The team a conversation with these traits goes to (first matching rule)."""
        for rule in self.config.routing:
            if rule.origin is not None and rule.origin != origin:
                continue
            if rule.intent is not None and rule.intent != intent:
                continue
            if rule.language is not None and rule.language != language:
                continue
            if rule.tag is not None and rule.tag not in tags:
                continue
            return rule.team
        return self.config.default_team

    def _pick(self, team_id: int | None, exclude: int | None) -> int | None:
        """The agent who gets the next conversation of ``team_id``, by the team's
        strategy, among the available, on-shift agents under their cap; or None."""
        candidates = self._on_shift_agents(team_id, exclude=exclude)
        if not candidates:
            return None
        team = None
        if team_id is not None:
            team = self._row("SELECT name FROM teams WHERE id = ?", (team_id,))["name"]
        strategy = self.config.team_strategy.get(team or "", self.config.strategy)
        if strategy == "least_open":
            scored = []
            for row in candidates:
                count, cap = self._open_count(row)
                if count < cap:
                    scored.append((count, row["last_assigned_at"] or 0, row["id"]))
            return min(scored)[2] if scored else None
        # Round robin: whoever waited longest since their last assignment; only that
        # agent's cap is checked unless they are full.
        for row in sorted(candidates, key=lambda r: (r["last_assigned_at"] or 0, r["id"])):
            count, cap = self._open_count(row)
            if count < cap:
                return row["id"]
        return None

    def _touch_agent(self, agent_id: int, now: float) -> None:
        # Strictly increasing, so round robin stays fair even when the clock stands
        # still (tests) or several assignments share a timestamp.
        self.conn.execute(
            "UPDATE agents SET last_assigned_at ="
            " MAX(?, (SELECT COALESCE(MAX(last_assigned_at), 0) FROM agents) + 0.000001)"
            " WHERE id = ?",
            (now, agent_id),
        )

    def _assign_best(
        self,
        conversation_id: int,
        team_id: int | None,
        *,
        current: int | None = None,
        action: str = "auto",
        note: str | None = None,
    ) -> int | None:
        """Give the conversation to the best eligible agent of ``team_id``; must run
        inside a transaction. Returns the agent id, or None (it stays queued)."""
        chosen = self._pick(team_id, current)
        if chosen is None:
            return None
        now = self._now()
        cur = self.conn.execute(
            "UPDATE conversations SET assignee_id = ?, assigned_at = ?, updated_at = ?,"
            " team_id = COALESCE(team_id, (SELECT team_id FROM agents WHERE id = ?))"
            " WHERE id = ? AND assignee_id IS ?",
            (chosen, now, now, chosen, conversation_id, current),
        )
        if cur.rowcount != 1:
            return None
        self._touch_agent(chosen, now)
        self._history(
            "assignment_history", conversation_id, "system", action, current, chosen, note
        )
        self._audit("system", action, "conversation", conversation_id, assignee=chosen)
        return chosen

    def _route_and_assign(
        self, conversation_id: int, traits: dict[str, Any], row: dict | None = None
    ) -> int | None:
        """Set the team from the routing rules (first time only) and assign if unowned.
        ``row`` holds the conversation's ``assignee_id`` and ``team_id`` when known."""
        row = row or self._row(
            "SELECT assignee_id, team_id FROM conversations WHERE id = ?", (conversation_id,)
        )
        if row["assignee_id"] is not None:
            return row["assignee_id"]
        team_id = row["team_id"]
        if team_id is None:
            team = self.route(**traits)
            if team is not None:
                self.conn.execute("INSERT OR IGNORE INTO teams (name) VALUES (?)", (team,))
                team_id = self._team_id(team)
                self.conn.execute(
                    "UPDATE conversations SET team_id = ? WHERE id = ?", (team_id, conversation_id)
                )
                self._history("assignment_history", conversation_id, "system", "route", None, team)
        return self._assign_best(conversation_id, team_id)

    def _agent_or_fail(self, agent_id: int) -> dict:
        row = self._row("SELECT id, role, active FROM agents WHERE id = ?", (agent_id,))
        if row is None or not row["active"]:
            raise NotFoundError(f"no active agent {agent_id}")
        return row

    def claim(self, conversation_id: int, agent_id: int) -> ConversationDetail:
        """Take an unassigned conversation. Exactly one of several racing agents wins;
        the others get :class:`ConflictError`. Claiming one's own is a no-op. A
        conversation of another team is refused (:class:`PermissionDenied`; see
        :mod:`copilot.inbox.access`)."""
        self._agent_or_fail(agent_id)
        with self._tx() as conn:
            row = self._conversation_row(conversation_id)
            require_claim(conn, actor_of_agent(conn, agent_id), conversation_id)
            now = self._now()
            cur = conn.execute(
                "UPDATE conversations SET assignee_id = ?, assigned_at = ?, updated_at = ?"
                " WHERE id = ? AND assignee_id IS NULL",
                (agent_id, now, now, conversation_id),
            )
            if cur.rowcount != 1:
                owner = self._row(
                    "SELECT assignee_id FROM conversations WHERE id = ?", (conversation_id,)
                )["assignee_id"]
                if owner == agent_id:
                    return self.conversation(conversation_id)
                raise ConflictError(
                    f"conversation {conversation_id} is already owned by agent {owner}"
                )
            self._touch_agent(agent_id, now)
            self._history(
                "assignment_history",
                conversation_id,
                actor_of(agent_id),
                "claim",
                row["assignee_id"],
                agent_id,
            )
            self._audit(actor_of(agent_id), "claim", "conversation", conversation_id)
        return self.conversation(conversation_id)

    def _owner_or_admin(self, row: dict, agent_id: int) -> None:
        agent = self._agent_or_fail(agent_id)
        if row["assignee_id"] != agent_id and agent["role"] != "admin":
            raise PermissionDenied(
                f"agent {agent_id} does not own conversation {row['id']} "
                f"(owner: {row['assignee_id']}) and is not an admin"
            )

    def transfer(
        self, conversation_id: int, by_agent_id: int, to_agent_id: int, note: str | None = None
    ) -> ConversationDetail:
        """Hand a conversation to another agent, with an optional internal note.
        Only the owner or an admin may transfer; the owner only to someone who
        may open the conversation (see :mod:`copilot.inbox.access`)."""
        self._agent_or_fail(to_agent_id)
        with self._tx() as conn:
            row = self._conversation_row(conversation_id)
            self._owner_or_admin(row, by_agent_id)
            scope = conversation_scope(conn, conversation_id)
            by, to = actor_of_agent(conn, by_agent_id), actor_of_agent(conn, to_agent_id)
            if not can_transfer_to(by, to, scope):
                raise PermissionDenied(
                    f"agent {to_agent_id} is not of team {scope.team!r} of conversation"
                    f" {conversation_id}; only an admin hands it to another team"
                )
            if row["assignee_id"] == to_agent_id:
                raise InvalidInput(f"agent {to_agent_id} already owns the conversation")
            now = self._now()
            cur = conn.execute(
                "UPDATE conversations SET assignee_id = ?, assigned_at = ?, updated_at = ?"
                " WHERE id = ? AND assignee_id IS ?",
                (to_agent_id, now, now, conversation_id, row["assignee_id"]),
            )
            if cur.rowcount != 1:  # pragma: no cover - the write lock makes this impossible
                raise ConflictError("the conversation changed owner meanwhile")
            if note:
                conn.execute(
                    "INSERT INTO notes (conversation_id, agent_id, text, created_at)"
                    " VALUES (?,?,?,?)",
                    (conversation_id, by_agent_id, note, now),
                )
            self._history(
                "assignment_history",
                conversation_id,
                actor_of(by_agent_id),
                "transfer",
                row["assignee_id"],
                to_agent_id,
                note,
            )
            self._audit(
                actor_of(by_agent_id),
                "transfer",
                "conversation",
                conversation_id,
                to=to_agent_id,
                note=note,
            )
        return self.conversation(conversation_id)

    def release(
        self, conversation_id: int, agent_id: int, note: str | None = None
    ) -> ConversationDetail:
        """Give a conversation back to the unassigned queue (owner or admin)."""
        with self._tx() as conn:
            row = self._conversation_row(conversation_id)
            self._owner_or_admin(row, agent_id)
            conn.execute(
                "UPDATE conversations SET assignee_id = NULL, assigned_at = NULL, updated_at = ?"
                " WHERE id = ?",
                (self._now(), conversation_id),
            )
            self._history(
                "assignment_history",
                conversation_id,
                actor_of(agent_id),
                "release",
                row["assignee_id"],
                None,
                note,
            )
            self._audit(actor_of(agent_id), "release", "conversation", conversation_id, note=note)
        return self.conversation(conversation_id)

    def serve_queue(self, limit: int = 500) -> int:
        """Assign queued conversations, oldest first, to eligible agents.
        Returns how many were assigned."""
        assigned = 0
        queued = self._rows(
            "SELECT id, team_id FROM conversations WHERE assignee_id IS NULL AND status = 'open'"
            " ORDER BY created_at LIMIT ?",
            (limit,),
        )
        exhausted: set[int | None] = set()
        for row in queued:
            if row["team_id"] in exhausted:
                continue
            with self._tx():
                if self._assign_best(row["id"], row["team_id"], action="queue") is None:
                    exhausted.add(row["team_id"])
                else:
                    assigned += 1
        return assigned

    def reassign_overdue(self) -> int:
        """Reassign conversations whose owner left the lead waiting longer than
        ``config.reassign_after_minutes`` (counted from the later of the lead's
        message and the assignment). Returns how many moved."""
        minutes = self.config.reassign_after_minutes
        if minutes is None:
            return 0
        limit = self._now() - minutes * 60
        overdue = self._rows(
            "SELECT c.id, c.assignee_id, c.team_id FROM conversations c"
            " JOIN contacts ct ON ct.id = c.contact_id"
            " WHERE c.waiting_since IS NOT NULL AND c.waiting_since <= ?"
            " AND c.assignee_id IS NOT NULL AND c.status = 'open' AND ct.opted_out = 0"
            " AND COALESCE(c.assigned_at, 0) <= ?",
            (limit, limit),
        )
        moved = 0
        for row in overdue:
            with self._tx():
                got = self._assign_best(
                    row["id"],
                    row["team_id"],
                    current=row["assignee_id"],
                    action="reassign_sla",
                    note=f"owner did not answer within {minutes:g} min",
                )
                moved += got is not None
        return moved
