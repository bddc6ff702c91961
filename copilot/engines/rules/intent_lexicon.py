"""Load and compile the intent lexicons (``lexicons/intent*.toml``) once.

Each file holds, for one language (or for all, ``intent_common.toml``):

- ``[spelling]``: chat spellings and frequent typos replaced word by word before
  matching ("q" -> "que", "vc" -> "voce", "presio" -> "precio");
- ``[intents.<label>]``: regex patterns in three tiers, ``strong`` (3 points),
  ``medium`` (2) and ``weak`` (1), matched against the prepared text;
- ``[cues]``: word sets and regexes the classifier reads for context (greetings,
  acknowledgements, "yes" answers, the business's offers, injections, sarcasm).

Patterns of every language are merged: WhatsApp leads mix languages and short
lines are often misdetected, and a Spanish pattern never fires on English text
anyway. Each tier of each intent becomes one compiled alternation.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from importlib import resources
from re import _constants as _sre  # the regex parser's opcodes, to find literal prefixes
from re import _parser as _sre_parse

from copilot.engines.rules.normalize import fold_repeats, normalize
from copilot.taxonomy import Intent

TIER_WEIGHTS: dict[str, float] = {"strong": 3.0, "medium": 2.0, "weak": 1.0}
WORD_CUES = (
    "greeting",
    "filler",
    "ack",
    "affirmative",
    "affirmative_core",
    "negative",
    "negative_core",
)
REGEX_CUES = (
    "open_question",
    "offer_meeting",
    "offer_purchase",
    "question_start",
    "injection",
    "praise",
    "letdown",
)
EMOJI_CUES = ("affirmative", "sarcasm")
#: Whole-word regexes for laughter ("jajaja", "kkkk"), read as an acknowledgement.
LAUGHTER_CUE = "laughter"

_RIGHT = r"(?![a-z0-9])"


_TOKEN = re.compile(r"[a-z0-9]+")
_ANCHOR_LENGTH = 12  # longest whole word kept as an anchor
_PREFIX_LENGTH = 4  # word starts are indexed on up to this many characters
_CANDIDATE_CACHE = 50_000  # words whose candidate patterns are remembered
_MAX_ANCHORS = 64
_WORD_END = " "  # marks an anchor that is a whole word
_ZERO_WIDTH = (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT)
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)
_DIGITS = [str(d) for d in range(10)]


def _chars(op: object, av: object) -> list[str] | None:
    """The characters a LITERAL or IN node accepts, when they are few and known."""
    if op is _sre.LITERAL:
        return [chr(av)]  # type: ignore[arg-type]
    if op is _sre.IN:
        if av == [(_sre.CATEGORY, _sre.CATEGORY_DIGIT)]:
            return _DIGITS
        if all(kind is _sre.LITERAL for kind, _ in av) and len(av) <= 8:  # type: ignore[union-attr]
            return [chr(code) for _, code in av]  # type: ignore[union-attr]
    return None


def _prefixes(seq: list, limit: int = _ANCHOR_LENGTH) -> set[str] | None:
    """The literal word starts (up to ``limit`` letters or digits) every match of the
    parsed regex ``seq`` begins with; a trailing space marks a whole word. None when
    the first character cannot be known."""
    if not seq:
        return {_WORD_END}  # the pattern ends here, and patterns end at a word boundary
    if limit == 0:
        return {""}
    op, av = seq[0]
    rest = seq[1:]
    if op in _ZERO_WIDTH:
        return _prefixes(rest, limit)
    chars = _chars(op, av)
    if chars is not None:
        out: set[str] = set()
        for char in chars:
            if not (char.isascii() and char.isalnum()):
                out.add(_WORD_END)  # the word ends at a space or a symbol
                continue
            # Past the first character an unknown continuation just ends the anchor.
            tails = _prefixes(rest, limit - 1) or {""}
            out.update(char + tail for tail in tails)
        return out
    if op is _sre.SUBPATTERN:
        return _prefixes(list(av[-1]) + rest, limit)
    if op is _sre.BRANCH:
        out = set()
        for branch in av[1]:
            heads = _prefixes(list(branch) + rest, limit)
            if heads is None or len(out) > _MAX_ANCHORS:
                return None
            out |= heads
        return out
    if op in _REPEATS:
        low, high, sub = av
        if high == 1:
            heads = _prefixes(list(sub) + rest, limit)
        else:  # "a+b": only the first repetition is sure
            heads = _prefixes(list(sub), limit)
            heads = heads and {h.rstrip(_WORD_END) for h in heads}
        if low == 0:
            skipped = _prefixes(rest, limit)
            if heads is None or skipped is None:
                return None
            heads = heads | skipped
        return heads
    return None


def _required_chars(pattern: str) -> str:
    """A symbol every match of ``pattern`` contains ("@" of an e-mail), or ""."""
    try:
        parsed = list(_sre_parse.parse(pattern))
    except re.error:
        return ""
    while len(parsed) == 1 and parsed[0][0] is _sre.SUBPATTERN:
        parsed = list(parsed[0][1][-1])
    for op, av in parsed:
        if op is _sre.LITERAL and not chr(av).isalnum() and chr(av) != " ":
            return chr(av)
    return ""


def _longest_literal(pattern: str) -> str:
    """The longest run of literal characters every match of ``pattern`` contains
    (" quiero" in "(lo|la) quiero"), or "" when there is none of 3 or more."""
    try:
        parsed = list(_sre_parse.parse(pattern))
    except re.error:
        return ""
    while len(parsed) == 1 and parsed[0][0] is _sre.SUBPATTERN:
        parsed = list(parsed[0][1][-1])
    best, run = "", ""
    for op, av in parsed:
        if op is _sre.LITERAL:
            run += chr(av)
            continue
        best, run = max(best, run, key=len), ""
    best = max(best, run, key=len)
    return best if len(best) >= 3 else ""


def literal_anchors(pattern: str) -> set[str] | None:
    """Word starts one of which every match of ``pattern`` begins with ("quie"), or
    whole words ending in a space ("la "); None when the pattern can start anywhere.
    No anchor is a prefix of another (the shorter one covers it)."""
    try:
        heads = _prefixes(list(_sre_parse.parse(pattern)))
    except (re.error, RecursionError):
        return None
    if not heads or len(heads) > _MAX_ANCHORS or any(h in ("", _WORD_END) for h in heads):
        return None
    prefixes = {h for h in heads if not h.endswith(_WORD_END)}
    return {h for h in heads if not any(p != h and h.startswith(p) for p in prefixes)}


class PatternIndex:
    """Many word-bounded regexes, each tried only where a word of the text starts
    with one of its literal anchors: a few dict look-ups per word instead of every
    pattern at every position. Patterns without an anchor are searched in full."""

    def __init__(self) -> None:
        # (match method, key, a literal every match contains or "")
        self._entries: list[tuple[Callable[..., re.Match[str] | None], Hashable, str]] = []
        self._exact: dict[str, list[int]] = {}
        self._by_prefix: list[dict[str, list[int]]] = [{} for _ in range(_PREFIX_LENGTH)]
        self._anywhere: dict[Hashable, list[str]] = {}
        self._searched: list[tuple[re.Pattern[str], Hashable, str]] = []
        self._candidates: dict[str, tuple[int, ...]] = {}

    def add(self, pattern: str, key: Hashable, bounded: bool = True) -> None:
        """Index ``pattern`` (already validated) under ``key``."""
        anchors = literal_anchors(pattern) if bounded else None
        if anchors is None:
            # Searched everywhere; no left look-behind so the regex engine can skip
            # ahead to the pattern's first character (a digit, an emoji).
            tail = _RIGHT if bounded else ""
            self._anywhere.setdefault(key, []).append(f"(?:{pattern}){tail}")
            return
        compiled = re.compile(f"(?:{pattern}){_RIGHT}")
        self._entries.append((compiled.match, key, _longest_literal(pattern)))
        number = len(self._entries) - 1
        # Each pattern must be reachable once per word: truncated prefixes are
        # deduplicated, and whole words a prefix already covers are dropped.
        prefixes = {a[:_PREFIX_LENGTH] for a in anchors if not a.endswith(_WORD_END)}
        prefixes = {p for p in prefixes if not any(q != p and p.startswith(q) for q in prefixes)}
        for anchor in anchors:
            if anchor.endswith(_WORD_END) and not any(anchor.startswith(p) for p in prefixes):
                self._exact.setdefault(anchor[:-1], []).append(number)
        for anchor in prefixes:
            self._by_prefix[len(anchor) - 1].setdefault(anchor, []).append(number)

    def freeze(self) -> PatternIndex:
        """Compile the patterns that have no anchor; call once after the last add."""
        self._searched = [
            (re.compile(pattern), key, _required_chars(pattern))
            for key, patterns in self._anywhere.items()
            for pattern in patterns
        ]
        return self

    def candidates(self, word: str) -> tuple[int, ...]:
        """Numbers of the anchored patterns that may match where ``word`` starts
        (cached: chat vocabulary is small and repeats)."""
        found = self._candidates.get(word)
        if found is None:
            numbers = list(self._exact.get(word, ()))
            for size in range(1, min(len(word), _PREFIX_LENGTH) + 1):
                numbers.extend(self._by_prefix[size - 1].get(word[:size], ()))
            found = tuple(numbers)
            if len(self._candidates) < _CANDIDATE_CACHE:
                self._candidates[word] = found
        return found

    def hits(self, text: str) -> Counter[Hashable]:
        """How many matches each key has in the prepared ``text`` (counted per pattern
        and word where it starts)."""
        found: Counter[Hashable] = Counter()
        entries, candidates = self._entries, self.candidates
        for token in _TOKEN.finditer(text):
            numbers = candidates(token.group())
            if numbers:
                start = token.start()
                for number in numbers:
                    match, key, literal = entries[number]
                    # A substring test is far cheaper than a regex attempt.
                    if (not literal or literal in text) and match(text, start):
                        found[key] += 1
        for pattern, key, required in self._searched:
            # Skip the search when a character every match needs ("@", "#") is absent.
            if required and required not in text:
                continue
            for _ in pattern.finditer(text):
                found[key] += 1
        return found

    @property
    def size(self) -> tuple[int, int]:
        """(anchored patterns, patterns searched in full)."""
        return len(self._entries), sum(len(ps) for ps in self._anywhere.values())


class LexiconError(ValueError):
    """An intent lexicon file that cannot be used; the message names file and problem."""


@dataclass(frozen=True)
class Matches:
    """What the lexicon found in one prepared text."""

    #: Hits per intent and tier weight, e.g. ``{(Intent.PRICING, 3.0): 1}``.
    tiers: Counter[tuple[Intent, float]]
    #: Names of the regex cues that matched (``injection``, ``praise``...).
    cues: frozenset[str]


@dataclass(frozen=True)
class IntentLexicon:
    """The compiled intent lexicon."""

    spelling: dict[str, str]
    index: PatternIndex
    words: dict[str, frozenset[str]]
    emojis: dict[str, tuple[str, ...]]
    laughter: re.Pattern[str] | None

    def prepare(self, text: str) -> str:
        """Normalise ``text`` for matching: :func:`normalize`, folded stretching,
        chat spellings replaced."""
        prepared = fold_repeats(normalize(text))
        # Word by word (cheaper than one big alternation tried at every position).
        spelling, parts, last = self.spelling, [], 0
        for token in _TOKEN.finditer(prepared):
            replacement = spelling.get(token.group())
            if replacement is not None:
                parts += (prepared[last : token.start()], replacement)
                last = token.end()
        if not parts:
            return prepared
        parts.append(prepared[last:])
        return "".join(parts)

    def match(self, prepared: str) -> Matches:
        """Every intent pattern and regex cue found in an already prepared text."""
        tiers: Counter[tuple[Intent, float]] = Counter()
        cues: set[str] = set()
        for key, count in self.index.hits(prepared).items():
            if key[0] == "cue":
                cues.add(key[1])
            else:
                tiers[key] += count
        return Matches(tiers=tiers, cues=frozenset(cues))


def _packaged_files() -> list[tuple[str, str]]:
    folder = resources.files("copilot.engines.rules").joinpath("lexicons")
    files = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.startswith("intent") and entry.name.endswith(".toml")
    )
    if not files:
        raise LexiconError("no intent lexicon files (lexicons/intent*.toml) in the package")
    return files


def _check(name: str, where: str, patterns: object) -> None:
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise LexiconError(f"{name}: {where} must be a list of strings")
    for pattern in patterns:
        if pattern != pattern.strip():
            # Patterns end at a word boundary: a trailing space would never match.
            raise LexiconError(f"{name}: pattern {pattern!r} in {where} has outer spaces")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise LexiconError(f"{name}: bad pattern {pattern!r} in {where}: {exc}") from exc


def load_intent_lexicon(files: Iterable[tuple[str, str]] | None = None) -> IntentLexicon:
    """Compile intent lexicons given as ``(file name, TOML text)`` pairs (the packaged
    ``lexicons/intent*.toml`` by default). Raises :class:`LexiconError` naming the file
    and the problem: invalid TOML, unknown intent or tier, bad regex, a spelling
    that two files disagree on."""
    spelling: dict[str, str] = {}
    index = PatternIndex()
    words: dict[str, set[str]] = {key: set() for key in WORD_CUES}
    emojis: dict[str, list[str]] = {key: [] for key in EMOJI_CUES}
    laughter: list[str] = []
    for name, text in _packaged_files() if files is None else files:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise LexiconError(f"{name}: invalid TOML: {exc}") from exc
        bounded = data.get("boundaries", True)
        for word, replacement in data.get("spelling", {}).items():
            if not _TOKEN.fullmatch(word):
                raise LexiconError(f"{name}: spelling {word!r} must be one word of a-z and 0-9")
            if spelling.get(word, replacement) != replacement:
                raise LexiconError(
                    f"{name}: spelling {word!r} -> {replacement!r} conflicts with "
                    f"{spelling[word]!r} from another file"
                )
            spelling[word] = replacement
        for label, tiers in data.get("intents", {}).items():
            try:
                intent = Intent(label)
            except ValueError:
                raise LexiconError(f"{name}: unknown intent [intents.{label}]") from None
            for tier, patterns in tiers.items():
                if tier not in TIER_WEIGHTS:
                    raise LexiconError(f"{name}: unknown tier {tier!r} in [intents.{label}]")
                _check(name, f"[intents.{label}] {tier}", patterns)
                for pattern in patterns:
                    index.add(pattern, (intent, TIER_WEIGHTS[tier]), bounded)
        for key, values in data.get("cues", {}).items():
            if key == LAUGHTER_CUE:
                _check(name, f"[cues] {key}", values)
                laughter.extend(values)
            elif not bounded and key in EMOJI_CUES:
                emojis[key].extend(values)
            elif key in WORD_CUES:
                words[key].update(fold_repeats(normalize(v)) for v in values)
            elif key in REGEX_CUES:
                _check(name, f"[cues] {key}", values)
                for pattern in values:
                    index.add(pattern, ("cue", key), True)
            else:
                raise LexiconError(f"{name}: unknown cue {key!r} in [cues]")
    return IntentLexicon(
        spelling=spelling,
        index=index.freeze(),
        words={key: frozenset(values) for key, values in words.items()},
        emojis={key: tuple(values) for key, values in emojis.items()},
        laughter=re.compile("|".join(f"(?:{p})" for p in laughter)) if laughter else None,
    )
