"""The analysis caches never change an answer: re-analysing the same messages, other
profiles, out-of-order messages and callers that alter their results all get what a
cold analysis gives. (Speed itself is measured by ``bench/bench_rules.py``.)"""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from pydantic import ValidationError

from copilot import Copilot, facts
from copilot.engines.rules import fields, intent, language, origin, signals
from copilot.facts import answer_question
from copilot.models import Contact, Conversation, Message, QualificationFields
from copilot.state import conversation_state
from copilot.taxonomy import Author, Direction, Language, Origin

TURNS = [
    (True, "Hola, vi su anuncio en Instagram"),
    (False, "¡Hola! ¿En qué te podemos ayudar?"),
    (True, "cuanto sale el sofá de 3 puestos?"),
    (False, "El Sofá 3 puestos cuesta $1.890.000. ¿Para cuándo lo necesitas?"),
    (True, "para el viernes"),
    (True, "me llamo Laura, estoy en Chía"),
    (False, "¿Tienes algún presupuesto en mente?"),
    (True, "unos 2 palos"),
    (False, "¿Te llamo mañana a las 10?"),
    (True, "dale"),
    (True, "envían a Chía? aceptan Nequi?"),
    (True, "quiero hablar con un asesor"),
]


def _clear_bounded_caches() -> None:
    """Forget every bounded (per-text) cache of the analysis, keeping the lexicons."""
    for name, module in list(sys.modules.items()):
        if not name.startswith("copilot.") or module is None:
            continue
        for value in list(vars(module).values()):
            parameters = getattr(value, "cache_parameters", None)
            if callable(parameters) and parameters().get("maxsize") is not None:
                value.cache_clear()


def _messages(start) -> list[Message]:
    out = []
    for number, (inbound, text) in enumerate(TURNS, start=1):
        out.append(
            Message(
                id=f"m{number}",
                direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                author=Author.LEAD if inbound else Author.BOT,
                text=text,
                timestamp=start + timedelta(minutes=3 * number),
            )
        )
    return out


def test_reanalysing_a_growing_conversation_matches_a_cold_analysis(friday_noon) -> None:
    copilot = Copilot()
    start = friday_noon - timedelta(hours=2)
    # The inbox way: one conversation whose same Message objects are read again.
    growing = Conversation(id="c1", contact=Contact(name="Laura"))
    warm = []
    for message in _messages(start):
        growing.messages.append(message)
        if message.is_inbound:
            now = message.timestamp + timedelta(minutes=1)
            warm.append((len(growing.messages), now, copilot.analyze(growing, now=now)))
    for count, now, analysis in warm:
        _clear_bounded_caches()
        fresh = Conversation(id="c1", contact=Contact(name="Laura"), messages=_messages(start))
        fresh.messages = fresh.messages[:count]
        cold = Copilot().analyze(fresh, now=now)
        assert analysis.model_dump(exclude={"latency_ms"}) == cold.model_dump(
            exclude={"latency_ms"}
        )
    # The last analyses really did read something: fields merged over the turns.
    last = warm[-1][2]
    assert last.fields.name.value == "Laura" and last.fields.budget is not None
    assert last.handoff.needed


def test_a_caller_altering_its_analysis_does_not_alter_the_next(friday_noon) -> None:
    copilot = Copilot()
    text = "quiero hablar con un asesor, pésimo servicio"
    first = copilot.analyze_text(text, now=friday_noon)
    assert first.signals
    before = [s.model_copy() for s in first.signals]
    first.signals[0].detail = "changed by the caller"
    first.intent.alternatives.clear()
    first.fields.need = None
    second = copilot.analyze_text(text, now=friday_noon)
    assert second.signals == before
    assert second.intent.alternatives
    assert second.signals[0] is not first.signals[0]


def test_fact_answers_follow_each_profile(profile) -> None:
    text = "envían a Chía?"
    facts = profile.facts.model_copy(update={"delivery_areas": ["Bogotá"]})
    other = profile.model_copy(update={"facts": facts})
    covered = answer_question(text, profile, Language.ES)
    assert covered is not None and "Chía" in covered
    # Same text, same language, another profile: its own facts decide.
    assert answer_question(text, other, Language.ES) is None
    assert answer_question(text, profile, Language.ES) == covered


def test_a_profile_cannot_change_under_the_caches(profile) -> None:
    # The caches key on the profile object: an edit in place would go unseen.
    with pytest.raises(ValidationError, match="frozen"):
        profile.facts.hours_text = "Abrimos 24 horas"
    with pytest.raises(ValidationError, match="frozen"):
        profile.name = "Otra"


def test_entry_points_follow_each_profile(profile, friday_noon) -> None:
    text = "Hola! Vengo de la feria"
    fair = profile.model_copy(update={"entry_points": {"Hola! Vengo de la feria": Origin.QR}})
    message = Message(id="m1", text=text, timestamp=friday_noon)
    conversation = Conversation(messages=[message])
    assert origin.detect_origin(conversation, fair).label is Origin.QR
    assert origin.detect_origin(conversation, profile).label is not Origin.QR
    # An entry point edited in place is read again, not served from a cache.
    fair.entry_points["Hola! Vengo de la feria"] = Origin.WEBSITE
    assert origin.detect_origin(conversation, fair).label is Origin.WEBSITE


def test_the_language_reads_the_recent_lines_of_each_conversation(profile, friday_noon) -> None:
    def conversation(*texts: str) -> Conversation:
        return Conversation(
            messages=[
                Message(id=f"m{i}", text=t, timestamp=friday_noon + timedelta(minutes=i))
                for i, t in enumerate(texts)
            ]
        )

    spanish = conversation("hola buenas tardes", "quiero saber el precio")
    portuguese = conversation("olá, boa tarde", "quero saber o preço, obrigado")
    assert language.conversation_language(spanish, Language.EN) is Language.ES
    assert language.conversation_language(portuguese, Language.EN) is Language.PT
    assert language.conversation_language(conversation("ok"), Language.EN) is Language.EN


def test_out_of_order_messages_give_the_state_of_the_sorted_ones(profile, friday_noon) -> None:
    lead = Message(id="in", text="hola", timestamp=friday_noon)
    agent = Message(
        id="out",
        direction=Direction.OUTBOUND,
        author=Author.AGENT,
        text="¡Hola!",
        timestamp=friday_noon - timedelta(minutes=5),
    )
    now = friday_noon + timedelta(minutes=2)
    empty = QualificationFields()
    shuffled = conversation_state(Conversation(messages=[lead, agent]), empty, profile, now)
    ordered = conversation_state(Conversation(messages=[agent, lead]), empty, profile, now)
    assert shuffled == ordered
    assert shuffled.last_message_from == "lead"
    assert shuffled.minutes_waiting_for_first_reply is not None  # the agent spoke before


@pytest.mark.parametrize(
    "cached",
    [
        fields.message_fields,
        intent._classify_text,
        signals._text_signals,
        signals._missing_context,
        language._recent_language,
        language._scores,
        language._word_weights,
        language._either,
        origin._first_entry_point,
        origin._best_entry_point,
        facts._cached_answer,
        facts._topics,
    ],
)
def test_per_text_caches_are_bounded(cached) -> None:
    assert cached.cache_parameters()["maxsize"] is not None


def test_changing_the_language_scores_one_gets_changes_nothing_else() -> None:
    line = "hola amigo, como estas"
    before = language.detect_language(line)
    scores = language.language_scores(line)
    for key in scores:
        scores[key] = 0.0
    scores[next(k for k in scores if k is not before)] = 99.0
    assert language.detect_language(line) is before
    assert language.language_scores(line) != scores


def _topics_by_patterns(text: str) -> frozenset[str]:
    """The topics as the cue lists' regular expressions read them: the reference
    the word index must match."""
    padded = facts._phrase_text(text)
    cues = facts._data()["cues"]
    if facts._has_any(padded, cues["not_facts"]):
        return frozenset()
    found = {topic for topic in facts.TOPICS if facts._has_any(padded, cues[topic])}
    if (
        "payment" not in found
        and facts._named_payment_families(padded)
        and ("?" in text or facts._has_any(padded, cues["payment_verbs"]))
    ):
        found.add("payment")
    return frozenset(found)


def test_fact_topics_by_word_index_match_the_cue_patterns() -> None:
    # Every cue phrase, alone, inside a line, as a question and cut short: the word
    # index finds the topics the cue lists' regular expressions find.
    data = facts._data()
    phrases = [p for cues in data["cues"].values() for p in cues]
    phrases += [p for aliases in data["payment_families"].values() for p in aliases]
    lines = []
    for phrase in phrases:
        lines += [phrase, f"hola, {phrase} por favor", f"y {phrase}?", phrase[:-1]]
    lines += ["aceptan nequi?", "do you accept returns?", "¿a qué hora abren el sábado?"]
    facts._topics.cache_clear()
    indexed = {line: facts._topics(line) for line in lines}
    assert indexed == {line: _topics_by_patterns(line) for line in lines}
    assert any(indexed.values())  # the lines do ask about topics
