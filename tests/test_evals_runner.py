"""The runner with a fake engine: inputs built per kind, predictions, metrics, reports."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from copilot.engines.base import EngineError
from copilot.evals.conversations import DEFAULT_START, analysis_time, build_conversation
from copilot.evals.datasets_io import parse_dataset
from copilot.evals.report import render_markdown, render_text
from copilot.evals.runner import EngineSpec, EvalAbort, run_dataset
from copilot.models import Referral
from copilot.profile import BusinessProfile
from tests.test_evals_fakes import FakeEngine, fake_pipeline  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("fake_pipeline")


def dataset(*rows: dict, name: str = "t/intents.jsonl"):
    return parse_dataset("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), name)


def intent(i: str, text: str, gold: str, lang: str = "es", also: tuple = ()) -> dict:
    return {"id": i, "lang": lang, "text": text, "gold": {"intent": gold, "also": list(also)}}


def test_turns_get_default_times_ids_and_directions() -> None:
    conversation = build_conversation(
        [
            {"from": "business", "text": "hola"},
            {"from": "lead", "text": "precio?", "id": "x9"},
            {"from": "lead", "text": "y?", "ts": "2026-11-21T09:00:00"},
            {"from": "lead", "text": "??"},
        ],
        referral=Referral(source_type="ad"),
    )
    first, second, third, fourth = conversation.messages
    assert first.timestamp == DEFAULT_START and not first.is_inbound and first.author == "bot"
    assert second.id == "x9" and second.timestamp == DEFAULT_START + timedelta(minutes=1)
    assert second.referral is not None and third.referral is None
    assert third.timestamp == datetime(2026, 11, 21, 9, 0, tzinfo=ZoneInfo("America/Bogota"))
    assert fourth.timestamp == third.timestamp + timedelta(minutes=1)
    assert [m.id for m in conversation.messages] == ["m1", "x9", "m3", "m4"]
    assert analysis_time(conversation) == fourth.timestamp + timedelta(minutes=1)


def test_intents_run_scores_predictions_and_languages(profile: BusinessProfile) -> None:
    data = dataset(
        intent("a", "hola!", "greeting"),
        intent("b", "cuanto cuesta?", "pricing"),
        intent("c", "lo quiero", "purchase_intent", also=("pricing",)),
        intent("d", "quiero hablar con un asesor", "human_request", lang="pt"),
        intent("e", "ok", "greeting", lang="pt"),
    )
    result = run_dataset(data, FakeEngine(), profile, label="fake")
    # fake: greeting, pricing, purchase_intent, human_request, other
    assert [p["intent"] for p in result.predictions] == [
        "greeting",
        "pricing",
        "purchase_intent",
        "human_request",
        "other",
    ]
    assert [p["id"] for p in result.predictions] == ["a", "b", "c", "d", "e"]
    assert all(p["engine"] == "fake" and p["latency_ms"] >= 0 for p in result.predictions)
    assert result.headline["accuracy"] == 0.8
    # greeting: p 1 r .5 f 2/3; pricing, purchase_intent, human_request: 1; other: 0
    assert result.headline["macro_f1"] == pytest.approx((2 / 3 + 1 + 1 + 1 + 0) / 5)
    assert result.by_language["es"] == {"n": 3, "accuracy": 1.0, "macro_f1": 1.0}
    assert result.by_language["pt"]["accuracy"] == 0.5
    assert [c.id for c in result.cases if not c.correct] == ["e"]


def test_context_turns_come_before_the_text(profile: BusinessProfile) -> None:
    row = intent("a", "ok", "other")
    row["context"] = [{"from": "lead", "text": "hola"}, {"from": "business", "text": "dime"}]
    engine = FakeEngine()
    result = run_dataset(dataset(row), engine, profile)
    assert result.predictions[0]["intent"] == "other"  # the last message, not "hola"
    assert engine.calls == 1


def test_origins_use_metadata_and_the_line_entry_points(profile: BusinessProfile) -> None:
    rows = [
        {"id": "o1", "lang": "es", "text": "info", "gold": {"origin": "ad"},
         "metadata": {"referral": {"source_type": "ad", "source_url": "https://fb.me/x"}}},
        {"id": "o2", "lang": "es", "text": "info", "gold": {"origin": "campaign"},
         "metadata": {"context_template": True}},
        {"id": "o3", "lang": "es", "text": "QR-X hola", "gold": {"origin": "qr"},
         "entry_points": {"QR-X": "qr"}},
        # the demo profile's own entry points are replaced: no evidence here
        {"id": "o4", "lang": "es", "text": "QR-TIENDA-01", "gold": {"origin": "unknown"}},
        {"id": "o5", "lang": "en", "text": "hi", "gold": {"origin": "referral"}},
    ]  # fmt: skip
    result = run_dataset(dataset(*rows, name="t/origins.jsonl"), FakeEngine(), profile)
    assert [p["origin"] for p in result.predictions] == [
        "ad",
        "campaign",
        "qr",
        "unknown",
        "unknown",
    ]
    assert result.predictions[2]["evidence"] == "QR-X"
    assert result.headline == {"accuracy": 0.8}
    assert result.metrics["confusion"]["labels"] == ["ad", "campaign", "qr", "referral", "unknown"]
    assert "QR-TIENDA-01" in profile.entry_points  # the shared profile was not changed


def test_fields_predictions_have_the_flat_shape(profile: BusinessProfile) -> None:
    row = {
        "id": "f1",
        "lang": "es",
        "messages": [
            {"id": "m1", "from": "lead", "text": "busco un sofa"},
            {"id": "m2", "from": "business", "text": "¿presupuesto?"},
            {"id": "m3", "from": "lead", "text": "unos 2 millones"},
        ],
        "gold": {"need": ["sofá"], "budget": {"amount": 2000000, "currency": "COP"},
                 "name": "Ana", "email": None},
    }  # fmt: skip
    result = run_dataset(dataset(row, name="t/fields.jsonl"), FakeEngine(), profile)
    fields = result.predictions[0]["fields"]
    assert fields["need"] == "busco un sofa"
    assert fields["budget"] == {"amount": 2000000.0, "currency": "COP"}
    assert fields["timeline_bucket"] is None and fields["name"] is None
    # tp need + budget, fn name: p 1, r 2/3
    assert result.headline["micro_precision"] == 1.0
    assert result.headline["micro_recall"] == pytest.approx(2 / 3)
    (case,) = result.cases
    assert not case.correct and "name: fn" in case.detail


def test_handoff_and_templates(profile: BusinessProfile) -> None:
    rows = [
        {"id": "h1", "lang": "es", "text": "quiero un asesor", "gold": {"needed": True, "reason": "human_request"}},
        {"id": "h2", "lang": "es", "text": "pesimo servicio", "gold": {"needed": True, "reason": "sensitive"}},
        {"id": "h3", "lang": "es", "text": "hola", "gold": {"needed": False}},
    ]  # fmt: skip
    result = run_dataset(dataset(*rows, name="t/handoff.jsonl"), FakeEngine(), profile)
    assert result.predictions[1]["handoff"] == {"needed": True, "reason": "complaint"}
    assert result.headline == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "reason_accuracy": 0.5}
    assert [c.correct for c in result.cases] == [True, False, True]

    state = {"stage": "new", "within_business_hours": False}
    rows = [
        {"id": "t1", "lang": "es", "state": state, "messages": [{"from": "lead", "text": "hola"}],
         "gold": {"template": "out_of_hours"}},
        {"id": "t2", "lang": "es", "state": {"opted_out": True}, "messages": [],
         "gold": {"template": "reactivation", "also": ["opt_out_confirmation"]}},
        # the lead's latest text reaches the choice (the fake answers questions)
        {"id": "t3", "lang": "es", "state": {}, "gold": {"template": "business_answer"},
         "messages": [{"from": "lead", "text": "hola"}, {"from": "business", "text": "dime"},
                      {"from": "lead", "text": "  envían a Chía?  "}]},
    ]  # fmt: skip
    engine = FakeEngine()
    result = run_dataset(dataset(*rows, name="t/templates.jsonl"), engine, profile)
    assert [p["template"] for p in result.predictions] == [
        "out_of_hours",
        "opt_out_confirmation",
        "business_answer",
    ]
    assert result.headline == {"accuracy": 1.0}
    assert engine.calls == 2  # no inbound message: no understanding asked for


def test_a_failing_item_is_recorded_and_scored_wrong(profile: BusinessProfile) -> None:
    rows = [intent(f"i{n}", "hola", "greeting") for n in range(11)]
    rows[3] = intent("i3", "boom", "greeting")
    result = run_dataset(dataset(*rows), FakeEngine(), profile)
    assert result.predictions[3]["intent"] is None
    assert result.predictions[3]["error"] == "ValueError: the fake engine exploded"
    assert result.failures == [("i3", "ValueError: the fake engine exploded")]
    assert result.headline["accuracy"] == pytest.approx(10 / 11)


def test_an_engine_failing_everywhere_aborts(profile: BusinessProfile) -> None:
    rows = [intent(f"i{n}", "boom", "greeting") for n in range(30)]
    engine = FakeEngine()
    with pytest.raises(EvalAbort, match="failed on 10 items in a row"):
        run_dataset(dataset(*rows), engine, profile)
    assert engine.calls == 10


def test_repeat_and_bootstrap(profile: BusinessProfile) -> None:
    rows = [intent(f"i{n}", "hola" if n % 4 else "ok", "greeting") for n in range(40)]
    engine = FakeEngine()
    result = run_dataset(dataset(*rows), engine, profile, repeat=3, bootstrap=200)
    assert engine.calls == 120
    assert len(result.repeats) == 3 and result.spread()["accuracy"]["stdev"] == 0.0
    low, high = result.intervals["accuracy"]
    assert low <= 0.75 <= high and high - low > 0.05


def test_engine_specs() -> None:
    assert EngineSpec.parse("rules") == EngineSpec("rules", None)
    spec = EngineSpec.parse("llm:analyze@v2")
    assert (spec.name, spec.prompt, spec.label) == ("llm", "analyze@v2", "llm:analyze@v2")
    assert EngineSpec.parse("llm:analyze@v1", prompt="analyze@v3").prompt == "analyze@v3"
    assert EngineSpec("fake", "p@1").build().prompt == "p@1"
    spec = EngineSpec.parse("llm:analyze@v2, model=gpt-x,cache=false,timeout=2.5,max_turns=4")
    assert spec.options == (
        ("model", "gpt-x"), ("cache", False), ("timeout", 2.5), ("max_turns", 4),
    )  # fmt: skip
    assert spec.label == "llm:analyze@v2,model=gpt-x,cache=False,timeout=2.5,max_turns=4"
    with pytest.raises(EngineError, match="does not accept colour"):
        EngineSpec.parse("fake,colour=red").build()
    with pytest.raises(EngineError, match="is not KEY=VALUE"):
        EngineSpec.parse("llm,oops")
    with pytest.raises(EngineError, match="unknown engine 'nope'"):
        EngineSpec.parse("nope").build()
    with pytest.raises(EngineError):
        EngineSpec.parse(":x")


def test_reports_escape_lead_text(profile: BusinessProfile) -> None:
    rows = [intent("x", "ok | <script>alert(1)</script>", "pricing", also=())]
    result = run_dataset(dataset(*rows), FakeEngine(), profile)
    markdown = render_markdown([result])
    assert "<script>" not in markdown
    assert "ok \\| &lt;script&gt;" in markdown
    assert "## t/intents (intents)" in markdown and "Wrong cases (1 of 1)" in markdown
    text = render_text(result)
    assert "accuracy" in text and "By language" in text
