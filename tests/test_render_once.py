"""One renderer: suggestions, automatic messages, follow-ups and the web page show
the same text for the same template and the same facts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from copilot.facade import Copilot
from copilot.inbox import Inbox, ManualClock
from copilot.inbox.clock import SystemClock
from copilot.inbox.replies import render_template as inbox_render
from copilot.inbox.testing import RecordingSender
from copilot.models import (
    Contact,
    Conversation,
    FieldValue,
    Message,
    QualificationFields,
)
from copilot.profile import load_profile
from copilot.replies import render_reply
from copilot.service import Settings, create_app
from copilot.state import conversation_state
from copilot.taxonomy import Language, NextStep, TemplateKey

BOGOTA = ZoneInfo("America/Bogota")
FRIDAY_EVENING = datetime(2026, 11, 20, 20, 30, tzinfo=BOGOTA)  # closed; Saturday opens 10:00
SATURDAY_EVENING = datetime(2026, 11, 21, 15, 0, tzinfo=BOGOTA)  # closed; Monday opens 9:00
LANGUAGES = [Language.ES, Language.PT, Language.EN]
KEYS = list(load_profile().templates)


def _fields(with_values: bool) -> QualificationFields:
    if not with_values:
        return QualificationFields()
    return QualificationFields(
        need=FieldValue(value="un sofá de 3 puestos", message_id="w1", confidence=0.9),
        next_step=FieldValue(value=NextStep.VISIT, message_id="w1", confidence=0.9),
    )


@pytest.mark.parametrize("with_values", [True, False], ids=["known-fields", "no-fields"])
@pytest.mark.parametrize("now", [FRIDAY_EVENING, SATURDAY_EVENING], ids=["fri", "sat"])
@pytest.mark.parametrize("language", LANGUAGES, ids=lambda lang: lang.value)
@pytest.mark.parametrize("key", KEYS, ids=lambda key: key.value)
def test_every_template_renders_the_same_for_suggestions_and_the_inbox(
    profile, key, language, now, with_values
):
    fields = _fields(with_values)
    contact = Contact(wa_id="573001112233", name="Laura Gómez 🌸")
    conversation = Conversation(
        contact=contact,
        messages=[Message(id="w1", text="hola", timestamp=now - timedelta(minutes=5))],
    )
    state = conversation_state(conversation, fields, profile, now)
    suggested = render_reply(key, conversation, fields, state, profile, language, now)
    # What the inbox stores and reads back for a conversation: FieldValue dumps.
    stored = fields.model_dump(mode="json", exclude_none=True)
    automatic = inbox_render(
        profile, key, language.value, now=now, lead_name=contact.name, fields=stored
    )
    if suggested is None:
        assert automatic is None  # e.g. business_answer with no answer to give
        return
    assert automatic is not None
    assert automatic.text == suggested.text
    assert automatic.language is suggested.language


def test_the_wording_is_the_humane_one(profile):
    stored = _fields(True).model_dump(mode="json", exclude_none=True)

    def text(key, now, language="es"):
        return inbox_render(profile, key, language, now=now, lead_name="Laura", fields=stored).text

    assert text(TemplateKey.OUT_OF_HOURS, FRIDAY_EVENING).endswith("mañana a las 10:00.")
    assert text(TemplateKey.OUT_OF_HOURS, SATURDAY_EVENING).endswith("el lunes a las 9:00.")
    one_hour = profile.model_copy(update={"first_response_sla_minutes": 60})
    welcome = inbox_render(one_hour, TemplateKey.WELCOME, "es", now=FRIDAY_EVENING)
    assert "menos de 1 hora" in welcome.text
    assert text(TemplateKey.PROPOSAL_FOLLOWUP, FRIDAY_EVENING) == (
        "Hola, Laura, ¿te parece si damos el siguiente paso con sofá 3 puestos? "
        "Podemos agendar una visita esta semana."
    )


def _conversation(inbox: Inbox, cid: int) -> Conversation:
    """The conversation as the library sees it, rebuilt from what the inbox stored."""
    detail = inbox.conversation(cid)
    messages = [
        Message(
            id=m.id,
            text=m.text,
            timestamp=m.timestamp,
            direction=m.direction,
            author=m.author,
        )
        for m in inbox.messages(cid)
    ]
    return Conversation(
        contact=Contact(wa_id="573001112233", name=detail.contact_name), messages=messages
    )


def test_automatic_message_and_follow_up_match_the_library(profile, tmp_path):
    clock = ManualClock(FRIDAY_EVENING)
    sender = RecordingSender()
    copilot = Copilot(profile)
    inbox = Inbox(str(tmp_path / "inbox.db"), copilot=copilot, clock=clock, sender=sender)
    agent = inbox.create_agent("Ana", "ventas", available=True)[0]
    lead = Contact(wa_id="573001112233", name="Laura")
    text = "hola, busco un sofá de 3 puestos, puedo pasar por la tienda?"
    cid = inbox.ingest(lead, Message(id="w1", text=text, timestamp=clock.now())).conversation_id

    # Out of hours: the automatic message is the library's out-of-hours reply.
    assert inbox.tick().out_of_hours == 1
    analysis = copilot.analyze(_conversation(inbox, cid), now=FRIDAY_EVENING)
    expected = render_reply(
        TemplateKey.OUT_OF_HOURS,
        _conversation(inbox, cid),
        analysis.fields,
        analysis.state,
        profile,
        analysis.language,
        FRIDAY_EVENING,
    )
    assert sender.sent[0].text == expected.text

    # A person answers, the lead goes quiet: the follow-up the clock proposes is
    # what the library renders for that silence.
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=BOGOTA))
    inbox.ingest(lead, Message(id="w2", text="hola? sigue disponible?", timestamp=clock.now()))
    inbox.claim(cid, agent.id)
    inbox.reply(cid, agent.id, "¡Hola Laura! ¿Qué medidas tienes?", last_seen_message_id="w2")
    clock.advance(hours=profile.follow_ups.soft_followup_hours + 1)
    assert inbox.tick().followups == 1
    proposed = inbox.current_suggestion(cid)
    conversation = _conversation(inbox, cid)
    fields = copilot.analyze(conversation, now=clock.now()).fields
    state = conversation_state(conversation, fields, profile, clock.now())
    expected = render_reply(
        proposed.template, conversation, fields, state, profile, Language.ES, clock.now()
    )
    assert proposed.text == expected.text


def test_the_web_page_shows_the_rendered_suggestion(tmp_path, monkeypatch):
    monkeypatch.setattr(SystemClock, "now", lambda self: FRIDAY_EVENING)
    admin = "render-admin-token-0123456789"
    app = create_app(Settings(db=str(tmp_path / "web.db"), admin_token=admin, background=False))
    with TestClient(app) as client:
        inbox = app.state.service.inbox()
        lead = Message(id="wamid.w1", text="hola, busco un sofá", timestamp=FRIDAY_EVENING)
        cid = inbox.ingest(Contact(wa_id="573001112233", name="Laura"), lead).conversation_id
        suggestion = inbox.current_suggestion(cid)
        assert suggestion.template is TemplateKey.OUT_OF_HOURS
        stored = inbox.conversation(cid).fields
        rendered = inbox_render(
            inbox.profile,
            suggestion.template,
            "es",
            now=FRIDAY_EVENING,
            lead_name="Laura",
            fields=stored,
        )
        assert suggestion.text == rendered.text
        page = client.get("/login")
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"token": admin, "nonce": nonce, "next": "/"})
        page = client.get(f"/c/{cid}")
        assert page.status_code == 200
        assert rendered.text in unescape(page.text)
