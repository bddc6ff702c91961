"""The delivery queue as a library, in one process: what is retried and what
is set aside, order per contact, the queue file's identity, the migration of a
file the service wrote before, leases, the health rules, the CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from copilot.cli import main
from copilot.inbox import Inbox, InboxDatabaseError, NotFoundError
from copilot.inbox.db import open_db
from copilot.service.background import Lease, holder_alive, process_token
from copilot.service.deliveries import (
    MAX_BACKOFF,
    RETRY_WINDOW,
    DeliveryQueue,
    backoff,
    connect,
    connect_state,
    drain,
    is_transient,
)
from copilot.service.queuefile import QueueFile
from copilot.service.routes.health import MIN_FREE_BYTES, assess
from tests.test_webhook_live import text_delivery


def _has(inbox: Inbox, message_id: str) -> bool:
    try:
        inbox.message(message_id)
    except NotFoundError:
        return False
    return True


@pytest.fixture
def setup(tmp_path):
    inbox = Inbox(tmp_path / "inbox.db")
    queue = DeliveryQueue(QueueFile(tmp_path / "q.db"), connect_state(tmp_path / "inbox.db"))
    yield inbox, queue
    inbox.close()


def _error(code_sql: str) -> sqlite3.Error:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(code_sql)
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("no error")


def test_storage_trouble_is_transient_and_a_bad_delivery_is_not():
    assert is_transient(sqlite3.OperationalError("database is locked"))
    assert is_transient(OSError(28, "No space left on device"))
    wrapped = InboxDatabaseError("cannot write")
    wrapped.__cause__ = sqlite3.OperationalError("disk I/O error")
    assert is_transient(wrapped)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x UNIQUE)")
    conn.execute(
        "CREATE TRIGGER g BEFORE INSERT ON t WHEN NEW.x = 2 BEGIN SELECT RAISE(ABORT, 'no'); END"
    )
    conn.execute("INSERT INTO t VALUES (1)")
    for value, transient in ((2, True), (1, False)):  # a trigger's guard; a real constraint
        with pytest.raises(sqlite3.IntegrityError) as info:
            conn.execute("INSERT INTO t VALUES (?)", (value,))
        assert is_transient(info.value) is transient
    assert not is_transient(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates"))
    assert not is_transient(TypeError("a bug"))
    assert not is_transient(_error("SELEC 1"))  # a syntax error is a bug, not the disk
    assert backoff(1) < backoff(2) < backoff(5) and backoff(100) == MAX_BACKOFF


def test_a_bug_sets_the_delivery_aside_and_the_rest_go_on(setup, monkeypatch):
    inbox, queue = setup
    ids = [text_delivery(f"57300100000{i}", "hola") for i in range(3)]
    for _, body in ids:
        queue.append(body)
    real = inbox.ingest

    def buggy(contact, message, **kw):
        if message.id == ids[1][0]:
            raise TypeError("a bug this delivery triggers")
        return real(contact, message, **kw)

    monkeypatch.setattr(inbox, "ingest", buggy)
    assert drain(inbox, queue) == 3
    assert queue.counts() == {"done": 2, "failed": 1}
    [aside] = queue.deliveries("failed")
    assert aside["id"] == 2 and "TypeError: a bug" in aside["error"]
    assert _has(inbox, ids[2][0])
    monkeypatch.setattr(inbox, "ingest", real)  # fixed: replay it
    assert queue.replay([2, 3]) == [2]
    assert drain(inbox, queue) == 1
    assert queue.counts() == {"done": 3}
    assert _has(inbox, ids[1][0])


def test_an_outcome_that_cannot_be_recorded_does_not_stop_the_batch(setup, monkeypatch):
    inbox, queue = setup
    for i in range(3):
        queue.append(text_delivery(f"57300200000{i}", "hola")[1])
    import copilot.service.deliveries as module

    real = module._json
    calls = {"n": 0}

    def refuses_the_second(value):
        calls["n"] += 1
        if calls["n"] == 2:
            return "\ud800"  # SQLite cannot encode it
        return real(value)

    monkeypatch.setattr(module, "_json", refuses_the_second)
    assert drain(inbox, queue) == 3
    counts = queue.counts()
    assert counts["done"] + counts.get("failed", 0) == 3 and "pending" not in counts


def test_storage_trouble_is_retried_and_the_same_contact_waits_behind_it(setup, monkeypatch):
    inbox, queue = setup
    first_id, first = text_delivery("573003000001", "primero")
    other_id, other = text_delivery("573003000002", "otro contacto")
    second_id, second = text_delivery("573003000001", "segundo")
    for body in (first, other, second):
        queue.append(body)
    real = inbox.ingest
    failing = {"on": True}

    def locked(contact, message, **kw):
        if failing["on"] and message.id == first_id:
            raise sqlite3.OperationalError("database is locked")
        return real(contact, message, **kw)

    monkeypatch.setattr(inbox, "ingest", locked)
    now = time.time()
    assert drain(inbox, queue, now=now) == 1  # the round ends at the trouble
    assert queue.storage_trouble
    assert drain(inbox, queue, now=now) == 2  # the rest go on; the same contact waits
    assert _has(inbox, other_id) and not _has(inbox, second_id)
    lag = queue.lag(now)
    assert lag["pending"] == 2 and lag["retrying"] == 1 and lag["waiting_behind_retries"] == 1
    assert "locked" in lag["last_retry_error"]
    failing["on"] = False
    assert drain(inbox, queue, now=now + backoff(1) + 0.01) == 2
    assert queue.counts() == {"done": 3}
    conversation = inbox.conversation_for_contact("573003000001", None)
    texts = [m.text for m in inbox.messages(conversation.id)]
    assert texts == ["primero", "segundo"]


def test_storage_trouble_past_the_window_is_set_aside_not_dropped(setup, monkeypatch):
    inbox, queue = setup
    queue.append(text_delivery("573004000001", "hola")[1])

    def full(*args, **kw):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(inbox, "ingest", full)
    start = time.time()
    assert drain(inbox, queue, now=start) == 1
    assert drain(inbox, queue, now=start + RETRY_WINDOW + 1) == 1
    [aside] = queue.deliveries("failed")
    assert aside["attempts"] == 2 and "disk is full" in aside["error"]


def test_a_new_queue_file_is_processed_from_its_first_delivery(tmp_path):
    inbox = Inbox(tmp_path / "inbox.db")
    path = tmp_path / "q.db"
    queue = DeliveryQueue(QueueFile(path), connect_state(tmp_path / "inbox.db"))
    for i in range(5):
        queue.append(text_delivery(f"57300500000{i}", "hola")[1])
    assert drain(inbox, queue) == 5
    old = queue.identity()
    queue._queue.close()
    path.unlink()
    fresh_id, fresh = text_delivery("573005000009", "nuevo")
    queue.append(fresh)  # id 1 again, in a file with another identity
    assert queue.identity() != old
    assert drain(inbox, queue) == 1 and _has(inbox, fresh_id)

    # An older copy restored under the same identity: processed again from its start.
    backup = tmp_path / "backup.db"
    with sqlite3.connect(path) as src, sqlite3.connect(backup) as dst:
        src.backup(dst)
    for i in range(3):
        queue.append(text_delivery(f"57300510000{i}", "hola")[1])
    assert drain(inbox, queue) == 3
    queue._queue.close()
    backup.replace(path)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"q.db{suffix}").unlink(missing_ok=True)
    late_id, late = text_delivery("573005200000", "tarde")
    queue.append(late)  # takes id 2, which the record says was done
    assert drain(inbox, queue) == 2
    assert _has(inbox, late_id)
    inbox.close()


def test_a_file_the_service_wrote_before_keeps_its_progress(tmp_path):
    db_path = tmp_path / "inbox.db"
    db = open_db(db_path)
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_service_tables'")
    for table in ("webhook_progress", "webhook_events", "service_status", "service_leases"):
        db.execute(f"DROP TABLE {table}")
    db.conn.executescript(  # the tables as the service used to create them
        """
        CREATE TABLE webhook_progress (delivery_id INTEGER PRIMARY KEY, state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1, error TEXT, processed_at REAL NOT NULL);
        CREATE TABLE webhook_events (id INTEGER PRIMARY KEY, delivery_id INTEGER NOT NULL,
            idx INTEGER NOT NULL, kind TEXT NOT NULL, outcome TEXT NOT NULL, ref TEXT,
            raw TEXT, UNIQUE (delivery_id, idx));
        CREATE TABLE service_status (name TEXT PRIMARY KEY, value TEXT, at REAL NOT NULL);
        CREATE TABLE service_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,
            expires_at REAL NOT NULL);
        INSERT INTO webhook_progress VALUES (1, 'done', 1, NULL, 1.0), (2, 'done', 1, NULL, 2.0);
        INSERT INTO webhook_events (delivery_id, idx, kind, outcome) VALUES (2, 0, 'message', 'ingested');
        """
    )
    db.close()
    legacy_queue = sqlite3.connect(tmp_path / "q.db")
    legacy_queue.executescript(
        """
        CREATE TABLE webhook_deliveries (id INTEGER PRIMARY KEY, received_at REAL NOT NULL,
            body BLOB NOT NULL, state TEXT NOT NULL DEFAULT 'pending', error TEXT);
        INSERT INTO webhook_deliveries (received_at, body) VALUES (1, 'x'), (2, 'y');
        """
    )
    legacy_queue.close()
    inbox = Inbox(db_path)  # migrates
    queue = DeliveryQueue(connect(tmp_path / "q.db"), connect_state(db_path))
    new_id, body = text_delivery("573006000001", "hola")
    queue.append(body)
    assert drain(inbox, queue) == 1  # only the new one: the old two were done
    assert _has(inbox, new_id)
    assert queue.counts() == {"done": 3}
    assert queue.events(2)[0]["outcome"] == "ingested"
    inbox.close()


def test_a_dead_holders_lease_is_taken_at_once(tmp_path):
    Inbox(tmp_path / "inbox.db").close()
    conn = connect_state(tmp_path / "inbox.db")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        token = process_token(child.pid)
        assert holder_alive(token) is True
        conn.execute(
            "INSERT INTO service_leases (name, holder, expires_at, process) VALUES (?,?,?,?)",
            ("background", "crashed", time.time() + 3600, token),
        )
        assert not Lease(conn, "background", "new").acquire()  # its holder still runs
    finally:
        child.kill()
        child.wait()
    assert holder_alive(token) is False
    assert Lease(conn, "background", "new").acquire()  # taken at once, not in an hour
    assert holder_alive("another-machine:1:1") is None


def _assess(**overrides):
    now = 10_000.0
    values = dict(
        now=now,
        stuck=60.0,
        tick_seconds=60.0,
        lag={"pending": 0, "oldest_pending_age": None, "last_progress_at": now - 1},
        last_tick_at=now - 10,
        free={"/data": 10 * MIN_FREE_BYTES},
        write_error=None,
        write_success=None,
    )
    values.update(overrides)
    return assess(**values)


def test_health_rules():
    assert _assess() == ([], [])
    stuck = {"pending": 4, "oldest_pending_age": 90.0, "last_progress_at": 10_000.0 - 90}
    assert "blocked" in _assess(lag=stuck)[0][0]
    moving = {**stuck, "last_progress_at": 10_000.0 - 1}
    assert _assess(lag=moving)[0] == [] and "lags" in _assess(lag=moving)[1][0]
    failing = {**moving, "retrying": 2, "last_retry_error": "disk I/O error"}
    assert "storage errors" in _assess(lag=failing)[0][0]
    assert "disk full" in _assess(free={"/data": 10})[0][0]
    assert "tick" in _assess(last_tick_at=10_000.0 - 200)[0][0]
    error = (10_000.0 - 5, "OperationalError: database or disk is full")
    assert "cannot be stored" in _assess(write_error=error)[0][0]
    assert _assess(write_error=error, write_success=10_000.0 - 1)[0] == []
    aside = {"pending": 0, "oldest_pending_age": None, "last_progress_at": None, "set_aside": 2}
    problems, warnings = _assess(lag=aside)
    assert problems == [] and "set aside" in warnings[0]


def test_cli_lists_and_replays_set_aside_deliveries(tmp_path):
    db = str(tmp_path / "inbox.db")
    inbox = Inbox(db)
    queue = DeliveryQueue(QueueFile(tmp_path / "inbox.webhooks.db"), connect_state(db))
    queue.append(json.dumps({"object": "page", "entry": []}).encode())
    assert drain(inbox, queue) == 1
    listed = CliRunner().invoke(main, ["deliveries", "list", "--failed", "--db", db])
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith("1\t") and "whatsapp_business_account" in listed.output
    as_json = CliRunner().invoke(main, ["deliveries", "list", "--json", "--db", db])
    assert json.loads(as_json.output)["id"] == 1
    assert CliRunner().invoke(main, ["deliveries", "replay", "--db", db]).exit_code != 0
    missing = CliRunner().invoke(main, ["deliveries", "replay", "7", "--db", db])
    assert missing.exit_code != 0 and "not set aside: 7" in missing.output
    replayed = CliRunner().invoke(main, ["deliveries", "replay", "--all", "--db", db])
    assert replayed.exit_code == 0 and "1 deliveries put back" in replayed.output
    assert queue.counts() == {"pending": 1}
    inbox.close()


def test_webhook_answers_503_when_the_delivery_cannot_be_stored(tmp_path, monkeypatch):
    from litestar.testing import TestClient

    from copilot.integrations.whatsapp import compute_signature
    from copilot.service import Settings, create_app
    from copilot.service.delivery_writer import DeliveryWriter

    def full(file, batch):
        raise sqlite3.OperationalError("database or disk is full")

    settings = Settings(db=str(tmp_path / "inbox.db"), app_secret="k", background=False)
    with TestClient(create_app(settings)) as client:
        monkeypatch.setattr(DeliveryWriter, "_commit", staticmethod(full))
        _, body = text_delivery("573007000001", "hola")
        for content in (body, b"[1]"):  # a delivery, and one refused at the door
            r = client.post(
                "/webhooks/whatsapp",
                content=content,
                headers={"X-Hub-Signature-256": compute_signature(content, "k")},
            )
            assert r.status_code == 503 and r.json()["error"] == "storage_unavailable"
            assert "disk is full" in r.json()["detail"]
        health = client.get("/healthz")
        assert health.status_code == 503
        assert "cannot be stored" in health.json()["problems"][0]
        monkeypatch.undo()
        r = client.post(
            "/webhooks/whatsapp",
            content=body,
            headers={"X-Hub-Signature-256": compute_signature(body, "k")},
        )
        assert r.status_code == 200
        assert client.get("/healthz").status_code == 200


def test_lone_surrogates_are_repaired_where_the_body_is_decoded():
    from copilot.integrations.whatsapp import parse_webhook

    _, body = text_delivery("573008000001", "hola \ud800 y \ud83d\ude00")
    body = body.replace(b'"Lucia"', b'"Ana \\udfff"')
    assert b"\\ud800" in body and b"\\udfff" in body
    for payload in (body, body.decode(), json.loads(body)):
        [event] = parse_webhook(payload).events
        assert event.message.text == "hola \ufffd y \U0001f600"  # a real pair is kept
        assert event.contact.name == "Ana \ufffd"
        json.dumps(event.raw, ensure_ascii=False).encode("utf-8")  # storable


def test_the_deliveries_routes_are_for_admins(tmp_path):
    from litestar.testing import TestClient

    from copilot.service import Settings, create_app

    admin = "admin-token-0123456789"
    settings = Settings(db=str(tmp_path / "inbox.db"), admin_token=admin, background=False)
    with TestClient(create_app(settings)) as client:
        state = client.app.state.service
        _, agent_token = state.inbox().create_agent("Lina")
        queue = state.delivery_queue()
        queue.append(json.dumps({"object": "page", "entry": []}).encode())
        assert drain(state.inbox(), queue) == 1
        as_agent = {"Authorization": f"Bearer {agent_token}"}
        as_admin = {"Authorization": f"Bearer {admin}"}
        assert client.get("/api/deliveries").status_code == 401
        assert client.get("/api/deliveries", headers=as_agent).status_code == 403
        assert client.post("/api/deliveries/replay", headers=as_agent).status_code == 403
        listed = client.get("/api/deliveries", params={"state": "failed"}, headers=as_admin)
        assert [d["id"] for d in listed.json()] == [1] and listed.json()[0]["error"]
        bad = client.get("/api/deliveries", params={"state": "lost"}, headers=as_admin)
        assert bad.status_code == 400
        replayed = client.post("/api/deliveries/replay", headers=as_admin)
        assert replayed.status_code == 200 and replayed.json() == {"replayed": [1]}
        assert queue.counts() == {"pending": 1}


def test_the_runner_moves_what_a_deleted_queue_file_still_held(tmp_path):
    inbox = Inbox(tmp_path / "inbox.db")
    path = tmp_path / "q.db"
    queue = DeliveryQueue(QueueFile(path), connect_state(tmp_path / "inbox.db"), salvage=True)
    _, done = text_delivery("573009000001", "ya procesado")
    queue.append(done)
    assert drain(inbox, queue) == 1
    waiting = [text_delivery(f"57300900001{i}", "sin procesar") for i in range(3)]
    for _, body in waiting:
        queue.append(body)
    for suffix in ("", "-wal", "-shm"):  # deleted before the runner's next round
        (tmp_path / f"q.db{suffix}").unlink(missing_ok=True)
    assert drain(inbox, queue) == 3
    assert all(_has(inbox, message_id) for message_id, _ in waiting)
    assert queue.counts() == {"done": 3}  # the new file's count
    inbox.close()
