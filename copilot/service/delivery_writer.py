"""Appending webhook deliveries to the queue file from the event loop."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

from copilot.inbox.db import immediate
from copilot.service.queuefile import QueueFile

log = logging.getLogger(__name__)


class DeliveryWriter:
    """Appends webhook deliveries from the event loop without blocking it.

    One thread per process owns a queue connection and commits whatever arrived
    meanwhile in one transaction (group commit); each request awaits its own
    delivery's commit, so the 200 still goes out only once the body is stored.
    SQLite lock waits and WAL checkpoints happen in this thread, never on the loop.
    A storage error (disk full, I/O) fails the batch's requests with it (the
    webhook answers 503 and Meta retries); the next batch opens the file again.
    When the file at the path was deleted or replaced, the writer moves to the
    new one, and stores again there a batch it may have committed to the old.
    """

    def __init__(self, path: str | Path, max_batch: int = 256) -> None:
        self.path = path
        self.max_batch = max_batch
        #: time of the last failed and of the last successful commit (health)
        self.last_error: tuple[float, str] | None = None
        self.last_success: float | None = None
        self._items: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def append(self, body: bytes, state: str = "pending", error: str | None = None) -> int:
        """Store one delivery; returns its id once committed. Raises the storage
        error (``sqlite3.Error`` or ``OSError``) when it could not be stored."""
        self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._items.put((body, state, error, future, loop))
        return await future

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    thread = threading.Thread(
                        target=self._run, name="copilot-webhook-writer", daemon=True
                    )
                    thread.start()
                    self._thread = thread

    def close(self, timeout: float = 5.0) -> None:
        """Finish what is queued, then stop the thread."""
        if self._thread is not None:
            self._items.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        file = QueueFile(self.path)
        try:
            while True:
                item = self._items.get()
                if item is None:
                    return
                batch = [item]
                while len(batch) < self.max_batch:
                    try:
                        nxt = self._items.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        self._items.put(None)  # stop after this batch
                        break
                    batch.append(nxt)
                self._store(file, batch)
        finally:
            file.close()

    def _store(self, file: QueueFile, batch: list) -> None:
        try:
            ids = self._commit(file, batch)
            if file.replaced():
                # Deleted or replaced while we committed: the rows may be in a file
                # nobody will read again. Store them in the new one (a delivery
                # processed twice is harmless; one never processed is lost).
                ids = self._commit(file, batch)
        except Exception as exc:
            file.close()  # reopened (or created again) for the next batch
            self.last_error = (time.time(), f"{type(exc).__name__}: {exc}"[:300])
            log.error("cannot store %s webhook deliveries: %s", len(batch), exc)
            for _, _, _, future, loop in batch:
                loop.call_soon_threadsafe(_resolve, future, None, exc)
            return
        self.last_success = time.time()
        for (_, _, _, future, loop), delivery_id in zip(batch, ids, strict=True):
            loop.call_soon_threadsafe(_resolve, future, delivery_id, None)

    @staticmethod
    def _commit(file: QueueFile, batch: list) -> list[int]:
        conn = file.get()
        # Checkpoints (which fsync) are the runner's job, not the webhook path's.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        now = time.time()
        with immediate(conn):
            ids = [
                conn.execute(
                    "INSERT INTO webhook_deliveries (received_at, body, state, error)"
                    " VALUES (?,?,?,?)",
                    (now, body, state, error),
                ).lastrowid
                for body, state, error, _, _ in batch
            ]
        return ids


def _resolve(future: asyncio.Future, value: Any, exc: BaseException | None) -> None:
    if future.done():  # the client went away meanwhile; the delivery is stored anyway
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(value)
