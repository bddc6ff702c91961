"""The handoff policy: must a person take over now?

The policy reads what the engine understood (the intent of the latest inbound
message and the signals it raised) and picks one reason by precedence:

1. ``human_request``: the lead asked for a person; not honouring it is the
   surest way to lose them, whatever else the message says.
2. ``sensitive``: legal, medical, refund, charge or personal-data matters carry
   risk; they need someone with authority even when the lead is also angry or
   ready to buy, and the agent must know that before anything else.
3. ``complaint``: anger or a claim about the service; a bot reply makes it worse.
4. ``stuck``: the automation already failed twice; more automation cannot help.
5. ``complex``: custom, negotiated or bulk requests. Both this and ``hot_lead``
   call a salesperson at once; ``complex`` is the more specific and demanding
   cue (the deal must be scoped or negotiated, not just closed), so a lead who
   wants to buy 300 custom uniforms is ``complex``.
6. ``hot_lead``: ready to buy or asking for a meeting, call or visit.
7. ``low_confidence``: last resort, when nothing else applies and the message
   cannot be understood without information the assistant lacks (a reference
   to something outside the chat, a voice note). When that reference is the
   whole request ("quiero el mismo que tiene mi amiga": no product named), it
   counts unless the classifier is sure of a question the business facts answer
   (pricing, stock...), and beats a ``hot_lead`` read from the intent alone: the
   agent must first find out what the lead means.

An intent below ``LOW_CONFIDENCE`` is a guess: its reason yields to any other
reason a signal raises from the text (a complaint guessed at 0.3 does not hide
the lead's "¿sí o no?" after two useless replies). A low intent confidence alone
   is no reason: the rules engine is often unsure about perfectly routine lines
   ("es para mi apartamento nuevo"), and sending those to a person floods the inbox.

Routine lines (greetings, catalog, price list, payment methods, stock, delivery,
hours, address, order status, thanks, answers, opt-outs, spam) raise no reason
and stay automatable; capitals or "URGENTE" alone never do.
"""

from __future__ import annotations

from copilot.engines.base import Understanding
from copilot.models import Conversation, ConversationState, Handoff, IntentResult, Signal
from copilot.taxonomy import HandoffReason, Intent, MessageType

#: Reasons in the order they win (see the module docstring for the why).
PRECEDENCE: tuple[HandoffReason, ...] = (
    HandoffReason.HUMAN_REQUEST,
    HandoffReason.SENSITIVE,
    HandoffReason.COMPLAINT,
    HandoffReason.STUCK,
    HandoffReason.COMPLEX,
    HandoffReason.HOT_LEAD,
    HandoffReason.LOW_CONFIDENCE,
)

#: Intents that by themselves call for a person.
INTENT_REASONS: dict[Intent, HandoffReason] = {
    Intent.HUMAN_REQUEST: HandoffReason.HUMAN_REQUEST,
    Intent.COMPLAINT: HandoffReason.COMPLAINT,
    Intent.PURCHASE_INTENT: HandoffReason.HOT_LEAD,
    Intent.MEETING_REQUEST: HandoffReason.HOT_LEAD,
}

#: Below this intent confidence the engine counts as unsure.
LOW_CONFIDENCE = 0.5

#: A missing-context cue ("lo mismo que la otra vez") is direct evidence that the
#: message cannot be acted on; rules confidences are uncalibrated, so only a
#: classification at least this confident overrides it.
CONFIDENT = 0.75

#: A ``low_confidence`` signal scoring at least this says the reference is the whole
#: request ("quiero el mismo que tiene mi amiga"): any engine may raise one.
POINTER_ONLY = 0.9

#: Intents whose lines need no person even when a text signal fires: spam and
#: opt-outs are answered automatically (a legal threat or a stuck bot still escalate).
_WEAK = frozenset(
    {
        HandoffReason.HUMAN_REQUEST,
        HandoffReason.COMPLAINT,
        HandoffReason.COMPLEX,
        HandoffReason.LOW_CONFIDENCE,
    }
)
_ROUTINE_ONLY: dict[Intent, frozenset[HandoffReason]] = {
    # A cold pitch "for the owner" or a scam shouting "estafa" is still spam.
    Intent.SPAM: _WEAK,
    Intent.OPT_OUT: _WEAK,
}

#: Media a rules engine cannot read: a person must look or listen.
_UNREADABLE = {
    MessageType.AUDIO: "a voice or audio message",
    MessageType.VIDEO: "a video",
    MessageType.IMAGE: "an image without a caption",
    MessageType.DOCUMENT: "a document",
}

_WHY = {
    HandoffReason.HUMAN_REQUEST: "The lead asks for a person",
    HandoffReason.SENSITIVE: "Sensitive matter",
    HandoffReason.COMPLAINT: "The lead complains",
    HandoffReason.STUCK: "The automation is not helping",
    HandoffReason.HOT_LEAD: "Hot lead",
    HandoffReason.COMPLEX: "Complex request",
    HandoffReason.LOW_CONFIDENCE: "The assistant cannot tell what the lead wants",
}


def decide_handoff(
    conversation: Conversation,
    understanding: Understanding,
    state: ConversationState,
) -> Handoff:
    """Combine the engine's intent and signals with the conversation state.

    Returns ``needed=False`` for routine messages and for conversations with no
    inbound message; otherwise one reason, chosen by :data:`PRECEDENCE`, and an
    English explanation naming the cue. The history the policy needs (a lead
    repeating a question) arrives as the engine's ``stuck`` signal; ``state`` is
    part of the signature for policies that read the clock, and this one does not:
    whether a person already took over is the template choice's business
    (``handoff_notice``), not a reason to hide why a person is needed.
    """
    last = conversation.last_inbound
    if last is None:
        return Handoff(needed=False, explanation="No inbound message to act on.")
    candidates = candidate_reasons(understanding.intent, understanding.signals)
    if not last.analysed_text and last.type in _UNREADABLE and understanding.intent is None:
        candidates.setdefault(
            HandoffReason.LOW_CONFIDENCE, f"the lead sent {_UNREADABLE[last.type]} with no text"
        )
    intent = understanding.intent
    if intent is not None and intent.confidence >= LOW_CONFIDENCE:
        # only a classifier sure of spam or an opt-out silences the text's cues
        for reason in _ROUTINE_ONLY.get(intent.label, ()):
            candidates.pop(reason, None)
    for reason in PRECEDENCE:
        if reason in candidates:
            return Handoff(
                needed=True, reason=reason, explanation=f"{_WHY[reason]}: {candidates[reason]}."
            )
    label = intent.label.value if intent else "none"
    return Handoff(needed=False, explanation=f"Routine message (intent {label}): no handoff.")


def candidate_reasons(
    intent: IntentResult | None, signals: list[Signal]
) -> dict[HandoffReason, str]:
    """Every reason the intent and the signals support, each with its cue."""
    found: dict[HandoffReason, str] = {}
    if intent is not None and intent.label in INTENT_REASONS:
        found[INTENT_REASONS[intent.label]] = (
            f"intent {intent.label.value} (confidence {intent.confidence:.2f})"
        )
    pointer_only = False
    for signal in signals:
        if signal.reason is None or signal.reason in found:
            continue
        if signal.reason is HandoffReason.LOW_CONFIDENCE:
            # "the same as my friend's" names nothing: unless the classifier is
            # sure of a question the business facts answer, the reference decides
            pointer_only = signal.score >= POINTER_ONLY and not _answerable(intent)
            if not (pointer_only or _unsure(intent)):
                continue
        found[signal.reason] = signal.detail or signal.name
    hot_from_intent = not any(s.reason is HandoffReason.HOT_LEAD for s in signals)
    if pointer_only and hot_from_intent:
        # "quiero el que te mostré": the wish to buy is real, but nobody knows what
        found.pop(HandoffReason.HOT_LEAD, None)
    if intent is not None and intent.confidence < LOW_CONFIDENCE:
        # An unsure classifier's guess yields to a specific cue in the text: a
        # lead demanding "¿sí o no?" after two replies is stuck, whatever the guess.
        guess = INTENT_REASONS.get(intent.label)
        if guess is not None and any(
            s.reason not in (None, guess, HandoffReason.LOW_CONFIDENCE) for s in signals
        ):
            found.pop(guess, None)
    return found


#: Intents whose questions the business facts answer: a confident one needs no
#: person even when the line also points outside the chat.
_ANSWERABLE = frozenset(
    {
        Intent.GREETING,
        Intent.PRODUCT_INQUIRY,
        Intent.PRICING,
        Intent.AVAILABILITY,
        Intent.BUSINESS_INFO,
        Intent.ORDER_STATUS,
    }
)


def _answerable(intent: IntentResult | None) -> bool:
    return intent is not None and intent.label in _ANSWERABLE and not _unsure(intent)


def _unsure(intent: IntentResult | None) -> bool:
    # A missing-context cue only matters when the engine did not find a clear,
    # confident intent that already tells what to do.
    return intent is None or intent.confidence < CONFIDENT or intent.label is Intent.OTHER
