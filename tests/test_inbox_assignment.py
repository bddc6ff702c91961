"""Routing, automatic assignment, the queue, claim / transfer / release, SLA reassignment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from copilot.inbox import (
    ConflictError,
    Inbox,
    InboxConfig,
    ManualClock,
    PermissionDenied,
    RoutingRule,
)
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message, Referral


@pytest.fixture
def clock(friday_noon):
    return ManualClock(friday_noon)


def make(profile, clock, **config):
    return Inbox(
        ":memory:", copilot=KeywordAnalyzer(profile), clock=clock, config=InboxConfig(**config)
    )


def lead(inbox, n, text="hola", at=None, **kw):
    at = at or inbox.clock.now()
    return inbox.ingest(
        Contact(wa_id=f"57300{n:05d}"), Message(id=f"w{n}", text=text, timestamp=at, **kw)
    )


def test_round_robin_inside_team(profile, clock):
    inbox = make(profile, clock)
    ids = [inbox.create_agent(n, "ventas", available=True)[0].id for n in ("Ana", "Beto", "Caro")]
    owners = [lead(inbox, i).assignee_id for i in range(6)]
    assert owners == ids + ids


def test_least_open_prefers_the_emptiest_agent(profile, clock):
    inbox = make(profile, clock, strategy="least_open")
    ana = inbox.create_agent("Ana", "ventas", available=True)[0]
    first = lead(inbox, 0)
    assert first.assignee_id == ana.id
    lead(inbox, 1)
    beto = inbox.create_agent("Beto", "ventas", available=True)[0]
    assert [lead(inbox, i).assignee_id for i in (2, 3)] == [beto.id, beto.id]
    assert lead(inbox, 4).assignee_id in (ana.id, beto.id)


def test_rules_route_by_origin_and_intent(profile, clock):
    inbox = make(
        profile,
        clock,
        routing=[
            RoutingRule(origin="ad", team="ads"),
            RoutingRule(intent="pricing", team="ventas"),
        ],
        default_team="soporte",
    )
    ad_agent = inbox.create_agent("Ana", "ads", available=True)[0]
    sales = inbox.create_agent("Beto", "ventas", available=True)[0]
    support = inbox.create_agent("Caro", "soporte", available=True)[0]
    r1 = lead(inbox, 1, "hola", referral=Referral(source_type="ad"))
    r2 = lead(inbox, 2, "cuanto cuesta")
    r3 = lead(inbox, 3, "necesito ayuda")
    assert (r1.assignee_id, r2.assignee_id, r3.assignee_id) == (ad_agent.id, sales.id, support.id)
    assert inbox.conversation(r2.conversation_id).team == "ventas"


def test_unavailable_off_shift_and_capped_agents_get_nothing(profile, clock):
    inbox = make(profile, clock, default_max_open=1)
    inbox.create_agent("Offline", "ventas", available=False)
    # Friday 12:00 Bogotá: a Saturday-only shift is off now.
    inbox.create_agent("Sabado", "ventas", available=True, shift={"sat": ["10:00-14:00"]})
    day = inbox.create_agent("Dia", "ventas", available=True, shift={"fri": "09:00-18:00"})[0]
    assert lead(inbox, 1).assignee_id == day.id
    second = lead(inbox, 2)  # Dia is at the cap of 1
    assert second.assignee_id is None
    assert [c.id for c in inbox.list_conversations(queue=True)] == [second.conversation_id]


def test_queue_is_served_oldest_first_when_an_agent_comes_online(profile, clock, friday_noon):
    inbox = make(profile, clock)
    r = [lead(inbox, i, at=friday_noon + timedelta(minutes=i)) for i in range(3)]
    clock.advance(minutes=5)
    assert all(x.assignee_id is None for x in r)
    ana = inbox.create_agent("Ana", "ventas", max_open=2)[0]
    inbox.set_availability(ana.id, True)
    owned = {c.id for c in inbox.list_conversations(ana.id)}
    assert owned == {r[0].conversation_id, r[1].conversation_id}
    assert [c.id for c in inbox.list_conversations(queue=True)] == [r[2].conversation_id]
    history = inbox.history(r[0].conversation_id)
    assert history[-1].action == "queue" and history[-1].after == str(ana.id)


def test_claim_transfer_release_are_recorded(profile, clock):
    inbox = make(profile, clock)
    r = lead(inbox, 1)
    ana = inbox.create_agent("Ana", "ventas")[0]
    beto = inbox.create_agent("Beto", "ventas")[0]
    admin = inbox.create_agent("Jefa", role="admin")[0]
    assert inbox.claim(r.conversation_id, ana.id).assignee_id == ana.id
    assert inbox.claim(r.conversation_id, ana.id).assignee_id == ana.id  # idempotent
    with pytest.raises(ConflictError, match="already owned"):
        inbox.claim(r.conversation_id, beto.id)
    with pytest.raises(PermissionDenied):
        inbox.transfer(r.conversation_id, beto.id, beto.id)
    inbox.transfer(r.conversation_id, ana.id, beto.id, note="habla portugués")
    assert inbox.conversation(r.conversation_id).assignee_id == beto.id
    assert inbox.notes(r.conversation_id)[0].text == "habla portugués"
    inbox.release(r.conversation_id, admin.id, note="vacaciones")
    assert inbox.conversation(r.conversation_id).assignee_id is None
    actions = [(h.action, h.before, h.after) for h in inbox.history(r.conversation_id)]
    assert actions == [
        ("claim", None, str(ana.id)),
        ("transfer", str(ana.id), str(beto.id)),
        ("release", str(beto.id), None),
    ]
    # Each change of owner also refreshes the waiting suggestion (a system entry).
    audit = inbox.audit_log("conversation", r.conversation_id)
    assert [e.action for e in audit if e.action != "suggestion_refreshed"] == [
        "claim",
        "transfer",
        "release",
    ]


def test_owner_silent_past_sla_gets_reassigned(profile, clock):
    inbox = make(profile, clock, reassign_after_minutes=30, auto_acknowledgement=False)
    ana = inbox.create_agent("Ana", "ventas", available=True)[0]
    r = lead(inbox, 1)
    assert r.assignee_id == ana.id
    beto = inbox.create_agent("Beto", "ventas", available=True)[0]
    clock.advance(minutes=29)
    assert inbox.tick().reassigned == 0
    clock.advance(minutes=2)
    assert inbox.tick().reassigned == 1
    assert inbox.conversation(r.conversation_id).assignee_id == beto.id
    assert inbox.tick().reassigned == 0  # the new owner gets a fresh 30 minutes
    last = inbox.history(r.conversation_id)[-1]
    assert (last.action, last.before, last.after) == ("reassign_sla", str(ana.id), str(beto.id))


def test_tokens_are_hashed_and_authenticate(profile, clock):
    inbox = make(profile, clock)
    agent, token = inbox.create_agent("Ana", "ventas", role="admin")
    assert inbox.authenticate(token).id == agent.id
    assert inbox.authenticate(token + "x") is None and inbox.authenticate("") is None
    stored = inbox.conn.execute("SELECT token_hash FROM agents").fetchone()[0]
    assert token not in stored and len(stored) == 64
    new = inbox.rotate_token(agent.id)
    assert inbox.authenticate(token) is None and inbox.authenticate(new).id == agent.id
    inbox.update_agent(agent.id, active=False)
    assert inbox.authenticate(new) is None


def test_bad_shift_is_a_clear_error(profile, clock):
    from copilot.inbox import InvalidInput

    inbox = make(profile, clock)
    with pytest.raises(InvalidInput, match="bad shift"):
        inbox.create_agent("Ana", "ventas", shift={"mon": "nine to five"})
    with pytest.raises(InvalidInput, match="role"):
        inbox.create_agent("Ana", "ventas", role="boss")
