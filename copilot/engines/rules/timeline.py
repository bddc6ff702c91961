"""For when: time expressions in a lead's message and their bucket.

The bucket is counted from the message's own date in the business's time zone
(``docs/taxonomy.md``): ``immediate`` within 7 days (today, tomorrow, this weekend, next
week, "ya", "asap", "urgente"), ``this_month`` later but within the current
calendar month, ``later`` after it. Cheap patterns find the expressions; explicit
dates ("el 15 de diciembre", "December 10th", "20/12") go to ``dateparser``, only
when such a token is there, and its answers are cached (it takes milliseconds).
A date inside a meeting request ("llámame mañana", "a demo next week") is no
timeline: the lead asks to talk, not to be served then.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import dateparser

from copilot.engines.rules.fields_lexicon import lexicon
from copilot.engines.rules.normalize import fold
from copilot.taxonomy import TimelineBucket

IMMEDIATE_DAYS = 7

_MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "janeiro": 1, "fevereiro": 2, "maio": 5, "junho": 6, "julho": 7,
    "setembro": 9, "outubro": 10, "novembro": 11, "dezembro": 12, "january": 1,
    "february": 2, "march": 3, "april": 4, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
# Month words that are also common words ("marco" is a name in Spanish, "may" a verb,
# "mar" the sea): only with a day number, or in the language where they are months.
_MONTHS_WITH_DAY = {"may": 5, "marco": 3, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6,
                    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
                    "dic": 12, "ene": 1, "dez": 12, "out": 10}  # fmt: skip
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ANY_MONTH_ALT = "|".join(sorted({**_MONTHS, **_MONTHS_WITH_DAY}, key=len, reverse=True))
_WEEKDAYS = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5,
    "domingo": 6, "segunda": 0, "segunda-feira": 0, "terca": 1, "terca-feira": 1,
    "quarta": 2, "quarta-feira": 2, "quinta": 3, "quinta-feira": 3, "sexta": 4,
    "sexta-feira": 4, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3,
    "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
_PT_ONLY_WEEKDAYS = {"segunda", "terca", "quarta", "quinta", "sexta"}
_WEEKDAY_RE = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")(?![\w-])"
    r"(?!\s+(?:semana|vez|mao|opcao|opcion|parte|feira\w|class|classes|clase|clases|aula))"
)
_DAY_MONTH_RE = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|º|°)?\s*(?:de\s+|of\s+)?({_ANY_MONTH_ALT})\b"
    rf"(?:\s+(?:de\s+|del\s+)?(20\d\d))?"
)
_MONTH_DAY_RE = re.compile(rf"\b({_ANY_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*[:h])")
_SLASH_RE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?![\d/])")
_MONTH_ALONE_RE = re.compile(
    rf"\b(?:en|para|pa|pal|pra|in|em|de|desde|a partir de|hasta|antes de|by|until|no mes de|el mes de|"
    rf"starting|starting in|from|before|after|despues de|depois de|a partir de|begin\w* of|"
    rf"inicios de|finales de|fines de|principios de|mediados de|comienzos de|early|late|"
    rf"mid|inicio de|final de|fim de|start of|end of)\s+({_MONTH_ALT}|marco)\b"
)
_BEFORE = re.compile(r"(?:antes de|before|until|hasta)\s+")
_BARE_DAY_RE = re.compile(
    r"\b(?:el|para el|hasta el|antes del|el dia|dia|o dia|no dia|ate o dia|para o dia|"
    r"the|on the|by the|lunes|martes|miercoles|jueves|viernes|sabado|domingo|segunda|terca|"
    r"quarta|quinta|sexta)\s+(\d{1,2})(?:st|nd|rd|th)?\b"
    r"(?!\s*(?:de\s+|of\s+)?(?:personas|persona|invitados|convidados|pessoas|people|guests|"
    r"anos|ano|meses|mes|dias|horas|hora|puestos|sillas|m2|metros|x|:|h\b|am\b|pm\b|hs\b|"
    r"mil|k\b|%|\d|usd|pesos|reais|euros|soles|semanas|semana|minutos|min\b|años))"
)
_RELATIVE_RE = re.compile(
    r"\b(?:en|dentro de|in|em|daqui a|within|en unos|en unas|in about)\s+"
    r"(\d{1,2}|un|una|um|uma|a|one|dos|tres|cuatro|two|three|four|dois|duas|tres|quatro)\s+"
    r"(dias|dia|semanas|semana|meses|mes|days|day|weeks|week|months|month)\b"
)
_DIGIT = re.compile(r"\d")
_MONTH_WORD = re.compile(rf"\b(?:{_ANY_MONTH_ALT})\b")
_UNIT_WORD = re.compile(r"\b(?:dias?|semanas?|mes|meses|days?|weeks?|months?)\b")
_YA_RE = re.compile(r"(?<=\w)\s+ya(?=\s*(?:[,.!;?]|$))")
# "el 10 de este mes": the day says when, the words after it only which month.
_SAME_MONTH_AFTER = re.compile(r"\s*(?:de|del|of|do|da|deste|neste)?\s*$")
_CLAUSE_BREAK = re.compile(r"[.!?;,\n]")
_SMALL = {"un": 1, "una": 1, "um": 1, "uma": 1, "a": 1, "one": 1, "dos": 2, "two": 2,
          "dois": 2, "duas": 2, "tres": 3, "three": 3, "cuatro": 4, "four": 4, "quatro": 4}  # fmt: skip
_UNIT_DAYS = {"dia": 1, "dias": 1, "day": 1, "days": 1, "semana": 7, "semanas": 7, "week": 7,
              "weeks": 7, "mes": 30, "meses": 30, "month": 30, "months": 30}  # fmt: skip
_DATE_ORDER = {"en": "MDY"}


@dataclass(frozen=True)
class TimeMention:
    """One time expression: its span in the original text, bucket and date if known."""

    start: int
    end: int
    bucket: TimelineBucket
    when: date | None = None


def bucket_for(target: date, today: date) -> TimelineBucket:
    """Bucket of a target date seen from ``today`` (the message's local date)."""
    days = (target - today).days
    if days <= IMMEDIATE_DAYS:
        return TimelineBucket.IMMEDIATE
    if (target.year, target.month) == (today.year, today.month):
        return TimelineBucket.THIS_MONTH
    return TimelineBucket.LATER


def _end_of_month(today: date) -> date:
    return today.replace(day=calendar.monthrange(today.year, today.month)[1])


def _next_day_of_month(day: int, today: date) -> date | None:
    """The next date (today or later) falling on day-of-month ``day``."""
    year, month = today.year, today.month
    for _ in range(3):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if candidate >= today:
                return candidate
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return None


def _next_month_start(month: int, today: date) -> date:
    year = today.year if month >= today.month else today.year + 1
    return date(year, month, 1)


@lru_cache(maxsize=2048)
def parse_explicit_date(text: str, language: str, today: date) -> date | None:
    """An explicit date ("15 de diciembre", "December 10", "20/12") read by dateparser,
    the next one from ``today``; cached per text, language and day."""
    settings = {
        "RELATIVE_BASE": datetime(today.year, today.month, today.day, 12),
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": _DATE_ORDER.get(language, "DMY"),
        "REQUIRE_PARTS": ["day", "month"],
    }
    languages = [language] if language in ("es", "pt", "en") else ["es", "pt", "en"]
    try:
        parsed = dateparser.parse(text, languages=languages, settings=settings)
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed is None:
        return None
    result = parsed.date()
    if result < today and (today - result).days > 1:
        # "el 3 de enero" said in November means the coming January.
        try:
            result = result.replace(year=result.year + 1)
        except ValueError:
            return None
    return result


def _month_number(word: str) -> int | None:
    return _MONTHS.get(word) or _MONTHS_WITH_DAY.get(word)


@lru_cache(maxsize=4096)
def find_timeline(
    text: str, today: date, language: str = "es", skip_meetings: bool = True
) -> tuple[TimeMention, ...]:
    """Time expressions of ``text`` (spans index the original), in order. With
    ``skip_meetings`` the ones inside a meeting request, a question about opening
    hours, a past event or an existing booking are left out."""
    if not text or not text.strip():
        return ()
    lex = lexicon()
    folded = fold(text)
    found: list[TimeMention] = []

    def add(start: int, end: int, bucket: TimelineBucket, when: date | None = None) -> None:
        found.append(TimeMention(start, end, bucket, when))

    # Cheap gates: most patterns need a digit or a month word to match at all.
    has_digit = _DIGIT.search(folded) is not None
    has_month = _MONTH_WORD.search(folded) is not None
    day_month = _DAY_MONTH_RE.finditer(folded) if has_digit and has_month else ()
    for match in day_month:
        day, month = int(match.group(1)), _month_number(match.group(2))
        if month and 1 <= day <= 31:
            when = parse_explicit_date(f"{day} {match.group(2)}", language, today)
            if when is None:
                when = _dated(day, month, today)
            if when:
                add(*match.span(), bucket_for(when, today), when)
    for match in _MONTH_DAY_RE.finditer(folded) if has_digit and has_month else ():
        month, day = _month_number(match.group(1)), int(match.group(2))
        if month and 1 <= day <= 31:
            when = parse_explicit_date(match.group(0), language, today) or _dated(day, month, today)
            if when:
                add(*match.span(), bucket_for(when, today), when)
    for match in _SLASH_RE.finditer(folded) if has_digit and "/" in folded else ():
        when = parse_explicit_date(match.group(0), language, today)
        if when:
            add(*match.span(), bucket_for(when, today), when)
    for match in _MONTH_ALONE_RE.finditer(folded) if has_month else ():
        if match.group(1) == "marco" and language != "pt":
            continue
        month = _month_number(match.group(1)) or 0
        when = _next_month_start(month, today)
        if _BEFORE.fullmatch(folded, match.start(), match.start(1)):
            # "antes de diciembre" on 20 November: by the end of this month.
            when -= timedelta(days=1)
            add(match.start(1), match.end(1), bucket_for(when, today), when)
            continue
        bucket = TimelineBucket.THIS_MONTH if month == today.month else TimelineBucket.LATER
        add(match.start(1), match.end(1), bucket, when)
    for match in _BARE_DAY_RE.finditer(folded) if has_digit else ():
        day = int(match.group(1))
        when = _next_day_of_month(day, today) if 1 <= day <= 31 else None
        if when:
            add(*match.span(), bucket_for(when, today), when)
    relative = _RELATIVE_RE.finditer(folded) if _UNIT_WORD.search(folded) else ()
    for match in relative:
        count = match.group(1)
        n = int(count) if count.isdigit() else _SMALL.get(count, 1)
        when = today + timedelta(days=n * _UNIT_DAYS[match.group(2)])
        add(*match.span(), bucket_for(when, today), when)
    for match in _WEEKDAY_RE.finditer(folded):
        word = match.group(1)
        if word in _PT_ONLY_WEEKDAYS and language != "pt":
            continue
        ahead = (_WEEKDAYS[word] - today.weekday()) % 7 or 7
        add(*match.span(), TimelineBucket.IMMEDIATE, today + timedelta(days=ahead))
    for match in _YA_RE.finditer(folded) if " ya" in folded else ():
        add(match.end() - 2, match.end(), TimelineBucket.IMMEDIATE)
    for match in lex.tl_words.finditer(folded):
        kind = match.lastgroup
        if kind == "immediate":
            add(*match.span(), TimelineBucket.IMMEDIATE)
        elif kind == "this_month":
            add(*match.span(), TimelineBucket.THIS_MONTH)
        elif kind == "later":
            add(*match.span(), TimelineBucket.LATER)
        elif kind == "unknown":
            add(*match.span(), TimelineBucket.UNKNOWN)
        elif kind == "end_of_month":
            end = _end_of_month(today)
            add(*match.span(), bucket_for(end, today), end)
        else:
            month, day = lex.tl_holidays[match.group(0)]
            when = _dated(day, month, today)
            if when:
                add(*match.span(), bucket_for(when, today), when)

    if not found:
        return ()
    blocked = [m.span() for m in lex.tl_not.finditer(folded)]
    # Overlaps: explicit dates first, then the longer expression ("el sábado 28" over
    # "sábado", "15 de diciembre" over "para el 15").
    kept: list[TimeMention] = []
    for mention in sorted(found, key=lambda m: (m.when is None, -(m.end - m.start))):
        if any(s < mention.end and mention.start < e for s, e in blocked):
            continue
        if any(k.start < mention.end and mention.start < k.end for k in kept):
            continue
        kept.append(mention)
    dated = [k for k in kept if k.when is not None]
    kept = [
        k
        for k in kept
        if k.when is not None
        or k.bucket is not TimelineBucket.THIS_MONTH
        or not any(
            d.end <= k.start and _SAME_MONTH_AFTER.fullmatch(folded, d.end, k.start) for d in dated
        )
    ]
    if skip_meetings:
        kept = [m for m in kept if not _suppressed_clause(folded, m.start, m.end)]
    return tuple(sorted(kept, key=lambda m: m.start))


def _dated(day: int, month: int, today: date) -> date | None:
    """The next ``day``/``month`` on or after ``today``."""
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


def _suppressed_clause(folded: str, start: int, end: int) -> bool:
    left = max((m.end() for m in _CLAUSE_BREAK.finditer(folded, 0, start)), default=0)
    right_match = _CLAUSE_BREAK.search(folded, end)
    right = right_match.start() if right_match else len(folded)
    lex = lexicon()
    return bool(
        lex.tl_meeting.search(folded, left, right)
        or lex.tl_not_in_clause.search(folded, left, right)
    )
