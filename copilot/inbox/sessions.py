"""What web sessions need from the inbox: the inbox's own secrets, each agent's
session epoch, and stable demo tokens.

A web session cookie names an agent and an epoch and is signed with a secret
kept in the database (see :mod:`copilot.web.session`), so sessions survive a
restart; moving the agent's epoch ends every session at once ("sign out
everywhere"), and rotating the agent's token does too (the signature covers it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from copilot.inbox.agents import hash_token
from copilot.inbox.store import InboxStore


class SessionsMixin(InboxStore):
    """Secrets, session epochs, demo tokens."""

    def secret(self, name: str) -> bytes:
        """The inbox's secret ``name``, made once (random) and kept in the file."""
        row = self.conn.execute(
            "SELECT value FROM inbox_secrets WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            with self._tx() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO inbox_secrets (name, value) VALUES (?, ?)",
                    (name, secrets.token_urlsafe(32)),
                )
                row = conn.execute(
                    "SELECT value FROM inbox_secrets WHERE name = ?", (name,)
                ).fetchone()
        return row[0].encode()

    def session_state(self, agent_id: int) -> tuple[str, int, bool] | None:
        """(token hash, session epoch, active) of an agent, or None."""
        row = self.conn.execute(
            "SELECT token_hash, session_epoch, active FROM agents WHERE id = ?", (agent_id,)
        ).fetchone()
        return None if row is None else (row[0], row[1], bool(row[2]))

    def sign_out_everywhere(self, agent_id: int) -> int:
        """End every web session of the agent; returns the new epoch."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE agents SET session_epoch = session_epoch + 1 WHERE id = ?", (agent_id,)
            )
            self._audit(f"agent:{agent_id}", "sign_out_everywhere", "agent", agent_id)
            return conn.execute(
                "SELECT session_epoch FROM agents WHERE id = ?", (agent_id,)
            ).fetchone()[0]

    def demo_token(self, agent_id: int) -> str:
        """The agent's demo token: derived from the file's own secret, so the same
        on every start of the demo on the same database (and set as the agent's
        token)."""
        digest = hmac.new(self.secret("demo_tokens"), str(agent_id).encode(), hashlib.sha256)
        token = "lc_demo_" + digest.hexdigest()[:40]
        with self._tx() as conn:
            conn.execute(
                "UPDATE agents SET token_hash = ? WHERE id = ?", (hash_token(token), agent_id)
            )
        return token
