"""The background runner: webhook deliveries and the clock's tick.

One runner thread per service process (under ``serve``: one dedicated
background process at lower CPU priority, the HTTP workers run none). Only the holder of the ``background``
lease (a row in ``service_leases``, renewed while alive) works, so with several
granian workers exactly one process drains the delivery queue and ticks; if it
dies, another takes over when the lease expires. Every piece of work is
idempotent anyway (deliveries are recorded in order, the tick claims what it fires).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.process
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from copilot.inbox import Inbox
from copilot.service import deliveries

if TYPE_CHECKING:
    from copilot.service.config import Settings

log = logging.getLogger(__name__)

LEASE = "background"


class Lease:
    """A named lease in the database: at most one live holder at a time."""

    def __init__(self, conn: sqlite3.Connection, name: str, holder: str, ttl: float) -> None:
        self.conn, self.name, self.holder, self.ttl = conn, name, holder, ttl

    def acquire(self) -> bool:
        """Take or renew the lease; True when this holder has it."""
        now = time.time()
        cur = self.conn.execute(
            "INSERT INTO service_leases (name, holder, expires_at) VALUES (?,?,?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " expires_at = excluded.expires_at"
            " WHERE service_leases.holder = excluded.holder OR service_leases.expires_at < ?",
            (self.name, self.holder, now + self.ttl, now),
        )
        return cur.rowcount == 1

    def release(self) -> None:
        """Give the lease up (another runner may take it at once)."""
        self.conn.execute(
            "DELETE FROM service_leases WHERE name = ? AND holder = ?", (self.name, self.holder)
        )


class Runner:
    """Drains webhook deliveries and runs ``inbox.tick()`` every ``tick_seconds``."""

    def __init__(
        self,
        inbox_factory: Callable[[], Inbox],
        db: str,
        queue_db: str,
        *,
        tick_seconds: float = 60.0,
        idle_wait: float = 0.2,
        batch: int = 100,
        holder: str | None = None,
    ) -> None:
        self._inbox_factory = inbox_factory
        self._db = db
        self._queue_db = queue_db
        self.tick_seconds = tick_seconds
        self.idle_wait = idle_wait
        self.batch = batch
        # A supervisor passes a stable holder, so a restarted process takes its
        # predecessor's lease at once instead of waiting for it to expire.
        self.holder = holder or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0
        self.processed = 0

    def start(self) -> None:
        """Start the runner thread (a daemon: it never keeps the process alive)."""
        self._thread = threading.Thread(target=self._run, name="copilot-runner", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A delivery arrived: look at the queue now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current piece of work."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        inbox = self._inbox_factory()
        queue_conn = deliveries.connect(self._queue_db)
        conn = deliveries.connect_state(self._db)
        queue = deliveries.DeliveryQueue(queue_conn, conn)
        # Generous: a batch under a slow (LLM) engine may take a while between renewals.
        lease = Lease(conn, LEASE, self.holder, ttl=120.0)
        next_tick = time.monotonic()  # tick once at start: catch up after a restart
        renewed = checkpointed = 0.0
        leader = False
        try:
            while not self._stop.is_set():
                try:
                    if time.monotonic() - renewed > 2.0 or not leader:
                        leader = lease.acquire()
                        renewed = time.monotonic()
                    if not leader:
                        self._stop.wait(1.0)
                        continue
                    taken = deliveries.drain(inbox, queue, self.batch)
                    self.processed += taken
                    if time.monotonic() - checkpointed > 1.0:
                        queue.checkpoint()
                        checkpointed = time.monotonic()
                    if time.monotonic() >= next_tick:
                        report = inbox.tick()
                        queue.set_status("last_tick", report.model_dump_json())
                        self.ticks += 1
                        next_tick = time.monotonic() + self.tick_seconds
                        log.debug("tick: %s", report)
                    if not taken:
                        self._wake.wait(self.idle_wait)
                        self._wake.clear()
                except Exception:  # keep running: the next round retries
                    log.exception("background runner round failed")
                    self._stop.wait(1.0)
        finally:
            try:
                lease.release()
            finally:
                conn.close()
                queue_conn.close()
                inbox.close()


def run_process(settings: Settings, nice: int = 10, holder: str | None = None) -> None:
    """Entry point of the dedicated background process ``serve`` starts.

    Lowered CPU priority: the HTTP workers (which only store deliveries) come
    first, analysis uses what is left, so acknowledging Meta stays fast under load.
    """
    import signal

    from copilot.service.state import ServiceState

    with contextlib.suppress(OSError):  # not permitted: run at normal priority
        os.nice(nice)
    state = ServiceState.build(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    state.start_runner(holder=holder)
    try:
        stop.wait()
    finally:
        state.close()


def start_process(
    settings: Settings, holder: str | None = None
) -> multiprocessing.process.BaseProcess:
    """Start :func:`run_process` in a child process (spawned, not forked)."""
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=run_process,
        kwargs={"settings": settings, "holder": holder},
        name="lead-copilot-background",
        daemon=True,
    )
    process.start()
    return process


class BackgroundSupervisor:
    """Keeps the background process alive: restarts it if it dies (a crash in
    an engine, the OOM killer), so deliveries never stay unprocessed."""

    def __init__(self, settings: Settings, restart_delay: float = 1.0) -> None:
        self.settings = settings
        self.restart_delay = restart_delay
        self.process: multiprocessing.process.BaseProcess | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self.holder = f"serve-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def start(self) -> None:
        """Start the process and a watcher thread that restarts it."""
        self.process = start_process(self.settings, self.holder)
        self._watcher = threading.Thread(target=self._watch, name="copilot-bg-watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stopping.is_set():
            process = self.process
            if process is None:
                return
            process.join(0.5)
            if process.is_alive() or self._stopping.is_set():
                continue
            log.error("background process exited (code %s); restarting", process.exitcode)
            self._stopping.wait(self.restart_delay)
            if not self._stopping.is_set():
                self.process = start_process(self.settings, self.holder)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching, then terminate the process and wait for it."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout)
        if self.process is not None:
            self.process.terminate()
            self.process.join(timeout)
