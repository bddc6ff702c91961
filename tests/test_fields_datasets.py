"""The fields datasets (``evals/datasets/{dev,test}/fields.jsonl``): well formed, every
field present in gold, dev and test apart, and the rules engine above its floor."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from copilot.engines.rules.fields import extract_fields
from copilot.models import Conversation, Message
from copilot.profile import BusinessProfile
from copilot.taxonomy import (
    DATASET_FIELD_NAMES,
    Author,
    Direction,
    Language,
    NextStep,
    TimelineBucket,
)

DATASETS = Path(__file__).resolve().parent.parent / "evals" / "datasets"
GOLD_KEYS = DATASET_FIELD_NAMES
KEY_TERMS = {"need", "prior_solution", "pain"}
START = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("America/Bogota"))


def _load(split: str) -> list[dict[str, Any]]:
    path = DATASETS / split / "fields.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize("split", ["dev", "test"])
def test_lines_are_well_formed(split: str) -> None:
    items = _load(split)
    assert len(items) >= 80
    assert len({item["id"] for item in items}) == len(items)
    for item in items:
        assert item["lang"] in ("es", "pt", "en")
        assert 1 <= len(item["messages"]) <= 8
        assert any(turn["from"] == "lead" for turn in item["messages"]) or item["gold"] == {
            key: None for key in GOLD_KEYS
        }
        for turn in item["messages"]:
            assert turn["from"] in ("lead", "business") and isinstance(turn["text"], str)
            if "ts" in turn:
                datetime.fromisoformat(turn["ts"])
        gold = item["gold"]
        assert set(gold) == set(GOLD_KEYS)
        for key in KEY_TERMS:
            assert gold[key] is None or (isinstance(gold[key], list) and gold[key])
        assert gold["timeline_bucket"] in {None, *(b.value for b in TimelineBucket)}
        assert gold["next_step"] in {None, *(s.value for s in NextStep)}
        if gold["budget"] is not None:
            assert gold["budget"]["amount"] > 0 and len(gold["budget"]["currency"]) == 3
        if gold["phone"] is not None:
            assert gold["phone"].startswith("+") and gold["phone"][1:].isdigit()


@pytest.mark.parametrize("split", ["dev", "test"])
def test_every_field_appears_in_gold_and_languages_vary(split: str) -> None:
    items = _load(split)
    for key in GOLD_KEYS:
        assert any(item["gold"][key] is not None for item in items), key
    assert {item["lang"] for item in items} == {"es", "pt", "en"}
    # Many nulls: a value where gold is null is a false positive.
    nulls = sum(item["gold"][key] is None for item in items for key in GOLD_KEYS)
    assert nulls > len(items) * len(GOLD_KEYS) / 2


def test_dev_and_test_do_not_share_conversations() -> None:
    def texts(split: str) -> set[str]:
        return {" / ".join(t["text"] for t in item["messages"]) for item in _load(split)}

    assert not texts("dev") & texts("test")


def _fold(text: Any) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def _correct(key: str, pred: Any, gold: Any) -> bool:
    if key in KEY_TERMS:
        return any(_fold(term) in _fold(pred) for term in gold)
    if key == "budget":
        return (
            pred["currency"] == gold["currency"]
            and abs(pred["amount"] - gold["amount"]) <= 0.01 * gold["amount"]
        )
    return _fold(pred) == _fold(gold)


def _micro_f1(items: list[dict[str, Any]], profile: BusinessProfile) -> float:
    tp = fp = fn = 0
    for item in items:
        messages = []
        for i, turn in enumerate(item["messages"]):
            lead = turn["from"] == "lead"
            when = datetime.fromisoformat(turn["ts"]) if "ts" in turn else START
            messages.append(
                Message(
                    id=turn.get("id", f"m{i}"),
                    direction=Direction.INBOUND if lead else Direction.OUTBOUND,
                    author=Author.LEAD if lead else Author.BOT,
                    text=turn["text"],
                    timestamp=when + timedelta(minutes=i),
                )
            )
        pred = extract_fields(
            Conversation(messages=messages), profile, Language(item["lang"])
        ).flat()
        for key in GOLD_KEYS:
            got, want = pred[key], item["gold"][key]
            if got is not None and want is not None and _correct(key, got, want):
                tp += 1
                continue
            fp += got is not None
            fn += want is not None
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return 2 * precision * recall / (precision + recall)


@pytest.mark.parametrize(("split", "floor"), [("dev", 0.9), ("test", 0.75)])
def test_rules_engine_floor(profile: BusinessProfile, split: str, floor: float) -> None:
    # A regression floor, not the measurement: the figures come from the eval runner.
    assert _micro_f1(_load(split), profile) >= floor
