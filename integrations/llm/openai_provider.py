"""Any OpenAI-compatible endpoint through the ``openai`` SDK (v3).

OpenAI, Azure OpenAI, vLLM, Ollama and llama.cpp's server all speak the chat
completions API. In ``strict`` mode the request goes through
``chat.completions.parse`` with the pydantic output model (JSON-schema
structured outputs); in ``json`` mode through ``chat.completions.create`` with
``response_format={"type": "json_object"}`` for servers without strict
schemas. Either way the raw body is read (``with_raw_response``) so the usage
of an answer that fails validation is still counted, and validation happens in
one place (:mod:`copilot.llm.calls`).

The SDK's own retries are off (``max_retries=0``): the engine's tenacity layer
is the only transport retry.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import openai

from copilot.llm.provider import (
    LLMRequest,
    LLMResponse,
    ProviderError,
    SchemaUnsupportedError,
    TransientError,
    Usage,
)

#: Placeholder key for local servers (Ollama, vLLM, llama.cpp) that ignore it.
LOCAL_KEY = "not-needed"


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds a 429/503 response asks us to wait (``retry-after-ms``,
    ``retry-after`` in seconds or as an HTTP date), or ``None``."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max((when - datetime.now(UTC)).total_seconds(), 0.0)


#: What servers say when they cannot do the requested output format, e.g.
#: llama-cpp-python's ``500 Input should be 'text' or 'json_object'``, OpenAI's
#: ``400 ... response_format ... json_schema``, or a grammar the server could not
#: build from the schema.
_FORMAT_UNSUPPORTED = re.compile(
    r"response_format|json_schema|'json_object'|structured output|grammar", re.IGNORECASE
)


def format_unsupported(status: int, text: str) -> bool:
    """Whether an HTTP error says the requested output format is not supported.

    Such an error is never transient: the same request fails the same way, so it
    switches the output mode instead of being retried (whatever the status)."""
    return status >= 400 and status not in (408, 429) and bool(_FORMAT_UNSUPPORTED.search(text))


def _translate(exc: Exception) -> ProviderError:
    """Map an SDK exception to a transient or permanent provider error."""
    if isinstance(exc, openai.APITimeoutError):
        return TransientError(f"timeout: {exc}")
    if isinstance(exc, openai.APIConnectionError):
        return TransientError(f"connection error: {exc}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = f"HTTP {status}: {str(exc)[:300]}"
        if format_unsupported(status, f"{exc} {_body_text(exc)}"):
            return SchemaUnsupportedError(message)
        if status == 429 or status >= 500 or status == 408:
            return TransientError(message, retry_after_seconds(exc.response.headers))
        return ProviderError(message)
    return ProviderError(f"{type(exc).__name__}: {exc}")


def _body_text(exc: Any) -> str:
    try:
        return exc.response.text[:2000]
    except Exception:  # a streamed or closed body: the message is enough
        return ""


def _response(body: str) -> LLMResponse:
    """An :class:`LLMResponse` from a chat completion's JSON body."""
    try:
        data = json.loads(body)
        choice = data["choices"][0]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
        raise TransientError(f"malformed completion body: {exc}") from exc
    message = choice.get("message") or {}
    usage = data.get("usage") or {}
    details = usage.get("prompt_tokens_details") or {}
    return LLMResponse(
        content=message.get("content"),
        refusal=message.get("refusal"),
        finish_reason=choice.get("finish_reason"),
        usage=Usage(
            input_tokens=int(usage.get("prompt_tokens") or 0),
            cached_tokens=int(details.get("cached_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
        ),
        model=data.get("model"),
    )


class OpenAIProvider:
    """Chat completions against an OpenAI-compatible endpoint.

    ``base_url`` and ``api_key`` default to ``OPENAI_BASE_URL`` and
    ``OPENAI_API_KEY``. A local server needs no key. Pass ``azure_endpoint``
    (and ``api_version``) for Azure OpenAI, where ``model`` is the deployment.
    """

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        azure_endpoint: str | None = None,
        api_version: str | None = None,
        client: Any = None,
        async_client: Any = None,
    ) -> None:
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        if api_key is None and base_url is None and azure_endpoint is None and client is None:
            raise ProviderError(
                "no API key: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server"
            )
        options: dict[str, Any] = {"timeout": timeout, "max_retries": 0}
        if azure_endpoint:
            options.update(
                azure_endpoint=azure_endpoint,
                api_key=api_key,
                api_version=api_version or os.environ.get("OPENAI_API_VERSION", "2024-10-21"),
            )
            sync_cls, async_cls = openai.AzureOpenAI, openai.AsyncAzureOpenAI
        else:
            options.update(base_url=base_url, api_key=api_key or LOCAL_KEY)
            sync_cls, async_cls = openai.OpenAI, openai.AsyncOpenAI
        self.base_url = base_url or azure_endpoint
        self._options = options
        self._sync_cls, self._async_cls = sync_cls, async_cls
        self._client = client
        self._async_client = async_client
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._async_loop_client: Any = None

    @property
    def client(self) -> Any:
        """The synchronous SDK client (built on first use)."""
        if self._client is None:
            self._client = self._sync_cls(**self._options)
        return self._client

    @property
    def async_client(self) -> Any:
        """The asynchronous SDK client of the running event loop (its connections
        belong to one loop, so a new loop gets a new client)."""
        if self._async_client is not None and self._async_loop is None:
            return self._async_client  # given by the caller
        loop = asyncio.get_running_loop()
        if self._async_loop_client is None or self._async_loop is not loop:
            self._async_loop_client = self._async_cls(**self._options)
            self._async_loop = loop
        return self._async_loop_client

    async def aclose(self) -> None:
        """Close the async client of the running loop (call before the loop ends)."""
        if self._async_loop_client is not None:
            await self._async_loop_client.close()
            self._async_loop_client, self._async_loop = None, None

    def close(self) -> None:
        """Close the synchronous client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    @staticmethod
    def _arguments(request: LLMRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = {"model": request.model, "messages": request.messages}
        arguments.update(request.params)
        if request.mode == "json":
            arguments["response_format"] = {"type": "json_object"}
        else:
            arguments["response_format"] = request.schema
        return arguments

    def complete(self, request: LLMRequest) -> LLMResponse:
        """One chat completion, no retries."""
        raw_api = self.client.chat.completions.with_raw_response
        call = raw_api.create if request.mode == "json" else raw_api.parse
        try:
            raw = call(**self._arguments(request))
        except openai.OpenAIError as exc:
            raise _translate(exc) from exc
        return _response(raw.text)

    async def acomplete(self, request: LLMRequest) -> LLMResponse:
        """Async :meth:`complete`, on the SDK's async client."""
        raw_api = self.async_client.chat.completions.with_raw_response
        call = raw_api.create if request.mode == "json" else raw_api.parse
        try:
            raw = await call(**self._arguments(request))
        except openai.OpenAIError as exc:
            raise _translate(exc) from exc
        return _response(raw.text)
