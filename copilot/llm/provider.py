"""What the engine asks a model, what it gets back, and the provider protocol.

A provider turns one :class:`LLMRequest` into one :class:`LLMResponse` with a
single attempt: no retries inside (the SDK's own retries are switched off), so
the retry layers in :mod:`copilot.llm.calls` are the only ones.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel

#: ``strict``: JSON-schema structured outputs; ``json``: JSON mode plus local
#: validation, for servers without strict schemas.
Mode = Literal["strict", "json"]


@dataclass
class Usage:
    """Tokens one call (or several, added up) consumed."""

    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.cached_tokens + other.cached_tokens,
            self.output_tokens + other.output_tokens,
        )

    @property
    def total(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def as_dict(self) -> dict[str, int]:
        """Plain dict, for JSON and the analysis' ``usage``."""
        return {
            "input_tokens": self.input_tokens,
            "cached_tokens": self.cached_tokens,
            "output_tokens": self.output_tokens,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Usage:
        """Inverse of :meth:`as_dict`; missing keys count as zero."""
        data = data or {}
        return cls(
            int(data.get("input_tokens") or 0),
            int(data.get("cached_tokens") or 0),
            int(data.get("output_tokens") or 0),
        )


@lru_cache(maxsize=32)
def schema_hash(schema: type[BaseModel]) -> str:
    """SHA-256 of a schema model's JSON schema (computed once per model class)."""
    text = json.dumps(schema.model_json_schema(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class LLMRequest:
    """One chat request: messages, model, sampling parameters and the output schema."""

    messages: list[dict[str, str]]
    model: str
    schema: type[BaseModel]
    params: dict[str, Any] = field(default_factory=dict)
    mode: Mode = "strict"
    prompt_version: str = ""

    def key(self) -> str:
        """The request hash: prompt hash, model, parameters, mode, schema and messages.

        The cache and cassettes are keyed by it, so equal requests share an answer
        and any change (a new prompt version, model or input) misses.
        """
        payload = {
            "prompt": self.prompt_version,
            "model": self.model,
            "params": self.params,
            "mode": self.mode,
            "schema": schema_hash(self.schema),
            "messages": self.messages,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class LLMResponse:
    """What one call returned, before validation against the schema."""

    content: str | None
    refusal: str | None = None
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    source: str = "provider"  # provider | cache | cassette

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the cache and cassettes."""
        return {
            "content": self.content,
            "refusal": self.refusal,
            "finish_reason": self.finish_reason,
            "usage": self.usage.as_dict(),
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str) -> LLMResponse:
        """Inverse of :meth:`to_dict`."""
        return cls(
            content=data.get("content"),
            refusal=data.get("refusal"),
            finish_reason=data.get("finish_reason"),
            usage=Usage.from_dict(data.get("usage")),
            model=data.get("model"),
            source=source,
        )


class ProviderError(RuntimeError):
    """A call that failed for good (bad key, bad request, unknown model)."""


class TransientError(ProviderError):
    """A call worth retrying: timeout, connection error, 429 or 5xx.

    ``retry_after`` is the server's Retry-After in seconds, when it sent one.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SchemaUnsupportedError(ProviderError):
    """The server rejected strict JSON-schema output; JSON mode may still work."""


@runtime_checkable
class Provider(Protocol):
    """Anything that answers one chat request with one attempt."""

    name: str

    def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` once and return the raw answer."""
        ...

    async def acomplete(self, request: LLMRequest) -> LLMResponse:
        """Async :meth:`complete`."""
        ...
