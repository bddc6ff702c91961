"""What kind of turn the lead's latest message is, for the wording of the reply.

Most turns are answered by the template the taxonomy's order chooses. A few need
words of their own (docs/taxonomy.md, "Turns"): a lead who is no longer
interested or bought elsewhere (a gracious close, and ``lost`` proposed to the
agent), a price objection or a comparison with a competitor (acknowledge, value,
next step; the competitor is the lead's ``prior_solution``), a complaint
(apologize for the specific problem, then hand off) and media without text
(say it was received and ask, never pretend it was understood).

Cues live in ``data/replies.toml`` (``[turns]``), matched as whole words on
normalised text, all languages at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from copilot.engines.rules.normalize import normalize, words
from copilot.facts import _data
from copilot.models import Conversation, FieldValue, Message, QualificationFields
from copilot.taxonomy import HandoffReason, Intent, LostReason, MessageType

#: Message kinds whose content the copilot cannot read.
MEDIA = frozenset(
    {
        MessageType.AUDIO,
        MessageType.IMAGE,
        MessageType.VIDEO,
        MessageType.DOCUMENT,
        MessageType.STICKER,
    }
)


@dataclass(frozen=True)
class Turn:
    """The kind of the lead's turn: ``loss``, ``objection``, ``complaint``,
    ``media`` or ``None`` (an ordinary turn), with what its wording needs."""

    kind: str | None = None
    lost_reason: LostReason | None = None
    competitor: str | None = None
    problem: str | None = None
    media: str | None = None


ORDINARY = Turn()


def _padded(text: str) -> str:
    return f" {' '.join(words(normalize(text)))} "


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    turns = _data()["turns"]
    lists = {name: turns[name] for name in ("loss", "loss_competitor", "objection")}
    lists |= {f"problem:{k}": v for k, v in turns["problems"].items()}
    return {name: _alternation(phrases) for name, phrases in lists.items()}


def _alternation(phrases: list[str]) -> re.Pattern[str]:
    ordered = sorted({p.strip() for p in phrases if p.strip()}, key=len, reverse=True)
    return re.compile("(?<= )(?:" + "|".join(map(re.escape, ordered)) + ")(?= )")


_COMPETITOR = re.compile(r"(?<= )(?:en|em|no|na|at|in|from|de)\s+([a-z0-9][a-z0-9]{2,})(?= )")


def competitor_in(text: str) -> str | None:
    """The seller a price comparison names ("en homecenter está a la mitad" ->
    "homecenter"), as written by the lead; ``None`` when none is named."""
    padded = _padded(text)
    skip = set(_data()["turns"]["not_competitors"])
    for match in _COMPETITOR.finditer(padded):
        name = match.group(1)
        if name in skip or name.isdigit():
            continue
        start = normalize(text).find(name)
        # Keep the lead's spelling of the name (capitals, accents) when it is found as is.
        original = text[start : start + len(name)] if start >= 0 else name
        return original.strip() or name
    return None


def turn_of(
    message: Message | None, intent: Intent | None, handoff: HandoffReason | None = None
) -> Turn:
    """The kind of turn ``message`` (the lead's latest) is; see the module doc.
    A handoff for a complaint makes it a complaint whatever the intent."""
    if message is None:
        return ORDINARY
    text = message.analysed_text
    if not text and message.type in MEDIA:
        return Turn("media", media=message.type.value)
    if not text:
        return ORDINARY
    if handoff is HandoffReason.COMPLAINT and intent is not Intent.OPT_OUT:
        intent = Intent.COMPLAINT
    return _turn_of_text(text, intent, message.type.value)


@lru_cache(maxsize=4096)
def _turn_of_text(text: str, intent: Intent | None, kind: str) -> Turn:
    padded = _padded(text)
    found = {name for name, pattern in _patterns().items() if pattern.search(padded)}
    if intent is Intent.OPT_OUT:
        return ORDINARY  # the opt-out confirmation answers it
    has_problem = any(name.startswith("problem:") for name in found)
    if intent is Intent.COMPLAINT or (intent is Intent.SUPPORT and has_problem):
        problem = next(
            (n.split(":", 1)[1] for n in _patterns() if n in found and n.startswith("problem:")),
            None,
        )
        return Turn("complaint", problem=problem, media=kind if kind != "text" else None)
    if "loss" in found:
        reason = (
            LostReason.CHOSE_COMPETITOR if "loss_competitor" in found else LostReason.NOT_INTERESTED
        )
        return Turn("loss", lost_reason=reason)
    if "objection" in found:
        return Turn("objection", competitor=competitor_in(text))
    return ORDINARY


def is_courtesy(message: Message | None) -> bool:
    """The lead's line is only thanks or an ok ("ok gracias 👍")."""
    if message is None or not message.analysed_text:
        return False
    tokens = words(normalize(message.analysed_text))
    allowed = _thanks_words()
    return bool(tokens) and all(t in allowed for t in tokens)


@cache
def _thanks_words() -> frozenset[str]:
    return frozenset(_data()["turns"]["thanks"])


def about_an_order(conversation: Conversation) -> bool:
    """An earlier line of the lead is about an order they placed ("mi pedido"):
    the lead is a customer, not a prospect to nudge."""
    cues = _alternation(_data()["cues"]["not_facts"])
    return any(cues.search(_padded(m.text or "")) for m in conversation.messages if m.is_inbound)


def with_competitor(
    fields: QualificationFields, message: Message | None, intent: Intent | None
) -> QualificationFields:
    """``fields`` with the competitor a price comparison names recorded as the
    lead's ``prior_solution`` (when none is known yet)."""
    if message is None or fields.prior_solution is not None:
        return fields
    turn = turn_of(message, intent)
    if turn.kind != "objection" or not turn.competitor:
        return fields
    value = FieldValue(value=turn.competitor, message_id=message.id, confidence=0.7)
    return fields.model_copy(update={"prior_solution": value})
