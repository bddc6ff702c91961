"""A langchain-core chat model that answers from a script and supports structured output.

``with_structured_output`` in langchain-core binds the schema as a tool; this
model answers each call with the next scripted item: a dict becomes a tool call
with those arguments, a string becomes plain content, an exception is raised.
Each answer carries ``usage_metadata`` so token accounting can be tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    """Answers from ``answers`` in order; records the messages of every call."""

    answers: list[Any] = Field(default_factory=list)
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    model_name: str = "scripted-chat"
    max_retries: int = 2
    usage: tuple[int, int, int] = (800, 100, 120)  # input, cache_read, output

    @property
    def _llm_type(self) -> str:
        return "scripted-chat"

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Any:
        """Bind tools the way chat models with tool calling do."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        if not self.answers:
            raise AssertionError("ScriptedChatModel ran out of answers")
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        fresh, cached, output = self.usage
        usage = {
            "input_tokens": fresh,
            "output_tokens": output,
            "total_tokens": fresh + output,
            "input_token_details": {"cache_read": cached},
        }
        if isinstance(answer, dict):
            name = (kwargs.get("tools") or [{"function": {"name": "answer"}}])[0]["function"][
                "name"
            ]
            message = AIMessage(
                content="",
                tool_calls=[{"name": name, "args": answer, "id": f"call_{len(self.seen)}"}],
                usage_metadata=usage,
            )
        else:
            message = AIMessage(content=str(answer), usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])
