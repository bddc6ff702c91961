"""Safe template rendering: single-pass substitution of known ``{variables}``.

Values can hold lead text (a name, a need). They are inserted once and never
read again as template syntax, so a lead called ``{business_name}`` or
``{{x}}`` stays literal. There is no ``str.format`` and no Jinja here: a
template can only reference names, never attributes, indexes or code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

_VARIABLE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r" +([.,;:!?)])")
_COMMA_BEFORE_STOP = re.compile(r",\s*([.!?])")
_EMPTY_PARENS = re.compile(r"\(\s*\)")

#: Longest value a variable takes; longer values are cut at a word boundary.
MAX_VALUE_CHARS = 600


def render(template: str, values: Mapping[str, str], *, tidy: bool = True) -> str:
    """Fill ``{name}`` placeholders of ``template`` from ``values`` in one pass.

    Names missing from ``values`` render as an empty string (the profile
    validator already rejects unknown names, so a missing one is simply "no
    value", e.g. no lead name). With ``tidy`` the spacing and punctuation left
    around empty values are cleaned ("Hola ." -> "Hola.").
    """

    names = _variables_in(template)
    # Only the values the template uses matter: cached on them, since the same
    # replies are rendered again and again.
    used = tuple(values.get(name, "") for name in names)
    try:
        return _render(template, used, tidy)
    except TypeError:  # an unhashable value: render it uncached
        return _render.__wrapped__(template, used, tidy)


@lru_cache(maxsize=4096)
def _render(template: str, used: tuple[str, ...], tidy: bool) -> str:
    values = dict(zip(_variables_in(template), used, strict=True))

    def fill(match: re.Match[str]) -> str:
        # A function replacement is inserted verbatim: no backslash or group
        # processing, and the result is never scanned again.
        return values[match.group(1)]

    text = _VARIABLE.sub(fill, template)
    return tidy_text(text) if tidy else text


@lru_cache(maxsize=4096)
def tidy_text(text: str) -> str:
    """Collapse doubled spaces and fix punctuation left by empty variables."""
    # Cached: the same replies are rendered again and again (a pure function of a str).
    text = _EMPTY_PARENS.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _COMMA_BEFORE_STOP.sub(r"\1", text)
    return text.strip()


def variables_in(template: str) -> list[str]:
    """Names of the ``{variables}`` a template uses, in order, without repeats."""
    return list(_variables_in(template))


@lru_cache(maxsize=1024)
def _variables_in(template: str) -> tuple[str, ...]:
    # A tuple, so no caller can alter the cached names.
    return tuple(dict.fromkeys(_VARIABLE.findall(template)))


def clean_value(value: str | None, max_chars: int = MAX_VALUE_CHARS) -> str:
    """Make untrusted text safe to put in a one-line reply.

    Drops control, format (zero-width, bidi) and private-use characters,
    folds whitespace (including newlines) to single spaces and cuts to
    ``max_chars`` at a word boundary. Braces and other punctuation are kept:
    the renderer never interprets values.
    """
    if not value:
        return ""
    value = str(value)
    if len(value) > _CACHED_CHARS:  # a long paste: not worth keeping around
        return _clean_value.__wrapped__(value, max_chars)
    return _clean_value(value, max_chars)


#: Longest value whose cleaning is cached.
_CACHED_CHARS = 1000


@lru_cache(maxsize=4096)
def _clean_value(value: str, max_chars: int) -> str:
    # Cached: names, needs and the profile's values come back on every reply.
    kept = [
        " " if ch.isspace() else ch
        for ch in value
        if ch.isspace() or unicodedata.category(ch) not in {"Cc", "Cf", "Co", "Cs", "Cn"}
    ]
    text = " ".join("".join(kept).split())
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return text


#: Longest lead name the greeting shows.
MAX_NAME_CHARS = 40
_NOT_A_NAME = re.compile(r"\d|@|https?:|www\.", re.IGNORECASE)


def clean_name(value: str | None) -> str:
    """A lead's name fit for a greeting, or ``""`` when it does not look like one.

    Emoji and symbols are dropped ("Laura 🌸" -> "Laura"); digits, e-mail
    addresses and links are not names; at most three words and
    :data:`MAX_NAME_CHARS` characters are kept.
    """
    return _clean_name(clean_value(value, max_chars=200))


@lru_cache(maxsize=4096)
def _clean_name(text: str) -> str:
    text = "".join(ch for ch in text if unicodedata.category(ch) not in {"So", "Sk", "Sm"})
    text = " ".join(text.split()[:3])
    if not text or _NOT_A_NAME.search(text) or not any(ch.isalpha() for ch in text):
        return ""
    return clean_value(text, max_chars=MAX_NAME_CHARS)
