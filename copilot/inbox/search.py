"""Full-text search over contacts and messages: accent- and case-insensitive.

Two SQLite FTS5 indexes (``unicode61 remove_diacritics 2``), kept in step with
``contacts`` and ``messages`` by triggers (migration ``m010_search``): "sofa"
finds "Sofá", "sao" finds "São". What a person types becomes a list of quoted
prefix terms, all required (:func:`fts_query`), so no FTS syntax from a lead or
an agent ever reaches the engine. :func:`highlight` marks the matches in a text
for display, with the same folding.
"""

from __future__ import annotations

import re
import unicodedata

#: At most this many message hits, the newest, are ranked per search: a word in
#: half the file ("hola") stays fast, and an inbox looks for recent talk first.
MESSAGE_HITS = 500
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without accents, one character for each of ``text``'s (so
    positions in the folded text are positions in the original)."""
    out = []
    for char in text:
        base = unicodedata.normalize("NFD", char)[0].lower()
        out.append(base if len(base) == 1 else char)
    return "".join(out)


def terms(text: str) -> list[str]:
    """The words of a search, folded (at most 8)."""
    return [fold(w) for w in _WORD.findall(text or "")][:8]


def fts_query(text: str) -> str | None:
    """The FTS5 MATCH expression for what a person typed: every word, as a
    quoted prefix; None when it has no word to look for."""
    words = terms(text)
    if not words:
        return None
    return " ".join('"' + w.replace('"', "") + '"*' for w in words)


def highlight(text: str | None, query: str | None, width: int = 90) -> list[tuple[str, bool]]:
    """``text`` cut to about ``width`` characters around its first match, as
    (segment, is_match) pairs: a word that starts with a search term matches."""
    if not text:
        return []
    words = terms(query or "")
    folded = fold(text)
    spans = []
    for m in _WORD.finditer(folded):
        for w in words:
            if m.group().startswith(w):
                spans.append((m.start(), m.start() + len(w)))
                break
    start = 0
    if spans and len(text) > width:
        start = max(0, spans[0][0] - width // 3)
    end = min(len(text), start + width)
    parts: list[tuple[str, bool]] = []
    if start > 0:
        parts.append(("…", False))
    at = start
    for lo, hi in spans:
        if lo < at or hi > end:
            continue
        if lo > at:
            parts.append((text[at:lo], False))
        parts.append((text[lo:hi], True))
        at = hi
    if at < end:
        parts.append((text[at:end], False))
    if end < len(text):
        parts.append(("…", False))
    return parts
