"""The rules' sure cues under the model's answer: an explicit ask for a person, a
complaint keyword or an opt-out is never dropped because the model missed it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from copilot.engines.llm import LLMEngine
from copilot.facade import Copilot
from copilot.models import Conversation, Message
from copilot.taxonomy import HandoffReason, Intent
from tests.fakes.llm_answers import analyze_json
from tests.fakes.openai_server import FakeOpenAI, Reply

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def analyse(text: str, label: str, **answer: Any):
    content = analyze_json(
        intent={"label": label, "confidence": 0.9, "also": []},
        handoff={"needed": False, "reason": None},
        **answer,
    )
    with FakeOpenAI(Reply.ok(content)) as server:
        engine = LLMEngine(base_url=server.base_url, api_key="k", model="m", cache=False)
        conversation = Conversation(id="c1", messages=[Message(id="m1", text=text, timestamp=NOW)])
        return Copilot(engine=engine).analyze(conversation, now=NOW)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("quiero hablar con un asesor", HandoffReason.HUMAN_REQUEST),
        ("pésimo servicio, estoy furioso", HandoffReason.COMPLAINT),
    ],
)
def test_a_handoff_the_model_missed_is_kept(text: str, reason: HandoffReason) -> None:
    analysis = analyse(text, "business_info")
    assert analysis.decision == "model"
    assert analysis.intent.label is Intent.BUSINESS_INFO  # the model's reading stays
    assert analysis.handoff.needed and analysis.handoff.reason is reason
    assert analysis.decided_by["safety"].startswith(f"rules kept a {reason.value} handoff")
    assert analysis.decided_by["signals"] == "llm+rules"


def test_an_opt_out_the_model_missed_wins() -> None:
    analysis = analyse("no me escriban mas", "greeting")
    assert analysis.intent.label is Intent.OPT_OUT
    assert analysis.intent.alternatives[0].label == "greeting"
    assert analysis.decided_by["intent"] == "rules"
    assert "rules kept an opt-out the model missed" in analysis.decided_by["safety"]
    assert analysis.reply is not None
    assert analysis.reply.template.value == "opt_out_confirmation"


def test_nothing_is_added_when_the_model_saw_it() -> None:
    analysis = analyse("quiero hablar con un asesor", "human_request")
    assert analysis.handoff.reason is HandoffReason.HUMAN_REQUEST
    assert "safety" not in analysis.decided_by
    plain = analyse("hola, cuanto sale el sofá?", "pricing")
    assert "safety" not in plain.decided_by and not plain.handoff.needed
