"""A fake WhatsApp Graph API: a real HTTP server on 127.0.0.1 for sender tests.

It records every request (method, path, headers, JSON body) and answers from a
script: ``ok()`` (200 with a message id), ``rate_limited()`` (429 with
Retry-After), ``server_error()`` (500), ``meta_error()`` (4xx with a
Meta-shaped error) or ``drop()`` (closes the connection without answering).
When the script is empty it answers 200 with a fresh message id, or serves
the media added with ``add_media()``: ``GET /<version>/<media-id>`` answers
its JSON description (with a download ``url`` on this server) and ``GET
/download/<media-id>`` its bytes, both only with the bearer token given as
``token`` (``media_down = True`` makes both answer 500). ``add_templates()``
serves a business account's templates at ``GET /<version>/<waba-id>/message_templates``,
``page_size`` at a time with a ``paging.next`` URL. A ``POST .../media``
(an upload) answers a fresh media id.

    with FakeGraphAPI() as api:
        api.script(api.rate_limited(retry_after=1), api.ok("wamid.X"))
        sender = WhatsAppSender("token", "123", base_url=api.base_url)
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any


@dataclass(frozen=True)
class FakeResponse:
    """One scripted answer; ``drop`` closes the connection without a response."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


class FakeGraphAPI:
    """The fake server. Start it with ``with`` (or :meth:`start`/:meth:`stop`)."""

    version = "v21.0"

    def __init__(self, token: str = "token") -> None:
        self.token = token
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_down = False
        self.templates: dict[str, list[dict[str, Any]]] = {}
        self.page_size = 2
        self.requests: list[RecordedRequest] = []
        self._script: deque[FakeResponse] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeGraphAPI:
        """Bind an ephemeral port on 127.0.0.1 and serve in a daemon thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._handle(self)

            do_GET = do_POST
            do_DELETE = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # Keep-alive connections may stay open: do not wait for their threads on close.
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGraphAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self._server is not None, "the fake Graph API is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """The sender's ``base_url``: ``http://127.0.0.1:<port>/v21.0``."""
        return f"{self.url}/{self.version}"

    # -- scripting

    def script(self, *responses: FakeResponse) -> None:
        """Queue answers, used in order, one per request."""
        with self._lock:
            self._script.extend(responses)

    def ok(self, message_id: str | None = None) -> FakeResponse:
        """200 with Meta's success body."""
        return FakeResponse(200, self._success(message_id))

    @staticmethod
    def rate_limited(retry_after: float | str | None = 1) -> FakeResponse:
        """429 with an optional ``Retry-After`` header (seconds or an HTTP date)."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        body = {
            "error": {
                "message": "(#130429) Rate limit hit",
                "type": "OAuthException",
                "code": 130429,
                "error_data": {
                    "messaging_product": "whatsapp",
                    "details": "Cloud API message throughput has been reached.",
                },
                "fbtrace_id": "FAKE-TRACE-429",
            }
        }
        return FakeResponse(429, body, headers)

    @staticmethod
    def server_error(status: int = 500) -> FakeResponse:
        """A 5xx with Meta's generic unknown-error body."""
        body = {
            "error": {
                "message": "An unknown error has occurred.",
                "type": "OAuthException",
                "code": 1,
                "fbtrace_id": "FAKE-TRACE-5XX",
            }
        }
        return FakeResponse(status, body)

    @staticmethod
    def meta_error(
        status: int = 400,
        code: int = 131030,
        message: str = "(#131030) Recipient phone number not in allowed list",
        title: str | None = "Recipient phone number not in allowed list",
        details: str | None = "Add recipient phone number to recipient list and try again.",
        subcode: int | None = None,
    ) -> FakeResponse:
        """A Meta-shaped error (400 by default): must never be retried."""
        error: dict[str, Any] = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "FAKE-TRACE-4XX",
        }
        if title is not None:
            error["error_user_title"] = title
        if details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": details}
        if subcode is not None:
            error["error_subcode"] = subcode
        return FakeResponse(status, {"error": error})

    @staticmethod
    def drop() -> FakeResponse:
        """Close the connection without answering (a transport error for the client)."""
        return FakeResponse(drop=True)

    def add_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        """Serve ``data`` as the media ``media_id``."""
        with self._lock:
            self.media[media_id] = (data, mime_type)

    def add_templates(self, waba_id: str, templates: list[dict[str, Any]]) -> None:
        """Serve ``templates`` (Meta's JSON shape) as the account's templates."""
        with self._lock:
            self.templates[waba_id] = list(templates)

    # -- inspection

    @property
    def media_requests(self) -> list[RecordedRequest]:
        """The GETs of media descriptions and downloads."""
        return [r for r in self.requests if r.method == "GET"]

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """The POSTs to ``/<version>/<phone_number_id>/messages``."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/messages")]

    # -- serving

    def _success(self, message_id: str | None, to: str = "") -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": message_id or f"wamid.FAKE{next(self._ids)}"}],
        }

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    method=handler.command,
                    path=handler.path,
                    headers={k.lower(): v for k, v in handler.headers.items()},
                    body=body,
                    json=parsed,
                )
            )
            scripted = self._script.popleft() if self._script else None
        if scripted is None and handler.command == "GET":
            scripted = self._media_answer(handler)
            if isinstance(scripted, bytes):
                handler.send_response(200)
                handler.send_header("Content-Type", "application/octet-stream")
                handler.send_header("Content-Length", str(len(scripted)))
                handler.end_headers()
                handler.wfile.write(scripted)
                return
        if scripted is None and handler.command == "POST" and handler.path.endswith("/media"):
            scripted = FakeResponse(200, {"id": f"{7000 + next(self._ids)}"})
        if scripted is None:
            to = parsed.get("to", "") if isinstance(parsed, dict) else ""
            scripted = FakeResponse(200, self._success(None, str(to)))
        if scripted.drop:
            handler.close_connection = True
            return
        payload = json.dumps(scripted.body if scripted.body is not None else {}).encode()
        handler.send_response(scripted.status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in scripted.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _media_answer(self, handler: BaseHTTPRequestHandler) -> FakeResponse | bytes:
        """A media description, a media file's bytes, or the error Meta gives."""
        if self.media_down:
            return self.server_error()
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return self.meta_error(401, code=190, message="Invalid OAuth access token")
        path, _, query = handler.path.partition("?")
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[2] == "message_templates":
            return self._templates_page(parts[1], parse_qs(query))
        download = len(parts) == 2 and parts[0] == "download"
        media_id = parts[-1] if len(parts) == 2 else ""
        with self._lock:
            found = self.media.get(media_id)
        if found is None:
            return self.meta_error(404, code=100, message="Unsupported get request")
        data, mime = found
        if download:
            return data
        body = {
            "messaging_product": "whatsapp",
            "url": f"{self.url}/download/{media_id}",
            "mime_type": mime,
            "file_size": len(data),
            "id": media_id,
        }
        return FakeResponse(200, body)

    def _templates_page(self, waba_id: str, query: dict[str, list[str]]) -> FakeResponse:
        with self._lock:
            found = self.templates.get(waba_id)
        if found is None:
            return self.meta_error(400, code=100, message="Unsupported get request")
        start = int((query.get("after") or ["0"])[0])
        page = found[start : start + self.page_size]
        body: dict[str, Any] = {"data": page, "paging": {"cursors": {"after": str(start)}}}
        if start + self.page_size < len(found):
            following = start + self.page_size
            body["paging"]["next"] = (
                f"{self.base_url}/{waba_id}/message_templates?limit={self.page_size}"
                f"&after={following}"
            )
        return FakeResponse(200, body)


@pytest.fixture
def graph_api() -> Iterator[FakeGraphAPI]:
    """A running fake Graph API, stopped after the test."""
    with FakeGraphAPI() as api:
        yield api
