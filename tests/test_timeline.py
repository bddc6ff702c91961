"""Timeline buckets counted from the message's own date (taxonomy: "Timeline buckets")."""

from __future__ import annotations

from datetime import date

import pytest

from copilot.engines.rules.timeline import bucket_for, find_timeline, parse_explicit_date
from copilot.taxonomy import TimelineBucket as B

FRIDAY = date(2026, 11, 20)  # Friday; November has 30 days


def _bucket(text: str, today: date = FRIDAY, language: str = "es") -> B | None:
    found = find_timeline(text, today, language)
    return found[-1].bucket if found else None


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("lo necesito hoy", "es", B.IMMEDIATE),
        ("si, mañana puedo ir en la tarde", "es", B.IMMEDIATE),
        ("este fin de semana", "es", B.IMMEDIATE),
        ("la próxima semana", "es", B.IMMEDIATE),
        ("la semana que viene", "es", B.IMMEDIATE),
        ("el viernes", "es", B.IMMEDIATE),  # said on a Friday: next Friday, 7 days
        ("necesito una bodega YA, me sacaron", "es", B.IMMEDIATE),
        ("es urgente", "es", B.IMMEDIATE),
        ("asap please", "en", B.IMMEDIATE),
        ("tomorrow morning", "en", B.IMMEDIATE),
        ("pode ser amanhã de manhã?", "pt", B.IMMEDIATE),
        ("hoje não dá, pode ser segunda?", "pt", B.IMMEDIATE),
        ("semana que vem", "pt", B.IMMEDIATE),
        ("el 27 de noviembre", "es", B.IMMEDIATE),  # day 7
        ("el sábado 28", "es", B.THIS_MONTH),  # day 8
        ("es para el 28 de noviembre", "es", B.THIS_MONTH),
        ("el 30", "es", B.THIS_MONTH),
        ("antes de fin de mes", "es", B.THIS_MONTH),  # Nov 30 is 10 days away
        ("before the end of the month", "en", B.THIS_MONTH),
        ("até o fim do mês", "pt", B.THIS_MONTH),
        ("el 15 de diciembre", "es", B.LATER),
        ("December 10th", "en", B.LATER),
        ("para navidad", "es", B.LATER),
        ("en enero", "es", B.LATER),
        ("in March", "en", B.LATER),
        ("em dezembro, dia 19", "pt", B.LATER),
        ("no ano que vem", "pt", B.LATER),
        ("el próximo mes", "es", B.LATER),
        ("el 31", "es", B.LATER),  # November has no 31st: December 31
        ("el 15", "es", B.LATER),  # the 15th has passed: December 15
        ("en 2 semanas", "es", B.LATER),
        ("el 20/12", "es", B.LATER),
    ],
)
def test_buckets_from_friday_november_20(text: str, language: str, expected: B) -> None:
    assert _bucket(text, language=language) == expected


def test_end_of_month_is_immediate_when_it_is_within_a_week() -> None:
    assert _bucket("lo necesito antes de fin de mes", date(2026, 11, 25)) == B.IMMEDIATE


def test_a_bare_day_after_the_month_turns() -> None:
    sunday_29 = date(2026, 11, 29)
    assert _bucket("para el 15", sunday_29) == B.LATER
    assert _bucket("para el 2", sunday_29) == B.IMMEDIATE  # December 2, 3 days away


def test_next_week_across_the_month_end_is_still_immediate() -> None:
    saturday_28 = date(2026, 11, 28)
    assert _bucket("la próxima semana", saturday_28) == B.IMMEDIATE
    assert _bucket("el lunes", saturday_28) == B.IMMEDIATE


def test_across_the_year_end() -> None:
    december_28 = date(2026, 12, 28)
    assert _bucket("el 2 de enero", december_28) == B.IMMEDIATE
    assert _bucket("en enero", december_28) == B.LATER
    assert parse_explicit_date("3 de enero", "es", december_28) == date(2027, 1, 3)


def test_a_month_said_in_that_month_is_this_month() -> None:
    assert _bucket("en noviembre", date(2026, 11, 3)) == B.THIS_MONTH


@pytest.mark.parametrize(
    "text",
    [
        "Ya, y tienen horario en la mañana?",  # "ya" = ok (Chile), "en la mañana" = morning
        "clases por la mañana",
        "trabajo de lunes a viernes",
        "Hoy lo hacemos con llamadas a los conductores",
        "Moro no Rio de Janeiro",
        "desde ya gracias",
        "somos 15 personas",
        "un mazda 3 2015",
        "hola, buenas tardes",
        "",
        "   ",
        "👍😀",
    ],
)
def test_not_a_timeline(text: str) -> None:
    assert _bucket(text, language="pt" if "Moro" in text else "es") is None


@pytest.mark.parametrize(
    "text",
    [
        "me pueden llamar mañana?",
        "¿Podemos hacer una videollamada el lunes?",
        "a demo next week would be great",
        "me liga amanhã",
    ],
)
def test_a_date_for_a_call_or_demo_is_no_timeline(text: str) -> None:
    language = "en" if "demo next" in text else "pt" if "liga" in text else "es"
    assert _bucket(text, language=language) is None
    assert find_timeline(text, FRIDAY, language, skip_meetings=False)


def test_spans_point_into_the_original_text() -> None:
    text = "Perdón, mejor para el 15 de Diciembre"
    (mention,) = find_timeline(text, FRIDAY, "es")
    assert text[mention.start : mention.end] == "15 de Diciembre"
    assert mention.when == date(2026, 12, 15)


def test_bucket_for_boundaries() -> None:
    assert bucket_for(date(2026, 11, 27), FRIDAY) == B.IMMEDIATE
    assert bucket_for(date(2026, 11, 28), FRIDAY) == B.THIS_MONTH
    assert bucket_for(date(2026, 12, 1), FRIDAY) == B.LATER
    assert bucket_for(date(2026, 12, 1), date(2026, 11, 28)) == B.IMMEDIATE


# --- colloquial month cues, "ya?", an explicit day beats "este mes" -------------------


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("quiero bajar de peso pa diciembre", "es", B.LATER),  # said in November
        ("algo pa enero", "es", B.LATER),
        ("ocupo un mariachi pal enero", "es", B.LATER),
        ("a personal trainer starting March", "en", B.LATER),
        ("queria começar pilates a partir de março", "pt", B.LATER),
        ("la puedo llevar ya?", "es", B.IMMEDIATE),
        ("pa la otra semana si se puede", "es", B.IMMEDIATE),
    ],
)
def test_colloquial_cues(text: str, language: str, expected: B) -> None:
    assert _bucket(text, language=language) is expected


def test_an_explicit_day_beats_the_words_this_month() -> None:
    december_3 = date(2026, 12, 3)
    assert _bucket("necesito mudanza para el 10 de este mes", december_3) is B.IMMEDIATE
    assert _bucket("pintar la casa para el 28 de este mes", december_3) is B.THIS_MONTH
    # Without a day, "este mes" still says this month.
    assert _bucket("lo necesito este mes", december_3) is B.THIS_MONTH


def test_marco_is_a_month_only_in_portuguese() -> None:
    assert _bucket("desde marco lo uso", language="es") is None


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("ni idea, cuando consiga la plata", "es", B.UNKNOWN),
        ("cuando me paguen la prima lo compro", "es", B.UNKNOWN),
        ("só quando tiver o dinheiro", "pt", B.UNKNOWN),
        ("idealmente antes de diciembre", "es", B.THIS_MONTH),
        ("antes de enero", "es", B.LATER),
        ("vcs entregam na semana q vem?", "pt", B.IMMEDIATE),
    ],
)
def test_vague_money_mentions_and_before_a_month(text: str, language: str, expected: B) -> None:
    assert _bucket(text, language=language) is expected


def test_no_date_yet_is_no_timeline() -> None:
    assert _bucket("todavía no tenemos fecha") is None
