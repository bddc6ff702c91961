"""Metrics on small cases computed by hand."""

from __future__ import annotations

import pytest

from copilot.evals import metrics as m


def test_prf_and_zero_division() -> None:
    assert m.prf(2, 1, 1) == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})
    assert m.prf(0, 0, 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert m.accuracy([]) == 0.0


def test_label_metrics_by_hand() -> None:
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    result = m.label_metrics(gold, [[]] * 6, pred)
    assert result["accuracy"] == pytest.approx(4 / 6)
    per = result["per_label"]
    assert per["a"] == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3})
    assert per["b"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert per["c"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1})
    assert result["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert result["confusion"] == {
        "labels": ["a", "b", "c"],
        "matrix": [[2, 1, 0], [0, 1, 1], [0, 0, 1]],
    }


def test_also_counts_as_gold_and_missing_prediction_is_none() -> None:
    gold = ["a", "a", "b", "c"]
    also = [[], ["b"], [], []]
    pred = ["a", "b", "b", None]
    result = m.label_metrics(gold, also, pred)
    assert result["accuracy"] == 0.75
    # credited gold: a, b, b, c; a and b perfect, c missed, "(none)" never right
    assert result["per_label"]["b"]["f1"] == 1.0
    assert result["per_label"]["c"]["recall"] == 0.0
    assert result["per_label"][m.NONE_LABEL]["precision"] == 0.0
    assert result["macro_f1"] == 0.5
    labels = result["confusion"]["labels"]
    assert labels == [m.NONE_LABEL, "a", "b", "c"]
    assert result["confusion"]["matrix"][3] == [1, 0, 0, 0]


@pytest.mark.parametrize(
    ("field", "gold", "pred", "expected"),
    [
        ("need", ["sofá", "sala"], "Sofa de 3 puestos", True),
        ("need", ["comedor"], "sofá de 3 puestos", False),
        ("pain", "lejos", "queda LEJOS del trabajo", True),
        ("city", "Medellín", "medellin", True),
        ("city", "Medellín", "Medellín, Antioquia", False),
        ("name", "José", " jose ", True),
        ("next_step", "visit", "visit", True),
        ("next_step", "visit", "call", False),
        (
            "budget",
            {"amount": 2000000, "currency": "COP"},
            {"amount": 2019999, "currency": "COP"},
            True,
        ),
        (
            "budget",
            {"amount": 2000000, "currency": "COP"},
            {"amount": 2020001, "currency": "COP"},
            False,
        ),
        ("budget", {"amount": 100, "currency": "USD"}, {"amount": 100, "currency": "COP"}, False),
        ("budget", {"amount": 100, "currency": "USD"}, {"amount": None, "currency": "USD"}, False),
        ("phone", "+57 300 123 4567", "3001234567", True),
        ("phone", "+57 300 123 4567", "3001234568", False),
        # A local number with its trunk 0 against the international form.
        ("phone", "099 123 456", "+59899123456", True),
        ("phone", "07700 900123", "+447700900123", True),
        ("phone", "0117 496 0123", "+44 117 496 0123", True),
        ("phone", "0044 117 496 0123", "01174960123", True),
        ("phone", "55 1234 5678", "+52 55 1234 5678", True),
        ("phone", "099 123 456", "+59899123457", False),
        ("phone", "07700 900123", "+447700900124", False),
    ],
)
def test_field_matching_rules(field: str, gold: object, pred: object, expected: bool) -> None:
    assert m.field_matches(field, gold, pred) is expected


def test_field_outcomes() -> None:
    assert m.field_outcome("email", None, "a@b.co") == "fp"
    assert m.field_outcome("email", None, None) == "tn"
    assert m.field_outcome("timeline_bucket", "unknown", None) == "tn"
    assert m.field_outcome("timeline_bucket", None, "unknown") == "tn"
    assert m.field_outcome("name", "Ana", None) == "fn"
    assert m.field_outcome("name", "Ana", "Eva") == "wrong"
    assert m.field_outcome("need", ["mesa"], [""]) == "wrong"


def test_field_metrics_by_hand() -> None:
    golds = [
        {
            "need": ["sofá"],
            "budget": {"amount": 2000000, "currency": "COP"},
            "name": "Laura",
            "email": None,
            "timeline_bucket": "immediate",
        },
        {
            "need": ["mesa"],
            "budget": {"amount": 100, "currency": "USD"},
            "city": "Medellín",
            "timeline_bucket": "unknown",
        },
    ]
    preds = [
        {
            "need": "Sofa de 3 puestos",
            "budget": {"amount": 2015000, "currency": "COP"},
            "name": "laura",
            "email": "x@y.com",
            "timeline_bucket": "this_month",
            "company": "ACME",  # not in gold: not scored
        },
        {
            "need": None,
            "budget": {"amount": 102, "currency": "USD"},
            "city": "medellin",
            "timeline_bucket": None,
        },
    ]
    result = m.field_metrics(golds, preds)
    # tp: need, budget, name, city = 4; fp: email, timeline (wrong), budget (wrong) = 3;
    # fn: timeline (wrong), need (missing), budget (wrong) = 3
    assert result["micro_precision"] == pytest.approx(4 / 7)
    assert result["micro_recall"] == pytest.approx(4 / 7)
    assert result["micro_f1"] == pytest.approx(4 / 7)
    per = result["per_field"]
    assert list(per) == ["need", "timeline_bucket", "budget", "name", "email", "city"]
    assert per["need"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "tp": 1, "fp": 0, "fn": 1, "support": 2}
    )
    assert per["budget"]["f1"] == 0.5
    assert per["email"] == pytest.approx(
        {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 1, "fn": 0, "support": 0}
    )
    assert "company" not in per


def test_handoff_metrics_by_hand() -> None:
    gold = [(True, "human_request"), (True, "complaint"), (False, None), (True, "hot_lead")]
    pred = [(True, "human_request"), (True, "hot_lead"), (True, "complaint"), (False, None)]
    result = m.handoff_metrics(gold, pred)
    assert (result["tp"], result["fp"], result["fn"]) == (2, 1, 1)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 3)
    assert result["f1"] == pytest.approx(2 / 3)
    assert result["reason_accuracy"] == 0.5
    assert result["reason_n"] == 2
    assert result["accuracy"] == 0.5  # needed agrees on items 1 and 2


def test_bootstrap_interval_is_deterministic_and_brackets_the_estimate() -> None:
    values = [1] * 30 + [0] * 10

    def mean(sample: list[int]) -> float:
        return sum(sample) / len(sample)

    low, high = m.bootstrap_ci(values, mean, resamples=500, seed=1)
    assert low <= 0.75 <= high
    assert 0.5 < low < high < 1.0
    assert m.bootstrap_ci(values, mean, resamples=500, seed=1) == (low, high)
    assert m.bootstrap_ci([1, 1, 1], mean, resamples=50) == (1.0, 1.0)


def test_fold_is_case_accent_and_edge_punctuation_insensitive() -> None:
    assert m.fold("  ¡Medellín!  ") == "medellin"
    assert m.fold("São   Paulo") == "sao paulo"
