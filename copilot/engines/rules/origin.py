"""Origin of a conversation: metadata first, then text cues.

The taxonomy's precedence, most reliable first:

1. a configured entry point: the first text equals or starts with a prefilled
   text or code the business set (``profile.entry_points``). It is the most
   specific metadata there is (the business chose that text for that channel),
   so it beats a referral, as in ``docs/datasets.md``'s origins example;
2. a WhatsApp ``referral`` object (click-to-WhatsApp ad, or a Facebook/Instagram post);
3. a campaign context: the lead replies to a template or campaign button;
4. text cues in the first inbound messages (``lexicons/origin.toml``);
5. otherwise ``unknown``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from urllib.parse import urlparse

from copilot.engines.rules.normalize import normalize, words
from copilot.models import Conversation, Message, OriginResult, Referral
from copilot.profile import BusinessProfile
from copilot.taxonomy import Direction, MessageType, Origin, OriginSource

#: How many of the lead's first messages may reveal where they came from.
FIRST_MESSAGES = 3

#: Where a lead says they came from is said up front; reading only this much of
#: each message keeps adversarial pastes cheap.
CUE_WINDOW = 1000

_MACRO = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class _Cue:
    origin: Origin
    patterns: tuple[re.Pattern[str], ...]
    excludes: tuple[re.Pattern[str], ...]


def _expand(pattern: str, macros: dict[str, str]) -> str:
    # Macros may use other macros; two rounds are plenty for the lexicon's depth.
    for _ in range(2):
        pattern = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
    return pattern


@cache
def _cues() -> tuple[_Cue, ...]:
    """The text cues of ``lexicons/origin.toml``, compiled once, in precedence order."""
    source = resources.files("copilot.engines.rules") / "lexicons" / "origin.toml"
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    macros = data.get("macros", {})
    cues = []
    for name in data["order"]:
        spec = data["cues"].get(name, {})
        cues.append(
            _Cue(
                origin=Origin(name),
                patterns=tuple(re.compile(_expand(p, macros)) for p in spec.get("patterns", [])),
                excludes=tuple(re.compile(_expand(p, macros)) for p in spec.get("exclude", [])),
            )
        )
    return tuple(cues)


@cache
def _any_cue() -> re.Pattern[str]:
    """All cue patterns in one alternation: most lines carry no origin cue, and one
    search rules them out before the cues are tried one by one in precedence order."""
    return re.compile("|".join(f"(?:{p.pattern})" for cue in _cues() for p in cue.patterns))


def detect_origin(conversation: Conversation, profile: BusinessProfile) -> OriginResult:
    """Where the lead came from, with the evidence, by the taxonomy's precedence."""
    # ``Message.is_inbound``, read directly: this runs on every analysis.
    inbound = [m for m in conversation.messages if m.direction is Direction.INBOUND]
    first = inbound[:FIRST_MESSAGES]
    texts = tuple(m.analysed_text for m in first)
    if profile.entry_points:
        found = _first_entry_point(texts, tuple(profile.entry_points.items()))
        if found is not None:
            return _entry_point_result(*found)
    for message in first:
        if message.referral is not None:
            result = origin_from_referral(message.referral)
            if result is not None:
                return result
    result = _campaign_context(conversation, inbound)
    if result is not None:
        return result
    result = _origin_from_texts(texts)
    if result is not None:
        return result
    return OriginResult(label=Origin.UNKNOWN, source=OriginSource.NONE, confidence=0.5)


def origin_from_referral(referral: Referral) -> OriginResult | None:
    """Origin from a webhook ``referral``: an ad, or a post on Facebook or Instagram.
    ``None`` when the object says nothing usable."""
    kind = (referral.source_type or "").strip().lower()
    url = referral.source_url or ""
    host = (urlparse(url).hostname or "").lower()
    on_instagram = (
        host == "instagram.com" or host.endswith(".instagram.com") or host == "instagr.am"
    )
    if kind == "ad" or (kind != "post" and referral.ctwa_clid):
        label = Origin.AD
    elif kind == "post" or host:
        label = Origin.INSTAGRAM if on_instagram else Origin.FACEBOOK
        if kind != "post" and not on_instagram and not _is_facebook_host(host):
            return None
    else:
        return None
    detail = referral.headline or url or referral.source_id or ""
    evidence = f"referral source_type={kind or 'none'}" + (f": {detail}" if detail else "")
    return OriginResult(
        label=label, source=OriginSource.REFERRAL_METADATA, evidence=evidence, confidence=1.0
    )


def _is_facebook_host(host: str) -> bool:
    return any(host == h or host.endswith("." + h) for h in ("facebook.com", "fb.com", "fb.me"))


def origin_from_entry_points(text: str, entry_points: dict[str, Origin]) -> OriginResult | None:
    """Origin from a configured prefilled text or code that ``text`` equals or starts
    with (case-, accent- and punctuation-insensitive, whole words). The longest
    configured match wins; entry points that do not match are no evidence."""
    found = _best_entry_point(text, tuple(entry_points.items()))
    return None if found is None else _entry_point_result(*found)


def _entry_point_result(key: str, origin: Origin | str) -> OriginResult:
    return OriginResult(
        label=Origin(origin),
        source=OriginSource.ENTRY_POINT,
        evidence=f"entry point: {key}",
        confidence=0.95,
    )


@lru_cache(maxsize=4096)
def _first_entry_point(
    texts: tuple[str, ...], entry_points: tuple[tuple[str, Origin | str], ...]
) -> tuple[str, Origin | str] | None:
    # The entry point of the first of the first messages that has one. Cached: the
    # first messages of a conversation are read again on every analysis.
    for text in texts:
        found = _best_entry_point(text, entry_points)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=4096)
def _best_entry_point(
    text: str, entry_points: tuple[tuple[str, Origin | str], ...]
) -> tuple[str, Origin | str] | None:
    """The longest configured entry point ``text`` equals or starts with, as
    ``(key, origin)``; the first configured one among equally long matches."""
    said = _normalized_words(text)
    if not said:
        return None
    best: tuple[int, str, Origin | str] | None = None
    for key, origin in entry_points:
        expected = _normalized_words(key)
        matches = bool(expected) and said[: len(expected)] == expected
        if matches and (best is None or len(expected) > best[0]):
            best = (len(expected), key, origin)
    return None if best is None else (best[1], best[2])


@lru_cache(maxsize=4096)
def _normalized_words(text: str) -> tuple[str, ...]:
    # The first messages and the entry points are read again on every analysis of
    # a conversation: their words are cached (a tuple, so no caller can alter them).
    return tuple(words(normalize(text)))


def _campaign_context(conversation: Conversation, inbound: list[Message]) -> OriginResult | None:
    # The conversation opened with the lead answering something the business sent.
    if not inbound:
        return None
    first = inbound[0]
    context = first.context
    if context is not None and (context.is_template_reply or context.campaign_payload):
        evidence = (
            f"campaign payload: {context.campaign_payload}"
            if context.campaign_payload
            else "reply to a template the business sent"
        )
        return OriginResult(
            label=Origin.CAMPAIGN,
            source=OriginSource.CAMPAIGN_CONTEXT,
            evidence=evidence,
            confidence=0.95,
        )
    opener = conversation.messages[0] if conversation.messages else None
    if _is_outbound_template(opener):
        return OriginResult(
            label=Origin.CAMPAIGN,
            source=OriginSource.CAMPAIGN_CONTEXT,
            evidence="the business opened the conversation with a template",
            confidence=0.8,
        )
    return None


def _is_outbound_template(message: Message | None) -> bool:
    return (
        message is not None
        and message.direction is Direction.OUTBOUND
        and message.type is MessageType.TEMPLATE
    )


def origin_from_text(texts: list[str]) -> OriginResult | None:
    """Origin from what the lead wrote, by the lexicon's precedence among cues
    (a paid ad beats the network it ran on). ``None`` when no cue is found."""
    # The first messages of a conversation do not change once written, and the
    # origin is re-read on every analysis of that conversation: cache by text.
    return _origin_from_texts(tuple(texts))


@lru_cache(maxsize=4096)
def _read_for_cues(text: str) -> tuple[str, bool]:
    # Per text: its normalised window and whether any cue can match it. The tuple of
    # first messages changes more often than each of its texts.
    normalized = normalize(text[:CUE_WINDOW])
    return normalized, _any_cue().search(normalized) is not None


@lru_cache(maxsize=4096)
def _origin_from_texts(texts: tuple[str, ...]) -> OriginResult | None:
    read = [_read_for_cues(t) for t in texts if t]
    if not any(hit for _, hit in read):
        return None
    normalized = [text for text, _ in read]
    for cue in _cues():
        for text in normalized:
            if any(x.search(text) for x in cue.excludes):
                continue
            for pattern in cue.patterns:
                match = pattern.search(text)
                if match:
                    quote = match.group(0).strip()
                    if cue.origin is Origin.UNKNOWN:
                        return OriginResult(
                            label=Origin.UNKNOWN,
                            source=OriginSource.TEXT,
                            evidence=quote,
                            confidence=0.5,
                        )
                    return OriginResult(
                        label=cue.origin, source=OriginSource.TEXT, evidence=quote, confidence=0.8
                    )
    return None
