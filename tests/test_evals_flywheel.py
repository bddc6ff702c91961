"""The data flywheel: label corrections in the inbox (library and API) and their
export, with edited and rejected suggestions, as candidate eval cases that
``lead-copilot eval check`` accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from copilot.cli import main
from copilot.evals.datasets_io import load_dataset
from copilot.inbox import Inbox, InvalidInput, ManualClock, NotFoundError, PermissionDenied
from copilot.inbox.replies import similarity
from copilot.inbox.testing import RecordingSender
from copilot.models import Contact, ConversationState, Message
from copilot.service import Settings, create_app
from copilot.taxonomy import Language, TemplateKey

LAURA = Contact(wa_id="573001112233", name="Laura")
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 10:00 in Bogotá: open
L1 = "Hola! cuánto cuesta la mensualidad del gimnasio?"
L2 = "Soy de Medellín, quiero empezar este mes, mi correo es laura@example.com"
FREE_TEXT = "Perfecto, te espero el lunes."


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class Scenario:
    """A real inbox file, the real rules copilot, and an agent at work."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = ManualClock(START)
        self.box = Inbox(path, clock=self.clock, sender=RecordingSender())
        self.ana = self.box.create_agent("Ana", "ventas", available=True)[0]
        self.bob = self.box.create_agent("Bob", "ventas")[0]
        self.admin = self.box.create_agent("Root", role="admin")[0]

    def inbound(self, mid: str, text: str):
        self.clock.advance(minutes=1)
        return self.box.ingest(LAURA, Message(id=mid, text=text, timestamp=self.clock.now()))


@pytest.fixture
def scenario(tmp_path) -> Scenario:
    s = Scenario(tmp_path / "inbox.db")
    box = s.box
    r1 = s.inbound("wamid.L1", L1)  # 15:01
    assert r1.assignee_id == s.ana.id
    s.cid = r1.conversation_id
    s.s1 = box.current_suggestion(s.cid)
    s.s1_final = s.s1.text.replace("Gracias por escribir", "Gracias por escribirnos")
    assert s.s1_final != s.s1.text
    s.clock.advance(minutes=2)  # 15:03: Ana edits the wording and sends it
    box.reply(s.cid, s.ana.id, s.s1_final, last_seen_message_id="wamid.L1", suggestion_id=s.s1.id)
    s.inbound("wamid.L2", L2)  # 15:04
    s.s2 = box.current_suggestion(s.cid)
    s.clock.advance(minutes=1)  # 15:05: Ana rejects it and writes her own answer
    box.reject_suggestion(s.s2.id, s.ana.id, "ya lo hablamos por teléfono")
    box.reply(s.cid, s.ana.id, FREE_TEXT, last_seen_message_id="wamid.L2")
    s.clock.advance(minutes=1)  # 15:06: corrections
    s.c1 = box.correct_label("wamid.L1", s.ana.id, intent="product_inquiry")
    s.c2 = box.correct_label("wamid.L2", s.ana.id, fields={"name": "Laura", "need": ["gimnasio"]})
    s.clock.advance(minutes=1)  # 15:07: an admin corrects the origin and the handoff
    s.c3 = box.correct_label("wamid.L2", s.admin.id, origin="instagram", handoff_reason="hot_lead")
    return s


def turn(mid: str, who: str, text: str, minute: int) -> dict:
    return {"id": mid, "from": who, "text": text, "ts": f"2026-11-20T15:{minute:02d}:00Z"}


# --- corrections in the inbox ---------------------------------------------------------


def test_a_correction_stores_prediction_and_answer_and_is_audited(scenario):
    s, box = scenario, scenario.box
    predicted_intent = box.analysis("wamid.L1").intent.label.value
    assert s.c1.predicted == {"intent": predicted_intent}
    assert s.c1.corrected == {"intent": "product_inquiry"}
    assert s.c1.conversation_id == s.cid and s.c1.agent_id == s.ana.id
    assert s.c1.created_at == START + timedelta(minutes=6)
    # The rules read no name in the message; the need was read from the first one.
    assert s.c2.predicted == {"fields": {"name": None, "need": "mensualidad del gimnasio"}}
    assert s.c3.corrected == {
        "origin": "instagram",
        "handoff": {"needed": True, "reason": "hot_lead"},
    }
    audit = box.audit_log("message", "wamid.L2")
    assert [a.action for a in audit] == ["label_correction", "label_correction"]
    assert audit[1].actor == f"agent:{s.admin.id}"
    assert audit[1].detail["corrected"]["origin"] == "instagram"
    assert [c.id for c in box.corrections(conversation_id=s.cid)] == [s.c1.id, s.c2.id, s.c3.id]
    since = START + timedelta(minutes=7)
    assert [c.id for c in box.corrections(since=since)] == [s.c3.id]


def test_corrections_are_checked(scenario):
    s, box = scenario, scenario.box
    with pytest.raises(PermissionDenied):
        box.correct_label("wamid.L1", s.bob.id, intent="pricing")
    with pytest.raises(NotFoundError):
        box.correct_label("wamid.nope", s.ana.id, intent="pricing")
    with pytest.raises(InvalidInput, match="nothing to correct"):
        box.correct_label("wamid.L1", s.ana.id)
    with pytest.raises(InvalidInput):
        box.correct_label("wamid.L1", s.ana.id, intent="prices")
    with pytest.raises(InvalidInput, match="handoff"):
        box.correct_label("wamid.L1", s.ana.id, handoff_needed=False, handoff_reason="complaint")
    with pytest.raises(InvalidInput, match="bad field"):
        box.correct_label("wamid.L1", s.ana.id, fields={"colour": "red"})
    outbound = box.messages(s.cid)[1]
    assert outbound.direction.value == "outbound"
    with pytest.raises(InvalidInput, match="not a lead's message"):
        box.correct_label(outbound.id, s.ana.id, intent="pricing")
    assert len(box.corrections()) == 3  # nothing stored by the refused ones


# --- export ---------------------------------------------------------------------------


def test_export_writes_the_exact_candidate_cases(scenario, tmp_path):
    s, box = scenario, scenario.box
    out = tmp_path / "flywheel"
    result = invoke("eval", "export", "--db", str(s.path), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "fields.jsonl",
        "handoff.jsonl",
        "intents.jsonl",
        "origins.jsonl",
        "replies.jsonl",
        "templates.jsonl",
    ]
    a1, a2 = box.analysis("wamid.L1"), box.analysis("wamid.L2")
    conv_origin = box.conversation(s.cid).origin
    sent1, sent2 = box.messages(s.cid)[1], box.messages(s.cid)[3]
    t_l1 = turn("wamid.L1", "lead", L1, 1)
    t_out1 = turn(sent1.id, "business", s.s1_final, 3)
    t_l2 = turn("wamid.L2", "lead", L2, 4)
    src = {"conversation_id": s.cid}

    assert read_lines(out / "intents.jsonl") == [
        {
            "id": "fw-wamid.L1-intent",
            "lang": "es",
            "context": [],
            "text": L1,
            "gold": {"intent": "product_inquiry", "also": []},
            "predicted": {"intent": a1.intent.label.value},
            "review": "pending",
            "source": {
                **src,
                "message_id": "wamid.L1",
                "correction_id": s.c1.id,
                "agent_id": s.ana.id,
                "corrected_at": "2026-11-20T15:06:00Z",
            },
        }
    ]
    later = {"agent_id": s.admin.id, "corrected_at": "2026-11-20T15:07:00Z"}
    assert read_lines(out / "origins.jsonl") == [
        {
            "id": "fw-wamid.L1-origin",  # an origin is decided on the first message
            "lang": "es",
            "text": L1,
            "metadata": {"context_template": False},
            "gold": {"origin": "instagram", "also": []},
            "predicted": {"origin": conv_origin},
            "review": "pending",
            "source": {
                **src,
                "message_id": "wamid.L2",
                "correction_id": s.c3.id,
                **later,
                "first_message_id": "wamid.L1",
            },
        }
    ]
    assert read_lines(out / "handoff.jsonl") == [
        {
            "id": "fw-wamid.L2-handoff",
            "lang": "es",
            "context": [t_l1, t_out1],
            "text": L2,
            "gold": {"needed": True, "reason": "hot_lead"},
            "predicted": {
                "handoff": {
                    "needed": a2.handoff.needed,
                    "reason": a2.handoff.reason.value if a2.handoff.reason else None,
                }
            },
            "review": "pending",
            "source": {**src, "message_id": "wamid.L2", "correction_id": s.c3.id, **later},
        }
    ]
    # Fields: the lead's text as written (email included), all turns up to the message.
    assert read_lines(out / "fields.jsonl") == [
        {
            "id": "fw-wamid.L2-fields",
            "lang": "es",
            "messages": [t_l1, t_out1, t_l2],
            "gold": {"name": "Laura", "need": ["gimnasio"]},
            "predicted": {"fields": {"name": None, "need": "mensualidad del gimnasio"}},
            "review": "pending",
            # The admin's later correction of the same message is the newest one.
            "source": {**src, "message_id": "wamid.L2", "correction_id": s.c2.id, **later},
        }
    ]

    templates = read_lines(out / "templates.jsonl")
    edited_source = {
        **src,
        "message_id": "wamid.L1",
        "suggestion_id": s.s1.id,
        "decision": "edited",
        "agent_id": s.ana.id,
        "decided_at": "2026-11-20T15:03:00Z",
        "state_from": "analysis",
        "sent_message_id": sent1.id,
    }
    rejected_source = {
        **src,
        "message_id": "wamid.L2",
        "suggestion_id": s.s2.id,
        "decision": "rejected",
        "agent_id": s.ana.id,
        "decided_at": "2026-11-20T15:05:00Z",
        "state_from": "analysis",
        "sent_message_id": sent2.id,
    }
    assert templates == [
        {
            "id": f"fw-s{s.s1.id}-template",
            "lang": "es",
            "state": a1.state.model_dump(mode="json"),
            "messages": [t_l1],
            # A light edit kept the template: the suggestion was the right one.
            "gold": {"template": s.s1.template.value, "also": []},
            "predicted": {"template": s.s1.template.value},
            "review": "pending",
            "source": edited_source,
        },
        {
            "id": f"fw-s{s.s2.id}-template",
            "lang": "es",
            "state": a2.state.model_dump(mode="json"),
            "messages": [t_l1, t_out1, t_l2],
            # Free text after a rejection: the right template is for a person to say.
            "gold": {"template": s.s2.template.value, "also": []},
            "predicted": {"template": s.s2.template.value},
            "review": "template unknown",
            "source": rejected_source,
        },
    ]
    assert templates[0]["state"]["inbound_count"] == 1  # the state when suggested
    assert templates[1]["state"]["inbound_count"] == 2
    stored = {x.id: x for x in box.suggestions(s.cid)}
    assert read_lines(out / "replies.jsonl") == [
        {
            "id": f"fw-s{s.s1.id}-reply",
            "lang": "es",
            "decision": "edited",
            "template": s.s1.template.value,
            "suggested_text": s.s1.text,
            "final_text": s.s1_final,
            "similarity": stored[s.s1.id].similarity,
            "reason": None,
            "messages": [t_l1],
            "review": "pending",
            "source": edited_source,
        },
        {
            "id": f"fw-s{s.s2.id}-reply",
            "lang": "es",
            "decision": "rejected",
            "template": s.s2.template.value,
            "suggested_text": s.s2.text,
            "final_text": FREE_TEXT,
            "similarity": similarity(s.s2.text, FREE_TEXT),  # with what went instead
            "reason": "ya lo hablamos por teléfono",
            "messages": [t_l1, t_out1, t_l2],
            "review": "pending",
            "source": rejected_source,
        },
    ]
    assert 0.8 <= stored[s.s1.id].similarity < 1.0

    # `eval check` accepts the folder (replies.jsonl is not a dataset and is skipped).
    check = invoke("eval", "check", str(out))
    assert check.exit_code == 0, check.output
    assert "replies" not in check.output
    for kind, count in [("intents", 1), ("origins", 1), ("handoff", 1), ("fields", 1)]:
        assert f"{out / kind}.jsonl: ok, {count} {kind} items (es)" in check.output
    assert f"{out / 'templates'}.jsonl: ok, 2 templates items (es)" in check.output
    assert load_dataset(out / "fields.jsonl").items[0].gold_fields() == {
        "name": "Laura",
        "need": ["gimnasio"],
    }


def test_export_is_stable_and_filters_by_time(scenario, tmp_path):
    s = scenario
    first, again = tmp_path / "a", tmp_path / "b"
    invoke("eval", "export", "--db", str(s.path), "--out", str(first))
    invoke("eval", "export", "--db", str(s.path), "--out", str(again))
    for path in first.iterdir():
        assert path.read_bytes() == (again / path.name).read_bytes()
    # Until 15:04: only the edit (15:03) is in range.
    result = invoke(
        "eval", "export", "--db", str(s.path), "--out", str(first), "--until", "2026-11-20T15:04"
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in first.iterdir()) == ["replies.jsonl", "templates.jsonl"]
    assert [x["id"] for x in read_lines(first / "replies.jsonl")] == [f"fw-s{s.s1.id}-reply"]
    # From 15:07 on: the admin's correction only; the origin and handoff lines.
    invoke(
        "eval", "export", "--db", str(s.path), "--out", str(first), "--since", "2026-11-20T15:07Z"
    )
    assert sorted(p.name for p in first.iterdir()) == ["handoff.jsonl", "origins.jsonl"]
    empty = invoke(
        "eval", "export", "--db", str(s.path), "--out", str(first), "--since", "2027-01-01"
    )
    assert empty.exit_code == 0 and "nothing to export" in empty.output
    assert list(first.iterdir()) == []


def test_export_refuses_bad_input(tmp_path):
    missing = invoke("eval", "export", "--db", str(tmp_path / "nope.db"), "--out", str(tmp_path))
    assert missing.exit_code == 2 and "no such inbox database" in missing.output
    assert not (tmp_path / "nope.db").exists()  # not created by the attempt
    bad_time = invoke(
        "eval", "export", "--db", "x.db", "--out", str(tmp_path), "--since", "last tuesday"
    )
    assert bad_time.exit_code == 2 and "not an ISO 8601" in bad_time.output
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("hello")
    wrong = invoke("eval", "export", "--db", str(not_sqlite), "--out", str(tmp_path / "o"))
    assert wrong.exit_code == 2 and "not a SQLite database" in wrong.output


# --- the API route --------------------------------------------------------------------

ADMIN = "admin-token-0123456789abcdef"


@pytest.fixture
def client(tmp_path):
    settings = Settings(
        db=str(tmp_path / "service.db"),
        admin_token=ADMIN,
        app_secret="secret",
        verify_token="verify",
        background=False,
        max_body_bytes=64_000,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_corrections_route(client):
    agents = {}
    for name in ("Ana", "Bob"):
        r = client.post("/api/agents", headers=bearer(ADMIN), json={"name": name})
        assert r.status_code == 201, r.text
        agents[name] = (r.json()["agent"]["id"], r.json()["token"])
    inbox = client.app.state.service.inbox()
    message = Message(id="wamid.R1", text=L1, timestamp=datetime.now(UTC))
    cid = inbox.ingest(LAURA, message).conversation_id
    ana_id, ana = agents["Ana"]
    assert client.post(f"/api/conversations/{cid}/claim", headers=bearer(ana)).status_code == 200
    url = "/api/messages/wamid.R1/corrections"
    body = {"intent": "product_inquiry", "fields": {"city": "Cali"}}

    assert client.post(url, json=body).status_code == 401
    r = client.post(url, headers=bearer(agents["Bob"][1]), json=body)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = client.post("/api/messages/wamid.unknown/corrections", headers=bearer(ana), json=body)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = client.post(url, headers=bearer(ana), json={})
    assert r.status_code == 422 and "nothing to correct" in r.json()["detail"]
    r = client.post(url, headers=bearer(ana), json={"intent": "prices"})
    assert r.status_code in (400, 422) and "error" in r.json()
    r = client.post(url, headers=bearer(ana), json={"fields": {"colour": "red"}})
    assert r.status_code in (400, 422)
    assert inbox.corrections() == []

    r = client.post(url, headers=bearer(ana), json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["message_id"] == "wamid.R1" and got["agent_id"] == ana_id
    assert got["corrected"] == {"intent": "product_inquiry", "fields": {"city": "Cali"}}
    assert set(got["predicted"]) == {"intent", "fields"}
    # An admin may correct any conversation.
    r = client.post(url, headers=bearer(ADMIN), json={"handoff_needed": False})
    assert r.status_code == 201 and r.json()["corrected"] == {
        "handoff": {"needed": False, "reason": None}
    }
    assert [c.corrected for c in inbox.corrections(conversation_id=cid)] == [
        got["corrected"],
        {"handoff": {"needed": False, "reason": None}},
    ]


def test_deleted_messages_and_suggestions_without_analysis(scenario, tmp_path):
    s, box = scenario, scenario.box
    # A follow-up proposed by the clock has no analysis: its state is rebuilt.
    s.clock.advance(hours=20)
    with box._tx():
        follow = box._propose(
            s.cid, None, None, TemplateKey.SOFT_FOLLOWUP, "¿Seguimos?", Language.ES
        )
    box.reject_suggestion(follow, s.ana.id)
    # The lead deletes their first message for everyone: it leaves every export.
    box.apply_revoke("wamid.L1")
    out = tmp_path / "out"
    assert invoke("eval", "export", "--db", str(s.path), "--out", str(out)).exit_code == 0
    assert not (out / "intents.jsonl").exists()  # the corrected message is gone
    [fields] = read_lines(out / "fields.jsonl")
    assert [m["id"] for m in fields["messages"]][1:] == ["wamid.L2"]
    assert fields["messages"][0]["from"] == "business"
    [origin] = read_lines(out / "origins.jsonl")
    assert origin["id"] == "fw-wamid.L2-origin" and origin["text"] == L2
    templates = {t["source"]["suggestion_id"]: t for t in read_lines(out / "templates.jsonl")}
    rebuilt = templates[follow]
    assert rebuilt["source"]["state_from"] == "reconstructed"
    assert rebuilt["review"] == "template unknown"  # nobody sent anything after it
    assert rebuilt["state"] == {
        **ConversationState().model_dump(mode="json"),
        "stage": box.conversation(s.cid).stage.value,
        "hours_since_last_inbound": 20.05,  # L2 at 15:04; L1 is deleted
        "hours_since_last_outbound": 20.03,  # Ana's answer at 15:05
        "last_message_from": "business",
        "inbound_count": 1,
        "outbound_count": 2,
    }
    assert [m["id"] for m in rebuilt["messages"]][-1] == box.messages(s.cid)[-1].id
    assert invoke("eval", "check", str(out)).exit_code == 0
