"""Benchmark of the offline ``rules`` engine on one core.

Prints, over many different realistic 10-turn conversations whose last message
is new every time (no cache hit on it):

- ``Copilot(engine="rules").analyze(conversation)``: the full analysis;
- ``RulesEngine.understand``: the engine alone;
- the baseline: 30 compiled regular expressions (``re.search`` of each) over the
  same last messages, the cost of the simplest keyword bot;
- the ratios to that baseline.

Run: ``python bench/bench_rules.py [--conversations N]`` (finishes well under 60 s).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

try:
    import copilot  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot import Copilot
from copilot.engines.rules import RulesEngine
from copilot.models import Contact, Conversation, Message
from copilot.profile import load_profile
from copilot.taxonomy import Author, Direction

BOGOTA = ZoneInfo("America/Bogota")
START = datetime(2026, 11, 20, 9, 30, tzinfo=BOGOTA)
#: Stop a section early past this many seconds (keeps the whole run under a minute).
SECTION_BUDGET_S = 12.0

# --- realistic material ------------------------------------------------------------

LEAD_OPENERS = [
    "Hola", "hola buenas", "Buenas tardes", "buenos días!", "Holaaa", "Hola, vi su perfil de Instagram",
    "hola vengo de la publicidad", "Buenas noches", "hola, una amiga me pasó su número", "Oi, tudo bem?",
    "Olá, boa tarde", "Hi there", "Hello!", "QR-TIENDA-01", "Hola! Vengo de la web de Muebles Roble",
]  # fmt: skip
LEAD_ASKS = [
    "cuanto sale el sofá de 3 puestos?", "tienen comedores de 6 puestos?", "hacen muebles a medida?",
    "qué precio tiene la cama doble con cabecero?", "envían a Chía?", "aceptan Nequi o tarjeta?",
    "a qué hora abren el sábado?", "dónde queda la tienda?", "tienen el escritorio en roble en stock?",
    "quiero cotizar una biblioteca para la sala", "me pueden llamar mañana en la tarde?",
    "quanto custa o sofá?", "vocês entregam em Soacha?", "do you ship to Cajicá?",
    "how much is the dining table?", "necesito un closet para el cuarto de mi hija",
    "el sofá viene en tela gris o solo en cuero?", "cuánto se demora la entrega?",
]  # fmt: skip
LEAD_INFO = [
    "para antes del 15 de diciembre", "somos 4 en la casa", "mi presupuesto es de unos 2 millones",
    "me llamo Andrés", "estoy en Bogotá, por la 80", "lo necesito para la otra semana",
    "tenemos 1.5 palos más o menos", "mi correo es andres.rojas@example.com",
    "el que tengo ya está muy viejo y se hunde", "prefiero por aquí por whatsapp",
    "trabajo en Constructora Andina", "no hay afán, para enero", "mejor una videollamada",
    "meu nome é Carla", "my budget is around 500 USD", "me interesa el gris",
]  # fmt: skip
BUSINESS_TURNS = [
    "¡Hola! Gracias por escribir a Muebles Roble. ¿En qué te podemos ayudar?",
    "Claro que sí. El Sofá 3 puestos cuesta $1.890.000. ¿Para cuándo lo necesitas?",
    "Entregamos en Bogotá, Chía, Cajicá y Soacha en 3 a 5 días hábiles.",
    "Aceptamos tarjeta de crédito, débito, PSE, Nequi y efectivo.",
    "Abrimos de lunes a viernes de 9:00 a 18:00 y sábados de 10:00 a 14:00.",
    "¿Tienes algún presupuesto en mente?", "¿Con quién tengo el gusto?",
    "Te puedo enviar fotos del catálogo por aquí.", "¿Te gustaría pasar por la tienda a verlo?",
]  # fmt: skip
LAST_HEADS = [
    "", "ok, ", "listo, ", "perfecto! ", "uy ", "oye ", "y ", "bueno ", "dale, ", "ah ok, ",
    "mmm ", "gracias! ", "jaja ", "vale, ", "ok gracias, ", "entendido, ", "ahh ", "sii ",
]  # fmt: skip
LAST_BODIES = [
    "cuanto sale con envío a {city}?", "lo quiero, cómo pago?", "me pueden llamar al {phone}?",
    "quiero hablar con un asesor", "tienen en color {color}?", "puedo pasar {day} a verlo?",
    "para {day} estaría bien", "mi presupuesto es {money}", "pésimo servicio, nadie me responde",
    "dónde está mi pedido {order}?", "no me escriban más", "me llamo {name}",
    "hacen descuento si llevo dos?", "el {item} me sirve, lo separan?", "mándame la cotización al correo",
    "y el {item} cuánto vale?", "tienen garantía?", "entregan {day}?", "gana dinero desde casa 💰",
    "quero falar com um atendente", "can I visit the store {day}?", "está muy caro, hay algo más barato?",
]  # fmt: skip
FILL = {
    "city": ["Chía", "Cajicá", "Soacha", "Bogotá", "Medellín", "Zipaquirá", "Funza"],
    "phone": ["3001234567", "310 555 1234", "+57 315 987 6543", "3204445566"],
    "color": ["gris", "beige", "azul", "verde oliva", "negro", "café"],
    "day": ["mañana", "el sábado", "el lunes", "hoy en la tarde", "la otra semana", "el viernes"],
    "money": ["2 millones", "1.5 palos", "$1.800.000", "3 millones", "800 mil", "500 USD"],
    "order": ["4411", "#5520", "PED-0091", "3390"],
    "name": ["Laura", "Juan Pablo", "Camilo", "Diana", "Andrés", "María José"],
    "item": ["sofá", "comedor", "escritorio", "sofá cama", "cabecero", "nochero"],
}
LAST_TAILS = ["", "?", " 🙏", " porfa", " por favor", "!!", " 😊", " gracias", " ya", "..."]

#: The regex baseline: what a keyword bot would run on every message.
BASELINE_PATTERNS = [
    r"\b(hola|buenas|buenos d[ií]as|ol[aá]|oi|hi|hello)\b",
    r"\bcu[aá]nto (sale|cuesta|vale)\b",
    r"\bprecio(s)?\b",
    r"\b(quanto custa|how much)\b",
    r"\b(tienen|hay) (stock|disponible|en color)\b",
    r"\benv[ií](o|an|os)\b",
    r"\b(entrega|entregan|entregas)\b",
    r"\b(lo quiero|quiero comprar|c[oó]mo pago)\b",
    r"\b(llamar|llamada|videollamada|call)\b",
    r"\b(visita|pasar por|ir a la tienda|visit)\b",
    r"\b(asesor|humano|persona|atendente|agent)\b",
    r"\b(p[eé]simo|horrible|queja|reclamo|estafa)\b",
    r"\b(no me escriban|baja|stop|unsubscribe)\b",
    r"\b(pedido|orden|order)\s*#?\w*\d+",
    r"\b(horario|a qu[eé] hora|abren|cierran)\b",
    r"\b(d[oó]nde (queda|est[aá]n)|direcci[oó]n|ubicaci[oó]n)\b",
    r"\b(nequi|pse|tarjeta|efectivo|transferencia)\b",
    r"\b(descuento|promo(ci[oó]n)?|oferta)\b",
    r"\b(garant[ií]a|devoluci[oó]n|reembolso)\b",
    r"\b(cotizaci[oó]n|cotizar|presupuesto|or[cç]amento|quote)\b",
    r"[\w.+-]+@[\w-]+\.[\w.]+",
    r"(\+?57)?\s*3\d{2}\s*\d{3}\s*\d{4}",
    r"\$\s?\d{1,3}(\.\d{3})+",
    r"\b\d+(\.\d+)?\s*(millones|palos|mil|k|usd)\b",
    r"\b(ma[nñ]ana|hoy|s[aá]bado|lunes|viernes|semana)\b",
    r"\b(me llamo|mi nombre es|soy)\s+[a-záéíóúñ]+",
    r"\b(bogot[aá]|ch[ií]a|cajic[aá]|soacha|medell[ií]n)\b",
    r"\b(instagram|facebook|anuncio|publicidad|web)\b",
    r"\b(gana dinero|inversi[oó]n segura|criptomoneda)\b",
    r"\b(gracias|ok|listo|perfecto|dale|vale)\b",
]


def _last_messages(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct last messages."""
    seen: set[str] = set()
    out = []
    while len(out) < count:
        body = rng.choice(LAST_BODIES)
        for key, values in FILL.items():
            body = body.replace("{" + key + "}", rng.choice(values))
        text = f"{rng.choice(LAST_HEADS)}{body}{rng.choice(LAST_TAILS)}"
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def _conversation(rng: random.Random, index: int, last: str) -> tuple[Conversation, datetime]:
    """A 10-turn context (lead and business alternating, with some double texts) + ``last``."""
    turns: list[tuple[bool, str]] = [(True, f"{rng.choice(LEAD_OPENERS)}, {rng.choice(LEAD_ASKS)}")]
    while len(turns) < 10:
        lead = not turns[-1][0] or rng.random() < 0.2
        pool = LEAD_ASKS + LEAD_INFO if lead else BUSINESS_TURNS
        turns.append((lead, rng.choice(pool)))
    turns.append((True, last))
    moment = START + timedelta(minutes=rng.randrange(0, 300))
    messages = []
    for number, (lead, text) in enumerate(turns, start=1):
        moment += timedelta(minutes=rng.randrange(1, 25))
        messages.append(
            Message(
                id=f"c{index}-m{number}",
                direction=Direction.INBOUND if lead else Direction.OUTBOUND,
                author=Author.LEAD if lead else Author.AGENT,
                text=text,
                timestamp=moment,
            )
        )
    conversation = Conversation(
        id=f"c{index}", contact=Contact(wa_id=f"57300{index:07d}"), messages=messages
    )
    return conversation, moment + timedelta(minutes=1)


def _time_each(items: Sequence[object], call: Callable[[object], object]) -> list[float]:
    """Milliseconds per call, stopping early past the section budget."""
    timings = []
    deadline = time.perf_counter() + SECTION_BUDGET_S
    for item in items:
        started = time.perf_counter_ns()
        call(item)
        timings.append((time.perf_counter_ns() - started) / 1e6)
        if time.perf_counter() > deadline:
            break
    return timings


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "mean": statistics.fmean(ordered),
        "n": len(ordered),
    }


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to CPU {core}"
    return "not pinned (no sched_setaffinity here)"


def main() -> None:
    """Build the conversations, time the three sections and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    pinned = _pin_one_core()
    rng = random.Random(args.seed)
    lasts = _last_messages(rng, args.conversations * 2)
    # Two disjoint halves: analyze and understand each see new last messages.
    for_analyze = [_conversation(rng, i, t) for i, t in enumerate(lasts[: args.conversations])]
    for_understand = [
        _conversation(rng, i, t) for i, t in enumerate(lasts[args.conversations :], start=10**6)
    ]
    profile = load_profile()
    copilot = Copilot(profile=profile, engine="rules")
    engine = RulesEngine()

    # Warm-up on other conversations: imports, lexicon loading, first-call caches.
    for conversation, now in [_conversation(rng, -i, f"hola warm {i}") for i in range(1, 30)]:
        copilot.analyze(conversation, now=now)

    analyze_ms = _time_each(for_analyze, lambda pair: copilot.analyze(pair[0], now=pair[1]))
    understand_ms = _time_each(
        for_understand, lambda pair: engine.understand(pair[0], profile, pair[1])
    )
    patterns = [re.compile(p, re.IGNORECASE) for p in BASELINE_PATTERNS]
    baseline_texts = [c.messages[-1].text for c, _ in for_analyze]

    def run_patterns(text: object) -> object:
        return [p.search(text) for p in patterns]  # type: ignore[arg-type]

    regex_ms = _time_each(baseline_texts, run_patterns)

    print(f"rules engine benchmark: {len(for_analyze)} conversations of 10 turns + 1 new message")
    print(f"python {sys.version.split()[0]}, one core ({pinned})\n")
    rows = [
        ("Copilot.analyze (full)", _stats(analyze_ms)),
        ("RulesEngine.understand", _stats(understand_ms)),
        (f"{len(patterns)} compiled regexes", _stats(regex_ms)),
    ]
    print(f"{'section':<26}{'median ms':>11}{'p90 ms':>10}{'mean ms':>10}{'n':>6}")
    for name, s in rows:
        print(f"{name:<26}{s['median']:>11.3f}{s['p90']:>10.3f}{s['mean']:>10.3f}{s['n']:>6}")
    base = rows[2][1]
    print()
    for name, s in rows[:2]:
        print(
            f"{name} / regexes: median x{s['median'] / base['median']:.1f}, "
            f"mean x{s['mean'] / base['mean']:.1f}"
        )


if __name__ == "__main__":
    main()
