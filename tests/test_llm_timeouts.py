"""Retries and timeouts that add up, every token counted, and the langchain path
(a real ``ChatOpenAI`` against the local server): no retries of its own, the
engine's timeout, the prompt's parameters and mode, truncations re-asked."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from copilot.engines.llm import LLMEngine
from copilot.llm.calls import RetryPolicy
from copilot.models import Conversation, Message
from copilot.profile import load_profile
from tests.fakes.llm_answers import analyze_json
from tests.fakes.openai_server import FakeOpenAI, Reply

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
PROFILE = load_profile()


def lead(text: str = "hola, cuanto sale el sofá de 3 puestos?") -> Conversation:
    return Conversation(id="c1", messages=[Message(id="m1", text=text, timestamp=NOW)])


def _state(attempt: int, elapsed: float, sleep: float = 0.5) -> Any:
    return SimpleNamespace(
        attempt_number=attempt, seconds_since_start=elapsed, upcoming_sleep=sleep
    )


def test_the_default_budget_lets_a_timed_out_attempt_be_retried() -> None:
    policy = RetryPolicy(timeout=30.0)
    assert policy.total == 90.0  # three timeouts
    assert policy.stop(_state(1, 30.2)) is False  # the first attempt timed out: retry
    assert policy.stop(_state(2, 60.9)) is True  # a third could end past the budget
    assert policy.stop(_state(4, 1.0)) is True  # out of attempts
    assert RetryPolicy(timeout=5.0, total=100.0, attempts=9).stop(_state(3, 20.0)) is False


def test_a_timed_out_attempt_is_retried_end_to_end() -> None:
    with FakeOpenAI(Reply.ok(analyze_json())) as server:
        server.script(Reply.ok(analyze_json(), delay=5.0))
        built = LLMEngine(
            base_url=server.base_url,
            api_key="k",
            model="m",
            cache=False,
            timeout=1.0,
            retry_max_wait=0.01,
        )
        result = built.understand(lead(), PROFILE, NOW)
    assert result.decision == "model"
    assert len(server.requests) == 2


# --- the langchain path: a real ChatOpenAI against the local server ------------------

langchain_openai = pytest.importorskip("langchain_openai")


def chat_engine(server: FakeOpenAI, **options: Any) -> LLMEngine:
    model = langchain_openai.ChatOpenAI(
        model="smollm2", base_url=server.base_url, api_key="k", max_retries=2
    )
    options.setdefault("retry_max_wait", 0.01)
    return LLMEngine(langchain_model=model, cache=False, **options)


def test_chat_openai_has_no_retries_of_its_own() -> None:
    with FakeOpenAI(Reply.failure(500)) as server:
        result = chat_engine(server, retry_attempts=2).understand(lead(), PROFILE, NOW)
    assert result.decision == "fallback"
    assert len(server.requests) == 2  # the engine's two attempts, no SDK retries inside


def test_chat_openai_gets_the_engine_timeout() -> None:
    with FakeOpenAI(Reply.ok(analyze_json(), delay=5.0)) as server:
        result = chat_engine(server, timeout=0.5, retry_attempts=2).understand(lead(), PROFILE, NOW)
    assert result.decision == "fallback"
    assert "timeout" in result.reasons[-1].lower() or "timed out" in result.reasons[-1].lower()
    assert len(server.requests) == 2


@pytest.mark.parametrize(("structured", "kind"), [("auto", "json_schema"), ("json", "json_object")])
def test_chat_openai_sends_the_prompt_params_and_mode(structured: str, kind: str) -> None:
    with FakeOpenAI(Reply.ok(analyze_json())) as server:
        result = chat_engine(
            server, structured=structured, params={"frequency_penalty": 0.5}
        ).understand(lead(), PROFILE, NOW)
    assert result.decision == "model"
    [body] = server.requests
    assert body["seed"] == 7 and body["temperature"] == 0
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 700
    assert body["frequency_penalty"] == 0.5
    assert body["response_format"]["type"] == kind


def test_chat_openai_truncation_is_counted_and_reasked() -> None:
    with FakeOpenAI(Reply.ok(analyze_json()), flavour="llama-server") as server:
        result = chat_engine(server, params={"max_tokens": 100}).understand(lead(), PROFILE, NOW)
    assert [b.get("max_tokens", b.get("max_completion_tokens")) for b in server.requests] == [
        100,
        200,
    ]
    assert result.decision == "reask"
    assert result.reasons[0].startswith("truncated")
    assert result.usage["output_tokens"] == 100 + 150  # the cut answer's tokens count
    assert result.usage["input_tokens"] == 2 * 900
