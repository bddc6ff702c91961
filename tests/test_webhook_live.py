"""End to end against a real server: ``lead-copilot serve`` (granian, two HTTP
workers and the background process) on 127.0.0.1, driven over HTTP with httpx,
sending replies to the local fake Graph API; then Schemathesis over ``/schema``."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from copilot.integrations.whatsapp import compute_signature
from tests.conftest import whatsapp_payloads
from tests.fakes.graph_api import FakeGraphAPI

REPO = Path(__file__).resolve().parent.parent
SECRET = "live-app-secret"
VERIFY = "live-verify-token"
ADMIN = "live-admin-token-0123456789"
PHONE_NUMBER_ID = "1122334455667"
FIXTURES = whatsapp_payloads()
_ids = count(1)


@dataclass
class Live:
    url: str
    db: Path
    queue_db: Path
    graph: FakeGraphAPI

    def client(self, token: str | None = ADMIN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def queue_counts(self) -> dict[str, int]:
        return httpx.get(f"{self.url}/healthz", timeout=30).json()["deliveries"]

    def wait_processed(self, timeout: float = 30.0) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = self.queue_counts()
            if not counts.get("pending") and not counts.get("processing"):
                return counts
            time.sleep(0.1)
        raise AssertionError(f"deliveries still pending: {self.queue_counts()}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    port = _free_port()
    with FakeGraphAPI() as graph:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("LEAD_COPILOT_", "WHATSAPP_"))
        }
        env.update(
            PYTHONPATH=str(REPO),
            WHATSAPP_APP_SECRET=SECRET,
            WHATSAPP_VERIFY_TOKEN=VERIFY,
            WHATSAPP_ACCESS_TOKEN="graph-token",
            WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
            WHATSAPP_API_BASE_URL=graph.base_url,
            LEAD_COPILOT_ADMIN_TOKEN=ADMIN,
            # One tick at start-up only: no automatic message interleaves with the tests.
            LEAD_COPILOT_TICK_SECONDS="3600",
        )
        log = (tmp / "server.log").open("wb")
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "copilot", "serve", "--db", str(tmp / "inbox.db")),
                *("--port", str(port), "--workers", "2"),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:  # up, and the background process did its start-up tick
                try:
                    health = httpx.get(f"{url}/healthz", timeout=2)
                    if health.status_code == 200 and health.json()["last_tick_at"]:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp / "server.log").read_text()[-3000:])
                time.sleep(0.1)
            yield Live(url, tmp / "inbox.db", tmp / "inbox.webhooks.db", graph)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def text_delivery(phone: str, text: str) -> tuple[str, bytes]:
    message_id = f"wamid.LIVE{next(_ids)}x{time.time_ns()}"
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1234567890",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550001111",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Lucia"}, "wa_id": phone}],
                            "messages": [
                                {
                                    "from": phone,
                                    "id": message_id,
                                    "timestamp": str(int(datetime.now(UTC).timestamp())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return message_id, json.dumps(body).encode()


def post_signed(live: Live, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{live.url}/webhooks/whatsapp",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": compute_signature(body, SECRET),
        },
        timeout=30,
    )


def lead_writes(live: Live, phone: str, text: str) -> tuple[int, str]:
    """A lead's message through the webhook; returns (conversation id, message id)
    once the background process stored and analysed it."""
    message_id, body = text_delivery(phone, text)
    assert post_signed(live, body).status_code == 200
    live.wait_processed()
    with live.client() as api:
        found = api.get("/api/conversations", params={"q": phone, "status": "any"}).json()
    assert len(found) == 1
    return found[0]["id"], message_id


@pytest.fixture(scope="module")
def agent(live) -> tuple[int, str]:
    with live.client() as api:
        r = api.post("/api/agents", json={"name": "Lina", "team": "ventas"})
    assert r.status_code == 201
    return r.json()["agent"]["id"], r.json()["token"]


def test_live_handshake_and_signature(live):
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "99"}
    r = httpx.get(f"{live.url}/webhooks/whatsapp", params=params)
    assert r.status_code == 200 and r.text == "99"
    params["hub.verify_token"] = "nope"
    assert httpx.get(f"{live.url}/webhooks/whatsapp", params=params).status_code == 403
    _, body = text_delivery("573009990000", "hola")
    r = httpx.post(f"{live.url}/webhooks/whatsapp", content=body)
    assert r.status_code == 401
    r = httpx.post(
        f"{live.url}/webhooks/whatsapp",
        content=body,
        headers={"X-Hub-Signature-256": compute_signature(body, "not-the-secret")},
    )
    assert r.status_code == 401


def test_live_inbound_is_stored_analysed_and_listed(live):
    cid, message_id = lead_writes(live, "573001230001", "hola, cuanto cuesta el sofa?")
    with live.client() as api:
        detail = api.get(f"/api/conversations/{cid}").json()
    assert detail["messages"][-1]["id"] == message_id
    assert detail["messages"][-1]["analysis_state"] == "done"
    assert detail["analysis"]["message_id"] == message_id
    assert detail["analysis"]["result"]["intent"]["label"] == "pricing"


def _reply(live: Live, token: str, cid: int, text: str) -> httpx.Response:
    with live.client(token) as api:
        last = api.get(f"/api/conversations/{cid}").json()["messages"][-1]["id"]
        return api.post(
            f"/api/conversations/{cid}/reply", json={"last_seen_message_id": last, "text": text}
        )


def test_live_reply_is_sent_through_the_cloud_api(live, agent):
    _, token = agent
    phone = "573001230002"
    cid, _ = lead_writes(live, phone, "buenas, tienen envios?")
    with live.client(token) as api:
        assert api.post(f"/api/conversations/{cid}/claim").status_code == 200
    before = len(live.graph.message_requests)
    r = _reply(live, token, cid, "Hola Lucia, si, enviamos a todo el pais.")
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["status"] == "sent" and sent["id"].startswith("wamid.FAKE")
    request = live.graph.message_requests[before]
    assert request.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == "Bearer graph-token"
    assert request.json["to"] == phone
    assert request.json["text"]["body"] == "Hola Lucia, si, enviamos a todo el pais."

    # Meta then reports the delivery: the status moves forward.
    status = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "1", "phone_number_id": "2"},
                            "statuses": [
                                {
                                    "id": sent["id"],
                                    "status": "delivered",
                                    "timestamp": str(int(time.time())),
                                    "recipient_id": phone,
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    assert post_signed(live, json.dumps(status).encode()).status_code == 200
    live.wait_processed()
    with live.client(token) as api:
        messages = api.get(f"/api/conversations/{cid}").json()["messages"]
    assert [m["status"] for m in messages if m["id"] == sent["id"]] == ["delivered"]


def test_live_reply_retries_429_and_500_then_sends(live, agent):
    _, token = agent
    cid, _ = lead_writes(live, "573001230003", "hola")
    with live.client(token) as api:
        assert api.post(f"/api/conversations/{cid}/claim").status_code == 200
    graph = live.graph
    graph.script(graph.rate_limited(retry_after=0), graph.ok("wamid.AFTER429"))
    before = len(graph.message_requests)
    r = _reply(live, token, cid, "primer intento")
    assert r.status_code == 201 and r.json()["id"] == "wamid.AFTER429"
    assert len(graph.message_requests) - before == 2

    graph.script(graph.server_error(), graph.ok("wamid.AFTER500"))
    r = _reply(live, token, cid, "segundo intento")
    assert r.status_code == 201 and r.json()["id"] == "wamid.AFTER500"


def test_live_reply_refused_by_meta_is_kept_as_failed(live, agent):
    _, token = agent
    cid, _ = lead_writes(live, "573001230004", "hola")
    with live.client(token) as api:
        assert api.post(f"/api/conversations/{cid}/claim").status_code == 200
    graph = live.graph
    graph.script(graph.meta_error(400))
    before = len(graph.message_requests)
    r = _reply(live, token, cid, "esto no sale")
    assert r.status_code == 502 and r.json()["error"] == "send_failed"
    assert len(graph.message_requests) - before == 1  # a 400 is never retried
    with live.client(token) as api:
        last = api.get(f"/api/conversations/{cid}").json()["messages"][-1]
    assert last["text"] == "esto no sale" and last["status"] == "failed"
    assert "131030" in last["error"]


def test_live_every_fixture_is_stored(live):
    before = sum(live.queue_counts().values())
    for path in FIXTURES:
        r = post_signed(live, path.read_bytes())
        assert r.status_code == 200, (path.name, r.text)
    counts = live.wait_processed()
    assert sum(counts.values()) - before == len(FIXTURES)
    with sqlite3.connect(live.db) as conn:
        rows = conn.execute(
            "SELECT d.delivery_id, d.state, COUNT(e.id) FROM webhook_progress d"
            " LEFT JOIN webhook_events e ON e.delivery_id = d.delivery_id"
            " WHERE d.delivery_id > ? GROUP BY d.delivery_id",
            (before,),
        ).fetchall()
        kinds = {k for (k,) in conn.execute("SELECT DISTINCT kind FROM webhook_events")}
    assert len(rows) == len(FIXTURES)
    for _, state, events in rows:
        assert (state == "done" and events > 0) or state == "failed"
    assert {"message", "echo", "history", "status", "edit", "revoke", "reaction"} <= kinds
    with sqlite3.connect(live.db) as conn:
        stored = {m for (m,) in conn.execute("SELECT wa_id FROM messages")}
    assert {"wamid.xyzxyz"} <= stored


# --- Schemathesis: no 500 anywhere ---------------------------------------------------


def test_live_no_server_error(live):
    """Every operation of the service (not the web pages) with generated input
    and the admin token: any status but 5xx. Bounded: a few examples each."""
    schema = schemathesis.openapi.from_url(f"{live.url}/schema/openapi.json")
    schema = schema.include(path_regex=r"^/(api|healthz|webhooks)")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            case.call_and_validate(
                base_url=live.url,
                headers={"Authorization": f"Bearer {ADMIN}"},
                checks=[not_a_server_error],
            )

        try:
            check()
        except Exception as exc:  # collect them all, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert operations >= 20
    assert not failures, "\n\n".join(failures)
