"""Settings from the environment and flags, the CLI (`serve` start-up errors,
`agents add`), the background runner and its lease, crash recovery of the
delivery queue, and the Cloud API sender adapter."""

from __future__ import annotations

import sqlite3
import time

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from copilot.cli import main
from copilot.inbox import Inbox, OutgoingMessage
from copilot.integrations.whatsapp import WhatsAppSender, compute_signature
from copilot.service import ConfigError, Settings, create_app
from copilot.service.background import Lease
from copilot.service.deliveries import (
    DeliveryQueue,
    connect,
    connect_state,
    drain,
    process_delivery,
)
from copilot.service.sending import CloudAPISender, DatabaseOutbox, build_sender
from tests.conftest import WHATSAPP_PUBLIC
from tests.fakes.graph_api import FakeGraphAPI


def test_settings_from_env_and_flags(tmp_path):
    env = {
        "LEAD_COPILOT_DB": str(tmp_path / "a.db"),
        "LEAD_COPILOT_TICK_SECONDS": "5",
        "WHATSAPP_APP_SECRET": "s3cret",
        "LEAD_COPILOT_BACKGROUND": "off",
    }
    settings = Settings.from_env(env, db=str(tmp_path / "b.db"), engine=None)
    assert settings.db == str(tmp_path / "b.db")  # the flag wins, None means "not given"
    assert settings.tick_seconds == 5.0 and settings.background is False
    assert settings.webhook_enabled and not settings.sends_for_real
    assert settings.queue_path == str(tmp_path / "b.webhooks.db")
    assert "s3cret" not in repr(settings)
    again = Settings.from_env(settings.to_env())
    assert again == settings


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"LEAD_COPILOT_ENGINE": "magic"}, "LEAD_COPILOT_ENGINE"),
        ({"LEAD_COPILOT_TICK_SECONDS": "soon"}, "LEAD_COPILOT_TICK_SECONDS"),
        ({"LEAD_COPILOT_TICK_SECONDS": "0"}, "LEAD_COPILOT_TICK_SECONDS"),
        ({"LEAD_COPILOT_MAX_BODY_BYTES": "10"}, "LEAD_COPILOT_MAX_BODY_BYTES"),
        ({"LEAD_COPILOT_BACKGROUND": "maybe"}, "LEAD_COPILOT_BACKGROUND"),
        ({"LEAD_COPILOT_DB": "/no/such/folder/x.db"}, "LEAD_COPILOT_DB"),
        ({"LEAD_COPILOT_DB": ":memory:"}, "LEAD_COPILOT_DB"),
        ({"LEAD_COPILOT_PROFILE": "/no/such/profile.toml"}, "LEAD_COPILOT_PROFILE"),
        ({"LEAD_COPILOT_ADMIN_TOKEN": "short"}, "LEAD_COPILOT_ADMIN_TOKEN"),
        ({"WHATSAPP_ACCESS_TOKEN": "t"}, "WHATSAPP_PHONE_NUMBER_ID"),
        ({"WHATSAPP_PHONE_NUMBER_ID": "1"}, "WHATSAPP_ACCESS_TOKEN"),
        ({"WHATSAPP_API_BASE_URL": "ftp://x"}, "WHATSAPP_API_BASE_URL"),
    ],
)
def test_invalid_settings_name_the_variable(tmp_path, env, variable):
    env = {"LEAD_COPILOT_DB": str(tmp_path / "x.db"), **env}
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(env)


def test_serve_refuses_bad_config_before_starting(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAD_COPILOT_TICK_SECONDS", "never")
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "x.db")])
    assert result.exit_code != 0
    assert "LEAD_COPILOT_TICK_SECONDS" in result.output
    monkeypatch.delenv("LEAD_COPILOT_TICK_SECONDS")
    bad = tmp_path / "not-sqlite.db"
    bad.write_text("hello, I am not a database")
    result = CliRunner().invoke(main, ["serve", "--db", str(bad)])
    assert result.exit_code != 0 and "not a SQLite database" in result.output


def test_agents_add_prints_a_token_once(tmp_path):
    db = str(tmp_path / "inbox.db")
    result = CliRunner().invoke(main, ["agents", "add", "Ana", "--team", "ventas", "--db", db])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    inbox = Inbox(db)
    agent = inbox.authenticate(token)
    assert agent is not None and agent.name == "Ana" and agent.team == "ventas"
    listed = CliRunner().invoke(main, ["agents", "list", "--db", db])
    assert "Ana" in listed.output and token not in listed.output


def test_lease_has_one_holder(tmp_path):
    Inbox(tmp_path / "inbox.db").close()
    conn = connect_state(tmp_path / "inbox.db")
    first = Lease(conn, "background", "a", ttl=60)
    second = Lease(conn, "background", "b", ttl=60)
    assert first.acquire() and not second.acquire()
    assert first.acquire()  # renewal
    first.release()
    assert second.acquire()
    expired = Lease(conn, "other", "a", ttl=-1)
    assert expired.acquire()
    assert Lease(conn, "other", "b", ttl=60).acquire()  # a dead holder's lease is taken over


def test_runner_resumes_after_a_crash_and_retries_transient_errors(tmp_path):
    inbox = Inbox(tmp_path / "inbox.db")
    queue = DeliveryQueue(connect(tmp_path / "q.db"), connect_state(tmp_path / "inbox.db"))
    body = (WHATSAPP_PUBLIC / "text.json").read_bytes()
    first = queue.append(body)
    # A crash after the inbox stored the message but before progress was recorded:
    process_delivery(inbox, body)
    assert queue.counts() == {"pending": 1}
    assert drain(inbox, queue) == 1  # redone from the cursor, harmlessly
    assert queue.events(first)[0]["outcome"] == "duplicate"
    assert queue.counts() == {"done": 1}

    second = queue.append(body.replace(b"wamid.xyzxyz", b"wamid.second"))
    real_ingest = inbox.ingest
    calls = 0

    def busy(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise sqlite3.OperationalError("database is locked")
        return real_ingest(*args, **kwargs)

    inbox.ingest = busy  # type: ignore[method-assign]
    assert drain(inbox, queue) == 1  # recorded for a retry, nothing lost
    assert queue.counts() == {"done": 1, "pending": 1}
    assert drain(inbox, queue) == 0  # not due yet: it waits its backoff
    assert drain(inbox, queue, now=time.time() + 60) == 1
    assert queue.events(second)[0]["outcome"] == "ingested"
    assert inbox.message("wamid.second").text == "Body Text"


def test_background_runner_processes_and_ticks(tmp_path):
    settings = Settings(db=str(tmp_path / "inbox.db"), app_secret="k", tick_seconds=3600)
    fixture = WHATSAPP_PUBLIC / "text.json"
    body = fixture.read_bytes()
    with TestClient(create_app(settings)) as client:
        r = client.post(
            "/webhooks/whatsapp",
            content=body,
            headers={"X-Hub-Signature-256": compute_signature(body, "k")},
        )
        assert r.status_code == 200
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            health = client.get("/healthz").json()
            if health["deliveries"] == {"done": 1} and health["last_tick_at"]:
                break
            time.sleep(0.05)
        assert health["deliveries"] == {"done": 1}
        assert health["last_tick_at"]
        inbox = client.app.state.service.inbox()
        assert inbox.message("wamid.xyzxyz").analysis_state == "done"
    with sqlite3.connect(settings.db) as conn:  # the lease is given back on stop
        assert conn.execute("SELECT COUNT(*) FROM service_leases").fetchone()[0] == 0


def test_sender_adapter_sends_text_and_templates(tmp_path):
    assert isinstance(build_sender(Settings(db=str(tmp_path / "x.db"))), DatabaseOutbox)
    with FakeGraphAPI() as graph:
        settings = Settings(
            db=str(tmp_path / "x.db"),
            access_token="tok",
            phone_number_id="555",
            api_base_url=graph.base_url,
        )
        sender = build_sender(settings)
        assert isinstance(sender, CloudAPISender)
        text = OutgoingMessage(local_id="l1", conversation_id=1, to_wa_id="573001", text="hola")
        assert sender.send(text).startswith("wamid.FAKE")
        template = OutgoingMessage(
            local_id="l2",
            conversation_id=1,
            to_user_id="US.123",
            text="hola {name}",
            approved_name="seguimiento_1",
            language="pt",
            variables={"name": "Ana"},
        )
        sender.send(template)
        first, second = (r.json for r in graph.message_requests)
        assert first["type"] == "text" and first["text"]["body"] == "hola"
        assert second["type"] == "template" and second["to"] == "US.123"
        assert second["template"]["name"] == "seguimiento_1"
        assert second["template"]["language"] == {"code": "pt"}
        sender.close()
    assert isinstance(CloudAPISender(WhatsAppSender("t", "1")).client, WhatsAppSender)


def test_background_process_is_restarted_when_it_dies(tmp_path):
    from copilot.service.background import BackgroundSupervisor

    settings = Settings(db=str(tmp_path / "inbox.db"), tick_seconds=3600)
    Inbox(settings.db).close()
    supervisor = BackgroundSupervisor(settings, restart_delay=0.05)
    supervisor.start()
    try:
        first = supervisor.process
        first.kill()
        deadline = time.monotonic() + 30
        while supervisor.process is first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert supervisor.process is not first and supervisor.process.is_alive()
        # The new process takes the dead one's lease at once and does the work.
        queue = DeliveryQueue(connect(settings.queue_path), connect_state(settings.db))
        body = (WHATSAPP_PUBLIC / "text.json").read_bytes()
        queue.append(body)
        while queue.counts() != {"done": 1} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert queue.counts() == {"done": 1}
    finally:
        supervisor.stop()
    assert not supervisor.process.is_alive()
