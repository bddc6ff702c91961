"""Each server's structured-output support, learnt and remembered: a server that
cannot do strict JSON schemas (llama-cpp-python answers ``500 Input should be
'text' or 'json_object'``) switches the engine to JSON mode at once, without
retrying the error as transient, and the lesson is kept per server and model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from copilot.engines.llm import LLMEngine, forget_modes
from copilot.integrations.llm.openai_provider import format_unsupported
from copilot.models import Conversation, Message
from copilot.profile import load_profile
from tests.fakes.llm_answers import analyze_json
from tests.fakes.openai_server import LLAMA_CPP_PYTHON_500, FakeOpenAI, Reply

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
PROFILE = load_profile()


def lead(text: str = "hola, cuanto sale el sofá de 3 puestos?") -> Conversation:
    return Conversation(id="c1", messages=[Message(id="m1", text=text, timestamp=NOW)])


def engine(server: FakeOpenAI, **options: Any) -> LLMEngine:
    options.setdefault("cache", False)
    options.setdefault("retry_max_wait", 0.01)
    return LLMEngine(base_url=server.base_url, api_key="k", model="smollm2", **options)


def formats(server: FakeOpenAI) -> list[str]:
    return [r["response_format"]["type"] for r in server.requests]


@pytest.mark.parametrize(
    ("status", "text", "unsupported"),
    [
        (500, LLAMA_CPP_PYTHON_500, True),
        (400, "response_format json_schema is not supported", True),
        (400, "failed to parse grammar", True),
        (500, "internal error: out of memory", False),
        (503, "model loading", False),
        (429, "rate limit on response_format requests", False),
    ],
)
def test_which_errors_mean_the_format_is_unsupported(
    status: int, text: str, unsupported: bool
) -> None:
    assert format_unsupported(status, text) is unsupported


def test_llama_cpp_python_500_switches_to_json_mode_without_retries() -> None:
    with FakeOpenAI(Reply.ok(analyze_json()), flavour="llama-cpp-python") as server:
        built = engine(server, retry_attempts=4)
        first = built.understand(lead(), PROFILE, NOW)
        second = built.understand(lead("y las camas?"), PROFILE, NOW)
    # One rejected strict request (not retried as a 5xx), then JSON mode for good.
    assert formats(server) == ["json_schema", "json_object", "json_object"]
    assert first.decision == "model" and second.decision == "model"
    assert first.reasons[0].startswith("structured output switched to JSON mode: HTTP 500")
    assert second.reasons == []
    assert '"injection_suspected"' in server.requests[1]["messages"][0]["content"]


def test_the_mode_is_remembered_per_server_and_model(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    with FakeOpenAI(Reply.ok(analyze_json()), flavour="llama-cpp-python") as server:
        engine(server, cache=cache).understand(lead(), PROFILE, NOW)
        assert engine(server).mode == "json"  # same process, same server and model
        other = LLMEngine(base_url=server.base_url, api_key="k", model="other", cache=False)
        assert other.mode == "strict"  # another model on the same server: not learnt
        forget_modes()  # a new process: the cache file remembers
        again = engine(server, cache=cache)
        assert again.mode == "json"
        again.understand(lead("y las camas?"), PROFILE, NOW)
    assert formats(server) == ["json_schema", "json_object", "json_object"]


def test_a_fixed_strict_mode_falls_back_without_retrying() -> None:
    with FakeOpenAI(Reply.ok(analyze_json()), flavour="llama-cpp-python") as server:
        result = engine(server, structured="strict", retry_attempts=4).understand(
            lead(), PROFILE, NOW
        )
    assert result.decision == "fallback"
    assert result.reasons[0].startswith("provider error: HTTP 500")
    assert len(server.requests) == 1


def test_llama_server_truncation_at_max_tokens_is_reasked_with_more_room() -> None:
    with FakeOpenAI(Reply.ok(analyze_json()), flavour="llama-server") as server:
        # 100 tokens is too few for this answer (about 180 here); the re-ask doubles it.
        result = engine(server, params={"max_tokens": 100}).understand(lead(), PROFILE, NOW)
    assert [r["max_tokens"] for r in server.requests] == [100, 200]
    assert result.decision == "reask"
    assert result.reasons[0].startswith("truncated")
    assert result.usage["output_tokens"] == 100 + 150  # the cut answer's tokens count


def test_a_server_rejecting_json_mode_too_is_a_fallback_with_its_reason() -> None:
    rejected = Reply.failure(400)
    rejected.error = "response_format json_object is not supported"
    with FakeOpenAI(Reply.ok(analyze_json()), strict_schemas=False) as server:
        server.script(rejected)
        result = engine(server).understand(lead(), PROFILE, NOW)
    assert result.decision == "fallback"
    assert result.reasons[0].startswith("structured output switched to JSON mode")
    assert result.reasons[1].startswith("provider error: the server rejected JSON mode too")
    assert formats(server) == ["json_schema", "json_object"]
