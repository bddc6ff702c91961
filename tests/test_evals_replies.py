"""The ``replies`` eval kind: each check can fail, and the figures add up."""

from __future__ import annotations

from copilot.engines.base import get_engine
from copilot.evals.datasets_io import parse_dataset
from copilot.evals.items import ReplyItem
from copilot.evals.reply_checks import check_case, contains, is_pure, reply_metrics
from copilot.evals.runner import run_dataset

LINE = {
    "id": "r1",
    "lang": "pt",
    "messages": [{"from": "lead", "text": "quanto custa o sofá pro meu apartamento?"}],
    "gold": {
        "template": "welcome",
        "answerable": True,
        "must": ["Sofá de 3 lugares", "1.890.000"],
        "must_not": ["puestos", "unidad"],
        "max_chars": 200,
    },
}
GOOD = {
    "template": "welcome",
    "text": "Olá! Obrigado por escrever para Muebles Roble. Respondemos em menos de 15 minutos. "
    "Sofá de 3 lugares: $1,890,000 COP por unidade. Para quando você precisa?",
    "language": "pt",
    "turn": "answer",
    "stale_promise": False,
}


def _item(**gold) -> ReplyItem:
    return ReplyItem.model_validate({**LINE, "gold": {**LINE["gold"], **gold}})


def test_amounts_compare_without_separators_and_fragments_as_whole_words():
    assert contains("cuesta $1,890,000 COP", "1.890.000")
    assert not contains("cuesta $1.890.001", "1.890.000")
    assert contains("por unidad.", "unidad") and not contains("por unidade.", "unidad")
    assert contains("¿Para cuándo?", "?")


def test_a_good_reply_passes_every_check(profile):
    checks = check_case(_item(), GOOD, profile)
    assert checks["problems"] == [] and checks["answered"] and checks["pure"]


def test_each_check_can_fail(profile):
    def problems(**change):
        return check_case(_item(), {**GOOD, **change}, profile)["problems"]

    assert any("template" in p for p in problems(template="qualification"))
    mixed = GOOD["text"].replace("por unidade", "por unidad")
    assert any("must not" in p for p in problems(text=mixed))
    missing = GOOD["text"].replace("$1,890,000", "$1,990,000")
    assert any("missing" in p for p in problems(text=missing))
    assert any("placeholder" in p for p in problems(text=GOOD["text"] + " {need}"))
    assert any("characters" in p for p in problems(text=GOOD["text"] + " x" * 60))
    echo = GOOD["text"] + " Vamos ajudar com o sofá pro meu apartamento."
    assert any("echoes" in p for p in problems(text=echo))
    assert any("stale" in p for p in problems(stale_promise=True))
    # A whole Spanish sentence in a Portuguese reply: the identifier finds it.
    spanish = GOOD["text"] + " Te respondemos apenas abramos, mañana a las 9:00."
    assert any("language" in p for p in problems(text=spanish))


def test_language_identifier_on_sentences(profile):
    pure, identified, _ = is_pure("Aceitamos cartão de crédito e dinheiro.", "pt", profile)
    assert pure and identified
    pure, _, detail = is_pure(
        "Aceitamos cartão. Gracias por escribir, te respondemos pronto.", "pt", profile
    )
    assert not pure and "es" in detail


def test_figures(profile):
    good = check_case(_item(), GOOD, profile)
    stale = check_case(_item(), {**GOOD, "stale_promise": True}, profile)
    unanswered = check_case(_item(), {**GOOD, "text": "Olá! Para quando você precisa?"}, profile)
    figures = reply_metrics([good, stale, unanswered], [True, True, False])
    assert figures["stale_promises"] == 1 and round(figures["no_stale"], 3) == 0.667
    assert round(figures["answered"], 3) == 0.667 and figures["first_answered"] == 1.0
    assert round(figures["pass_rate"], 3) == 0.333


def test_the_task_runs_the_copilot_and_scores_it(profile):
    import json

    lines = [
        LINE,
        {**LINE, "id": "r2", "moment": {"minutes_after": 40},
         "gold": {"template": "acknowledgement", "answerable": True, "must": ["1.890.000"],
                  "must_not": ["15 minutos"]}},
        {"id": "r3", "lang": "es",
         "messages": [{"from": "lead", "text": "hola"},
                      {"from": "business", "text": "¡Hola!", "author": "agent"},
                      {"from": "lead", "text": "ya no me interesa, compré en otro lado"}],
         "gold": {"turn": "loss", "propose_stage": "lost", "lost_reason": "chose_competitor"}},
    ]  # fmt: skip
    dataset = parse_dataset("\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    assert dataset.kind == "replies"
    result = run_dataset(dataset, get_engine("rules"), profile)
    assert [c.correct for c in result.cases] == [True, True, True], [c.detail for c in result.cases]
    assert result.headline["no_stale"] == 1.0 and result.headline["fitting"] == 1.0
    assert result.predictions[1]["template"] == "acknowledgement"
