"""The edges answer bad input and storage trouble with a JSON 4xx or 503, never a
500, and one bad value never makes a conversation unreadable: far dates, JSON
nested a thousand levels deep, a read-only or full database. The app runs
through Litestar's TestClient on a real SQLite file."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlite_utils import Database

from copilot.inbox import Inbox
from copilot.models import Contact, Conversation, Message
from copilot.service import Settings, create_app
from copilot.web.session import csrf_for_session

ADMIN = "admin-token-0123456789abcdef"
SECRET = "app-secret"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
FAR_DUE = "9999-12-31T23:59:59-14:00"  # past year 9999 once in UTC
DEEP = ("[" * 1000 + "]" * 1000).encode()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        db=str(tmp_path / "inbox.db"),
        admin_token=ADMIN,
        app_secret=SECRET,
        verify_token="verify",
        background=False,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _conversation(client: TestClient, n: int = 1) -> int:
    message = Message(id=f"wamid.E{n}", text="hola, precio?", timestamp=datetime.now(UTC))
    inbox = client.app.state.service.inbox()
    return inbox.ingest(Contact(wa_id=f"57300111{n:04d}", name="Lead"), message).conversation_id


def _login(client: TestClient) -> None:
    page = client.get("/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"token": ADMIN, "nonce": nonce, "next": "/"})
    assert r.status_code == 200, r.text[:300]


def _readable(client: TestClient, cid: int) -> None:
    """The conversation, the task list and the web page all still answer."""
    for path in (f"/api/conversations/{cid}", "/api/tasks?scope=all&task_state=any"):
        r = client.get(path, headers=AUTH)
        assert r.status_code == 200, (path, r.text[:300])
    assert client.get(f"/c/{cid}").status_code == 200


@pytest.mark.chaos("fault 5: a far due date is refused and the conversation stays readable")
def test_far_due_dates_are_refused_naming_the_field(client: TestClient, chaos_report) -> None:
    cid = _conversation(client)
    refused = 0
    for due in (FAR_DUE, "0001-01-01T00:00:00Z", "2100-01-01T00:00:00Z"):
        r = client.post(
            f"/api/conversations/{cid}/tasks", headers=AUTH, json={"title": "x", "due_at": due}
        )
        assert r.status_code == 422, r.text
        assert "due_at" in r.json()["detail"]
        refused += 1
    ok = client.post(
        f"/api/conversations/{cid}/tasks",
        headers=AUTH,
        json={"title": "call back", "due_at": "2099-12-31T10:00:00-05:00"},
    )
    assert ok.status_code == 201, ok.text
    _login(client)
    csrf = csrf_for_session(client.cookies.get("lc_session"))  # the signed session's
    r = client.post(f"/c/{cid}/tasks", data={"csrf": csrf, "title": "x", "due": "9999-12-31T23:00"})
    assert r.status_code == 422
    assert "due_at" in r.text
    _readable(client, cid)
    tasks = client.app.state.service.inbox().tasks(conversation_id=cid)
    assert [t.title for t in tasks if t.kind == "custom"] == ["call back"]
    chaos_report(f"{refused} API and 1 web far due dates refused (422), nothing stored")


@pytest.mark.chaos("fault 5: a far date already stored is read clamped, with a log line")
def test_a_stored_far_date_does_not_break_the_conversation(
    client: TestClient, caplog, chaos_report
) -> None:
    cid = _conversation(client)
    db = client.app.state.service.settings.db
    with sqlite3.connect(db) as conn:  # rows written before dates were checked
        for due in (253402300799 + 14 * 3600, -62135596800.0):
            conn.execute(
                "INSERT INTO tasks (conversation_id, kind, title, due_at, state, created_at)"
                " VALUES (?, 'custom', 'old row', ?, 'pending', 0)",
                (cid, due),
            )
    conn.close()
    _login(client)
    with caplog.at_level(logging.WARNING, logger="copilot.inbox.models"):
        _readable(client, cid)
    assert "out of range" in caplog.text
    body = client.get(f"/api/conversations/{cid}", headers=AUTH).json()
    dues = sorted(t["due_at"] for t in body["tasks"] if t["title"] == "old row")
    assert dues[0].startswith("1970-01-01") and dues[-1].startswith("2099-12-31")
    chaos_report(f"2 bad stored rows read as {dues[0]}..{dues[-1]}; conversation answers 200")


@pytest.mark.chaos("fault 5: far moments in /api/analyze are a 422 naming the field")
def test_analyze_refuses_far_moments(client: TestClient, chaos_report) -> None:
    conversation = {"messages": [{"id": "a", "text": "hola", "timestamp": "2026-01-01T00:00:00Z"}]}
    r = client.post(f"/api/analyze?now={FAR_DUE}", headers=AUTH, json=conversation)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("now:")
    year_one = {"messages": [{"id": "a", "text": "hola", "timestamp": "0001-01-01T00:00:00Z"}]}
    r = client.post("/api/analyze", headers=AUTH, json=year_one)
    assert r.status_code == 400, r.text
    assert "timestamp" in r.text
    assert client.post("/api/analyze", headers=AUTH, json=conversation).status_code == 200
    chaos_report("now=9999-… and a year-1 timestamp answered 4xx naming the field")


def _json_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every route of the JSON API that reads a body, with its path parameters filled."""
    out = []
    for route in client.app.routes:
        if not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            if "data" not in handler.parsed_fn_signature.parameters:
                continue
            for method in sorted(handler.http_methods):
                out.append((method, re.sub(r"\{[^}]+\}", "1", route.path)))
    return out


@pytest.mark.chaos("fault 9: JSON nested 1,000 deep is a 400 on every JSON route")
def test_deeply_nested_json_is_a_400_everywhere(client: TestClient, chaos_report) -> None:
    _conversation(client)
    routes = _json_routes(client)
    assert len(routes) >= 10
    for method, path in routes:
        r = client.request(
            method, path, headers={**AUTH, "Content-Type": "application/json"}, content=DEEP
        )
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text[:200])
        assert r.json()["detail"], (method, path)
    signature = "sha256=" + hmac.new(SECRET.encode(), DEEP, hashlib.sha256).hexdigest()
    r = client.post(
        "/webhooks/whatsapp",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        content=DEEP,
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"
    chaos_report(f"{len(routes)} JSON routes and the signed webhook answered 4xx with a body")


def _with_pragma(client: TestClient, pragma: str) -> None:
    """Every inbox connection the service opens from now on runs ``pragma`` first."""
    state = client.app.state.service
    opened = state.inbox

    def inbox():
        box = opened()
        box.conn.execute(pragma)
        return box

    state.inbox = inbox


def _read_only(client: TestClient) -> None:
    """Every inbox the service opens from now on opens the file read-only, as a
    process does when the file's mode forbids it to write (``chmod a-w``)."""
    state = client.app.state.service
    local = threading.local()

    def inbox() -> Inbox:
        if getattr(local, "inbox", None) is None:
            uri = Path(state.settings.db).resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            local.inbox = Inbox(
                Database(conn), copilot=state.copilot, profile=state.profile, sender=state.sender
            )
        return local.inbox

    state.inbox = inbox


@pytest.mark.chaos("fault 9: a read-only database on an API write is a 503 naming it")
def test_read_only_database_is_a_503(client: TestClient, chaos_report) -> None:
    cid = _conversation(client)
    _read_only(client)
    r = client.post(
        f"/api/conversations/{cid}/notes", headers=AUTH, json={"text": "call her tomorrow"}
    )
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "database_unavailable"
    assert "read-only" in r.json()["detail"]
    assert client.get(f"/api/conversations/{cid}", headers=AUTH).status_code == 200
    chaos_report(f"write on a read-only file: {r.status_code} {r.json()['detail'][:60]!r}")


@pytest.mark.chaos("fault 9: a full database (SQLITE_FULL) on an API write is a 503")
def test_full_database_is_a_503(client: TestClient, chaos_report) -> None:
    cid = _conversation(client)
    _with_pragma(client, "PRAGMA max_page_count = 1")  # no room for one more page
    statuses = set()
    for n in range(50):  # bounded: each note adds a few hundred bytes until a page is needed
        r = client.post(
            f"/api/conversations/{cid}/notes", headers=AUTH, json={"text": f"note {n} " * 50}
        )
        statuses.add(r.status_code)
        if r.status_code != 201:
            break
    assert r.status_code == 503, r.text
    assert "full" in r.json()["detail"]
    chaos_report(f"write on a full file: statuses {sorted(statuses)}")


def test_an_unexpected_error_is_a_json_500_naming_its_kind(
    client: TestClient, monkeypatch, caplog
) -> None:
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(client.app.state.service.copilot, "analyze", broken)
    conversation = {"messages": [{"id": "a", "text": "hola", "timestamp": "2026-01-01T00:00:00Z"}]}
    with caplog.at_level(logging.ERROR, logger="copilot.service.errors"):
        r = client.post("/api/analyze", headers=AUTH, json=conversation)
    assert r.status_code == 500
    assert r.json() == {
        "error": "internal_error",
        "detail": "unexpected error (KeyError); see the server log",
    }
    assert "Traceback" in caplog.text and "boom" in caplog.text


def test_the_library_and_the_command_line_refuse_far_moments_too() -> None:
    from click.testing import CliRunner

    from copilot.cli import main
    from copilot.facade import Copilot

    far = datetime.fromisoformat(FAR_DUE)
    message = Message(id="m1", text="hola", timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match=r"^now: "):
        Copilot().analyze(Conversation(messages=[message]), now=far)
    result = CliRunner().invoke(main, ["analyze", "--now", FAR_DUE, "hola"])
    assert result.exit_code == 2
    assert "Invalid value for --now: 9999-12-31T23:59:59-14:00 is out of range" in result.output
