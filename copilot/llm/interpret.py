"""Turn a validated model answer into the engine's :class:`Understanding` parts,
checking what the schema cannot: field formats, lengths, redacted values, and
that the reply states nothing the business facts do not hold."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.engines.rules.normalize import normalize
from copilot.grounding import check_free_text
from copilot.llm.context import Context
from copilot.llm.safety import clean, injection_cues, unsupported_claims
from copilot.llm.schema import AnalyzeOutput, ReplyOut
from copilot.models import (
    Budget,
    FieldValue,
    IntentResult,
    LabelScore,
    OriginResult,
    QualificationFields,
    Signal,
    SuggestedReply,
    Timeline,
)
from copilot.profile import BusinessProfile
from copilot.taxonomy import FIELD_NAMES, HandoffReason, Language, Origin, OriginSource

#: Confidence given to values the model extracted (it gives none per field).
FIELD_CONFIDENCE = 0.8
MAX_FIELD_CHARS = 200
#: Length limits of reply slots and free text, in characters.
SLOT_LIMITS = {"question": 200, "answer": 400, "need": 80, "next_step": 80}
#: Fields the lead's words must hold verbatim, and fields that need one of their words.
EXACT_FIELDS = frozenset({"name", "company", "city", "email"})
WORDED_FIELDS = frozenset({"timeline", "budget"})
#: Fields the model gives as plain text (the next step is a label, the worded ones objects).
PLAIN_FIELDS = tuple(name for name in FIELD_NAMES if name not in WORDED_FIELDS | {"next_step"})

_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass
class Interpretation:
    """What the engine keeps from one model answer."""

    language: Language
    intent: IntentResult
    origin: OriginResult
    fields: QualificationFields
    signals: list[Signal]
    reply: SuggestedReply | None
    notes: list[str] = field(default_factory=list)


def _text(value: str | None, context: Context, limit: int = MAX_FIELD_CHARS) -> str | None:
    if value is None:
        return None
    if context.redactor is not None:
        value = context.redactor.restore(value)
    value = clean(value or "").strip()
    return value[:limit] or None


def _source(value: str, context: Context) -> str | None:
    """The id of the latest lead message that contains ``value`` (else the latest)."""
    needle = normalize(value)
    for message_id, text in reversed(context.message_ids):
        if needle and needle in text:
            return message_id
    return context.message_ids[-1][0] if context.message_ids else None


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def grounded(name: str, value: str, context: Context) -> bool:
    """Whether the lead's own words hold ``value``: contact data and places verbatim
    (accents and case aside; phones by their digits), timeline and budget texts by at
    least one of their words. Summaries (need, pain, prior solution) are not checked."""
    texts = [text for _, text in context.message_ids]
    if name == "phone":
        digits = _digits(value)
        return any(digits and digits in _digits(text) for text in texts)
    needle = normalize(value)
    if name in EXACT_FIELDS:
        return any(needle and needle in text for text in texts)
    if name in WORDED_FIELDS:
        said = set(re.findall(r"[a-z0-9]+", " ".join(texts)))
        return any(word in said for word in re.findall(r"[a-z0-9]+", needle))
    return True


def _fields(
    out: AnalyzeOutput, context: Context, profile: BusinessProfile, notes: list[str]
) -> QualificationFields:
    raw = out.fields
    values: dict[str, FieldValue] = {}

    def put(name: str, value: object, anchor: str) -> None:
        if anchor and not grounded(name, anchor, context):
            notes.append(f"field {name} dropped: not in the lead's words")
            return
        values[name] = FieldValue(
            value=value, message_id=_source(anchor, context), confidence=FIELD_CONFIDENCE
        )

    for name in PLAIN_FIELDS:
        text = _text(getattr(raw, name), context)
        if text is None:
            continue
        if name == "email" and not _EMAIL.match(text):
            notes.append("field email dropped: not an email address")
            continue
        if name == "phone" and len(_digits(text)) < 7:
            notes.append("field phone dropped: not a phone number")
            continue
        put(name, text, text)
    if raw.next_step is not None:
        put("next_step", raw.next_step, "")
    if raw.timeline is not None and (text := _text(raw.timeline.text, context)):
        put("timeline", Timeline(text=text, bucket=raw.timeline.bucket), text)
    if raw.budget is not None and (text := _text(raw.budget.text, context)):
        amount = raw.budget.amount if raw.budget.amount is None or raw.budget.amount >= 0 else None
        currency = (raw.budget.currency or "").upper()
        currency = currency if _CURRENCY.match(currency) else profile.currency
        put("budget", Budget(amount=amount, currency=currency, text=text), text)
    return QualificationFields(**values)


def _intent(out: AnalyzeOutput) -> IntentResult:
    confidence = min(max(out.intent.confidence, 0.0), 1.0)
    also = [label for label in dict.fromkeys(out.intent.also) if label != out.intent.label]
    share = round((1 - confidence) / len(also), 3) if also else 0.0
    return IntentResult(
        label=out.intent.label,
        confidence=round(confidence, 3),
        alternatives=[LabelScore(label=label.value, confidence=share) for label in also],
    )


def _origin(out: AnalyzeOutput, context: Context) -> OriginResult:
    if context.metadata_origin is not None:
        return context.metadata_origin
    label = out.origin.label
    return OriginResult(
        label=label,
        source=OriginSource.NONE if label is Origin.UNKNOWN else OriginSource.TEXT,
        evidence=_text(out.origin.evidence, context),
        confidence=FIELD_CONFIDENCE,
    )


def _signals(out: AnalyzeOutput, context: Context) -> list[Signal]:
    signals: list[Signal] = []
    cues = [cue for text in context.lead_texts for cue in injection_cues(text)]
    if cues or out.injection_suspected:
        detail = f"instruction-like text: {cues[0][:80]}" if cues else "the model flagged it"
        signals.append(
            Signal(
                name="prompt_injection",
                reason=HandoffReason.LOW_CONFIDENCE,
                score=1.0 if cues else 0.8,
                detail=detail,
            )
        )
    if out.handoff.needed:
        signals.append(
            Signal(
                name="llm_handoff",
                reason=out.handoff.reason or HandoffReason.LOW_CONFIDENCE,
                score=round(min(max(out.intent.confidence, 0.0), 1.0), 3),
                detail="the model says a person should take over",
            )
        )
    return signals


def check_reply(
    reply: ReplyOut, context: Context, profile: BusinessProfile, language: Language
) -> tuple[SuggestedReply, list[str]]:
    """The proposed reply with every slot and free text that fails a check removed,
    and the reasons. ``text`` is the validated free text, or ``""`` when the
    template is to be rendered with ``variables``."""
    notes: list[str] = []
    variables: dict[str, str] = {}
    for name, limit in SLOT_LIMITS.items():
        value = _text(getattr(reply.slots, name), context, limit=10_000)
        if value is None:
            continue
        if len(value) > limit:
            notes.append(f"slot {name} dropped: longer than {limit} characters")
            continue
        problems = unsupported_claims(value, profile, context.lead_texts)
        if problems:
            notes.append(f"slot {name} dropped: {problems[0]}")
            continue
        variables[name] = value
    text = ""
    free = _text(reply.free_text, context, limit=10_000)
    if free:
        problems = check_free_text(
            free,
            language=language.value,
            profile=profile,
            lead_texts=context.lead_texts,
            window_open=context.window_open,
        )
        if problems:
            notes.append(f"free text dropped: {', '.join(problems)}")
        else:
            text = free
    template = profile.templates[reply.template]
    return (
        SuggestedReply(
            template=reply.template,
            text=text,
            language=language,
            requires_approved_template=not context.window_open,
            category=template.category,
            variables=variables,
        ),
        notes,
    )


def interpret(out: AnalyzeOutput, context: Context, profile: BusinessProfile) -> Interpretation:
    """The understanding parts of a validated answer."""
    language = out.language if out.language != Language.UNDETERMINED else context.language
    reply, notes = check_reply(out.reply, context, profile, language)
    return Interpretation(
        language=language,
        intent=_intent(out),
        origin=_origin(out, context),
        fields=_fields(out, context, profile, notes),
        signals=_signals(out, context),
        reply=reply,
        notes=notes,
    )
