"""Answering a lead from the business's own facts, and nothing else.

The profile's ``facts`` (hours, address, price list, payment methods, delivery
areas and time, catalog) and ``business_hours`` are the only source. When a
lead asks something those facts do not settle (a product not on the price
list, a city outside the delivery areas, a payment method not listed), the
answer is ``None``: the copilot says nothing rather than guess, and the reply
falls back to another template. A payment method the profile does not list is
answered with the list of the methods it does (a fact, not a guess).

Wording per language and the topic cues live in ``data/replies.toml``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from copilot.engines.rules.normalize import normalize, words
from copilot.models import QualificationFields
from copilot.profile import BusinessProfile, PriceItem, versions
from copilot.render import render
from copilot.taxonomy import Intent, Language

#: Intents whose lines are never answered from facts, whatever words they use
#: ("¿dónde está mi pedido?" asks about an order, not the address).
NOT_FACT_INTENTS = frozenset(
    {
        Intent.ORDER_STATUS,
        Intent.SUPPORT,
        Intent.COMPLAINT,
        Intent.HUMAN_REQUEST,
        Intent.OPT_OUT,
        Intent.SPAM,
    }
)

#: Topics a lead may ask about that the facts can answer.
TOPICS = ("hours", "address", "prices", "payment", "delivery", "catalog")

_PREPOSITIONS = frozenset(
    {"a", "al", "en", "para", "hasta", "em", "pra", "ao", "no", "na", "to", "in"}
)


@cache
def _data() -> dict[str, Any]:
    source = resources.files("copilot") / "data" / "replies.toml"
    return tomllib.loads(source.read_text(encoding="utf-8"))


def answer_language(language: Language | str | None, profile: BusinessProfile) -> Language:
    """The language to answer in: the lead's, or the profile's default for ``und``."""
    try:
        lang = Language(language) if language else Language.UNDETERMINED
    except ValueError:
        lang = Language.UNDETERMINED
    return profile.default_language if lang is Language.UNDETERMINED else lang


def wording(language: Language) -> dict[str, Any]:
    """The reply wording for ``language`` (Spanish for anything unknown)."""
    data = _data()
    return data.get(language.value) or data["es"]


def _phrase_text(text: str) -> str:
    # Words joined by single spaces and padded, so " cue " finds whole words only.
    return f" {' '.join(words(normalize(text)))} "


def _has_any(padded: str, phrases: list[str]) -> bool:
    # The cue lists are those of the cached ``_data()`` (never altered): their pattern
    # is found by identity, without building and hashing a tuple of every phrase.
    entry = _BY_LIST.get(id(phrases))
    if entry is None or entry[0] is not phrases:
        entry = (phrases, _phrases_pattern(tuple(phrases)))
        _BY_LIST[id(phrases)] = entry  # keeps the list alive, so its id is never reused
    return entry[1].search(padded) is not None


_BY_LIST: dict[int, tuple[list[str], re.Pattern[str]]] = {}


@lru_cache(maxsize=256)
def _phrases_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # One compiled alternation per cue list instead of one substring test per
    # phrase: the fact cues are checked on every analysis. The lookarounds match
    # the padding spaces without consuming them, like the " phrase " test did.
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(f"(?<= )(?:{alternatives})(?= )") if phrases else re.compile(r"(?!)")


_CueIndex = dict[str, tuple[tuple[str, tuple[str, ...]], ...]]


@cache
def _cue_index() -> _CueIndex:
    """Every cue phrase :func:`_topics` reads, by its first word, as ``(list, the words
    after the first)``; the lists are the topics, ``not_facts``, ``payment_verbs`` and
    ``family`` (any payment family).

    A phrase is found in a padded text (" w1 w2 ... ") exactly when its words are
    consecutive words of the text: what " phrase " in the padded text means."""
    data = _data()
    cues = data["cues"]
    lists = [
        ("not_facts", cues["not_facts"]),
        *((topic, cues[topic]) for topic in TOPICS),
        ("payment_verbs", cues["payment_verbs"]),
        *(("family", aliases) for aliases in data["payment_families"].values()),
    ]
    index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for name, phrases in lists:
        for phrase in phrases:
            if not phrase.strip():
                raise ValueError(f"replies.toml: an empty cue phrase in {name!r}")
            first, *rest = phrase.split(" ")
            index.setdefault(first, []).append((name, tuple(rest)))
    return {first: tuple(entries) for first, entries in index.items()}


def _cue_lists(tokens: list[str], index: _CueIndex) -> set[str]:
    """The cue lists of ``index`` with a phrase found in ``tokens``."""
    found: set[str] = set()
    for i, token in enumerate(tokens):
        for name, rest in index.get(token, ()):
            if name not in found and (not rest or tuple(tokens[i + 1 : i + 1 + len(rest)]) == rest):
                found.add(name)
    return found


def topics(text: str) -> set[str]:
    """Which fact topics a line asks about (by the cues in ``replies.toml``)."""
    return set(_topics(text))


@lru_cache(maxsize=4096)
def _topics(text: str) -> frozenset[str]:
    # Cached by text: the same lines are asked about again on every re-analysis.
    padded = _phrase_text(text)
    # One pass over the words finds every cue list at once (see _cue_index).
    lists = _cue_lists(padded.split(), _cue_index())
    if "not_facts" in lists:
        return frozenset()
    found = {topic for topic in TOPICS if topic in lists}
    # A named payment method is a payment question with a verb ("aceptan nequi")
    # or a question mark ("¿con nequi?"); "do you accept returns?" names none.
    if "payment" not in found and "family" in lists and ("?" in text or "payment_verbs" in lists):
        found.add("payment")
    return frozenset(found)


# --- formatting -------------------------------------------------------------

_SYMBOLS = {
    "COP": "$",
    "MXN": "$",
    "ARS": "$",
    "CLP": "$",
    "USD": "US$",
    "BRL": "R$",
    "EUR": "€",
    "PEN": "S/",
    "UYU": "$U",
    "GTQ": "Q",
    "PYG": "₲",
    "BOB": "Bs",
    "CRC": "₡",
    "DOP": "RD$",
    "VES": "Bs.",
}
#: Countries that group thousands with a comma (1,890,000); the rest use a dot.
_COMMA_GROUPING = frozenset({"MX", "US", "GT", "DO", "PA", "SV", "HN", "NI", "PR", "PE", "GB"})


def format_money(amount: float, currency: str, country: str) -> str:
    """A price as people in ``country`` write it: ``$1.890.000 COP``, ``R$ 99,90``, ``1.200 €``.

    Whole amounts show no decimals; others show two.
    """
    decimals = 0 if float(amount).is_integer() else 2
    raw = f"{amount:,.{decimals}f}"  # 1,890,000.50
    if country not in _COMMA_GROUPING:
        raw = raw.replace(",", "\0").replace(".", ",").replace("\0", ".")
    symbol = _SYMBOLS.get(currency)
    if symbol is None:
        return f"{raw} {currency}"
    if currency == "EUR":
        return f"{raw} €"
    if symbol == "$":
        return f"${raw} {currency}"
    return f"{symbol} {raw}"


def _clock(value: time) -> str:
    if value >= time(23, 59):
        return "24:00"
    return f"{value.hour}:{value.minute:02d}"


def _join(items: list[str], language: Language) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + wording(language)["list_and"] + items[-1]


def hours_phrase(profile: BusinessProfile, language: Language) -> str:
    """Opening hours in words. The profile's ``hours_text`` in the lead's language
    when it has one, else built from ``business_hours`` in the lead's language."""
    return _hours_phrase(ProfileKey(profile), language)


@lru_cache(maxsize=256)
def _hours_phrase(key: ProfileKey, language: Language) -> str:
    # Cached per profile and language: it reads nothing else.
    profile = key.profile
    written = versions(profile.facts.hours_text, profile.default_language).get(language.value)
    if written:
        return str(written)
    words_ = wording(language)
    names = words_["weekdays"]
    groups: list[tuple[int, int, str]] = []
    for day in range(7):
        spans = profile.business_hours.spans_for(day)
        if not spans:
            continue
        text = words_["span_join"].join(
            render(words_["span"], {"start": _clock(s.start), "end": _clock(s.end)}) for s in spans
        )
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == text:
            groups[-1] = (groups[-1][0], day, text)
        else:
            groups.append((day, day, text))
    parts = []
    for first, last, text in groups:
        days = (
            names[first]
            if first == last
            else render(words_["day_range"], {"first": names[first], "last": names[last]})
        )
        parts.append(f"{days} {text}")
    return ", ".join(parts)


def next_opening(profile: BusinessProfile, now: datetime, language: Language) -> str:
    """When the business next opens after ``now``, in words: "mañana a las 9:00",
    "el lunes a las 10:00", "today at 15:00"; ``""`` when it never opens."""
    local = now.astimezone(profile.tz)
    words_ = wording(language)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        for span in sorted(profile.business_hours.spans_for(day.weekday()), key=lambda s: s.start):
            start = datetime.combine(day, span.start, tzinfo=profile.tz)
            if start <= local:
                continue
            clock = _clock(span.start)
            if offset == 0:
                return render(words_["today_at"], {"time": clock})
            if offset == 1:
                return render(words_["tomorrow_at"], {"time": clock})
            name = words_["weekdays"][day.weekday()]
            return render(words_["weekday_at"], {"day": name, "time": clock})
    return ""


def response_time_phrase(minutes: int, language: Language) -> str:
    """The first-response SLA in words: "15 minutos", "1 hora", "2 days"."""
    w = wording(language)
    if minutes % (24 * 60) == 0:
        n, one, many = minutes // (24 * 60), w["day"], w["days"]
    elif minutes % 60 == 0:
        n, one, many = minutes // 60, w["hour"], w["hours"]
    else:
        n, one, many = minutes, w["minute"], w["minutes"]
    return f"{n} {one if n == 1 else many}"


# --- answering ----------------------------------------------------------------


def _stem(token: str) -> str:
    # Crude plural folding, enough to match "sofás"/"camas"/"escritorios" to list items.
    if len(token) > 4 and token.endswith("es"):
        return token[:-2]
    if len(token) > 3 and token.endswith("s"):
        return token[:-1]
    return token


class _NoVersion(Exception):
    """A fact the reply needs has no version in the reply's language."""


def _local(value: Any, profile: BusinessProfile, language: Language) -> Any:
    """The version of a fact in ``language``; raises :class:`_NoVersion` when it has
    none (the whole reply then falls back to the default language)."""
    found = versions(value, profile.default_language).get(language.value)
    if found is None:
        raise _NoVersion
    return found


def _optional(value: Any, profile: BusinessProfile, language: Language) -> Any:
    return None if value is None else _local(value, profile, language)


#: Words too common to tell one price-list item from another.
_NOT_DISTINCTIVE = frozenset(
    {"con", "para", "por", "the", "with", "and", "com", "sem", "del", "das", "dos", "for"}
)


def _name_tokens(name: str) -> set[str]:
    return {
        _stem(t)
        for t in words(normalize(name))
        if len(t) >= 3 and not t.isdigit() and t not in _NOT_DISTINCTIVE
    }


@lru_cache(maxsize=1024)
def _head_of(name: str) -> str | None:
    # The first word of the name that is not a number: "sofa" of "Sofá 3 puestos".
    for token in words(normalize(name)):
        if len(token) >= 3 and not token.isdigit():
            return _stem(token)
    return None


_ItemKey = tuple[str | None, tuple[frozenset[str], ...]]


@lru_cache(maxsize=64)
def _item_keys(key: ProfileKey) -> tuple[_ItemKey, ...]:
    """Per price-list item: the head word of its default-language name, and for
    each of its names (every language) and aliases the words that tell it from
    the other items (the business's own name excluded, so "hola Muebles Roble"
    names no item)."""
    profile = key.profile
    own = _name_tokens(profile.name)
    default = profile.default_language
    per_item: list[tuple[str | None, list[set[str]]]] = []
    for item in profile.facts.price_list:
        names = [str(v) for v in versions(item.item, default).values()]
        head_name = versions(item.item, default).get(default.value) or names[0]
        per_item.append(
            (_head_of(str(head_name)), [_name_tokens(n) - own for n in [*names, *item.aliases]])
        )
    counts: dict[str, int] = {}
    for _, names in per_item:
        for token in set().union(*names):
            counts[token] = counts.get(token, 0) + 1
    return tuple(
        (head, tuple(frozenset(t for t in n if counts[t] == 1) for n in names))
        for head, names in per_item
    )


def _matching_items(text: str, profile: BusinessProfile) -> list[PriceItem]:
    """Items named by ``text``: the head word of the item's name ("sofá"), or every
    distinctive word of one of its names or aliases ("3 seater sofa")."""
    stems = {_stem(token) for token in words(normalize(text))}
    found = []
    for item, (head, names) in zip(
        profile.facts.price_list, _item_keys(ProfileKey(profile)), strict=True
    ):
        if (head is not None and head in stems) or any(n and n <= stems for n in names):
            found.append(item)
    return found


def need_phrase(need: str, profile: BusinessProfile, language: Language) -> str | None:
    """The business's own words for a lead's ``need``, in ``language``: the one
    price-list item or catalog entry it names ("cotizar muebles a medida para mi
    apartamento" -> "muebles a medida"); ``None`` when it names none (or none
    with a version in ``language``). The lead's words are never given back."""
    items = _matching_items(need, profile)
    if len(items) == 1:
        name = versions(items[0].item, profile.default_language).get(language.value)
        if isinstance(name, str):
            return name[:1].lower() + name[1:] if name[1:2].islower() else name
    stems = {_stem(t) for t in words(normalize(need))}
    catalog = versions(profile.facts.catalog, profile.default_language)
    for entries in catalog.values():
        for i, entry in enumerate(entries):  # type: ignore[union-attr]
            tokens = _name_tokens(str(entry))
            if tokens and tokens <= stems:
                wanted = catalog.get(language.value)
                if isinstance(wanted, list) and i < len(wanted):
                    return str(wanted[i])
                return None
    return None


_OF = frozenset({"de", "del", "do", "da", "dos", "das", "of", "for", "para", "pra"})


def _asks_price_list(text: str) -> bool:
    """The whole price list is asked for: a price-list cue not followed by "of X"
    ("lista de precios" yes, "precios de la mesa de centro" no: that names an item)."""
    tokens = words(normalize(text))
    padded = f" {' '.join(tokens)} "
    for cue in _data()["cues"]["price_list"]:
        at = padded.find(f" {cue} ")
        if at < 0:
            continue
        after = padded[at + len(cue) + 2 :].split()
        if not any(token in _OF for token in after):
            return True
    return False


def money_for(amount: float, profile: BusinessProfile, language: Language) -> str:
    """An amount in the business's currency, grouped as the reply's language writes
    it: English groups thousands with commas, Portuguese with dots, Spanish as the
    business's country does (1,890,000 in Mexico, 1.890.000 in Colombia)."""
    if language is Language.EN:
        country = "US"
    elif language is Language.PT:
        country = "BR"
    else:
        country = profile.country
    return format_money(amount, profile.currency, country)


def _price_line(item: PriceItem, profile: BusinessProfile, language: Language) -> str:
    name = _local(item.item, profile, language)
    line = f"{name}: {money_for(item.price, profile, language)}"
    unit = _optional(item.unit, profile, language)
    if unit:
        line += " " + render(wording(language)["per_unit"], {"unit": unit})
    note = _optional(item.note, profile, language)
    if note:
        line += f" ({note})"
    return line


def _answer_prices(
    text: str, profile: BusinessProfile, language: Language, need: str | None
) -> str | None:
    items = _matching_items(text, profile)
    if not items and need is not None:
        items = _matching_items(need, profile)
    if not items and _asks_price_list(text):
        items = list(profile.facts.price_list)  # "lista de precios": the whole list
    if not items:
        return None  # a price we do not hold is never guessed
    prices = "; ".join(_price_line(item, profile, language) for item in items)
    return render(wording(language)["answer"]["prices"], {"prices": prices})


#: Payment families that are terms of payment rather than a method: when the
#: profile does not list them, the method list does not answer the question.
_PAYMENT_TERMS = frozenset({"installments"})


def named_payment_families(text: str) -> set[str]:
    """The payment method families ``text`` names ("nequi", "card", "cash" ...)."""
    return _named_payment_families(_phrase_text(text))


def _named_payment_families(padded: str) -> set[str]:
    families = _data()["payment_families"]
    return {name for name, aliases in families.items() if _has_any(padded, aliases)}


def _answer_payment(text: str, profile: BusinessProfile, language: Language) -> str | None:
    if not profile.facts.payment_methods:
        return None
    methods = list(_local(profile.facts.payment_methods, profile, language))
    answer = wording(language)["answer"]
    listed = _join(methods, language)
    named = _named_payment_families(_phrase_text(text))
    if not named:
        return render(answer["payment"], {"methods": listed})
    families = _data()["payment_families"]
    matched = []
    for family in sorted(named):
        hits = [m for m in methods if _has_any(_phrase_text(m), families[family])]
        if not hits:
            if family in _PAYMENT_TERMS:
                return None  # installments are terms, not a method: the list says nothing
            # Not listed: no "yes" and no made-up "no"; the list of the methods the
            # business accepts answers the question from the facts alone.
            return render(answer["payment"], {"methods": listed})
        matched.extend(h for h in hits if h not in matched)
    return render(answer["payment_yes"], {"method": _join(matched, language), "methods": listed})


def _asked_place(tokens: list[str]) -> str | None:
    """A place named after a preposition that follows a delivery cue ("envían a medellin")."""
    cue_words, skip = _place_words()
    start = next((i for i, t in enumerate(tokens) if t in cue_words), None)
    if start is None:
        return None
    for i in range(start + 1, len(tokens) - 1):
        if tokens[i] not in _PREPOSITIONS:
            continue
        for token in tokens[i + 1 :]:
            if token in skip or token in _PREPOSITIONS:
                continue
            if token.isalpha() and len(token) >= 3:
                return token
            break
    return None


@cache
def _place_words() -> tuple[frozenset[str], frozenset[str]]:
    """The words of the delivery cues (prepositions aside), and the words that are
    never a place; built once from the cached wording data."""
    cues = _data()["cues"]
    cue_words = frozenset({w for cue in cues["delivery"] for w in cue.split()} - _PREPOSITIONS)
    return cue_words, frozenset(cues["not_places"]) | cue_words


@lru_cache(maxsize=1024)
def _words_of(text: str) -> str:
    # Cached: the delivery areas and the lead's city are compared on every delivery question.
    return " ".join(words(normalize(text)))


def _delivery_areas_sentence(profile: BusinessProfile, language: Language) -> str:
    areas = _join(profile.facts.delivery_areas, language)
    return render(wording(language)["answer"]["delivery_other"], {"areas": areas})


def _answer_delivery(
    text: str, profile: BusinessProfile, language: Language, city: str | None
) -> str | None:
    facts = profile.facts
    if not facts.delivery_areas:
        return None
    answer = wording(language)["answer"]
    padded = _phrase_text(text)
    covered = [a for a in facts.delivery_areas if f" {_words_of(a)} " in padded]
    if not covered:
        if _asked_place(padded.split()):
            return None  # a place the delivery list does not name: never promise it
        if city is not None and _words_of(city):
            # The lead's city is known: the answer is about it, covered or not.
            covered = [a for a in facts.delivery_areas if _words_of(a) == _words_of(city)]
            if not covered:
                return None
    if covered:
        sentence = render(answer["delivery_yes"], {"city": _join(covered, language)})
    else:
        sentence = render(
            answer["delivery_areas"], {"areas": _join(facts.delivery_areas, language)}
        )
    delivery_time = _optional(facts.delivery_time, profile, language)
    if delivery_time:
        sentence += " " + render(answer["delivery_time"], {"delivery_time": delivery_time})
    return sentence


def _answer_hours(profile: BusinessProfile, language: Language) -> str | None:
    hours = hours_phrase(profile, language)
    return render(wording(language)["answer"]["hours"], {"hours": hours}) if hours else None


def _answer_address(profile: BusinessProfile, language: Language) -> str | None:
    facts = profile.facts
    if not facts.address:
        return None
    answer = wording(language)["answer"]
    text = render(answer["address"], {"address": facts.address})
    if facts.maps_url:
        text += " " + render(answer["maps"], {"maps_url": facts.maps_url})
    return text


def _answer_catalog(profile: BusinessProfile, language: Language) -> str | None:
    if not profile.facts.catalog:
        return None
    catalog = _join(list(_local(profile.facts.catalog, profile, language)), language)
    return render(wording(language)["answer"]["catalog"], {"catalog": catalog})


class ProfileKey:
    """A profile as part of a cache key: equal only to the very same profile object.

    Profiles are unhashable pydantic models. The key holds its profile, so while an
    entry lives the profile's ``id`` cannot be reused by another one; a profile is
    treated as read-only once it analyses (edits make a new one, ``model_copy``)."""

    __slots__ = ("profile",)

    def __init__(self, profile: BusinessProfile) -> None:
        self.profile = profile

    def __hash__(self) -> int:
        return id(self.profile)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProfileKey) and other.profile is self.profile


@dataclass(frozen=True)
class FactAnswer:
    """What the facts say to a lead's line.

    ``text`` answers every topic the facts cover and, for a topic they do not
    (an unlisted city or product), says what is known (the cities served, the
    offer of a quote); ``complete`` is True when every asked topic was answered.
    ``language`` is the language of the whole text: the one asked for, or the
    profile's default when a fact needed has no version in it."""

    text: str
    language: Language
    complete: bool
    asked: frozenset[str]
    answered: frozenset[str]


def fact_answer(
    text: str | None,
    profile: BusinessProfile,
    language: Language,
    intent: Intent | None = None,
    fields: QualificationFields | None = None,
) -> FactAnswer | None:
    """What the profile's facts say to ``text`` (see :class:`FactAnswer`); ``None``
    when the line asks nothing the facts are about, or asks about an
    order/support/complaint (by ``intent``)."""
    if not text or not text.strip() or (intent is not None and intent in NOT_FACT_INTENTS):
        return None
    asked = _topics(text)
    if not asked:
        return None
    # Of the fields, only the need (prices) and the city (delivery) are read.
    need = None
    if "prices" in asked and fields and fields.need and isinstance(fields.need.value, str):
        need = fields.need.value
    city = None
    if "delivery" in asked and fields and fields.city and isinstance(fields.city.value, str):
        city = fields.city.value
    return _cached_answer(text, ProfileKey(profile), language, need, city)


def answer_question(
    text: str | None,
    profile: BusinessProfile,
    language: Language,
    intent: Intent | None = None,
    fields: QualificationFields | None = None,
) -> str | None:
    """The answer to ``text`` built only from the profile's facts, or ``None``.

    ``None`` when the line asks nothing the facts cover, when it asks about an
    order/support/complaint (by ``intent``), or when any topic it asks about
    has no answer in the facts (an unlisted product or city): the full answer
    or none (:func:`fact_answer` gives what is known too).
    """
    found = fact_answer(text, profile, language, intent, fields)
    return found.text if found is not None and found.complete else None


@lru_cache(maxsize=4096)
def _cached_answer(
    text: str, key: ProfileKey, language: Language, need: str | None, city: str | None
) -> FactAnswer | None:
    # Cached on everything the answer reads: the same questions come back on every
    # re-analysis of a conversation and across leads.
    profile = key.profile
    asked = _topics(text)
    try:
        return _answer(text, asked, profile, language, need, city)
    except _NoVersion:
        # A fact lacks the lead's language: the whole reply in the default language.
        if language is profile.default_language:
            raise
        return _answer(text, asked, profile, profile.default_language, need, city)


def _answer(
    text: str,
    asked: frozenset[str],
    profile: BusinessProfile,
    language: Language,
    need: str | None,
    city: str | None,
) -> FactAnswer | None:
    parts: list[str] = []
    answered: set[str] = set()
    for topic in TOPICS:  # a stable order: hours, address, prices, payment, delivery, catalog
        if topic not in asked:
            continue
        if topic == "hours":
            part = _answer_hours(profile, language)
        elif topic == "address":
            part = _answer_address(profile, language)
        elif topic == "prices":
            part = _answer_prices(text, profile, language, need)
        elif topic == "payment":
            part = _answer_payment(text, profile, language)
        elif topic == "delivery":
            part = _answer_delivery(text, profile, language, city)
        else:
            part = _answer_catalog(profile, language)
        if part is not None:
            parts.append(part)
            answered.add(topic)
            continue
        known = _known(topic, asked, profile, language)
        if known:
            parts.append(known)
    if not parts:
        return None
    return FactAnswer(
        " ".join(parts), language, answered == set(asked), frozenset(asked), frozenset(answered)
    )


def _known(
    topic: str, asked: frozenset[str], profile: BusinessProfile, language: Language
) -> str | None:
    """What the facts do say about a topic they cannot answer: the cities served
    for an unlisted city, the offer of a quote for an unlisted product."""
    answer = wording(language)["answer"]
    if topic == "delivery" and profile.facts.delivery_areas:
        return _delivery_areas_sentence(profile, language)
    if topic == "prices" and asked == {"prices"}:
        return answer["price_unknown"]
    return None
