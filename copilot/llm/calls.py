"""The two retry layers, and nothing else retries.

1. Transport (:func:`send` / :func:`asend`): one request, retried with tenacity
   on :class:`TransientError` (timeouts, connection errors, 429, 5xx) with
   exponential backoff and jitter, honouring Retry-After, bounded in attempts
   and total wait. The SDK's own retries are off.
2. Output (:func:`ask` / :func:`aask`): if the answer does not validate
   against the schema (bad JSON, a missing key, a label outside the taxonomy,
   or a truncated answer), ask once more with the validation error. One re-ask,
   no loop. Refusals and content filters are not re-asked.

The cache and the cassette sit in front of the transport layer. Usage is
added up over every attempt, failed ones included.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
)

from copilot.llm.provider import (
    LLMRequest,
    LLMResponse,
    Provider,
    ProviderError,
    SchemaUnsupportedError,
    TransientError,
    Usage,
)
from copilot.llm.store import Cassette, ResponseCache


@dataclass
class RetryPolicy:
    """Bounds of the transport retry layer.

    ``timeout`` is each attempt's own limit (the client's); ``total`` bounds the
    whole call, retries and waits included. The total must leave room for more
    than one attempt, or a timed-out call would never be retried: by default it
    is three timeouts, so two attempts that time out both run to their end
    (quick failures such as a 503 get all ``attempts``)."""

    attempts: int = 4
    initial: float = 0.5
    maximum: float = 8.0
    total: float | None = None
    jitter: float = 0.5
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.total is None:
            self.total = 3 * self.timeout

    def stop(self, state: RetryCallState) -> bool:
        """Stop after ``attempts``, or when one more attempt (its wait and its full
        timeout) could end past the total budget."""
        if state.attempt_number >= self.attempts:
            return True
        waited = state.seconds_since_start or 0.0
        upcoming = getattr(state, "upcoming_sleep", 0.0) or 0.0
        return waited + upcoming + self.timeout > (self.total or 0.0)

    def wait(self, state: RetryCallState) -> float:
        """Seconds to wait before the next attempt: Retry-After when the server sent
        one, else exponential backoff with jitter, capped at ``maximum``."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.maximum)
        backoff = self.initial * 2 ** (state.attempt_number - 1)
        return min(backoff + random.uniform(0, self.jitter * backoff), self.maximum)


@dataclass
class CallResult:
    """The outcome of :func:`ask`: the parsed output or why there is none."""

    output: BaseModel | None
    usage: Usage = field(default_factory=Usage)
    calls: int = 0
    cache_hits: int = 0
    error: str | None = None
    model: str | None = None
    #: Every problem met, in order (an invalid answer, then a truncation...); ``error``
    #: is the last one when there is no output.
    problems: list[str] = field(default_factory=list)
    #: The output came from the re-ask, not the first answer.
    reasked: bool = False

    def fail(self, problem: str) -> None:
        """Record ``problem`` as the latest reason there is no output."""
        self.problems.append(problem)
        self.error = problem


@dataclass
class Caller:
    """Sends requests through the cache, the cassette and the provider."""

    provider: Provider | None
    cache: ResponseCache | None = None
    cassette: Cassette | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def _retrying(self, cls: type[Any]) -> Any:
        return cls(
            retry=retry_if_exception_type(TransientError),
            wait=self.retry.wait,
            stop=self.retry.stop,
            reraise=True,
        )

    def _cached(self, request: LLMRequest) -> LLMResponse | None:
        if self.cache is not None and (hit := self.cache.get(request.key())) is not None:
            return hit
        if self.cassette is not None:
            return self.cassette.get(request)  # raises on a miss in replay mode
        return None

    def _provider(self) -> Provider:
        if self.provider is None:
            raise ProviderError("no model provider configured (set OPENAI_API_KEY or a model)")
        return self.provider

    def send(self, request: LLMRequest) -> LLMResponse:
        """One request through cache, cassette and the transport retry layer."""
        if (known := self._cached(request)) is not None:
            return known
        provider = self._provider()
        response = self._retrying(Retrying)(provider.complete, request)
        if self.cassette is not None:
            self.cassette.record(request, response)
        return response

    async def asend(self, request: LLMRequest) -> LLMResponse:
        """Async :meth:`send`."""
        if (known := self._cached(request)) is not None:
            return known
        provider = self._provider()
        response = await self._retrying(AsyncRetrying)(provider.acomplete, request)
        if self.cassette is not None:
            self.cassette.record(request, response)
        return response

    def remember(self, request: LLMRequest, response: LLMResponse) -> None:
        """Cache an answer that validated."""
        if self.cache is not None and response.source != "cache":
            self.cache.put(request, response)


def _problem(response: LLMResponse, schema: type[BaseModel]) -> tuple[BaseModel | None, str | None]:
    """Parse a response; return (output, None) or (None, what is wrong)."""
    if response.refusal:
        return None, f"refusal: {response.refusal[:200]}"
    if response.finish_reason == "content_filter":
        return None, "refusal: the provider's content filter stopped the answer"
    if response.finish_reason == "length":
        return None, "truncated: the answer hit the token limit"
    if not response.content:
        return None, "empty answer"
    try:
        return schema.model_validate_json(response.content), None
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            for e in exc.errors()[:8]
        )
        return None, f"invalid output: {details}"


def _reask(request: LLMRequest, response: LLMResponse, problem: str) -> LLMRequest:
    """The follow-up request: the bad answer and what was wrong with it."""
    note = (
        "Your previous answer was cut off. Answer again, shorter, with the same JSON schema."
        if problem.startswith("truncated")
        else f"Your previous answer did not validate ({problem}). Answer again with JSON "
        "that matches the schema exactly: every key present, labels only from the lists."
    )
    messages = [
        *request.messages,
        {"role": "assistant", "content": (response.content or "")[:4000]},
        {"role": "user", "content": note},
    ]
    params = dict(request.params)
    if problem.startswith("truncated") and params.get("max_tokens"):
        params["max_tokens"] = int(params["max_tokens"]) * 2
    return LLMRequest(
        messages=messages,
        model=request.model,
        schema=request.schema,
        params=params,
        mode=request.mode,
        prompt_version=request.prompt_version,
    )


def _retryable(problem: str) -> bool:
    return problem.startswith(("invalid output", "truncated", "empty answer"))


def ask(caller: Caller, request: LLMRequest) -> CallResult:
    """Send ``request``, re-ask once on an invalid answer, and parse the result."""
    result = CallResult(output=None, model=request.model)
    for attempt in (1, 2):
        try:
            response = caller.send(request)
        except SchemaUnsupportedError:
            raise  # the engine switches to JSON mode and asks again
        except ProviderError as exc:
            result.fail(_failure(exc))
            return result
        next_request = _settle(caller, result, request, response, last=attempt == 2)
        if next_request is None:
            return result
        request = next_request
    return result


async def aask(caller: Caller, request: LLMRequest) -> CallResult:
    """Async :func:`ask`."""
    result = CallResult(output=None, model=request.model)
    for attempt in (1, 2):
        try:
            response = await caller.asend(request)
        except SchemaUnsupportedError:
            raise  # the engine switches to JSON mode and asks again
        except ProviderError as exc:
            result.fail(_failure(exc))
            return result
        next_request = _settle(caller, result, request, response, last=attempt == 2)
        if next_request is None:
            return result
        request = next_request
    return result


def _failure(exc: ProviderError) -> str:
    """Why a call gave no answer: the transport (after its retries) or the provider."""
    if isinstance(exc, TransientError):
        return f"transport failed after retries: {exc}"
    return f"provider error: {exc}"


def _settle(
    caller: Caller, result: CallResult, request: LLMRequest, response: LLMResponse, *, last: bool
) -> LLMRequest | None:
    """Record one answer in ``result``. ``None`` when the call is over (a valid answer,
    or a problem that a re-ask cannot fix), else the re-ask request to send."""
    _account(result, response)
    output, problem = _problem(response, request.schema)
    if output is not None:
        caller.remember(request, response)
        # The second (last) attempt is the re-ask.
        result.output, result.error, result.reasked = output, None, last
        return None
    result.fail(problem or "unknown problem")
    if last or not _retryable(problem or ""):
        return None
    return _reask(request, response, problem or "")


def _account(result: CallResult, response: LLMResponse) -> None:
    result.calls += 1
    if response.source == "cache":
        result.cache_hits += 1
        return  # a cached answer costs nothing now
    result.usage = result.usage + response.usage
    result.model = response.model or result.model
