"""Deterministic cues under a model's answer: a handoff or an opt-out is never dropped.

A model may read "quiero hablar con un asesor" as ``business_info`` and ask for
no handoff. The rules engine's high-precision cues catch such lines with no
model at all, so they are checked after every model answer:

- an explicit ask for a person, or an unmistakable complaint keyword
  (:func:`~copilot.engines.rules.signals.explicit_signal`): when the model's
  answer holds neither that intent nor that handoff reason, the rules' signal
  is added, so the handoff policy still calls a person;
- an opt-out the rules classifier is sure of: when the model read anything
  else, the opt-out wins (writing again to a lead who asked to stop is the
  costlier mistake).

What was kept, and why, is returned as notes for ``decided_by["safety"]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from copilot.engines.rules.intent import classify_intent
from copilot.engines.rules.normalize import normalize
from copilot.engines.rules.signals import explicit_signal
from copilot.handoff import INTENT_REASONS
from copilot.models import Conversation, IntentResult, LabelScore, Signal
from copilot.taxonomy import Intent, Language

#: The rules' opt-out must be at least this sure to overrule the model.
OPT_OUT_CONFIDENCE = 0.8


@dataclass
class Secured:
    """The model's intent and signals after the deterministic cues, with notes."""

    intent: IntentResult
    signals: list[Signal]
    notes: list[str] = field(default_factory=list)


def _covers(intent: IntentResult, signals: list[Signal], signal: Signal) -> bool:
    if INTENT_REASONS.get(intent.label) is signal.reason:
        return True
    return any(s.reason is signal.reason for s in signals)


def secure(
    conversation: Conversation,
    intent: IntentResult,
    signals: list[Signal],
    language: Language,
) -> Secured:
    """Combine a model's ``intent`` and ``signals`` with the rules' sure cues on the
    latest inbound message."""
    out = Secured(intent=intent, signals=list(signals))
    last = conversation.last_inbound
    text = (last.analysed_text if last else None) or ""
    if not text.strip():
        return out
    cue = explicit_signal(normalize(text))
    if cue is not None and not _covers(intent, out.signals, cue):
        out.signals.append(cue)
        out.notes.append(
            f"rules kept a {cue.reason.value if cue.reason else cue.name} handoff the model "
            f"missed ({cue.detail}; the model read {intent.label.value})"
        )
    if intent.label is not Intent.OPT_OUT and last is not None:
        position = next(i for i, m in enumerate(conversation.messages) if m is last)
        history = conversation.messages[:position]
        rules = classify_intent(last, history, language)
        if rules.label is Intent.OPT_OUT and rules.confidence >= OPT_OUT_CONFIDENCE:
            alternatives = [LabelScore(label=intent.label.value, confidence=intent.confidence)]
            out.intent = rules.model_copy(update={"alternatives": alternatives})
            out.notes.append(
                f"rules kept an opt-out the model missed (confidence {rules.confidence:.2f}; "
                f"the model read {intent.label.value})"
            )
    return out
