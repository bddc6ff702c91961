"""Agents, teams, availability, shifts and bearer tokens.

Tokens are random (256 bits) and returned once by :meth:`create_agent`; only their
SHA-256 is stored, so a copy of the database gives nobody a way in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from copilot.inbox.access import Actor, require_team, visible_agents_sql
from copilot.inbox.errors import InvalidInput, NotFoundError
from copilot.inbox.models import Agent, Shift, Team
from copilot.inbox.store import InboxStore, actor_of

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _as_shift(shift: Shift | dict | None) -> Shift | None:
    """A shift given as a model or as ``{"mon": "09:00-18:00", ...}``."""
    if shift is None or isinstance(shift, Shift):
        return shift
    try:
        return Shift.model_validate({"days": shift})
    except ValueError as exc:
        raise InvalidInput(f"bad shift {shift!r}: {exc}") from exc


def on_shift(shift: Shift | None, moment: datetime, tz) -> bool:
    """True when ``moment`` falls inside ``shift`` (always, for no shift)."""
    if shift is None:
        return True
    local = moment.astimezone(tz)
    now = local.time()
    return any(start <= now < end for start, end in shift.days.get(_DAYS[local.weekday()], []))


class AgentsMixin(InboxStore):
    """Agents and teams."""

    def create_team(self, name: str) -> Team:
        """Create a team (or return the existing one of that name)."""
        name = name.strip()
        if not name:
            raise InvalidInput("a team needs a name")
        with self._tx() as conn:
            conn.execute("INSERT OR IGNORE INTO teams (name) VALUES (?)", (name,))
            row = self._row("SELECT id, name FROM teams WHERE name = ?", (name,))
            self._audit("system", "team_create", "team", row["id"], name=name)
        return Team(**row)

    def teams(self) -> list[Team]:
        """All teams."""
        return [Team(**r) for r in self._rows("SELECT id, name FROM teams ORDER BY name")]

    def _team_id(self, name: str | None) -> int | None:
        if name is None:
            return None
        row = self._row("SELECT id FROM teams WHERE name = ?", (name,))
        if row is None:
            raise NotFoundError(f"no team {name!r}; create it with create_team()")
        return row["id"]

    def create_agent(
        self,
        name: str,
        team: str | None = None,
        role: Literal["admin", "agent"] = "agent",
        *,
        available: bool = False,
        shift: Shift | dict | None = None,
        max_open: int | None = None,
    ) -> tuple[Agent, str]:
        """Create an agent; returns it with its bearer token, shown this once only.

        A team that does not exist yet is created.
        """
        if role not in ("admin", "agent"):
            raise InvalidInput(f"role must be 'admin' or 'agent', not {role!r}")
        if not name.strip():
            raise InvalidInput("an agent needs a name")
        shift_model = _as_shift(shift)
        team_id = self.create_team(team).id if team else None
        token = "lc_" + secrets.token_urlsafe(32)
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO agents (name, team_id, role, token_hash, available, shift, max_open,"
                " active, created_at) VALUES (?,?,?,?,?,?,?,1,?)",
                (
                    name.strip(),
                    team_id,
                    role,
                    hash_token(token),
                    int(available),
                    shift_model.model_dump_json() if shift_model else None,
                    max_open,
                    self._now(),
                ),
            )
            self._audit("system", "agent_create", "agent", cur.lastrowid, name=name, role=role)
        return self.agent(cur.lastrowid), token

    def _agent_from_row(self, row: dict[str, Any]) -> Agent:
        return Agent(
            id=row["id"],
            name=row["name"],
            team=row.get("team"),
            role=row["role"],
            available=bool(row["available"]),
            shift=Shift.model_validate_json(row["shift"]) if row["shift"] else None,
            max_open=row["max_open"],
            active=bool(row["active"]),
        )

    _AGENT_SQL = "SELECT a.*, t.name AS team FROM agents a LEFT JOIN teams t ON t.id = a.team_id"

    def agent(self, agent_id: int) -> Agent:
        """One agent (raises :class:`NotFoundError`)."""
        row = self._row(f"{self._AGENT_SQL} WHERE a.id = ?", (agent_id,))
        if row is None:
            raise NotFoundError(f"no agent {agent_id}")
        return self._agent_from_row(row)

    def agents(self, team: str | None = None, *, visible_to: Actor | None = None) -> list[Agent]:
        """All agents, or those of one team; ``visible_to`` limits them to those the
        actor may see (their team and the admins; raises
        :class:`~copilot.inbox.errors.PermissionDenied` for another team)."""
        where, params = visible_agents_sql(visible_to)
        if visible_to is not None:
            require_team(visible_to, team)
        if team is not None:
            where += " AND t.name = ?"
            params.append(team)
        rows = self._rows(f"{self._AGENT_SQL} WHERE {where} ORDER BY a.id", tuple(params))
        return [self._agent_from_row(r) for r in rows]

    def authenticate(self, token: str | None) -> Agent | None:
        """The active agent holding bearer ``token``, or None."""
        if not token:
            return None
        digest = hash_token(token)
        row = self._row(f"{self._AGENT_SQL} WHERE a.token_hash = ? AND a.active = 1", (digest,))
        # The lookup is by hash; compare again in constant time for good measure.
        if row is None or not hmac.compare_digest(row["token_hash"], digest):
            return None
        return self._agent_from_row(row)

    def rotate_token(self, agent_id: int) -> str:
        """Replace an agent's token; the old one stops working. Returns the new token."""
        self.agent(agent_id)
        token = "lc_" + secrets.token_urlsafe(32)
        with self._tx() as conn:
            conn.execute(
                "UPDATE agents SET token_hash = ? WHERE id = ?", (hash_token(token), agent_id)
            )
            self._audit("system", "token_rotate", "agent", agent_id)
        return token

    def update_agent(
        self,
        agent_id: int,
        *,
        team: str | None = None,
        role: Literal["admin", "agent"] | None = None,
        shift: Shift | dict | None = None,
        max_open: int | None = None,
        active: bool | None = None,
    ) -> Agent:
        """Change an agent's team, role, shift, cap or active flag."""
        self.agent(agent_id)
        changes: dict[str, Any] = {}
        if team is not None:
            changes["team_id"] = self.create_team(team).id
        if role is not None:
            if role not in ("admin", "agent"):
                raise InvalidInput(f"role must be 'admin' or 'agent', not {role!r}")
            changes["role"] = role
        if shift is not None:
            changes["shift"] = _as_shift(shift).model_dump_json()
        if max_open is not None:
            changes["max_open"] = max_open
        if active is not None:
            changes["active"] = int(active)
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            with self._tx() as conn:
                conn.execute(
                    f"UPDATE agents SET {sets} WHERE id = ?", (*changes.values(), agent_id)
                )
                self._audit("system", "agent_update", "agent", agent_id, **changes)
        return self.agent(agent_id)

    def set_availability(self, agent_id: int, available: bool) -> Agent:
        """Mark an agent available (online) or not. Coming online serves the queue."""
        self.agent(agent_id)
        with self._tx() as conn:
            conn.execute("UPDATE agents SET available = ? WHERE id = ?", (int(available), agent_id))
            self._audit(actor_of(agent_id), "availability", "agent", agent_id, available=available)
        if available:
            self.serve_queue()  # type: ignore[attr-defined]
        return self.agent(agent_id)

    def _on_shift_agents(self, team_id: int | None, exclude: int | None = None) -> list[dict]:
        """Agents who may take work now: active, available and on shift (caps not checked)."""
        params: list[Any] = []
        where = "a.active = 1 AND a.available = 1"
        if team_id is not None:
            where += " AND a.team_id = ?"
            params.append(team_id)
        if exclude is not None:
            where += " AND a.id != ?"
            params.append(exclude)
        rows = self._rows(
            f"SELECT a.id, a.shift, a.max_open, a.last_assigned_at FROM agents a WHERE {where}",
            tuple(params),
        )
        moment = self.clock.now()
        return [r for r in rows if on_shift(_shift(r["shift"]), moment, self.profile.tz)]

    def _open_count(self, row: dict) -> tuple[int, int]:
        """(open conversations, cap) of an agent. The count stops at the cap: past it
        the agent is out anyway, and a bounded count stays cheap for busy agents."""
        cap = row["max_open"] or self.config.default_max_open
        count = self.conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM conversations WHERE assignee_id = ?"
            " AND status = 'open' LIMIT ?)",
            (row["id"], cap),
        ).fetchone()[0]
        return count, cap


@lru_cache(maxsize=256)
def _shift(text: str | None) -> Shift | None:
    return Shift.model_validate(json.loads(text)) if text else None
