"""The rule a model's free text must keep before it can become the suggestion."""

from __future__ import annotations

import pytest

from copilot.grounding import check_free_text

LEAD = ["hola, quiero un sofá para mi apartamento nuevo"]


def problems(text: str, profile, language: str = "es", window_open: bool = True) -> list[str]:
    return check_free_text(
        text, language=language, profile=profile, lead_texts=LEAD, window_open=window_open
    )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("¡Hola! El Sofá 3 puestos cuesta 1.890.000 COP y lo llevamos a Chía.", "es"),
        ("Hi! The 3 seater sofa is 1,890,000 COP and we deliver to Chía.", "en"),
        ("Atendemos de 9:00 a 18:00 y aceptamos Nequi o efectivo. ¿Te esperamos?", "es"),
    ],
)
def test_grounded_text_in_the_leads_language_passes(profile, text, language) -> None:
    assert problems(text, profile, language) == []


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("El sofá cuesta 1.500.000 COP.", "an amount not in the facts: 1500000"),
        ("Abrimos hasta las 8pm todos los días.", "an hour not in the facts: 8pm"),
        ("Puedes pagar con PayPal si prefieres.", "a payment method not in the facts: paypal"),
        ("Lo llevamos a Medellín sin problema.", "a place not in the facts: Medellín"),
        ("Hola {lead_name}, ¿en qué te ayudo?", "an unfilled placeholder: {lead_name}"),
        ("Podemos agendar visit cuando quieras.", "a raw value: visit"),
        ("Claro, un sofá para mi apartamento nuevo.", "it echoes the lead's words"),
        ("Hola! O sofá custa 1.890.000 COP. Quer agendar uma visita?", "the lead writes es"),
    ],
)
def test_each_broken_rule_is_named(profile, text, why) -> None:
    found = problems(text, profile)
    assert any(why in p for p in found), found


def test_outside_the_window_no_free_text_at_all(profile) -> None:
    assert problems("¡Hola! ¿Seguimos?", profile, window_open=False) == [
        "the 24 h window is closed"
    ]
