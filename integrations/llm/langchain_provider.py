"""Any langchain-core chat model as a provider.

The developer passes a ``BaseChatModel`` (ChatOpenAI, ChatAnthropic, ChatOllama,
a fake in tests...). Output goes through ``with_structured_output(schema,
include_raw=True)`` so both the parsed object and the raw message (with its
token usage) come back, and a parsing error is returned instead of raised. The
model's own retries are switched off (for ``ChatOpenAI`` its SDK clients too),
the engine's timeout applies to each attempt, the prompt's ``seed``,
``max_tokens`` and other parameters are sent, strict mode asks for a JSON
schema and JSON mode for a JSON object, and an answer cut at the token limit
comes back as a truncation (counted, then re-asked) rather than an error.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage

from copilot.llm.provider import LLMRequest, LLMResponse, ProviderError, TransientError, Usage


def model_name(model: BaseChatModel) -> str:
    """A stable name for a chat model (goes into cache keys and analyses)."""
    for attribute in ("model_name", "model", "deployment_name"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return f"langchain:{model._llm_type}"


def _translate(exc: Exception) -> ProviderError:
    try:
        import openai

        from copilot.integrations.llm.openai_provider import _translate as translate_openai

        if isinstance(exc, openai.OpenAIError):
            return translate_openai(exc)
    except ImportError:  # pragma: no cover - openai is a dependency
        pass
    if isinstance(exc, TimeoutError | ConnectionError | asyncio.TimeoutError):
        return TransientError(f"{type(exc).__name__}: {exc}")
    return ProviderError(f"{type(exc).__name__}: {exc}")


def _usage(message: AIMessage) -> Usage:
    meta = getattr(message, "usage_metadata", None) or {}
    details = meta.get("input_token_details") or {}
    return Usage(
        input_tokens=int(meta.get("input_tokens") or 0),
        cached_tokens=int(details.get("cache_read") or 0),
        output_tokens=int(meta.get("output_tokens") or 0),
    )


def _content(result: dict[str, Any]) -> str | None:
    parsed, raw = result.get("parsed"), result.get("raw")
    if parsed is not None:
        data = parsed.model_dump(mode="json") if hasattr(parsed, "model_dump") else parsed
        return json.dumps(data, ensure_ascii=False)
    if isinstance(raw, AIMessage):
        if raw.tool_calls:
            return json.dumps(raw.tool_calls[0].get("args", {}), ensure_ascii=False)
        if isinstance(raw.content, str) and raw.content:
            return raw.content
    return None


#: ``with_structured_output`` methods for the engine's modes.
_METHODS = {"strict": "json_schema", "json": "json_mode"}


def _without_sdk_retries(model: BaseChatModel, timeout: float | None) -> BaseChatModel:
    """A copy of ``model`` with no retries of its own and the engine's timeout.

    A field update alone is not enough for ``ChatOpenAI``: its SDK clients are
    built when the model is, with their ``max_retries`` and timeout, so they
    are rebuilt here too (``with_options``)."""
    fields = type(model).model_fields
    update: dict[str, Any] = {}
    if "max_retries" in fields:
        update["max_retries"] = 0
    if timeout is not None and "request_timeout" in fields:
        update["request_timeout"] = timeout
    options: dict[str, Any] = {"max_retries": 0}
    if timeout is not None:
        options["timeout"] = timeout
    for root, inner in (("root_client", "client"), ("root_async_client", "async_client")):
        client = getattr(model, root, None)
        if client is not None and hasattr(client, "with_options"):
            update[root] = client.with_options(**options)
            update[inner] = update[root].chat.completions
    return model.model_copy(update=update) if update else model


def _with_params(model: BaseChatModel, params: dict[str, Any]) -> BaseChatModel:
    """A copy of ``model`` with the prompt's sampling parameters (``seed``,
    ``max_tokens``, ``temperature``...): as its own settings where it has them, the
    rest in ``model_kwargs`` where it takes those; others are dropped."""
    fields = type(model).model_fields
    update = {key: value for key, value in params.items() if key in fields}
    extra = {key: value for key, value in params.items() if key not in fields}
    if extra and "model_kwargs" in fields:
        update["model_kwargs"] = {**(getattr(model, "model_kwargs", None) or {}), **extra}
    return model.model_copy(update=update) if update else model


def _truncated(exc: Exception) -> LLMResponse | None:
    """The answer inside the SDK's "stopped at the token limit" error, tokens and all,
    so the truncation is counted and re-asked like any other."""
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a dependency
        return None
    if not isinstance(exc, openai.LengthFinishReasonError):
        return None
    completion = exc.completion
    usage = completion.usage
    details = getattr(usage, "prompt_tokens_details", None) if usage else None
    message = completion.choices[0].message if completion.choices else None
    return LLMResponse(
        content=getattr(message, "content", None),
        finish_reason="length",
        usage=Usage(
            input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            cached_tokens=int(getattr(details, "cached_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        ),
        model=completion.model,
    )


class LangChainProvider:
    """Wraps a langchain-core chat model.

    The model's own retries are switched off and ``timeout`` (seconds per
    attempt) is applied where the model has the settings, so the engine's
    retry layer is the only one; each request's sampling parameters and output
    mode are honoured."""

    name = "langchain"

    def __init__(self, model: BaseChatModel, *, timeout: float | None = None) -> None:
        if not isinstance(model, BaseChatModel):
            raise TypeError("LangChainProvider needs a langchain_core BaseChatModel")
        self.model = _without_sdk_retries(model, timeout)
        self.model_name = model_name(model)
        self.timeout = timeout

    def _response(self, result: Any) -> LLMResponse:
        if not isinstance(result, dict):  # a model whose structured output ignores include_raw
            result = {"parsed": result, "raw": None}
        raw = result.get("raw")
        meta = getattr(raw, "response_metadata", None) or {}
        extra = getattr(raw, "additional_kwargs", None) or {}
        return LLMResponse(
            content=_content(result),
            refusal=extra.get("refusal") or meta.get("refusal"),
            finish_reason=meta.get("finish_reason") or meta.get("stop_reason"),
            usage=_usage(raw) if isinstance(raw, AIMessage) else Usage(),
            model=meta.get("model_name") or self.model_name,
        )

    def _runnable(self, request: LLMRequest) -> Any:
        model = _with_params(self.model, request.params)
        try:
            return model.with_structured_output(
                request.schema, include_raw=True, method=_METHODS[request.mode]
            )
        except (TypeError, ValueError, NotImplementedError):
            # A model without that method (e.g. tool calling only): its default.
            return model.with_structured_output(request.schema, include_raw=True)

    def complete(self, request: LLMRequest) -> LLMResponse:
        """One structured call, no retries."""
        try:
            result = self._runnable(request).invoke(request.messages)
        except Exception as exc:
            if (cut := _truncated(exc)) is not None:
                return cut
            raise _translate(exc) from exc
        return self._response(result)

    async def acomplete(self, request: LLMRequest) -> LLMResponse:
        """Async :meth:`complete`."""
        try:
            result = await self._runnable(request).ainvoke(request.messages)
        except Exception as exc:
            if (cut := _truncated(exc)) is not None:
                return cut
            raise _translate(exc) from exc
        return self._response(result)
