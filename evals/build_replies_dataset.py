"""Write the ``replies`` eval datasets (``evals/datasets/{dev,test}/reply_cases.jsonl``).

Cases are built from hand-written lead lines in es, pt and en, crossed with the
demo business's facts and a few moments (the first minute, past the
first-response SLA, after an exchange, out of hours). The gold is written here
from the business's facts as a person reads them, never by running the
copilot: the amounts and names that must appear, the other language's words
that must not, the template the taxonomy's order gives, and the turn.

``dev`` and ``test`` use different lines (and different items and cities where
there is a choice): ``test`` is held apart and not tuned on.

Run: ``python evals/build_replies_dataset.py`` (rewrites both files).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent / "datasets"

# --- the demo business's facts, as the gold states them ---------------------------

ITEMS = {
    "sofa": {"es": "Sofá 3 puestos", "pt": "Sofá de 3 lugares", "en": "3-seater sofa",
             "amount": "1.890.000"},
    "dining": {"es": "Comedor 4 puestos", "pt": "Mesa de jantar de 4 lugares",
               "en": "4-seat dining set", "amount": "1.450.000"},
    "bed": {"es": "Cama doble con cabecero", "pt": "Cama de casal com cabeceira",
            "en": "Double bed with headboard", "amount": "1.200.000"},
    "desk": {"es": "Escritorio en roble", "pt": "Escrivaninha de carvalho", "en": "Oak desk",
             "amount": "690.000"},
}  # fmt: skip
UNIT = {"es": "unidad", "pt": "unidade", "en": "unit"}
DELIVERY_TIME = {"es": "3 a 5 días hábiles", "pt": "3 a 5 dias úteis", "en": "3 to 5 business days"}
PAYMENT = {"es": "tarjeta de crédito", "pt": "cartão de crédito", "en": "credit card"}
HOURS = {"es": "lunes a viernes", "pt": "segunda a sexta", "en": "Monday to Friday"}
ADDRESS = "Calle 85 # 15-20"
VALUE = {"es": "roble", "pt": "carvalho", "en": "oak"}
PROMISE = {"es": "15 minutos", "pt": "15 minutos", "en": "15 minutes"}
# Words of one language that must not appear in a reply in another.
FOREIGN = {
    "es": ["unidade", "unit", "lugares", "dias úteis", "business days", "credit card",
           "cartão", "per unit", "We ", "Obrigado"],
    "pt": ["unidad", "puestos", "días hábiles", "tarjeta", "per unit", "business days",
           "Gracias", "Te respondemos"],
    "en": ["unidad", "unidade", "puestos", "lugares", "días hábiles", "dias úteis", "tarjeta",
           "cartão", "por unidad", "Gracias", "Obrigado"],
}  # fmt: skip
RAW_ENUMS = ["video_call", "proposal_followup", "business_answer", "handoff_notice", "{", "}"]

# --- lead lines: (item or topic, text) per language, dev and test apart -----------

PRICE = {
    "dev": {
        "es": [("sofa", "hola! cuanto sale el sofa de 3 puestos?"),
               ("bed", "buenas, qué precio tiene la cama doble?"),
               ("desk", "hola cuánto cuesta el escritorio?"),
               ("dining", "buenas tardes, cuanto vale el comedor de 4 puestos?"),
               ("sofa", "info del precio del sofá porfa")],
        "pt": [("sofa", "olá, quanto custa o sofá de 3 lugares?"),
               ("bed", "oi, qual o preço da cama de casal?"),
               ("desk", "boa tarde, quanto custa a escrivaninha?"),
               ("dining", "quanto fica a mesa de jantar?"),
               ("sofa", "oi! preço do sofá?")],
        "en": [("sofa", "hi, how much is the 3 seater sofa?"),
               ("bed", "hello, what's the price of the double bed?"),
               ("desk", "how much does the oak desk cost?"),
               ("dining", "hi there, price of the dining table?"),
               ("sofa", "how much for the couch?")],
    },
    "test": {
        "es": [("sofa", "Hola!! a cómo tienen el sofá de tres puestos"),
               ("desk", "me dices el precio del escritorio en roble?"),
               ("bed", "cuanto me sale una cama doble con cabecero"),
               ("dining", "Qué valor tiene el comedor?"),
               ("bed", "hola, precio de la cama?")],
        "pt": [("sofa", "Bom dia, qual o valor do sofá?"),
               ("dining", "quanto custa a mesa de jantar de 4 lugares?"),
               ("desk", "oi, a escrivaninha de carvalho custa quanto?"),
               ("bed", "quanto sai a cama de casal com cabeceira?"),
               ("sofa", "olá, quanto é o sofá de 3 lugares?")],
        "en": [("desk", "Hey, what does the desk cost?"),
               ("bed", "how much is a double bed with headboard?"),
               ("sofa", "Good morning! What's the price for the 3-seater sofa?"),
               ("dining", "how much is the dining set?"),
               ("sofa", "price of your sofa please")],
    },
}  # fmt: skip
DELIVERY = {
    "dev": {"es": [("Chía", "hola, hacen envíos a Chía?"), ("Soacha", "buenas, entregan en Soacha?")],
            "pt": [("Chía", "oi, vocês entregam em Chía?"), ("Soacha", "fazem entrega em Soacha?")],
            "en": [("Chía", "hi, do you deliver to Chia?"), ("Soacha", "do you ship to Soacha?")]},
    "test": {"es": [("Cajicá", "llegan a Cajicá con el envío?"), ("Bogotá", "hacen domicilios a Bogotá?")],
             "pt": [("Cajicá", "vocês fazem entrega em Cajicá?"), ("Bogotá", "entregam em Bogotá?")],
             "en": [("Cajicá", "can you deliver to Cajica?"), ("Bogotá", "do you deliver to Bogota?")]},
}  # fmt: skip
ELSEWHERE = {
    "dev": {"es": ("Medellín", "hola, hacen envíos a Medellín?"),
            "pt": ("Lisboa", "olá, vocês entregam em Lisboa?"),
            "en": ("Miami", "hi, do you ship to Miami?")},
    "test": {"es": ("Cali", "buenas, envían a Cali?"),
             "pt": ("Recife", "oi, fazem entrega em Recife?"),
             "en": ("Boston", "hello, do you deliver to Boston?")},
}  # fmt: skip
OTHER_FACTS = {
    "dev": {
        "es": [("payment", "qué medios de pago tienen?"), ("hours", "a qué hora abren?"),
               ("address", "dónde quedan?"), ("nequi", "aceptan nequi?")],
        "pt": [("payment", "quais as formas de pagamento?"), ("hours", "que horas abre?"),
               ("address", "onde fica a loja?"), ("nequi", "aceitam nequi?")],
        "en": [("payment", "what payment methods do you accept?"), ("hours", "what are your opening hours?"),
               ("address", "what's your address?"), ("nequi", "can I pay with nequi?")],
    },
    "test": {
        "es": [("payment", "cómo puedo pagar?"), ("hours", "cuál es el horario de atención?"),
               ("address", "cuál es la dirección de la tienda?"), ("nequi", "reciben nequi?")],
        "pt": [("payment", "como posso pagar?"), ("hours", "qual o horário de funcionamento?"),
               ("address", "qual o endereço?"), ("nequi", "posso pagar com nequi?")],
        "en": [("payment", "how can I pay?"), ("hours", "what time do you open?"),
               ("address", "where is the store?"), ("nequi", "do you take nequi?")],
    },
}  # fmt: skip
SEVERAL = {
    "dev": {"es": ("sofa", "Chía", "cuanto cuesta el sofa y hacen envios a chia? aceptan nequi?"),
            "pt": ("bed", "Soacha", "quanto custa a cama? entregam em Soacha? aceitam nequi?"),
            "en": ("desk", "Chía", "how much is the desk, do you deliver to Chia and can I pay with nequi?")},
    "test": {"es": ("bed", "Soacha", "precio de la cama doble, envían a Soacha? reciben nequi?"),
             "pt": ("sofa", "Chía", "quanto custa o sofá, entregam em Chía e aceitam nequi?"),
             "en": ("sofa", "Soacha", "what's the price of the sofa? do you deliver to Soacha? do you take nequi?")},
}  # fmt: skip
LOSS = {
    "dev": {"es": [("chose_competitor", "ya no me interesa, compré en otro lado"),
                   ("not_interested", "gracias pero ya no me interesa")],
            "pt": [("chose_competitor", "obrigado, já comprei em outro lugar"),
                   ("not_interested", "não tenho mais interesse, obrigado")],
            "en": [("chose_competitor", "thanks, I already bought one elsewhere"),
                   ("not_interested", "I'm not interested anymore, thanks")]},
    "test": {"es": [("chose_competitor", "ya lo compré en otra tienda, gracias"),
                    ("not_interested", "no me interesa ya, gracias igual")],
             "pt": [("chose_competitor", "comprei em outra loja, valeu"),
                    ("not_interested", "não me interessa mais")],
             "en": [("chose_competitor", "we went with another store, thanks"),
                    ("not_interested", "no longer interested, sorry")]},
}  # fmt: skip
OBJECTION = {
    "dev": {"es": ["jajaja q caro, en homecenter está a la mitad", "uy muy caro"],
            "pt": ["muito caro, na tokstok é mais barato", "nossa, caro demais"],
            "en": ["too expensive, at ikea it's half the price", "that's so expensive"]},
    "test": {"es": ["carísimo, en falabella lo vi más barato", "está muy costoso para mí"],
             "pt": ["achei caro, no magalu está pela metade", "muito caro pra mim"],
             "en": ["way too expensive, wayfair is cheaper", "that's over my budget, pricey"]},
}  # fmt: skip
COMPLAINT = {
    "dev": {"es": [("damaged", "el sofá llegó roto, qué mal servicio", "text"),
                   ("late", "pésimo, mi pedido no ha llegado y ya pasó una semana", "text")],
            "pt": [("damaged", "a cama chegou quebrada, péssimo", "text"),
                   ("late", "meu pedido ainda não chegou, que absurdo", "text")],
            "en": [("damaged", "the desk arrived damaged, terrible", "text"),
                   ("late", "my order still hasn't arrived, this is unacceptable", "text")]},
    "test": {"es": [("damaged", "la mesa vino rayada, estoy muy molesta", "image"),
                    ("late", "llevo diez días esperando, no llega nada, qué falta de seriedad", "text")],
             "pt": [("damaged", "o sofá veio riscado, estou muito chateada", "image"),
                    ("late", "já faz dez dias e nada, atraso absurdo", "text")],
             "en": [("damaged", "the sofa came scratched, really upset", "image"),
                    ("late", "ten days and still waiting, this is a joke, awful service", "text")]},
}  # fmt: skip
MEDIA_WORD = {
    "audio": {"es": "nota de voz", "pt": "áudio", "en": "voice note"},
    "image": {"es": "imagen", "pt": "imagem", "en": "image"},
}
PROBLEM_WORD = {"damaged": {"es": "daños", "pt": "danos", "en": "damaged"},
                "late": {"es": "demora", "pt": "atraso", "en": "delay"}}  # fmt: skip
APOLOGY = {"es": "Lamentamos", "pt": "Sentimos muito", "en": "sorry"}
HUMAN = {"dev": {"es": "quiero hablar con un asesor", "pt": "quero falar com um atendente",
                 "en": "can I talk to a person?"},
         "test": {"es": "me pasas con una persona por favor", "pt": "quero falar com alguém da equipe",
                  "en": "I'd like to speak to a human please"}}  # fmt: skip
OWNER = {"dev": "Andrés", "test": "Beatriz"}
# A customer's order question answered by an agent, then their thanks.
ORDER_THANKS = {
    "dev": {"es": ("hola, dónde va mi pedido 4452?", "Tu pedido sale hoy.", "ok gracias!!"),
            "pt": ("oi, cadê meu pedido 881?", "Seu pedido sai hoje.", "valeu, obrigado"),
            "en": ("hi, where is my order 301?", "Your order ships today.", "great, thanks")},
    "test": {"es": ("buenas, ya despacharon mi pedido?", "Sí, llega mañana.", "perfecto, muchas gracias 👍"),
             "pt": ("olá, meu pedido já saiu?", "Sim, chega amanhã.", "beleza, obrigada"),
             "en": ("hello, has my order shipped?", "Yes, it arrives tomorrow.", "perfect, thank you so much")},
}  # fmt: skip
GREETING_REPLY = {"es": "¡Hola! ¿En qué te ayudamos?", "pt": "Olá! Como podemos ajudar?",
                  "en": "Hi! How can we help?"}  # fmt: skip
FIRST_PERSON = {"es": ["para mi apartamento", "mi casa"], "pt": ["meu apartamento", "minha casa"],
                "en": ["my apartment", "my house"]}  # fmt: skip

# Friday 2026-11-20 in Bogotá: 10:00 is open, 19:30 closed (opens Saturday 10:00).
OPEN_AT = "2026-11-20T10:00:00-05:00"
CLOSED_AT = "2026-11-20T19:30:00-05:00"


def _line(split: str, n: int, lang: str, messages: list, gold: dict, **extra) -> dict:
    gold.setdefault("must_not", [])
    # Words of other languages than the reply's (the lead's, unless the gold says).
    reply_lang = gold.get("language") or lang
    gold["must_not"] = sorted(set(gold["must_not"]) | set(FOREIGN[reply_lang]) | set(RAW_ENUMS))
    gold.setdefault("max_chars", 420)
    return {"id": f"r{split[0]}{n:03d}", "lang": lang, "messages": messages, **extra, "gold": gold}


def _exchange(lang: str, text: str, **turn) -> list:
    return [
        {
            "from": "lead",
            "text": "hola" if lang == "es" else "oi" if lang == "pt" else "hi",
            "ts": OPEN_AT,
        },
        {"from": "business", "text": GREETING_REPLY[lang], "author": "agent"},
        {"from": "lead", "text": text, **turn},
    ]


def build(split: str) -> list[dict]:
    lines: list[dict] = []

    def add(lang: str, messages: list, gold: dict, **extra) -> None:
        lines.append(_line(split, len(lines) + 1, lang, messages, gold, **extra))

    for lang in ("es", "pt", "en"):
        money = lambda key: ITEMS[key]["amount"]  # noqa: E731
        for key, text in PRICE[split][lang]:
            must = [ITEMS[key][lang], money(key), UNIT[lang]]
            first = [{"from": "lead", "text": text, "ts": OPEN_AT}]
            # First message, within the SLA: the welcome, its promise and the answer.
            add(
                lang,
                first,
                {"template": "welcome", "answerable": True, "must": [*must, PROMISE[lang]]},
            )
            # First message, 40 minutes later: no promise, still the answer.
            add(
                lang,
                first,
                {
                    "template": "acknowledgement",
                    "answerable": True,
                    "must": must,
                    "must_not": [PROMISE[lang]],
                },
                moment={"minutes_after": 40},
            )
            # After an exchange: the answer itself.
            add(
                lang,
                _exchange(lang, text),
                {"template": "business_answer", "answerable": True, "must": must},
            )
            # Out of hours: when we open, and the answer.
            add(
                lang,
                [{"from": "lead", "text": text, "ts": CLOSED_AT}],
                {"template": "out_of_hours", "answerable": True, "must": [money(key)]},
            )
        for city, text in DELIVERY[split][lang]:
            must = [city, DELIVERY_TIME[lang]]
            add(
                lang,
                [{"from": "lead", "text": text, "ts": OPEN_AT}],
                {"template": "welcome", "answerable": True, "must": must},
            )
            add(
                lang,
                _exchange(lang, text),
                {"template": "business_answer", "answerable": True, "must": must},
            )
        city, text = ELSEWHERE[split][lang]
        for messages, template in (
            ([{"from": "lead", "text": text, "ts": OPEN_AT}], "welcome"),
            (_exchange(lang, text), "qualification"),
        ):
            add(
                lang,
                messages,
                {
                    "template": template,
                    "answerable": False,
                    "must": ["Bogotá", "Chía", "Soacha"],
                    "must_not": [city],
                },
            )
        for topic, text in OTHER_FACTS[split][lang]:
            must = {
                "payment": [PAYMENT[lang], "Nequi"],
                "hours": [HOURS[lang]],
                "address": [ADDRESS],
                "nequi": ["Nequi", PAYMENT[lang]],
            }[topic]
            add(
                lang,
                [{"from": "lead", "text": text, "ts": OPEN_AT}],
                {"template": "welcome", "answerable": True, "must": must},
            )
            add(
                lang,
                _exchange(lang, text),
                {"template": "business_answer", "answerable": True, "must": must},
            )
        key, city, text = SEVERAL[split][lang]
        must = [ITEMS[key][lang], money(key), city, "Nequi"]
        add(
            lang,
            [{"from": "lead", "text": text, "ts": OPEN_AT}],
            {"template": "welcome", "answerable": True, "must": must},
        )
        add(
            lang,
            _exchange(lang, text),
            {"template": "business_answer", "answerable": True, "must": must},
        )
        for reason, text in LOSS[split][lang]:
            add(
                lang,
                _exchange(lang, text),
                {
                    "turn": "loss",
                    "propose_stage": "lost",
                    "lost_reason": reason,
                    "must_not": ["?"],
                    "max_chars": 160,
                },
            )
        for text in OBJECTION[split][lang]:
            add(lang, _exchange(lang, text), {"turn": "objection", "must": [VALUE[lang], "?"]})
        for problem, text, kind in COMPLAINT[split][lang]:
            turn = {"type": kind} if kind != "text" else {}
            add(
                lang,
                _exchange(lang, text, **turn),
                {
                    "template": "handoff_notice",
                    "turn": "complaint",
                    "must": [APOLOGY[lang], PROBLEM_WORD[problem][lang]],
                },
            )
            add(
                lang,
                _exchange(lang, text, **turn),
                {
                    "template": "handoff_notice",
                    "turn": "complaint",
                    "must": [APOLOGY[lang], PROBLEM_WORD[problem][lang], OWNER[split]],
                    "must_not": ["Camila"],
                },
                owner=OWNER[split],
            )
        for kind in ("audio", "image"):
            media = {"type": kind}
            # A first message with no words tells no language: the default one (es).
            add(
                lang,
                [{"from": "lead", "text": "", "ts": OPEN_AT, **media}],
                {
                    "template": "welcome",
                    "turn": "media",
                    "language": "es",
                    "must": [MEDIA_WORD[kind]["es"], "?"],
                },
            )
            add(
                lang,
                _exchange(lang, "", **media),
                {"turn": "media", "must": [MEDIA_WORD[kind][lang], "?"]},
            )
        ask, answer, thanks = ORDER_THANKS[split][lang]
        add(
            lang,
            [
                {"from": "lead", "text": ask, "ts": OPEN_AT},
                {"from": "business", "text": answer, "author": "agent"},
                {"from": "lead", "text": thanks},
            ],
            {"turn": "courtesy", "must_not": ["?"], "max_chars": 120},
        )
        human = HUMAN[split][lang]
        add(lang, _exchange(lang, human), {"template": "handoff_notice", "must_not": ["Camila"]})
        add(
            lang,
            _exchange(lang, human),
            {"template": "handoff_notice", "must": [OWNER[split]], "must_not": ["Camila"]},
            owner=OWNER[split],
        )
        # The single-language profile: a reply in its language only, whole.
        item_text = {"dev": {"es": "cuánto cuesta la silla plegable?", "pt": "quanto custa a silla plegable?",
                             "en": "how much is the silla plegable?"},
                     "test": {"es": "precio de la silla?", "pt": "qual o preço da silla?",
                              "en": "what's the price of the silla?"}}[split][lang]  # fmt: skip
        add(
            "es" if lang == "es" else lang,
            [{"from": "lead", "text": item_text, "ts": OPEN_AT}],
            {
                "template": "welcome",
                "answerable": True,
                "language": "es",
                "must": ["Silla plegable", "1,500", "pieza"],
                "must_not": ["Thanks", "Obrigado", "unit"],
            },
            profile="profiles/tienda_es.toml",
        )
    return lines


def main() -> None:
    for split in ("dev", "test"):
        lines = build(split)
        path = HERE / split / "reply_cases.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for line in lines:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        print(f"{path}: {len(lines)} cases")


if __name__ == "__main__":
    main()
