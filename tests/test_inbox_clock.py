"""The tick: acknowledgements, out-of-hours replies, follow-ups, tasks; the pipeline."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from copilot.inbox import Inbox, InboxConfig, InvalidInput, ManualClock
from copilot.inbox.testing import KeywordAnalyzer, RecordingSender
from copilot.models import Contact, Message
from copilot.taxonomy import Stage

BOGOTA = ZoneInfo("America/Bogota")

LAURA = Contact(wa_id="573001112233", name="Laura Gómez")


@pytest.fixture
def clock(friday_noon):
    return ManualClock(friday_noon)


@pytest.fixture
def sender():
    return RecordingSender()


@pytest.fixture
def inbox(profile, clock, sender):
    return Inbox(
        ":memory:",
        copilot=KeywordAnalyzer(profile),
        clock=clock,
        sender=sender,
        config=InboxConfig(reassign_after_minutes=None),
    )


def write(inbox, mid, text):
    return inbox.ingest(LAURA, Message(id=mid, text=text, timestamp=inbox.clock.now()))


def test_acknowledgement_once_after_the_sla(inbox, clock, sender):
    write(inbox, "w1", "hola")
    clock.advance(minutes=14)
    assert inbox.tick().acknowledgements == 0
    clock.advance(minutes=2)
    assert inbox.tick().acknowledgements == 1
    assert inbox.tick().acknowledgements == 0  # idempotent
    clock.advance(minutes=1)
    assert inbox.tick().acknowledgements == 0
    assert len(sender.sent) == 1 and sender.sent[0].template == "acknowledgement"
    assert "Laura" in sender.sent[0].text and "Muebles Roble" in sender.sent[0].text
    # A bot message is not a human answer: the SLA clock keeps running.
    assert inbox.conversation(1).waiting_since is not None


def test_out_of_hours_reply(inbox, clock, sender):
    clock.set(datetime(2026, 11, 20, 20, 30, tzinfo=BOGOTA))  # Friday evening, closed
    write(inbox, "w1", "hola, estan?")
    report = inbox.tick()
    assert report.out_of_hours == 1 and report.acknowledgements == 0
    assert sender.sent[0].template == "out_of_hours"
    # Saturday opens at 10:00 and it is tomorrow: said as such.
    assert sender.sent[0].text.endswith("apenas abramos, mañana a las 10:00.")
    write(inbox, "w2", "??")
    assert inbox.tick().out_of_hours == 0  # one per waiting period


def test_out_of_hours_reply_names_the_day_when_it_is_not_tomorrow(inbox, clock, sender):
    clock.set(datetime(2026, 11, 21, 15, 0, tzinfo=BOGOTA))  # Saturday afternoon, closed
    write(inbox, "w1", "hola, estan?")
    assert inbox.tick().out_of_hours == 1
    # Sunday is closed: the next opening is Monday's.
    assert sender.sent[0].text.endswith("apenas abramos, el lunes a las 9:00.")


def test_tick_with_explicit_now_does_not_move_the_clock(inbox, clock, friday_noon):
    write(inbox, "w1", "hola")
    report = inbox.tick(friday_noon + timedelta(hours=1))
    assert report.acknowledgements == 1 and clock.now() == friday_noon


def test_followup_suggested_after_silence_and_cancelled_when_lead_writes(inbox, clock):
    agent = inbox.create_agent("Ana", available=True)[0]
    r = write(inbox, "w1", "busco sofá")
    inbox.reply(r.conversation_id, agent.id, "¿de qué tamaño?", last_seen_message_id="w1")
    pending = inbox.tasks(conversation_id=r.conversation_id, state="pending")
    assert {t.kind for t in pending} == {"soft_followup", "reactivation"}
    clock.advance(hours=25)
    report = inbox.tick()
    assert report.followups == 1
    suggestion = inbox.current_suggestion(r.conversation_id)
    assert suggestion.template == "soft_followup" and "sofá" in suggestion.text
    assert inbox.tick().followups == 0
    write(inbox, "w2", "perdón, 3 puestos")
    states = {t.kind: t.state for t in inbox.tasks(conversation_id=r.conversation_id)}
    assert states == {"soft_followup": "fired", "reactivation": "cancelled"}


def test_qualified_lead_gets_proposal_followup(inbox, clock):
    agent = inbox.create_agent("Ana", available=True)[0]
    r = write(inbox, "w1", "busco comedor para mañana, mejor una llamada")
    assert r.stage is Stage.QUALIFIED
    inbox.reply(r.conversation_id, agent.id, "te llamo", last_seen_message_id="w1")
    kinds = {t.kind: t.due_at for t in inbox.tasks(conversation_id=r.conversation_id)}
    assert kinds["proposal_followup"] == clock.now() + timedelta(days=3)
    assert kinds["reactivation"] == clock.now() + timedelta(days=30)


def test_custom_task_falls_due_once(inbox, clock):
    agent = inbox.create_agent("Ana", available=True)[0]
    r = write(inbox, "w1", "hola")
    task = inbox.create_task(
        r.conversation_id, "Enviar cotización", clock.now() + timedelta(hours=2)
    )
    assert task.owner_id == agent.id and task.state == "pending"
    clock.advance(hours=3)
    assert inbox.tick().tasks_due == 1 and inbox.tick().tasks_due == 0
    assert inbox.task(task.id).state == "fired"
    assert inbox.close_task(task.id, agent_id=agent.id).state == "done"


def test_manual_stage_moves_are_recorded(inbox):
    agent = inbox.create_agent("Ana", available=True)[0]
    r = write(inbox, "w1", "hola")
    with pytest.raises(InvalidInput, match="lost_reason"):
        inbox.move_stage(r.conversation_id, "lost", agent_id=agent.id)
    with pytest.raises(InvalidInput):
        inbox.move_stage(r.conversation_id, "maybe")
    inbox.move_stage(r.conversation_id, "proposal_sent", agent_id=agent.id, note="cotización")
    detail = inbox.move_stage(
        r.conversation_id, Stage.LOST, agent_id=agent.id, lost_reason="no_budget"
    )
    assert detail.stage is Stage.LOST and detail.lost_reason == "no_budget"
    moves = [
        (h.before, h.after, h.by) for h in inbox.history(r.conversation_id) if h.action == "stage"
    ]
    assert moves == [
        ("new", "proposal_sent", f"agent:{agent.id}"),
        ("proposal_sent", "lost:no_budget", f"agent:{agent.id}"),
    ]


def test_tags_and_notes(inbox):
    r = write(inbox, "w1", "hola")
    assert inbox.set_tags(r.conversation_id, add=["vip", "bogota"]) == ["vip", "bogota"]
    assert inbox.set_tags(r.conversation_id, remove=["vip"]) == ["bogota"]
    inbox.add_note(r.conversation_id, None, "llamar después de las 5")
    assert inbox.conversation(r.conversation_id).tags == ["bogota"]
    assert inbox.notes(r.conversation_id)[0].text == "llamar después de las 5"
