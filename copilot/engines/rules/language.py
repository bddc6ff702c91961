"""Language detection for short WhatsApp lines (es, pt, en).

Short chat lines defeat statistical detectors, so this one scores words from a
lexicon of frequent and distinctive words per language (``lexicons/language.toml``),
plus word endings ("-cao", "-cion", "-ing") and spellings only one language
uses ("ñ", "ç", "n't"). The lexicon is loaded and compiled once at import.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from copilot.engines.rules.normalize import fold_repeats, normalize, words
from copilot.models import Conversation
from copilot.taxonomy import Direction, Language

LANGUAGES: tuple[Language, ...] = (Language.ES, Language.PT, Language.EN)

_STRONG, _WEAK, _SUFFIX, _CHARS = 2.0, 1.0, 1.0, 1.5
#: A language wins when it has at least this score and leads the runner-up by
#: ``_MARGIN``; below that the text is ``und``.
_MIN_SCORE = 1.5
_MARGIN = 1.0
#: How much each older inbound message counts relative to the next newer one.
_DECAY = 0.6
_RECENT_INBOUND = 6


@dataclass(frozen=True)
class _Lexicon:
    words: dict[str, dict[Language, float]]
    suffixes: dict[Language, re.Pattern[str]]
    chars: dict[Language, tuple[re.Pattern[str], ...]]


def load_language_lexicon(text: str | None = None) -> _Lexicon:
    """Parse and compile a language lexicon (TOML text; the packaged one by default).

    Raises ``ValueError`` naming the problem when a section or pattern is invalid.
    """
    if text is None:
        text = resources.files("copilot.engines.rules").joinpath("lexicons/language.toml")
        text = text.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    table: dict[str, dict[Language, float]] = {}
    suffixes: dict[Language, re.Pattern[str]] = {}
    chars: dict[Language, tuple[re.Pattern[str], ...]] = {}
    for language in LANGUAGES:
        section = data.get(language.value)
        if not isinstance(section, dict):
            raise ValueError(f"language lexicon: missing section [{language.value}]")
        for key, weight in (("weak", _WEAK), ("strong", _STRONG)):
            for word in section.get(key, []):
                entry = table.setdefault(normalize(word), {})
                entry[language] = max(entry.get(language, 0.0), weight)
        try:
            suffixes[language] = re.compile("|".join(f"(?:{s})" for s in section["suffixes"]))
            chars[language] = tuple(re.compile(c) for c in section["chars"])
        except (KeyError, re.error) as exc:
            raise ValueError(f"language lexicon [{language.value}]: {exc}") from exc
    return _Lexicon(words=table, suffixes=suffixes, chars=chars)


_LEXICON = load_language_lexicon()


def language_scores(text: str) -> dict[Language, float]:
    """Evidence for each language in ``text`` (0 for all when nothing tells)."""
    return dict(_scores(text))


# Sized like the fields' message cache: every recent lead line is scored again on
# each analysis of its conversation. Read-only, as every caller shares it.
@lru_cache(maxsize=16384)
def _scores(text: str) -> MappingProxyType[Language, float]:
    return MappingProxyType(_score(text))


def _score(text: str) -> dict[Language, float]:
    scores = dict.fromkeys(LANGUAGES, 0.0)
    if not text:
        return scores
    raw = text.lower()
    for language, patterns in _LEXICON.chars.items():
        either = _either(patterns)
        if either.search(raw) if either is not None else any(p.search(raw) for p in patterns):
            scores[language] += _CHARS
    for word in words(fold_repeats(normalize(text))):
        for language, weight in _word_weights(word):
            scores[language] += weight
    return scores


@lru_cache(maxsize=16384)
def _word_weights(word: str) -> tuple[tuple[Language, float], ...]:
    """What one word adds to each language, in the order it is added: its lexicon
    weights, else (a long word) the suffix bonus of each language whose endings
    match. Cached: chat vocabulary is small and repeats across lines."""
    entry = _LEXICON.words.get(word)
    if entry is not None:
        return tuple(entry.items())
    if len(word) > 4 and not word.isdigit():
        return tuple(
            (language, _SUFFIX)
            for language, pattern in _LEXICON.suffixes.items()
            if pattern.search(word)
        )
    return ()


@lru_cache(maxsize=64)
def _either(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One pattern that matches exactly where one of ``patterns`` does (one search
    instead of several); ``None`` when their flags differ or are verbose, or one
    refers to a group by number (the alternation would renumber it)."""
    flags = {p.flags for p in patterns}
    if len(flags) != 1 or re.VERBOSE in re.RegexFlag(flags.pop()):
        return None  # verbose comments could swallow the joints
    if any(_GROUP_NUMBER.search(p.pattern) for p in patterns):
        return None
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns), patterns[0].flags)


_GROUP_NUMBER = re.compile(r"\\[1-9]|\(\?\(")


def _decide(scores: dict[Language, float]) -> Language:
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top >= _MIN_SCORE and top - second >= _MARGIN:
        return best
    return Language.UNDETERMINED


def detect_language(text: str) -> Language:
    """Language of one text, ``Language.UNDETERMINED`` when it cannot tell."""
    return _decide(_scores(text or ""))


def conversation_language(conversation: Conversation, default: Language) -> Language:
    """Language of the lead in a conversation (their recent inbound texts weigh most);
    ``default`` when nothing tells."""
    recent: list[str] = []
    for message in reversed(conversation.messages):
        # ``Message.is_inbound``, read directly: this runs on every analysis.
        if message.direction is not Direction.INBOUND or not message.text:
            continue
        recent.append(message.analysed_text)
        if len(recent) >= _RECENT_INBOUND:
            break
    decided = _recent_language(tuple(recent))
    return default if decided is Language.UNDETERMINED else decided


@lru_cache(maxsize=4096)
def _recent_language(texts: tuple[str, ...]) -> Language:
    # ``texts`` newest first. Cached: a conversation's recent lines are read again on
    # every analysis, and only the newest one changes.
    totals = dict.fromkeys(LANGUAGES, 0.0)
    weight = 1.0
    for text in texts:
        for language, score in _scores(text).items():
            totals[language] += weight * score
        weight *= _DECAY
    return _decide(totals)
