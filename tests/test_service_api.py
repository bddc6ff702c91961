"""The inbox JSON API through Litestar's TestClient: auth, roles, the reply
flow with its conflicts, filters, and every error as a JSON 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from litestar.testing import TestClient

from copilot.models import Contact, Message
from copilot.service import Settings, create_app

ADMIN = "admin-token-0123456789abcdef"
_ids = count(1)


@pytest.fixture
def client(tmp_path):
    settings = Settings(
        db=str(tmp_path / "inbox.db"),
        admin_token=ADMIN,
        app_secret="secret",
        verify_token="verify",
        background=False,
        max_body_bytes=64_000,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def auth(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def state(client: TestClient):
    return client.app.state.service


def inbound(client, phone: str, text: str, *, at: datetime | None = None, name: str = "Lead"):
    """Store a lead's message through the library (what the webhook runner does)."""
    message = Message(
        id=f"wamid.T{next(_ids)}",
        direction="inbound",
        author="lead",
        text=text,
        timestamp=at or datetime.now(UTC),
    )
    return state(client).inbox().ingest(Contact(wa_id=phone, name=name), message)


def new_agent(client, name: str, team: str = "ventas", role: str = "agent") -> tuple[int, str]:
    r = client.post("/api/agents", headers=auth(), json={"name": name, "team": team, "role": role})
    assert r.status_code == 201, r.text
    return r.json()["agent"]["id"], r.json()["token"]


# --- auth -----------------------------------------------------------------------


def test_api_needs_a_valid_bearer_token(client):
    assert client.get("/api/conversations").status_code == 401
    r = client.get("/api/conversations", headers=auth("wrong-token"))
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/me", headers={"Authorization": "Basic abc"}).status_code == 401
    me = client.get("/api/me", headers=auth())
    assert me.status_code == 200 and me.json()["role"] == "admin"


def test_agent_token_is_shown_once_and_works(client):
    agent_id, token = new_agent(client, "Ana")
    me = client.get("/api/me", headers=auth(token)).json()
    assert me == {**me, "id": agent_id, "name": "Ana", "team": "ventas", "role": "agent"}
    listed = client.get("/api/agents", headers=auth(token)).json()
    assert all("token" not in a for a in listed)
    assert {a["name"] for a in listed} == {"admin", "Ana"}


def test_only_admins_create_agents(client):
    _, token = new_agent(client, "Ana")
    r = client.post("/api/agents", headers=auth(token), json={"name": "Eve", "role": "admin"})
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"


# --- the reply flow ---------------------------------------------------------------


def test_claim_reply_and_conflicts(client):
    ana_id, ana = new_agent(client, "Ana")
    _, beto = new_agent(client, "Beto")
    first = inbound(client, "573001112233", "hola, cuanto cuesta el sofa?")
    cid = first.conversation_id

    queue = client.get("/api/conversations?view=unassigned", headers=auth(ana)).json()
    assert [c["id"] for c in queue] == [cid]

    claimed = client.post(f"/api/conversations/{cid}/claim", headers=auth(ana))
    assert claimed.status_code == 200 and claimed.json()["assignee_id"] == ana_id
    lost = client.post(f"/api/conversations/{cid}/claim", headers=auth(beto))
    assert lost.status_code == 409 and lost.json()["error"] == "conflict"

    # Only the owner replies.
    body = {"last_seen_message_id": first.message_id, "text": "Hola! Cuesta 1.200.000"}
    r = client.post(f"/api/conversations/{cid}/reply", headers=auth(beto), json=body)
    assert r.status_code == 403

    # The lead writes again: a reply based on the old view is refused, nothing sent.
    second = inbound(client, "573001112233", "y tienen envio a Medellin?")
    r = client.post(f"/api/conversations/{cid}/reply", headers=auth(ana), json=body)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "conflict"

    body["last_seen_message_id"] = second.message_id
    r = client.post(f"/api/conversations/{cid}/reply", headers=auth(ana), json=body)
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["direction"] == "outbound" and sent["agent_id"] == ana_id
    assert sent["status"] == "outbox"  # no WhatsApp credentials: kept locally

    detail = client.get(f"/api/conversations/{cid}", headers=auth(ana)).json()
    assert [m["text"] for m in detail["messages"]][-1] == "Hola! Cuesta 1.200.000"
    assert detail["analysis"]["message_id"] == second.message_id
    assert detail["analysis"]["engine"] == "rules"
    assert detail["analysis"]["result"]["intent"]["label"]


def test_accepting_and_rejecting_suggestions(client):
    _, ana = new_agent(client, "Ana")
    first = inbound(client, "573001112244", "hola, cuanto cuesta el sofa de 3 puestos?")
    cid = first.conversation_id
    client.post(f"/api/conversations/{cid}/claim", headers=auth(ana))
    detail = client.get(f"/api/conversations/{cid}", headers=auth(ana)).json()
    suggestion = detail["suggestion"]
    assert suggestion is not None and suggestion["state"] == "proposed"

    r = client.post(
        f"/api/conversations/{cid}/suggestions/{suggestion['id']}/reject",
        headers=auth(ana),
        json={"reason": "too formal"},
    )
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    again = client.post(
        f"/api/conversations/{cid}/suggestions/{suggestion['id']}/reject", headers=auth(ana)
    )
    assert again.status_code == 409

    second = inbound(client, "573001112244", "y de que color lo tienen?")
    suggestion = client.get(f"/api/conversations/{cid}", headers=auth(ana)).json()["suggestion"]
    r = client.post(
        f"/api/conversations/{cid}/reply",
        headers=auth(ana),
        json={"last_seen_message_id": second.message_id, "suggestion_id": suggestion["id"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["text"] == suggestion["text"]
    decided = state(client).inbox().suggestions(cid)
    assert decided[0].state == "accepted"


def test_transfer_assign_and_release(client):
    ana_id, ana = new_agent(client, "Ana")
    beto_id, beto = new_agent(client, "Beto")
    cid = inbound(client, "573001110000", "hola").conversation_id
    # An agent may not assign to someone else; an admin may.
    r = client.post(
        f"/api/conversations/{cid}/assign", headers=auth(ana), json={"agent_id": beto_id}
    )
    assert r.status_code == 403
    r = client.post(f"/api/conversations/{cid}/assign", headers=auth(), json={"agent_id": ana_id})
    assert r.status_code == 200 and r.json()["assignee_id"] == ana_id
    r = client.post(
        f"/api/conversations/{cid}/transfer",
        headers=auth(beto),
        json={"to_agent_id": beto_id},
    )
    assert r.status_code == 403  # not the owner
    r = client.post(
        f"/api/conversations/{cid}/transfer",
        headers=auth(ana),
        json={"to_agent_id": beto_id, "note": "habla portugues"},
    )
    assert r.status_code == 200 and r.json()["assignee_id"] == beto_id
    notes = client.get(f"/api/conversations/{cid}/notes", headers=auth(beto)).json()
    assert [n["text"] for n in notes] == ["habla portugues"]
    r = client.post(f"/api/conversations/{cid}/release", headers=auth(beto))
    assert r.status_code == 200 and r.json()["assignee_id"] is None
    mine = client.get("/api/conversations?view=mine", headers=auth(beto)).json()
    assert mine == []


def test_notes_tags_stage_and_tasks(client):
    ana_id, ana = new_agent(client, "Ana")
    _, beto = new_agent(client, "Beto")
    cid = inbound(client, "573001113333", "hola").conversation_id
    client.post(f"/api/conversations/{cid}/claim", headers=auth(ana))

    r = client.post(f"/api/conversations/{cid}/notes", headers=auth(ana), json={"text": "VIP"})
    assert r.status_code == 201 and r.json()["agent_id"] == ana_id
    r = client.post(
        f"/api/conversations/{cid}/tags", headers=auth(ana), json={"add": ["vip", "b2b"]}
    )
    assert r.json() == ["vip", "b2b"]
    r = client.post(f"/api/conversations/{cid}/tags", headers=auth(ana), json={"remove": ["b2b"]})
    assert r.json() == ["vip"]

    r = client.post(f"/api/conversations/{cid}/stage", headers=auth(beto), json={"stage": "won"})
    assert r.status_code == 403
    r = client.post(f"/api/conversations/{cid}/stage", headers=auth(ana), json={"stage": "lost"})
    assert r.status_code == 422 and "lost_reason" in r.json()["detail"]
    r = client.post(
        f"/api/conversations/{cid}/stage", headers=auth(ana), json={"stage": "proposal_sent"}
    )
    assert r.status_code == 200 and r.json()["stage"] == "proposal_sent"

    due = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = client.post(
        f"/api/conversations/{cid}/tasks",
        headers=auth(ana),
        json={"title": "Llamar", "due_at": due},
    )
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["owner_id"] == ana_id and task["kind"] == "custom"
    mine = client.get("/api/tasks", headers=auth(ana)).json()
    assert task["id"] in [t["id"] for t in mine]
    assert client.post(f"/api/tasks/{task['id']}/done", headers=auth(beto)).status_code == 403
    r = client.post(f"/api/tasks/{task['id']}/done", headers=auth(ana))
    assert r.status_code == 200 and r.json()["state"] == "done"


def test_list_filters(client):
    _, ana = new_agent(client, "Ana", team="ventas")
    _, ext = new_agent(client, "Eli", team="exportacion")
    a = inbound(
        client, "573001000001", "hola, cuanto cuesta el sofa?", name="Maria"
    ).conversation_id
    b = inbound(client, "573001000002", "necesito hablar con una persona ya", name="Pedro")
    b = b.conversation_id
    old = datetime.now(UTC) - timedelta(hours=3)
    c = inbound(client, "573001000003", "hola", at=old, name="Zoe").conversation_id
    client.post(f"/api/conversations/{a}/claim", headers=auth(ana))
    client.post(f"/api/conversations/{a}/tags", headers=auth(ana), json={"add": ["vip"]})

    def ids(query: str, token: str = ADMIN) -> set[int]:
        r = client.get(f"/api/conversations?{query}", headers=auth(token))
        assert r.status_code == 200, r.text
        return {row["id"] for row in r.json()}

    assert ids("") == {a, b, c}
    assert ids("view=mine", ana) == {a}
    assert ids("view=unassigned") == {b, c}
    assert ids("view=team", ana) == {a}
    assert ids("view=team", ext) == set()
    assert ids("tag=vip") == {a}
    assert ids("q=maria") == {a}
    assert ids("q=sofa") == {a}
    assert ids("q=100%25") == set()  # LIKE wildcards are plain text
    assert ids("stage=new") >= {b, c}
    assert ids("handoff=true") == {b}
    assert ids("sla_breached=true") == {c}
    assert ids("sla_breached=false") == {a, b}
    assert ids("status=closed") == set()
    assert ids("limit=1").__len__() == 1
    origin = client.get(f"/api/conversations/{a}", headers=auth()).json()["conversation"]["origin"]
    assert a in ids(f"origin={origin}")


def test_metrics(client):
    _, ana = new_agent(client, "Ana")
    inbound(client, "573001119999", "hola")
    r = client.get("/api/metrics", headers=auth(ana))
    assert r.status_code == 200
    assert "first_response" in r.json() or r.json()
    r = client.get(
        "/api/metrics?start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z", headers=auth()
    )
    assert r.status_code == 422


# --- errors ---------------------------------------------------------------------


def test_bad_input_is_a_json_4xx(client):
    cid = inbound(client, "573001114444", "hola").conversation_id
    url = f"/api/conversations/{cid}/notes"
    cases = [
        (client.post(url, headers=auth(), content=b"{not json"), 400),
        (client.post(url, headers=auth(), json={"text": "x", "extra": 1}), 400),
        (client.post(url, headers=auth(), json={"text": 5}), 400),
        (client.post(url, headers=auth(), json=[]), 400),
        (client.post(url, headers=auth(), content=b"x" * 70_000), 413),
        (client.get("/api/conversations/999999", headers=auth()), 404),
        (client.get("/api/conversations?limit=abc", headers=auth()), 400),
        (client.get("/api/conversations?stage=nonsense", headers=auth()), 400),
        (client.post("/api/tasks/424242/done", headers=auth()), 404),
        (client.get("/api/nothing-here", headers=auth()), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.request.url, response.text)
        body = response.json()
        assert body["error"] and body["detail"]


def test_opted_out_and_closed_window_are_refused_with_codes(client):
    _, ana = new_agent(client, "Ana")
    first = inbound(client, "573001115555", "hola")
    cid = first.conversation_id
    client.post(f"/api/conversations/{cid}/claim", headers=auth(ana))
    inbox = state(client).inbox()
    inbox.set_opted_out(first.contact_id, True)
    body = {"last_seen_message_id": first.message_id, "text": "hola de nuevo"}
    r = client.post(f"/api/conversations/{cid}/reply", headers=auth(ana), json=body)
    assert r.status_code == 409 and r.json()["error"] == "opted_out"

    old = inbound(client, "573001116666", "hola", at=datetime.now(UTC) - timedelta(days=2))
    client.post(f"/api/conversations/{old.conversation_id}/claim", headers=auth(ana))
    body = {"last_seen_message_id": old.message_id, "text": "seguimos?"}
    r = client.post(f"/api/conversations/{old.conversation_id}/reply", headers=auth(ana), json=body)
    assert r.status_code == 422 and r.json()["error"] == "window_closed"


# --- analysis, health, schema -------------------------------------------------------


def test_analyze_is_stateless(client):
    conversation = {
        "messages": [
            {
                "id": "m1",
                "direction": "inbound",
                "author": "lead",
                "text": "hola, cuanto cuesta el sofa?",
                "timestamp": "2026-11-20T17:00:00Z",
            }
        ]
    }
    r = client.post("/api/analyze", headers=auth(), json=conversation)
    assert r.status_code == 200, r.text
    assert r.json()["intent"]["label"] == "pricing"
    assert client.get("/api/conversations", headers=auth()).json() == []  # nothing stored
    assert client.post("/api/analyze", json=conversation).status_code == 401
    r = client.post("/api/analyze", headers=auth(), json={"messages": []})
    assert r.status_code == 422 and "inbound" in r.json()["detail"]
    r = client.post("/api/analyze", headers=auth(), json={"messages": [{"id": 1}]})
    assert r.status_code == 400


def test_health_and_openapi(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    schema = client.get("/schema/openapi.json").json()
    assert "/api/conversations/{conversation_id}/reply" in schema["paths"]
    assert "/webhooks/whatsapp" in schema["paths"]
