"""The ``hybrid`` engine: rules first, the model only where it pays.

The rules engine runs on every message. The model is asked only when the
rules are unsure (no intent, an intent below ``threshold``, an undetermined
language, or a ``low_confidence`` signal) or, with ``reply_text="auto"``, when
the lead asks something a written answer serves better than a template
(prices, products, availability, business information, a wish to buy);
``reply_text="always"`` asks for every reply, ``"never"`` only when unsure.

What each part came from is in ``decided_by``: ``rules``, ``llm``,
``rules+llm`` (fields the model filled in) or ``metadata`` (origin). When the
model fails, everything stays with the rules and ``decided_by["fallback"]``
says why. Other keyword options go to the ``llm`` engine (see
:mod:`copilot.engines.llm`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from copilot.engines.base import Engine, EngineError, Understanding, register_engine
from copilot.engines.llm import PARTS, Attempt, LLMEngine
from copilot.models import Conversation, QualificationFields
from copilot.profile import BusinessProfile
from copilot.taxonomy import HandoffReason, Intent, Language

#: Intents whose reply reads better written than templated (``reply_text="auto"``).
ANSWER_INTENTS = frozenset(
    {
        Intent.PRICING,
        Intent.PRODUCT_INQUIRY,
        Intent.AVAILABILITY,
        Intent.BUSINESS_INFO,
        Intent.PURCHASE_INTENT,
    }
)
_STRONG_ORIGIN = ("referral_metadata", "entry_point", "campaign_context")


class HybridEngine:
    """Rules first; the model where the rules are unsure or for the reply text."""

    name = "hybrid"

    def __init__(
        self,
        *,
        threshold: float = 0.6,
        reply_text: Literal["auto", "always", "never"] = "auto",
        rules: Engine | None = None,
        llm: LLMEngine | None = None,
        **llm_options: Any,
    ) -> None:
        if reply_text not in ("auto", "always", "never"):
            raise EngineError(f"reply_text must be auto, always or never, not {reply_text!r}")
        if rules is None:
            from copilot.engines.rules import RulesEngine

            rules = RulesEngine()
        self.rules = rules
        self.threshold = threshold
        self.reply_text = reply_text
        self.llm = llm or LLMEngine(fallback=rules, **llm_options)

    def unsure(
        self,
        base: Understanding,
        conversation: Conversation,
        profile: BusinessProfile | None = None,
    ) -> str | None:
        """Why the rules' reading needs the model, or ``None`` when it is sure.
        The profile's ``engine_threshold``, when set, overrides ``threshold``."""
        last = conversation.last_inbound
        if last is None or not (last.text or "").strip():
            return None
        if base.intent is None:
            return "no intent"
        threshold = self.threshold
        if profile is not None and profile.engine_threshold is not None:
            threshold = profile.engine_threshold
        if base.intent.confidence < threshold:
            return f"intent confidence {base.intent.confidence:.2f} < {threshold}"
        if base.language is Language.UNDETERMINED:
            return "language undetermined"
        if any(s.reason is HandoffReason.LOW_CONFIDENCE for s in base.signals):
            return "low-confidence signal"
        return None

    def wants_reply(self, base: Understanding) -> bool:
        """Whether to ask the model for the reply text although the rules are sure."""
        if self.reply_text == "always":
            return True
        if self.reply_text == "never" or base.intent is None:
            return False
        return base.intent.label in ANSWER_INTENTS

    def merge(
        self, base: Understanding, attempt: Attempt | None, unsure: str | None
    ) -> Understanding:
        """Combine the rules' reading with the model's, recording who decided what."""
        decided = dict.fromkeys(PARTS, "rules")
        if attempt is None:
            return base.model_copy(update={"engine": self.name, "decided_by": decided})
        common = {
            "engine": self.name,
            "prompt_version": attempt.prompt_version,
            "model": attempt.model,
            "usage": attempt.usage,
            "cost_usd": attempt.cost_usd,
        }
        found = attempt.interpretation
        if found is None:
            reasons = attempt.reasons or [attempt.error or "unknown"]
            decided["fallback"] = " | ".join(reasons)
            update = {"decided_by": decided, "decision": "fallback", "reasons": reasons}
            return base.model_copy(update={**common, **update})
        update: dict[str, Any] = {
            "reply": found.reply,
            "decision": attempt.decision,
            "reasons": attempt.reasons,
        }
        decided["reply"] = "llm"
        signals = list(base.signals)
        if not any(s.name == "prompt_injection" for s in signals):
            signals += [s for s in found.signals if s.name == "prompt_injection"]
        if unsure:
            update["intent"] = found.intent
            decided["intent"] = "llm"
            signals += [s for s in found.signals if s.name == "llm_handoff"]
            if found.intent.confidence >= self.threshold:
                # The rules' low-confidence hint is answered: the model is sure.
                signals = [
                    s
                    for s in signals
                    if s.reason is not HandoffReason.LOW_CONFIDENCE
                    or s.name in ("prompt_injection", "llm_handoff")
                ]
            if base.language is Language.UNDETERMINED:
                update["language"] = found.language
                decided["language"] = "llm"
        if base.origin.source.value in _STRONG_ORIGIN:
            decided["origin"] = "metadata"
        elif found.origin.source.value in _STRONG_ORIGIN:
            update["origin"], decided["origin"] = found.origin, "metadata"
        elif base.origin.label.value == "unknown" and found.origin.label.value != "unknown":
            update["origin"], decided["origin"] = found.origin, "llm"
        filled = {
            name: value
            for name, value in found.fields
            if value is not None and getattr(base.fields, name) is None
        }
        if filled:
            update["fields"] = QualificationFields(**{**dict(base.fields), **filled})
            decided["fields"] = "rules+llm"
        if signals != base.signals:
            decided["signals"] = "rules+llm"
        update["signals"] = signals
        if found.notes:
            decided["checks"] = "; ".join(found.notes)
        if unsure:
            decided["llm_reason"] = unsure
        return base.model_copy(update={**common, **update, "decided_by": decided})

    def close(self) -> None:
        """Close the model provider's synchronous connections."""
        self.llm.close()

    async def aclose(self) -> None:
        """Close the model provider's async connections."""
        await self.llm.aclose()

    def understand(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Understanding:
        """Rules first; the model only when needed."""
        base = self.rules.understand(conversation, profile, now)
        unsure = self.unsure(base, conversation, profile)
        attempt = None
        if unsure or self.wants_reply(base):
            attempt = self.llm.attempt(conversation, profile, now)
        return self.merge(base, attempt, unsure)

    async def aunderstand(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Understanding:
        """Async :meth:`understand`."""
        base = self.rules.understand(conversation, profile, now)
        unsure = self.unsure(base, conversation, profile)
        attempt = None
        if unsure or self.wants_reply(base):
            attempt = await self.llm.aattempt(conversation, profile, now)
        return self.merge(base, attempt, unsure)


register_engine("hybrid", HybridEngine)
