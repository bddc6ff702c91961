"""The checks of a ``replies`` case (docs/datasets.md) and their figures.

Every reply is checked for: the template expected; the facts that must appear
(amounts compared after removing thousands separators, so "1.890.000" and
"1,890,000" are equal); the fragments that must not (other-language words, raw
enum values); no unfilled ``{placeholder}``; a maximum length; none of the
lead's own first-person phrases; one language (:func:`copilot.grounding.is_pure`,
the check a model's free text must pass too); and no stale promise (the
response-time promise offered once the lead has waited longer than it).
"""

from __future__ import annotations

import re
from typing import Any

from copilot.engines.rules.normalize import normalize, words
from copilot.evals.items import ReplyItem
from copilot.grounding import PLACEHOLDER as _PLACEHOLDER
from copilot.grounding import first_person_phrases as lead_phrases
from copilot.grounding import is_pure
from copilot.profile import BusinessProfile

_AMOUNT = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


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
    return lead_phrases([turn.text for turn in item.messages if turn.sender == "lead"])


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
