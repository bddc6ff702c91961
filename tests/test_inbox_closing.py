"""Closing with an outcome, reopening, snoozing and asking the copilot again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from copilot.inbox import (
    ConflictError,
    Inbox,
    InboxConfig,
    InvalidInput,
    ManualClock,
    PermissionDenied,
)
from copilot.inbox.listing import ConversationQuery, list_conversations
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message

LAURA = Contact(wa_id="573001112233", name="Laura")
PEDRO = Contact(wa_id="573009998877", name="Pedro")


@pytest.fixture
def clock(friday_noon):
    return ManualClock(friday_noon)


@pytest.fixture
def inbox(profile, clock):
    # No automatic reassignment or acknowledgement: only closing decides here.
    config = InboxConfig(auto_acknowledgement=False, reassign_after_minutes=None)
    return Inbox(":memory:", copilot=KeywordAnalyzer(profile), clock=clock, config=config)


def say(inbox, contact, mid, text, at):
    return inbox.ingest(contact, Message(id=mid, text=text, timestamp=at))


def sla_breached(inbox, status="open"):
    rows = list_conversations(
        inbox, ConversationQuery(view="all", status=status, sla_breached=True), None
    )
    return [r["id"] for r in rows]


def test_closing_as_lost_stops_the_sla_timer_and_leaves_the_sla_filter(inbox, clock):
    cid = say(inbox, LAURA, "w1", "hola, precio del sofá?", clock.now()).conversation_id
    clock.advance(days=3)  # long past the first-response SLA
    assert sla_breached(inbox) == [cid]
    assert sla_breached(inbox, status=None) == [cid]
    closed = inbox.close_conversation(cid, "lost", lost_reason="no_budget")
    assert (closed.status, closed.outcome, closed.stage.value) == ("closed", "lost", "lost")
    assert closed.lost_reason.value == "no_budget"
    assert closed.waiting_since is None
    assert sla_breached(inbox) == [] and sla_breached(inbox, status=None) == []
    history = [(h.action, h.after) for h in inbox.history(cid)]
    assert ("close", "lost:no_budget") in history


def test_each_outcome_moves_the_stage_it_means(inbox, clock):
    expected = {
        "won": ("won", None),
        "spam": ("lost", "invalid"),
        "no_reply_needed": ("new", None),
    }
    for n, (outcome, (stage, reason)) in enumerate(expected.items()):
        contact = Contact(wa_id=f"57300000000{n}", name=f"L{n}")
        cid = say(inbox, contact, f"o{n}", "hola", clock.now()).conversation_id
        detail = inbox.close_conversation(cid, outcome)
        assert (detail.outcome, detail.stage.value) == (outcome, stage)
        assert (detail.lost_reason.value if detail.lost_reason else None) == reason


def test_bad_outcomes_are_refused_and_change_nothing(inbox, clock):
    cid = say(inbox, LAURA, "w1", "hola", clock.now()).conversation_id
    with pytest.raises(InvalidInput, match="lost_reason"):
        inbox.close_conversation(cid, "lost")
    with pytest.raises(InvalidInput, match="only goes with"):
        inbox.close_conversation(cid, "won", lost_reason="no_budget")
    with pytest.raises(InvalidInput, match="outcomes"):
        inbox.close_conversation(cid, "archived")
    assert inbox.conversation(cid).status == "open"


def test_a_new_message_reopens_a_closed_conversation(inbox, clock):
    cid = say(inbox, LAURA, "w1", "hola", clock.now()).conversation_id
    inbox.close_conversation(cid, "no_reply_needed")
    clock.advance(days=2)
    say(inbox, LAURA, "w2", "otra pregunta", clock.now())
    detail = inbox.conversation(cid)
    assert (detail.status, detail.outcome) == ("open", None)
    assert detail.waiting_since == clock.now()
    assert [h.by for h in inbox.history(cid) if h.action == "reopen"] == ["lead"]


def test_closing_cancels_automatic_followups_but_keeps_an_agents_task(inbox, clock):
    agent, _ = inbox.create_agent("Ana", "ventas", available=True)
    cid = say(inbox, LAURA, "w1", "hola, precio?", clock.now()).conversation_id
    inbox.claim(cid, agent.id)
    inbox.reply(cid, agent.id, "Hola Laura, cuesta 100.", last_seen_message_id="w1")
    custom = inbox.create_task(cid, "llamar", clock.now() + timedelta(days=1))
    assert any(
        t.kind != "custom" and t.state == "pending" for t in inbox.tasks(conversation_id=cid)
    )
    inbox.close_conversation(cid, "won", agent_id=agent.id)
    states = {t.id: t.state for t in inbox.tasks(conversation_id=cid)}
    assert states.pop(custom.id) == "pending"
    assert set(states.values()) == {"cancelled"}


def test_only_the_owner_or_an_admin_closes(inbox, clock):
    ana, _ = inbox.create_agent("Ana", "ventas")
    beto, _ = inbox.create_agent("Beto", "ventas")
    boss, _ = inbox.create_agent("Jefa", None, role="admin")
    cid = say(inbox, LAURA, "w1", "hola", clock.now()).conversation_id
    inbox.claim(cid, ana.id)
    with pytest.raises(PermissionDenied):
        inbox.close_conversation(cid, "spam", agent_id=beto.id)
    with pytest.raises(PermissionDenied):
        inbox.snooze(cid, clock.now() + timedelta(hours=1), agent_id=beto.id)
    assert inbox.conversation(cid).status == "open"
    assert inbox.close_conversation(cid, "spam", agent_id=boss.id).status == "closed"
    with pytest.raises(PermissionDenied):
        inbox.reopen_conversation(cid, agent_id=beto.id)
    assert inbox.reopen_conversation(cid, agent_id=ana.id).status == "open"


def test_a_snoozed_conversation_comes_back_on_the_tick(inbox, clock):
    cid = say(inbox, LAURA, "w1", "hola", clock.now()).conversation_id
    other = say(inbox, PEDRO, "p1", "hola", clock.now()).conversation_id
    until = clock.now() + timedelta(hours=2)
    assert inbox.snooze(cid, until).status == "snoozed"
    open_ids = [r.id for r in inbox.list_conversations(status="open")]
    assert open_ids == [other]
    clock.advance(hours=1)
    assert inbox.tick().woken == 0
    assert inbox.conversation(cid).status == "snoozed"
    clock.advance(hours=1)
    assert inbox.tick().woken == 1
    assert inbox.tick().woken == 0  # idempotent
    detail = inbox.conversation(cid)
    assert (detail.status, detail.snoozed_until) == ("open", None)
    assert [h.action for h in inbox.history(cid)][-2:] == ["snooze", "wake"]


def test_the_lead_writing_wakes_a_snoozed_conversation_early(inbox, clock):
    cid = say(inbox, LAURA, "w1", "hola", clock.now()).conversation_id
    inbox.snooze(cid, clock.now() + timedelta(days=1))
    clock.advance(minutes=5)
    say(inbox, LAURA, "w2", "sigo aquí", clock.now())
    detail = inbox.conversation(cid)
    assert (detail.status, detail.snoozed_until) == ("open", None)


def test_snooze_times_are_checked(inbox, clock):
    cid = say(inbox, LAURA, "w1", "hola", clock.now()).conversation_id
    with pytest.raises(InvalidInput, match="past"):
        inbox.snooze(cid, clock.now() - timedelta(minutes=1))
    with pytest.raises(InvalidInput, match="at most"):
        inbox.snooze(cid, clock.now() + timedelta(days=400))
    with pytest.raises(InvalidInput, match="time zone"):
        inbox.snooze(cid, (clock.now() + timedelta(hours=1)).replace(tzinfo=None))
    inbox.close_conversation(cid, "spam")
    with pytest.raises(ConflictError, match="reopen"):
        inbox.snooze(cid, clock.now() + timedelta(hours=1))


def test_a_rejected_suggestion_can_be_asked_for_again(inbox, clock):
    agent, _ = inbox.create_agent("Ana", "ventas")
    cid = say(inbox, LAURA, "w1", "hola, cuánto cuesta el sofá?", clock.now()).conversation_id
    inbox.claim(cid, agent.id)
    first = inbox.current_suggestion(cid)
    assert first is not None
    inbox.reject_suggestion(first.id, agent.id, "muy corta")
    assert inbox.current_suggestion(cid) is None
    fresh = inbox.suggest_again(cid, agent_id=agent.id)
    assert fresh is not None and fresh.id != first.id and fresh.state == "proposed"
    assert inbox.current_suggestion(cid).id == fresh.id
    assert fresh.message_id == "w1"
    # Asked again while one is proposed: the new one supersedes it.
    newer = inbox.suggest_again(cid, agent_id=agent.id)
    assert {s.id: s.state for s in inbox.suggestions(cid)}[fresh.id] == "superseded"
    assert inbox.current_suggestion(cid).id == newer.id


def test_suggest_again_needs_a_message_from_the_lead_and_access(inbox, clock):
    ana, _ = inbox.create_agent("Ana", "ventas")
    otro, _ = inbox.create_agent("Otro", "soporte")
    inbox.config.routing = []
    cid = say(inbox, LAURA, "w1", "hola", clock.now()).conversation_id
    inbox.claim(cid, ana.id)
    with pytest.raises(PermissionDenied):
        inbox.suggest_again(cid, agent_id=otro.id)
    inbox.apply_revoke("w1")
    with pytest.raises(InvalidInput, match="nothing to answer"):
        inbox.suggest_again(cid, agent_id=ana.id)


def test_unread_until_the_agent_opens_it_and_again_when_the_lead_writes(inbox, clock):
    from copilot.inbox.access import actor_of_agent
    from copilot.inbox.listing import count_unread

    ana, _ = inbox.create_agent("Ana", "ventas")
    beto, _ = inbox.create_agent("Beto", "ventas")
    cid = say(inbox, LAURA, "w1", "hola", clock.now()).conversation_id
    inbox.claim(cid, ana.id)
    actor, other = actor_of_agent(inbox.conn, ana.id), actor_of_agent(inbox.conn, beto.id)

    def unread(who):
        rows = list_conversations(inbox, ConversationQuery(view="team"), who)
        return {r["id"]: r["unread"] for r in rows}

    assert unread(actor) == {cid: True} and count_unread(inbox, actor) == 1
    inbox.mark_read(cid, ana.id)
    assert unread(actor) == {cid: False} and count_unread(inbox, actor) == 0
    assert unread(other) == {cid: True}  # read state is per agent
    inbox.reply(cid, ana.id, "Hola Laura", last_seen_message_id="w1")
    assert unread(actor) == {cid: False}  # our own answer is nothing new
    say(inbox, LAURA, "w2", "gracias, y el envío?", clock.now() + timedelta(minutes=1))
    assert unread(actor) == {cid: True} and count_unread(inbox, actor) == 1


def test_the_api_lists_snoozed_conversations_and_closes_with_an_outcome(tmp_path, profile):
    from litestar.testing import TestClient

    from copilot.service import Settings, create_app

    admin = "admin-token-for-the-close-test"
    app = create_app(Settings(db=str(tmp_path / "api.db"), background=False, admin_token=admin))
    auth = {"Authorization": f"Bearer {admin}"}
    with TestClient(app) as client:
        inbox = app.state.service.inbox()
        cid = inbox.ingest(
            LAURA, Message(id="w1", text="hola", timestamp=inbox.clock.now())
        ).conversation_id
        r = client.post(
            f"/api/conversations/{cid}/snooze",
            headers=auth,
            json={"until": (inbox.clock.now() + timedelta(hours=3)).isoformat()},
        )
        assert r.status_code == 200 and r.json()["status"] == "snoozed"
        listed = client.get("/api/conversations?view=all&status=snoozed", headers=auth).json()
        assert [c["id"] for c in listed] == [cid]
        r = client.post(f"/api/conversations/{cid}/close", headers=auth, json={"outcome": "lost"})
        assert r.status_code == 422 and "lost_reason" in r.text
        r = client.post(
            f"/api/conversations/{cid}/close",
            headers=auth,
            json={"outcome": "lost", "lost_reason": "no_budget"},
        )
        assert r.status_code == 200
        assert (r.json()["status"], r.json()["outcome"]) == ("closed", "lost")
        r = client.post(f"/api/conversations/{cid}/close", headers=auth, json={})
        assert r.status_code == 400 or r.status_code == 422
