"""Answers built only from the profile's facts, refused when the facts do not say."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from copilot.facts import (
    answer_question,
    format_money,
    hours_phrase,
    next_opening,
    response_time_phrase,
    topics,
)
from copilot.profile import BusinessHours, Facts, PriceItem
from copilot.taxonomy import Intent, Language

BOGOTA = ZoneInfo("America/Bogota")

ES, PT, EN = Language.ES, Language.PT, Language.EN


def test_topics():
    assert topics("a que hora abren?") == {"hours"}
    assert topics("cual es la direccion?") == {"address"}
    assert topics("cuanto sale el sofa? aceptan nequi?") == {"prices", "payment"}
    assert topics("hacen envios a Chía?") == {"delivery"}
    assert topics("donde esta mi pedido?") == set()
    assert topics("ok gracias") == set()


def test_hours_answer_uses_the_profiles_text(profile):
    answer = answer_question("a que hora abren el sábado?", profile, ES)
    assert profile.facts.hours_text["es"] in answer
    assert profile.facts.hours_text["pt"] in answer_question("que horas abre?", profile, PT)


def test_hours_in_other_languages_come_from_business_hours(profile):
    profile = profile.model_copy(
        update={"facts": profile.facts.model_copy(update={"hours_text": "lunes a viernes"})}
    )
    assert hours_phrase(profile, PT) == (
        "segunda-feira a sexta-feira das 9:00 às 18:00, sábado das 10:00 às 14:00"
    )
    assert hours_phrase(profile, EN) == "Monday to Friday 9:00–18:00, Saturday 10:00–14:00"
    assert "Monday to Friday" in answer_question("what are your opening hours?", profile, EN)


def test_address_answer(profile):
    answer = answer_question("donde estan ubicados?", profile, ES)
    assert profile.facts.address in answer and profile.facts.maps_url in answer


def test_price_of_a_listed_item_in_the_profiles_currency(profile):
    answer = answer_question("cuanto sale el escritorio en roble?", profile, ES)
    assert answer == "Escritorio en roble: $690.000 COP por unidad."
    assert "$1.200.000 COP" in answer_question("y cuanto cuesta la cama?", profile, PT)
    # Each language its own name, unit and grouping of thousands.
    assert answer_question("how much is the sofa?", profile, EN) == (
        "3-seater sofa: $1,890,000 COP per unit."
    )
    assert answer_question("quanto custa o sofá de 3 lugares?", profile, PT) == (
        "Sofá de 3 lugares: $1.890.000 COP por unidade."
    )


def test_whole_price_list_on_request(profile):
    answer = answer_question("me pasas la lista de precios?", profile, ES)
    for item in profile.facts.price_list:
        assert item.item["es"] in answer
    assert answer_question("precios de la mesa de centro?", profile, ES) is None


def test_prices_never_guessed(profile):
    assert answer_question("cuanto cuesta una mesa de centro?", profile, ES) is None
    assert answer_question("cuanto sale?", profile, ES) is None
    # Half an answer is no answer: the delivery cost is not in the facts.
    assert answer_question("cuanto cuesta el envio a Chía?", profile, ES) is None


def test_payment_methods(profile):
    assert answer_question("que formas de pago tienen?", profile, ES) == (
        "Aceptamos tarjeta de crédito, tarjeta débito, PSE, Nequi y efectivo."
    )
    yes = answer_question("aceptan nequi?", profile, ES)
    assert yes.startswith("Sí, aceptamos Nequi.")
    assert answer_question("do you accept credit cards?", profile, EN).startswith(
        "Yes, we accept credit card and debit card."
    )
    # A method the profile does not list: the list of those it does, no "yes".
    assert answer_question("aceitam pix?", profile, PT) == (
        "Aceitamos cartão de crédito, cartão de débito, PSE, Nequi e dinheiro."
    )
    mixed = answer_question("aceptan transferencia o tarjeta?", profile, ES)
    assert mixed == "Aceptamos tarjeta de crédito, tarjeta débito, PSE, Nequi y efectivo."
    assert answer_question("can I pay with Venmo?", profile, EN) == (
        "We accept credit card, debit card, PSE, Nequi and cash."
    )
    # Installments are not among the facts: no answer, not even the method list.
    assert answer_question("se puede pagar a cuotas?", profile, ES) is None


def test_delivery_areas(profile):
    assert answer_question("hacen envios a Chía?", profile, ES) == (
        "Sí, hacemos entregas en Chía. El tiempo de entrega es de 3 a 5 días hábiles."
    )
    assert "Bogotá, Chía, Cajicá y Soacha" in answer_question("hacen domicilios?", profile, ES)
    assert answer_question("envían a Medellín?", profile, ES) is None
    assert answer_question("do you ship to Miami?", profile, EN) is None
    assert answer_question("vocês entregam em Soacha?", profile, PT).startswith(
        "Sim, fazemos entregas em Soacha."
    )


def test_delivery_uses_the_known_city(profile):
    from copilot.models import FieldValue, QualificationFields

    in_list = QualificationFields(city=FieldValue(value="Cajicá", confidence=0.9))
    elsewhere = QualificationFields(city=FieldValue(value="Cali", confidence=0.9))
    assert answer_question("hacen envios?", profile, ES, fields=in_list).startswith(
        "Sí, hacemos entregas en Cajicá."
    )
    assert answer_question("hacen envios?", profile, ES, fields=elsewhere) is None


def test_non_payment_questions_are_not_payment(profile):
    assert answer_question("do you accept returns?", profile, EN) is None
    assert answer_question("aceptan devoluciones?", profile, ES) is None
    assert answer_question("aceptan nequi", profile, ES).startswith("Sí, aceptamos Nequi.")


def test_catalog(profile):
    assert answer_question("que venden?", profile, ES) == (
        "Tenemos sofás, comedores, camas, escritorios y muebles a medida."
    )


def test_intents_about_orders_or_complaints_are_never_fact_answers(profile):
    text = "cual es la direccion? nadie me responde"
    assert answer_question(text, profile, ES, intent=Intent.COMPLAINT) is None
    assert answer_question(text, profile, ES, intent=Intent.BUSINESS_INFO) is not None


def test_missing_facts_refuse(profile):
    bare = profile.model_copy(update={"facts": Facts()})
    for text in (
        "cual es la direccion?",
        "cuanto sale el sofa?",
        "aceptan tarjeta?",
        "hacen envios a Chía?",
        "que venden?",
    ):
        assert answer_question(text, bare, ES) is None, text
    # Opening hours still come from business_hours, which is the profile's own data.
    assert "lunes a viernes de 9:00 a 18:00" in answer_question("a que hora abren?", bare, ES)


def test_answers_follow_the_profile_not_the_demo(profile):
    other = profile.model_copy(
        update={
            "currency": "MXN",
            "country": "MX",
            "facts": Facts(price_list=[PriceItem(item="Clase de prueba", price=150.5)]),
        }
    )
    assert answer_question("cuanto cuesta la clase?", other, ES) == "Clase de prueba: $150.50 MXN."
    # Not on this business's list: no price, even though the demo profile has one.
    assert answer_question("cuanto cuesta el sofa?", other, ES) is None


@pytest.mark.parametrize(
    ("amount", "currency", "country", "expected"),
    [
        (1890000, "COP", "CO", "$1.890.000 COP"),
        (1890000, "MXN", "MX", "$1,890,000 MXN"),
        (99.9, "BRL", "BR", "R$ 99,90"),
        (1200, "EUR", "ES", "1.200 €"),
        (35, "PEN", "PE", "S/ 35"),
        (10, "XYZ", "CO", "10 XYZ"),
    ],
)
def test_format_money(amount, currency, country, expected):
    assert format_money(amount, currency, country) == expected


@pytest.mark.parametrize(
    ("moment", "language", "expected"),
    [
        (datetime(2026, 11, 20, 20, 0, tzinfo=BOGOTA), ES, "mañana a las 10:00"),
        (datetime(2026, 11, 21, 15, 0, tzinfo=BOGOTA), ES, "el lunes a las 9:00"),
        (datetime(2026, 11, 22, 11, 0, tzinfo=BOGOTA), PT, "amanhã às 9:00"),
        (datetime(2026, 11, 20, 7, 30, tzinfo=BOGOTA), EN, "today at 9:00"),
        (datetime(2026, 11, 21, 15, 0, tzinfo=BOGOTA), EN, "on Monday at 9:00"),
    ],
)
def test_next_opening(profile, moment, language, expected):
    assert next_opening(profile, moment, language) == expected


def test_next_opening_in_the_business_time_zone(profile):
    # 01:00 UTC on Saturday is still Friday 20:00 in Bogotá.
    from datetime import UTC

    moment = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
    assert next_opening(profile, moment, ES) == "mañana a las 10:00"


def test_next_opening_when_never_open(profile):
    closed = profile.model_copy(update={"business_hours": BusinessHours()})
    assert next_opening(closed, datetime(2026, 11, 20, 20, 0, tzinfo=BOGOTA), ES) == ""


def test_response_time_phrase():
    assert response_time_phrase(15, ES) == "15 minutos"
    assert response_time_phrase(1, EN) == "1 minute"
    assert response_time_phrase(60, PT) == "1 hora"
    assert response_time_phrase(120, EN) == "2 hours"
    assert response_time_phrase(90, ES) == "90 minutos"
    assert response_time_phrase(2880, PT) == "2 dias"
