"""The ``hybrid`` engine's routing: rules first, the model only when needed, and a
record of who decided what. The rules reading is a stub so routing is tested alone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from copilot.engines import Understanding, get_engine
from copilot.engines.hybrid import HybridEngine
from copilot.models import (
    Conversation,
    FieldValue,
    IntentResult,
    Message,
    OriginResult,
    QualificationFields,
    Signal,
)
from copilot.profile import BusinessProfile
from copilot.taxonomy import HandoffReason, Intent, Language, Origin, OriginSource
from tests.fakes.llm_answers import analyze_json
from tests.fakes.openai_server import FakeOpenAI, Reply


class StubRules:
    """Returns a preset reading."""

    name = "rules"

    def __init__(self, reading: Understanding) -> None:
        self.reading = reading

    def understand(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Understanding:
        return self.reading


def reading(
    intent: Intent | None = Intent.GREETING,
    confidence: float = 0.9,
    signals: list[Signal] | None = None,
    origin: OriginResult | None = None,
) -> Understanding:
    return Understanding(
        language=Language.ES,
        intent=IntentResult(label=intent, confidence=confidence) if intent else None,
        origin=origin or OriginResult(label=Origin.UNKNOWN),
        fields=QualificationFields(name=FieldValue(value="Laura", message_id="m1", confidence=0.9)),
        signals=signals or [],
        engine="rules",
    )


@pytest.fixture
def server():
    with FakeOpenAI(Reply.ok(analyze_json())) as fake:
        yield fake


@pytest.fixture
def convo(friday_noon: datetime) -> Conversation:
    return Conversation(
        id="c1", messages=[Message(id="m1", text="soy Laura, el sofa?", timestamp=friday_noon)]
    )


_BUILT: list[HybridEngine] = []


@pytest.fixture(autouse=True)
def _close_engines():
    yield
    while _BUILT:
        _BUILT.pop().close()


def hybrid(server: FakeOpenAI, rules: Understanding, tmp_path: Path, **options) -> HybridEngine:
    return _track(
        HybridEngine(
            rules=StubRules(rules),
            base_url=server.base_url,
            api_key="k",
            cache=tmp_path / "cache.sqlite",
            retry_max_wait=0.01,
            **options,
        )
    )


def _track(engine: HybridEngine) -> HybridEngine:
    _BUILT.append(engine)
    return engine


def test_sure_rules_decide_alone(server, convo, profile, friday_noon, tmp_path) -> None:
    result = hybrid(server, reading(), tmp_path).understand(convo, profile, friday_noon)
    assert server.requests == []
    assert result.engine == "hybrid" and result.intent.label is Intent.GREETING
    assert set(result.decided_by.values()) == {"rules"}
    assert result.usage == {} and result.prompt_version is None


def test_unsure_rules_ask_the_model(server, convo, profile, friday_noon, tmp_path) -> None:
    low = reading(
        Intent.OTHER,
        confidence=0.3,
        signals=[Signal(name="low_confidence", reason=HandoffReason.LOW_CONFIDENCE)],
    )
    result = hybrid(server, low, tmp_path).understand(convo, profile, friday_noon)
    assert len(server.requests) == 1
    assert result.intent.label is Intent.PRICING
    assert result.decided_by["intent"] == "llm"
    assert result.decided_by["llm_reason"].startswith("intent confidence 0.30")
    assert result.fields.name.value == "Laura"  # the rules' value stays
    assert result.fields.need.value == "sofá de 3 puestos"  # the model fills the gap
    assert result.decided_by["fields"] == "rules+llm"
    assert result.origin.label is Origin.UNKNOWN and result.decided_by["origin"] == "rules"
    assert not any(s.name == "low_confidence" for s in result.signals)  # answered
    assert result.prompt_version.startswith("analyze@v1#") and result.usage["calls"] == 1


def test_no_intent_asks_the_model(server, convo, profile, friday_noon, tmp_path) -> None:
    engine = hybrid(server, reading(intent=None), tmp_path, reply_text="never")
    assert engine.understand(convo, profile, friday_noon).decided_by["intent"] == "llm"


def test_reply_text_only_keeps_the_rules_labels(
    server, convo, profile, friday_noon, tmp_path
) -> None:
    sure_pricing = reading(Intent.PRICING, confidence=0.95)
    result = hybrid(server, sure_pricing, tmp_path).understand(convo, profile, friday_noon)
    assert len(server.requests) == 1
    assert result.decided_by["intent"] == "rules" and result.decided_by["reply"] == "llm"
    assert result.reply is not None and result.reply.variables["answer"]
    assert "llm_reason" not in result.decided_by


def test_reply_text_never_skips_the_model(server, convo, profile, friday_noon, tmp_path) -> None:
    sure_pricing = reading(Intent.PRICING, confidence=0.95)
    engine = hybrid(server, sure_pricing, tmp_path, reply_text="never")
    engine.understand(convo, profile, friday_noon)
    assert server.requests == []


def test_metadata_origin_from_the_rules_stays(
    server, convo, profile, friday_noon, tmp_path
) -> None:
    ad = OriginResult(label=Origin.AD, source=OriginSource.REFERRAL_METADATA)
    rules = reading(intent=None, origin=ad)
    server.script(Reply.ok(analyze_json(origin={"label": "instagram", "evidence": "ig"})))
    result = hybrid(server, rules, tmp_path).understand(convo, profile, friday_noon)
    assert result.origin.label is Origin.AD and result.decided_by["origin"] == "metadata"


def test_model_failure_leaves_the_rules_and_says_why(
    server, convo, profile, friday_noon, tmp_path
) -> None:
    server.script(Reply.refused("no"))
    rules = reading(intent=None)
    result = hybrid(server, rules, tmp_path).understand(convo, profile, friday_noon)
    assert result.intent is None and result.decided_by["intent"] == "rules"
    assert result.decided_by["fallback"] == "refusal: no"
    assert result.usage["calls"] == 1  # the failed attempt's tokens are kept


def test_registry_and_async(server, convo, profile, friday_noon, tmp_path) -> None:
    import asyncio

    engine = get_engine(
        "hybrid",
        prompt="analyze@v1",
        rules=StubRules(reading(intent=None)),
        base_url=server.base_url,
        api_key="k",
        cache=False,
    )
    assert isinstance(engine, HybridEngine)

    async def run():
        try:
            return await engine.aunderstand(convo, profile, friday_noon)
        finally:
            await engine.aclose()

    result = asyncio.run(run())
    assert result.decided_by["intent"] == "llm"


def test_profile_threshold_sets_when_the_model_is_asked(
    server, convo, profile, friday_noon, tmp_path
) -> None:
    sure_enough = reading(Intent.PRICING, confidence=0.7)
    engine = hybrid(server, sure_enough, tmp_path, reply_text="never")
    engine.understand(convo, profile, friday_noon)
    assert server.requests == []  # 0.7 >= the engine's default 0.6
    strict = profile.model_copy(update={"engine_threshold": 0.8})
    result = engine.understand(convo, strict, friday_noon)
    assert len(server.requests) == 1
    assert result.decided_by["llm_reason"] == "intent confidence 0.70 < 0.8"
