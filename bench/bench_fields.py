"""Speed of the rules engine's field extraction (``extract_fields``).

Scenario: a conversation of 10 turns is re-analysed after each new lead message.
Old turns are already in the per-message cache; only the new last message is read.
Prints the median and p95 time per ``extract_fields`` call, and the cold time of a
whole 10-turn conversation for comparison.

    python bench/bench_fields.py      # or: make bench
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

try:
    import copilot  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot.engines.rules.fields import extract_fields, message_fields
from copilot.models import Conversation, Message
from copilot.profile import load_profile
from copilot.taxonomy import Author, Direction, Language

BASE = datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("America/Bogota"))
HISTORY = [
    ("lead", "Hola buenas tardes, estoy buscando un comedor de 6 puestos"),
    ("business", "¡Hola! Con gusto te ayudo. ¿Para cuándo lo necesitas?"),
    ("lead", "para antes de fin de mes, nos pasamos de apto"),
    ("business", "Perfecto. ¿Qué presupuesto manejas?"),
    ("lead", "unos 2 palos maximo"),
    ("business", "Tenemos el comedor Roble en $1.450.000. ¿Con quién tengo el gusto?"),
    ("lead", "Laura Gómez, estoy en Chía"),
    ("business", "Gracias Laura. ¿Te gustaría venir a la tienda a verlo?"),
    ("lead", "si, el sábado puedo pasar"),
]
NEEDS = ["un sofá en L", "una cama doble", "un escritorio en roble", "dos sillas", "un closet"]
EXTRAS = [
    "mi correo es laura{n}@gmail.com",
    "mejor llámenme al 310 4{n:06d}",
    "tengo hasta {n} mil pesos",
    "perdón, mejor para el {d} de diciembre, somos {n} personas",
    "me interesa también {need} de {n} cm, somos de Medellín",
    "y cuanto sale {need}? vi uno en otra tienda en {n}00 mil",
    "necesito {need} para la oficina {n}, urgente",
    "ok perfecto, te confirmo mañana la referencia {n}",
]


def _conversation(last_text: str) -> Conversation:
    messages = [
        Message(
            id=f"m{i}",
            direction=Direction.INBOUND if who == "lead" else Direction.OUTBOUND,
            author=Author.LEAD if who == "lead" else Author.AGENT,
            text=text,
            timestamp=BASE + timedelta(minutes=i),
        )
        for i, (who, text) in enumerate(HISTORY)
    ]
    messages.append(
        Message(id="m-new", text=last_text, timestamp=BASE + timedelta(minutes=len(HISTORY)))
    )
    return Conversation(messages=messages)


def main(rounds: int = 2000) -> None:
    """Run the benchmark and print its figures."""
    profile = load_profile()
    # Every last message is different (n grows), so none is a cache hit.
    texts = [
        extra.format(n=n + 1, d=n % 28 + 1, need=need)
        for n, (extra, need) in zip(
            range(rounds), itertools.cycle(itertools.product(EXTRAS, NEEDS)), strict=False
        )
    ]
    assert len(set(texts)) == rounds
    conversations = [_conversation(text) for text in texts]
    extract_fields(_conversation("hola"), profile, Language.ES)  # load lexicons, warm history
    warm: list[float] = []
    cpu: list[float] = []
    for conversation in conversations:
        start, start_cpu = time.perf_counter(), time.thread_time()
        extract_fields(conversation, profile, Language.ES)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        warm.append((time.perf_counter() - start) * 1000)
    cold: list[float] = []
    for conversation in conversations[:200]:
        message_fields.cache_clear()
        start = time.perf_counter()
        extract_fields(conversation, profile, Language.ES)
        cold.append((time.perf_counter() - start) * 1000)
    warm.sort()
    print(f"extract_fields, 10 turns, new last message ({rounds} runs):")
    print(
        f"  wall median {statistics.median(warm):.3f} ms   p95 {warm[int(len(warm) * 0.95)]:.3f} ms"
    )
    # CPU time of this thread: what a loaded machine does not inflate.
    print(f"  cpu  median {statistics.median(cpu):.3f} ms")
    print(f"all 10 turns uncached (200 runs): median {statistics.median(cold):.3f} ms")


if __name__ == "__main__":
    main()
