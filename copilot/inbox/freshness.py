"""Suggestions that stay current: recomputed when what they depend on changes.

A suggestion is rendered when the lead's message is analysed, but what it says
depends on more than that message: the time (the first-response SLA passing,
business hours opening or closing, the 24-hour window closing), the messages
since (an automatic acknowledgement) and the owner (the handoff notice names
them). :meth:`refresh_suggestions`, called by the clock tick, recomputes every
proposed suggestion from its stored analysis as of now, without running the
engine again (:func:`copilot.replies.refresh_reply`), and replaces it only when
the reply changed. A promise ("we reply within 15 minutes") is thus never left
on offer after it stopped being true.
"""

from __future__ import annotations

from copilot.inbox.replies import RepliesMixin
from copilot.models import Analysis
from copilot.replies import refresh_reply
from copilot.taxonomy import TemplateKey

#: Proposed suggestions recomputed per call; the next call goes on from there.
REFRESH_BATCH = 2000


class FreshnessMixin(RepliesMixin):
    """``refresh_suggestions``."""

    #: The last suggestion id the previous call read (round robin, per process).
    _refresh_after: int = 0

    def refresh_suggestions(
        self, limit: int = REFRESH_BATCH, *, conversation_id: int | None = None
    ) -> int:
        """Recompute the proposed suggestions of open conversations as of the inbox
        clock; replace those whose reply changed. Returns how many were replaced.

        With ``conversation_id``, only that conversation's (called when its owner
        changes, since the handoff notice names the owner). A suggestion that no
        longer applies (nothing is due any more) is superseded without a replacement."""
        select = (
            "SELECT s.id, s.conversation_id, s.message_id, s.analysis_id, s.template, s.text,"
            " a.result, c.last_seq, c.last_message_at, c.updated_at"
            " FROM suggestions s JOIN conversations c ON c.id = s.conversation_id"
            " JOIN analyses a ON a.id = s.analysis_id"
            " JOIN contacts ct ON ct.id = c.contact_id"
            " WHERE s.state = 'proposed' AND c.status = 'open' AND c.suggestions_paused = 0"
            " AND ct.opted_out = 0"
        )
        if conversation_id is not None:
            rows = self._rows(select + " AND s.conversation_id = ?", (conversation_id,))
        else:
            rows = self._rows(
                select + " AND s.id > ? ORDER BY s.id LIMIT ?", (self._refresh_after, limit)
            )
            # Round robin over the calls: the next one goes on after the last seen, and
            # starts over once the end is reached, so every suggestion gets its turn.
            self._refresh_after = rows[-1]["id"] if len(rows) == limit else 0
        now = self.clock.now()
        replaced = 0
        for row in rows:
            cid = row["conversation_id"]
            conversation = self._conversation_for(cid, row["last_seq"], row["last_message_at"])
            last = conversation.last_inbound
            if last is None or last.id != row["message_id"]:
                continue  # a newer message awaits its analysis, which replaces this one
            analysis = Analysis.model_validate_json(row["result"])
            reply = refresh_reply(conversation, analysis, self.profile, now)
            if reply is not None and (reply.template.value, reply.text) == (
                row["template"],
                row["text"],
            ):
                continue  # still current
            with self._tx() as conn:
                # Only if nobody decided on it meanwhile (another tick, the agent).
                current = conn.execute(
                    "SELECT state FROM suggestions WHERE id = ?", (row["id"],)
                ).fetchone()
                if current is None or current[0] != "proposed":
                    continue
                if reply is None:
                    conn.execute(
                        "UPDATE suggestions SET state = 'superseded', decided_at = ? WHERE id = ?",
                        (self._now(), row["id"]),
                    )
                else:
                    self._propose(
                        cid,
                        row["message_id"],
                        row["analysis_id"],
                        TemplateKey(reply.template),
                        reply.text,
                        reply.language,
                    )
                self._audit(
                    "system",
                    "suggestion_refreshed",
                    "conversation",
                    cid,
                    old=row["template"],
                    new=reply.template.value if reply else None,
                )
            replaced += 1
        return replaced
