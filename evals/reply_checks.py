"""The checks of a ``replies`` case (docs/datasets.md) and their figures.

Every reply is checked for: the template expected; the facts that must appear
(amounts compared after removing thousands separators, so "1.890.000" and
"1,890,000" are equal); the fragments that must not (other-language words, raw
enum values); no unfilled ``{placeholder}``; a maximum length; none of the
lead's own first-person phrases; one language (the language identifier of
:mod:`copilot.engines.rules.language` on the whole reply and on each sentence,
names of places and of the business removed first); and no stale promise (the
response-time promise offered once the lead has waited longer than it).
"""

from __future__ import annotations

import re
from typing import Any

from copilot.engines.rules.language import detect_language
from copilot.engines.rules.normalize import normalize, words
from copilot.evals.items import ReplyItem
from copilot.profile import BusinessProfile
from copilot.taxonomy import Language

_AMOUNT = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_SENTENCES = re.compile(r"(?<=[.!?;:])\s+")
#: Words that make a lead's phrase their own ("para mi apartamento", "my house").
_FIRST_PERSON = frozenset(
    {"mi", "mis", "yo", "me", "meu", "minha", "meus", "minhas", "eu", "my", "i", "im", "mine"}
)


def amounts_plain(text: str) -> str:
    """``text`` with thousands separators removed from amounts (1.890.000 -> 1890000)."""
    return _AMOUNT.sub(lambda m: re.sub(r"[.,]", "", m.group(0)), text)


def contains(text: str, fragment: str) -> bool:
    """``fragment`` in ``text``: case-insensitive, whole words when it starts and
    ends with a letter or digit, amounts compared without separators."""
    haystack, needle = amounts_plain(text).casefold(), amounts_plain(fragment).casefold().strip()
    if not needle:
        return False
    if needle[0].isalnum() and needle[-1].isalnum():
        return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None
    return needle in haystack


def first_person_phrases(item: ReplyItem) -> list[str]:
    """Two- and three-word phrases of the lead's messages that hold a first-person
    word: a reply that repeats one echoes the lead's own words."""
    phrases: set[str] = set()
    for turn in item.messages:
        if turn.sender != "lead":
            continue
        tokens = words(normalize(turn.text))
        for size in (2, 3):
            for i in range(len(tokens) - size + 1):
                gram = tokens[i : i + size]
                if any(t in _FIRST_PERSON for t in gram) and any(len(t) > 3 for t in gram):
                    phrases.add(" ".join(gram))
    return sorted(phrases)


def _proper_names(profile: BusinessProfile) -> list[str]:
    names = [profile.name, *profile.facts.delivery_areas]
    if profile.facts.address:
        names.append(profile.facts.address)
    return sorted(names, key=len, reverse=True)


def languages_found(text: str, profile: BusinessProfile) -> tuple[Language, list[str]]:
    """The identifier's language of the whole ``text`` and of each sentence (names
    of the business and places removed): ``(whole, [language of each sentence])``."""
    plain = text
    for name in _proper_names(profile):
        plain = plain.replace(name, " ")
    plain = re.sub(r"https?://\S+", " ", plain)
    sentences = [s for s in _SENTENCES.split(plain) if s.strip()]
    return detect_language(plain), [detect_language(s).value for s in sentences]


def is_pure(text: str, expected: str, profile: BusinessProfile) -> tuple[bool, bool, str]:
    """``(pure, identified, detail)``: no sentence identified as another language
    than ``expected`` and the whole not another language; ``identified`` when the
    whole reply is identified as ``expected`` (short replies may be undetermined)."""
    whole, parts = languages_found(text, profile)
    others = sorted({p for p in parts if p not in (expected, Language.UNDETERMINED.value)})
    whole_other = whole.value not in (expected, Language.UNDETERMINED.value)
    pure = not others and not whole_other
    detail = "" if pure else f"language: whole {whole.value}, sentences {parts}"
    return pure, whole.value == expected, detail


def check_case(
    item: ReplyItem, prediction: dict[str, Any], profile: BusinessProfile
) -> dict[str, Any]:
    """Every check of one case: ``{"problems": [...], "answered": bool|None,
    "pure": bool, "identified": bool, "stale": bool, "fitting": bool|None,
    "template_ok": bool|None}`` (``None`` where the check does not apply)."""
    gold = item.gold
    text = prediction.get("text") or ""
    problems: list[str] = []
    if prediction.get("error"):
        problems.append(prediction["error"])
    template_ok = None
    if gold.template is not None:
        allowed = {gold.template, *gold.also}
        template_ok = prediction.get("template") in allowed
        if not template_ok:
            problems.append(f"template {prediction.get('template')} (want {gold.template})")
    missing = [f for f in gold.must if not contains(text, f)]
    if missing:
        problems.append(f"missing {missing}")
    present = [f for f in gold.must_not if contains(text, f)]
    if present:
        problems.append(f"must not contain {present}")
    if _PLACEHOLDER.search(text):
        problems.append("unfilled placeholder")
    if len(text) > gold.max_chars:
        problems.append(f"{len(text)} characters (max {gold.max_chars})")
    echoed = [p for p in first_person_phrases(item) if p in " ".join(words(normalize(text)))]
    if echoed:
        problems.append(f"echoes the lead: {echoed}")
    expected = gold.language or item.lang
    if prediction.get("language") != expected:
        problems.append(f"reply language {prediction.get('language')} (want {expected})")
    pure, identified, detail = is_pure(text, expected, profile) if text else (True, False, "")
    pure = pure and prediction.get("language") == expected
    if detail:
        problems.append(detail)
    stale = bool(prediction.get("stale_promise"))
    if stale:
        problems.append("stale response-time promise")
    fitting = None
    if gold.turn is not None:
        turn_problems = []
        if prediction.get("turn") != gold.turn:
            turn_problems.append(f"turn {prediction.get('turn')} (want {gold.turn})")
        if gold.propose_stage and prediction.get("propose_stage") != gold.propose_stage:
            turn_problems.append(f"proposed stage {prediction.get('propose_stage')}")
        if gold.lost_reason and prediction.get("lost_reason") != gold.lost_reason:
            turn_problems.append(f"lost reason {prediction.get('lost_reason')}")
        problems += turn_problems
        fitting = not turn_problems and not missing and not present
    answered = (not missing) if gold.answerable else None
    return {
        "problems": problems,
        "answered": answered,
        "pure": pure,
        "identified": identified,
        "stale": stale,
        "fitting": fitting,
        "template_ok": template_ok,
    }


def _share(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 1.0


def reply_metrics(checks: list[dict[str, Any]], first: list[bool]) -> dict[str, Any]:
    """The figures over the checks of a list of cases; ``first`` marks the cases
    whose only message is the lead's first."""
    answered = [c["answered"] for c in checks if c["answered"] is not None]
    first_answered = [
        c["answered"] for c, f in zip(checks, first, strict=True) if f and c["answered"] is not None
    ]
    fitting = [c["fitting"] for c in checks if c["fitting"] is not None]
    templates = [c["template_ok"] for c in checks if c["template_ok"] is not None]
    stale = sum(c["stale"] for c in checks)
    return {
        "pass_rate": _share([not c["problems"] for c in checks]),
        "answered": _share(answered),
        "first_answered": _share(first_answered),
        "purity": _share([c["pure"] for c in checks]),
        "identified": _share([c["identified"] for c in checks]),
        "no_stale": 1.0 - (stale / len(checks) if checks else 0.0),
        "stale_promises": stale,
        "fitting": _share(fitting),
        "template_accuracy": _share(templates),
        "n_answerable": len(answered),
        "n_first_answerable": len(first_answered),
        "n_turns": len(fitting),
    }
