"""The ``semantic`` engine: the rules, plus sentence embeddings where the rules are unsure.

The rules engine runs first and stays in charge where it is sure. One embedding
of the latest inbound message (multilingual-e5-small on the CPU, bundled in the
optional ``semantic`` extra) feeds two linear heads (:mod:`.heads`):

- **intent**: taken when the rules found none, are below ``threshold`` (the
  profile's ``engine_threshold`` when set), or read ``other`` while the head is
  sure of something else ("ok, quiero hablar con sus vendedores");
- **signals** (person request, complaint, sensitive, complex, out of scope): a
  sure head raises the handoff signal the rules missed; a head that cannot rule
  out a person request, complaint or sensitive matter raises ``low_confidence``
  (the handoff errs toward a person); a sure out-of-scope reading turns a sales
  intent into ``other`` and drops ``hot_lead``, so trivia does not page sales.

It is its own engine rather than part of ``rules`` because it needs numpy and
a 70 MB model, and costs about 15 ms a message against the rules' one. When the
extra is missing, building it raises :class:`SemanticUnavailable`; with
``fallback=True`` it runs the rules alone and says why in ``decided_by``.
"""

from __future__ import annotations

from datetime import datetime

from copilot.engines.base import Engine, Understanding, register_engine
from copilot.engines.semantic.embedders import Embedder, SemanticUnavailable, default_embedder
from copilot.engines.semantic.heads import Heads, shipped_heads
from copilot.models import Conversation, IntentResult, LabelScore, Signal
from copilot.profile import BusinessProfile
from copilot.taxonomy import HandoffReason, Intent

__all__ = ["SemanticEngine", "SemanticUnavailable"]

#: Intents an out-of-scope question is mistaken for.
SALES = frozenset(
    {
        Intent.PRICING,
        Intent.PURCHASE_INTENT,
        Intent.PRODUCT_INQUIRY,
        Intent.AVAILABILITY,
        Intent.MEETING_REQUEST,
    }
)
#: Signals the head may raise on its own, and the ones it must not leave unsaid.
_REASONS = {
    "human_request": HandoffReason.HUMAN_REQUEST,
    "complaint": HandoffReason.COMPLAINT,
    "sensitive": HandoffReason.SENSITIVE,
    "complex": HandoffReason.COMPLEX,
}
_CANNOT_RULE_OUT = ("human_request", "complaint", "sensitive")
#: Score of the ``low_confidence`` doubt signal (below ``handoff.POINTER_ONLY``).
DOUBT = 0.8
_HOT = frozenset({Intent.PURCHASE_INTENT, Intent.MEETING_REQUEST})
#: Intent labels that by themselves hand the lead to a person or stop messages.
_CALLS_A_PERSON = frozenset(
    {Intent.HUMAN_REQUEST, Intent.COMPLAINT, Intent.OPT_OUT, Intent.SPAM} | _HOT
)
_INTENT_REASONS = {
    Intent.HUMAN_REQUEST: HandoffReason.HUMAN_REQUEST,
    Intent.COMPLAINT: HandoffReason.COMPLAINT,
    Intent.PURCHASE_INTENT: HandoffReason.HOT_LEAD,
    Intent.MEETING_REQUEST: HandoffReason.HOT_LEAD,
}


def _reasons(intent: IntentResult | None, signals: list[Signal]) -> set[HandoffReason]:
    """The handoff reasons the rules' reading supports (intent and text signals)."""
    found = {s.reason for s in signals if s.reason is not None}
    if intent is not None and intent.label in _INTENT_REASONS:
        found.add(_INTENT_REASONS[intent.label])
    return found


class SemanticEngine:
    """Rules first; the embedding heads where the rules are unsure or silent."""

    name = "semantic"

    def __init__(
        self,
        *,
        threshold: float = 0.6,
        sure: float = 0.85,
        maybe: float | None = None,
        signal_sure: float | None = None,
        out_of_scope: float | None = None,
        override: float = 0.97,
        fallback: bool = False,
        rules: Engine | None = None,
        embedder: Embedder | None = None,
        heads: Heads | None = None,
    ) -> None:
        if rules is None:
            from copilot.engines.rules import RulesEngine

            rules = RulesEngine()
        self.rules = rules
        self.threshold, self.sure, self.override = threshold, sure, override
        # None: the per-signal thresholds chosen out of fold at training time.
        self.maybe, self.signal_sure, self.out_of_scope = maybe, signal_sure, out_of_scope
        self.unavailable: str | None = None
        self.embedder: Embedder | None = None
        try:
            self.embedder = embedder or default_embedder()
        except SemanticUnavailable as exc:
            if not fallback:
                raise
            self.unavailable = str(exc)
        self.heads = heads or shipped_heads()

    def understand(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Understanding:
        """Understand the latest inbound message; see the module docstring."""
        base = self.rules.understand(conversation, profile, now)
        decided = {"intent": "rules", "signals": "rules"}
        last = conversation.last_inbound
        text = last.analysed_text if last else ""
        if self.embedder is None:
            decided["fallback"] = self.unavailable or "no embedder"
            return base.model_copy(update={"engine": self.name, "decided_by": decided})
        if not text:
            return base.model_copy(update={"engine": self.name, "decided_by": decided})
        vector = self.embedder.embed([text])[0]
        intents = self.heads.intent(vector)
        signals = self.heads.signals(vector)
        threshold = self.threshold if profile.engine_threshold is None else profile.engine_threshold
        raised = _reasons(base.intent, base.signals)
        if raised - {HandoffReason.HOT_LEAD}:
            # The rules found a specific reason (a person, a complaint, a stuck
            # bot, a missing reference...): they are precise there, keep them.
            return base.model_copy(update={"engine": self.name, "decided_by": decided})
        intent = base.intent
        found = list(base.signals)
        if signals.get("out_of_scope", 0.0) >= self._limit("out_of_scope", "sure") and (
            intent is None or intent.label in SALES
        ):
            intent = IntentResult(
                label=Intent.OTHER, confidence=round(signals["out_of_scope"], 4), alternatives=[]
            )
            decided["intent"] = "semantic: out of scope"
            found = [s for s in found if s.reason is not HandoffReason.HOT_LEAD]
        else:
            intent = self._intent(intent, intents, threshold, bool(raised), decided)
        found += self._signals(found, intent, signals, decided)
        return base.model_copy(
            update={"engine": self.name, "intent": intent, "signals": found, "decided_by": decided}
        )

    def _intent(
        self,
        rules: IntentResult | None,
        probs: dict[str, float],
        threshold: float,
        hot: bool,
        decided: dict[str, str],
    ) -> IntentResult | None:
        label, p = max(probs.items(), key=lambda item: item[1])
        ranked = sorted(probs.items(), key=lambda item: -item[1])[1:3]
        mine = IntentResult(
            label=Intent(label),
            confidence=round(p, 4),
            alternatives=[LabelScore(label=k, confidence=round(v, 4)) for k, v in ranked],
        )
        if Intent(label) in _CALLS_A_PERSON and p < self.sure:
            # A label that pages a person (or stops messages) needs a sure head.
            return rules
        if rules is None:
            decided["intent"] = "semantic"
            return mine
        # When the rules read a wish to buy, only a near-certain head changes that.
        unsure = not hot and rules.confidence < threshold and p > rules.confidence
        # A filler ("ok, ...") can push the rules to a confident "other".
        flipped = rules.label is Intent.OTHER and label != "other" and p >= self.sure
        # A near-certain head overrules a merely confident rules reading
        # ("please stop the promo messages" is not pricing for its "promo").
        overruled = label != rules.label.value and p >= self.override > rules.confidence
        if unsure or flipped or overruled:
            decided["intent"] = "semantic"
            return mine
        return rules

    def _limit(self, name: str, kind: str) -> float:
        """The probability from which signal ``name`` counts as ``sure`` or ``maybe``."""
        override = {"maybe": self.maybe, "sure": self.signal_sure}[kind]
        if name == "out_of_scope" and kind == "sure" and self.out_of_scope is not None:
            override = self.out_of_scope
        if override is not None:
            return override
        return self.heads.thresholds.get(name, {}).get(kind, 0.99)

    def _signals(
        self,
        present: list[Signal],
        intent: IntentResult | None,
        probs: dict[str, float],
        decided: dict[str, str],
    ) -> list[Signal]:
        raised = {s.reason for s in present}
        if intent is not None:
            raised.add(_REASONS.get(intent.label.value))
        added: list[Signal] = []
        doubts = []
        for name, reason in _REASONS.items():
            p = probs.get(name, 0.0)
            if reason in raised:
                continue
            if p >= self._limit(name, "sure"):
                added.append(
                    Signal(
                        name=f"semantic_{name}",
                        reason=reason,
                        score=round(p, 4),
                        detail=f"reads as {name} ({p:.2f})",
                    )
                )
            elif p >= self._limit(name, "maybe") and name in _CANNOT_RULE_OUT:
                doubts.append(f"{name} ({p:.2f})")
        if doubts:
            # Below the policy's "the reference is the whole request" score: the
            # doubt counts when the intent is unsure, and never hides a sure one.
            added.append(
                Signal(
                    name="semantic_doubt",
                    reason=HandoffReason.LOW_CONFIDENCE,
                    score=DOUBT,
                    detail="cannot rule out " + ", ".join(doubts),
                )
            )
        if added:
            decided["signals"] = "rules+semantic"
        return added


register_engine("semantic", SemanticEngine)
