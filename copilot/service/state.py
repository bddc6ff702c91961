"""What one service process holds: settings, the copilot, the sender, and one
:class:`Inbox` per thread (an ``Inbox`` is one SQLite connection; Litestar runs
sync handlers in a thread pool)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from dataclasses import dataclass, field

from copilot.engines.spec import build_engine
from copilot.facade import Copilot
from copilot.inbox import Inbox
from copilot.inbox.ingest import Analyzer
from copilot.inbox.media_store import MediaCache
from copilot.inbox.replies import Sender
from copilot.profile import BusinessProfile, load_profile
from copilot.service import deliveries
from copilot.service.background import Runner
from copilot.service.config import ConfigError, Settings
from copilot.service.queuefile import QueueFile
from copilot.service.sending import build_media_cache, build_sender

ADMIN_NAME = "admin"


@dataclass
class ServiceState:
    """Shared, thread-safe parts of the service; ``inbox()`` gives this thread's inbox."""

    settings: Settings
    profile: BusinessProfile
    copilot: Analyzer
    sender: Sender
    admin_agent_id: int | None = None
    runner: Runner | None = None
    writer: deliveries.DeliveryWriter | None = None
    #: Cloud API media, shared by every thread's inbox (None without credentials)
    media_cache: MediaCache | None = None
    _local: threading.local = field(default_factory=threading.local)
    _all: list[Inbox] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, settings: Settings) -> ServiceState:
        """Load the profile and engine, open (and migrate) the database, create the
        service tables and the bootstrap admin. Raises :class:`ConfigError`."""
        try:
            profile = load_profile(settings.profile)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"LEAD_COPILOT_PROFILE (--profile): {exc}") from exc
        try:
            copilot = Copilot(profile, build_engine(settings.engine))
        except Exception as exc:  # the engine's own configuration (API keys...)
            raise ConfigError(
                f"LEAD_COPILOT_ENGINE (--engine): engine {settings.engine!r} cannot start: {exc}"
            ) from exc
        state = cls(
            settings,
            profile,
            copilot,
            build_sender(settings),
            media_cache=build_media_cache(settings),
        )
        inbox = state.inbox()  # opens and migrates the file (the service's tables too)
        try:
            deliveries.connect(settings.queue_path).close()  # creates and migrates the queue
        except sqlite3.Error as exc:
            raise ConfigError(
                f"LEAD_COPILOT_QUEUE_DB: cannot open the webhook queue {settings.queue_path}: {exc}"
            ) from exc
        if settings.admin_token:
            state.admin_agent_id = ensure_admin(inbox)
        return state

    def inbox(self) -> Inbox:
        """This thread's inbox (opened on first use)."""
        inbox = getattr(self._local, "inbox", None)
        if inbox is None:
            inbox = Inbox(
                self.settings.db,
                copilot=self.copilot,
                profile=self.profile,
                sender=self.sender,
                media_cache=self.media_cache,
            )
            self._local.inbox = inbox
            with self._lock:
                self._all.append(inbox)
        return inbox

    def delivery_queue(self) -> deliveries.DeliveryQueue:
        """This thread's view of the webhook queue and the runner's progress."""
        found = getattr(self._local, "queue", None)
        if found is None:
            found = deliveries.DeliveryQueue(
                QueueFile(self.settings.queue_path), deliveries.connect_state(self.settings.db)
            )
            self._local.queue = found
        return found

    def delivery_writer(self) -> deliveries.DeliveryWriter:
        """This process's webhook delivery writer (started on first use)."""
        if self.writer is None:
            with self._lock:
                if self.writer is None:
                    self.writer = deliveries.DeliveryWriter(self.settings.queue_path)
        return self.writer

    def start_runner(self, holder: str | None = None) -> None:
        """Start the background runner (deliveries and the tick) in this process."""
        if self.runner is None:
            self.runner = Runner(
                self.inbox_for_runner,
                self.settings.db,
                self.settings.queue_path,
                tick_seconds=self.settings.tick_seconds,
                holder=holder,
            )
            self.runner.start()

    def inbox_for_runner(self) -> Inbox:
        """A fresh inbox for the runner thread (closed by the runner)."""
        return Inbox(
            self.settings.db, copilot=self.copilot, profile=self.profile, sender=self.sender
        )

    def wake_runner(self) -> None:
        """Tell the runner a delivery is waiting (no-op without a runner)."""
        if self.runner is not None:
            self.runner.wake()

    def close(self) -> None:
        """Stop the runner, close every inbox this state opened and the sender's HTTP client."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        with self._lock:
            for inbox in self._all:
                # An inbox opened in another thread cannot be closed here; freed at exit.
                with contextlib.suppress(sqlite3.ProgrammingError):
                    inbox.close()
            self._all.clear()
        close = getattr(self.sender, "close", None)
        if close is not None:
            close()


def ensure_admin(inbox: Inbox) -> int:
    """The id of the bootstrap admin agent (the holder of ``LEAD_COPILOT_ADMIN_TOKEN``),
    created on first start. Its own generated token is thrown away: the
    environment's token is the way in."""
    admins = [a for a in inbox.agents() if a.role == "admin" and a.name == ADMIN_NAME]
    if admins:
        return min(a.id for a in admins)
    agent, _token = inbox.create_agent(ADMIN_NAME, role="admin")
    return agent.id
