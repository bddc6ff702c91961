"""The one rule for a model's free text: may it become the suggested reply?

A language model may word a reply itself inside the 24-hour window. Before that
text can replace the library's own rendered reply, :func:`check_free_text` holds
it to the rules the library's replies follow:

- inside the window only (outside it, only an approved template may be sent);
- in the lead's language, with no fragment of another (the language identifier
  of :mod:`copilot.engines.rules.language` on the whole text and on each
  sentence, the same purity check the ``replies`` eval reports);
- grounded in the facts: every amount, clock hour, payment method and place it
  states is one the business facts hold (amounts compared after normalizing
  separators), and no price, date, link or promise that neither the facts nor
  the lead's words hold (:func:`copilot.llm.safety.unsupported_claims`);
- no unfilled ``{placeholder}``, no raw enum value ("visit", "business_answer");
- never the lead's own first-person words pasted back ("para mi apartamento");
- short, and no instructions repeated from the lead's text.

An empty list of problems means the text may be used.
"""

from __future__ import annotations

import re
from functools import lru_cache

from copilot.engines.rules.language import detect_language
from copilot.engines.rules.normalize import normalize, words
from copilot.facts import hours_phrase, named_payment_families
from copilot.llm.safety import injection_cues, number_values, unsupported_claims
from copilot.profile import BusinessProfile, all_versions
from copilot.taxonomy import Intent, Language, LostReason, NextStep, Stage, TemplateKey

#: Longest free text a model may write, in characters.
MAX_FREE_TEXT = 300

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_SENTENCES = re.compile(r"(?<=[.!?;:])\s+")
#: Words that make a lead's phrase their own ("para mi apartamento", "my house").
FIRST_PERSON = frozenset(
    {"mi", "mis", "yo", "me", "meu", "minha", "meus", "minhas", "eu", "my", "i", "im", "mine"}
)
#: A clock hour: "9am", "6 p.m.", "18:30", "18h", "9hs".
_CLOCK = re.compile(
    r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(a\.?\s?m\.?|p\.?\s?m\.?|hs?|hrs)(?![a-z])", re.I
)
#: A capitalized word after a preposition of place: a place the text names.
_PLACE = re.compile(
    r"\b(?:a|en|para|pra|em|no|na|to|in|hasta|ate|até)\s+"
    r"([A-ZÁÉÍÓÚÂÊÔÃÕÇÑ][\wáéíóúâêôãõçñü]+(?:\s+[A-ZÁÉÍÓÚÂÊÔÃÕÇÑ][\wáéíóúâêôãõçñü]+)*)"
)


def proper_names(profile: BusinessProfile) -> list[str]:
    """Names of the business and of places, longest first (they belong to no language)."""
    names = [profile.name, *profile.facts.delivery_areas]
    if profile.facts.address:
        names.append(profile.facts.address)
    return sorted(names, key=len, reverse=True)


def languages_found(text: str, profile: BusinessProfile) -> tuple[str, list[str]]:
    """The identifier's language of the whole ``text`` and of each sentence (names
    of the business and places removed): ``(whole, [language of each sentence])``."""
    plain = text
    for name in proper_names(profile):
        plain = plain.replace(name, " ")
    plain = re.sub(r"https?://\S+", " ", plain)
    sentences = [s for s in _SENTENCES.split(plain) if s.strip()]
    return detect_language(plain).value, [detect_language(s).value for s in sentences]


def is_pure(text: str, expected: str, profile: BusinessProfile) -> tuple[bool, bool, str]:
    """``(pure, identified, detail)``: no sentence identified as another language
    than ``expected`` and the whole not another language; ``identified`` when the
    whole text is identified as ``expected`` (short texts may be undetermined)."""
    whole, parts = languages_found(text, profile)
    others = sorted({p for p in parts if p not in (expected, "und")})
    whole_other = whole not in (expected, "und")
    pure = not others and not whole_other
    detail = "" if pure else f"language: whole {whole}, sentences {parts}"
    return pure, whole == expected, detail


def first_person_phrases(lead_texts: list[str]) -> list[str]:
    """Two- and three-word phrases of the lead's messages that hold a first-person
    word: a reply that repeats one echoes the lead's own words."""
    phrases: set[str] = set()
    for text in lead_texts:
        tokens = words(normalize(text))
        for size in (2, 3):
            for i in range(len(tokens) - size + 1):
                gram = tokens[i : i + size]
                if any(t in FIRST_PERSON for t in gram) and any(len(t) > 3 for t in gram):
                    phrases.add(" ".join(gram))
    return sorted(phrases)


def echoed(text: str, lead_texts: list[str]) -> list[str]:
    """The lead's first-person phrases that ``text`` repeats."""
    said = f" {' '.join(words(normalize(text)))} "
    return [p for p in first_person_phrases(lead_texts) if f" {p} " in said]


@lru_cache(maxsize=1)
def _enum_values() -> frozenset[str]:
    values: set[str] = set()
    for enum in (Intent, NextStep, Stage, LostReason, TemplateKey):
        values.update(member.value for member in enum)
    return frozenset(values)


def raw_enum_values(text: str, language: str) -> list[str]:
    """Enum values written as such: any snake_case value, and in a reply that is not
    English, a one-word English value ("Podemos agendar visit")."""
    found = []
    tokens = set(re.findall(r"[a-z_]+", text.lower()))
    for value in sorted(_enum_values() & tokens):
        if "_" in value or language != "en":
            found.append(value)
    return found


def _facts_numbers(profile: BusinessProfile) -> set[str]:
    """Every number the facts hold, in the canonical form of ``number_values``."""
    facts = profile.facts
    texts = [facts.address or "", *all_versions(facts.hours_text)]
    texts += all_versions(facts.delivery_time) + all_versions(facts.value)
    texts += [f"{k} {v}" for k, v in facts.extra.items()]
    for item in facts.price_list:
        texts += [*all_versions(item.item), *all_versions(item.note)]
    numbers = number_values(" ".join(texts))
    for item in facts.price_list:
        numbers.add(str(int(item.price)) if float(item.price).is_integer() else str(item.price))
    return numbers


def _hour_numbers(profile: BusinessProfile) -> set[int]:
    texts = list(all_versions(profile.facts.hours_text))
    for language in (Language.ES, Language.PT, Language.EN):
        texts.append(hours_phrase(profile, language))
    hours: set[int] = set()
    for number in re.findall(r"\d{1,2}(?=\s*(?::\d{2}|h|a\.?m|p\.?m|\b))", " ".join(texts)):
        hours.add(int(number))
    return hours


def ungrounded_facts(text: str, profile: BusinessProfile) -> list[str]:
    """Amounts, hours, payment methods and places in ``text`` that the facts do not hold."""
    problems: list[str] = []
    plain = re.sub(r"(?:https?://|www\.)\S+", " ", text)
    known = _facts_numbers(profile)
    # Amounts (four digits or more once separators are gone): only the facts' own.
    for number in sorted(number_values(_CLOCK.sub(" ", plain))):
        if len(number) >= 4 and number not in known:
            problems.append(f"an amount not in the facts: {number}")
    hours = _hour_numbers(profile)
    for match in _CLOCK.finditer(plain):
        hour = int(match.group(1))
        pm = match.group(3).lower().startswith("p") and hour < 12
        if hour not in hours and not (pm and hour + 12 in hours):
            problems.append(f"an hour not in the facts: {match.group(0).strip()}")
    methods = " ".join(all_versions(profile.facts.payment_methods))
    accepted = named_payment_families(methods)
    for family in sorted(named_payment_families(plain) - accepted):
        problems.append(f"a payment method not in the facts: {family}")
    corpus = normalize(
        " ".join(
            [
                *proper_names(profile),
                *all_versions(profile.facts.catalog),
                *[name for item in profile.facts.price_list for name in all_versions(item.item)],
            ]
        )
    )
    for match in _PLACE.finditer(plain):
        place = match.group(1)
        if normalize(place) not in corpus and not normalize(place).isdigit():
            problems.append(f"a place not in the facts: {place}")
    return problems


def check_free_text(
    text: str,
    *,
    language: str,
    profile: BusinessProfile,
    lead_texts: list[str],
    window_open: bool,
) -> list[str]:
    """Why a model's free text may not become the suggested reply; empty when it may.

    ``language`` is the reply's language code (the lead's), ``lead_texts`` the
    lead's messages, ``window_open`` whether the 24-hour window is open now."""
    if not window_open:
        return ["the 24 h window is closed"]
    text = text.strip()
    if not text:
        return ["empty"]
    if len(text) > MAX_FREE_TEXT:
        return [f"longer than {MAX_FREE_TEXT} characters"]
    problems: list[str] = []
    whole, parts = languages_found(text, profile)
    if whole not in (language, "und"):
        problems.append(f"written in {whole}, the lead writes {language}")
    else:
        others = sorted({p for p in parts if p not in (language, "und")})
        if others:
            problems.append(f"a fragment in {', '.join(others)}, the lead writes {language}")
    problems += ungrounded_facts(text, profile)
    amounts = {p.rsplit(": ", 1)[1] for p in problems if p.startswith("an amount")}
    for problem in unsupported_claims(text, profile, lead_texts):
        if problem.startswith("a number") and problem.rsplit(": ", 1)[1] in amounts:
            continue  # already reported as an amount the facts do not hold
        problems.append(problem)
    if PLACEHOLDER.search(text):
        problems.append(f"an unfilled placeholder: {PLACEHOLDER.search(text).group(0)}")
    if raw := raw_enum_values(text, language):
        problems.append(f"a raw value: {', '.join(raw)}")
    if repeated := echoed(text, lead_texts):
        problems.append(f"it echoes the lead's words: {repeated[0]}")
    if injection_cues(text):
        problems.append("it repeats instructions")
    return problems
