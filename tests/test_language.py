"""Language detection of short WhatsApp lines and of a lead's conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from copilot.engines.rules.language import (
    conversation_language,
    detect_language,
    language_scores,
    load_language_lexicon,
)
from copilot.models import Conversation, Message
from copilot.taxonomy import Author, Direction, Language

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "hola, cuanto sale la mensualidad?",
        "q onda wey, tienen envios a gdl?",
        "che, me pasás info del depto?",
        "buenas tardes, quisiera una cita con la doctora",
        "parce eso cuanto vale",
        "no me escriban más, gracias",
        "BAJA YA",
        "¿Dónde queda la clínica?",
        "holaaaa buenas",
        "vale, perfecto, nos vemos",
    ],
)
def test_spanish(text: str) -> None:
    assert detect_language(text) is Language.ES


@pytest.mark.parametrize(
    "text",
    [
        "oi, tudo joia?",
        "qto custa o clareamento dental?",
        "vcs entregam em Campinas?",
        "não consigo acessar o app",
        "quero falar com alguém da loja",
        "obrigadaa 🙏",
        "SAIR DA LISTA",
        "me tira dessa lista",
        "valeu, até amanhã",
    ],
)
def test_portuguese(text: str) -> None:
    assert detect_language(text) is Language.PT


@pytest.mark.parametrize(
    "text",
    [
        "how much is the monthly fee?",
        "hi, anyone there?",
        "can I talk to a real human please",
        "wanna sign up, where do I pay?",
        "I can't log in to my account",
        "STOP IT",
        "thanks a lot!",
    ],
)
def test_english(text: str) -> None:
    assert detect_language(text) is Language.EN


@pytest.mark.parametrize(
    "text",
    ["", "   ", "👍", "😂😂😂", "ok", "12345", "bonjour, je voudrais un rendez-vous", "infos"],
)
def test_undetermined(text: str) -> None:
    assert detect_language(text) is Language.UNDETERMINED


def test_scores_favour_the_right_language() -> None:
    scores = language_scores("você tem horário amanhã?")
    assert scores[Language.PT] > scores[Language.ES]
    assert scores[Language.PT] > scores[Language.EN]
    assert language_scores("") == dict.fromkeys(scores, 0.0)


def _message(n: int, text: str | None, inbound: bool = True) -> Message:
    return Message(
        id=f"m{n}",
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        author=Author.LEAD if inbound else Author.AGENT,
        text=text,
        timestamp=T0 + timedelta(minutes=n),
    )


def test_conversation_reads_the_leads_texts_not_the_business() -> None:
    conversation = Conversation(
        messages=[
            _message(0, "Hello! How can we help you today?", inbound=False),
            _message(1, "oi, quanto custa a mensalidade?"),
            _message(2, "The monthly plan is $50, would you like to sign up?", inbound=False),
            _message(3, "ok"),
        ]
    )
    assert conversation_language(conversation, Language.ES) is Language.PT


def test_recent_messages_weigh_most() -> None:
    conversation = Conversation(
        messages=[
            _message(0, "hello, how much is it?"),
            _message(1, "perdón, mejor en español: cuánto sale el plan?"),
            _message(2, "y tienen horarios a la mañana?"),
        ]
    )
    assert conversation_language(conversation, Language.PT) is Language.ES


@pytest.mark.parametrize(
    "texts",
    [[], ["👍"], [None], ["ok", "👌"]],
)
def test_conversation_falls_back_to_default(texts: list[str | None]) -> None:
    conversation = Conversation(messages=[_message(n, t) for n, t in enumerate(texts)])
    assert conversation_language(conversation, Language.EN) is Language.EN


def test_lexicon_loads_and_rejects_bad_files() -> None:
    lexicon = load_language_lexicon()
    assert lexicon.words["hola"] == {Language.ES: 2.0}
    assert Language.PT in lexicon.words["voce"]
    with pytest.raises(ValueError, match=r"missing section \[pt\]"):
        load_language_lexicon('[es]\nstrong=["a"]\nsuffixes=[]\nchars=[]\n')
    bad = "\n".join(
        f'[{lang}]\nstrong=["x"]\nsuffixes=["("]\nchars=[]' for lang in ("es", "pt", "en")
    )
    with pytest.raises(ValueError, match=r"language lexicon \[es\]"):
        load_language_lexicon(bad)


@pytest.mark.parametrize(
    "text", ["sois de valencia?", "podeis enviarlo hoy", "vosotros abris?", "teneis hueco"]
)
def test_spain_vosotros_forms_without_accents_are_spanish(text: str) -> None:
    assert detect_language(text) is Language.ES
