"""The 24-hour window through a real server (``lead-copilot serve`` on 127.0.0.1,
a real SQLite file): the JSON API's field, the web page and the reply refusal
agree on either side of the boundary. The exact instants are pinned in
``test_window.py`` with a held clock; here the real clock runs, so the leads
wrote ten minutes inside and ten minutes outside the window."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from copilot.inbox import Inbox
from copilot.models import Contact, Message

REPO = Path(__file__).resolve().parent.parent
ADMIN = "window-live-admin-token-0123456789"
#: How far from the boundary each lead wrote: wide enough for a loaded machine.
MARGIN = timedelta(minutes=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, dict[str, int], str]]:
    tmp = tmp_path_factory.mktemp("window")
    db = tmp / "inbox.db"
    inbox = Inbox(str(db))
    agent, token = inbox.create_agent("Ana", "ventas")
    now = datetime.now(UTC)
    convs = {}
    for key, ago, wa_id in (
        ("open", timedelta(hours=24) - MARGIN, "573100000101"),
        ("closed", timedelta(hours=24) + MARGIN, "573100000102"),
    ):
        message = Message(id=f"wamid.{key}", text="hola, busco un sofá", timestamp=now - ago)
        convs[key] = inbox.ingest(Contact(wa_id=wa_id, name="Laura"), message).conversation_id
        inbox.claim(convs[key], agent.id)
    inbox.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEAD_COPILOT_", "WHATSAPP_"))}
    # No background tick: an automatic message would move the last message seen.
    env.update(PYTHONPATH=str(REPO), LEAD_COPILOT_ADMIN_TOKEN=ADMIN, LEAD_COPILOT_BACKGROUND="off")
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "copilot", "serve", "--db", str(db), "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "server.log").read_text()[-3000:])
            time.sleep(0.1)
        yield url, convs, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.parametrize("which", ["open", "closed"])
def test_api_web_and_refusal_agree_on_a_real_server(server, which):
    url, convs, token = server
    cid, open_ = convs[which], which == "open"
    with httpx.Client(base_url=url, timeout=10) as client:
        headers = {"Authorization": f"Bearer {token}"}
        view = client.get(f"/api/conversations/{cid}", headers=headers)
        assert view.status_code == 200, view.text
        assert view.json()["window_open"] is open_

        page = client.get("/login")
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"token": token, "nonce": nonce, "next": "/"})
        page = client.get(f"/c/{cid}")
        assert page.status_code == 200
        shown = re.search(r'<p class="window (open|closed)">', page.text).group(1)
        assert shown == which

        client.cookies.clear()
        body = {"last_seen_message_id": f"wamid.{which}", "text": "¿seguimos con el sofá?"}
        sent = client.post(f"/api/conversations/{cid}/reply", headers=headers, json=body)
        if open_:
            assert sent.status_code in (200, 201), sent.text
        else:
            assert sent.status_code == 422, sent.text
            assert sent.json()["error"] == "window_closed"
