"""Build the one request of an analysis: static part first, lead text fenced last.

The system message is the prompt's instructions plus the business block
(facts and templates): identical for every analysis of a business in a
language, so providers can cache that prefix. The user message holds the
clock, the metadata and the recent turns, cleaned, optionally redacted, and
fenced by a marker derived from their hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from copilot.engines.rules.normalize import normalize
from copilot.llm.safety import Redactor, clean, delimiter, escape_markers, guess_language
from copilot.llm.schema import compact_schema
from copilot.models import Conversation, Message, OriginResult
from copilot.profile import BusinessProfile, in_default
from copilot.prompts import Prompt
from copilot.taxonomy import Language, MessageType, Origin, OriginSource
from copilot.window import open_since

MAX_TURN_CHARS = 600
#: Template variables the model fills (the library fills the others).
SLOTS = ("question", "answer", "need", "next_step")


@dataclass
class Context:
    """The request's messages and what the engine needs to read the answer."""

    messages: list[dict[str, str]]
    language: Language
    window_open: bool
    lead_texts: list[str]
    message_ids: list[tuple[str, str]]  # (id, normalised text) of the lead's turns sent
    metadata_origin: OriginResult | None
    redactor: Redactor | None = None
    notes: list[str] = field(default_factory=list)


def window_open(conversation: Conversation, now: datetime) -> bool:
    """True when the lead wrote within the last 24 hours (free text may be sent).
    The lead's latest message by time, system messages aside, as in the
    conversation state; :mod:`copilot.window` decides (closed at exactly 24 hours)."""
    last = max(
        (
            m.timestamp
            for m in conversation.messages
            if m.is_inbound and m.type is not MessageType.SYSTEM
        ),
        default=None,
    )
    return open_since(last, now)


def metadata_origin(conversation: Conversation, profile: BusinessProfile) -> OriginResult | None:
    """The origin that explicit metadata proves, if any: a referral object, a configured
    entry point (prefilled text or code), a campaign or template reply. Metadata beats
    whatever the text or the model says."""
    inbound = conversation.inbound
    for message in inbound:
        referral = message.referral
        if referral is None:
            continue
        kind = (referral.source_type or "").lower()
        url = (referral.source_url or "").lower()
        if kind == "ad":
            label = Origin.AD
        elif kind == "post":
            label = Origin.INSTAGRAM if "instagram.com" in url else Origin.FACEBOOK
        else:
            continue
        return OriginResult(
            label=label, source=OriginSource.REFERRAL_METADATA, evidence=f"referral {kind}"
        )
    if inbound:
        first = (inbound[0].text or "").strip().casefold()
        for entry, origin in profile.entry_points.items():
            if first and first.startswith(entry.strip().casefold()):
                return OriginResult(
                    label=origin, source=OriginSource.ENTRY_POINT, evidence=f"entry point {entry}"
                )
    for message in inbound:
        context = message.context
        if context and (context.is_template_reply or context.campaign_payload):
            return OriginResult(
                label=Origin.CAMPAIGN,
                source=OriginSource.CAMPAIGN_CONTEXT,
                evidence="reply to a template or campaign",
            )
    return None


def _metadata_line(conversation: Conversation, found: OriginResult | None) -> str:
    if found is None:
        return "none"
    parts = [f"origin proven by {found.source.value}: {found.label.value}"]
    for message in conversation.inbound:
        if message.referral and message.referral.source_url:
            parts.append(f"referral host {urlparse(message.referral.source_url).netloc or '?'}")
            break
    return "; ".join(parts)


def _money(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value}"


def _default(profile: BusinessProfile, value: Any) -> Any:
    # The facts as the prompt has always shown them: in the profile's default language.
    return in_default(value, profile.default_language)


def business_block(profile: BusinessProfile, language: Language) -> str:
    """The business's facts and templates, the only things the reply may state."""
    facts = profile.facts
    lines = [
        f"Business: {profile.name}"
        + (f" ({profile.sector})" if profile.sector else "")
        + f", country {profile.country}, currency {profile.currency}.",
        "Facts (nothing else may be stated):",
    ]
    rows = {
        "address": facts.address,
        "hours": _default(profile, facts.hours_text),
        "prices": "; ".join(
            f"{_default(profile, p.item)} {_money(p.price)} {profile.currency}"
            + (f"/{_default(profile, p.unit)}" if p.unit else "")
            for p in facts.price_list
        ),
        "payment": ", ".join(_default(profile, facts.payment_methods) or []),
        "delivery areas": ", ".join(facts.delivery_areas),
        "delivery time": _default(profile, facts.delivery_time),
        "catalog": ", ".join(_default(profile, facts.catalog) or []),
        "website": facts.website,
        "map": facts.maps_url,
    }
    rows.update(facts.extra)
    lines += [f"- {name}: {clean(str(value))}" for name, value in rows.items() if value]
    lang = language if language != Language.UNDETERMINED else profile.default_language
    slots = ", ".join(f"{{{slot}}}" for slot in SLOTS)
    lines.append(f"Templates ({lang.value}; you fill only {slots}):")
    fixed = []
    for key, template in profile.templates.items():
        text = clean(template.text_for(lang))
        if any(f"{{{slot}}}" in text for slot in SLOTS):
            lines.append(f"- {key.value}: {text}")
        else:
            fixed.append(key.value)
    if fixed:
        lines.append(f"- fixed texts, no slots: {', '.join(fixed)}")
    return "\n".join(lines)


def _shared_unit(profile: BusinessProfile) -> str | None:
    """The unit every price shares, if they all share one."""
    units = {_default(profile, p.unit) for p in profile.facts.price_list}
    return units.pop() if len(units) == 1 else None


def _prices_label(profile: BusinessProfile) -> str:
    unit = _shared_unit(profile)
    return f"prices {profile.currency}" + (f" per {unit}" if unit else "")


def business_brief(profile: BusinessProfile, language: Language) -> str:
    """The business block of ``analyze@v2``: the same facts as :func:`business_block`,
    prices under one currency, and the template keys with the slots each text uses
    instead of the full texts (the library renders the text)."""
    facts = profile.facts
    shared = _shared_unit(profile)
    lines = [
        f"Business: {profile.name}"
        + (f" ({profile.sector})" if profile.sector else "")
        + f", {profile.country}, currency {profile.currency}.",
        "Facts (a reply states nothing else):",
    ]
    rows = {
        "address": facts.address,
        "hours": _default(profile, facts.hours_text),
        _prices_label(profile): "; ".join(
            f"{_default(profile, p.item)} {_money(p.price)}"
            + (f"/{_default(profile, p.unit)}" if p.unit and not shared else "")
            for p in facts.price_list
        ),
        "payment": ", ".join(_default(profile, facts.payment_methods) or []),
        "delivery areas": ", ".join(facts.delivery_areas),
        "delivery time": _default(profile, facts.delivery_time),
        "catalog": ", ".join(_default(profile, facts.catalog) or []),
        "website": facts.website,
        "map": facts.maps_url,
    }
    rows.update(facts.extra)
    lines += [f"- {name}: {clean(str(value))}" for name, value in rows.items() if value]
    lang = language if language != Language.UNDETERMINED else profile.default_language
    # Keys grouped by the slots their text uses: the library renders the text.
    groups: dict[str, list[str]] = {}
    for key, template in profile.templates.items():
        text = template.text_for(lang)
        slots = ", ".join(slot for slot in SLOTS if f"{{{slot}}}" in text) or "no slots"
        groups.setdefault(slots, []).append(key.value)
    lines.append("Template keys: their slots")
    lines += [f"- {', '.join(keys)}: {slots}" for slots, keys in groups.items()]
    return "\n".join(lines)


def _turn_text(message: Message) -> str:
    text = message.text or ""
    if not text and message.type.value != "text":
        text = f"[{message.type.value}]"
    text = clean(text).strip()[:MAX_TURN_CHARS]
    # One line per turn: a lead cannot start a fake "[business]" line of their own.
    return re.sub(r"\s*[\r\n]+\s*", " ⏎ ", text)


def build_context(
    prompt: Prompt,
    conversation: Conversation,
    profile: BusinessProfile,
    now: datetime,
    *,
    max_turns: int = 10,
    redact: bool = False,
    json_schema: type | None = None,
) -> Context:
    """The chat messages for one analysis, and what reading the answer needs."""
    recent = [m for m in conversation.messages if m.text or m.type.value != "text"][-max_turns:]
    redactor = Redactor() if redact else None
    turns: list[tuple[str, str, str]] = []  # (who, id, text as sent)
    originals: list[tuple[str, str]] = []  # (id, normalised text before redaction)
    for message in recent:
        text = _turn_text(message)
        if message.is_inbound:
            originals.append((message.id, normalize(text)))
        if redactor is not None:
            text = redactor.redact(text)
        who = "lead" if message.is_inbound else "business"
        turns.append((who, message.id, text))
    lead_texts = [text for who, _, text in turns if who == "lead"]
    guessed = guess_language(" ".join(lead_texts[-3:]))
    language = guessed if guessed != Language.UNDETERMINED else profile.default_language

    body_plain = "\n".join(f"[{who}] {text}" for who, _, text in turns)
    tag = delimiter(body_plain, salt=prompt.hash)
    body = "\n".join(f"[{who}] {escape_markers(text, tag)}" for who, _, text in turns)
    found = metadata_origin(conversation, profile)
    local = now.astimezone(profile.tz)
    is_open = window_open(conversation, now)
    system, user = prompt.render(
        business=business_block(profile, language),
        brief=business_brief(profile, language),
        now=local.strftime("%Y-%m-%d %H:%M %A"),
        open_state="open" if profile.is_open(now) else "closed",
        window_state="open" if is_open else "closed",
        metadata=_metadata_line(conversation, found),
        turn_count=str(len(turns)),
        start=f"<<<{tag}>>>",
        end=f"<<</{tag}>>>",
        turns=body,
    )
    if json_schema is not None:
        system += (
            "\n\nAnswer with one JSON object, no prose, matching this JSON schema:\n"
            + compact_schema(json_schema)
        )
    return Context(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        language=language,
        window_open=is_open,
        lead_texts=lead_texts,
        message_ids=originals,
        metadata_origin=found,
        redactor=redactor,
    )
