"""Engines turn a conversation into an understanding: language, intent, origin,
fields and handoff signals. They share one protocol so ``rules``, ``llm`` and
``hybrid`` plug into the same :class:`copilot.Copilot`."""

from __future__ import annotations

from copilot.engines.base import Engine, EngineError, Understanding, get_engine, register_engine

__all__ = ["Engine", "EngineError", "Understanding", "get_engine", "register_engine"]
