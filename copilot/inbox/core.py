"""The :class:`Inbox`: one object that puts the inbox parts together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlite_utils import Database

from copilot.inbox.assignment import AssignmentMixin
from copilot.inbox.clock import Clock
from copilot.inbox.closing import ClosingMixin
from copilot.inbox.corrections import CorrectionsMixin
from copilot.inbox.edits import EditsMixin
from copilot.inbox.ingest import Analyzer
from copilot.inbox.media import MediaMixin
from copilot.inbox.media_store import MediaCache
from copilot.inbox.metrics import MetricsMixin
from copilot.inbox.models import ConversationDetail, InboxConfig
from copilot.inbox.quick_replies import QuickRepliesMixin
from copilot.inbox.replies import OutboxSender, Sender
from copilot.inbox.sessions import SessionsMixin
from copilot.inbox.synced_templates import SyncedTemplatesMixin, approved_by_meta
from copilot.inbox.tasks import TasksMixin
from copilot.inbox.ticker import TickMixin
from copilot.profile import BusinessProfile


class Inbox(
    TickMixin,
    EditsMixin,
    CorrectionsMixin,
    AssignmentMixin,
    ClosingMixin,
    TasksMixin,
    MetricsMixin,
    SessionsMixin,
    QuickRepliesMixin,
    MediaMixin,
    SyncedTemplatesMixin,
):
    """The shared inbox: store, ingest, edits / revokes / reactions, assignment,
    pipeline, replies, tasks, clock and metrics over one SQLite database.

    >>> inbox = Inbox(":memory:")                       # demo profile, rules engine
    >>> agent, token = inbox.create_agent("Ana", team="ventas", available=True)

    ``copilot`` is anything with ``analyze(conversation, now)`` (a
    :class:`copilot.Copilot`); ``sender`` delivers outbound messages (default:
    the outbox, nothing leaves the machine); ``media_cache`` fetches and keeps
    Cloud API media (default: none, only the demo's media is served); ``clock`` tells the time (inject a
    :class:`~copilot.inbox.clock.ManualClock` in tests). One ``Inbox`` per thread
    or process; several may share one database file.
    """

    def __init__(
        self,
        db: Database | str | Path = ":memory:",
        *,
        copilot: Analyzer | None = None,
        profile: BusinessProfile | None = None,
        config: InboxConfig | None = None,
        clock: Clock | None = None,
        sender: Sender | None = None,
        media_cache: MediaCache | None = None,
    ) -> None:
        if copilot is None:
            from copilot.facade import Copilot

            copilot = Copilot(profile)
        super().__init__(db, profile=profile or copilot.profile, config=config, clock=clock)
        self.analyzer = copilot
        self.sender = sender or OutboxSender()
        self.media_cache = media_cache

    def template_previews(
        self, conversation_id: int, agent_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The profile's templates as they would go (see the replies part), their
        approved names checked against the last sync of Meta's approved list."""
        previews = super().template_previews(conversation_id, agent_id)
        return approved_by_meta(previews, self.synced_templates())

    # --- a new owner: the handoff notice of the waiting suggestion names them ---

    def claim(self, conversation_id: int, agent_id: int) -> ConversationDetail:
        """Claim it (:meth:`AssignmentMixin.claim`), then refresh its suggestion."""
        detail = super().claim(conversation_id, agent_id)
        self.refresh_suggestions(conversation_id=conversation_id)
        return detail

    def transfer(
        self, conversation_id: int, by_agent_id: int, to_agent_id: int, note: str | None = None
    ) -> ConversationDetail:
        """Transfer it (:meth:`AssignmentMixin.transfer`), then refresh its suggestion."""
        detail = super().transfer(conversation_id, by_agent_id, to_agent_id, note)
        self.refresh_suggestions(conversation_id=conversation_id)
        return detail

    def release(
        self, conversation_id: int, agent_id: int, note: str | None = None
    ) -> ConversationDetail:
        """Release it (:meth:`AssignmentMixin.release`), then refresh its suggestion."""
        detail = super().release(conversation_id, agent_id, note)
        self.refresh_suggestions(conversation_id=conversation_id)
        return detail
