"""A model's free text becomes the suggestion only when it keeps the replies' rules
(:func:`copilot.grounding.check_free_text`), replayed from a committed cassette.

The cassette ``tests/data/cassettes/llm-free-text.jsonl`` was recorded by
:func:`record` through the real openai SDK and the real LLM engine against the
local fake server (``tests/fakes/openai_server.py``) scripted with one answer
per case: a grounded reply in the lead's language, an invented price, the wrong
language, the lead's own words pasted back. The replay needs no key and no network.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from copilot.engines.base import Understanding
from copilot.engines.llm import LLMEngine
from copilot.engines.rules import RulesEngine
from copilot.facade import Copilot
from copilot.grounding import check_free_text
from copilot.handoff import decide_handoff
from copilot.models import Analysis, Conversation, Message, SuggestedReply
from copilot.profile import BusinessProfile, load_profile
from copilot.replies import suggest_reply
from copilot.state import conversation_state
from copilot.taxonomy import Language, TemplateKey
from tests.fakes.llm_answers import analyze_answer
from tests.fakes.openai_server import FakeOpenAI, Reply

CASSETTE = Path(__file__).parent / "data" / "cassettes" / "llm-free-text.jsonl"
SPEC = {"model": "gpt-4o-mini", "cache": False, "prompt": "analyze@v1"}

#: (case, the lead's message, the model's free text, why it falls back or None).
CASES = [
    (
        "grounded",
        "hola, quiero muebles para la sala",
        "¡Hola! Gracias por escribir a Muebles Roble. ¿Para qué espacio buscas los muebles?",
        None,
    ),
    (
        "invented price",
        "buenas, quiero un sofá nuevo para la sala",
        "¡Hola! El sofá te queda en 1.500.000 pesos. ¿Lo quieres?",
        "an amount not in the facts: 1500000",
    ),
    (
        "wrong language",
        "hola, quisiera ver opciones de muebles",
        "Hi! Thanks for writing to Muebles Roble. Which room are you furnishing?",
        "written in en, the lead writes es",
    ),
    (
        "echo",
        "hola, quiero muebles a medida para mi apartamento nuevo",
        "¡Claro! Muebles a medida para mi apartamento nuevo. ¿Qué medidas tiene?",
        "it echoes the lead's words",
    ),
]


def _now() -> datetime:
    return datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("America/Bogota"))


def _conversation(text: str) -> Conversation:
    sent = _now() - timedelta(minutes=1)
    return Conversation(id="c1", messages=[Message(id="m1", text=text, timestamp=sent)])


def _answer(free_text: str) -> str:
    """A schema-valid model answer that proposes the welcome in its own words."""
    answer = analyze_answer()
    answer["intent"] = {"label": "product_inquiry", "confidence": 0.9, "also": []}
    answer["fields"] = dict.fromkeys(answer["fields"])
    slots = {"question": None, "answer": None, "need": None, "next_step": None}
    answer["reply"] = {"template": "welcome", "slots": slots, "free_text": free_text}
    return json.dumps(answer, ensure_ascii=False)


def _analyse(engine: LLMEngine, profile: BusinessProfile) -> list[Analysis]:
    copilot = Copilot(profile, engine=engine)
    try:
        return [copilot.analyze(_conversation(lead), _now()) for _, lead, _, _ in CASES]
    finally:
        engine.close()


def record(out: Path, profile: BusinessProfile) -> list[Analysis]:
    """Record the cassette: the fake server answers each case's request in turn."""
    out.unlink(missing_ok=True)
    with FakeOpenAI(Reply.ok(_answer(CASES[0][2]))) as server:
        server.script(*(Reply.ok(_answer(free)) for _, _, free, _ in CASES))
        engine = LLMEngine(
            base_url=server.base_url,
            api_key="test-key",
            cassette=out,
            cassette_mode="record",
            fallback=RulesEngine(),
            **SPEC,
        )
        return _analyse(engine, profile)


@pytest.fixture
def replayed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Analysis]:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("LEAD_COPILOT_CACHE", str(tmp_path / "cache.sqlite"))
    engine = LLMEngine(cassette=CASSETTE, cassette_mode="replay", fallback=RulesEngine(), **SPEC)
    return _analyse(engine, load_profile())


def test_the_cassette_holds_one_model_answer_per_case() -> None:
    entries = [json.loads(line) for line in CASSETTE.read_text(encoding="utf-8").splitlines()]
    texts = [json.loads(e["response"]["content"])["reply"]["free_text"] for e in entries]
    assert texts == [free for _, _, free, _ in CASES]


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_replayed_free_text_is_used_only_when_it_keeps_the_rules(replayed, index) -> None:
    _, _, free, why = CASES[index]
    analysis = replayed[index]
    assert analysis.decision != "fallback"  # the model answered; only its text is judged
    reply = analysis.reply
    assert reply is not None and reply.template is TemplateKey.WELCOME
    if why is None:
        assert reply.text == free
        assert "free text" not in analysis.decided_by.get("checks", "")
    else:
        # The library's own welcome goes instead, and the analysis says why.
        assert reply.text != free and reply.text.startswith("¡Hola! Gracias por escribir")
        assert f"free text dropped: {why}" in analysis.decided_by["checks"]


def test_recording_again_gives_the_same_cassette(tmp_path: Path, profile) -> None:
    out = tmp_path / "tape.jsonl"
    fresh = record(out, profile)
    keys = [json.loads(line)["key"] for line in out.read_text(encoding="utf-8").splitlines()]
    shipped = [json.loads(line) for line in CASSETTE.read_text(encoding="utf-8").splitlines()]
    assert keys == [e["key"] for e in shipped]
    used = [a.reply.text == free for a, (_, _, free, _) in zip(fresh, CASES, strict=True)]
    assert used == [why is None for _, _, _, why in CASES]


def test_the_reply_chooser_applies_the_same_rule(profile) -> None:
    """An engine proposal that skipped the check (any engine) meets it again when the
    reply is chosen: the library's wording stays and the reply says why."""
    conversation = _conversation(CASES[1][1])
    rules = RulesEngine().understand(conversation, profile, _now())
    proposal = SuggestedReply(template=TemplateKey.WELCOME, text=CASES[1][2], language=Language.ES)
    understanding: Understanding = rules.model_copy(update={"reply": proposal})
    state = conversation_state(conversation, understanding.fields, profile, _now())
    handoff = decide_handoff(conversation, understanding, state)
    reply = suggest_reply(conversation, understanding, handoff, state, profile, _now())
    assert reply is not None and reply.text != CASES[1][2]
    assert "an amount not in the facts: 1500000" in (reply.free_text_rejected or "")
    lead = [CASES[1][1]]
    assert check_free_text(
        CASES[1][2], language="es", profile=profile, lead_texts=lead, window_open=True
    ) == reply.free_text_rejected.split(", ")
