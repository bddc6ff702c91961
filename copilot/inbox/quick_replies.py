"""Quick replies (canned responses): short texts an agent drops into the
composer by typing ``/`` and part of the shortcut.

One list per team, plus shared ones (no team). Agents read their team's and the
shared ones; only an admin adds, changes or removes them (see
:mod:`copilot.inbox.access`).
"""

from __future__ import annotations

from typing import Any

from copilot.inbox.access import Actor, can_read_team_item, require_admin
from copilot.inbox.errors import InvalidInput, NotFoundError
from copilot.inbox.store import InboxStore


class QuickRepliesMixin(InboxStore):
    """Quick replies per team."""

    def quick_replies(self, actor: Actor | None = None) -> list[dict[str, Any]]:
        """The quick replies ``actor`` may use (None: all), by shortcut: id,
        team (None: everyone's), shortcut, text."""
        rows = self._rows(
            "SELECT q.id, t.name AS team, q.shortcut, q.text FROM quick_replies q"
            " LEFT JOIN teams t ON t.id = q.team_id ORDER BY q.shortcut, q.id"
        )
        if actor is None:
            return rows
        return [r for r in rows if can_read_team_item(actor, r["team"])]

    def add_quick_reply(
        self, actor: Actor, shortcut: str, text: str, *, team: str | None = None
    ) -> dict[str, Any]:
        """Add a quick reply (an admin only) for ``team`` (None: everyone)."""
        require_admin(actor, "edit quick replies")
        shortcut = shortcut.strip().lstrip("/").strip()
        text = text.strip()
        if not shortcut or len(shortcut) > 40 or any(c.isspace() for c in shortcut):
            raise InvalidInput("a shortcut is one word of at most 40 characters")
        if not text or len(text) > 4096:
            raise InvalidInput("the text is empty or longer than 4096 characters")
        now = self._now()
        with self._tx() as conn:
            team_id = None
            if team:
                conn.execute("INSERT OR IGNORE INTO teams (name) VALUES (?)", (team,))
                team_id = self._team_id(team)  # type: ignore[attr-defined]
            cur = conn.execute(
                "INSERT INTO quick_replies (team_id, shortcut, text, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (team_id, shortcut, text, now, now),
            )
            self._audit(f"agent:{actor.agent_id}", "quick_reply_add", "quick_reply", cur.lastrowid)
        return {"id": cur.lastrowid, "team": team or None, "shortcut": shortcut, "text": text}

    def remove_quick_reply(self, actor: Actor, quick_reply_id: int) -> None:
        """Remove a quick reply (an admin only)."""
        require_admin(actor, "edit quick replies")
        with self._tx() as conn:
            cur = conn.execute("DELETE FROM quick_replies WHERE id = ?", (quick_reply_id,))
            if cur.rowcount != 1:
                raise NotFoundError(f"no quick reply {quick_reply_id}")
            self._audit(
                f"agent:{actor.agent_id}", "quick_reply_remove", "quick_reply", quick_reply_id
            )
