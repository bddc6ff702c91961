"""Replies a business would send: the answer first, one language, fitting turns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from copilot import Copilot
from copilot.cli import main
from copilot.inbox.replies import render_template as inbox_render
from copilot.models import Contact, Conversation, Message
from copilot.profile import ProfileError, missing_languages, parse_profile
from copilot.taxonomy import Author, Direction, LostReason, MessageType, Stage, TemplateKey

T = TemplateKey


@pytest.fixture(scope="module")
def copilot():
    return Copilot()


def _first(copilot, text, now, **message):
    conv = Conversation(messages=[Message(id="m1", text=text, timestamp=now, **message)])
    return copilot.analyze(conv, now=now + timedelta(minutes=1))


def _after_exchange(copilot, text, now, owner=None, **message):
    conv = Conversation(
        owner_name=owner,
        messages=[
            Message(id="m1", text="hola", timestamp=now - timedelta(minutes=20)),
            Message(
                id="m2",
                text="¡Hola! ¿En qué te ayudamos?",
                timestamp=now - timedelta(minutes=19),
                direction=Direction.OUTBOUND,
                author=Author.AGENT,
            ),
            Message(id="m3", text=text, timestamp=now, **message),
        ],
    )
    return copilot.analyze(conv, now=now + timedelta(minutes=1))


@pytest.mark.parametrize(
    ("text", "language", "must"),
    [
        ("hola! cuanto sale el sofa de 3 puestos?", "es", ["Sofá 3 puestos", "$1.890.000 COP"]),
        ("olá, quanto custa o sofá de 3 lugares?", "pt", ["Sofá de 3 lugares", "por unidade"]),
        ("hi, how much is the 3 seater sofa?", "en", ["3-seater sofa", "$1,890,000 COP per unit"]),
        ("buenas, hacen envíos a Chía?", "es", ["Sí, hacemos entregas en Chía", "3 a 5 días"]),
        ("hi, do you deliver to Soacha?", "en", ["we deliver to Soacha", "3 to 5 business days"]),
        ("hola, qué medios de pago tienen?", "es", ["tarjeta de crédito", "Nequi"]),
        ("olá, quais as formas de pagamento?", "pt", ["cartão de crédito", "dinheiro"]),
        ("hello, what are your opening hours?", "en", ["Monday to Friday 9:00–18:00"]),
        ("hola, dónde quedan?", "es", ["Calle 85 # 15-20"]),
    ],
)
def test_the_first_message_is_answered_inside_the_welcome(
    copilot, friday_noon, text, language, must
):
    reply = _first(copilot, text, friday_noon).reply
    assert reply.template is T.WELCOME and reply.language.value == language
    for fragment in must:
        assert fragment in reply.text
    # The welcome's presence and (still true) promise, then the answer.
    promise = {"es": "menos de 15 minutos", "pt": "menos de 15 minutos", "en": "within 15 minutes"}
    assert promise[language] in reply.text
    assert reply.text.index(promise[language]) < reply.text.index(must[0])


def test_several_questions_all_answered(copilot, friday_noon):
    text = "hola cuanto cuesta el sofa y hacen envios a chia? aceptan nequi?"
    reply = _first(copilot, text, friday_noon).reply
    for fragment in ("$1.890.000 COP", "Sí, aceptamos Nequi", "entregas en Chía"):
        assert fragment in reply.text


def test_an_unserved_city_gets_the_cities_served(copilot, friday_noon):
    reply = _first(copilot, "hola, hacen envíos a Medellín?", friday_noon).reply
    assert "Hacemos entregas en Bogotá, Chía, Cajicá y Soacha" in reply.text
    assert "Medellín" not in reply.text


def test_past_the_sla_no_promise_but_the_answer(copilot, friday_noon):
    conv = Conversation(
        messages=[Message(id="m1", text="cuanto sale el escritorio?", timestamp=friday_noon)]
    )
    reply = copilot.analyze(conv, now=friday_noon + timedelta(minutes=40)).reply
    assert reply.template is T.ACKNOWLEDGEMENT
    assert "15 minutos" not in reply.text and "$690.000 COP" in reply.text


SPANISH_ONLY_EN = """
name = "Tienda"
country = "MX"
currency = "MXN"
timezone = "America/Mexico_City"
default_language = "es"
[business_hours]
mon = "09:00-18:00"
tue = "09:00-18:00"
wed = "09:00-18:00"
thu = "09:00-18:00"
fri = "09:00-18:00"
[facts]
payment_methods = { es = ["efectivo", "tarjeta"], en = ["cash", "card"] }
[[facts.price_list]]
item = "Silla de roble"
price = 1500
unit = "pieza"
"""


def _small_profile(extra: str = ""):
    demo = Copilot().profile
    templates = "\n".join(
        f'[templates.{key.value}]\nes = "{t.es}"\n' + (f'en = "{t.en}"\n' if t.en else "")
        for key, t in demo.templates.items()
    )
    return parse_profile(SPANISH_ONLY_EN.replace("[facts]\n", "[facts]\n" + extra) + templates)


def test_a_fact_without_the_leads_language_makes_the_whole_reply_default(friday_noon):
    profile = _small_profile()
    copilot = Copilot(profile)
    # Payment methods exist in English: an English reply.
    paid = _first(copilot, "hi, how can I pay?", friday_noon).reply
    assert paid.language.value == "en" and "cash" in paid.text and "efectivo" not in paid.text
    # The chair's name and unit exist only in Spanish: the whole reply in Spanish.
    chair = _first(copilot, "hi, how much is the silla?", friday_noon).reply
    assert chair.language.value == "es"
    assert "Silla de roble: $1,500 MXN por pieza" in chair.text
    assert chair.text.startswith("¡Hola!") and "Thanks" not in chair.text
    # `profile check` names the facts missing a language.
    warnings = missing_languages(profile)
    assert any("price_list[0].item" in w and "en" in w for w in warnings)


def test_old_single_language_profiles_stay_valid():
    profile = _small_profile()
    assert profile.facts.price_list[0].item == "Silla de roble"
    with pytest.raises(ProfileError, match=r"facts\.hours_text"):
        _small_profile('hours_text = { fr = "lundi" }\n')


def test_profile_check_command(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["profile", "check"])
    assert ok.exit_code == 0 and "0 warning(s)" in ok.output
    bad = tmp_path / "bad.toml"
    bad.write_text('name = ""\n', encoding="utf-8")
    failed = runner.invoke(main, ["profile", "check", str(bad)])
    assert failed.exit_code == 2 and "bad.toml" in failed.output


@pytest.mark.parametrize("language", ["es", "pt", "en"])
def test_enum_values_are_words_and_the_leads_words_are_not_echoed(copilot, friday_noon, language):
    # Stored fields, as the inbox reads them back from JSON: the step is a plain code.
    stored = {
        "need": {"value": "cotizar muebles a medida para mi apartamento", "confidence": 0.8},
        "next_step": {"value": "visit", "confidence": 0.8},
    }
    rendered = inbox_render(
        copilot.profile, T.PROPOSAL_FOLLOWUP, language, now=friday_noon, fields=stored
    )
    words = {
        "es": ("muebles a medida", "una visita"),
        "pt": ("móveis sob medida", "uma visita"),
        "en": ("custom furniture", "a visit"),
    }[language]
    assert all(w in rendered.text for w in words), rendered.text
    assert "apartamento" not in rendered.text and "cotizar" not in rendered.text
    assert " visit " not in f" {rendered.text} ".replace("a visit ", "")
    # A need the business has no word for is left out, not pasted.
    stored["need"]["value"] = "algo bonito para mi casa"
    rendered = inbox_render(copilot.profile, T.SOFT_FOLLOWUP, "es", now=friday_noon, fields=stored)
    assert "mi casa" not in rendered.text and "tu consulta" in rendered.text


def test_loss_gets_a_gracious_close_and_lost_proposed(copilot, friday_noon):
    reply = _after_exchange(copilot, "ya no me interesa, compré en otro lado", friday_noon).reply
    assert reply.turn == "loss" and reply.propose_stage is Stage.LOST
    assert reply.propose_lost_reason is LostReason.CHOSE_COMPETITOR
    assert "gracias por avisarnos" in reply.text and "?" not in reply.text
    en = _after_exchange(copilot, "thanks but I'm not interested anymore", friday_noon).reply
    assert en.turn == "loss" and en.propose_lost_reason is LostReason.NOT_INTERESTED


def test_price_objection_acknowledges_gives_value_and_a_next_step(copilot, friday_noon):
    analysis = _after_exchange(copilot, "jajaja q caro, en homecenter está a la mitad", friday_noon)
    reply = analysis.reply
    assert reply.turn == "objection"
    assert reply.text.startswith("Entiendo, el precio es importante.")
    assert "roble" in reply.text and reply.text.endswith("?")
    assert analysis.fields.prior_solution.value == "homecenter"


def test_complaint_apologizes_for_the_problem_then_hands_off(copilot, friday_noon):
    reply = _after_exchange(
        copilot,
        "el sofá llegó roto, pésimo, qué vergüenza",
        friday_noon,
        owner="Andrés",
        type=MessageType.IMAGE,
    ).reply
    assert reply.template is T.HANDOFF_NOTICE and reply.turn == "complaint"
    assert reply.text.startswith("Lamentamos mucho que tu pedido haya llegado con daños.")
    assert "Gracias por la foto." in reply.text and "Andrés" in reply.text


def test_a_voice_note_is_acknowledged_not_pretended(copilot, friday_noon):
    reply = _after_exchange(copilot, None, friday_noon, type=MessageType.AUDIO).reply
    assert reply.turn == "media"
    assert reply.text.startswith("Recibimos tu nota de voz") and reply.text.endswith("?")
    first = _first(copilot, None, friday_noon, type=MessageType.AUDIO).reply
    assert first.template is T.WELCOME and "nota de voz" in first.text


def test_contact_name_is_used_not_the_leads_phrases(copilot, friday_noon):
    conv = Conversation(
        contact=Contact(name="Laura"),
        messages=[Message(id="m1", text="hola, cuanto cuesta la cama?", timestamp=friday_noon)],
    )
    reply = copilot.analyze(conv, now=friday_noon).reply
    assert reply.text.startswith("¡Hola, Laura!") and "$1.200.000 COP" in reply.text


def test_a_customer_thanking_for_an_order_answer_gets_no_sales_nudge(copilot, friday_noon):
    def reply_to(text, first="hola, dónde va mi pedido 4452?"):
        conv = Conversation(
            messages=[
                Message(id="m1", text=first, timestamp=friday_noon - timedelta(minutes=10)),
                Message(
                    id="m2",
                    text="Hola, tu pedido sale hoy y llega mañana.",
                    timestamp=friday_noon - timedelta(minutes=5),
                    direction=Direction.OUTBOUND,
                    author=Author.AGENT,
                ),
                Message(id="m3", text=text, timestamp=friday_noon),
            ]
        )
        return copilot.analyze(conv, now=friday_noon).reply

    thanks = reply_to("ok gracias!! 👍")
    assert thanks.turn == "courtesy" and "?" not in thanks.text
    assert thanks.text == "¡Con gusto! Si necesitas algo más, aquí estamos."
    # A prospect's "ok gracias" still gets the next question; a new question its answer.
    assert reply_to("ok gracias", first="hola, busco un sofá").turn is None
    assert "$1.890.000 COP" in reply_to("gracias, y cuanto cuesta el sofa?").text


def test_a_template_without_the_leads_language_takes_the_facts_along(friday_noon):
    # Facts in Portuguese, but the welcome has no Portuguese text: all Spanish.
    demo = Copilot().profile
    welcome = demo.templates[T.WELCOME].model_copy(update={"pt": None})
    profile = demo.model_copy(update={"templates": {**demo.templates, T.WELCOME: welcome}})
    reply = _first(Copilot(profile), "olá, quanto custa o sofá de 3 lugares?", friday_noon).reply
    assert reply.language.value == "es" and reply.text.startswith("¡Hola!")
    assert "Sofá 3 puestos: $1.890.000 COP por unidad" in reply.text
    assert "lugares" not in reply.text and "unidade" not in reply.text


def test_out_of_hours_still_fits_the_turn(copilot, friday_noon):
    night = friday_noon + timedelta(hours=8)
    loss = _after_exchange(copilot, "ya no me interesa, compré en otro lado", night).reply
    assert loss.template is T.OUT_OF_HOURS and loss.turn == "loss"
    assert "fuera de horario" not in loss.text and loss.propose_stage is Stage.LOST
    complaint = _after_exchange(copilot, "el sofá llegó roto, pésimo servicio", night).reply
    assert complaint.template is T.OUT_OF_HOURS and complaint.turn == "complaint"
    assert complaint.text.startswith("Lamentamos mucho que tu pedido haya llegado con daños.")
    assert "mañana a las 10:00" in complaint.text
    voice = _after_exchange(copilot, None, night, type=MessageType.AUDIO).reply
    assert "mañana a las 10:00" in voice.text and "nota de voz" in voice.text
