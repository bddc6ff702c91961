"""Template choice (the taxonomy's rule order) and reply rendering."""

from __future__ import annotations

from datetime import timedelta

import pytest

from copilot.engines.base import Understanding
from copilot.models import (
    Contact,
    Conversation,
    ConversationState,
    FieldValue,
    Handoff,
    IntentResult,
    Message,
    OriginResult,
    QualificationFields,
    SuggestedReply,
)
from copilot.questions import next_question, question_for, welcome_question
from copilot.replies import choose_template, suggest_reply
from copilot.state import conversation_state
from copilot.taxonomy import (
    Author,
    Direction,
    HandoffReason,
    Intent,
    Language,
    NextStep,
    Origin,
    Stage,
    TemplateCategory,
    TemplateKey,
)

T = TemplateKey
ALL = ["need", "timeline", "budget", "next_step", "name"]
NO_HANDOFF = Handoff(needed=False)


def _state(**changes) -> ConversationState:
    """A lead who just wrote after one exchange, within hours, everything missing."""
    base = dict(
        stage=Stage.NEW,
        hours_since_last_inbound=0.1,
        hours_since_last_outbound=0.3,
        last_message_from="lead",
        inbound_count=2,
        outbound_count=1,
        within_business_hours=True,
        minutes_waiting_for_first_reply=None,
        missing_fields=ALL,
    )
    base.update(changes)
    return ConversationState(**base)


def _first(**changes) -> ConversationState:
    """Only inbound so far."""
    base = dict(
        outbound_count=0,
        inbound_count=1,
        hours_since_last_outbound=None,
        minutes_waiting_for_first_reply=2,
    )
    base.update(changes)
    return _state(**base)


def _silent(**changes) -> ConversationState:
    """We wrote last."""
    base = dict(last_message_from="business", window_open=False)
    base.update(changes)
    return _state(**base)


def _und(intent=None, language="es", reply=None, **fields) -> Understanding:
    return Understanding(
        language=language,
        intent=IntentResult(label=intent, confidence=0.9) if intent else None,
        origin=OriginResult(label=Origin.UNKNOWN),
        fields=QualificationFields(**fields),
        reply=reply,
        engine="test",
    )


# --- the rule order ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "intent", "text", "expected"),
    [
        # 1. opt-out beats everything
        (_state(opted_out=True), None, None, T.OPT_OUT_CONFIRMATION),
        (_state(opted_out=True, within_business_hours=False), None, None, T.OPT_OUT_CONFIRMATION),
        (_state(opted_out=True, assigned_human_took_over=True), None, None, T.OPT_OUT_CONFIRMATION),
        (_first(), Intent.OPT_OUT, "BAJA", T.OPT_OUT_CONFIRMATION),
        (_silent(stage=Stage.LOST, opted_out=True, hours_since_last_inbound=2000), None, None,
         T.OPT_OUT_CONFIRMATION),
        # 2. a person took over
        (_state(assigned_human_took_over=True), None, None, T.HANDOFF_NOTICE),
        (_state(assigned_human_took_over=True, within_business_hours=False), None, None,
         T.HANDOFF_NOTICE),
        (_first(assigned_human_took_over=True), None, None, T.HANDOFF_NOTICE),
        # 3. lead wrote last while we are closed (beats first contact and facts)
        (_state(within_business_hours=False), None, "a que hora abren?", T.OUT_OF_HOURS),
        (_first(within_business_hours=False, minutes_waiting_for_first_reply=600), None, None,
         T.OUT_OF_HOURS),
        (_silent(within_business_hours=False, hours_since_last_outbound=30), None, None,
         T.SOFT_FOLLOWUP),
        # 4. first contact: the SLA (15 min) decides
        (_first(minutes_waiting_for_first_reply=2), None, None, T.WELCOME),
        (_first(minutes_waiting_for_first_reply=15), None, None, T.WELCOME),
        (_first(minutes_waiting_for_first_reply=16), None, None, T.ACKNOWLEDGEMENT),
        (_first(minutes_waiting_for_first_reply=None, hours_since_last_inbound=2), None, None,
         T.ACKNOWLEDGEMENT),
        (_first(), Intent.BUSINESS_INFO, "a que hora abren?", T.WELCOME),
        # 5. business answer, only when the facts answer
        (_state(), Intent.BUSINESS_INFO, "a que hora abren?", T.BUSINESS_ANSWER),
        (_state(), Intent.PRICING, "cuanto sale el sofá?", T.BUSINESS_ANSWER),
        (_state(), None, "hacen envíos a Chía?", T.BUSINESS_ANSWER),
        (_state(), Intent.AVAILABILITY, "envían a Medellín?", T.QUALIFICATION),
        (_state(), Intent.PRICING, "cuanto cuesta una mesa de centro?", T.QUALIFICATION),
        (_state(), Intent.ORDER_STATUS, "donde esta mi pedido?", T.QUALIFICATION),
        (_state(), Intent.BUSINESS_INFO, None, T.BUSINESS_ANSWER),
        (_state(), Intent.PRICING, None, T.QUALIFICATION),
        # 6. qualification; default with nothing missing
        (_state(), None, "quiero un comedor", T.QUALIFICATION),
        (_state(stage=Stage.LOST), None, "hola de nuevo, ahora sí", T.QUALIFICATION),
        (_state(missing_fields=[]), None, "listo", T.PROPOSAL_FOLLOWUP),
        # 7. silence
        (_silent(hours_since_last_inbound=720, hours_since_last_outbound=700), None, None,
         T.REACTIVATION),
        (_silent(hours_since_last_inbound=719, hours_since_last_outbound=700), None, None,
         T.SOFT_FOLLOWUP),
        (_silent(stage=Stage.LOST, hours_since_last_inbound=30, hours_since_last_outbound=29),
         None, None, T.REACTIVATION),
        (_state(stage=Stage.LOST, hours_since_last_inbound=50), None, None, T.REACTIVATION),
        (_silent(stage=Stage.QUALIFIED, hours_since_last_inbound=72, hours_since_last_outbound=70),
         None, None, T.PROPOSAL_FOLLOWUP),
        (_silent(stage=Stage.PROPOSAL_SENT, hours_since_last_inbound=719,
                 hours_since_last_outbound=700), None, None, T.PROPOSAL_FOLLOWUP),
        (_silent(stage=Stage.QUALIFIED, hours_since_last_inbound=1000,
                 hours_since_last_outbound=999), None, None, T.REACTIVATION),
        (_silent(stage=Stage.NEW, hours_since_last_inbound=100, hours_since_last_outbound=99),
         None, None, T.SOFT_FOLLOWUP),
        (_silent(hours_since_last_inbound=24.5, hours_since_last_outbound=24), None, None,
         T.SOFT_FOLLOWUP),
        # default: the lead has waited more than a day after an exchange
        (_state(hours_since_last_inbound=30, hours_since_last_outbound=31), None, None,
         T.ACKNOWLEDGEMENT),
    ],
)  # fmt: skip
def test_rule_order(profile, state, intent, text, expected):
    understanding = _und(intent) if intent else None
    assert choose_template(state, understanding, profile, text) is expected


def test_rules_read_the_profiles_thresholds(profile):
    slow = profile.model_copy(
        update={
            "first_response_sla_minutes": 60,
            "follow_ups": profile.follow_ups.model_copy(update={"reactivation_days": 10}),
        }
    )
    assert choose_template(_first(minutes_waiting_for_first_reply=30), None, slow) is T.WELCOME
    assert choose_template(_first(minutes_waiting_for_first_reply=30), None, profile) is (
        T.ACKNOWLEDGEMENT
    )
    silent = _silent(hours_since_last_inbound=300, hours_since_last_outbound=290)
    assert choose_template(silent, None, slow) is T.REACTIVATION
    assert choose_template(silent, None, profile) is T.SOFT_FOLLOWUP


# --- suggest_reply ---------------------------------------------------------------


def _msg(now, i, text, minutes_ago, inbound=True, author=None):
    return Message(
        id=f"m{i}",
        text=text,
        timestamp=now - timedelta(minutes=minutes_ago),
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        author=author or (Author.LEAD if inbound else Author.BOT),
    )


def _reply(conv, und, profile, now, handoff=NO_HANDOFF) -> SuggestedReply | None:
    state = conversation_state(conv, und.fields, profile, now)
    return suggest_reply(conv, und, handoff, state, profile, now)


def _exchange(now, last_text, name=None):
    return Conversation(
        contact=Contact(name=name),
        messages=[
            _msg(now, 1, "hola", 10),
            _msg(now, 2, "¡Hola! ¿En qué te ayudamos?", 9, inbound=False, author=Author.AGENT),
            _msg(now, 3, last_text, 1),
        ],
    )


@pytest.mark.parametrize(
    ("language", "start", "question"),
    [("es", "¡Hola, Laura!", "¿En qué te podemos ayudar?"),
     ("pt", "Olá, Laura!", "Como podemos te ajudar?"),
     ("en", "Hi, Laura!", "How can we help you?")],
)  # fmt: skip
def test_welcome_in_each_language(profile, friday_noon, language, start, question):
    conv = Conversation(
        contact=Contact(name="Laura 🌸"), messages=[_msg(friday_noon, 1, "hola", 2)]
    )
    reply = _reply(conv, _und(language=language), profile, friday_noon)
    assert reply.template is T.WELCOME and reply.language == language
    assert reply.text.startswith(start) and reply.text.endswith(question)
    assert "Muebles Roble" in reply.text and "15 minut" in reply.text
    assert reply.requires_approved_template is False
    assert reply.category is TemplateCategory.UTILITY


def test_undetermined_language_uses_the_profile_default(profile, friday_noon):
    conv = Conversation(messages=[_msg(friday_noon, 1, "👍", 2)])
    reply = _reply(conv, _und(language="und"), profile, friday_noon)
    assert reply.language is Language.ES and reply.text.startswith("¡Hola!")


def test_welcome_asks_toward_the_next_step_when_the_need_is_known(profile, friday_noon):
    conv = Conversation(messages=[_msg(friday_noon, 1, "busco un sofá", 2)])
    und = _und(need=FieldValue(value="sofá", confidence=0.9))
    assert _reply(conv, und, profile, friday_noon).text.endswith("¿Para cuándo lo necesitas?")


def test_lead_name_with_template_syntax_stays_literal(profile, friday_noon):
    for name in ("{business_name}", "{{x}}"):
        conv = Conversation(contact=Contact(name=name), messages=[_msg(friday_noon, 1, "hola", 1)])
        reply = _reply(conv, _und(), profile, friday_noon)
        assert reply.text.startswith(f"¡Hola, {name}!")
        assert reply.variables["lead_name"] == f", {name}"


def test_need_is_the_business_word_never_the_leads(profile, friday_noon):
    conv = Conversation(
        messages=[
            _msg(friday_noon, 1, "hola", 60 * 30),
            _msg(friday_noon, 2, "¿Qué buscas?", 60 * 29, inbound=False, author=Author.AGENT),
        ]
    )
    und = _und(need=FieldValue(value="{agent_name} {{x}}\nsofá", confidence=0.9))
    reply = _reply(conv, und, profile, friday_noon)
    assert reply.template is T.SOFT_FOLLOWUP
    # The need is named by the price list, not pasted (nor read as a template).
    assert "ayudarte con sofá 3 puestos." in reply.text
    assert "{" not in reply.text and "x" not in reply.text.split("con ")[-1]


def test_business_answer_is_built_from_facts(profile, friday_noon):
    reply = _reply(
        _exchange(friday_noon, "cuanto sale el escritorio?"), _und(), profile, friday_noon
    )
    assert reply.template is T.BUSINESS_ANSWER
    assert reply.text == "Escritorio en roble: $690.000 COP por unidad."


def test_business_answer_refused_without_facts_says_what_is_known(profile, friday_noon):
    reply = _reply(_exchange(friday_noon, "envían a Medellín?"), _und(), profile, friday_noon)
    assert reply.template is T.QUALIFICATION
    # The cities served, then the next question; never a promise about Medellín.
    assert reply.text == (
        "Hacemos entregas en Bogotá, Chía, Cajicá y Soacha; para otras ciudades lo "
        "consultamos con el equipo. " + question_for("need", Language.ES)
    )
    assert "Medellín" not in reply.text


def test_qualification_asks_one_question_for_the_next_missing_field(profile, friday_noon):
    und = _und(language="pt", need=FieldValue(value="sofá", confidence=0.9))
    reply = _reply(_exchange(friday_noon, "preciso de um sofá"), und, profile, friday_noon)
    assert reply.template is T.QUALIFICATION
    assert reply.text == "Para quando você precisa?"
    assert reply.text.count("?") == 1


def test_out_of_hours_says_when_we_open(profile, friday_noon):
    friday_night = friday_noon + timedelta(hours=8)
    conv = Conversation(messages=[_msg(friday_night, 1, "hola, info", 1)])
    reply = _reply(conv, _und(), profile, friday_night)
    assert reply.template is T.OUT_OF_HOURS
    assert "mañana a las 10:00" in reply.text and profile.facts.hours_text["es"] in reply.text


def test_handoff_needed_makes_the_way_to_a_person_clear(profile, friday_noon):
    handoff = Handoff(needed=True, reason=HandoffReason.HUMAN_REQUEST)
    conv = _exchange(friday_noon, "quiero hablar con un asesor")
    reply = _reply(conv, _und(Intent.HUMAN_REQUEST), profile, friday_noon, handoff)
    # Nobody owns the conversation yet: neutral words, not the profile's agent_name.
    assert reply.template is T.HANDOFF_NOTICE and "Camila" not in reply.text
    assert reply.text == "Te paso con un asesor, de nuestro equipo, que sigue contigo por aquí."
    owned = conv.model_copy(update={"owner_name": "Andrés"})
    reply = _reply(owned, _und(Intent.HUMAN_REQUEST), profile, friday_noon, handoff)
    assert reply.text.startswith("Te paso con Andrés, de nuestro equipo")
    # A hot lead keeps the useful answer; the inbox flags the handoff.
    hot = Handoff(needed=True, reason=HandoffReason.HOT_LEAD)
    conv = _exchange(friday_noon, "lo quiero, aceptan nequi?")
    assert _reply(conv, _und(), profile, friday_noon, hot).template is T.BUSINESS_ANSWER


def test_handoff_out_of_hours_keeps_the_out_of_hours_reply(profile, friday_noon):
    night = friday_noon + timedelta(hours=10)
    handoff = Handoff(needed=True, reason=HandoffReason.COMPLAINT)
    reply = _reply(_exchange(night, "pésimo servicio"), _und(), profile, night, handoff)
    assert reply.template is T.OUT_OF_HOURS


def test_takeover_notice_once_a_person_is_answering_is_skipped(profile, friday_noon):
    conv = _exchange(friday_noon, "quiero un comedor")
    conv.human_took_over = True
    assert _reply(conv, _und(), profile, friday_noon).template is T.QUALIFICATION
    conv.messages[1].author = Author.BOT
    assert _reply(conv, _und(), profile, friday_noon).template is T.HANDOFF_NOTICE


def test_window_closed_requires_an_approved_template(profile, friday_noon):
    conv = Conversation(
        messages=[
            _msg(friday_noon, 1, "hola, info del sofá", 60 * 26),
            _msg(friday_noon, 2, "¿Para cuándo?", 60 * 25, inbound=False, author=Author.AGENT),
        ]
    )
    reply = _reply(conv, _und(), profile, friday_noon)
    assert reply.template is T.SOFT_FOLLOWUP
    assert reply.requires_approved_template is True
    assert reply.category is TemplateCategory.MARKETING
    assert "tu consulta" in reply.text


def test_no_follow_up_due_means_no_reply(profile, friday_noon):
    conv = Conversation(
        messages=[
            _msg(friday_noon, 1, "hola", 60 * 3),
            _msg(friday_noon, 2, "¿Qué buscas?", 60 * 2, inbound=False, author=Author.AGENT),
        ]
    )
    assert _reply(conv, _und(), profile, friday_noon) is None


def test_no_inbound_means_no_reply(profile, friday_noon):
    conv = Conversation(messages=[_msg(friday_noon, 1, "Promo!", 60, inbound=False)])
    assert _reply(conv, _und(), profile, friday_noon) is None
    assert _reply(Conversation(), _und(), profile, friday_noon) is None


def test_opt_out_reply(profile, friday_noon):
    conv = _exchange(friday_noon, "no me escriban más")
    reply = _reply(conv, _und(Intent.OPT_OUT), profile, friday_noon)
    assert reply.template is T.OPT_OUT_CONFIRMATION
    assert reply.text == profile.templates[T.OPT_OUT_CONFIRMATION].es


def test_proposal_followup_names_the_next_step(profile, friday_noon):
    conv = Conversation(
        stage=Stage.QUALIFIED,
        messages=[
            _msg(friday_noon, 1, "un comedor, me llaman?", 60 * 24 * 4),
            _msg(friday_noon, 2, "¡Claro!", 60 * 24 * 4 - 5, inbound=False, author=Author.AGENT),
        ],
    )
    und = _und(
        language="en",
        need=FieldValue(value="comedor", confidence=0.9),
        next_step=FieldValue(value=NextStep.VISIT, confidence=0.9),
    )
    reply = _reply(conv, und, profile, friday_noon)
    assert reply.template is T.PROPOSAL_FOLLOWUP
    # The need in the reply's language (from the price list), the step in words.
    assert "next step with 4-seat dining set" in reply.text and "schedule a visit" in reply.text


# --- the engine's proposal ----------------------------------------------------------


def _proposal(key, language="es", text="x"):
    return SuggestedReply(template=key, text=text, language=language)


def test_engine_key_is_re_rendered_from_the_profile(profile, friday_noon):
    proposal = _proposal(T.ACKNOWLEDGEMENT, "pt", "Invented promise: 50% off!")
    und = _und(reply=proposal)
    reply = _reply(_exchange(friday_noon, "quiero un sofá"), und, profile, friday_noon)
    assert reply.template is T.ACKNOWLEDGEMENT and reply.language is Language.PT
    assert reply.text.startswith("Recebemos sua mensagem") and "50%" not in reply.text


def test_engine_business_answer_without_facts_is_refused(profile, friday_noon):
    und = _und(reply=_proposal(T.BUSINESS_ANSWER, text="Sí, enviamos a Medellín por $10.000"))
    reply = _reply(_exchange(friday_noon, "envían a Medellín?"), und, profile, friday_noon)
    assert reply.template is T.QUALIFICATION and "Medellín" not in reply.text


def test_engine_cannot_override_opt_out(profile, friday_noon):
    und = _und(Intent.OPT_OUT, reply=_proposal(T.WELCOME))
    reply = _reply(_exchange(friday_noon, "STOP"), und, profile, friday_noon)
    assert reply.template is T.OPT_OUT_CONFIRMATION


def test_engine_opt_out_without_opt_out_intent_is_ignored(profile, friday_noon):
    und = _und(Intent.PRICING, reply=_proposal(T.OPT_OUT_CONFIRMATION))
    reply = _reply(_exchange(friday_noon, "quiero un sofá"), und, profile, friday_noon)
    assert reply.template is T.QUALIFICATION


# --- questions ------------------------------------------------------------------------


def test_next_question_skips_the_question_just_asked():
    es = Language.ES
    assert next_question(["timeline", "budget"], es) == question_for("timeline", es)
    asked = ["Perfecto. ¿Para cuándo lo necesitas?"]
    assert next_question(["timeline", "budget"], es, asked) == question_for("budget", es)
    # With nothing else to ask, repeating is better than silence.
    assert next_question(["timeline"], es, asked) == question_for("timeline", es)
    assert next_question([], es) == ""


def test_welcome_question():
    assert welcome_question(ALL, Language.EN) == "How can we help you?"
    assert welcome_question(["budget"], Language.EN) == question_for("budget", Language.EN)


def test_every_field_has_a_question_in_every_language():
    from copilot.taxonomy import FIELD_NAMES

    for field in FIELD_NAMES:
        texts = [question_for(field, lang) for lang in (Language.ES, Language.PT, Language.EN)]
        assert all(texts) and len(set(texts)) == 3, field


def test_engine_language_words_the_fact_answer(profile, friday_noon):
    und = _und(language="es", reply=_proposal(T.BUSINESS_ANSWER, language="en"))
    reply = _reply(_exchange(friday_noon, "a que hora abren?"), und, profile, friday_noon)
    assert reply.template is T.BUSINESS_ANSWER and reply.language is Language.EN
    assert (
        reply.text == "Our opening hours are Monday to Friday 9:00–18:00 and Saturdays 10:00–14:00."
    )


def test_engine_free_text_replaces_a_qualification_turn_inside_the_window(profile, friday_noon):
    text = "¡Genial! ¿Para qué fecha necesitas el sofá?"
    und = _und(reply=_proposal(T.QUALIFICATION, "es", text))
    reply = _reply(_exchange(friday_noon, "quiero un sofá"), und, profile, friday_noon)
    assert reply.template is T.QUALIFICATION and reply.text == text


def test_engine_free_text_never_replaces_a_fixed_notice(profile, friday_noon):
    und = _und(intent=Intent.OPT_OUT, reply=_proposal(T.QUALIFICATION, "es", "Texto libre"))
    reply = _reply(_exchange(friday_noon, "BAJA"), und, profile, friday_noon)
    assert reply.template is T.OPT_OUT_CONFIRMATION and reply.text != "Texto libre"


def test_engine_question_slot_fills_the_qualification_template(profile, friday_noon):
    proposal = SuggestedReply(
        template=T.QUALIFICATION,
        text="",
        language="es",
        variables={"question": "¿Qué medidas tiene el espacio?"},
    )
    reply = _reply(
        _exchange(friday_noon, "quiero un sofá"), _und(reply=proposal), profile, friday_noon
    )
    assert reply.template is T.QUALIFICATION and reply.text == "¿Qué medidas tiene el espacio?"
