"""The Copilot facade end to end on the rules engine, including bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from copilot import Analysis, Conversation, Copilot, Message
from copilot.engines import EngineError
from copilot.models import Media
from copilot.taxonomy import Author, Direction, Intent, Language, MessageType, TemplateKey


@pytest.fixture(scope="module")
def copilot() -> Copilot:
    return Copilot()


def _roundtrip(analysis: Analysis) -> Analysis:
    # Every result serialises to JSON and back: the service and the CLI rely on it.
    return Analysis.model_validate_json(analysis.model_dump_json())


def test_a_pricing_question_with_budget_and_timeline(copilot, friday_noon):
    a = copilot.analyze_text(
        "hola! cuanto sale el sofa de 3 puestos? lo necesito pal viernes, tengo 2 palos",
        now=friday_noon,
    )
    assert a.intent.label in (Intent.PRICING, Intent.PURCHASE_INTENT)
    assert a.language is Language.ES
    assert a.fields.budget.value.amount == 2_000_000 and a.fields.budget.value.currency == "COP"
    assert a.fields.timeline.value.bucket.value == "immediate"
    assert a.reply.template is TemplateKey.WELCOME and "Muebles Roble" in a.reply.text
    assert not a.handoff.needed
    assert _roundtrip(a) == a


def test_a_person_request_hands_off(copilot, friday_noon):
    a = copilot.analyze_text("quiero hablar con un asesor por favor", now=friday_noon)
    assert a.handoff.needed and a.handoff.reason.value == "human_request"


@pytest.mark.parametrize(
    "text", ["", "   \n\t ", "😂😂😂🙏", "x" * 65536, "Bonjour, je voudrais un canapé"]
)
def test_odd_texts_give_a_sensible_result(copilot, friday_noon, text):
    a = copilot.analyze_text(text, now=friday_noon)
    assert a.intent is not None and 0 <= a.intent.confidence <= 1
    assert a.reply is not None and a.reply.text
    _roundtrip(a)


def test_unknown_language_answers_in_the_profile_language(copilot, friday_noon):
    a = copilot.analyze_text("Guten Tag, ich möchte ein Sofa kaufen", now=friday_noon)
    assert a.reply.language is Language.ES


@pytest.mark.parametrize(
    ("kind", "text", "media"),
    [
        (MessageType.AUDIO, None, Media(id="a1", mime_type="audio/ogg", voice=True)),
        (MessageType.IMAGE, None, Media(id="i1", mime_type="image/jpeg")),
        (MessageType.IMAGE, "tienen este sofá en gris?", Media(id="i2", mime_type="image/jpeg")),
        (MessageType.STICKER, None, Media(id="s1", mime_type="image/webp")),
        (MessageType.LOCATION, "📍 Calle 10 # 5-20, Chía", None),
    ],
)
def test_non_text_messages(copilot, friday_noon, kind, text, media):
    message = Message(id="m1", type=kind, text=text, media=media, timestamp=friday_noon)
    a = copilot.analyze(Conversation(messages=[message]), now=friday_noon)
    assert a.message_id == "m1" and a.intent is not None
    if text and "gris" in text:
        assert a.intent.label in (Intent.AVAILABILITY, Intent.PRODUCT_INQUIRY)


def test_a_conversation_with_no_inbound_message(copilot, friday_noon):
    ours = Message(
        id="o1",
        direction=Direction.OUTBOUND,
        author=Author.AGENT,
        text="Hola, ¿te puedo ayudar?",
        timestamp=friday_noon - timedelta(hours=2),
    )
    for conversation in (Conversation(), Conversation(messages=[ours])):
        a = copilot.analyze(conversation, now=friday_noon)
        assert a.message_id is None and a.intent is None and a.reply is None
        assert a.handoff.needed is False


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(EngineError, match="unknown engine 'nope'"):
        Copilot(engine="nope")
