"""The 24-hour window through a real server (``lead-copilot serve`` on 127.0.0.1,
a real SQLite file): the JSON API's field, the web page and the reply refusal
agree on either side of the boundary. The exact instants are pinned in
``test_window.py`` with a held clock; here the real clock runs, so the leads
wrote ten minutes inside and ten minutes outside the window."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from copilot.inbox import Inbox
from copilot.models import Contact, Message
from tests.fakes.live_server import serving

#: How far from the boundary each lead wrote: wide enough for a loaded machine.
MARGIN = timedelta(minutes=10)


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
    # No background tick: an automatic message would move the last message seen.
    env = {"LEAD_COPILOT_BACKGROUND": "off"}
    with serving(db, tmp / "server.log", env=env) as url:
        yield url, convs, token


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
