"""The clock tick: one idempotent function that fires whatever is due.

``tick(now)`` is safe to run every minute, twice, or from two processes: each
action claims its work with a conditional update inside a write transaction, so
nothing fires twice. Order: retry pending analyses, out-of-hours replies,
acknowledgements past the first-response SLA, snoozed conversations whose time
came, due tasks (follow-up suggestions), refresh the suggestions whose reply
changed with time, SLA reassignment, then serve the queue.
"""

from __future__ import annotations

import json
from datetime import datetime

from copilot.inbox.clock import ManualClock
from copilot.inbox.db import checkpoint
from copilot.inbox.freshness import FreshnessMixin
from copilot.inbox.models import TickReport, from_epoch
from copilot.inbox.replies import render_template
from copilot.taxonomy import TemplateKey


class TickMixin(FreshnessMixin):
    """``tick``."""

    def tick(self, now: datetime | None = None) -> TickReport:
        """Fire what is due at ``now`` (default: the inbox clock). Idempotent."""
        if now is None:
            return self._tick()
        saved, self.clock = self.clock, ManualClock(now)
        try:
            return self._tick()
        finally:
            self.clock = saved

    def _tick(self) -> TickReport:
        report = TickReport(now=self.clock.now())
        # A minute's grace: a message stored just now may still be in another
        # process's hands between its two transactions.
        report.analyses_retried = self.retry_pending(  # type: ignore[attr-defined]
            self.config.retry_batch, min_age_seconds=60
        )
        waiting = self._rows(
            "SELECT c.id, c.waiting_since, c.first_response_at, c.ack_sent_at, c.ooh_sent_at"
            " FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
            " WHERE c.waiting_since IS NOT NULL AND c.status = 'open' AND ct.opted_out = 0"
            " ORDER BY c.waiting_since"
        )
        sla = self.profile.first_response_sla_minutes * 60
        now_ts = self._now()
        for row in waiting:
            since = row["waiting_since"]
            out_of_hours = not self.profile.is_open(from_epoch(since))
            if (
                out_of_hours
                and self.config.auto_out_of_hours
                and (row["ooh_sent_at"] or 0) < since
                and self._send_automatic(row["id"], TemplateKey.OUT_OF_HOURS, "ooh_sent_at")
            ):
                report.out_of_hours += 1
            elif (
                not out_of_hours
                and self.config.auto_acknowledgement
                and row["first_response_at"] is None
                and now_ts - since >= sla
                and (row["ack_sent_at"] or 0) < since
                and self._send_automatic(row["id"], TemplateKey.ACKNOWLEDGEMENT, "ack_sent_at")
            ):
                report.acknowledgements += 1
        # Snoozed conversations due now come back before the queue is served.
        report.woken = self.wake_snoozed()  # type: ignore[attr-defined]
        self._fire_tasks(report)
        # After the automatic sends: a suggestion is recomputed against them too.
        report.suggestions_refreshed = self.refresh_suggestions()
        report.reassigned = self.reassign_overdue()  # type: ignore[attr-defined]
        report.assigned_from_queue = self.serve_queue()  # type: ignore[attr-defined]
        checkpoint(self.db)
        return report

    def _fire_tasks(self, report: TickReport) -> None:
        now = self._now()
        due = self._rows(
            "SELECT t.id, t.kind, t.conversation_id FROM tasks t"
            " WHERE t.state = 'pending' AND t.due_at <= ? ORDER BY t.due_at",
            (now,),
        )
        for task in due:
            with self._tx() as conn:
                cur = conn.execute(
                    "UPDATE tasks SET state = 'fired', closed_at = ? WHERE id = ? AND state = 'pending'",
                    (now, task["id"]),
                )
                if cur.rowcount != 1:
                    continue  # another tick took it
                report.tasks_due += 1
                if task["kind"] == "custom":
                    self._audit("system", "task_due", "task", task["id"])
                    continue
                conv = self._row(
                    "SELECT c.id, c.language, c.fields, c.suggestions_paused, ct.name, ct.opted_out,"
                    " a.name AS agent_name FROM conversations c"
                    " JOIN contacts ct ON ct.id = c.contact_id"
                    " LEFT JOIN agents a ON a.id = c.assignee_id WHERE c.id = ?",
                    (task["conversation_id"],),
                )
                if conv["opted_out"] or conv["suggestions_paused"]:
                    continue
                key = TemplateKey(task["kind"])
                rendered = render_template(
                    self.profile,
                    key,
                    conv["language"],
                    now=self.clock.now(),
                    lead_name=conv["name"],
                    agent_name=conv["agent_name"],
                    fields=json.loads(conv["fields"] or "{}"),
                )
                if rendered is None:
                    continue  # the business left this template empty: nothing to propose
                self._propose(conv["id"], None, None, key, rendered.text, rendered.language)
                self._audit("system", "followup", "conversation", conv["id"], task=task["id"])
                report.followups += 1
