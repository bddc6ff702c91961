"""The background runner: webhook deliveries and the clock's tick.

One runner thread per service process (under ``serve``: one dedicated
background process at lower CPU priority, the HTTP workers run none). Only the
holder of the ``background`` lease (a row in ``service_leases``) works, so with
several processes exactly one drains the delivery queue and ticks. The lease is
renewed every few seconds by its own thread and names the holder's process
(boot id, pid, start time): a process that starts after a crash on the same
machine sees the holder is gone and takes the lease at once; from elsewhere it
waits for the short :data:`LEASE_TTL`. Every piece of work is idempotent anyway
(deliveries are recorded in order, the tick claims what it fires).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.process
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from copilot.inbox import Inbox
from copilot.inbox.db import immediate
from copilot.service import deliveries
from copilot.service.queuefile import QueueFile

if TYPE_CHECKING:
    from copilot.service.config import Settings

log = logging.getLogger(__name__)

LEASE = "background"
#: A lease not renewed for this long is free for anyone (renewed every LEASE_TTL / 6).
LEASE_TTL = 30.0


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return f"host:{socket.gethostname()}"


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), None without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):  # a zombie has exited already
        return "exited"
    return fields[19]


def process_token(pid: int | None = None) -> str:
    """Names a running process across pid reuse: ``boot:pid:start``."""
    pid = os.getpid() if pid is None else pid
    return f"{_boot_id()}:{pid}:{_start_time(pid) or ''}"


def holder_alive(token: str | None) -> bool | None:
    """Whether the process a :func:`process_token` names still runs: None when
    that cannot be told (another machine, no token)."""
    if not token:
        return None
    parts = token.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _boot_id():
        return None
    try:
        pid = int(parts[1])
    except ValueError:
        return None
    started = _start_time(pid)
    if started is None:  # no /proc: ask the kernel whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except OSError:
            return True
        return True
    return started == parts[2]


class Lease:
    """A named lease in the database: at most one live holder at a time."""

    def __init__(
        self, conn: sqlite3.Connection, name: str, holder: str, ttl: float = LEASE_TTL
    ) -> None:
        self.conn, self.name, self.holder, self.ttl = conn, name, holder, ttl
        self.process = process_token()

    def acquire(self) -> bool:
        """Take or renew the lease; True when this holder has it. A lease is taken
        from another holder when it expired or its process is known to be gone."""
        conn = self.conn
        with immediate(conn):
            now = time.time()
            row = conn.execute(
                "SELECT holder, expires_at, process FROM service_leases WHERE name = ?",
                (self.name,),
            ).fetchone()
            take = (
                row is None
                or row[0] == self.holder
                or row[1] < now
                or holder_alive(row[2]) is False
            )
            if take:
                if row is not None and row[0] != self.holder:
                    log.info("lease %s taken over from %s", self.name, row[0])
                conn.execute(
                    "INSERT OR REPLACE INTO service_leases (name, holder, expires_at, process)"
                    " VALUES (?,?,?,?)",
                    (self.name, self.holder, now + self.ttl, self.process),
                )
        return take

    def release(self) -> None:
        """Give the lease up (another runner may take it at once)."""
        self.conn.execute(
            "DELETE FROM service_leases WHERE name = ? AND holder = ?", (self.name, self.holder)
        )


def lease_info(conn: sqlite3.Connection, name: str = LEASE) -> dict | None:
    """Who holds a lease, until when, and whether its process still runs."""
    row = conn.execute(
        "SELECT holder, expires_at, process FROM service_leases WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        return None
    return {"holder": row[0], "expires_at": row[1], "alive": holder_alive(row[2])}


class Runner:
    """Drains webhook deliveries and runs ``inbox.tick()`` every ``tick_seconds``.

    Neither stops the other: a round that fails is logged and tried again after
    a growing pause, and the tick runs on its own schedule whatever the queue does.
    """

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
        lease_ttl: float = LEASE_TTL,
    ) -> None:
        self._inbox_factory = inbox_factory
        self._db = db
        self._queue_db = queue_db
        self.tick_seconds = tick_seconds
        self.idle_wait = idle_wait
        self.batch = batch
        self.lease_ttl = lease_ttl
        # A supervisor passes a stable holder, so a restarted process takes its
        # predecessor's lease at once.
        self.holder = holder or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._leader = threading.Event()
        self._thread: threading.Thread | None = None
        self._keeper: threading.Thread | None = None
        self.ticks = 0
        self.processed = 0

    def start(self) -> None:
        """Start the runner and lease threads (daemons: they never keep the process alive)."""
        self._keeper = threading.Thread(target=self._keep_lease, name="copilot-lease", daemon=True)
        self._keeper.start()
        self._thread = threading.Thread(target=self._run, name="copilot-runner", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A delivery arrived: look at the queue now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current piece of work."""
        self._stop.set()
        self._wake.set()
        for thread in (self._thread, self._keeper):
            if thread is not None:
                thread.join(timeout)

    def _keep_lease(self) -> None:
        conn = deliveries.connect_state(self._db)
        lease = Lease(conn, LEASE, self.holder, ttl=self.lease_ttl)
        try:
            while not self._stop.is_set():
                try:
                    if lease.acquire():
                        self._leader.set()
                    else:
                        self._leader.clear()
                except Exception as exc:  # storage trouble: keep the last answer
                    log.warning("cannot renew the background lease: %s", exc)
                self._stop.wait(self.lease_ttl / 6 if self._leader.is_set() else 1.0)
        finally:
            try:
                with contextlib.suppress(sqlite3.Error):
                    lease.release()
            finally:
                conn.close()

    def _run(self) -> None:
        inbox = self._inbox_factory()
        queue_file = QueueFile(self._queue_db)
        conn = deliveries.connect_state(self._db)
        queue = deliveries.DeliveryQueue(queue_file, conn, salvage=True)
        next_tick = time.monotonic()  # tick once at start: catch up after a restart
        checkpointed = 0.0
        failures = 0
        try:
            while not self._stop.is_set():
                if not self._leader.wait(0.5):
                    continue
                taken = 0
                try:
                    taken = deliveries.drain(inbox, queue, self.batch)
                    self.processed += taken
                    failures = 0
                except Exception:  # storage trouble or a bug: the next round retries
                    failures += 1
                    log.exception("processing webhook deliveries failed (%s in a row)", failures)
                    queue_file.close()  # reopen the file: it may have been replaced
                if time.monotonic() - checkpointed > 1.0:
                    with contextlib.suppress(Exception):
                        queue.checkpoint()
                    checkpointed = time.monotonic()
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + self.tick_seconds
                    try:
                        report = inbox.tick()
                        queue.set_status("last_tick", report.model_dump_json())
                        self.ticks += 1
                        log.debug("tick: %s", report)
                    except Exception:
                        log.exception("the clock's tick failed; trying again shortly")
                        next_tick = time.monotonic() + min(self.tick_seconds, 5.0)
                if failures:
                    self._stop.wait(min(30.0, 0.5 * 2 ** min(failures, 6)))
                elif queue.storage_trouble:
                    self._stop.wait(0.2)  # let the trouble pass before the next ones
                elif not taken:
                    self._wake.wait(self.idle_wait)
                    self._wake.clear()
        finally:
            try:
                queue_file.close()
                conn.close()
            finally:
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
