"""Live pages: one server-sent event stream per open page (``GET /events``).

The stream watches the inbox file with its own read-only connection: a cheap
``PRAGMA data_version`` every quarter second, and when someone committed, the
inbox's change feed (:mod:`copilot.inbox.changes`) says which conversations the
agent may read changed and how. The page then fetches what it shows (the list's
rows, the chat, the panels) through the ordinary, access-checked routes; the
events carry ids and flags only. A stream ends after a while and the browser's
``EventSource`` reconnects by itself, so a worker never holds one forever.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator

from litestar import Request, get
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from copilot.inbox.access import Actor
from copilot.inbox.changes import changes_since, current_marks, data_version
from copilot.web import session

#: How often the stream looks at the file, and how long one stream lives.
POLL_SECONDS = 0.25
LIFETIME_SECONDS = 600
KEEPALIVE_SECONDS = 15


async def stream_changes(
    path: str,
    actor: Actor,
    *,
    poll: float = POLL_SECONDS,
    lifetime: float = LIFETIME_SECONDS,
) -> AsyncIterator[ServerSentEventMessage]:
    """The events of one page: ``ready`` once, then one ``conversation`` event
    per changed conversation ``actor`` may read; a comment now and then keeps
    proxies from closing the connection."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        version = data_version(conn)
        marks = current_marks(conn)
        yield ServerSentEventMessage(event="ready", data="{}", retry=2000)
        started = last_sent = time.monotonic()
        busy = False
        while time.monotonic() - started < lifetime:
            await asyncio.sleep(poll)
            now_version = data_version(conn)
            if now_version != version or busy:
                version = now_version
                changes, marks = changes_since(conn, marks, actor)
                # A full batch may have more behind it: read again next time.
                busy = bool(changes)
                for change in changes:
                    yield ServerSentEventMessage(
                        event="conversation", data=json.dumps(change.as_dict())
                    )
                    last_sent = time.monotonic()
            if time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                yield ServerSentEventMessage(comment="keep-alive")
                last_sent = time.monotonic()
    finally:
        conn.close()


@get("/events", sync_to_thread=True)
def events(request: Request) -> ServerSentEvent:
    """The signed-in agent's live events (401 JSON when signed out)."""
    principal = session.current_principal(request)
    path = str(request.app.state.service.settings.db)
    return ServerSentEvent(
        stream_changes(path, principal),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
