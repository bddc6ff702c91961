"""Handoff signals read from the text and the history.

Each signal names a cue the handoff policy (``copilot.handoff``) weighs:

- ``human_request`` and ``complaint``: explicit cues, a safety net under the
  intent classifier for long messages that bury them;
- ``sensitive``: legal threats, medical reactions after a treatment, refunds,
  card or charge disputes, personal-data requests (``lexicons/signals.toml``);
- ``complex``: custom or negotiated requests, bulk or corporate deals, several
  questions the business facts do not answer;
- ``hot_lead``: hiring or booking for a date, or buying this week with a call
  or payment lined up (a safety net under the intent classifier);
- ``stuck``: the lead repeats a question the automation failed to answer, or
  demands a straight answer after two automated replies;
- ``missing_context``: the message points at something the conversation does
  not hold ("lo mismo que la otra vez"), so nobody can act on it unaided;
- ``prompt_injection``: the text tries to instruct the assistant (no handoff by
  itself: such lines are spam unless they also ask for something).

Lexicons are data files compiled once; all matching runs on ``normalize()`` text.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from itertools import groupby
from typing import Any

from copilot.engines.rules.normalize import normalize, words
from copilot.handoff import POINTER_ONLY
from copilot.models import Conversation, IntentResult, Message, Signal
from copilot.taxonomy import Author, Direction, HandoffReason, Language

_MACRO = re.compile(r"\{([a-z_]+)\}")
_QUANTITY = re.compile(r"(?<![\d.,#$])(\d{1,3}(?:[.,]\d{3})+|\d{1,6})\s*-?\s*([a-z]+)")
#: Labels of the ``complex`` cues that only measure the size of a deal.
_VOLUME_LABELS = ("large quantity", "company purchase")
_QUESTION_SPLIT = re.compile(
    r"\?+|\by si\b|\be se\b|\band (?:if|whether)\b|\bsaber si\b|\bsaber se\b|\bask if\b"
)


_NUMBERED_REFERENCE = re.compile(r"\\[1-9]|\(\?\(")


def _alternation(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One pattern that matches somewhere exactly when one of ``patterns`` does;
    ``None`` when that cannot be built safely (a single pattern, mixed flags, verbose
    patterns whose comments could swallow the joints, or numbered back-references
    that the alternation would renumber)."""
    if len(patterns) < 2 or len({p.flags for p in patterns}) != 1:
        return None
    if patterns[0].flags & re.VERBOSE:
        return None
    if any(_NUMBERED_REFERENCE.search(p.pattern) for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns), patterns[0].flags)
    except re.error:
        return None


@dataclass(frozen=True)
class _Group:
    """One family of cues: it fires when a pattern matches, a ``requires`` pattern
    matches too (if any) and no ``exclude`` pattern does. ``hints`` are plain
    substrings one of which every cue contains: a cheap test that skips the
    regular expressions on the many lines that cannot match."""

    kind: str
    label: str
    weight: float
    patterns: tuple[re.Pattern[str], ...]
    requires: tuple[re.Pattern[str], ...] = ()
    excludes: tuple[re.Pattern[str], ...] = ()
    hints: re.Pattern[str] | None = None
    #: All ``patterns`` in one alternation: one search rules out a line that none
    #: of them matches (most lines), before they are tried one by one for the cue.
    any_pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "any_pattern", _alternation(self.patterns))

    def find(self, text: str) -> str | None:
        """The quoted cue in ``text`` (normalised), or ``None``."""
        if self.hints is not None and not self.hints.search(text):
            return None
        if self.any_pattern is not None and not self.any_pattern.search(text):
            return None
        # The cue first: most lines have none, and the ``requires`` patterns (a
        # treatment near a symptom...) are the costly ones.
        cue = None
        for pattern in self.patterns:
            match = pattern.search(text)
            if match:
                cue = match.group(0).strip()
                break
        if cue is None:
            return None
        if self.requires and not any(p.search(text) for p in self.requires):
            return None
        if any(p.search(text) for p in self.excludes):
            return None
        return cue


@dataclass(frozen=True)
class _Lexicon:
    sensitive: tuple[_Group, ...]
    complex: tuple[_Group, ...]
    person: tuple[_Group, ...]
    complaint: tuple[_Group, ...]
    hot: tuple[_Group, ...]
    bulk_min: int
    people_min: int
    not_goods: frozenset[str]
    people_words: frozenset[str]
    id_words: frozenset[str]
    min_open_questions: int
    routine_question: re.Pattern[str]
    repeat_cues: tuple[re.Pattern[str], ...]
    unanswered_cues: tuple[re.Pattern[str], ...]
    insist_cues: tuple[re.Pattern[str], ...]
    bot_failure_cues: tuple[re.Pattern[str], ...]
    stopwords: frozenset[str]
    missing_context: tuple[re.Pattern[str], ...]
    missing_hints: re.Pattern[str] | None
    external_context: tuple[re.Pattern[str], ...]
    closing: tuple[re.Pattern[str], ...]
    injection: tuple[re.Pattern[str], ...]


def _read(name: str) -> dict[str, Any]:
    source = resources.files("copilot.engines.rules") / "lexicons" / name
    return tomllib.loads(source.read_text(encoding="utf-8"))


def _compiler(macros: dict[str, str]):
    def expand(pattern: str) -> str:
        for _ in range(2):
            pattern = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
        return pattern

    def compile_all(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(expand(p)) for p in patterns)

    return compile_all


def _hints(hints: list[str]) -> re.Pattern[str] | None:
    """One pattern for a list of plain substrings, nested as a trie: ``re`` tries
    alternatives one by one, so shared prefixes keep a scan of many hints cheap."""
    return re.compile(_trie(sorted(set(hints)))) if hints else None


def _trie(hints: list[str]) -> str:
    branches = []
    for first, group in groupby(hints, key=lambda h: h[:1]):
        rests = [h[1:] for h in group]
        if "" in rests:  # a hint ends here: it matches without the longer ones
            branches.append(re.escape(first))
        else:
            branches.append(re.escape(first) + _trie(rests))
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _groups(specs: list[dict[str, Any]], compile_all) -> tuple[_Group, ...]:
    return tuple(
        _Group(
            kind=spec["kind"],
            label=spec.get("label", spec["kind"]),
            weight=float(spec.get("weight", 1.0)),
            patterns=compile_all(spec["patterns"]),
            requires=compile_all(spec.get("requires", [])),
            excludes=compile_all(spec.get("exclude", [])),
            hints=_hints(spec.get("hints", [])),
        )
        for spec in specs
    )


@cache
def _lexicon() -> _Lexicon:
    """Both signal lexicons, compiled once."""
    topics = _read("signals.toml")
    talk = _read("signals_conversation.toml")
    compile_topics = _compiler(topics.get("macros", {}))
    compile_talk = _compiler(talk.get("macros", {}))
    quantity, questions = topics["quantity"], topics["questions"]
    return _Lexicon(
        sensitive=_groups(topics["sensitive"], compile_topics),
        complex=_groups(topics["complex"], compile_topics),
        person=_groups(topics["person"], compile_topics),
        complaint=_groups(topics["complaint"], compile_topics),
        hot=_groups(topics["hot"], compile_topics),
        bulk_min=int(quantity["bulk_min"]),
        people_min=int(quantity["people_min"]),
        not_goods=frozenset(quantity["not_goods"]),
        people_words=frozenset(quantity["people_words"]),
        id_words=frozenset(quantity["id_words"]),
        min_open_questions=int(questions["min_open"]),
        routine_question=compile_topics([questions["routine"]])[0],
        repeat_cues=compile_talk(talk["stuck"]["repeat_cues"]),
        unanswered_cues=compile_talk(talk["stuck"]["unanswered_cues"]),
        insist_cues=compile_talk(talk["stuck"]["insist_cues"]),
        bot_failure_cues=compile_talk(talk["stuck"]["bot_failure_cues"]),
        stopwords=frozenset(talk["stuck"]["stopwords"]),
        missing_context=compile_talk(talk["missing_context"]["patterns"]),
        missing_hints=_hints(talk["missing_context"]["hints"]),
        external_context=compile_talk(talk["missing_context"]["external"]),
        closing=compile_talk(talk["missing_context"]["closing"]),
        injection=compile_talk(talk["injection"]["patterns"]),
    )


# --- public detectors ---------------------------------------------------------------


def detect_signals(
    conversation: Conversation, intent: IntentResult | None, language: Language
) -> list[Signal]:
    """Signals for the handoff policy: sensitive topics, complex requests, a lead
    ready to hire or book (hot), a lead repeating themselves (stuck), missing
    context, suspected prompt injection.

    Only the latest inbound message is read, with the history before it for
    ``stuck`` and ``missing_context``. The lexicons cover es, pt and en at once
    (leads mix them), so ``language`` and ``intent`` only shape the wording.
    """
    last = conversation.last_inbound
    if last is None:
        return []
    raw = last.analysed_text
    if not raw:
        return []
    text = normalize(raw)
    messages = conversation.messages
    # ``list.index`` without pydantic's costly ``==`` on every earlier message: a
    # message with another id cannot equal ``last``.
    position = next(
        i for i, m in enumerate(messages) if m is last or (m.id == last.id and m == last)
    )
    history = messages[:position]
    before, after = _text_signals(text)
    stuck = stuck_signal(last, history)
    missing = _missing_context(text, bool(history))
    found = (*before, stuck, missing, *after)
    # Copies: the cached signals are shared by every analysis of the same line, and
    # callers own (and may alter) what they get.
    return [signal.model_copy() for signal in found if signal is not None]


@lru_cache(maxsize=4096)
def _text_signals(text: str) -> tuple[tuple[Signal | None, ...], tuple[Signal | None, ...]]:
    """The signals that read only the (normalised) latest line, in :func:`detect_signals`'
    order: those before ``stuck``/``missing_context`` and those after. Cached by text:
    the same lines come back on every re-analysis of a conversation."""
    hot = hot_signal(text)
    complex_ = complex_signal(text)
    if complex_ is not None and hot is not None and _volume_only(complex_):
        # A team buying seats this week with a call tomorrow is ready to close:
        # the volume alone needs no scoping, so the salesperson is called as hot.
        complex_ = None
    return (explicit_signal(text), sensitive_signal(text), complex_, hot), (injection_signal(text),)


@lru_cache(maxsize=4096)
def _missing_context(text: str, has_history: bool) -> Signal | None:
    # missing_context_signal reads only whether there is a history, never what it
    # holds: keyed on that, the cache covers every conversation.
    return missing_context_signal(text, [None] if has_history else [])  # type: ignore[list-item]


def explicit_signal(text: str) -> Signal | None:
    """A safety net under the intent classifier: an explicit ask for a person
    (``human_request``) or an unmistakable complaint (``complaint``), even when
    buried in a long message whose primary intent is something else."""
    lex = _lexicon()
    for groups, reason in (
        (lex.person, HandoffReason.HUMAN_REQUEST),
        (lex.complaint, HandoffReason.COMPLAINT),
    ):
        for group in groups:
            cue = group.find(text)
            if cue:
                return Signal(
                    name=reason.value, reason=reason, score=0.8, detail=f"{group.label}: '{cue}'"
                )
    return None


def hot_signal(text: str) -> Signal | None:
    """A ``hot_lead`` signal when the lead wants to hire or book (often for a date:
    "queremos contratarlos para la boda del 12", "how do we reserve the date") or
    buys this week with a call or a payment lined up."""
    for group in _lexicon().hot:
        cue = group.find(text)
        if cue:
            return Signal(
                name="hot_lead",
                reason=HandoffReason.HOT_LEAD,
                score=0.8,
                detail=f"{group.label}: '{cue}'",
            )
    return None


def sensitive_signal(text: str) -> Signal | None:
    """A ``sensitive`` signal when the (normalised) text raises a legal, medical,
    refund, charge-dispute or personal-data matter."""
    for group in _lexicon().sensitive:
        cue = group.find(text)
        if cue:
            return Signal(
                name="sensitive",
                reason=HandoffReason.SENSITIVE,
                score=0.9,
                detail=f"{group.label}: '{cue}'",
            )
    return None


def complex_signal(text: str) -> Signal | None:
    """A ``complex`` signal for custom, negotiated, bulk or corporate requests, or
    several questions the business facts cannot answer. Weak cues (a company,
    a personalised item) only count together."""
    lex = _lexicon()
    score, cues = 0.0, []
    for group in lex.complex:
        cue = group.find(text)
        if cue:
            score += group.weight
            cues.append(f"{group.label}: '{cue}'")
    big = _big_quantity(text)
    if big:
        score += 1.0
        cues.append(f"large quantity: '{big}'")
    open_questions = _open_questions(text)
    if open_questions >= lex.min_open_questions:
        score += 1.0
        cues.append(f"{open_questions} questions beyond the business facts")
    if score < 1.0:
        return None
    return Signal(
        name="complex",
        reason=HandoffReason.COMPLEX,
        score=min(1.0, 0.5 + score / 4),
        detail="; ".join(cues),
    )


def stuck_signal(last: Message, history: list[Message]) -> Signal | None:
    """A ``stuck`` signal when the lead repeats a question the automation (bot
    replies in between) failed to answer at least twice, or after two automated
    replies demands a straight answer ("¿sí o no?", "you keep saying the same")
    or shouts a clipped form of the question in capitals."""
    # Only the automation's replies count as failures: a person already answering
    # is not a stuck automation.
    bot_replies = [
        i
        for i, m in enumerate(history)
        if m.direction is Direction.OUTBOUND and m.author is Author.BOT
    ]
    if len(bot_replies) < 2:
        return None
    lex = _lexicon()
    text = normalize(last.analysed_text)
    topic = _topic(text)
    similar = [
        i
        for i, m in enumerate(history)
        if m.is_inbound and _same_question(topic, _topic(normalize(m.analysed_text)))
    ]
    says_repeat = any(p.search(text) for p in lex.repeat_cues)
    insists = any(p.search(text) for p in lex.insist_cues)
    bot_texts = [normalize(history[i].analysed_text) for i in bot_replies]
    bot_failures = sum(any(p.search(t) for p in lex.bot_failure_cues) for t in bot_texts)
    bot_loops = len(bot_texts) >= 2 and bot_texts[-1] == bot_texts[-2] and bool(bot_texts[-1])
    failed_since_first_ask = sum(1 for i in bot_replies if similar and i > similar[0])
    evidence = None
    if similar and failed_since_first_ask >= 2:
        if len(similar) >= 2:
            evidence = f"the lead asked this {len(similar) + 1} times"
        elif (
            says_repeat or insists or bot_loops or bot_failures >= 2 or _shouts(last.analysed_text)
        ):
            evidence = "the lead repeats a question the replies did not answer"
    elif says_repeat and (bot_loops or bot_failures >= 2):
        evidence = "the lead says they are repeating themselves"
    elif (
        says_repeat
        and ("?" in text or any(p.search(text) for p in lex.unanswered_cues))
        and _reworded(topic, history, bot_replies)
    ):
        # "no me contestas: EN ROJO HAY O NO" after two replies that missed it: the
        # lead rewords the question instead of repeating it, and says so.
        evidence = "the lead rewords a question the replies did not answer"
    elif insists and _asked_before(history, bot_replies):
        # "¿sí o no?", "you keep giving me the same answer": two replies went by
        # since the lead's question and they demand a straight answer.
        evidence = "the lead demands a straight answer"
    elif _shouts(last.analysed_text) and _reworded(topic, history, bot_replies):
        # "PRECIO DEL SOFÁ" in capitals after two replies that missed the question
        evidence = "the lead repeats the question in capitals"
    if evidence is None:
        return None
    return Signal(
        name="stuck",
        reason=HandoffReason.STUCK,
        score=0.85,
        detail=f"{evidence}; {len(bot_replies)} automated replies did not help",
    )


def missing_context_signal(text: str, history: list[Message]) -> Signal | None:
    """A ``missing_context`` signal when the message refers to something the
    conversation does not hold ("lo mismo que la otra vez", "the usual")."""
    lex = _lexicon()
    if lex.missing_hints is not None and not lex.missing_hints.search(text):
        return None
    for pattern in lex.missing_context:
        match = pattern.search(text)
        if not match:
            continue
        outside = any(p.search(text) for p in lex.external_context)
        if history and not outside:
            return None
        if any(p.search(text) for p in lex.closing):
            # "ya con lo que me dijiste me queda claro": thanks, nothing to act on
            return None
        # what the line says besides its references to things outside the chat
        rest = text
        for p in (*lex.missing_context, *lex.external_context):
            rest = p.sub(" ", rest)
        return Signal(
            name="missing_context",
            reason=HandoffReason.LOW_CONFIDENCE,
            # the reference is the whole request ("quiero el mismo que tiene mi
            # amiga"): no product is named, so nobody can act on it unaided
            score=POINTER_ONLY if len(_topic(rest)) <= 2 else 0.8,
            detail=f"refers to something not in this conversation: '{match.group(0).strip()}'",
        )
    return None


def injection_signal(text: str) -> Signal | None:
    """A ``prompt_injection`` signal (no handoff reason) when the text tries to
    instruct the assistant; the LLM engine and the reply never obey it."""
    patterns = _lexicon().injection
    any_injection = _injection_alternation(patterns)
    if any_injection is not None and not any_injection.search(text):
        return None
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return Signal(
                name="prompt_injection",
                reason=None,
                score=0.8,
                detail=f"instruction-like text: '{match.group(0).strip()}'",
            )
    return None


@cache
def _injection_alternation(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    return _alternation(patterns)


# --- helpers --------------------------------------------------------------------------


def _volume_only(signal: Signal) -> bool:
    """Whether every cue of a ``complex`` signal is only the size of the deal."""
    cues = (signal.detail or "").split("; ")
    return all(cue.startswith(_VOLUME_LABELS) for cue in cues)


def _shouts(raw: str) -> bool:
    """Whether the raw text is written in capitals (a few letters at least)."""
    letters = [c for c in raw if c.isalpha()]
    return len(letters) >= 6 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def _asked_before(history: list[Message], bot_replies: list[int]) -> bool:
    """Whether an earlier inbound message got at least two automated replies after it."""
    first = next((i for i, m in enumerate(history) if m.is_inbound and m.analysed_text), None)
    return first is not None and sum(1 for j in bot_replies if j > first) >= 2


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("s"):
        word = word[:-1]
    return word[:6]


def _topic(text: str) -> frozenset[str]:
    """Content words of a normalised text, lightly stemmed, for comparing questions."""
    stop = _lexicon().stopwords
    return frozenset(_stem(w) for w in words(text) if (w not in stop and len(w) > 1) or w.isdigit())


def _reworded(topic: frozenset[str], history: list[Message], bot_replies: list[int]) -> bool:
    """Whether an earlier inbound message shares a content word with ``topic`` and at
    least two automated replies came after it."""
    for i, message in enumerate(history):
        if message.is_inbound and topic & _topic(normalize(message.analysed_text)):
            return sum(1 for j in bot_replies if j > i) >= 2
    return False


def _same_question(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two messages ask the same thing when most content words of the shorter one
    recur in the other (two shared words at least, unless it has only one)."""
    if not a or not b:
        return False
    shared = len(a & b)
    smaller = min(len(a), len(b))
    return shared >= min(2, smaller) and shared / smaller >= 0.6


def _big_quantity(text: str) -> str | None:
    """The first quantity of goods (or of people in a company) big enough for a bulk deal."""
    lex = _lexicon()
    tokens = words(text)
    for match in _QUANTITY.finditer(text):
        raw, noun = match.group(1), match.group(2)
        amount = int(re.sub(r"[.,]", "", raw))
        before = text[: match.start()].split()
        if before and before[-1].strip(":#") in lex.id_words:
            continue
        if noun in lex.people_words:
            if amount >= lex.people_min:
                return match.group(0)
            continue
        if noun in lex.not_goods or len(noun) < 3 or noun not in tokens:
            continue
        if lex.bulk_min <= amount < 100_000:
            return match.group(0)
    return None


def _open_questions(text: str) -> int:
    """How many question segments of the text touch none of the routine topics."""
    lex = _lexicon()
    pieces = [p for p in _QUESTION_SPLIT.split(text) if len(words(p)) >= 2]
    if len(pieces) < lex.min_open_questions:
        return 0
    return sum(1 for piece in pieces if not lex.routine_question.search(piece))
