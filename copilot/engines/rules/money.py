"""Amounts of money in WhatsApp Spanish, Portuguese and English.

Handles the formats and the slang leads use: "$1.200.000", "1,5 millones", "1.5M",
"3k usd", "R$ 2 mil", "20 mil pesos", "2 palos" (Colombia: millions), "500 lucas"
(Argentina, Chile: thousands), "15 mil varos" (Mexico: pesos), "dos millones" and
"quinientos mil" (number words, through ``text2num``), ranges ("entre 3 y 4
millones": the upper end, what the lead can reach) and "y medio".

:func:`find_money` only finds amounts; whether an amount is the lead's budget, and
which currency a bare "$" or "pesos" means, is decided by the callers with the
conversation's context (:func:`resolve_currency`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from text_to_num import alpha2digit

from copilot.engines.rules.fields_lexicon import lexicon
from copilot.engines.rules.normalize import fold

#: Currencies written "pesos" in each country.
PESO_COUNTRIES = {"CO": "COP", "MX": "MXN", "AR": "ARS", "CL": "CLP", "UY": "UYU", "DO": "DOP"}
#: Countries where a bare "$" is the US dollar.
DOLLAR_COUNTRIES = {"US", "EC", "PA", "SV", "PR", "VE"}  # Venezuela prices in dollars

# Number words text2num reads (es, pt, en); a run of them is converted at once.
_NUMBER_WORDS = (  # noqa: SIM905 (one readable block, not 120 quoted words)
    "cero uno una un dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce "
    "quince dieciseis diecisiete dieciocho diecinueve veinte veintiun veintiuno veintidos "
    "veintitres veinticuatro veinticinco veintiseis veintisiete veintiocho veintinueve treinta "
    "cuarenta cincuenta sesenta setenta ochenta noventa cien ciento doscientos doscientas "
    "trescientos cuatrocientos quinientos seiscientos setecientos ochocientos novecientos mil "
    "millon millones um uma dois duas quatro sete oito nove dez onze doze treze quatorze "
    "catorze quinze dezesseis dezessete dezoito dezenove vinte trinta quarenta cinquenta "
    "sessenta oitenta cem cento duzentos trezentos quatrocentos quinhentos seiscentos "
    "setecentos oitocentos novecentos milhao milhoes one two three four five six seven eight "
    "nine ten eleven twelve fifteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred thousand million"
).split()
_WORD_ALT = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_JOINERS = r"(?:y|e|and)"
_NUMBER_RUN = re.compile(rf"\b(?:{_WORD_ALT})(?:\s+(?:{_JOINERS}\s+)?(?:{_WORD_ALT}))*\b(?!\s*[%])")
# Articles ("un", "una") alone are no number worth converting: "un sofá".
_ARTICLES = {"un", "una", "uno", "um", "uma", "one", "a"}
_STRONG_ALT = "|".join(sorted(set(_NUMBER_WORDS) - _ARTICLES, key=len, reverse=True))
_HAS_NUMBER_WORD = re.compile(rf"\b(?:{_STRONG_ALT})\b")
_DIGIT = re.compile(r"\d")
_BARE_MAGNITUDES = {"mil", "cien", "ciento", "cem", "hundred", "thousand", "million", "millon"}
_CURRENCY_NEXT = re.compile(
    r"\s*(?:de\s+)?(?:pesos?|dolares|dollars?|reais|euros?|soles|usd|lucas|palos|varos)\b"
)
_MAGNITUDE_WORD = re.compile(r"\b(?:mil|millon|millones|milhao|milhoes|thousand|million)\b")
_LANG = {"es": "es", "pt": "pt", "en": "en"}

_NUM = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"
_PREFIX = r"us\$|u\$s|r\$|s/\.?|\$|€|£|usd|cop|mxn|ars|clp|pen|brl|eur|gbp"


def _mult_alternation() -> str:
    lex = lexicon()
    # Single letters ("k", "m") only count glued to the number ("3k", "1.5M"): "60 m"
    # is metres.
    words = [w for w in (*lex.multipliers, *lex.slang) if len(w) > 1]
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


def _suffix_alternation() -> str:
    words = [w for w in lexicon().currency_words if w != "$"]
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(number, prefix before it, range after it, words after it), compiled once.

    The scan is driven by the digits (a pattern starting with a digit is fast to
    search); the symbol before and the words after are checked at each number."""
    mult = _mult_alternation()
    suffix = _suffix_alternation()
    number = re.compile(rf"(?<![\w.,])(?:{_NUM})")
    prefix = re.compile(rf"(?<![\w])(?:{_PREFIX})\s?$")
    joined = re.compile(rf"\s*(?:y|a|-|e|to|and|o)\s*(?:(?:{_PREFIX})\s?)?(?={_NUM})")
    after = re.compile(
        rf"(?:(?P<tight>[km])(?![\w])|\s*(?P<mult>{mult})(?![\w]))?"
        rf"(?P<half>\s+(?:y|e|and a)\s+(?:medio|meio|half))?"
        # A symbol after the number: "900€", "tengo 50$", "40£".
        rf"(?:\s*(?:de\s+|of\s+)?(?P<post>{suffix})(?![\w])|\s?(?P<euro>[€$£])(?![\w$]))?"
    )
    return number, prefix, joined, after


@dataclass(frozen=True)
class Money:
    """One amount found in a text, with where it is."""

    amount: float
    #: ISO 4217 code when the text says it ("usd", "R$", "soles"); else None.
    currency: str | None
    #: What the text implies when it does not say: "PESO", "DOLLAR_SIGN" or the
    #: currency a slang word suggests ("palos" -> "COP"); None when nothing.
    hint: str | None
    start: int
    end: int
    #: True when something says it is money (a symbol, code, slang or magnitude word).
    marked: bool
    #: True when the number was followed by a magnitude word ("mil", "millones", "k").
    magnitude: bool


def _number(text: str) -> float | None:
    """Value of a written number, telling thousands separators from decimals."""
    seps = [ch for ch in text if ch in ".,"]
    if not seps:
        return float(text)
    groups = re.split(r"[.,]", text)
    if len(seps) == 1:
        tail = groups[1]
        if len(tail) == 3:
            return float(groups[0] + tail)
        return float(f"{groups[0]}.{tail}")
    if len(set(seps)) == 1:
        if all(len(g) == 3 for g in groups[1:]):
            return float("".join(groups))
        return None
    # Mixed: the last separator is the decimal one ("1.200.000,50").
    last = max(text.rfind("."), text.rfind(","))
    whole = re.sub(r"[.,]", "", text[:last])
    return float(f"{whole}.{text[last + 1 :]}")


def _half(amount: float, multiplier: float) -> float:
    """What "y medio" adds: half of the magnitude just said ("2 millones y medio")."""
    if multiplier > 1:
        return 0.5 * multiplier
    for magnitude in (1_000_000, 1000):
        if amount >= magnitude and amount % magnitude == 0:
            return 0.5 * magnitude
    return 0.5


def _rewrite_number_words(folded: str, language: str) -> tuple[str, list[int]]:
    """Replace number words by digits ("dos millones" -> "2000000"); return the new
    text and, for each of its characters, the index of the source character."""
    if not _HAS_NUMBER_WORD.search(folded):
        return folded, list(range(len(folded) + 1))
    lang = _LANG.get(language, "es")
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for match in _NUMBER_RUN.finditer(folded):
        start, end = match.span()
        if re.search(r"\d\s*$", folded[max(0, start - 4) : start]):
            # "2 millones", "15 mil": magnitude words after digits stay words.
            continue
        out.append(folded[pos:start])
        index.extend(range(pos, start))
        words = match.group(0).split()
        if set(words) <= _ARTICLES:
            continue
        if (
            len(words) == 1
            and words[0] in _BARE_MAGNITUDES
            and not _CURRENCY_NEXT.match(folded, end)
        ):
            continue  # "mil gracias" is no thousand
        converted = alpha2digit(match.group(0), lang, threshold=0)
        out.append(converted)
        # Every new character points at the run's start; the run's end closes it.
        index.extend([start] * len(converted))
        if converted:
            index[-1] = end - 1
        pos = end
    out.append(folded[pos:])
    index.extend(range(pos, len(folded) + 1))
    return "".join(out), index


_ARTICLE_AMOUNT = re.compile(
    r"\b(?:(?P<one>un|una|um|uma|a|one)|(?P<half>medio|meio|half an?))"
    r"(?=\s+(?:palos?|palitos?|lucas?|millon|milhao|million|mil)\b)"
)


def _article_numbers(text: str) -> str:
    """ "un palo", "un millón", "medio palo": give the article a digit (same length)."""
    return _ARTICLE_AMOUNT.sub(
        lambda m: ("1" if m.group("one") else "0.5").ljust(len(m.group(0))), text
    )


@lru_cache(maxsize=4096)
def find_money(text: str, language: str = "es") -> tuple[Money, ...]:
    """Every amount in ``text`` (spans index the original text), in order."""
    if not text:
        return ()
    if not _DIGIT.search(text):
        folded = fold(text)
        if not _HAS_NUMBER_WORD.search(folded) and not _ARTICLE_AMOUNT.search(folded):
            return ()
    lex = lexicon()
    folded = _article_numbers(fold(text))
    work, index = _rewrite_number_words(folded, language)
    found: list[Money] = []
    number_re, prefix_re, joined_re, after_re = _patterns()
    numbers = list(number_re.finditer(work))
    skip_until = -1
    for i, number in enumerate(numbers):
        if number.start() < skip_until:
            continue
        value = _number(number.group(0))
        if value is None:
            continue
        pre = prefix_re.search(work, max(0, number.start() - 5), number.start())
        start_pos = pre.start() if pre else number.start()
        low: float | None = None
        last = number
        joined = joined_re.match(work, number.end())
        if joined and i + 1 < len(numbers) and numbers[i + 1].start() == joined.end():
            # A range ("entre 3 y 4 millones"): the upper end is what the lead can reach.
            low, last = value, numbers[i + 1]
            value = _number(last.group(0))
            if value is None:
                continue
        tail = after_re.match(work, last.end())
        if low is not None and not (tail and tail.group(0)):
            # "3 y 4" with nothing after is no money range; read the first alone.
            low, last, value = None, number, _number(number.group(0)) or 0.0
            tail = after_re.match(work, number.end())
        marks = [pre.group(0) if pre else None]
        if low is not None:
            between = work[number.end() : last.start()]
            marks.append(between.strip(" -yaetond") or None)
        mult_word = (tail.group("tight") or tail.group("mult")) if tail else None
        multiplier, slang_currency = 1.0, None
        if mult_word:
            if mult_word in lex.slang:
                multiplier, slang_currency = lex.slang[mult_word]
                slang_currency = slang_currency or None
            else:
                multiplier = lex.multipliers.get(mult_word, 1.0)
        amount = value * multiplier
        if low is not None:
            amount = max(amount, low * multiplier)
        if tail and tail.group("half"):
            amount += _half(amount, multiplier)
        if tail:
            marks.append(tail.group("post"))
            if tail.group("euro"):
                marks.append(tail.group("euro"))
        currency, hint = None, slang_currency
        for mark in marks:
            if not mark:
                continue
            code = lex.currency_words.get(mark.strip())
            if code is None:
                code = mark.strip().upper() if mark.strip().isalpha() else None
            if code in ("DOLLAR_SIGN", "PESO"):
                hint = hint if hint and code == "DOLLAR_SIGN" else code
            elif code:
                currency = code
        end_pos = tail.end() if tail and tail.group(0) else last.end()
        skip_until = end_pos
        start = index[min(start_pos, len(index) - 1)]
        end = index[min(end_pos - 1, len(index) - 1)] + 1
        spelled = bool(_MAGNITUDE_WORD.search(folded, start, end))
        marked = bool(mult_word or currency or hint or any(marks) or spelled)
        found.append(
            Money(
                amount=amount,
                currency=currency,
                hint=hint,
                start=start,
                end=end,
                marked=marked,
                magnitude=bool(mult_word) or spelled,
            )
        )
    return tuple(found)


def resolve_currency(
    money: Money, country: str | None, language: str, profile_currency: str
) -> str:
    """The ISO 4217 code of ``money``: said in the text, else implied by slang, a bare
    "$" or "pesos" read with the lead's country, else the country's currency, else
    Portuguese -> BRL, else the business profile's currency."""
    lex = lexicon()
    if money.currency:
        return money.currency
    country_currency = lex.currency_of.get(country) if country else None
    hint = money.hint
    if hint == "PESO":
        if country in PESO_COUNTRIES:
            return PESO_COUNTRIES[country]
        return profile_currency
    if hint == "DOLLAR_SIGN":
        if country in PESO_COUNTRIES:
            return PESO_COUNTRIES[country]
        if country in DOLLAR_COUNTRIES or (country is None and language == "en"):
            return "USD"
        if country_currency:
            return country_currency
        return "BRL" if language == "pt" else profile_currency
    if hint and country is None and hint in ("ARS", "CLP") and profile_currency in ("ARS", "CLP"):
        return profile_currency
    if hint:
        # Slang: the country's own currency when known ("2 palos" in Chile), else
        # the currency the word is typical of.
        return country_currency or hint
    if country_currency:
        return country_currency
    if language == "pt":
        return "BRL"
    return profile_currency
