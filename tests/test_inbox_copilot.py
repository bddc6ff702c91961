"""The inbox fed by the real copilot (rules engine), end to end."""

from __future__ import annotations

from copilot.facade import Copilot
from copilot.inbox import Inbox, ManualClock
from copilot.models import Contact, Message, Referral


def test_real_copilot_feeds_the_inbox(profile, friday_noon):
    inbox = Inbox(":memory:", copilot=Copilot(profile), clock=ManualClock(friday_noon))
    agent = inbox.create_agent("Ana", "ventas", available=True)[0]
    text = "Hola! busco un sofá de 3 puestos para este sábado, me pueden llamar?"
    r = inbox.ingest(
        Contact(wa_id="573001112233", name="Laura"),
        Message(id="w1", text=text, timestamp=friday_noon, referral=Referral(source_type="ad")),
    )
    assert r.analysed and r.assignee_id == agent.id
    detail = inbox.conversation(r.conversation_id)
    assert (detail.origin, detail.origin_source) == ("ad", "referral_metadata")
    assert "need" in detail.fields
    analysis = inbox.analysis("w1")
    assert analysis.engine == "rules" and analysis.message_id == "w1"
    suggestion = inbox.current_suggestion(r.conversation_id)
    assert suggestion is not None and suggestion.text
    sent = inbox.reply(
        r.conversation_id, agent.id, last_seen_message_id="w1", suggestion_id=suggestion.id
    )
    assert sent.text == suggestion.text


def test_real_copilot_opt_out(profile, friday_noon):
    inbox = Inbox(":memory:", copilot=Copilot(profile), clock=ManualClock(friday_noon))
    r = inbox.ingest(
        Contact(wa_id="573009"), Message(id="w1", text="no me escriban más", timestamp=friday_noon)
    )
    assert inbox.conversation(r.conversation_id).opted_out
    assert inbox.current_suggestion(r.conversation_id).template == "opt_out_confirmation"
