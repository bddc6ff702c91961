"""Safe rendering: single-pass substitution, values never re-read as templates."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from copilot.render import clean_name, clean_value, render, tidy_text, variables_in


def test_known_variables_are_filled():
    assert render(
        "Hola{lead_name}, soy {agent_name}.", {"lead_name": ", Laura", "agent_name": "Camila"}
    ) == ("Hola, Laura, soy Camila.")


def test_missing_value_renders_empty_and_tidies():
    assert render("¡Hola{lead_name}! Te escribe {agent_name} .", {}) == "¡Hola! Te escribe."
    assert render("Abrimos ({hours}) pronto", {"hours": ""}) == "Abrimos pronto"


def test_template_syntax_in_values_stays_literal():
    values = {"lead_name": "{business_name}", "need": "{{x}} {0} {need}", "business_name": "Roble"}
    text = render("{lead_name} / {need} / {business_name}", values)
    assert text == "{business_name} / {{x}} {0} {need} / Roble"


def test_regex_replacement_syntax_in_values_stays_literal():
    assert render("a{x}b", {"x": r"\1 \g<0> \\"}) == r"a\1 \g<0> \\b"


def test_format_spec_and_attribute_access_are_not_evaluated():
    # str.format would evaluate these; our renderer only knows plain names.
    template = "{x.__class__} {x[0]} {x!r} {x}"
    assert render(template, {"x": "v"}, tidy=False) == "{x.__class__} {x[0]} {x!r} v"


@given(st.text(max_size=200))
def test_any_value_is_inserted_verbatim(value):
    assert render("A{x}B", {"x": value}, tidy=False) == f"A{value}B"


def test_variables_in_lists_each_once():
    assert variables_in("{a} {b} {a} {{c}}") == ["a", "b", "c"]


def test_tidy_text():
    assert tidy_text("Hola  ,  Laura ,.") == "Hola, Laura."


def test_clean_value_strips_controls_and_newlines_and_cuts():
    assert clean_value("  sofá\u200b\n\tgris\x07 ") == "sofá gris"
    long = "palabra " * 100
    cut = clean_value(long, max_chars=30)
    assert len(cut) <= 30 and not cut.endswith(" ") and cut.startswith("palabra")
    assert clean_value(None) == ""


def test_clean_name():
    assert clean_name("  Laura 🌸 ") == "Laura"
    assert clean_name("María José Pérez Gómez") == "María José Pérez"
    assert clean_name("laura@example.com") == ""
    assert clean_name("+57 300 123 4567") == ""
    assert clean_name("🌸🌸") == ""
    assert clean_name("https://spam.example") == ""
    assert clean_name("{business_name}") == "{business_name}"
    assert len(clean_name("A" * 200)) == 40
