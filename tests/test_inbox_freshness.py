"""Suggestions that stay current: the clock tick recomputes them when time or the
owner changes what they should say."""

from __future__ import annotations

import pytest

from copilot import Copilot
from copilot.inbox import Inbox, InboxConfig, ManualClock
from copilot.models import Contact, Message
from copilot.taxonomy import HandoffReason

LAURA = Contact(wa_id="573001112233", name="Laura")


@pytest.fixture
def clock(friday_noon):
    return ManualClock(friday_noon)


def _inbox(profile, clock, **config):
    settings = InboxConfig(**config) if config else None
    return Inbox(":memory:", copilot=Copilot(profile), clock=clock, config=settings)


def _write(inbox, mid, text):
    return inbox.ingest(LAURA, Message(id=mid, text=text, timestamp=inbox.clock.now()))


def test_the_welcome_promise_is_withdrawn_once_the_sla_passed(profile, clock):
    inbox = _inbox(profile, clock, auto_acknowledgement=False)
    cid = _write(inbox, "w1", "hola! cuanto sale el sofa de 3 puestos?").conversation_id
    first = inbox.current_suggestion(cid)
    assert first.template == "welcome" and "menos de 15 minutos" in first.text
    assert "$1.890.000 COP" in first.text
    # Within the SLA nothing changes: the same suggestion stays.
    clock.advance(minutes=10)
    assert inbox.tick().suggestions_refreshed == 0
    assert inbox.current_suggestion(cid).id == first.id
    # Past it, the promise would be false: the suggestion is recomputed without it.
    clock.advance(minutes=26)
    assert inbox.tick().suggestions_refreshed == 1
    fresh = inbox.current_suggestion(cid)
    assert fresh.id != first.id and fresh.template == "acknowledgement"
    assert "15 minutos" not in fresh.text and "$1.890.000 COP" in fresh.text
    states = {s.id: s.state for s in inbox.suggestions(cid)}
    assert states[first.id] == "superseded"
    # Idempotent: a second tick at the same time replaces nothing.
    assert inbox.tick().suggestions_refreshed == 0


def test_after_the_automatic_acknowledgement_the_lead_still_gets_an_answer(profile, clock):
    inbox = _inbox(profile, clock)
    cid = _write(inbox, "w1", "hola, hacen envíos a Chía?").conversation_id
    clock.advance(minutes=36)
    report = inbox.tick()
    assert report.acknowledgements == 1 and report.suggestions_refreshed == 1
    fresh = inbox.current_suggestion(cid)
    assert "15 minutos" not in fresh.text and "entregas en Chía" in fresh.text


def test_closing_time_turns_the_suggestion_into_the_out_of_hours_reply(profile, clock):
    inbox = _inbox(profile, clock, auto_out_of_hours=False, auto_acknowledgement=False)
    clock.advance(hours=5, minutes=55)  # Friday 17:55 in Bogotá
    cid = _write(inbox, "w1", "hola, a qué hora abren mañana?").conversation_id
    assert inbox.current_suggestion(cid).template == "welcome"
    clock.advance(minutes=10)  # 18:05: closed
    inbox.tick()
    fresh = inbox.current_suggestion(cid)
    assert fresh.template == "out_of_hours" and "mañana a las 10:00" in fresh.text


def test_the_handoff_notice_names_the_new_owner(profile, clock):
    inbox = _inbox(profile, clock)
    ana = inbox.create_agent("Ana", "ventas", available=False)[0]
    cid = _write(inbox, "w1", "quiero hablar con un asesor por favor").conversation_id
    detail = inbox.conversation(cid)
    assert detail.handoff_reason in (HandoffReason.HUMAN_REQUEST, "human_request")
    first = inbox.current_suggestion(cid)
    assert first.template == "handoff_notice" and "Ana" not in first.text
    assert "Camila" not in first.text  # the profile's agent_name owns nothing
    inbox.claim(cid, ana.id)
    inbox.tick()
    assert "Te paso con Ana" in inbox.current_suggestion(cid).text


def test_a_change_of_owner_refreshes_the_suggestion_at_once(profile, clock):
    inbox = _inbox(profile, clock)
    ana = inbox.create_agent("Ana", "ventas", available=False)[0]
    beto = inbox.create_agent("Beto", "ventas", available=False)[0]
    cid = _write(inbox, "w1", "quiero hablar con un asesor por favor").conversation_id
    assert "Ana" not in inbox.current_suggestion(cid).text
    inbox.claim(cid, ana.id)  # no tick: the claim itself refreshes it
    assert "Te paso con Ana" in inbox.current_suggestion(cid).text
    inbox.transfer(cid, ana.id, beto.id)
    assert "Te paso con Beto" in inbox.current_suggestion(cid).text
    inbox.release(cid, beto.id)
    text = inbox.current_suggestion(cid).text
    assert "Beto" not in text and "Ana" not in text


def test_a_new_message_of_an_owned_conversation_names_the_owner_at_once(profile, clock):
    inbox = _inbox(profile, clock)
    ana = inbox.create_agent("Ana", "ventas", available=False)[0]
    cid = _write(inbox, "w1", "hola, busco un sofá").conversation_id
    inbox.claim(cid, ana.id)
    clock.advance(minutes=1)
    _write(inbox, "w2", "mejor pásame con una persona por favor")
    suggestion = inbox.current_suggestion(cid)
    assert suggestion.template == "handoff_notice" and "Te paso con Ana" in suggestion.text


def test_a_small_batch_still_reaches_every_suggestion_in_turn(profile, clock):
    inbox = _inbox(profile, clock, auto_acknowledgement=False)
    ids = []
    for i in range(5):
        contact = Contact(wa_id=f"5730000000{i}", name="Laura")
        message = Message(id=f"w{i}", text="cuanto sale el sofa?", timestamp=clock.now())
        ids.append(inbox.ingest(contact, message).conversation_id)
    clock.advance(minutes=40)
    replaced = [inbox.refresh_suggestions(limit=2) for _ in range(4)]
    assert sum(replaced) == 5 and replaced[-1] == 0
    assert all(inbox.current_suggestion(cid).template == "acknowledgement" for cid in ids)


def test_once_the_window_closes_only_the_approved_template_is_suggested(profile, clock):
    inbox = _inbox(profile, clock, auto_acknowledgement=False, auto_out_of_hours=False)
    cid = _write(inbox, "w1", "hola, cuanto sale el escritorio?").conversation_id
    assert "$690.000 COP" in inbox.current_suggestion(cid).text
    clock.advance(hours=24, minutes=5)  # Saturday 12:05: open, but the window closed
    inbox.tick()
    fresh = inbox.current_suggestion(cid)
    # The approved acknowledgement as written: no free-form answer outside the window.
    assert fresh.template == "acknowledgement" and "$690.000" not in fresh.text
    assert (
        fresh.text
        == "Recibimos tu mensaje, Laura. Un asesor de Muebles Roble te responde en breve."
    )
