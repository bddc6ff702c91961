"""Text normalisation shared by the rules detectors.

WhatsApp lines come without accents, with stretched letters ("holaaa"),
emojis and invisible characters. Detectors match lexicons against the
normalised form so one pattern covers all of those spellings.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_INVISIBLE = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
)
_STRETCH = re.compile(r"([a-z])\1{2,}")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9ñ]+(?:'[a-z]+)?")


def strip_invisible(text: str) -> str:
    """Remove control, zero-width and bidi characters (keeps newlines and tabs)."""
    return _INVISIBLE.sub("", text)


class _CombiningTable(dict):
    """``str.translate`` table that deletes combining marks, filled on first sight
    of each character (a C-level pass instead of a Python test per character)."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        kept = None if unicodedata.combining(ch) else ch
        self[code] = kept
        return kept


_COMBINING_TABLE = _CombiningTable()


def strip_accents(text: str) -> str:
    """Remove diacritics ("canción" -> "cancion"), keeping "ñ" as "n"."""
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed  # no combining mark to remove
    return decomposed.translate(_COMBINING_TABLE)


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Lowercase, strip accents and invisible characters, shrink stretched letters
    ("holaaaa" -> "holaa") and fold whitespace. Emojis are kept."""
    text = strip_accents(strip_invisible(text).lower())
    text = _STRETCH.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """The words of an already normalised text."""
    return _WORD.findall(text)


_REPEATED_AIU = re.compile(r"([aiu])\1+")
_REPEATED_FINAL_O = re.compile(r"oo+\b")


def fold_repeats(text: str) -> str:
    """Fold the doubled letters that stretching leaves in a normalised text when no
    es/pt/en word has them ("holaa" -> "hola", "siii" -> "si", "obrigadoo" ->
    "obrigado"); "ee", "ll", "rr", "ss" are kept ("leer", "llamar", "class")."""
    return _REPEATED_FINAL_O.sub("o", _REPEATED_AIU.sub(r"\1", text))


def _fold_char(ch: str) -> str:
    if _INVISIBLE.match(ch) or ch.isspace():
        return " "
    low = ch.lower()
    if len(low) != 1:
        low = ch
    if low.isascii():
        return low
    bare = "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))
    return bare if len(bare) == 1 else low


class _FoldTable(dict):
    """``str.translate`` table filled on first sight of each character."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Lowercase and strip accents character by character, keeping the length, so a
    match at ``fold(text)[i:j]`` is ``text[i:j]`` in the original (casing and accents
    kept for values such as names and cities). Invisible characters and any
    whitespace become a plain space; nothing is shrunk or folded together."""
    return text.translate(_FOLD_TABLE)
