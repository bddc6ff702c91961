"""Every error the service can meet, mapped to a JSON 4xx in one place.

Body shape: ``{"error": "<code>", "detail": "<what went wrong>"}`` plus
``"extra"`` (validation details) when there are some. Storage trouble (a
read-only or full disk, a locked file) is a 503 the client may retry. A 500
only ever comes from a bug, and then the body still is JSON, names the kind of
error and no internals, and the log has the traceback.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pydantic
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from copilot.inbox import (
    ConflictError,
    InboxDatabaseError,
    InboxError,
    InvalidInput,
    NotFoundError,
    OptedOutError,
    PermissionDenied,
    SendError,
    WindowClosed,
)
from copilot.service.config import ConfigError

log = logging.getLogger(__name__)

#: inbox error class -> (HTTP status, error code); most specific first
INBOX_ERRORS: list[tuple[type[Exception], int, str]] = [
    (NotFoundError, 404, "not_found"),
    (PermissionDenied, 403, "forbidden"),
    (OptedOutError, 409, "opted_out"),
    (WindowClosed, 422, "window_closed"),
    (ConflictError, 409, "conflict"),
    (InvalidInput, 422, "invalid_input"),
    (SendError, 502, "send_failed"),
    (InboxDatabaseError, 503, "database_unavailable"),
    (InboxError, 400, "inbox_error"),
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    503: "unavailable",
}


def error_body(code: str, detail: str, extra: Any = None) -> dict[str, Any]:
    """The JSON body of every error answer."""
    body: dict[str, Any] = {"error": code, "detail": detail}
    if extra:
        body["extra"] = extra
    return body


def _response(status: int, code: str, detail: str, extra: Any = None, headers=None) -> Response:
    return Response(error_body(code, detail, extra), status_code=status, headers=headers)


def inbox_error_status(exc: InboxError) -> tuple[int, str]:
    """The HTTP status and error code of an inbox error (the API and the web
    pages share this one table)."""
    for cls, status, code in INBOX_ERRORS:
        if isinstance(exc, cls):
            return status, code
    return 400, "inbox_error"  # pragma: no cover - InboxError is the last entry


def inbox_error_handler(_: Request, exc: InboxError) -> Response:
    """An inbox error as its 4xx (or 502/503 for sending and storage trouble)."""
    status, code = inbox_error_status(exc)
    return _response(status, code, str(exc))


def validation_handler(_: Request, exc: ValidationException) -> Response:
    """Malformed JSON, unknown fields, wrong types: 400 naming the fields."""
    extra = exc.extra if isinstance(exc.extra, list | dict) else None
    return _response(400, "invalid_request", exc.detail, extra)


def pydantic_handler(_: Request, exc: pydantic.ValidationError) -> Response:
    """A model built inside a handler refused its input."""
    extra = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", "")}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    return _response(422, "invalid_input", f"{exc.error_count()} invalid value(s)", extra)


def value_error_handler(_: Request, exc: ValueError) -> Response:
    """Library functions raise ValueError for input that makes no sense."""
    return _response(422, "invalid_input", str(exc)[:500])


def http_handler(_: Request, exc: HTTPException) -> Response:
    """Litestar's own errors (401, 404 route, 405, 413...) in the common shape."""
    status = exc.status_code
    code = _HTTP_CODES.get(status, "error" if status >= 500 else "bad_request")
    extra = exc.extra if isinstance(exc.extra, list | dict) else None
    return _response(status, code, exc.detail, extra, headers=exc.headers)


#: SQLite primary result code -> what the client reads; these are conditions of
#: the file or the disk (503, retry later), never a bug in a statement
_STORAGE_TROUBLE = {
    sqlite3.SQLITE_BUSY: "the database is busy",
    sqlite3.SQLITE_LOCKED: "the database is locked",
    sqlite3.SQLITE_READONLY: "the database is read-only",
    sqlite3.SQLITE_IOERR: "the database file cannot be read or written",
    sqlite3.SQLITE_CORRUPT: "the database file is corrupt",
    sqlite3.SQLITE_FULL: "the database or its disk is full",
    sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened",
    sqlite3.SQLITE_NOTADB: "the database file is not an SQLite database",
}


def database_handler(request: Request, exc: sqlite3.DatabaseError) -> Response:
    """Storage trouble met outside the inbox's own checks: 503 naming it (the
    client may retry); any other database error is a bug (500)."""
    code = getattr(exc, "sqlite_errorcode", None)
    problem = _STORAGE_TROUBLE.get(code & 0xFF) if isinstance(code, int) else None
    if problem is None:
        return internal_handler(request, exc)
    log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return _response(503, "database_unavailable", f"{problem}: {exc}"[:500])


def recursion_handler(request: Request, exc: RecursionError) -> Response:
    """A JSON body nested deeper than the decoder goes: 400. A recursion error
    anywhere else is a bug."""
    if "while decoding" not in str(exc) and "while deserializing" not in str(exc):
        return internal_handler(request, exc)
    return _response(400, "invalid_request", "the JSON body is nested too deeply")


def overflow_handler(_: Request, exc: OverflowError) -> Response:
    """A number or a date too large to compute with (input the checks missed)."""
    return _response(422, "invalid_input", f"a value is out of range: {exc}"[:500])


def internal_handler(request: Request, exc: Exception) -> Response:
    """A bug: log it with its traceback, answer 500 naming the kind of error only."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _response(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        f"unexpected error ({type(exc).__name__}); see the server log",
    )


EXCEPTION_HANDLERS = {
    InboxError: inbox_error_handler,
    ValidationException: validation_handler,
    pydantic.ValidationError: pydantic_handler,
    ConfigError: value_error_handler,
    ValueError: value_error_handler,
    HTTPException: http_handler,
    sqlite3.DatabaseError: database_handler,
    RecursionError: recursion_handler,
    OverflowError: overflow_handler,
    Exception: internal_handler,
}
