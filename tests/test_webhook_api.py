"""The WhatsApp webhook through Litestar's TestClient: handshake, signatures,
store-first acknowledgement, and every fixture kind found stored after the
runner's pass (run here by hand, deterministically)."""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient

from copilot.integrations.whatsapp import compute_signature
from copilot.service import Settings, create_app
from copilot.service.deliveries import DeliveryQueue, drain
from tests.conftest import WHATSAPP_OWN, WHATSAPP_PUBLIC, whatsapp_payloads

SECRET = "app-secret-for-tests"
FIXTURES = whatsapp_payloads()
STORED_KINDS = {"message", "echo", "history"}


@pytest.fixture
def client(tmp_path):
    settings = Settings(
        db=str(tmp_path / "inbox.db"),
        app_secret=SECRET,
        verify_token="verify-me",
        background=False,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def post(client: TestClient, body: bytes, signature: str | None = "valid"):
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers["X-Hub-Signature-256"] = compute_signature(body, SECRET)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return client.post("/webhooks/whatsapp", content=body, headers=headers)


def queue(client: TestClient) -> DeliveryQueue:
    return client.app.state.service.delivery_queue()


def run_background(client: TestClient) -> None:
    state = client.app.state.service
    while drain(state.inbox(), state.delivery_queue()):
        pass


def test_verification_handshake(client):
    ok = client.get(
        "/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "8271"},
    )
    assert ok.status_code == 200 and ok.text == "8271"
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"},
        {"hub.challenge": "1"},
        {},
    ):
        r = client.get("/webhooks/whatsapp", params=params)
        assert r.status_code == 403, params
        assert r.json()["error"] == "forbidden"


def test_missing_or_wrong_signature_is_401_and_nothing_is_stored(client):
    body = (WHATSAPP_PUBLIC / "text.json").read_bytes()
    assert post(client, body, signature=None).status_code == 401
    assert post(client, body, signature="sha256=" + "0" * 64).status_code == 401
    assert post(client, body, signature="md5=abc").status_code == 401
    other = compute_signature(body, "another-secret")
    assert post(client, body, signature=other).status_code == 401
    tampered = body.replace(b"Body Text", b"Body Texx")
    assert post(client, tampered, signature=compute_signature(body, SECRET)).status_code == 401
    assert queue(client).counts() == {}


def test_delivery_is_stored_before_the_answer_then_processed(client):
    body = (WHATSAPP_PUBLIC / "text.json").read_bytes()
    r = post(client, body)
    assert r.status_code == 200 and r.json()["status"] == "received"
    # Stored, not yet processed: the answer did not wait for the analysis.
    assert queue(client).counts() == {"pending": 1}
    inbox = client.app.state.service.inbox()
    assert inbox.conversation_for_contact("972987654321") is None
    run_background(client)
    assert queue(client).counts() == {"done": 1}
    message = inbox.message("wamid.xyzxyz")
    assert message.text == "Body Text" and message.analysis_state == "done"
    # Meta retries a delivery: stored again, processed as a duplicate, nothing doubled.
    assert post(client, body).status_code == 200
    run_background(client)
    events = queue(client).events(r.json()["delivery"] + 1)
    assert [(e["kind"], e["outcome"]) for e in events] == [("message", "duplicate")]
    assert len(inbox.messages(message.conversation_id)) == 1


def test_signed_body_that_is_not_a_json_object_is_kept_and_refused(client):
    for body in (b"not json", b"[1, 2]", b"\xff\xfe"):
        r = post(client, body)
        assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert queue(client).counts() == {"rejected": 3}


def test_unreadable_delivery_is_kept_as_failed(client):
    body = json.dumps({"object": "page", "entry": []}).encode()
    assert post(client, body).status_code == 200
    run_background(client)
    assert queue(client).counts() == {"failed": 1}


def test_webhook_disabled_without_app_secret(tmp_path):
    settings = Settings(db=str(tmp_path / "inbox.db"), background=False)
    with TestClient(create_app(settings)) as client:
        r = client.post("/webhooks/whatsapp", content=b"{}")
        assert r.status_code == 503 and "WHATSAPP_APP_SECRET" in r.json()["detail"]
        r = client.get(
            "/webhooks/whatsapp",
            params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"},
        )
        assert r.status_code == 403


def test_every_fixture_kind_is_stored(client):
    assert len(FIXTURES) > 40
    for path in FIXTURES:
        r = post(client, path.read_bytes())
        assert r.status_code == 200, (path.name, r.text)
    run_background(client)
    q = queue(client)
    assert q.counts() == {"done": len(FIXTURES)}
    inbox = client.app.state.service.inbox()
    kinds: dict[str, int] = {}
    for delivery_id in range(1, len(FIXTURES) + 1):
        events = q.events(delivery_id)
        assert events, FIXTURES[delivery_id - 1].name  # nothing dropped
        for event in events:
            kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
            assert event["raw"] is not None
            assert not event["outcome"].startswith("rejected"), event
            if event["kind"] in STORED_KINDS:
                assert event["outcome"] in ("ingested", "duplicate")
                assert inbox.message(event["ref"]).id == event["ref"]
    expected = {
        "message",
        "echo",
        "history",
        "status",
        "edit",
        "revoke",
        "reaction",
        "system",
        "app_state_sync",
        "user_preferences",
        "account_update",
        "history_progress",
    }
    assert expected <= set(kinds), sorted(kinds)


def test_statuses_move_outbound_messages_forward(client):
    inbox = client.app.state.service.inbox()
    body = (WHATSAPP_OWN / "echoes.json").read_bytes()
    post(client, body)
    run_background(client)
    echo = json.loads(body)["entry"][0]["changes"][0]["value"]["message_echoes"][0]
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
                                    "id": echo["id"],
                                    "status": "read",
                                    "timestamp": str(int(echo["timestamp"]) + 60),
                                    "recipient_id": echo["to"],
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    assert post(client, json.dumps(status).encode()).status_code == 200
    run_background(client)
    assert inbox.message(echo["id"]).status == "read"


def _delivery(message: dict, contact_wa_id: str = "573001112233") -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "1", "phone_number_id": "2"},
        "contacts": [{"profile": {"name": "Laura"}, "wa_id": contact_wa_id}],
        "messages": [{"from": contact_wa_id, **message}],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


def test_signed_edit_reaction_and_revoke_reach_the_stored_message(client):
    inbox = client.app.state.service.inbox()
    original = "wamid.lead.1"
    steps = [
        {"id": original, "timestamp": "1763658000", "type": "text", "text": {"body": "busco sofá"}},
        {
            "id": "wamid.lead.edit",
            "timestamp": "1763658060",
            "type": "edit",
            "edit": {
                "original_message_id": original,
                "message": {"type": "text", "text": {"body": "busco cama"}},
            },
        },
        {
            "id": "wamid.lead.react",
            "timestamp": "1763658090",
            "type": "reaction",
            "reaction": {"message_id": original, "emoji": "👍"},
        },
        {
            "id": "wamid.lead.revoke",
            "timestamp": "1763658120",
            "type": "revoke",
            "revoke": {"original_message_id": original},
        },
    ]
    for step in steps:
        assert post(client, _delivery(step)).status_code == 200
    run_background(client)
    q = queue(client)
    outcomes = [q.events(i)[0]["outcome"] for i in range(1, len(steps) + 1)]
    assert outcomes == ["ingested", "edit_applied", "reaction_applied", "revoke_applied"]
    stored = inbox.message(original)
    assert stored.text == "busco cama" and stored.edited_at is not None
    assert stored.reactions == {"lead": "👍"} and stored.revoked_at is not None
    actions = [e.action for e in inbox.audit_log("message", original)]
    assert actions == ["message_edit", "reaction", "message_revoke"]
    # An edit of a message the inbox never saw is kept, not applied.
    unknown = dict(steps[1], id="wamid.lead.edit2")
    unknown["edit"] = {**steps[1]["edit"], "original_message_id": "wamid.never"}
    post(client, _delivery(unknown))
    run_background(client)
    assert q.events(len(steps) + 1)[0]["outcome"] == "edit_unknown_message"
