"""A small OpenAI-compatible chat completions server on 127.0.0.1, for tests and benches.

The openai SDK v3 sends through httpx2, which respx does not intercept, so the
tests point the real SDK at this real HTTP server instead. It answers
``POST /v1/chat/completions`` from a script of :class:`Reply` items (valid
output, invalid JSON, refusal, truncation, any HTTP status with headers, a
delay), then from a default reply. Every request body is kept for assertions.
``flavour`` makes it behave like llama-cpp-python's or llama.cpp's server
(see :data:`FLAVOURS`).

    with FakeOpenAI(default=Reply.ok(content)) as server:
        server.script(Reply.status(429, retry_after="0"), Reply.ok(content))
        client = OpenAI(base_url=server.base_url, api_key="test")
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    content: str | Callable[[dict[str, Any]], str] | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    usage: tuple[int, int, int] = (900, 0, 150)  # input, cached, output tokens
    error: str | None = None

    @classmethod
    def ok(cls, content: str | Callable[[dict[str, Any]], str], **kw: Any) -> Reply:
        """A completed answer with ``content`` (a string or a function of the request)."""
        return cls(content=content, **kw)

    @classmethod
    def invalid_json(cls, **kw: Any) -> Reply:
        """An answer whose content is not JSON."""
        return cls(content='{"language": "es", "intent": ', **kw)

    @classmethod
    def refused(cls, text: str = "I can't help with that.", **kw: Any) -> Reply:
        """A refusal (``message.refusal`` set, no content)."""
        return cls(content=None, refusal=text, **kw)

    @classmethod
    def truncated(cls, **kw: Any) -> Reply:
        """An answer cut by the token limit (``finish_reason: length``)."""
        return cls(content='{"language": "es", "int', finish_reason="length", **kw)

    @classmethod
    def failure(cls, status: int, retry_after: str | None = None, **kw: Any) -> Reply:
        """An HTTP error, e.g. 429 with ``Retry-After`` or 500."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls(status=status, headers=headers, error=f"scripted {status}", **kw)


#: How the server behaves, after real servers:
#: - ``openai``: answers whatever is scripted;
#: - ``llama-cpp-python``: its server rejects ``response_format`` type
#:   ``json_schema`` with ``500 Input should be 'text' or 'json_object'``;
#: - ``llama-server``: llama.cpp's server stops at ``max_tokens`` (about four
#:   characters a token here) with ``finish_reason: length``.
FLAVOURS = ("openai", "llama-cpp-python", "llama-server")
#: llama-cpp-python's answer to a ``json_schema`` response format.
LLAMA_CPP_PYTHON_500 = (
    "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}]"
)


class FakeOpenAI:
    """The server; use as a context manager (starts on a free port, stops on exit)."""

    def __init__(
        self,
        default: Reply | None = None,
        *,
        strict_schemas: bool = True,
        delay: float = 0.0,
        log: Path | None = None,
        flavour: str = "openai",
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {', '.join(FLAVOURS)}")
        self.default = default or Reply.ok("{}")
        self.strict_schemas = strict_schemas
        self.flavour = flavour
        self.delay = delay
        self.log = log
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control ----------------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        """Queue replies, answered in order before the default."""
        with self._lock:
            self._script.extend(replies)

    def _next(self) -> Reply:
        with self._lock:
            return self._script.popleft() if self._script else self.default

    @property
    def base_url(self) -> str:
        """The URL to give the SDK as ``base_url``."""
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAI:
        """Start serving in a background thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without this, Nagle's
                # algorithm and delayed ACKs add ~40 ms to every keep-alive answer.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.paths.append(self.path)
                    if fake.log is not None:
                        with fake.log.open("a") as out:
                            out.write(f"{body.get('model')}\n")
                status, headers, payload = fake._answer(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering ----------------------------------------------------------------
    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], dict]:
        if not urlsplit(path).path.rstrip("/").endswith("/chat/completions"):
            return 404, {}, {"error": {"message": f"no route {path}", "type": "not_found"}}
        response_format = body.get("response_format") or {}
        if not self.strict_schemas and response_format.get("type") == "json_schema":
            error = {
                "message": "response_format json_schema is not supported by this server",
                "type": "invalid_request_error",
                "param": "response_format",
            }
            return 400, {}, {"error": error}
        if self.flavour == "llama-cpp-python" and response_format.get("type") == "json_schema":
            error = {"message": LLAMA_CPP_PYTHON_500, "type": "internal_server_error"}
            return 500, {}, {"error": error}
        reply = self._next()
        if reply.delay or self.delay:
            time.sleep(reply.delay or self.delay)
        if reply.status != 200:
            error = {"message": reply.error or "error", "type": "server_error"}
            return reply.status, reply.headers, {"error": error}
        content = reply.content(body) if callable(reply.content) else reply.content
        fresh, cached, output = reply.usage
        finish_reason = reply.finish_reason
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if self.flavour == "llama-server" and limit and content and len(content) > 4 * limit:
            content, finish_reason, output = content[: 4 * limit], "length", int(limit)
        payload = {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": reply.refusal},
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": fresh,
                "completion_tokens": output,
                "total_tokens": fresh + output,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        }
        return 200, reply.headers, payload


def main() -> None:
    """Serve from the command line (benches run it in its own process):
    ``python -m tests.fakes.openai_server --delay 0.3 --content-file answer.json``.
    Prints the base URL on the first line of stdout, then serves until killed."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--content-file", type=Path, help="the answer's message content")
    parser.add_argument("--log", type=Path, help="append one line per request here")
    parser.add_argument("--flavour", choices=FLAVOURS, default="openai", help="behave like")
    args = parser.parse_args()
    content = args.content_file.read_text(encoding="utf-8") if args.content_file else "{}"
    server = FakeOpenAI(
        Reply.ok(content), delay=args.delay, log=args.log, flavour=args.flavour
    ).start()
    print(server.base_url, flush=True)
    try:
        sys.stdin.read()  # serve until stdin closes or the process is killed
    finally:
        server.stop()


if __name__ == "__main__":
    main()
