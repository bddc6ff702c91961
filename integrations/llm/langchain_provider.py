"""Any langchain-core chat model as a provider.

The developer passes a ``BaseChatModel`` (ChatOpenAI, ChatAnthropic, ChatOllama,
a fake in tests...). Output goes through ``with_structured_output(schema,
include_raw=True)`` so both the parsed object and the raw message (with its
token usage) come back, and a parsing error is returned instead of raised. The
model's own retries are switched off when it has a ``max_retries`` setting, so
the engine's retry layers stay the only ones.
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


class LangChainProvider:
    """Wraps a langchain-core chat model."""

    name = "langchain"

    def __init__(self, model: BaseChatModel) -> None:
        if not isinstance(model, BaseChatModel):
            raise TypeError("LangChainProvider needs a langchain_core BaseChatModel")
        if "max_retries" in type(model).model_fields:
            model = model.model_copy(update={"max_retries": 0})
        self.model = model
        self.model_name = model_name(model)

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
        return self.model.with_structured_output(request.schema, include_raw=True)

    def complete(self, request: LLMRequest) -> LLMResponse:
        """One structured call, no retries."""
        try:
            result = self._runnable(request).invoke(request.messages)
        except Exception as exc:
            raise _translate(exc) from exc
        return self._response(result)

    async def acomplete(self, request: LLMRequest) -> LLMResponse:
        """Async :meth:`complete`."""
        try:
            result = await self._runnable(request).ainvoke(request.messages)
        except Exception as exc:
            raise _translate(exc) from exc
        return self._response(result)
