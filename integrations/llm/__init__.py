"""LLM providers: any OpenAI-compatible endpoint through the ``openai`` SDK, and
any langchain-core chat model. Each answers one request per call, no retries
inside (see :mod:`copilot.llm.calls`)."""

from integrations.llm.langchain_provider import LangChainProvider
from integrations.llm.openai_provider import OpenAIProvider

__all__ = ["LangChainProvider", "OpenAIProvider"]
