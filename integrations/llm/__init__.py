"""LLM providers: any OpenAI-compatible endpoint through the ``openai`` SDK, and
any langchain-core chat model. Each answers one request per call, no retries
inside (see :mod:`copilot.llm.calls`).

The providers are imported on first use: importing one SDK must not cost the
start-up time of the other (langchain-core alone takes about a second)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copilot.integrations.llm.langchain_provider import LangChainProvider
    from copilot.integrations.llm.openai_provider import OpenAIProvider

__all__ = ["LangChainProvider", "OpenAIProvider"]

_MODULES = {
    "LangChainProvider": "copilot.integrations.llm.langchain_provider",
    "OpenAIProvider": "copilot.integrations.llm.openai_provider",
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(import_module(_MODULES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
