"""Money amounts in LATAM, Spanish, Brazilian and English writing, and their currency."""

from __future__ import annotations

import pytest

from copilot.engines.rules.money import Money, find_money, resolve_currency


def _one(text: str, language: str = "es") -> Money:
    found = find_money(text, language)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "language", "amount", "currency", "hint"),
    [
        ("unos 2 palos maximo", "es", 2_000_000, None, "COP"),
        ("tengo 2 palitos", "es", 2_000_000, None, "COP"),
        ("un palo", "es", 1_000_000, None, "COP"),
        ("medio palo", "es", 500_000, None, "COP"),
        ("tengo hasta 500 lucas", "es", 500_000, None, "ARS"),
        ("15 mil varos nomás", "es", 15_000, "MXN", None),
        ("1.5M", "en", 1_500_000, None, None),
        ("budget is 1.5M USD", "en", 1_500_000, "USD", None),
        ("tengo 1,5 millones", "es", 1_500_000, None, None),
        ("R$ 2 mil", "pt", 2_000, "BRL", None),
        ("R$ 4.500", "pt", 4_500, "BRL", None),
        ("3k usd per year", "en", 3_000, "USD", None),
        ("$1.200.000", "es", 1_200_000, None, "DOLLAR_SIGN"),
        ("$18,000", "es", 18_000, None, "DOLLAR_SIGN"),
        ("$250,000 USD", "en", 250_000, "USD", "DOLLAR_SIGN"),
        ("US$ 500", "es", 500, "USD", None),
        ("20 mil pesos", "es", 20_000, None, "PESO"),
        ("2 millones de pesos", "es", 2_000_000, None, "PESO"),
        ("dos millones", "es", 2_000_000, None, None),
        ("quinientos mil", "es", 500_000, None, None),
        ("cien mil pesos", "es", 100_000, None, "PESO"),
        ("dois mil reais", "pt", 2_000, "BRL", None),
        ("two thousand dollars", "en", 2_000, "USD", None),
        ("un millón", "es", 1_000_000, None, None),
        ("medio millón", "es", 500_000, None, None),
        ("2 millones y medio", "es", 2_500_000, None, None),
        ("dos millones y medio", "es", 2_500_000, None, None),
        ("entre 3 y 4 millones", "es", 4_000_000, None, None),
        ("de 3 a 4 millones", "es", 4_000_000, None, None),
        ("de $300 a $400 mil", "es", 400_000, None, "DOLLAR_SIGN"),
        ("400 €", "es", 400, "EUR", None),
        ("600 euros", "es", 600, "EUR", None),
        ("3 mil soles", "es", 3_000, "PEN", None),
        ("S/ 1200", "es", 1_200, "PEN", None),
        ("1500 dólares", "es", 1_500, "USD", None),
        ("500 dollars", "en", 500, "USD", None),
        ("150 millones", "es", 150_000_000, None, None),
        ("1.100.000", "es", 1_100_000, None, None),
        ("1.200.000,50", "es", 1_200_000.5, None, None),
    ],
)
def test_amounts(
    text: str, language: str, amount: float, currency: str | None, hint: str | None
) -> None:
    money = _one(text, language)
    assert money.amount == pytest.approx(amount)
    assert money.currency == currency
    assert money.hint == hint


def test_spans_point_into_the_original_text() -> None:
    text = "Hola! tengo dos millones y medio para el sofá"
    money = _one(text)
    assert text[money.start : money.end] == "dos millones y medio"


def test_words_and_symbols_mark_money_but_a_bare_number_does_not() -> None:
    assert _one("tengo 20 mil").marked
    assert _one("1.5M").marked
    assert not _one("somos 120").marked


def test_metres_are_not_millions() -> None:
    assert _one("un local de 60 m").amount == 60
    assert _one("60 m2").amount == 60


def test_two_numbers_without_money_words_are_no_range() -> None:
    assert [m.amount for m in find_money("somos 3 y 4 personas")] == [3, 4]


@pytest.mark.parametrize("text", ["", "   ", "hola", "😀😀", "sin números aquí"])
def test_no_money(text: str) -> None:
    assert find_money(text) == ()


@pytest.mark.parametrize(
    ("text", "country", "language", "expected"),
    [
        ("2 palos", None, "es", "COP"),
        ("2 palos", "CL", "es", "CLP"),  # "palo" is a million in Chile too
        ("500 lucas", None, "es", "ARS"),
        ("500 lucas", "CL", "es", "CLP"),
        ("20 mil pesos", "MX", "es", "MXN"),
        ("20 mil pesos", None, "es", "COP"),  # the profile's currency
        ("$1.200.000", None, "es", "COP"),
        ("$1.200.000", "AR", "es", "ARS"),
        ("$3,000", None, "en", "USD"),
        ("$3,000", "EC", "es", "USD"),
        ("2 mil", None, "pt", "BRL"),
        ("2 mil", "PE", "es", "PEN"),
        ("2 mil", "ES", "es", "EUR"),
        ("5000 reais", "CO", "es", "BRL"),  # said explicitly: beats the country
        ("2 millones", None, "es", "COP"),
    ],
)
def test_currency(text: str, country: str | None, language: str, expected: str) -> None:
    assert resolve_currency(_one(text, language), country, language, "COP") == expected


def test_lucas_without_cue_follow_a_chilean_profile() -> None:
    assert resolve_currency(_one("300 lucas"), None, "es", "CLP") == "CLP"


# --- a symbol after the number, pounds, dollarised countries -------------------------


@pytest.mark.parametrize(
    ("text", "amount", "currency", "hint"),
    [
        ("tengo 50$ nada más", 50, None, "DOLLAR_SIGN"),
        ("unos 120 $ para la batería", 120, None, "DOLLAR_SIGN"),
        ("Budget £40 per lesson", 40, "GBP", None),
        ("about £1,500 all in", 1500, "GBP", None),
        ("I've got 60 quid", 60, "GBP", None),
        ("30£ por hora", 30, "GBP", None),
    ],
)
def test_symbols_after_the_number_and_pounds(
    text: str, amount: float, currency: str | None, hint: str | None
) -> None:
    money = _one(text, "en" if "£" in text or "quid" in text else "es")
    assert (money.amount, money.currency, money.hint) == (amount, currency, hint)


def test_a_dollar_sign_in_venezuela_is_the_us_dollar() -> None:
    assert resolve_currency(_one("tengo 50$"), "VE", "es", "COP") == "USD"
    assert resolve_currency(_one("tengo 50$"), "MX", "es", "COP") == "MXN"
