"""The sales pipeline: ``new`` -> ``qualified`` -> ``proposal_sent`` -> ``won`` | ``lost``.

A lead moves to ``qualified`` by itself when the profile's ``qualified_when``
fields are all known (default: need, timeline and next step); any other move is
manual. Every move is kept in ``stage_history`` with who made it and when.
"""

from __future__ import annotations

from copilot.inbox.errors import InvalidInput
from copilot.inbox.models import ConversationDetail
from copilot.inbox.store import InboxStore, actor_of
from copilot.taxonomy import LostReason, Stage


def is_qualified(known_fields: set[str], required: list[str]) -> bool:
    """True when every field in ``required`` is known."""
    return all(name in known_fields for name in required)


class PipelineMixin(InboxStore):
    """Stage moves."""

    def _set_stage(
        self,
        conversation_id: int,
        before: str,
        stage: Stage,
        lost_reason: LostReason | None,
        by: str,
        note: str | None = None,
    ) -> None:
        now = self._now()
        self.conn.execute(
            "UPDATE conversations SET stage = ?, lost_reason = ?, updated_at = ? WHERE id = ?",
            (stage.value, lost_reason.value if lost_reason else None, now, conversation_id),
        )
        self._record_stage(conversation_id, before, stage, lost_reason, by, note, now)

    def _record_stage(
        self,
        conversation_id: int,
        before: str,
        stage: Stage,
        lost_reason: LostReason | None,
        by: str,
        note: str | None,
        now: float,
    ) -> None:
        """Keep a stage move, already written on the conversation, in the stage
        history and the audit log (inside a tx)."""
        after = stage.value if lost_reason is None else f"{stage.value}:{lost_reason.value}"
        self._history("stage_history", conversation_id, by, "stage", before, after, note, now)
        self._audit(by, "stage", "conversation", conversation_id, before=before, after=after)

    def move_stage(
        self,
        conversation_id: int,
        stage: Stage | str,
        *,
        agent_id: int | None = None,
        lost_reason: LostReason | str | None = None,
        note: str | None = None,
    ) -> ConversationDetail:
        """Move a conversation to ``stage`` by hand (any move is allowed and recorded).
        ``lost`` needs a ``lost_reason``; other stages refuse one."""
        try:
            stage = Stage(stage)
            lost_reason = LostReason(lost_reason) if lost_reason is not None else None
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        if stage is Stage.LOST and lost_reason is None:
            raise InvalidInput(
                f"moving to 'lost' needs a lost_reason: {', '.join(r.value for r in LostReason)}"
            )
        if stage is not Stage.LOST and lost_reason is not None:
            raise InvalidInput("lost_reason only goes with stage 'lost'")
        with self._tx():
            row = self._conversation_row(conversation_id)
            self._apply_stage(row, stage, lost_reason, actor_of(agent_id), note)
        return self.conversation(conversation_id)

    def _apply_stage(
        self,
        row: dict,
        stage: Stage,
        lost_reason: LostReason | None,
        by: str,
        note: str | None,
    ) -> None:
        """Move the conversation of ``row`` to ``stage`` if it is elsewhere (inside a tx)."""
        if row["stage"] == stage.value and row["lost_reason"] == (
            lost_reason.value if lost_reason else None
        ):
            return
        self._set_stage(row["id"], row["stage"], stage, lost_reason, by, note)
        if stage in (Stage.WON, Stage.LOST):
            self._cancel_automatic_tasks(row["id"])

    def _cancel_automatic_tasks(self, conversation_id: int) -> None:
        """A closed deal or conversation needs no automatic follow-up (inside a tx);
        an agent's own tasks stay."""
        self.conn.execute(
            "UPDATE tasks SET state = 'cancelled', closed_at = ? WHERE"
            " conversation_id = ? AND state = 'pending' AND kind != 'custom'",
            (self._now(), conversation_id),
        )

    def _qualifies(self, stage: str, known: set[str]) -> bool:
        """True when a ``new`` lead now meets the profile's qualification rule."""
        return stage == Stage.NEW.value and is_qualified(
            known, self.profile.qualification.qualified_when
        )

    def _record_auto_qualified(self, conversation_id: int, now: float) -> None:
        """Record the automatic ``new`` -> ``qualified`` move the caller just wrote."""
        required = ", ".join(self.profile.qualification.qualified_when)
        self._record_stage(
            conversation_id,
            Stage.NEW.value,
            Stage.QUALIFIED,
            None,
            "system",
            f"known: {required}",
            now,
        )
