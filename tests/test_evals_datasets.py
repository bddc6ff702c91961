"""Dataset loading: kind detection, validation errors with line numbers, shipped files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.evals.datasets_io import (
    DatasetError,
    load_dataset,
    parse_dataset,
    resolve_dataset_paths,
    shipped_datasets_dir,
)
from copilot.evals.items import detect_kind

# The examples of docs/datasets.md, one per kind.
EXAMPLES = {
    "intents": {
        "id": "i001",
        "lang": "es",
        "sector": "gym",
        "context": [{"from": "business", "text": "¡Hola! ¿En qué te ayudo?"}],
        "text": "cuanto sale la mensualidad?",
        "gold": {"intent": "pricing", "also": ["product_inquiry"]},
    },
    "origins": {
        "id": "o001",
        "lang": "es",
        "text": "Hola! Vengo de la web, quiero info del curso",
        "metadata": {
            "referral": {"source_type": "ad", "source_url": "https://fb.me/x", "ctwa_clid": "A"},
            "context_template": False,
        },
        "entry_points": {"Hola! Vengo de la web": "website", "QR-TIENDA-01": "qr"},
        "gold": {"origin": "website", "also": []},
    },
    "fields": {
        "id": "f001",
        "lang": "es",
        "sector": "real_estate",
        "messages": [
            {"id": "m1", "from": "lead", "text": "busco apartamento en arriendo"},
            {"id": "m2", "from": "business", "text": "¿para cuándo?"},
        ],
        "gold": {
            "need": ["apartamento", "arriendo"],
            "timeline_bucket": "this_month",
            "prior_solution": None,
            "pain": ["lejos"],
            "next_step": "visit",
            "budget": {"amount": 2000000, "currency": "COP"},
            "name": "Laura",
            "email": None,
            "company": None,
            "city": "Medellín",
        },
    },
    "handoff": {
        "id": "h001",
        "lang": "pt",
        "context": [],
        "text": "quero falar com uma pessoa de verdade",
        "gold": {"needed": True, "reason": "human_request"},
    },
    "templates": {
        "id": "t001",
        "lang": "es",
        "state": {
            "stage": "new",
            "hours_since_last_inbound": 0.1,
            "hours_since_last_outbound": None,
            "last_message_from": "lead",
            "inbound_count": 1,
            "outbound_count": 0,
            "within_business_hours": True,
            "minutes_waiting_for_first_reply": 2,
            "opted_out": False,
            "missing_fields": ["need", "timeline"],
            "assigned_human_took_over": False,
        },
        "messages": [{"from": "lead", "text": "Hola, info del plan"}],
        "gold": {"template": "welcome", "also": []},
    },
}


def jsonl(*rows: object) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows)


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_every_documented_example_is_recognised_and_valid(kind: str) -> None:
    assert detect_kind(EXAMPLES[kind]) == kind
    dataset = parse_dataset(jsonl(EXAMPLES[kind]))
    assert dataset.kind == kind
    assert [e.line for e in dataset.entries] == [1]
    assert dataset.items[0].id == EXAMPLES[kind]["id"]


def test_only_given_gold_fields_are_scored() -> None:
    line = {**EXAMPLES["fields"], "gold": {"need": "sofá", "email": None}}
    item = parse_dataset(jsonl(line)).items[0]
    assert item.gold_fields() == {"need": "sofá", "email": None}


def test_blank_lines_are_skipped_and_numbering_kept() -> None:
    second = {**EXAMPLES["intents"], "id": "i002"}
    dataset = parse_dataset(jsonl(EXAMPLES["intents"], "", "   ", second))
    assert [e.line for e in dataset.entries] == [1, 4]


def _problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(DatasetError) as info:
        parse_dataset(text, "data.jsonl")
    return info.value.problems


def test_errors_name_the_line_and_the_problem() -> None:
    bad_label = {**EXAMPLES["intents"], "id": "i002", "gold": {"intent": "prices"}}
    bad_lang = {**EXAMPLES["intents"], "id": "i003", "lang": "fr"}
    duplicate = EXAMPLES["intents"]
    origin = EXAMPLES["origins"]
    blank_text = {**EXAMPLES["intents"], "id": "i004", "text": "   "}
    text = jsonl(EXAMPLES["intents"], bad_label, "{not json", bad_lang, duplicate, origin, "[1]")
    text += "\n" + jsonl(blank_text, {"id": "x"})
    problems = dict(_problems(text))
    assert set(problems) == {2, 3, 4, 5, 6, 7, 8, 9}
    assert "gold.intent" in problems[2] and "'pricing'" in problems[2]
    assert "not valid JSON" in problems[3]
    assert "lang" in problems[4]
    assert "duplicate id 'i001' (first on line 1)" in problems[5]
    assert "origins line in a intents dataset" in problems[6]
    assert "expected a JSON object" in problems[7]
    assert "text is empty" in problems[8]
    assert "cannot tell the dataset kind" in problems[9]


def test_error_message_lists_file_and_line() -> None:
    bad = {**EXAMPLES["handoff"], "gold": {"needed": True, "reason": "angry"}}
    with pytest.raises(DatasetError, match=r"^data.jsonl:1: gold.reason: Input should be"):
        parse_dataset(jsonl(bad), "data.jsonl")


def test_unknown_gold_keys_are_errors_but_extra_top_level_keys_are_fine() -> None:
    typo = {**EXAMPLES["fields"], "gold": {"neeed": ["sofa"], "name": "Ana"}}
    assert "gold.neeed" in _problems(jsonl(typo))[0][1]
    noted = {**EXAMPLES["fields"], "note": "from a real chat"}
    assert parse_dataset(jsonl(noted)).kind == "fields"


def test_invalid_state_and_budget_are_reported() -> None:
    state = {**EXAMPLES["templates"]["state"], "stage": "maybe"}
    ((_, message),) = _problems(jsonl({**EXAMPLES["templates"], "state": state}))
    assert "state.stage" in message
    gold = {**EXAMPLES["fields"]["gold"], "budget": {"amount": 10, "currency": "pesos"}}
    ((_, message),) = _problems(jsonl({**EXAMPLES["fields"], "gold": gold}))
    assert "gold.budget.currency" in message


def test_missing_empty_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no lines"):
        load_dataset(empty)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes("ñ".encode("latin-1"))
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_dataset(latin)


def test_limited_keeps_the_first_items() -> None:
    rows = [{**EXAMPLES["handoff"], "id": f"h{i}"} for i in range(5)]
    dataset = parse_dataset(jsonl(*rows), "x/handoff.jsonl")
    assert [i.id for i in dataset.limited(2).items] == ["h0", "h1"]
    assert dataset.limited(None) is dataset
    assert dataset.name == "x/handoff"


def test_shipped_datasets_resolve_by_name_and_are_valid() -> None:
    folder = shipped_datasets_dir()
    assert folder.is_dir()
    paths = resolve_dataset_paths("dev")
    assert paths and all(p.parent == folder / "dev" for p in paths)
    for path in paths:
        dataset = load_dataset(path)
        # Reply cases are not named "replies.jsonl": that name holds exported edits.
        assert dataset.kind == {"reply_cases": "replies"}.get(path.stem, path.stem)
        assert len(dataset.entries) >= 20


def test_resolve_paths_for_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text("{}", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text("{}", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("", encoding="utf-8")
    assert resolve_dataset_paths(str(tmp_path)) == [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    assert resolve_dataset_paths(str(tmp_path / "a.jsonl")) == [tmp_path / "a.jsonl"]
    assert resolve_dataset_paths("no/such/thing") == [Path("no/such/thing")]
