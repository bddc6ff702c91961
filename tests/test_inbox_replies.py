"""Replies: owner only, stale views refused, opt-out, 24 h window, suggestions, echoes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from copilot.inbox import (
    ConflictError,
    Inbox,
    InvalidInput,
    ManualClock,
    OptedOutError,
    PermissionDenied,
    SendError,
    WindowClosed,
)
from copilot.inbox.testing import KeywordAnalyzer, RecordingSender
from copilot.models import Contact, Message
from copilot.taxonomy import Author, DeliveryStatus, Direction

LAURA = Contact(wa_id="573001112233", name="Laura")


@pytest.fixture
def clock(friday_noon):
    return ManualClock(friday_noon)


@pytest.fixture
def sender():
    return RecordingSender()


@pytest.fixture
def inbox(profile, clock, sender):
    box = Inbox(":memory:", copilot=KeywordAnalyzer(profile), clock=clock, sender=sender)
    box.agent_a = box.create_agent("Ana", "ventas", available=True)[0]
    return box


def inbound(inbox, mid, text, minutes=0):
    at = inbox.clock.now() + timedelta(minutes=minutes)
    return inbox.ingest(LAURA, Message(id=mid, text=text, timestamp=at))


def test_owner_replies_and_the_sender_gets_it(inbox, sender):
    r = inbound(inbox, "w1", "hola busco sofá")
    sent = inbox.reply(
        r.conversation_id, inbox.agent_a.id, "¡Hola Laura!", last_seen_message_id="w1"
    )
    assert sent.id == "wamid.out.1" and sent.status is DeliveryStatus.SENT
    assert sender.sent[0].text == "¡Hola Laura!" and sender.sent[0].to_wa_id == LAURA.wa_id
    detail = inbox.conversation(r.conversation_id)
    assert detail.last_message_id == "wamid.out.1" and detail.waiting_since is None
    assert detail.first_response_at == inbox.clock.now() and detail.human_took_over
    # The WhatsApp status webhook finds the message by the id the sender returned.
    assert inbox.apply_status("wamid.out.1", "delivered").status is DeliveryStatus.DELIVERED


def test_only_the_owner_may_reply(inbox, sender):
    r = inbound(inbox, "w1", "hola")
    other = inbox.create_agent("Beto", "ventas")[0]
    admin = inbox.create_agent("Jefa", role="admin")[0]
    for agent in (other, admin):
        with pytest.raises(PermissionDenied, match="only the owner"):
            inbox.reply(r.conversation_id, agent.id, "hola", last_seen_message_id="w1")
    assert sender.sent == []


def test_reply_refused_when_the_lead_wrote_again(inbox, sender):
    r = inbound(inbox, "w1", "hola")
    inbound(inbox, "w2", "sigues ahi?", minutes=1)
    with pytest.raises(ConflictError, match=r"lead wrote again \(message w2\)"):
        inbox.reply(r.conversation_id, inbox.agent_a.id, "hola", last_seen_message_id="w1")
    assert sender.sent == []
    assert len(inbox.messages(r.conversation_id)) == 2


def test_reply_refused_when_someone_replied_since(inbox, sender):
    r = inbound(inbox, "w1", "hola")
    inbox.reply(r.conversation_id, inbox.agent_a.id, "primero", last_seen_message_id="w1")
    with pytest.raises(ConflictError, match="replied"):
        inbox.reply(r.conversation_id, inbox.agent_a.id, "segundo", last_seen_message_id="w1")
    echo = Message(
        id="echo1",
        text="te llamo",
        timestamp=inbox.clock.now(),
        direction=Direction.OUTBOUND,
        author=Author.PHONE_ECHO,
    )
    inbox.ingest(LAURA, echo)
    with pytest.raises(ConflictError, match="business phone"):
        inbox.reply(r.conversation_id, inbox.agent_a.id, "x", last_seen_message_id="wamid.out.1")
    assert [m.text for m in sender.sent] == ["primero"]


def test_phone_echo_answers_and_pauses_suggestions(inbox, clock):
    r = inbound(inbox, "w1", "hola")
    assert inbox.current_suggestion(r.conversation_id) is not None
    clock.advance(minutes=3)
    echo = Message(
        id="echo1",
        text="Hola! ya te ayudo",
        timestamp=clock.now(),
        direction=Direction.OUTBOUND,
        author=Author.PHONE_ECHO,
    )
    inbox.ingest(LAURA, echo)
    detail = inbox.conversation(r.conversation_id)
    assert detail.waiting_since is None and detail.suggestions_paused
    assert detail.first_response_at == clock.now()
    assert inbox.current_suggestion(r.conversation_id) is None  # superseded
    clock.advance(minutes=30)
    assert inbox.tick().acknowledgements == 0  # answered: no acknowledgement
    inbound(inbox, "w2", "gracias, y el precio?")
    assert not inbox.conversation(r.conversation_id).suggestions_paused
    assert inbox.current_suggestion(r.conversation_id) is not None


def test_suggestion_accept_edit_reject(inbox):
    r = inbound(inbox, "w1", "hola")
    s1 = inbox.current_suggestion(r.conversation_id)
    sent = inbox.reply(
        r.conversation_id, inbox.agent_a.id, last_seen_message_id="w1", suggestion_id=s1.id
    )
    accepted = inbox.suggestions(r.conversation_id)[0]
    assert accepted.state == "accepted"
    # The suggestion points at the message under the id WhatsApp gave it.
    assert sent.id == "wamid.out.1" and accepted.sent_message_id == sent.id
    inbound(inbox, "w2", "busco comedor")
    s2 = inbox.current_suggestion(r.conversation_id)
    edited = s2.text + " ¿Para cuántas personas?"
    inbox.reply(
        r.conversation_id, inbox.agent_a.id, edited, last_seen_message_id="w2", suggestion_id=s2.id
    )
    done = inbox.suggestions(r.conversation_id, "edited")[0]
    assert done.final_text == edited and 0 < done.similarity < 1
    with pytest.raises(ConflictError, match="already edited"):
        inbox.reject_suggestion(s2.id, inbox.agent_a.id)
    inbound(inbox, "w3", "ok")
    s3 = inbox.current_suggestion(r.conversation_id)
    assert inbox.reject_suggestion(s3.id, inbox.agent_a.id, "tono").state == "rejected"


def test_opted_out_contact_gets_only_the_confirmation(inbox, sender):
    r = inbound(inbox, "w1", "BAJA")
    confirmation = inbox.current_suggestion(r.conversation_id)
    with pytest.raises(OptedOutError):
        inbox.reply(r.conversation_id, inbox.agent_a.id, "una oferta!", last_seen_message_id="w1")
    with pytest.raises(OptedOutError):  # edited confirmations are not confirmations
        inbox.reply(
            r.conversation_id,
            inbox.agent_a.id,
            "ok, pero mira esto",
            last_seen_message_id="w1",
            suggestion_id=confirmation.id,
        )
    inbox.reply(
        r.conversation_id,
        inbox.agent_a.id,
        last_seen_message_id="w1",
        suggestion_id=confirmation.id,
    )
    assert [m.template for m in sender.sent] == ["opt_out_confirmation"]
    assert inbox.tasks(conversation_id=r.conversation_id, state="pending") == []


def test_window_closed_only_approved_template_unedited(inbox, clock, sender):
    r = inbound(inbox, "w1", "hola")
    clock.advance(hours=25)
    with pytest.raises(WindowClosed):
        inbox.reply(r.conversation_id, inbox.agent_a.id, "hola?", last_seen_message_id="w1")
    inbox.tick()  # the acknowledgement is approved: it goes out as a template
    assert sender.sent[-1].approved_name == "acknowledgement_v1"
    assert sender.sent[-1].template == "acknowledgement"


def test_send_failure_keeps_the_message_as_failed(profile, clock):
    sender = RecordingSender(fail=True)
    box = Inbox(":memory:", copilot=KeywordAnalyzer(profile), clock=clock, sender=sender)
    agent = box.create_agent("Ana", available=True)[0]
    r = box.ingest(LAURA, Message(id="w1", text="hola", timestamp=clock.now()))
    with pytest.raises(SendError, match="stored but was not sent"):
        box.reply(r.conversation_id, agent.id, "hola", last_seen_message_id="w1")
    failed = [m for m in box.messages(r.conversation_id) if m.direction is Direction.OUTBOUND]
    assert failed[0].status is DeliveryStatus.FAILED and "unreachable" in failed[0].error
    sender.fail = False
    assert box.resend(failed[0].id).status is DeliveryStatus.SENT


def test_default_sender_keeps_messages_in_the_outbox(profile, clock):
    box = Inbox(":memory:", copilot=KeywordAnalyzer(profile), clock=clock)
    agent = box.create_agent("Ana", available=True)[0]
    r = box.ingest(LAURA, Message(id="w1", text="hola", timestamp=clock.now()))
    sent = box.reply(r.conversation_id, agent.id, "hola", last_seen_message_id="w1")
    assert sent.status is DeliveryStatus.OUTBOX and sent.id.startswith("local-")


def test_an_approved_template_goes_out_when_the_window_is_closed(inbox, clock, sender):
    r = inbound(inbox, "w1", "hola, quiero un sofá")
    owner = inbox.agent_a.id
    assert inbox.conversation(r.conversation_id).assignee_id == owner  # assigned on arrival
    clock.advance(hours=30)
    previews = {t["key"]: t for t in inbox.template_previews(r.conversation_id, owner)}
    approved = [k for k, t in previews.items() if t["approved_name"]]
    assert approved and "soft_followup" in approved
    assert previews["welcome"]["approved_name"] is None
    with pytest.raises(WindowClosed):  # not approved: refused outside the window
        inbox.reply(r.conversation_id, owner, last_seen_message_id="w1", template="welcome")
    with pytest.raises(InvalidInput, match="alone"):
        inbox.reply(
            r.conversation_id, owner, "hola", last_seen_message_id="w1", template="soft_followup"
        )
    sent = inbox.reply(
        r.conversation_id, owner, last_seen_message_id="w1", template="soft_followup"
    )
    assert sent.text == previews["soft_followup"]["text"]
    assert sent.template == "soft_followup"
    assert sender.sent[-1].approved_name == "soft_followup_v1"
