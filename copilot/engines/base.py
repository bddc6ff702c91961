"""The engine protocol and the registry that builds engines by name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import Field

from copilot.models import (
    Conversation,
    Decision,
    IntentResult,
    Model,
    OriginResult,
    QualificationFields,
    Signal,
    SuggestedReply,
)
from copilot.profile import BusinessProfile
from copilot.taxonomy import Language


class EngineError(RuntimeError):
    """An engine could not be built or could not analyse (bad name, bad config)."""


class Understanding(Model):
    """What an engine understood of a conversation's latest inbound message.

    The handoff policy and the reply suggestion are shared code that reads this;
    an engine may propose a reply (``reply``) that the library then checks.
    """

    language: Language
    intent: IntentResult | None = None
    origin: OriginResult
    fields: QualificationFields = Field(default_factory=QualificationFields)
    signals: list[Signal] = Field(default_factory=list)
    reply: SuggestedReply | None = None
    engine: str
    decided_by: dict[str, str] = Field(default_factory=dict)
    decision: Decision | None = None
    reasons: list[str] = Field(default_factory=list)
    prompt_version: str | None = None
    model: str | None = None
    usage: dict[str, int] = Field(default_factory=dict)
    cost_usd: float | None = None


@runtime_checkable
class Engine(Protocol):
    """Anything that can understand a conversation."""

    name: str

    def understand(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Understanding:
        """Understand the conversation's latest inbound message, as of ``now``."""
        ...


_FACTORIES: dict[str, Callable[..., Engine]] = {}


def register_engine(name: str, factory: Callable[..., Engine]) -> None:
    """Make an engine buildable by name (``get_engine(name, **options)``)."""
    _FACTORIES[name] = factory


def get_engine(name: str, **options: Any) -> Engine:
    """Build the engine called ``name``; raises :class:`EngineError` for unknown names."""
    if name not in _FACTORIES:
        _load_builtin(name)
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(sorted(set(_FACTORIES) | {"rules", "llm", "hybrid", "semantic"}))
        raise EngineError(f"unknown engine {name!r}; known engines: {known}") from None
    return factory(**options)


def _load_builtin(name: str) -> None:
    # Built-in engines register themselves on import; importing lazily keeps
    # `import copilot` light and lets the LLM engines' optional config fail late.
    import importlib

    modules = {
        "rules": "copilot.engines.rules",
        "llm": "copilot.engines.llm",
        "hybrid": "copilot.engines.hybrid",
        "semantic": "copilot.engines.semantic",
    }
    if name in modules:
        try:
            importlib.import_module(modules[name])
        except ModuleNotFoundError as exc:
            if exc.name != modules[name]:
                raise
