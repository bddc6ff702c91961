"""Edits, deletions for everyone ("revokes") and reactions of stored messages.

WhatsApp reports them as separate events that point at the original message:

- an **edit** carries the new content under the original message id: the stored
  text is replaced in place and the old text goes to the audit log; an inbound
  message the copilot reads is analysed again (its fields may have changed);
- a **revoke** marks the message deleted for everyone: the row and its text stay
  (nothing is lost, the audit log has the deletion), it is flagged
  ``revoked_at`` and leaves the copilot's context;
- a **reaction** is kept on the message it reacts to, one per side ("lead",
  "business"); an emoji of ``None`` removes it.

All three are idempotent and order-safe: a redelivered event changes nothing,
and an older event arriving after a newer one (by WhatsApp's timestamp) is ignored.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from copilot.inbox.models import IngestResult, StoredMessage, from_epoch, to_epoch
from copilot.inbox.store import InboxStore
from copilot.taxonomy import Direction

#: What the conversation list shows for a message deleted for everyone.
REVOKED_PREVIEW = "[deleted]"


class EditsMixin(InboxStore):
    """Message edits, revokes and reactions."""

    def _message_row(self, message_id: str) -> dict[str, Any] | None:
        return self._row(
            "SELECT m.id, m.conversation_id, m.direction, m.text, m.ts, m.backfill,"
            " m.analysis_state, m.edited_at, m.revoked_at, m.reactions, c.contact_id"
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.wa_id = ?",
            (message_id,),
        )

    def _at(self, timestamp: datetime | None) -> float:
        return to_epoch(timestamp) if timestamp is not None else self._now()

    def _forget_context(self, conversation_id: int) -> None:
        # The in-memory context of the copilot holds the old text: rebuild it next time.
        self._context.pop(conversation_id, None)  # type: ignore[attr-defined]

    def apply_edit(
        self,
        message_id: str,
        text: str | None,
        timestamp: datetime | None = None,
        *,
        edit_id: str | None = None,
        actor: str = "whatsapp",
        reanalyse: bool = True,
    ) -> StoredMessage | None:
        """Replace the text of stored message ``message_id`` with ``text`` (edited at
        ``timestamp``); the old text is kept in the audit log. An edit older than
        the last one applied, an edit of a revoked message, or the same text again
        changes nothing. An inbound message is analysed again (``reanalyse``).
        Returns the message, or None for an id the inbox never stored."""
        at = self._at(timestamp)
        with self._tx() as conn:
            row = self._message_row(message_id)
            if row is None:
                return None
            changed = (
                row["revoked_at"] is None
                and (row["edited_at"] is None or at >= row["edited_at"])
                and text != row["text"]
            )
            if changed:
                conn.execute(
                    "UPDATE messages SET text = ?, edited_at = ? WHERE id = ?",
                    (text, at, row["id"]),
                )
                conn.execute(
                    "UPDATE conversations SET last_message_text = ?, updated_at = ?"
                    " WHERE id = ? AND last_message_id = ?",
                    ((text or "")[:200], self._now(), row["conversation_id"], message_id),
                )
                self._audit(
                    actor,
                    "message_edit",
                    "message",
                    message_id,
                    before=row["text"],
                    after=text,
                    edit_id=edit_id,
                    edited_at=at,
                )
        if changed:
            self._forget_context(row["conversation_id"])
            inbound = row["direction"] == Direction.INBOUND.value
            if reanalyse and inbound and not row["backfill"]:
                result = IngestResult(
                    message_id=message_id,
                    conversation_id=row["conversation_id"],
                    contact_id=row["contact_id"],
                )
                self._analyse(result, row["id"], from_epoch(row["ts"]))  # type: ignore[attr-defined]
        return self.message(message_id)

    def apply_revoke(
        self,
        message_id: str,
        timestamp: datetime | None = None,
        *,
        revoke_id: str | None = None,
        actor: str = "whatsapp",
    ) -> StoredMessage | None:
        """Mark stored message ``message_id`` deleted for everyone (at ``timestamp``).
        The row and its text stay; the deletion is audited with the text it hid,
        and the message leaves the copilot's context. Revoking twice changes
        nothing. Returns the message, or None for an id the inbox never stored."""
        at = self._at(timestamp)
        with self._tx() as conn:
            row = self._message_row(message_id)
            if row is None:
                return None
            changed = row["revoked_at"] is None
            if changed:
                conn.execute("UPDATE messages SET revoked_at = ? WHERE id = ?", (at, row["id"]))
                conn.execute(
                    "UPDATE conversations SET last_message_text = ?, updated_at = ?"
                    " WHERE id = ? AND last_message_id = ?",
                    (REVOKED_PREVIEW, self._now(), row["conversation_id"], message_id),
                )
                self._audit(
                    actor,
                    "message_revoke",
                    "message",
                    message_id,
                    text=row["text"],
                    revoke_id=revoke_id,
                    revoked_at=at,
                )
        if changed:
            self._forget_context(row["conversation_id"])
        return self.message(message_id)

    def apply_reaction(
        self,
        message_id: str,
        emoji: str | None,
        timestamp: datetime | None = None,
        *,
        direction: Direction | str = Direction.INBOUND,
        reaction_id: str | None = None,
        actor: str = "whatsapp",
    ) -> StoredMessage | None:
        """Set (or, with ``emoji=None``, remove) the reaction of one side to stored
        message ``message_id``: the lead's for an inbound reaction, the business's
        for an outbound one. Each side has one current reaction, the latest by
        ``timestamp``. Returns the message, or None for an id never stored."""
        who = "lead" if Direction(direction) is Direction.INBOUND else "business"
        at = self._at(timestamp)
        with self._tx() as conn:
            row = self._message_row(message_id)
            if row is None:
                return None
            reactions = json.loads(row["reactions"] or "{}")
            previous = reactions.get(who)
            new = {"emoji": emoji, "at": at}
            if previous != new and (previous is None or at >= previous["at"]):
                reactions[who] = new
                conn.execute(
                    "UPDATE messages SET reactions = ? WHERE id = ?",
                    (json.dumps(reactions, ensure_ascii=False), row["id"]),
                )
                self._audit(
                    actor,
                    "reaction",
                    "message",
                    message_id,
                    who=who,
                    emoji=emoji,
                    before=previous["emoji"] if previous else None,
                    reaction_id=reaction_id,
                )
        return self.message(message_id)
