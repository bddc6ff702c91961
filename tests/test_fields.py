"""Qualification fields merged across a conversation (the rules engine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from copilot.engines.rules.fields import extract_fields, message_fields
from copilot.models import Budget, Conversation, Message, QualificationFields, Timeline
from copilot.profile import BusinessProfile
from copilot.taxonomy import Author, Direction, Language, MessageType, NextStep, TimelineBucket

BOGOTA = ZoneInfo("America/Bogota")
FRIDAY_NOON = datetime(2026, 11, 20, 12, 0, tzinfo=BOGOTA)


def _conversation(
    *turns: str | tuple[str, datetime], start: datetime = FRIDAY_NOON
) -> Conversation:
    """Turns are lead texts; a text starting with "B:" is the business's."""
    messages = []
    for i, turn in enumerate(turns):
        text, when = turn if isinstance(turn, tuple) else (turn, start + timedelta(minutes=i))
        business = text.startswith("B:")
        messages.append(
            Message(
                id=f"m{i + 1}",
                direction=Direction.OUTBOUND if business else Direction.INBOUND,
                author=Author.AGENT if business else Author.LEAD,
                text=text[2:] if business else text,
                timestamp=when,
            )
        )
    return Conversation(messages=messages)


def _fields(
    profile: BusinessProfile, *turns: str | tuple[str, datetime], language: Language = Language.ES
) -> QualificationFields:
    return extract_fields(_conversation(*turns), profile, language)


def test_a_whole_conversation(profile: BusinessProfile) -> None:
    fields = _fields(
        profile,
        "Hola buenas, estoy buscando apartamento en arriendo en Medellín",
        "B:¡Hola! ¿Para cuándo lo necesitas?",
        "para antes de fin de mes",
        "B:¿Y qué presupuesto manejas?",
        "unos 2 palos maximo",
        "B:Perfecto, ¿con quién tengo el gusto?",
        "Laura Gómez",
    )
    assert fields.need and "apartamento en arriendo" in str(fields.need.value)
    assert fields.need.message_id == "m1"
    assert fields.timeline and fields.timeline.value == Timeline(
        text="fin de mes", bucket=TimelineBucket.THIS_MONTH
    )
    assert fields.budget and fields.budget.message_id == "m5"
    assert fields.budget.value == Budget(amount=2_000_000, currency="COP", text="2 palos")
    assert fields.name and fields.name.value == "Laura Gómez"
    assert fields.city and fields.city.value == "Medellín"
    assert fields.email is None and fields.phone is None and fields.company is None
    assert fields.flat() == {
        "need": fields.need.value,
        "timeline_bucket": "this_month",
        "prior_solution": None,
        "pain": None,
        "next_step": None,
        "budget": {"amount": 2_000_000, "currency": "COP"},
        "name": "Laura Gómez",
        "email": None,
        "phone": None,
        "company": None,
        "city": "Medellín",
    }
    assert all(0 < getattr(fields, key).confidence <= 1 for key in fields.known())


# --- corrections: a later value wins -------------------------------------------------


def test_timeline_correction(profile: BusinessProfile) -> None:
    fields = _fields(
        profile,
        "quiero un comedor",
        "B:¿Para cuándo lo necesitas?",
        "el viernes",
        "perdón, mejor para el 15 de diciembre",
    )
    assert fields.timeline and fields.timeline.value.bucket is TimelineBucket.LATER
    assert fields.timeline.message_id == "m4"


def test_email_name_budget_and_city_corrections(profile: BusinessProfile) -> None:
    fields = _fields(
        profile,
        "B:¿Cómo te llamas?",
        "Sebastian",
        "perdon, Sebastián Díaz",
        "mi correo es diana.ruiz@gmail.co",
        "perdón, mi correo es diana.ruiz@gmail.com",
        "tengo 2 palos",
        "bueno, mejor 3 palos",
        "es en Bogotá",
        "perdón, es en Medellín, no Bogotá",
    )
    assert fields.name and fields.name.value == "Sebastián Díaz"
    assert fields.email and fields.email.value == "diana.ruiz@gmail.com"
    assert fields.budget and fields.budget.value.amount == 3_000_000
    assert fields.city and fields.city.value == "Medellín"


def test_next_step_correction(profile: BusinessProfile) -> None:
    fields = _fields(profile, "quiero cotizar un diseño de sonrisa", "mejor por videollamada")
    assert fields.next_step and fields.next_step.value is NextStep.VIDEO_CALL


def test_a_vaguer_need_does_not_replace_a_clear_one(profile: BusinessProfile) -> None:
    fields = _fields(profile, "busco un sofá en L", "y tienen horario el domingo?")
    assert fields.need and fields.need.value == "sofá en L"


# --- the business's messages are context, never sources ------------------------------


def test_business_messages_are_not_sources(profile: BusinessProfile) -> None:
    fields = _fields(
        profile,
        "B:El curso de Excel cuesta $500.000, empieza el lunes en Bogotá. Escríbenos a "
        "ventas@ejemplo.co o al 3001234567. Soy Camila de Muebles Roble SAS.",
        "ok",
    )
    assert fields.known() == []


@pytest.mark.parametrize(
    ("question", "answer", "field", "expected"),
    [
        ("¿Para cuándo lo necesitas?", "el viernes", "timeline", TimelineBucket.IMMEDIATE),
        ("¿Con quién tengo el gusto?", "Laura", "name", "Laura"),
        ("¿Con quién tengo el gusto?", "con Andrés Felipe", "name", "Andrés Felipe"),
        ("Qual o seu nome?", "Fernanda Lima", "name", "Fernanda Lima"),
        ("What's your name?", "Emily Watson", "name", "Emily Watson"),
        ("¿Qué presupuesto manejas?", "unos 800 mil", "budget", 800_000),
        ("¿Qué presupuesto manejas?", "entre 3 y 4 millones", "budget", 4_000_000),
        ("¿Qué curso te interesa?", "el de diseño gráfico", "need", "diseño gráfico"),
        ("¿Te llamo mañana?", "sí, dale", "next_step", NextStep.CALL),
        ("¿Quieres una demo el martes?", "dale", "next_step", NextStep.DEMO),
        ("¿Te gustaría venir a la tienda?", "si, paso mañana", "next_step", NextStep.VISIT),
        ("Lo puedes traer el lunes?", "listo", "next_step", NextStep.VISIT),
        ("¿Te lo mando por correo?", "claro, ana@gmail.com", "next_step", NextStep.EMAIL),
        ("¿Seguimos por aquí?", "sí", "next_step", NextStep.WHATSAPP),
    ],
)
def test_answers_read_with_the_business_question(
    profile: BusinessProfile, question: str, answer: str, field: str, expected: object
) -> None:
    fields = _fields(profile, "hola", f"B:{question}", answer)
    value = getattr(fields, field)
    assert value is not None and value.message_id == "m3"
    got = value.value
    if isinstance(got, Timeline):
        got = got.bucket
    if isinstance(got, Budget):
        got = got.amount
    assert got == expected


def test_the_same_answer_without_the_question_is_not_a_name(profile: BusinessProfile) -> None:
    assert _fields(profile, "hola", "Laura").name is None


def test_accepting_a_visit_takes_its_date(profile: BusinessProfile) -> None:
    fields = _fields(
        profile, "quiero una limpieza", "B:¿Te acomoda mañana a las 10?", "sí, perfecto"
    )
    assert fields.timeline and fields.timeline.value.bucket is TimelineBucket.IMMEDIATE


def test_accepting_a_call_sets_no_timeline(profile: BusinessProfile) -> None:
    fields = _fields(profile, "info del software", "B:¿Te puedo llamar mañana?", "sí claro")
    assert fields.next_step and fields.next_step.value is NextStep.CALL
    assert fields.timeline is None


def test_ok_to_a_statement_accepts_nothing(profile: BusinessProfile) -> None:
    fields = _fields(profile, "B:El curso empieza el lunes, te esperamos en la sede.", "ok")
    assert fields.timeline is None and fields.next_step is None


# --- budget: the lead's money only ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "en otra tienda la vi en 1.100.000",
        "ya fuimos con otro ortodoncista pero nos cobraba 35 mil",
        "en otro taller me pasaron 300 lucas",
        "cuánto cuesta? el sofá de 1.890.000",
        "somos 120 personas",
        "un mazda 3 2015",
        "para el 28 de noviembre",
    ],
)
def test_not_a_budget(profile: BusinessProfile, text: str) -> None:
    assert _fields(profile, text).budget is None


def test_a_quoted_price_is_not_the_budget_but_the_answer_is(profile: BusinessProfile) -> None:
    fields = _fields(
        profile,
        "cuanto cuesta la cama doble?",
        "B:Está en $1.200.000",
        "uy no, yo tengo máximo 1 millón",
    )
    assert fields.budget and fields.budget.value.amount == 1_000_000


@pytest.mark.parametrize(
    ("turns", "language", "currency"),
    [
        (["busco depto en Santiago, tengo 500 lucas"], Language.ES, "CLP"),
        (["Necesito un sillón, tengo hasta 500 lucas", "Sí, de Rosario"], Language.ES, "ARS"),
        (["cuanto por pintar el carro? traigo 20 mil pesos, soy de Tijuana"], Language.ES, "MXN"),
        (["un implante, tengo como 3 mil soles"], Language.ES, "PEN"),
        (["busco apartamento em Curitiba, até uns 2 mil por mês"], Language.PT, "BRL"),
        (["quanto custa? tenho uns 5 mil"], Language.PT, "BRL"),
        (["No quiero gastar más de 400 €"], Language.ES, "EUR"),
        (["budget around 3k usd"], Language.EN, "USD"),
        (["I need chairs in Cartagena, budget around 2 million pesos"], Language.EN, "COP"),
        (["tengo 2 millones"], Language.ES, "COP"),  # the profile's currency
        (["Hola, ¿vosotros hacéis sofás? Tengo 800"], Language.ES, None),  # no amount cue
    ],
)
def test_budget_currency(
    profile: BusinessProfile, turns: list[str], language: Language, currency: str | None
) -> None:
    budget = _fields(profile, *turns, language=language).budget
    if currency is None:
        assert budget is None
    else:
        assert budget is not None and budget.value.currency == currency


# --- contact data, pain, prior solution ----------------------------------------------


def test_contact_data_in_portuguese(profile: BusinessProfile) -> None:
    fields = _fields(
        profile,
        "Bom dia! Trabalho na Padaria Pão Dourado, em Recife. Precisamos de um sistema de "
        "delivery porque o iFood cobra taxa muito alta",
        "B:Bom dia! Posso te ligar para explicar?",
        "Pode, me liga no (81) 98765-4321",
        language=Language.PT,
    )
    assert fields.company and fields.company.value == "Padaria Pão Dourado"
    assert fields.city and fields.city.value == "Recife"
    assert fields.phone and fields.phone.value == "+5581987654321"
    assert fields.next_step and fields.next_step.value is NextStep.CALL
    assert fields.pain and "taxa muito alta" in str(fields.pain.value)
    assert fields.need and "delivery" in str(fields.need.value)


def test_contact_data_in_english(profile: BusinessProfile) -> None:
    fields = _fields(
        profile,
        "Hi, we're looking for a CRM. We currently use spreadsheets and keep losing track of "
        "leads. My name is John Smith, I work at Blue River Logistics in Miami. "
        "Email me at john@blueriver.com",
        language=Language.EN,
    )
    assert fields.need and "CRM" in str(fields.need.value)
    assert fields.prior_solution and "spreadsheets" in str(fields.prior_solution.value)
    assert fields.pain and "losing track" in str(fields.pain.value)
    assert fields.name and fields.name.value == "John Smith"
    assert fields.company and fields.company.value == "Blue River Logistics"
    assert fields.city and fields.city.value == "Miami"
    assert fields.email and fields.email.value == "john@blueriver.com"
    assert fields.next_step and fields.next_step.value is NextStep.EMAIL


def test_a_city_inside_a_name_or_company_is_not_the_city(profile: BusinessProfile) -> None:
    fields = _fields(profile, "Buenas, represento a Colegio San José y queremos capacitar docentes")
    assert fields.company and fields.company.value == "Colegio San José"
    assert fields.city is None


def test_the_business_own_name_is_not_the_lead_company(profile: BusinessProfile) -> None:
    assert _fields(profile, "Hola! Vengo de la web de Muebles Roble").company is None


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("me pueden llamar mañana?", NextStep.CALL),
        ("Marcame al 55 1234 5678", NextStep.CALL),
        ("me gustaría una videollamada", NextStep.VIDEO_CALL),
        ("paso por la tienda el sábado", NextStep.VISIT),
        ("quisiera una cita para limpieza dental", NextStep.VISIT),
        ("¿podríamos ver una demo?", NextStep.DEMO),
        ("me pasan una cotización por correo?", NextStep.QUOTE),  # a quote beats e-mail
        ("¿nos podéis enviar un presupuesto?", NextStep.QUOTE),
        ("queria um orçamento", NextStep.QUOTE),
        ("mándame la info al correo porfa", NextStep.EMAIL),
        ("por aquí mejor", NextStep.WHATSAPP),
        ("pelo whats mesmo", NextStep.WHATSAPP),
    ],
)
def test_next_step(profile: BusinessProfile, text: str, step: NextStep) -> None:
    fields = _fields(profile, text)
    assert fields.next_step and fields.next_step.value is step


@pytest.mark.parametrize(
    "text",
    [
        "me interesa el chatbot para whatsapp",  # a product, not the channel
        "tengo un presupuesto de 80 mil pesos",  # a budget, not a quote request
        "Precisamos de um software de orçamentos de obra",
        "el curso es presencial?",
        "me llamo Juan",
    ],
)
def test_no_next_step(profile: BusinessProfile, text: str) -> None:
    assert _fields(profile, text).next_step is None


# --- time zone, caching, bad input ---------------------------------------------------


def test_the_bucket_uses_the_message_date_in_the_business_zone(profile: BusinessProfile) -> None:
    # 02:00 UTC on December 1st is still November 30th in Bogotá: "fin de mes" is today.
    late = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    fields = _fields(profile, ("lo necesito para fin de mes", late))
    assert fields.timeline and fields.timeline.value.bucket is TimelineBucket.IMMEDIATE


def test_only_the_new_message_is_read_again(profile: BusinessProfile) -> None:
    turns = ["Hola, busco un escritorio", "B:¿Para cuándo?", "para el viernes", "B:¿Presupuesto?"]
    extract_fields(_conversation(*turns), profile, Language.ES)
    before = message_fields.cache_info()
    fields = extract_fields(_conversation(*turns, "tengo 600 mil"), profile, Language.ES)
    after = message_fields.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 2
    assert fields.budget and fields.budget.message_id == "m5"


def test_bad_input_never_crashes(profile: BusinessProfile) -> None:
    huge = "mi correo es ana@x.co " + "bla " * 16_000  # 64 KB
    messages = [
        Message(id="a", text=None, type=MessageType.IMAGE, timestamp=FRIDAY_NOON),
        Message(id="b", text="", timestamp=FRIDAY_NOON),
        Message(id="c", text="   \n\t ", timestamp=FRIDAY_NOON),
        Message(id="d", text="😀🔥👍🏽", timestamp=FRIDAY_NOON),
        Message(id="e", text="\u200b\u202e\x00", timestamp=FRIDAY_NOON),
        Message(id="f", text=huge, timestamp=FRIDAY_NOON),
        Message(
            id="g",
            direction=Direction.OUTBOUND,
            author=Author.AGENT,
            text=None,
            timestamp=FRIDAY_NOON,
        ),
        Message(id="h", text="$$$ 1.2.3.4 ,,, @@ +++ 99999999999999999999", timestamp=FRIDAY_NOON),
    ]
    fields = extract_fields(Conversation(messages=messages), profile, Language.UNDETERMINED)
    assert fields.email and fields.email.value == "ana@x.co"
    assert fields.email.message_id == "f"


def test_empty_conversation(profile: BusinessProfile) -> None:
    assert extract_fields(Conversation(), profile, Language.ES).known() == []


# --- lines that are not qualification data ------------------------------------------


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("mil gracias, divinas 💕", "budget"),
        ("felicidades ganaste un bono de $500.000 reclamalo aqui", "budget"),
        ("Si no me devuelven la plata voy a poner la denuncia", "city"),
        ("¿Y si lo pongo a nombre de mi empresa?", "name"),
        ("hasta q hora atienden hoy", "timeline"),
        ("what time do you close tonight?", "timeline"),
        ("compre el lunes, cuando me llega? pedido #5521", "timeline"),
        ("me confirman mi cita de mañana a las 10?", "timeline"),
        ("já perguntei, tem aula aos sábados?", "timeline"),
        ("dale, me lo llevo. me pasas los datos pa transferir?", "next_step"),
        ("el técnico no vino a la cita que agendamos", "next_step"),
        ("quiero hablar con un asesor", "need"),
        ("I want to speak to someone, not a bot", "need"),
        ("queria saber si mi reserva para el sabado quedo confirmada", "need"),
        ("en que barrio estan?", "need"),
    ],
)
def test_not_qualification_data(profile: BusinessProfile, text: str, absent: str) -> None:
    language = Language.PT if "perguntei" in text else Language.ES
    assert getattr(_fields(profile, text, language=language), absent) is None


def test_giving_an_email_is_not_asking_for_email(profile: BusinessProfile) -> None:
    assert _fields(profile, "te paso mi correo: ana@gmail.com").next_step is None
    fields = _fields(profile, "Olá! pode me mandar a grade? bia@hotmail.com", language=Language.PT)
    assert fields.next_step and fields.next_step.value is NextStep.EMAIL


# --- feelings and situations as pain; what they use today ----------------------------


@pytest.mark.parametrize(
    ("text", "language", "term"),
    [
        ("quiero un blanqueamiento, me da vergüenza reírme", Language.ES, "vergüenza"),
        ("tenho vergonha de sorrir, queria clareamento", Language.PT, "vergonha"),
        ("quiero volver al gym pero solo en casa no me motivo", Language.ES, "motivo"),
        ("el sofá que tenemos está hundido, busco uno nuevo", Language.ES, "hundido"),
        ("our bookings are a total mess, need a scheduling tool", Language.EN, "mess"),
        ("se me cae mucho el pelo, hacen tratamientos?", Language.ES, "cae"),
        ("mi hija reprobó mate dos veces", Language.ES, "reprobó"),
        ("my renewal quote doubled, looking for cover", Language.EN, "doubled"),
        ("we do payroll in Excel and it takes ages", Language.EN, "takes ages"),
        ("mi hijo tiene 8 y le cuesta mucho leer", Language.ES, "cuesta"),
        ("me da pánico el agua profunda", Language.ES, "pánico"),
        ("meu site tá muito lento", Language.PT, "lento"),
        ("we keep missing calls from customers", Language.EN, "missing calls"),
        ("el software que usamos se cae a cada rato", Language.ES, "se cae"),
        ("mi negocio no vende nada en redes", Language.ES, "no vende"),
        ("me pongo muy nervioso al volante", Language.ES, "nervioso"),
    ],
)
def test_pain_as_a_feeling_or_situation(
    profile: BusinessProfile, text: str, language: Language, term: str
) -> None:
    fields = _fields(profile, text, language=language)
    assert fields.pain and term in str(fields.pain.value)


def test_a_feeling_is_never_the_need(profile: BusinessProfile) -> None:
    fields = _fields(profile, "llevo 3 días esperando y nadie me contesta, es un desastre")
    assert fields.pain and fields.need is None


def test_a_pain_cue_that_names_the_product_is_no_pain(profile: BusinessProfile) -> None:
    fields = _fields(profile, "quiere presupuesto para un tratamiento de manchas")
    assert fields.pain is None


@pytest.mark.parametrize(
    ("text", "language", "term"),
    [
        ("ya lo llevé a otro mecánico y sigue vibrando", Language.ES, "otro mecánico"),
        ("mi seguro actual con Sura me sale muy caro", Language.ES, "Sura"),
        ("el actual con Rimac vence el 30", Language.ES, "Rimac"),
        ("probé con apps en casa pero no me motivo", Language.ES, "apps"),
        ("llevamos el inventario en libreta", Language.ES, "libreta"),
        ("ahora voy a un gimnasio municipal", Language.ES, "municipal"),
        ("tenemos una tienda online en Shopify", Language.ES, "Shopify"),
        ("faço as unhas em outro salão", Language.PT, "outro salão"),
        ("minha planilha de estoque virou uma bagunça", Language.PT, "planilha"),
        ("Currently with Hiscox but the renewal doubled", Language.EN, "Hiscox"),
        ("I'm with Octopus at the moment", Language.EN, "Octopus"),
        ("tried an OTC spray that didn't work", Language.EN, "spray"),
        ("el que tenía se jubiló y tengo las cuentas atrasadas", Language.ES, "el que tenía"),
        ("contratamos una agencia el año pasado", Language.ES, "agencia"),
        ("meu site atual é no Wix", Language.PT, "Wix"),
        ("hoje fazemos tudo no caderno", Language.PT, "caderno"),
        ("el software que usamos se cae a cada rato", Language.ES, "software"),
        ("we've tried two cleaning companies already", Language.EN, "cleaning companies"),
    ],
)
def test_prior_solution_families(
    profile: BusinessProfile, text: str, language: Language, term: str
) -> None:
    fields = _fields(profile, text, language=language)
    assert fields.prior_solution and term in str(fields.prior_solution.value)


def test_a_competitor_in_brackets_is_the_prior_solution_not_the_company(
    profile: BusinessProfile,
) -> None:
    text = "my current insurer (Aviva) just hiked my premium. Could you email me a quote?"
    fields = _fields(profile, text, language=Language.EN)
    assert fields.prior_solution and "Aviva" in str(fields.prior_solution.value)
    assert fields.company is None


@pytest.mark.parametrize(
    "text",
    [
        "en otro taller me pasaron 300 lucas",  # a competitor's price, not what they use
        "pues ya me cansé de esperar, quiero hablar con el gerente",
    ],
)
def test_not_a_prior_solution(profile: BusinessProfile, text: str) -> None:
    assert _fields(profile, text).prior_solution is None


# --- next step: bringing, leaving, going; quotes and calls in more words -------------


@pytest.mark.parametrize(
    ("text", "language", "step"),
    [
        ("lo puedo dejar mañana?", Language.ES, NextStep.VISIT),
        ("¿Os lo puedo llevar el lunes?", Language.ES, NextStep.VISIT),
        ("¿se lo puedo acercar el viernes?", Language.ES, NextStep.VISIT),
        ("¿Podemos ir a ver casas el fin de semana?", Language.ES, NextStep.VISIT),
        ("me la pueden revisar mañana?", Language.ES, NextStep.VISIT),
        ("tenéis cita el martes?", Language.ES, NextStep.VISIT),
        ("posso levar sábado?", Language.PT, NextStep.VISIT),
        ("Can I bring her in today?", Language.EN, NextStep.VISIT),
        ("could I pop in on Saturday for a trial class?", Language.EN, NextStep.VISIT),
        ("Can I book a tour this week?", Language.EN, NextStep.VISIT),
        ("dan consulta el lunes?", Language.ES, NextStep.VISIT),
        ("puedo pasar a cotizar?", Language.ES, NextStep.VISIT),
        ("¿Me mandáis presupuesto?", Language.ES, NextStep.QUOTE),
        ("quiere presupuesto para un tratamiento", Language.ES, NextStep.QUOTE),
        ("vocês me mandam um orçamento?", Language.PT, NextStep.QUOTE),
        ("pode mandar a proposta por lá, bia@x.com", Language.PT, NextStep.QUOTE),
        ("Could you ring me this evening?", Language.EN, NextStep.CALL),
        ("me marcas más tarde?", Language.ES, NextStep.CALL),
        ("me chama no zap 21 99876-5432", Language.PT, NextStep.WHATSAPP),
    ],
)
def test_more_next_steps(
    profile: BusinessProfile, text: str, language: Language, step: NextStep
) -> None:
    fields = _fields(profile, text, language=language)
    assert fields.next_step and fields.next_step.value is step


def test_a_product_named_after_calls_is_no_call(profile: BusinessProfile) -> None:
    text = "Do you offer a call answering service?"
    assert _fields(profile, text, language=Language.EN).next_step is None


def test_a_call_time_is_no_timeline(profile: BusinessProfile) -> None:
    text = "I'm after piano lessons. Can you give me a ring this evening?"
    fields = _fields(profile, text, language=Language.EN)
    assert fields.next_step and fields.next_step.value is NextStep.CALL
    assert fields.timeline is None


def test_offering_to_send_a_proposal_asks_for_none(profile: BusinessProfile) -> None:
    text = "sou da agência Impulso, posso te mandar uma proposta?"
    assert _fields(profile, text, language=Language.PT).next_step is None


def test_a_later_sentence_still_dates_the_need_after_accepting_a_demo(
    profile: BusinessProfile,
) -> None:
    fields = _fields(
        profile,
        "B:¿Te muestro una demo la próxima semana?",
        "Sí, la semana que viene va bien. Lo necesitamos funcionando en enero.",
    )
    assert fields.timeline and fields.timeline.value.bucket is TimelineBucket.LATER


# --- need: the thing asked about, never a random span --------------------------------


@pytest.mark.parametrize(
    ("text", "language", "need"),
    [
        ("¿Qué cursos tienen?", Language.ES, "cursos"),
        ("Hi, just browsing, what courses do you have?", Language.EN, "courses"),
        ("che que servicios tienen de uñas?", Language.ES, "servicios de uñas"),
        ("me quiero hacer las uñas mañana", Language.ES, "uñas"),
        ("to procurando apê pra comprar em Florianópolis", Language.PT, "apê"),
        ("ocupo sonido e iluminación pa una posada", Language.ES, "sonido"),
        ("kiero aprender a programar en python", Language.ES, "python"),
        ("Looking to rent a 1BR in Miami", Language.EN, "rent a 1BR"),
    ],
)
def test_need_is_the_thing(
    profile: BusinessProfile, text: str, language: Language, need: str
) -> None:
    fields = _fields(profile, text, language=language)
    assert fields.need and need in str(fields.need.value)


@pytest.mark.parametrize(
    "text",
    [
        "Buenas, ¿os lo puedo llevar el lunes?",  # the lead's own action, no product
        "queremos algo pa enero",
    ],
)
def test_no_random_need(profile: BusinessProfile, text: str) -> None:
    assert _fields(profile, text).need is None


def test_a_negated_wish_is_a_symptom_not_the_need(profile: BusinessProfile) -> None:
    fields = _fields(profile, "mi gatica no quiere comer desde ayer")
    # Not "comer desde ayer" read as a wish: the whole symptom, through the pain.
    assert fields.pain and fields.need and fields.need.value == fields.pain.value


def test_budget_with_the_symbol_after_in_venezuela(profile: BusinessProfile) -> None:
    fields = _fields(profile, "estoy en Valencia, Venezuela. cuanto me sale? tengo 50$")
    assert fields.budget and (fields.budget.value.amount, fields.budget.value.currency) == (
        50,
        "USD",
    )


def test_slang_of_the_leads_own_country_beats_the_city_they_move_to(
    profile: BusinessProfile,
) -> None:
    fields = _fields(profile, "Che, me mudo a Bogotá en enero, tengo unas 900 lucas ahorradas")
    assert fields.budget and fields.budget.value.currency == "ARS"


def test_a_slang_word_that_is_a_dialect_cue_does_not_vouch_for_itself(
    profile: BusinessProfile,
) -> None:
    fields = _fields(profile, "tenemos una ferretería en Valparaíso, tenemos unos 3 palos")
    assert fields.budget and fields.budget.value.currency == "CLP"


@pytest.mark.parametrize(
    ("turns", "amount"),
    [
        (("quiero el sofá", "B:Cuesta $2.400.000", "pensaba en algo de 1.900.000 max"), 1_900_000),
        (
            ("presupuesto 1.500.000", "B:¿Qué zona?", "perdón, me equivoqué: son 1.700.000"),
            1_700_000,
        ),
    ],
)
def test_a_ceiling_after_the_amount_and_a_correction_are_budgets(
    profile: BusinessProfile, turns: tuple[str, ...], amount: int
) -> None:
    fields = _fields(profile, *turns)
    assert fields.budget and fields.budget.value.amount == amount


def test_a_bare_now_answering_for_when_is_immediate(profile: BusinessProfile) -> None:
    fields = _fields(profile, "necesito llantas", "B:¿Para cuándo lo necesitas?", "ya")
    assert fields.timeline and fields.timeline.value.bucket is TimelineBucket.IMMEDIATE
    # The same "ya" accepting an offer is no timeline.
    fields = _fields(profile, "necesito llantas", "B:¿Te mando la cotización?", "ya")
    assert fields.timeline is None


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Qué precio tiene la mesa de centro?", "mesa"),
        ("hey, do you guys sell standing desks?", "desk"),
        ("el sábado paso por la tienda para ver comedores", "comedores"),
        ("estoy viendo un escritorio para mi hijo", "escritorio"),
    ],
)
def test_need_cues_for_a_product_asked_about(
    profile: BusinessProfile, text: str, word: str
) -> None:
    fields = _fields(profile, text)
    assert fields.need and word in fields.need.value.lower()


def test_seeing_options_is_no_need(profile: BusinessProfile) -> None:
    assert _fields(profile, "estoy viendo opciones nomas, para ver precios").need is None
