"""``GET /healthz``: is the process up and can it read the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get
from litestar.response import Response


@get("/healthz", tags=["service"], summary="Health check", sync_to_thread=True)
def healthz(request: Request) -> Response[dict[str, Any]]:
    """200 with the queue's state when the database answers, 503 otherwise."""
    state = request.app.state.service
    try:
        queue = state.delivery_queue()
        counts = queue.counts()
        last_tick = queue.status().get("last_tick")
    except Exception as exc:  # any storage trouble makes the service unhealthy
        return Response({"status": "unavailable", "detail": str(exc)[:200]}, status_code=503)
    return Response(
        {
            "status": "ok",
            "engine": state.settings.engine,
            "sender": getattr(state.sender, "name", type(state.sender).__name__),
            "webhook": "enabled" if state.settings.webhook_enabled else "disabled",
            "deliveries": counts,
            "last_tick_at": (
                datetime.fromtimestamp(last_tick["at"], UTC).isoformat() if last_tick else None
            ),
        }
    )
