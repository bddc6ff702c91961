"""Intent classification of one inbound message, in context.

How a message is classified, in order:

1. Messages without text (audio, sticker, location, an order from the catalog...)
   get a label from their type and the conversation (a location right after
   "where should we deliver?" is ``provides_info``).
2. Short answers are read against the business's last message: "si" after
   "¿te agendo una visita?" is a ``meeting_request``, after "¿te inscribo?" a
   ``purchase_intent``; "somos 12" after "¿cuántas personas?" is ``provides_info``.
3. Lines made only of greetings, or only of thanks/ok, are ``greeting`` / ``other``.
4. Otherwise every intent scores the patterns of ``lexicons/intent*.toml`` that
   match (3 points strong, 2 medium, 1 weak), plus context and the labelling
   conventions of the taxonomy: a request for a person wins anywhere in the
   message, sarcastic praise is a complaint (and its thanks are not thanks), an
   instruction-injection line with no commercial request is spam, a wish to buy
   that asks how to pay is a purchase, and an unprompted question beats the
   self-description beside it ("¿qué niveles tienen? tengo un B1"). The best
   score wins; ties go to the more consequential intent (a person, an opt-out, a
   complaint before a price). A question nothing matched is an unsure
   ``product_inquiry`` (0.35); off-topic chat has its own ``other`` patterns.
5. When that score leaves the engine unsure (below the model's ``consult_below``),
   a small statistical model (``intent_model.py``, word and character n-grams) gives
   a second opinion and the two are blended; decisive rules (a person asked for,
   an opt-out, a scam) and the short answers of step 2 never consult it.

Confidence grows with the winning score and shrinks when a runner-up is close:
below 0.5 means the engine is not sure what the lead wants (the handoff policy
reads it so). Alternatives are the other intents that scored, best first.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from copilot.engines.rules.intent_lexicon import IntentLexicon, Matches, load_intent_lexicon
from copilot.engines.rules.intent_model import IntentModelError, blend, load_intent_model
from copilot.engines.rules.normalize import words
from copilot.models import IntentResult, Message
from copilot.taxonomy import Intent, Language, MessageType

LEXICON: IntentLexicon = load_intent_lexicon()
# Load the model's weights now (about 0.1 s), not inside the first request. Only the
# training command runs without a weights file (it writes it); a classification that
# needs the model raises the error then.
with contextlib.suppress(IntentModelError):
    load_intent_model()

#: Tie-break order: on equal scores the more consequential intent wins.
PRIORITY: dict[Intent, int] = {
    intent: rank
    for rank, intent in enumerate(
        reversed(
            (
                Intent.HUMAN_REQUEST,
                Intent.OPT_OUT,
                Intent.SPAM,
                Intent.COMPLAINT,
                Intent.SUPPORT,
                Intent.ORDER_STATUS,
                Intent.PURCHASE_INTENT,
                Intent.MEETING_REQUEST,
                Intent.PRICING,
                Intent.AVAILABILITY,
                Intent.BUSINESS_INFO,
                Intent.PRODUCT_INQUIRY,
                Intent.PROVIDES_INFO,
                Intent.OTHER,
                Intent.GREETING,
            )
        )
    )
}

#: Intents that are a request to the business (they beat an injection attempt).
COMMERCIAL = frozenset(
    {
        Intent.PRODUCT_INQUIRY,
        Intent.PRICING,
        Intent.AVAILABILITY,
        Intent.PURCHASE_INTENT,
        Intent.MEETING_REQUEST,
        Intent.BUSINESS_INFO,
        Intent.ORDER_STATUS,
        Intent.SUPPORT,
        Intent.HUMAN_REQUEST,
    }
)

# Score bonuses (same scale as the lexicon tiers: strong = 3).
_ANSWER_BONUS = 2.5  # a line answering the business's qualifying question
_ANSWER_BONUS_ASKING_BACK = 1.0  # ... that also asks something ("?")
_INJECTION_SCORE = 4.0
_SARCASM_SCORE = 3.5
_MAX_ANSWER_WORDS = 15
_SPLIT_ANSWER = 1  # lead messages that may follow the business's question
#: Intents that win whatever else the line says, from this score on.
_DOMINANT = {Intent.HUMAN_REQUEST: 3.0, Intent.OPT_OUT: 3.0, Intent.SPAM: 4.5}
_MAX_CONFIDENCE = 0.97


class Prompt(Enum):
    """What the business's last message asked, if it is the latest message."""

    NONE = "none"  # no pending question
    OPEN = "open"  # "¿en qué te ayudo?": anything may follow
    INFO = "info"  # a qualifying question: "¿para cuándo?", "¿cuántas personas?"
    MEETING = "meeting"  # offers a call, visit, demo or appointment
    PURCHASE = "purchase"  # offers to sign up, reserve, place the order


# Word sets a short line may be made of (see _short_answer).
_POLITE = LEXICON.words["filler"] | LEXICON.words["ack"] | LEXICON.words["affirmative"]
_NEGATIVE_ANSWER = LEXICON.words["negative"] | LEXICON.words["filler"] | LEXICON.words["ack"]
_GREETING_LINE = LEXICON.words["greeting"] | LEXICON.words["filler"]
_NO_WORDS = LEXICON.words["negative_core"]
_ACK_LINE = _POLITE | LEXICON.words["greeting"]
# "Yes" to an offer: a yes word, or an acknowledgement that is not a thank-you or
# a "no" ("dale", "de una", "perfecto" accept; "gracias" alone does not).
_YES = LEXICON.words["affirmative_core"] | (LEXICON.words["ack"] - LEXICON.words["negative"])
_LAUGH_WORD = "jaja"
if _LAUGH_WORD not in LEXICON.words["ack"]:
    raise RuntimeError("intent lexicon: 'jaja' must be an acknowledgement word ([cues] ack)")


@dataclass(frozen=True)
class _Scored:
    label: Intent
    confidence: float
    scores: dict[Intent, float]


@lru_cache(maxsize=8192)
def _prepare(text: str) -> str:
    return LEXICON.prepare(text)


@lru_cache(maxsize=8192)
def _match(prepared: str) -> Matches:
    return LEXICON.match(prepared)


def prompt_kind(history: list[Message]) -> Prompt:
    """What the business asked in its latest message of ``history`` (when at most one
    lead message came after it): an open question, a qualifying question, or an offer
    of a meeting or a purchase that a bare "yes" accepts."""
    # Leads often split an answer in two lines ("mmm", "el viernes"): the question
    # still counts when at most one lead message came after it.
    for back, message in enumerate(reversed(history[-(_SPLIT_ANSWER + 1) :])):
        if not message.is_inbound:
            return _prompt_of(message.analysed_text) if message.text else Prompt.NONE
        if back >= _SPLIT_ANSWER:
            break
    return Prompt.NONE


@lru_cache(maxsize=4096)
def _prompt_of(text: str) -> Prompt:
    prepared = _prepare(text)
    if "?" not in prepared and "question_start" not in _match(prepared).cues:
        return Prompt.NONE
    # Only the last sentence counts: "Te envío el catálogo. ¿Cuántas personas son?"
    last = prepared.rsplit(".", 1)[-1]
    cues = _match(last if "?" in last else prepared).cues
    if "open_question" in cues:
        return Prompt.OPEN
    if "offer_meeting" in cues:
        return Prompt.MEETING
    if "offer_purchase" in cues:
        return Prompt.PURCHASE
    return Prompt.INFO


def is_instruction_injection(text: str) -> bool:
    """True when ``text`` tries to give the assistant instructions ("ignore previous
    instructions and ...", "actúa como ..."), in any of the three languages."""
    return "injection" in _match(_prepare(text or "")).cues


def _scores(matches: Matches) -> dict[Intent, float]:
    # One hit of a tier earns its weight, two or more earn one and a half times it.
    scores: dict[Intent, float] = {}
    for (intent, weight), hits in matches.tiers.items():
        scores[intent] = scores.get(intent, 0.0) + (weight if hits == 1 else weight * 1.5)
    return scores


def _confidence(top: float, second: float) -> float:
    strength = 1.0 - math.exp(-top / 1.8)
    margin = (top - second) / top if top > 0 else 0.0
    return min(_MAX_CONFIDENCE, strength * (0.6 + 0.4 * margin))


def _result(label: Intent, confidence: float, alternatives: dict[Intent, float]) -> IntentResult:
    """The result model; ``alternatives`` maps intents to their confidence (kept
    below the label's)."""
    return _build(*_reading(label, confidence, alternatives))


#: A classification as plain values: label, confidence, ``(label, confidence)`` of
#: the alternatives (what :func:`_build` makes the result model of).
_Reading = tuple[Intent, float, tuple[tuple[str, float], ...]]


def _reading(label: Intent, confidence: float, alternatives: dict[Intent, float]) -> _Reading:
    """The classification as plain values, confidences clamped and rounded, the four
    likeliest alternatives ranked below the label."""
    confidence = round(min(_MAX_CONFIDENCE, max(0.0, confidence)), 3)
    ranked = sorted(
        (
            (round(max(0.0, min(confidence * 0.95, value)), 3), intent)
            for intent, value in alternatives.items()
            if intent is not label and value > 0
        ),
        key=lambda pair: (-pair[0], -PRIORITY[pair[1]]),
    )
    return label, confidence, tuple((intent.value, value) for value, intent in ranked[:4])


def _build(
    label: Intent, confidence: float, alternatives: tuple[tuple[str, float], ...]
) -> IntentResult:
    # Plain validation: pydantic-core validates these small models faster than
    # ``model_construct`` builds them in Python.
    return IntentResult(
        label=label,
        confidence=confidence,
        alternatives=[{"label": name, "confidence": value} for name, value in alternatives],
    )


def _without_text(message: Message, prompt: Prompt) -> IntentResult:
    """A message with no text to read: decide by its type and the pending question."""
    kind = message.type
    answering = prompt in (Prompt.INFO, Prompt.OPEN)
    if kind is MessageType.ORDER:
        return _result(Intent.PURCHASE_INTENT, 0.9, {Intent.PRICING: 0.5})
    if kind is MessageType.LOCATION:
        if answering:
            return _result(Intent.PROVIDES_INFO, 0.85, {})
        return _result(Intent.PROVIDES_INFO, 0.55, {Intent.AVAILABILITY: 0.4})
    if kind is MessageType.CONTACTS:
        return _result(Intent.PROVIDES_INFO, 0.75 if answering else 0.5, {})
    if kind in (MessageType.REACTION, MessageType.STICKER):
        if prompt in (Prompt.MEETING, Prompt.PURCHASE):
            return _result(Intent.OTHER, 0.4, {_offer_intent(prompt): 0.8})
        return _result(Intent.OTHER, 0.6, {})
    if kind in (MessageType.IMAGE, MessageType.DOCUMENT, MessageType.VIDEO):
        if prompt is Prompt.INFO:
            return _result(Intent.PROVIDES_INFO, 0.6, {Intent.PRODUCT_INQUIRY: 0.4})
        # A photo with no caption is often "do you have this?"; nobody can tell.
        return _result(Intent.OTHER, 0.3, {Intent.PRODUCT_INQUIRY: 0.8, Intent.AVAILABILITY: 0.6})
    # Voice notes, unsupported and system messages: the engine cannot read them.
    return _result(Intent.OTHER, 0.2, {})


def _offer_intent(prompt: Prompt) -> Intent:
    return Intent.MEETING_REQUEST if prompt is Prompt.MEETING else Intent.PURCHASE_INTENT


def _only_emojis(text: str, prompt: Prompt) -> _Reading:
    yes = any(e in text for e in LEXICON.emojis["affirmative"])
    if yes and prompt in (Prompt.MEETING, Prompt.PURCHASE):
        other = Intent.PURCHASE_INTENT if prompt is Prompt.MEETING else Intent.MEETING_REQUEST
        return _reading(_offer_intent(prompt), 0.75, {other: 0.3, Intent.OTHER: 0.5})
    if yes and prompt is Prompt.INFO:
        return _reading(Intent.PROVIDES_INFO, 0.55, {Intent.OTHER: 0.8})
    scores = _scores(_match(text))
    for intent in (Intent.GREETING, Intent.COMPLAINT):
        if scores.get(intent, 0) >= 2:
            return _reading(intent, 0.7, {Intent.OTHER: 0.5})
    return _reading(Intent.OTHER, 0.75 if scores.get(Intent.OTHER) else 0.6, {})


def _short_answer(tokens: set[str], prompt: Prompt) -> _Reading | None:
    """Lines made only of yes/no, thanks, ok or greeting words."""
    cue = LEXICON.words
    polite = _POLITE
    if (
        tokens & _YES
        and tokens <= polite
        and prompt in (Prompt.MEETING, Prompt.PURCHASE, Prompt.INFO)
    ):
        if prompt is Prompt.INFO:
            return _reading(Intent.PROVIDES_INFO, 0.65, {Intent.OTHER: 0.6})
        other = Intent.PURCHASE_INTENT if prompt is Prompt.MEETING else Intent.MEETING_REQUEST
        return _reading(_offer_intent(prompt), 0.8, {other: 0.3, Intent.OTHER: 0.3})
    if tokens & _NO_WORDS and tokens <= _NEGATIVE_ANSWER and prompt is not Prompt.NONE:
        if prompt is Prompt.INFO:
            return _reading(Intent.PROVIDES_INFO, 0.6, {Intent.OTHER: 0.6})
        return _reading(Intent.OTHER, 0.7, {Intent.PROVIDES_INFO: 0.4})
    greeting_words = tokens & cue["greeting"]
    if greeting_words and tokens <= _GREETING_LINE:
        return _reading(Intent.GREETING, 0.9, {})
    if tokens & cue["ack"] and tokens <= _ACK_LINE:
        return _reading(Intent.OTHER, 0.85, {})
    return None


def _decide(prepared: str, tokens: list[str], prompt: Prompt) -> _Scored:
    matches = _match(prepared)
    scores = _scores(matches)
    commercial = max((scores.get(i, 0.0) for i in COMMERCIAL), default=0.0)
    # Conventions of the taxonomy, applied on top of the lexicon scores.
    if "injection" in matches.cues:
        if commercial >= 2:
            scores.pop(Intent.SPAM, None)
        else:
            scores[Intent.SPAM] = scores.get(Intent.SPAM, 0.0) + _INJECTION_SCORE
    if "praise" in matches.cues and (
        "letdown" in matches.cues or any(e in prepared for e in LEXICON.emojis["sarcasm"])
    ):
        scores[Intent.COMPLAINT] = scores.get(Intent.COMPLAINT, 0.0) + _SARCASM_SCORE
        # Sarcastic thanks are not thanks ("gracias por responder tan rápido, 4 días").
        scores.pop(Intent.OTHER, None)
    if prompt is Prompt.INFO and len(tokens) <= _MAX_ANSWER_WORDS:
        bonus = _ANSWER_BONUS_ASKING_BACK if "?" in prepared else _ANSWER_BONUS
        scores[Intent.PROVIDES_INFO] = scores.get(Intent.PROVIDES_INFO, 0.0) + bonus
    others = {i: s for i, s in scores.items() if i not in (Intent.GREETING, Intent.OTHER)}
    if others:
        # A greeting or a thank-you beside a request is not what the message asks.
        if Intent.GREETING in scores:
            scores[Intent.GREETING] = 0.5
        # Thanks or "ok" beside a request halve; a job application or "lo voy a
        # pensar" (strong patterns) keep their weight.
        other_strong = matches.tiers.get((Intent.OTHER, 3.0), 0) > 0
        if Intent.OTHER in scores and max(others.values()) >= 2 and not other_strong:
            scores[Intent.OTHER] = scores[Intent.OTHER] / 2
    if not scores:
        return _fallback(prepared, prompt)
    ranked = sorted(scores, key=lambda i: (scores[i], PRIORITY[i]), reverse=True)
    label = ranked[0]
    if label is Intent.PRICING and matches.tiers.get((Intent.PURCHASE_INTENT, 3.0), 0):
        # "lo quiero, ¿aceptan tarjeta en cuotas?": a clear wish to buy that also asks
        # how to pay is a purchase (the taxonomy's convention); pricing stays second.
        label = Intent.PURCHASE_INTENT
        scores[label] = max(scores[label], scores[Intent.PRICING])
    if label is Intent.PROVIDES_INFO and prompt is not Prompt.INFO and "?" in prepared:
        # "¿qué niveles manejan? tengo un B1": unprompted, the self-description only
        # qualifies the question, which is what the message asks now.
        asked = [i for i in ranked[1:] if i in COMMERCIAL and scores[i] >= 1.0]
        if asked:
            ranked.remove(asked[0])
            ranked.insert(0, asked[0])
            label = asked[0]
            scores[label] = max(scores[label], scores[Intent.PROVIDES_INFO])
    content = [t for t in tokens if t not in _GREETING_LINE]
    if label is Intent.GREETING and "?" in prepared and len(content) >= 2:
        # "que tal, venden al por mayor?": an opener, then a question nothing matched.
        return _Scored(Intent.PRODUCT_INQUIRY, 0.4, {**scores, Intent.PRODUCT_INQUIRY: 3.0})
    second = scores[ranked[1]] if len(ranked) > 1 else 0.0
    confidence = _confidence(scores[label], second)
    # A request for a person wins anywhere in the message; so does a clear opt-out,
    # and a line that is twice over a scam or a cold pitch ("somos agencia...").
    for dominant, needed in _DOMINANT.items():
        if scores.get(dominant, 0.0) >= needed:
            if label is not dominant:
                label, confidence = dominant, max(0.75, _confidence(scores[dominant], 0.0) * 0.9)
            else:
                confidence = max(confidence, 0.8)
            break
    return _Scored(label, confidence, scores)


def _fallback(prepared: str, prompt: Prompt) -> _Scored:
    """Nothing matched: lean on the pending question, else guess low."""
    if prompt in (Prompt.INFO, Prompt.MEETING, Prompt.PURCHASE):
        return _Scored(Intent.PROVIDES_INFO, 0.55, {Intent.PROVIDES_INFO: 1.0})
    if "?" in prepared:
        # An unknown question to a business is most often about the offer; the low
        # confidence says the engine is guessing (off-topic chat is in the lexicon).
        return _Scored(
            Intent.PRODUCT_INQUIRY, 0.35, {Intent.PRODUCT_INQUIRY: 1.0, Intent.OTHER: 0.5}
        )
    return _Scored(Intent.OTHER, 0.3, {Intent.OTHER: 1.0})


def _second_opinion(scored: _Scored, prepared: str, prompt: Prompt) -> _Scored:
    """Blend an unsure lexicon decision with the statistical model's probabilities."""
    model = load_intent_model()  # cached: loaded once, at import
    params = model.blend
    if scored.confidence >= params.get("consult_below", 0.0):
        return scored
    if any(scored.scores.get(i, 0.0) >= needed for i, needed in _DOMINANT.items()):
        return scored  # a decisive rule stays authoritative however it scored
    if "injection" in _match(prepared).cues:
        return scored  # so does the injection convention (spam, or the request it hides)
    probabilities = model.probabilities(prepared, prompt.value)
    label, confidence = blend(scored.label.value, scored.confidence, probabilities, params)
    if label == scored.label.value:
        return _Scored(scored.label, confidence, scored.scores)
    chosen = Intent(label)
    # The model's pick leads; the lexicon's label stays the first alternative.
    top = max(scored.scores.values(), default=1.0) or 1.0
    scores = {i: s / top for i, s in scored.scores.items()}
    scores[chosen] = max(scores.get(chosen, 0.0), 1.0 + confidence)
    return _Scored(chosen, confidence, scores)


def classify_intent(message: Message, history: list[Message], language: Language) -> IntentResult:
    """Primary intent of ``message`` with alternatives; ``history`` is the
    conversation before it, oldest first (inbound and outbound).

    The patterns of every language apply whatever ``language`` says (leads mix
    languages and short lines are often undetermined); ``language`` is accepted for
    engines that need it and kept for symmetry with the other detectors.
    """
    prompt = prompt_kind(history)
    text = message.analysed_text
    if not text and message.payload:
        # A button with no title: its payload id is the best text there is.
        text = message.payload.replace("_", " ").replace("-", " ")[:200]
    if not text:
        if message.type is MessageType.TEXT:
            return _result(Intent.OTHER, 0.1, {})
        return _without_text(message, prompt)
    # From here the result depends on the text and the pending question only.
    model = load_intent_model()
    if model is not _CLASSIFIED_WITH[0]:
        # Another model (tests swap it in) reads lines differently: forget old readings.
        _classify_text.cache_clear()
        _CLASSIFIED_WITH[0] = model
    return _build(*_classify_text(text, prompt))


#: The intent model the cached readings of :func:`_classify_text` were made with.
_CLASSIFIED_WITH: list[object] = [None]


@lru_cache(maxsize=8192)
def _classify_text(text: str, prompt: Prompt) -> _Reading:
    """:func:`classify_intent` of a non-empty text, as plain values. Cached: a
    conversation's lines are classified again on every re-analysis."""
    prepared = _prepare(text)
    if not prepared:  # only invisible characters
        return _reading(Intent.OTHER, 0.1, {})
    tokens = words(prepared)
    if not tokens:
        return _only_emojis(prepared, prompt)
    laughter = LEXICON.laughter
    if laughter is not None:
        # "jajaja" and "kkkk" are acknowledgements, whatever their length.
        tokens = [_LAUGH_WORD if laughter.match(t) else t for t in tokens]
    short = _short_answer(set(tokens), prompt) if len(tokens) <= 8 else None
    if short is not None:
        return short
    scored = _second_opinion(_decide(prepared, tokens, prompt), prepared, prompt)
    top = max(scored.scores.values())
    # A runner-up's confidence is the label's, scaled by how its score compares.
    alternatives = {i: scored.confidence * 0.9 * s / top for i, s in scored.scores.items()}
    return _reading(scored.label, scored.confidence, alternatives)
