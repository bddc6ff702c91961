"""Closing, reopening and snoozing a conversation, and asking the copilot again.

* **Close** asks for an outcome: ``won``, ``lost`` (with a reason), ``spam`` or
  ``no_reply_needed``. Won and lost move the pipeline stage; spam is a lost lead
  of reason ``invalid``; "no reply needed" leaves the stage alone. A closed
  conversation runs no SLA timer (its waiting clock is cleared), leaves the SLA
  filters, gets no automatic acknowledgement, follow-up or reassignment.
* **Reopen**: by hand, or by itself when the lead writes again (see ingest).
* **Snooze** until a time: the conversation leaves the open lists and comes back
  open at that time, on the clock tick (:meth:`wake_snoozed`), or earlier when
  the lead writes. Its waiting clock keeps running, so it comes back honest.
* **Suggest again**: the copilot analyses the lead's latest message once more
  and proposes a fresh reply, superseding the current one.

Each change is one conditional UPDATE inside a write transaction, written to the
conversation's history and the audit log. With an ``agent_id``, the access rule
of :mod:`copilot.inbox.access` decides (close, reopen and snooze: the owner or
an admin; suggest again: whoever may write in the conversation).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from copilot.inbox.access import actor_of_agent, require_manage, require_write
from copilot.inbox.errors import ConflictError, InvalidInput
from copilot.inbox.models import ConversationDetail, IngestResult, Suggestion, from_epoch, to_epoch
from copilot.inbox.pipeline import PipelineMixin
from copilot.inbox.store import actor_of
from copilot.taxonomy import LostReason, Stage

#: The longest snooze: past it, a reminder task is the better tool.
MAX_SNOOZE = timedelta(days=90)


class Outcome(StrEnum):
    """How a conversation ended."""

    WON = "won"
    LOST = "lost"
    SPAM = "spam"
    NO_REPLY_NEEDED = "no_reply_needed"


class ClosingMixin(PipelineMixin):
    """Close with an outcome, reopen, snooze, wake, suggest again."""

    def _may_manage(self, conversation_id: int, agent_id: int | None) -> None:
        if agent_id is not None:
            require_manage(self.conn, actor_of_agent(self.conn, agent_id), conversation_id)

    def close_conversation(
        self,
        conversation_id: int,
        outcome: Outcome | str,
        *,
        agent_id: int | None = None,
        lost_reason: LostReason | str | None = None,
        note: str | None = None,
    ) -> ConversationDetail:
        """Close the conversation with an ``outcome`` (``lost`` needs a
        ``lost_reason``, the others refuse one). Stops its SLA timer and its
        automatic follow-ups; it reopens when the lead writes again. Closing a
        closed conversation again records the new outcome."""
        try:
            outcome = Outcome(outcome)
            lost_reason = LostReason(lost_reason) if lost_reason else None
        except ValueError as exc:
            raise InvalidInput(
                f"{exc}; outcomes: {', '.join(o.value for o in Outcome)}; lost reasons:"
                f" {', '.join(r.value for r in LostReason)}"
            ) from exc
        if outcome is Outcome.LOST and lost_reason is None:
            raise InvalidInput(
                "closing as lost needs a lost_reason: " + ", ".join(r.value for r in LostReason)
            )
        if outcome is not Outcome.LOST and lost_reason is not None:
            raise InvalidInput("lost_reason only goes with the outcome 'lost'")
        by = actor_of(agent_id)
        with self._tx() as conn:
            row = self._conversation_row(conversation_id)
            self._may_manage(conversation_id, agent_id)
            if outcome is Outcome.WON:
                self._apply_stage(row, Stage.WON, None, by, note)
            elif outcome is Outcome.LOST:
                self._apply_stage(row, Stage.LOST, lost_reason, by, note)
            elif outcome is Outcome.SPAM:
                self._apply_stage(row, Stage.LOST, LostReason.INVALID, by, note)
            now = self._now()
            conn.execute(
                "UPDATE conversations SET status = 'closed', outcome = ?, closed_at = ?,"
                " snoozed_until = NULL, waiting_since = NULL, updated_at = ? WHERE id = ?",
                (outcome.value, now, now, conversation_id),
            )
            self._cancel_automatic_tasks(conversation_id)
            after = outcome.value + (f":{lost_reason.value}" if lost_reason else "")
            self._history("stage_history", conversation_id, by, "close", row["status"], after, note)
            self._audit(by, "closed", "conversation", conversation_id, outcome=after, note=note)
        return self.conversation(conversation_id)

    def reopen_conversation(
        self, conversation_id: int, *, agent_id: int | None = None
    ) -> ConversationDetail:
        """Open a closed or snoozed conversation again (no-op when open)."""
        with self._tx() as conn:
            row = self._conversation_row(conversation_id)
            self._may_manage(conversation_id, agent_id)
            if row["status"] != "open":
                conn.execute(
                    "UPDATE conversations SET status = 'open', outcome = NULL,"
                    " snoozed_until = NULL, updated_at = ? WHERE id = ?",
                    (self._now(), conversation_id),
                )
                by = actor_of(agent_id)
                self._history("stage_history", conversation_id, by, "reopen", row["status"], "open")
                self._audit(by, "open", "conversation", conversation_id)
        return self.conversation(conversation_id)

    def snooze(
        self,
        conversation_id: int,
        until: datetime,
        *,
        agent_id: int | None = None,
        note: str | None = None,
    ) -> ConversationDetail:
        """Put the conversation aside until ``until`` (an aware time, in the
        future, at most :data:`MAX_SNOOZE` away). A closed conversation is
        refused (:class:`ConflictError`): reopen it first."""
        if until.tzinfo is None:
            raise InvalidInput("the snooze time needs a time zone")
        now = self.clock.now()
        if until <= now:
            raise InvalidInput("the snooze time is in the past")
        if until - now > MAX_SNOOZE:
            raise InvalidInput(f"a snooze lasts at most {MAX_SNOOZE.days} days")
        with self._tx() as conn:
            row = self._conversation_row(conversation_id)
            self._may_manage(conversation_id, agent_id)
            if row["status"] == "closed":
                raise ConflictError(f"conversation {conversation_id} is closed; reopen it first")
            conn.execute(
                "UPDATE conversations SET status = 'snoozed', snoozed_until = ?, updated_at = ?"
                " WHERE id = ?",
                (to_epoch(until), self._now(), conversation_id),
            )
            by = actor_of(agent_id)
            self._history(
                "stage_history",
                conversation_id,
                by,
                "snooze",
                row["status"],
                until.isoformat(),
                note,
            )
            self._audit(by, "snooze", "conversation", conversation_id, until=until.isoformat())
        return self.conversation(conversation_id)

    def wake_snoozed(self, limit: int = 1000) -> int:
        """Open again the snoozed conversations whose time has come (the clock
        tick calls it; idempotent, safe from several processes). Returns how many."""
        now = self._now()
        due = self._rows(
            "SELECT id FROM conversations WHERE status = 'snoozed' AND snoozed_until <= ?"
            " ORDER BY snoozed_until LIMIT ?",
            (now, limit),
        )
        woken = 0
        for row in due:
            with self._tx() as conn:
                cur = conn.execute(
                    "UPDATE conversations SET status = 'open', snoozed_until = NULL,"
                    " updated_at = ? WHERE id = ? AND status = 'snoozed' AND snoozed_until <= ?",
                    (now, row["id"], now),
                )
                if cur.rowcount != 1:
                    continue  # the lead wrote, or another tick woke it
                self._history("stage_history", row["id"], "system", "wake", "snoozed", "open")
                self._audit("system", "wake", "conversation", row["id"])
                woken += 1
        return woken

    def suggest_again(
        self, conversation_id: int, *, agent_id: int | None = None
    ) -> Suggestion | None:
        """Ask the copilot for a fresh suggestion on the lead's latest message: it
        is analysed again and the new reply supersedes the proposed one (paused
        suggestions resume: the agent asked). Returns the suggestion, or None when
        the copilot proposes nothing (an opted-out lead, an analysis failure)."""
        with self._tx() as conn:
            self._conversation_row(conversation_id)
            if agent_id is not None:
                require_write(conn, actor_of_agent(conn, agent_id), conversation_id)
            last = self._row(
                "SELECT m.id, m.wa_id, m.ts, c.contact_id FROM messages m"
                " JOIN conversations c ON c.id = m.conversation_id"
                " WHERE m.conversation_id = ? AND m.direction = 'inbound' AND m.backfill = 0"
                " AND m.revoked_at IS NULL AND COALESCE(m.type, 'text') != 'system'"
                " ORDER BY m.ts DESC, m.id DESC LIMIT 1",
                (conversation_id,),
            )
            if last is None:
                raise InvalidInput("the lead has written nothing to answer yet")
            conn.execute(
                "UPDATE conversations SET suggestions_paused = 0 WHERE id = ?", (conversation_id,)
            )
            self._audit(actor_of(agent_id), "suggest_again", "conversation", conversation_id)
        self._forget_context(conversation_id)  # type: ignore[attr-defined]
        result = IngestResult(
            message_id=last["wa_id"], conversation_id=conversation_id, contact_id=last["contact_id"]
        )
        done = self._analyse(result, last["id"], from_epoch(last["ts"]))  # type: ignore[attr-defined]
        if done.suggestion_id is None:
            return None
        return self.current_suggestion(conversation_id)  # type: ignore[attr-defined]

    def mark_read(self, conversation_id: int, agent_id: int) -> None:
        """Remember that ``agent_id`` has seen the conversation as it is now (the
        unread markers); never moves backwards."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO conversation_reads (agent_id, conversation_id, seq)"
                " SELECT ?, id, last_seq FROM conversations WHERE id = ?"
                " ON CONFLICT (agent_id, conversation_id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
                (agent_id, conversation_id),
            )
