"""``GET /healthz``: can the service do its job, and how far behind is it.

The answer is **503** (``"status": "unavailable"``) when the service cannot do
its job and an operator (or an orchestrator) must act:

- the databases cannot be read;
- the disk of the inbox or of the queue has less than :data:`MIN_FREE_BYTES`
  free, or this process failed to store a webhook delivery lately (Meta gets
  503s and retries; nothing new is acknowledged);
- processing is blocked: deliveries wait for longer than ``stuck_seconds``
  (``LEAD_COPILOT_STUCK_SECONDS``) while none was settled in that time (no
  runner, a stuck runner, storage trouble);
- deliveries have been retried on storage errors for longer than ``stuck_seconds``;
- the clock's tick is ``stuck_seconds`` late.

It is **200 with ``"status": "degraded"``** when the service works but something
needs a look: deliveries were *set aside* (they could not be processed; they
are kept with their error until replayed with ``lead-copilot deliveries
replay``), or the queue lags while still moving. A restart fixes neither, and
taking the service out of rotation would stop Meta's deliveries from being
stored, so these never make it 503. Otherwise 200 ``"ok"``.

The body always carries the figures: deliveries per state, the queue's lag
(pending, age of the oldest, retrying, set aside, last settled), the runner's
lease, the last tick, free disk space and the last storage error.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.response import Response

from copilot.service.background import lease_info

#: Below this much free space a database write may fail at any moment.
MIN_FREE_BYTES = 1024 * 1024
#: A failed webhook write counts for this long unless one succeeded since.
WRITE_ERROR_WINDOW = 60.0


def _iso(at: float | None) -> str | None:
    return datetime.fromtimestamp(at, UTC).isoformat() if at else None


def _free_bytes(*paths: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for path in paths:
        folder = str(Path(path).expanduser().resolve().parent)
        if folder not in out:
            try:
                out[folder] = shutil.disk_usage(folder).free
            except OSError:
                out[folder] = 0
    return out


def assess(
    *,
    now: float,
    stuck: float,
    tick_seconds: float,
    lag: dict[str, Any],
    last_tick_at: float | None,
    free: dict[str, int],
    write_error: tuple[float, str] | None,
    write_success: float | None,
) -> tuple[list[str], list[str]]:
    """(problems, warnings): a problem makes the service unavailable (503), a
    warning degraded (200). Pure, so the rules are read and tested in one place."""
    problems: list[str] = []
    warnings: list[str] = []
    for folder, left in free.items():
        if left < MIN_FREE_BYTES:
            problems.append(f"disk full: {left} bytes free in {folder}")
    if (
        write_error is not None
        and now - write_error[0] < WRITE_ERROR_WINDOW
        and (write_success is None or write_success < write_error[0])
    ):
        problems.append(f"webhook deliveries cannot be stored: {write_error[1]}")
    age = lag.get("oldest_pending_age")
    progress = lag.get("last_progress_at")
    if lag.get("pending") and age is not None and age > stuck:
        if progress is None or now - progress > stuck:
            problems.append(
                f"processing is blocked: {lag['pending']} deliveries pending, the oldest for"
                f" {age:.0f} s, none settled for {stuck:.0f} s"
            )
        elif lag.get("retrying"):
            problems.append(
                f"{lag['retrying']} deliveries fail on storage errors, the oldest pending for"
                f" {age:.0f} s: {lag.get('last_retry_error')}"
            )
        else:
            warnings.append(f"the queue lags: the oldest pending delivery is {age:.0f} s old")
    if last_tick_at is not None and now - last_tick_at > tick_seconds + stuck:
        problems.append(
            f"the clock's tick is late: the last one was {now - last_tick_at:.0f} s ago"
        )
    if lag.get("set_aside"):
        warnings.append(
            f"{lag['set_aside']} deliveries set aside (lead-copilot deliveries list --failed)"
        )
    return problems, warnings


@get("/healthz", tags=["service"], summary="Health check", sync_to_thread=True)
def healthz(request: Request) -> Response[dict[str, Any]]:
    """200 ``ok`` or ``degraded``, 503 ``unavailable``: see the module's doc."""
    state = request.app.state.service
    settings = state.settings
    now = time.time()
    free = _free_bytes(settings.db, settings.queue_path)
    writer = state.writer
    try:
        queue = state.delivery_queue()
        counts = queue.counts()
        lag = queue.lag(now)
        last_tick = queue.status().get("last_tick")
        runner = lease_info(queue.conn)
    except Exception as exc:  # any storage trouble makes the service unhealthy
        return Response(
            {
                "status": "unavailable",
                "problems": [f"the databases cannot be read: {type(exc).__name__}: {exc}"[:300]],
                "storage": {"free_bytes": free},
            },
            status_code=503,
        )
    last_tick_at = last_tick["at"] if last_tick else None
    problems, warnings = assess(
        now=now,
        stuck=settings.stuck_seconds,
        tick_seconds=settings.tick_seconds,
        lag=lag,
        last_tick_at=last_tick_at,
        free=free,
        write_error=writer.last_error if writer else None,
        write_success=writer.last_success if writer else None,
    )
    status = "unavailable" if problems else "degraded" if warnings else "ok"
    return Response(
        {
            "status": status,
            "problems": problems,
            "warnings": warnings,
            "engine": settings.engine,
            "sender": getattr(state.sender, "name", type(state.sender).__name__),
            "webhook": "enabled" if settings.webhook_enabled else "disabled",
            "deliveries": counts,
            "queue": {
                **lag,
                "last_progress_at": _iso(lag["last_progress_at"]),
                "last_retry_at": _iso(lag["last_retry_at"]),
            },
            "runner": ({**runner, "expires_at": _iso(runner["expires_at"])} if runner else None),
            "last_tick_at": _iso(last_tick_at),
            "last_tick_age": None if last_tick_at is None else round(now - last_tick_at, 1),
            "storage": {
                "free_bytes": free,
                "last_webhook_error": (
                    {"at": _iso(writer.last_error[0]), "error": writer.last_error[1]}
                    if writer and writer.last_error
                    else None
                ),
            },
        },
        status_code=503 if problems else 200,
    )
