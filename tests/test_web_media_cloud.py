"""Cloud API media in the web inbox: the service fetches an inbound message's
media from the fake Graph API (a real HTTP server on 127.0.0.1) on first view,
keeps it beside the database, and serves it through ``/media/{seq}`` only to
agents who may open the conversation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from copilot.inbox import Inbox
from copilot.models import Contact, Media, Message
from copilot.service import Settings, create_app
from copilot.taxonomy import MessageType
from tests.fakes.graph_api import FakeGraphAPI

ADMIN = "web-admin-token-0123456789"
TOKEN = "cloud-token-never-shown"
PNG = b"\x89PNG\r\n\x1a\n" + b"q" * 300


@dataclass
class World:
    client: TestClient
    inbox: Inbox
    api: FakeGraphAPI
    db: Path
    tokens: dict[str, str]
    ids: dict[str, int]

    def login(self, who: str) -> None:
        self.client.cookies.clear()
        page = self.client.get("/login")
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
        r = self.client.post(
            "/login", data={"token": self.tokens[who], "nonce": nonce, "next": "/"}
        )
        assert r.status_code == 200, r.text[:500]

    def inbound_image(self, n: int, media_id: str, owner: str) -> tuple[int, int]:
        """An image from a new lead, claimed by ``owner``: (conversation, message seq)."""
        result = self.inbox.ingest(
            Contact(wa_id=f"57300999{n:04d}", name=f"Lead {n}"),
            Message(
                id=f"wamid.cloud.{n}",
                type=MessageType.IMAGE,
                media=Media(id=media_id, mime_type="image/png"),
                timestamp=datetime.now(UTC),
            ),
        )
        self.inbox.claim(result.conversation_id, self.ids[owner])
        return result.conversation_id, self.inbox.message(f"wamid.cloud.{n}").seq


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    db = tmp_path / "web.db"
    with FakeGraphAPI(token=TOKEN) as api:
        settings = Settings(
            db=str(db),
            background=False,
            admin_token=ADMIN,
            access_token=TOKEN,
            phone_number_id="555",
            api_base_url=api.base_url,
            sender_options={"initial_wait": 0, "jitter": 0, "max_attempts": 1},
        )
        app = create_app(settings)
        with TestClient(app) as client:
            inbox: Inbox = app.state.service.inbox()
            tokens, ids = {"admin": ADMIN}, {}
            for key, name, team in (("ana", "Ana", "ventas"), ("carla", "Carla", "soporte")):
                agent, token = inbox.create_agent(name, team)
                tokens[key], ids[key] = token, agent.id
            yield World(client, inbox, api, db, tokens, ids)


def test_cloud_media_is_fetched_once_and_served_to_the_conversations_agents(
    world: World,
) -> None:
    world.api.add_media("770001", PNG, "image/png")
    cid, seq = world.inbound_image(1, "770001", owner="carla")
    world.login("ana")  # another team: refused before anything is fetched
    assert world.client.get(f"/media/{seq}").status_code == 403
    assert world.api.media_requests == []
    world.login("carla")
    page = world.client.get(f"/c/{cid}")
    assert page.status_code == 200 and f'src="/media/{seq}"' in page.text
    assert TOKEN not in page.text
    first = world.client.get(f"/media/{seq}")
    assert first.status_code == 200 and first.content == PNG
    assert first.headers["content-type"] == "image/png"
    assert TOKEN not in str(first.headers)
    assert world.client.get(f"/media/{seq}").content == PNG
    assert len(world.api.media_requests) == 2  # one description + one download, then the store
    kept = list((world.db.parent / "web.media").glob("*.bin"))
    assert [p.read_bytes() for p in kept] == [PNG]
    world.login("ana")
    assert world.client.get(f"/media/{seq}").status_code == 403  # still refused once stored


def test_upstream_failure_shows_a_placeholder_never_a_500(world: World) -> None:
    world.api.add_media("770002", PNG, "image/png")
    cid, seq = world.inbound_image(2, "770002", owner="carla")
    world.api.media_down = True
    world.login("carla")
    r = world.client.get(f"/media/{seq}")
    assert r.status_code == 503 and r.headers["retry-after"] == "60"
    assert "could not be fetched" in r.text or "No se pudo traer" in r.text
    _, gone = world.inbound_image(3, "770404", owner="carla")  # Meta no longer has it
    world.api.media_down = False
    assert world.client.get(f"/media/{gone}").status_code == 503
    assert world.client.get(f"/media/{seq}").content == PNG  # back: fetched on the next view
    assert world.client.get(f"/c/{cid}").status_code == 200
