"""Engine specs: an engine and its options in one string, wherever users are.

The same text configures the ``analyze`` and ``eval`` commands (``--engine``),
the service (``LEAD_COPILOT_ENGINE``) and the eval's candidates and baselines::

    rules
    llm:analyze@v2
    llm:analyze@v1,base_url=http://127.0.0.1:8080/v1,model=smollm2,structured=json,timeout=60
    llm,params={"frequency_penalty": 0.5, "top_p": 0.9},seed=7,max_tokens=400,retries=2

``NAME[:PROMPT@VERSION][,KEY=VALUE...]``: values ``true``/``false`` and numbers
are converted, a value starting with ``{`` or ``[`` is JSON (commas inside it
are part of it), anything else is text. ``retries`` is short for
``retry_attempts``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from copilot.engines.base import Engine, EngineError, get_engine

#: Short option names and the engine keyword they stand for.
ALIASES = {"retries": "retry_attempts"}


def _option_value(text: str) -> Any:
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise EngineError(f"option value {text!r} is not valid JSON: {exc.msg}") from exc
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _split(text: str) -> list[str]:
    """Split on commas outside JSON brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = ""
        elif ch == '"':
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth or quote:
        raise EngineError(f"unbalanced brackets or quotes in engine spec {text!r}")
    parts.append(text[start:])
    return parts


def _show(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


@dataclass(frozen=True)
class EngineSpec:
    """An engine, optionally a prompt and factory options."""

    name: str
    prompt: str | None = None
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, text: str, prompt: str | None = None) -> EngineSpec:
        """Parse ``NAME[:PROMPT@VERSION][,KEY=VALUE...]``; an explicit ``prompt`` wins."""
        head, *pairs = _split(text.strip())
        name, _, spec_prompt = head.strip().partition(":")
        if not name:
            raise EngineError(f"empty engine name in {text!r}")
        options = []
        for pair in pairs:
            key, equals, value = pair.partition("=")
            if not equals or not key.strip():
                raise EngineError(f"engine option {pair!r} in {text!r} is not KEY=VALUE")
            key = key.strip()
            options.append((ALIASES.get(key, key), _option_value(value.strip())))
        return cls(name=name, prompt=prompt or spec_prompt or None, options=tuple(options))

    @property
    def label(self) -> str:
        """How reports name this engine."""
        label = f"{self.name}:{self.prompt}" if self.prompt else self.name
        return ",".join([label, *(f"{k}={_show(v)}" for k, v in self.options)])

    def build(self) -> Engine:
        """The engine; the prompt is passed only when given (only prompt engines take it)."""
        options = dict(self.options)
        if self.prompt:
            options["prompt"] = self.prompt
        try:
            return get_engine(self.name, **options)
        except TypeError as exc:
            given = ", ".join(options) or "no options"
            raise EngineError(f"engine {self.name!r} does not accept {given}: {exc}") from exc


def build_engine(text: str, prompt: str | None = None) -> Engine:
    """The engine an engine spec names (:class:`EngineError` when it cannot be built)."""
    return EngineSpec.parse(text, prompt).build()
