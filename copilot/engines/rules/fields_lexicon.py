"""The qualification-field lexicons (``lexicons/fields.toml``, ``lexicons/cities.toml``),
loaded and compiled once per process.

Patterns are written against :func:`~copilot.engines.rules.normalize.fold` text
(lowercase, no accents, same length as the original), so a match's span also
points into the original text.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from copilot.engines.rules.normalize import fold


def _load(name: str) -> dict[str, Any]:
    source = resources.files("copilot.engines.rules") / "lexicons" / name
    return tomllib.loads(source.read_text(encoding="utf-8"))


def _top_level_bar(pattern: str) -> bool:
    """True when ``pattern`` has a ``|`` outside any group or character class."""
    depth, in_class, escaped = 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


_LEADING_GROUP = re.compile(r"\(\?:([^()\[\]\\?*+{}]*)\)(\??)")


def _expand(pattern: str, limit: int = 48) -> list[str]:
    """``(?:me|nos) cobran`` as ``me cobran`` and ``nos cobran`` (and an optional
    leading group as the pattern with and without it), so that more patterns start
    with a plain letter and join the letter groups of :func:`_body`."""
    match = _LEADING_GROUP.match(pattern)
    if not match or _top_level_bar(pattern):
        return [pattern]
    rest = pattern[match.end() :]
    if rest[:1] in ("?", "*", "+", "{"):
        return [pattern]
    heads = match.group(1).split("|")
    if match.group(2):
        heads.append("")
    out: list[str] = []
    for head in heads:
        out.extend(_expand(head + rest, limit) if head + rest else [])
        if len(out) > limit:
            return [pattern]
    return out


def _body(patterns: list[str], depth: int = 2) -> str:
    """The alternatives of ``patterns`` as one regex body, longest first.

    Patterns that start with a plain letter are grouped by that letter, twice
    (``m(?:e(?: duele|...)|anchas)|...``): the regex engine tries every alternative
    in turn, so a few hundred cues cost a few hundred tries at each word; grouped,
    a test of the first letters rules most of them out. Patterns starting with a
    group, a class or an escape stay whole, before the groups."""
    if depth == 2:
        patterns = [e for p in patterns for e in _expand(p)]
    ordered = sorted(set(patterns), key=len, reverse=True)
    whole: list[str] = []
    by_letter: dict[str, list[str]] = {}
    for p in ordered:
        plain = len(p) > 1 and (p[0].isalnum() or p[0] in "'’ ") and p[1] not in "?*+{"
        if depth and plain and not _top_level_bar(p):
            by_letter.setdefault(p[0], []).append(p[1:])
        else:
            whole.append(f"(?:{p})" if p else "")
    for letter, rests in by_letter.items():
        inner = _body(rests, depth - 1) if len(rests) > 1 else f"(?:{rests[0]})"
        whole.append(f"{re.escape(letter)}(?:{inner})")
    return "|".join(whole)


def alternation(patterns: list[str], *, bounded: bool = True) -> re.Pattern[str]:
    """One regex matching any of ``patterns`` (longest first), as whole words."""
    body = _body(patterns)
    return re.compile(rf"(?<![\w@])(?:{body})(?![\w@])" if bounded else f"(?:{body})")


def grouped(groups: dict[str, list[str]]) -> re.Pattern[str]:
    """One regex whose named groups say which list matched (one pass over the text).
    Lists come first in the order given, so put the more specific ones first."""
    parts = [f"(?P<{name}>{_body(patterns)})" for name, patterns in groups.items()]
    return re.compile(r"(?<![\w@])(?:" + "|".join(parts) + r")(?![\w@])")


@dataclass(frozen=True)
class City:
    """A gazetteer entry: the name as written in the gazetteer and its countries."""

    name: str
    countries: tuple[str, ...]


@dataclass(frozen=True)
class FieldLexicon:
    """Every compiled pattern and table the field extractors use."""

    clause_stop: re.Pattern[str]
    need_strong: re.Pattern[str]
    need_medium: re.Pattern[str]
    need_fillers: re.Pattern[str]
    need_empty: frozenset[str]
    need_reject: re.Pattern[str]
    need_question: re.Pattern[str]
    pain: re.Pattern[str]
    #: The feelings among the pain cues ("no me motivo"): a pain, never a need.
    pain_feeling: re.Pattern[str]
    #: Words right before a pain cue that make it a product ("tratamiento de manchas").
    pain_product: re.Pattern[str]
    prior: re.Pattern[str]
    #: A clause telling a competitor's price ("en otro taller me pasaron 300").
    not_prior: re.Pattern[str]
    #: Last words of a prior-solution cue that leave the thing unsaid ("uso", "ya fui").
    prior_empty: frozenset[str]
    #: All next-step cues in one pass; the group name is the NextStep value.
    next_step_any: re.Pattern[str]
    weak_visit: re.Pattern[str]
    affirmative: re.Pattern[str]
    tl_holidays: dict[str, tuple[int, int]]
    #: The timeline word lists in one pass: groups immediate, end_of_month,
    #: this_month, later, holiday.
    tl_words: re.Pattern[str]
    tl_meeting: re.Pattern[str]
    tl_not_in_clause: re.Pattern[str]
    tl_not: re.Pattern[str]
    budget_cue: re.Pattern[str]
    not_budget: re.Pattern[str]
    budget_question: re.Pattern[str]
    slang: dict[str, tuple[float, str]]
    multipliers: dict[str, float]
    currency_words: dict[str, str]
    #: All dialect cues in one pass; the group name is the country.
    dialect_any: re.Pattern[str]
    company_heads: frozenset[str]
    company_tails: frozenset[str]
    company_suffix: re.Pattern[str]
    company_cue: re.Pattern[str]
    company_question: re.Pattern[str]
    name_strong: re.Pattern[str]
    name_weak: re.Pattern[str]
    name_question: re.Pattern[str]
    not_names: frozenset[str]
    #: Capitalised words that end a message without signing it ("Urgente", "Please").
    name_closers: frozenset[str]
    currency_of: dict[str, str]
    cities: dict[str, City]
    #: Longest city name in words, and the first words of all names (n-gram lookup).
    city_max_words: int
    city_first_words: frozenset[str]
    city_capitalised: frozenset[str]


@cache
def lexicon() -> FieldLexicon:
    """The compiled lexicons (built on first use, then shared)."""
    data = _load("fields.toml")
    geo = _load("cities.toml")
    stops = data["clause"]["stops"]
    cities: dict[str, City] = {}
    for country, names in geo["cities"].items():
        for name in names:
            key = fold(name)
            if key in cities:
                old = cities[key]
                cities[key] = City(old.name, (*old.countries, country))
            else:
                cities[key] = City(name, (country,))
    tl = data["timeline"]
    holidays = {
        fold(k): (int(v.split("-")[0]), int(v.split("-")[1])) for k, v in tl["holidays"].items()
    }
    money = data["money"]
    return FieldLexicon(
        clause_stop=re.compile(
            r"[!?;:\n()¿¡]|(?<!\d)[.,]|[.,](?!\d)|\s-\s|" + alternation(stops).pattern
        ),
        need_strong=alternation(data["need"]["strong"]),
        need_medium=alternation(data["need"]["medium"]),
        need_fillers=re.compile(r"(?:\s*" + alternation(data["need"]["fillers"]).pattern + ")+"),
        need_empty=frozenset(data["need"]["empty"]),
        need_reject=alternation(data["need"]["not_need"]),
        need_question=alternation(data["need"]["question"]),
        pain=alternation(data["pain"]["cues"] + data["pain"]["feelings"]),
        pain_feeling=alternation(data["pain"]["feelings"]),
        pain_product=re.compile(
            alternation(data["pain"]["product_before"]).pattern
            + r"\s+(?:(?:de|del|para|pra|do|da|for|contra)\s+)?(?:(?:el|la|los|las|o|a|the)\s+)?$"
        ),
        prior=alternation(data["prior_solution"]["cues"]),
        not_prior=alternation(data["prior_solution"]["not_prior"]),
        prior_empty=frozenset(data["prior_solution"]["empty_tail"]),
        next_step_any=grouped(
            {
                key: data["next_step"][key]
                for key in ("video_call", "quote", "email", "whatsapp", "demo", "visit", "call")
            }
        ),
        weak_visit=alternation(data["next_step"]["weak_visit"]),
        affirmative=re.compile(
            r"^\W*" + alternation(data["next_step"]["affirmative"]).pattern + r"(?:\W|$)"
        ),
        tl_holidays=holidays,
        tl_words=grouped(
            {
                "end_of_month": tl["end_of_month"],
                "holiday": [re.escape(k) for k in holidays],
                "later": tl["later"],
                "this_month": tl["this_month"],
                "immediate": tl["immediate"],
                "unknown": tl["unknown"],
            }
        ),
        tl_meeting=alternation(tl["meeting"]),
        tl_not_in_clause=alternation(tl["not_in_clause"]),
        tl_not=alternation(tl["not_timeline"]),
        budget_cue=alternation(data["budget"]["cues"]),
        not_budget=alternation(data["budget"]["not_budget"]),
        budget_question=alternation(data["budget"]["question"]),
        slang={k: (float(v["value"]), v["currency"]) for k, v in money["slang"].items()},
        multipliers={k: float(v) for k, v in money["multipliers"].items()},
        currency_words=dict(money["currency_words"]),
        dialect_any=grouped(data["dialect"]),
        company_heads=frozenset(data["company"]["heads"]),
        company_tails=frozenset(data["company"]["tails"]),
        company_suffix=re.compile(
            r"(?<![\w.])(?:" + "|".join(data["company"]["suffixes"]) + r")(?![\w])(?!\.\w)",
            re.IGNORECASE,
        ),
        company_cue=alternation(data["company"]["cues"]),
        company_question=alternation(data["company"]["question"]),
        name_strong=alternation(data["name"]["strong"]),
        name_weak=alternation(data["name"]["weak"]),
        name_question=alternation(data["name"]["question"]),
        not_names=frozenset(data["name"]["not_names"]),
        name_closers=frozenset(data["name"]["closers"]),
        currency_of=dict(geo["currency"]),
        cities=cities,
        city_max_words=max(len(k.split()) for k in cities),
        city_capitalised=frozenset(fold(n) for n in geo["ambiguous"]["capitalised"]),
        city_first_words=frozenset(re.split(r"[^\w]+", k)[0] for k in cities),
    )
