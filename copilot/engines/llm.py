"""The ``llm`` engine: one structured model call per analysis.

    engine = get_engine("llm", model="gpt-4o-mini")            # OPENAI_API_KEY
    engine = get_engine("llm", base_url="http://127.0.0.1:11434/v1", model="qwen2.5")
    engine = get_engine("llm", langchain_model=my_chat_model)
    engine = get_engine("llm", cassette="evals/cassettes/run.jsonl", cassette_mode="replay")

Options (all keyword): ``prompt`` (``"analyze@v1"``, a version or a ``.md``
path), ``model`` (else ``LEAD_COPILOT_MODEL``, else the prompt's default),
``base_url``/``api_key`` (else ``OPENAI_BASE_URL``/``OPENAI_API_KEY``),
``azure_endpoint``/``api_version``, ``langchain_model`` (any langchain-core chat
model), ``provider`` (any :class:`~copilot.llm.provider.Provider`),
``structured`` (``"auto"``: strict JSON schema, switching to JSON mode plus the
schema in the prompt when the server says it cannot do strict schemas, and
remembering that per server and model; ``"strict"``; ``"json"``), ``params``
(overrides the prompt's sampling parameters; ``seed`` and ``max_tokens`` are
shortcuts for two of them), ``cache`` (SQLite path; ``None`` uses
``LEAD_COPILOT_CACHE`` or the user cache dir; ``False`` disables it),
``cassette``/``cassette_mode`` (``"record"`` or ``"replay"``: answers recorded
in a JSONL file keyed by request hash, the same key as the cache; replay needs
no network or key and raises :class:`~copilot.llm.store.CassetteMissError` for
a missing request; with a cassette the response cache is not consulted, so a
replay reports exactly what the recording did),
``prices`` (dict or TOML path), ``budget_per_conversation``/``budget_per_day``
(tokens), ``redact`` (emails and phones never leave the machine), ``max_turns``,
``timeout`` (seconds per attempt), ``retry_attempts``, ``retry_max_wait``
(the longest backoff), ``retry_total`` (seconds for the whole call, retries
included; by default three timeouts, so a timed-out attempt is retried),
``fallback`` (an engine; the rules engine by default).

Every analysis says who answered (``decision``: ``model``, ``reask`` or
``fallback``) and every problem met on the way, in order (``reasons``). When the
model cannot give a valid answer (transport failures after retries, two invalid
answers, a refusal, a spent budget) the analysis falls back to the fallback
engine and ``decided_by["fallback"]`` says why (all the reasons); tokens spent
on the failed attempts are still in ``usage`` and ``cost_usd``. The rules' sure
cues (a person asked for, a complaint keyword, an opt-out) are combined with
every model answer (:mod:`copilot.engines.safety_net`).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from copilot.engines.base import Engine, EngineError, Understanding, register_engine
from copilot.engines.safety_net import secure
from copilot.llm.calls import Caller, CallResult, RetryPolicy, aask, ask
from copilot.llm.context import Context, build_context
from copilot.llm.cost import cost_usd, load_prices
from copilot.llm.interpret import Interpretation, interpret
from copilot.llm.provider import (
    LLMRequest,
    Mode,
    Provider,
    ProviderError,
    SchemaUnsupportedError,
)
from copilot.llm.schema import AnalyzeOutput, AnalyzeV2, schema_for
from copilot.llm.store import Budget, Cassette, ResponseCache
from copilot.models import Conversation, Decision
from copilot.profile import BusinessProfile
from copilot.prompts import PromptError, load_prompt

PARTS = ("language", "intent", "origin", "fields", "signals", "reply")


#: The structured-output mode learnt per (server, model) in this process; the cache
#: file keeps it across processes.
_LEARNT: dict[tuple[str, str], Mode] = {}


def _rejected(exc: SchemaUnsupportedError) -> CallResult:
    """The result when the server rejects JSON mode as well as strict schemas."""
    result = CallResult(output=None)
    result.fail(f"provider error: the server rejected JSON mode too: {exc}")
    return result


def forget_modes() -> None:
    """Forget the modes learnt in this process (the cache file keeps its own)."""
    _LEARNT.clear()


def default_cache_path() -> Path:
    """``LEAD_COPILOT_CACHE`` or ``~/.cache/lead-copilot/llm-cache.sqlite``."""
    if os.environ.get("LEAD_COPILOT_CACHE"):
        return Path(os.environ["LEAD_COPILOT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lead-copilot" / "llm-cache.sqlite"


def conversation_key(conversation: Conversation) -> str:
    """What the per-conversation budget counts against."""
    if conversation.id:
        return conversation.id
    if conversation.contact.key:
        return f"contact:{conversation.contact.key}"
    first = conversation.messages[0].id if conversation.messages else ""
    return "anon:" + hashlib.sha256(first.encode()).hexdigest()[:16]


@dataclass
class Attempt:
    """One analysis attempt with the model: the interpretation or why there is none."""

    interpretation: Interpretation | None
    error: str | None
    usage: dict[str, int] = field(default_factory=dict)
    cost_usd: float | None = None
    model: str | None = None
    prompt_version: str | None = None
    #: Every problem met on the way, in order (the last one is ``error``).
    reasons: list[str] = field(default_factory=list)
    #: ``reask`` when the valid answer came from the re-ask.
    reasked: bool = False

    @property
    def decision(self) -> Decision:
        """Who answered: the model (first answer or re-ask) or the fallback engine."""
        if self.interpretation is None:
            return "fallback"
        return "reask" if self.reasked else "model"


class LLMEngine:
    """Understands a conversation with one structured model call."""

    name = "llm"

    def __init__(
        self,
        *,
        prompt: str = "analyze@v1",
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        azure_endpoint: str | None = None,
        api_version: str | None = None,
        langchain_model: Any = None,
        provider: Provider | None = None,
        structured: Literal["auto", "strict", "json"] = "auto",
        params: dict[str, Any] | None = None,
        seed: int | None = None,
        max_tokens: int | None = None,
        cache: str | Path | bool | None = None,
        cassette: str | Path | None = None,
        cassette_mode: Literal["record", "replay"] = "replay",
        prices: dict[str, Any] | str | Path | None = None,
        budget_per_conversation: int | None = None,
        budget_per_day: int | None = None,
        redact: bool = False,
        max_turns: int = 10,
        timeout: float = 30.0,
        retry_attempts: int = 4,
        retry_max_wait: float = 8.0,
        retry_total: float | None = None,
        fallback: Engine | None = None,
    ) -> None:
        try:
            self.prompt = load_prompt(prompt)
            self.schema = schema_for(self.prompt.schema)
        except (PromptError, KeyError) as exc:
            raise EngineError(str(exc)) from exc
        if structured not in ("auto", "strict", "json"):
            raise EngineError(f"structured must be auto, strict or json, not {structured!r}")
        self.structured = structured
        self.mode: Mode = "json" if structured == "json" else "strict"
        if params is not None and not isinstance(params, dict):
            raise EngineError(
                f"params must be a JSON object of sampling parameters, not {params!r}"
            )
        shortcuts = {"seed": seed, "max_tokens": max_tokens}
        self.params = {
            **self.prompt.params,
            **(params or {}),
            **{key: value for key, value in shortcuts.items() if value is not None},
        }
        self.redact = redact
        self.max_turns = max_turns
        self.prices = load_prices(prices)
        self.budget = Budget(budget_per_conversation, budget_per_day)
        self._fallback = fallback
        try:
            self.cassette = Cassette(cassette, cassette_mode) if cassette else None
        except (OSError, ValueError) as exc:
            raise EngineError(f"cannot use the cassette: {exc}") from exc
        provider = self._provider(
            provider, langchain_model, base_url, api_key, azure_endpoint, api_version, timeout
        )
        self.model = (
            model
            or getattr(provider, "model_name", None)
            or os.environ.get("LEAD_COPILOT_MODEL")
            or self.prompt.model
        )
        if not self.model:
            raise EngineError("no model: pass model= or set LEAD_COPILOT_MODEL")
        self.cache = self._open_cache(cache)  # opened last: a bad config creates no file
        self.caller = Caller(
            provider=provider,
            # A cassette is the cache of an eval run: answers come from it alone, so a
            # replay reports exactly what the recording did (usage included).
            cache=None if self.cassette is not None else self.cache,
            cassette=self.cassette,
            retry=RetryPolicy(
                attempts=retry_attempts,
                maximum=retry_max_wait,
                timeout=timeout,
                total=retry_total,
            ),
        )
        # The ledger behind the budgets lives in the cache file, or in memory.
        self.ledger = self.cache or ResponseCache(":memory:")
        if structured == "auto":
            self.mode = self._learnt_mode() or "strict"

    # -- construction ------------------------------------------------------------
    @staticmethod
    def _open_cache(cache: str | Path | bool | None) -> ResponseCache | None:
        if cache is False:
            return None
        path = default_cache_path() if cache in (None, True) else Path(cache)  # type: ignore[arg-type]
        try:
            return ResponseCache(path)
        except (OSError, sqlite3.Error) as exc:
            raise EngineError(f"cannot open the LLM cache {path}: {exc}") from exc

    def _provider(
        self,
        provider: Provider | None,
        langchain_model: Any,
        base_url: str | None,
        api_key: str | None,
        azure_endpoint: str | None,
        api_version: str | None,
        timeout: float,
    ) -> Provider | None:
        if provider is not None:
            return provider
        if langchain_model is not None:
            from copilot.integrations.llm.langchain_provider import LangChainProvider

            return LangChainProvider(langchain_model, timeout=timeout)
        from copilot.integrations.llm.openai_provider import OpenAIProvider

        try:
            return OpenAIProvider(
                base_url=base_url,
                api_key=api_key,
                azure_endpoint=azure_endpoint,
                api_version=api_version,
                timeout=timeout,
            )
        except ProviderError as exc:
            if self.cassette is not None and self.cassette.mode == "replay":
                return None  # a replay needs no key
            raise EngineError(
                f"the llm engine needs a model endpoint: {exc} "
                "(or pass langchain_model=, or a cassette to replay)"
            ) from exc

    # -- the structured-output mode each server needs -------------------------------
    @property
    def server(self) -> str:
        """Where the model is served (its base URL), for remembering what it supports."""
        provider = self.caller.provider
        if provider is None:
            return "replay"
        return getattr(provider, "base_url", None) or getattr(provider, "name", "provider")

    def _learnt_mode(self) -> Mode | None:
        found = _LEARNT.get((self.server, self.model)) or self.ledger.learnt_mode(
            self.server, self.model
        )
        return found if found in ("strict", "json") else None  # type: ignore[return-value]

    def _learn_mode(self, mode: Mode, why: str) -> None:
        self.mode = mode
        _LEARNT[(self.server, self.model)] = mode
        self.ledger.learn_mode(self.server, self.model, mode, why)

    @property
    def fallback(self) -> Engine:
        """The engine used when the model fails (the rules engine by default)."""
        if self._fallback is None:
            from copilot.engines.rules import RulesEngine

            self._fallback = RulesEngine()
        return self._fallback

    # -- one attempt ---------------------------------------------------------------
    def _request(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> tuple[Context, LLMRequest]:
        context = build_context(
            self.prompt,
            conversation,
            profile,
            now,
            max_turns=self.max_turns,
            redact=self.redact,
            json_schema=self.schema if self.mode == "json" else None,
        )
        request = LLMRequest(
            messages=context.messages,
            model=self.model,
            schema=self.schema,
            params=self.params,
            mode=self.mode,
            prompt_version=self.prompt.version_id,
        )
        return context, request

    def _precheck(self, conversation: Conversation) -> str | None:
        last = conversation.last_inbound
        if last is None or not (last.text or "").strip():
            return "no inbound text to analyse"
        return self.budget.exceeded(self.ledger, conversation_key(conversation))

    def _attempt(
        self,
        conversation: Conversation,
        profile: BusinessProfile,
        context: Context,
        result: CallResult,
        notes: list[str],
    ) -> Attempt:
        self.ledger.record_usage(conversation_key(conversation), result.usage)
        usage = {**result.usage.as_dict(), "calls": result.calls, "cache_hits": result.cache_hits}
        model = result.model or self.model
        attempt = Attempt(
            interpretation=None,
            error=result.error,
            usage=usage,
            cost_usd=cost_usd(result.usage, model, self.prices),
            model=model,
            prompt_version=self.prompt.version_id,
            reasons=[*notes, *result.problems],
            reasked=result.reasked,
        )
        if result.output is not None:
            output = result.output
            if isinstance(output, AnalyzeV2):  # analyze@v2's flat answer
                output = output.to_output()
            assert isinstance(output, AnalyzeOutput)
            attempt.interpretation = interpret(output, context, profile)
        return attempt

    def _early(self, conversation: Conversation) -> Attempt | None:
        if reason := self._precheck(conversation):
            return Attempt(
                None,
                reason,
                prompt_version=self.prompt.version_id,
                model=self.model,
                reasons=[reason],
            )
        return None

    def _unsupported(self, exc: SchemaUnsupportedError, notes: list[str]) -> CallResult | None:
        """Switch to JSON mode after the server rejected strict schemas (``auto``), or
        the failed result when the mode is fixed."""
        if self.structured != "auto":
            result = CallResult(output=None)
            result.fail(f"provider error: {exc}")
            return result
        # Remembered for this server and model (in the cache file too): the next
        # analyses go straight to JSON mode.
        self._learn_mode("json", str(exc))
        notes.append(f"structured output switched to JSON mode: {exc}")
        return None

    def attempt(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Attempt:
        """Ask the model once (plus its retries and one re-ask); never falls back."""
        if (early := self._early(conversation)) is not None:
            return early
        notes: list[str] = []
        context, request = self._request(conversation, profile, now)
        try:
            result = ask(self.caller, request)
        except SchemaUnsupportedError as exc:
            if (failed := self._unsupported(exc, notes)) is not None:
                result = failed
            else:
                context, request = self._request(conversation, profile, now)
                try:
                    result = ask(self.caller, request)
                except SchemaUnsupportedError as again:
                    result = _rejected(again)
        return self._attempt(conversation, profile, context, result, notes)

    async def aattempt(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Attempt:
        """Async :meth:`attempt`, on the provider's async client."""
        if (early := self._early(conversation)) is not None:
            return early
        notes: list[str] = []
        context, request = self._request(conversation, profile, now)
        try:
            result = await aask(self.caller, request)
        except SchemaUnsupportedError as exc:
            if (failed := self._unsupported(exc, notes)) is not None:
                result = failed
            else:
                context, request = self._request(conversation, profile, now)
                try:
                    result = await aask(self.caller, request)
                except SchemaUnsupportedError as again:
                    result = _rejected(again)
        return self._attempt(conversation, profile, context, result, notes)

    def close(self) -> None:
        """Close the provider's synchronous connections."""
        closer = getattr(self.caller.provider, "close", None)
        if closer is not None:
            closer()

    async def aclose(self) -> None:
        """Close the provider's async connections (before the event loop ends)."""
        closer = getattr(self.caller.provider, "aclose", None)
        if closer is not None:
            await closer()

    # -- the engine protocol ---------------------------------------------------------
    def _finish(
        self,
        attempt: Attempt,
        conversation: Conversation,
        profile: BusinessProfile,
        now: datetime,
    ) -> Understanding:
        found = attempt.interpretation
        if found is None:
            base = self.fallback.understand(conversation, profile, now)
            reasons = attempt.reasons or [attempt.error or "unknown"]
            decided = dict.fromkeys(PARTS, base.engine) | {"fallback": " | ".join(reasons)}
            return base.model_copy(
                update={
                    "engine": self.name,
                    "decided_by": decided,
                    "decision": "fallback",
                    "reasons": reasons,
                    "prompt_version": attempt.prompt_version,
                    "model": attempt.model,
                    "usage": attempt.usage,
                    "cost_usd": attempt.cost_usd,
                }
            )
        decided = dict.fromkeys(PARTS, self.name)
        if found.origin.source.value in ("referral_metadata", "entry_point", "campaign_context"):
            decided["origin"] = "metadata"
        if found.notes:
            decided["checks"] = "; ".join(found.notes)
        # The rules' sure cues under the model: a handoff or opt-out is never dropped.
        secured = secure(conversation, found.intent, found.signals, found.language)
        if secured.notes:
            decided["safety"] = "; ".join(secured.notes)
            if secured.intent is not found.intent:
                decided["intent"] = "rules"
            if secured.signals != found.signals:
                decided["signals"] = f"{self.name}+rules"
        return Understanding(
            language=found.language,
            intent=secured.intent,
            origin=found.origin,
            fields=found.fields,
            signals=secured.signals,
            reply=found.reply,
            engine=self.name,
            decided_by=decided,
            decision=attempt.decision,
            reasons=attempt.reasons,
            prompt_version=attempt.prompt_version,
            model=attempt.model,
            usage=attempt.usage,
            cost_usd=attempt.cost_usd,
        )

    def understand(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Understanding:
        """Understand the latest inbound message with one model call."""
        return self._finish(self.attempt(conversation, profile, now), conversation, profile, now)

    async def aunderstand(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Understanding:
        """Async :meth:`understand` (for services and concurrent batches)."""
        attempt = await self.aattempt(conversation, profile, now)
        return self._finish(attempt, conversation, profile, now)


register_engine("llm", LLMEngine)
