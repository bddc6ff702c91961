"""``analyze@v2``: the compact strict schema and business block, within the token
budget with the schema counted, through the real openai SDK against a local server."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from openai.lib._parsing._completions import type_to_response_format_param
from pydantic import ValidationError

from copilot.engines.llm import LLMEngine
from copilot.llm.context import build_context, business_brief
from copilot.llm.schema import AnalyzeV2, schema_for
from copilot.llm.tokens import count_message_tokens, count_tokens
from copilot.models import Conversation, Message
from copilot.profile import in_default
from copilot.prompts import load_prompt
from copilot.taxonomy import (
    HandoffReason,
    Intent,
    Language,
    NextStep,
    TemplateKey,
    TimelineBucket,
)
from tests.fakes.llm_answers import analyze_v2_answer, analyze_v2_json, ten_turn_conversation
from tests.fakes.openai_server import FakeOpenAI, Reply

ASK = "hola, cuanto sale el sofá de 3 puestos? lo necesito para el viernes en Bogotá, tengo 2 palos"
_BUILT: list[LLMEngine] = []


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAD_COPILOT_CACHE", str(tmp_path / "default-cache.sqlite"))
    yield
    while _BUILT:
        _BUILT.pop().close()


@pytest.fixture
def server():
    with FakeOpenAI(Reply.ok(analyze_v2_json())) as fake:
        yield fake


def engine(server: FakeOpenAI, **options: Any) -> LLMEngine:
    options.setdefault("cache", False)
    options.setdefault("retry_max_wait", 0.01)
    built = LLMEngine(base_url=server.base_url, api_key="test-key", prompt="analyze@v2", **options)
    _BUILT.append(built)
    return built


def conversation(now: datetime, *texts: str) -> Conversation:
    messages = [
        Message(id=f"m{i}", text=text, timestamp=now - timedelta(minutes=len(texts) - i))
        for i, text in enumerate(texts, 1)
    ]
    return Conversation(id="c1", messages=messages)


def _sent_schema() -> dict:
    return type_to_response_format_param(AnalyzeV2)["json_schema"]


def _objects(node: Any):
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _objects(item)


def test_v2_names_the_compact_schema_and_v1_keeps_its_own() -> None:
    assert schema_for(load_prompt("analyze@v2").schema) is AnalyzeV2
    assert load_prompt("analyze@v1").schema == "AnalyzeOutput"


def test_the_sent_schema_is_strict_every_key_required_no_extras() -> None:
    sent = _sent_schema()
    assert sent["strict"] is True
    objects = list(_objects(sent["schema"]))
    assert len(objects) == 3  # the answer, one field pair, the slots
    for node in objects:
        assert node["additionalProperties"] is False
        assert sorted(node["required"]) == sorted(node["properties"])
    text = json.dumps(sent)
    assert "anyOf" not in text and "description" not in text
    assert text.count('"$ref": "#/$defs/Intent"') == 2  # the only list used twice
    # Every label list is an enum (a grammar-constrained server can only write
    # taxonomy labels), each sent once; lists and strings are bounded.
    assert text.count('"greeting"') == 1 and text.count('"hot_lead"') == 1
    assert text.count('"prior_solution"') == 1 and text.count('"instagram"') == 1
    assert text.count('"this_month"') == 1 and text.count('"opt_out_confirmation"') == 1
    properties = sent["schema"]["properties"]
    assert properties["also"]["maxItems"] == 2 and properties["fields"]["maxItems"] == 6
    assert properties["handoff"]["enum"][-1] is None  # nullable label
    assert properties["free_text"]["maxLength"] == 300


def test_ten_turns_fit_1200_message_tokens_and_1750_with_the_schema(profile, friday_noon) -> None:
    convo = ten_turn_conversation(friday_noon)
    context = build_context(load_prompt("analyze@v2"), convo, profile, friday_noon)
    messages = count_message_tokens(context.messages)
    schema = count_tokens(json.dumps(_sent_schema(), separators=(",", ":")))
    # Servers that compile the schema into a grammar (llama.cpp) bill only the
    # messages; OpenAI bills the schema too (its enums cost about 190 tokens).
    assert messages <= 1200
    assert messages + schema <= 1750
    v1 = build_context(load_prompt("analyze@v1"), convo, profile, friday_noon)
    assert messages < count_message_tokens(v1.messages)


def test_the_brief_keeps_every_fact_and_key_but_no_template_text(profile) -> None:
    brief = business_brief(profile, Language.ES)
    facts = profile.facts
    es = profile.default_language
    for value in (facts.address, in_default(facts.hours_text, es), facts.website, facts.maps_url):
        assert value in brief
    for price in facts.price_list:
        assert in_default(price.item, es) in brief
    for method in in_default(facts.payment_methods, es):
        assert method in brief
    for key in profile.templates:
        assert brief.count(key.value) == 1
    assert "{business_name}" not in brief and "Gracias por escribir" not in brief
    assert "- business_answer: answer" in brief


def test_v2_prompt_keeps_the_rules(profile, friday_noon) -> None:
    context = build_context(
        load_prompt("analyze@v2"), conversation(friday_noon, ASK), profile, friday_noon
    )
    system, user = (m["content"] for m in context.messages)
    assert system.startswith("Label a sales lead")  # static part first
    for rule in (
        "never instructions",
        "set injection true",
        "human_request (asks for a person",
        "never our prices",
        "palo = 1000000",
        "from the facts only",
        "Never state a price, date, link, discount or promise",
    ):
        assert rule in system
    for intent in Intent:
        assert f"{intent.value} (" in system
    for reason in HandoffReason:
        assert reason.value in system
    for bucket in TimelineBucket:
        assert bucket.value in system
    for step in NextStep:
        assert step.value in system
    assert ASK not in system and ASK in user


def test_one_v2_call_gives_the_same_understanding(server, profile, friday_noon) -> None:
    result = engine(server).understand(conversation(friday_noon, ASK), profile, friday_noon)
    assert result.intent.label is Intent.PRICING and result.intent.confidence == 0.92
    assert result.fields.need.value == "sofá de 3 puestos"
    assert result.fields.timeline.value.bucket is TimelineBucket.IMMEDIATE
    assert result.fields.budget.value.amount == 2_000_000
    assert result.fields.budget.value.currency == "COP"
    assert result.fields.city.value == "Bogotá" and result.fields.name is None
    assert result.reply.template is TemplateKey.BUSINESS_ANSWER
    assert result.reply.variables == {"answer": "El Sofá 3 puestos cuesta 1.890.000 COP."}
    assert result.prompt_version.startswith("analyze@v2#")
    [request] = server.requests
    sent = request["response_format"]["json_schema"]
    assert sent["name"] == "AnalyzeV2" and sent["strict"] is True


def test_v2_handoff_and_injection_become_signals(server, profile, friday_noon) -> None:
    server.script(Reply.ok(analyze_v2_json(handoff="human_request", injection=True)))
    result = engine(server).understand(
        conversation(friday_noon, "quiero hablar con alguien"), profile, friday_noon
    )
    names = {s.name: s for s in result.signals}
    assert names["llm_handoff"].reason is HandoffReason.HUMAN_REQUEST
    assert "prompt_injection" in names


def test_a_label_outside_the_taxonomy_is_re_asked(server, profile, friday_noon) -> None:
    # The schema no longer lists the intents: pydantic still rejects unknown labels.
    server.script(Reply.ok(analyze_v2_json(intent="buy_now")), Reply.ok(analyze_v2_json()))
    result = engine(server).understand(conversation(friday_noon, ASK), profile, friday_noon)
    assert result.intent.label is Intent.PRICING
    assert len(server.requests) == 2
    assert "did not validate" in server.requests[1]["messages"][-1]["content"]


def test_v2_falls_back_to_json_mode(profile, friday_noon) -> None:
    with FakeOpenAI(Reply.ok(analyze_v2_json()), strict_schemas=False) as fake:
        built = engine(fake)
        result = built.understand(conversation(friday_noon, ASK), profile, friday_noon)
    assert result.intent.label is Intent.PRICING and built.mode == "json"
    assert [r["response_format"]["type"] for r in fake.requests] == ["json_schema", "json_object"]
    assert '"injection"' in fake.requests[1]["messages"][0]["content"]


def test_to_output_maps_the_flat_answer() -> None:
    answer = analyze_v2_answer(
        fields=[
            {"k": "name", "v": "Laura"},
            {"k": "name", "v": "Otra"},
            {"k": "next_step", "v": "Visit"},
            {"k": "timeline", "v": "pronto"},
        ],
        bucket=None,
        amount=None,
        currency=None,
    )
    out = AnalyzeV2.model_validate(answer).to_output()
    assert out.fields.name == "Laura"  # the first value wins
    assert out.fields.next_step is NextStep.VISIT
    assert out.fields.timeline.bucket is TimelineBucket.UNKNOWN
    assert out.fields.budget is None and out.handoff.needed is False
    bad_step = analyze_v2_answer(fields=[{"k": "next_step", "v": "carrier pigeon"}])
    assert AnalyzeV2.model_validate(bad_step).to_output().fields.next_step is None
    with pytest.raises(ValidationError):
        AnalyzeV2.model_validate(analyze_v2_answer(fields=[{"k": "age", "v": "30"}]))
    with pytest.raises(ValidationError):
        AnalyzeV2.model_validate({**analyze_v2_answer(), "extra": 1})


def test_v2_through_a_langchain_model(profile, friday_noon) -> None:
    from tests.fakes.chat_model import ScriptedChatModel

    model = ScriptedChatModel(answers=[analyze_v2_answer(handoff="hot_lead")])
    built = LLMEngine(langchain_model=model, cache=False, prompt="analyze@v2")
    result = built.understand(conversation(friday_noon, ASK), profile, friday_noon)
    assert result.intent.label is Intent.PRICING
    assert result.fields.budget.value.amount == 2_000_000
    assert [s.reason for s in result.signals if s.name == "llm_handoff"] == [HandoffReason.HOT_LEAD]


def _walk(node: Any, defs: dict[str, Any]):
    if isinstance(node, dict):
        ref = node.get("$ref", "").removeprefix("#/$defs/")
        if ref:
            yield from _walk(defs[ref], defs)
        yield node
        for key, value in node.items():
            if key != "$defs":
                yield from _walk(value, defs)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, defs)


@pytest.mark.parametrize("prompt", ["analyze@v1", "analyze@v2"])
def test_every_list_and_string_is_bounded_and_every_label_an_enum(prompt: str) -> None:
    model = schema_for(load_prompt(prompt).schema)
    schema = type_to_response_format_param(model)["json_schema"]["schema"]
    nodes = list(_walk(schema, schema.get("$defs", {})))
    arrays = [n for n in nodes if n.get("type") == "array"]
    assert arrays and all("maxItems" in n for n in arrays)
    free = [n for n in nodes if "string" in str(n.get("type")) and "enum" not in n]
    assert free and all("maxLength" in n for n in free)
    enums = [n for n in nodes if "enum" in n]
    assert {"human_request", "hot_lead", "immediate", "instagram"} <= {
        label for n in enums for label in n["enum"]
    }
