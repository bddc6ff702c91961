"""Follow-up and custom tasks.

Follow-ups follow the taxonomy's defaults, with the delays of the profile's
``[follow_ups]``: after a person answers, a ``soft_followup`` falls due when the
lead stays silent ``soft_followup_hours`` (or a ``proposal_followup`` after
``proposal_followup_days`` once the lead is qualified or has a proposal), and a
``reactivation`` after ``reactivation_days``. Whenever the lead writes, the
pending follow-ups are cancelled. Custom tasks have a title, a due time and an owner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from copilot.inbox.access import Actor, visible_conversations_sql
from copilot.inbox.errors import InvalidInput, NotFoundError
from copilot.inbox.models import Task, from_epoch, to_epoch
from copilot.inbox.store import InboxStore, actor_of
from copilot.models import checked_moment
from copilot.taxonomy import Stage

_AUTO = ("soft_followup", "proposal_followup", "reactivation")


class TasksMixin(InboxStore):
    """Scheduling and closing tasks."""

    def _schedule_followups(self, cid: int, ts: float) -> None:
        """After a person answered at ``ts``: replace the pending follow-ups (inside a tx)."""
        now = self._now()
        self.conn.execute(
            "UPDATE tasks SET state = 'cancelled', closed_at = ? WHERE conversation_id = ?"
            " AND state = 'pending' AND kind IN (?, ?, ?)",
            (now, cid, *_AUTO),
        )
        row = self._row(
            "SELECT c.stage, ct.opted_out FROM conversations c"
            " JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = ?",
            (cid,),
        )
        if row["opted_out"] or row["stage"] in (Stage.WON.value, Stage.LOST.value):
            return
        delays = self.profile.follow_ups
        if row["stage"] in (Stage.QUALIFIED.value, Stage.PROPOSAL_SENT.value):
            first = ("proposal_followup", ts + delays.proposal_followup_days * 86400)
        else:
            first = ("soft_followup", ts + delays.soft_followup_hours * 3600)
        for kind, due in (first, ("reactivation", ts + delays.reactivation_days * 86400)):
            self.conn.execute(
                "INSERT INTO tasks (conversation_id, kind, due_at, state, created_at)"
                " VALUES (?, ?, ?, 'pending', ?)",
                (cid, kind, due, now),
            )

    @staticmethod
    def _task(row: dict[str, Any]) -> Task:
        return Task(
            id=row["id"],
            conversation_id=row["conversation_id"],
            kind=row["kind"],
            title=row["title"],
            owner_id=row["owner_id"],
            due_at=from_epoch(row["due_at"]),
            state=row["state"],
            created_at=from_epoch(row["created_at"]),
        )

    def create_task(
        self,
        conversation_id: int,
        title: str,
        due_at: datetime,
        *,
        owner_id: int | None = None,
        by_agent_id: int | None = None,
    ) -> Task:
        """A custom task (call back, send the quote...) with a due time and an owner
        (default: the conversation's owner). ``due_at`` must lie in the range
        every stored moment keeps to (:func:`copilot.models.checked_moment`)."""
        if not title.strip():
            raise InvalidInput("a task needs a title")
        try:
            due_at = checked_moment(due_at, "due_at")
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        with self._tx() as conn:
            conv = self._conversation_row(conversation_id)
            owner = owner_id if owner_id is not None else conv["assignee_id"]
            cur = conn.execute(
                "INSERT INTO tasks (conversation_id, kind, title, owner_id, due_at, state,"
                " created_at) VALUES (?, 'custom', ?, ?, ?, 'pending', ?)",
                (conversation_id, title.strip(), owner, to_epoch(due_at), self._now()),
            )
            self._audit(actor_of(by_agent_id), "task_create", "task", cur.lastrowid, title=title)
        return self.task(cur.lastrowid)

    def task(self, task_id: int) -> Task:
        """One task."""
        row = self._row("SELECT * FROM tasks WHERE id = ?", (task_id,))
        if row is None:
            raise NotFoundError(f"no task {task_id}")
        return self._task(row)

    def tasks(
        self,
        *,
        conversation_id: int | None = None,
        owner_id: int | None = None,
        state: str | None = None,
        visible_to: Actor | None = None,
    ) -> list[Task]:
        """Tasks filtered by conversation, owner and/or state, by due time;
        ``visible_to``: only those of conversations the actor may read."""
        where, params = [], []
        for column, value in (
            ("conversation_id", conversation_id),
            ("owner_id", owner_id),
            ("state", state),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if visible_to is not None and not visible_to.is_admin:
            ids, more = visible_conversations_sql(visible_to)
            where.append(f"conversation_id IN {ids}")
            params.extend(more)
        sql = "SELECT * FROM tasks" + (f" WHERE {' AND '.join(where)}" if where else "")
        return [self._task(r) for r in self._rows(sql + " ORDER BY due_at, id", tuple(params))]

    def close_task(
        self, task_id: int, *, agent_id: int | None = None, cancel: bool = False
    ) -> Task:
        """Mark a task done (or cancelled)."""
        state = "cancelled" if cancel else "done"
        with self._tx() as conn:
            task = self.task(task_id)
            if task.state in ("done", "cancelled"):
                return task
            conn.execute(
                "UPDATE tasks SET state = ?, closed_at = ? WHERE id = ?",
                (state, self._now(), task_id),
            )
            self._audit(actor_of(agent_id), f"task_{state}", "task", task_id)
        return self.task(task_id)
