"""Providers and the transport retry layer: the openai SDK against the fake server,
a langchain-core chat model with structured output, Retry-After and backoff."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import pytest

from copilot.engines.llm import LLMEngine
from copilot.integrations.llm import LangChainProvider, OpenAIProvider
from copilot.integrations.llm.openai_provider import retry_after_seconds
from copilot.llm.calls import RetryPolicy
from copilot.llm.provider import LLMRequest, ProviderError, TransientError
from copilot.llm.schema import AnalyzeOutput
from copilot.models import Conversation, Message
from copilot.taxonomy import Intent
from tests.fakes.chat_model import ScriptedChatModel
from tests.fakes.llm_answers import analyze_answer, analyze_json
from tests.fakes.openai_server import FakeOpenAI, Reply

REQUEST = LLMRequest(
    messages=[{"role": "user", "content": "hola"}], model="gpt-4o-mini", schema=AnalyzeOutput
)


def test_openai_provider_reads_content_usage_and_finish_reason() -> None:
    with FakeOpenAI(Reply.ok(analyze_json(), usage=(1000, 600, 200))) as fake:
        provider = OpenAIProvider(base_url=fake.base_url, api_key="k")
        response = provider.complete(REQUEST)
        provider.close()

        async def twice():
            try:
                return await provider.acomplete(REQUEST)
            finally:
                await provider.aclose()

        again = asyncio.run(twice())
    assert AnalyzeOutput.model_validate_json(response.content).intent.label is Intent.PRICING
    assert (response.usage.input_tokens, response.usage.cached_tokens) == (1000, 600)
    assert response.usage.output_tokens == 200 and response.finish_reason == "stop"
    assert again.content == response.content
    schema = fake.requests[0]["response_format"]["json_schema"]
    assert schema["name"] == "AnalyzeOutput" and schema["strict"] is True
    assert "title" not in str(schema["schema"])  # the compact schema is what is sent


def test_azure_openai_uses_deployment_urls() -> None:
    with FakeOpenAI(Reply.ok(analyze_json())) as fake:
        endpoint = fake.base_url.removesuffix("/v1")
        provider = OpenAIProvider(azure_endpoint=endpoint, api_key="k", api_version="2024-10-21")
        response = provider.complete(REQUEST)
        provider.close()
    assert response.content is not None
    assert fake.paths[0].startswith("/openai/deployments/gpt-4o-mini/chat/completions")
    assert "api-version=2024-10-21" in fake.paths[0]


def test_openai_provider_maps_errors_to_retryable_or_not() -> None:
    with FakeOpenAI() as fake:
        provider = OpenAIProvider(base_url=fake.base_url, api_key="k")
        fake.script(Reply.failure(429, retry_after="2"), Reply.failure(502), Reply.failure(400))
        with pytest.raises(TransientError) as limited:
            provider.complete(REQUEST)
        assert limited.value.retry_after == 2.0
        with pytest.raises(TransientError):
            provider.complete(REQUEST)
        with pytest.raises(ProviderError) as bad:
            provider.complete(REQUEST)
        provider.close()
        assert not isinstance(bad.value, TransientError)
        assert len(fake.requests) == 3  # the SDK itself never retried


def test_a_closed_port_is_a_transient_connection_error() -> None:
    with FakeOpenAI() as fake:
        url = fake.base_url
    provider = OpenAIProvider(base_url=url, api_key="k", timeout=2)
    with pytest.raises(TransientError, match="connection"):
        provider.complete(REQUEST)
    provider.close()


def test_retry_after_header_forms() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert 25 < retry_after_seconds({"retry-after": later}) <= 30
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def _state(attempt: int, exc: Exception) -> SimpleNamespace:
    outcome = SimpleNamespace(exception=lambda: exc)
    return SimpleNamespace(attempt_number=attempt, outcome=outcome)


def test_backoff_honours_retry_after_and_grows_with_jitter_under_a_cap() -> None:
    policy = RetryPolicy(initial=0.5, maximum=8.0, jitter=0.5)
    assert policy.wait(_state(1, TransientError("429", retry_after=3))) == 3
    assert policy.wait(_state(1, TransientError("429", retry_after=60))) == 8.0
    first = policy.wait(_state(1, TransientError("500")))
    third = policy.wait(_state(3, TransientError("500")))
    assert 0.5 <= first <= 0.75 and 2.0 <= third <= 3.0
    assert policy.wait(_state(10, TransientError("500"))) == 8.0


def _convo(now: datetime) -> Conversation:
    return Conversation(id="c", messages=[Message(id="m1", text="cuanto sale?", timestamp=now)])


def test_langchain_model_with_structured_output(profile, friday_noon) -> None:
    model = ScriptedChatModel(answers=[analyze_answer()])
    engine = LLMEngine(langchain_model=model, cache=False)
    result = engine.understand(_convo(friday_noon), profile, friday_noon)
    assert result.intent.label is Intent.PRICING
    assert result.model == "scripted-chat"
    assert result.usage["input_tokens"] == 800 and result.usage["cached_tokens"] == 100
    assert engine.caller.provider.model.max_retries == 0  # no retry layer inside
    roles = [m.type for m in model.seen[0]]
    assert roles == ["system", "human"]


def test_langchain_invalid_output_is_re_asked(profile, friday_noon) -> None:
    model = ScriptedChatModel(answers=[{"language": "es"}, analyze_answer()])
    result = LLMEngine(langchain_model=model, cache=False).understand(
        _convo(friday_noon), profile, friday_noon
    )
    assert result.intent.label is Intent.PRICING and result.usage["calls"] == 2
    assert "did not validate" in model.seen[1][-1].content


def test_langchain_connection_errors_are_retried(profile, friday_noon) -> None:
    model = ScriptedChatModel(answers=[ConnectionError("reset"), analyze_answer()])
    engine = LLMEngine(langchain_model=model, cache=False, retry_max_wait=0.01)
    result = engine.understand(_convo(friday_noon), profile, friday_noon)
    assert result.intent.label is Intent.PRICING and len(model.seen) == 2


def test_langchain_provider_async() -> None:
    provider = LangChainProvider(ScriptedChatModel(answers=[analyze_answer()]))
    response = asyncio.run(provider.acomplete(REQUEST))
    assert AnalyzeOutput.model_validate_json(response.content).language.value == "es"
