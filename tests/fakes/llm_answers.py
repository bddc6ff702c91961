"""Model answers for the ``analyze`` schema, for the fake servers and fake chat models."""

from __future__ import annotations

import json
from typing import Any


def analyze_answer(**overrides: Any) -> dict[str, Any]:
    """A valid ``AnalyzeOutput`` as a dict; ``overrides`` replace top-level keys."""
    answer: dict[str, Any] = {
        "language": "es",
        "intent": {"label": "pricing", "confidence": 0.92, "also": ["product_inquiry"]},
        "origin": {"label": "unknown", "evidence": None},
        "fields": {
            "need": "sofá de 3 puestos",
            "timeline": {"text": "para el viernes", "bucket": "immediate"},
            "prior_solution": None,
            "pain": None,
            "next_step": None,
            "budget": {"amount": 2000000, "currency": "COP", "text": "2 palos"},
            "name": None,
            "email": None,
            "phone": None,
            "company": None,
            "city": "Bogotá",
        },
        "handoff": {"needed": False, "reason": None},
        "injection_suspected": False,
        "reply": {
            "template": "business_answer",
            "slots": {
                "question": None,
                "answer": "El Sofá 3 puestos cuesta 1.890.000 COP.",
                "need": None,
                "next_step": None,
            },
            "free_text": None,
        },
    }
    answer.update(overrides)
    return answer


def analyze_json(**overrides: Any) -> str:
    """:func:`analyze_answer` as JSON text."""
    return json.dumps(analyze_answer(**overrides), ensure_ascii=False)


TEN_TURNS = (
    "Hola buenas tardes",
    "¡Hola! Gracias por escribir a Muebles Roble. ¿En qué te ayudo?",
    "quiero info del sofá de 3 puestos, cuanto sale?",
    "El Sofá 3 puestos cuesta 1.890.000 COP. ¿Para cuándo lo necesitas?",
    "para antes de fin de mes, es para mi apartamento nuevo en Chía",
    "¡Perfecto! Hacemos envíos a Chía en 3 a 5 días hábiles. ¿Qué presupuesto tienes?",
    "tengo como 2 palos, aceptan nequi?",
    "Sí, aceptamos Nequi, PSE, tarjetas y efectivo. ¿Te gustaría visitar la tienda?",
    "si, puedo ir el sabado en la mañana? me llamo Laura",
    "¡Claro Laura! Los sábados abrimos de 10:00 a 14:00. ¿Te esperamos?",
)


def ten_turn_conversation(now: Any, conversation_id: str = "c10") -> Any:
    """A realistic 10-turn Spanish conversation (lead and agent alternating), ending
    one minute before ``now``."""
    from datetime import timedelta

    from copilot.models import Conversation, Message
    from copilot.taxonomy import Author, Direction

    messages = [
        Message(
            id=f"{conversation_id}-m{i + 1}",
            direction=Direction.INBOUND if i % 2 == 0 else Direction.OUTBOUND,
            author=Author.LEAD if i % 2 == 0 else Author.AGENT,
            text=text,
            timestamp=now - timedelta(minutes=len(TEN_TURNS) - i),
        )
        for i, text in enumerate(TEN_TURNS)
    ]
    return Conversation(id=conversation_id, messages=messages)


def analyze_v2_answer(**overrides: Any) -> dict[str, Any]:
    """A valid ``AnalyzeV2`` (the flat answer of ``analyze@v2``) as a dict, saying what
    :func:`analyze_answer` says; ``overrides`` replace top-level keys."""
    answer: dict[str, Any] = {
        "lang": "es",
        "intent": "pricing",
        "conf": 0.92,
        "also": ["product_inquiry"],
        "origin": "unknown",
        "evidence": None,
        "fields": [
            {"k": "need", "v": "sofá de 3 puestos"},
            {"k": "timeline", "v": "para el viernes"},
            {"k": "budget", "v": "2 palos"},
            {"k": "city", "v": "Bogotá"},
        ],
        "bucket": "immediate",
        "amount": 2000000,
        "currency": "COP",
        "handoff": None,
        "injection": False,
        "template": "business_answer",
        "slots": {
            "question": None,
            "answer": "El Sofá 3 puestos cuesta 1.890.000 COP.",
            "need": None,
            "next_step": None,
        },
        "free_text": None,
    }
    answer.update(overrides)
    return answer


def analyze_v2_json(**overrides: Any) -> str:
    """:func:`analyze_v2_answer` as JSON text."""
    return json.dumps(analyze_v2_answer(**overrides), ensure_ascii=False)
