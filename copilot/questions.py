"""One natural qualification question at a time, from ``data/questions.toml``.

The copilot asks for the next missing field (in the profile's ``ask_for``
order), one question per reply, never a questionnaire; it skips a question
it has just asked so an unanswered question is not repeated word for word.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources

from copilot.engines.rules.normalize import normalize
from copilot.taxonomy import Language


@cache
def _questions() -> dict[str, dict[str, str]]:
    source = resources.files("copilot") / "data" / "questions.toml"
    return tomllib.loads(source.read_text(encoding="utf-8"))


def question_for(field: str, language: Language) -> str:
    """The question asking for ``field`` in ``language`` (Spanish when missing);
    ``""`` for a field with no question."""
    entry = _questions().get(field)
    if not entry:
        return ""
    return entry.get(language.value) or entry.get("es", "")


def next_question(
    missing: Iterable[str],
    language: Language,
    recently_asked: Iterable[str] = (),
) -> str:
    """The ONE question for the first missing field that has a question.

    ``recently_asked`` are texts we sent lately; a field whose question appears
    in them is skipped while another missing field remains (asking twice in a
    row reads like a form). ``""`` when nothing is missing.
    """
    return _next_question(tuple(missing), language, tuple(recently_asked))


@lru_cache(maxsize=2048)
def _next_question(
    missing: tuple[str, ...], language: Language, recently_asked: tuple[str, ...]
) -> str:
    # Cached: the same missing fields and the same recent messages of ours come back
    # on every analysis until the lead or we write something new.
    asked = [normalize(text) for text in recently_asked if text]
    candidates = [f for f in missing if question_for(f, language)]
    for field in candidates:
        question = normalize(question_for(field, language))
        if not any(question in text for text in asked):
            return question_for(field, language)
    return question_for(candidates[0], language) if candidates else ""


def welcome_question(missing: Iterable[str], language: Language) -> str:
    """The welcome's question toward the next step: an open "how can we help?"
    while the need is unknown, else the question for the next missing field."""
    missing = list(missing)
    if not missing or "need" in missing:
        return question_for("welcome", language)
    return next_question(missing, language)
