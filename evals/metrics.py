"""Scoring functions: plain lists in, plain numbers out.

Everything here is pure and deterministic so it can be tested on hand-computed
cases. A ratio with an empty denominator is 0.0 (never a ZeroDivisionError):
a label nobody predicted has precision 0, as scikit-learn's ``zero_division=0``.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import phonenumbers

from copilot.taxonomy import DATASET_FIELD_NAMES

#: Label used in confusion matrices when the engine predicted nothing.
NONE_LABEL = "(none)"

#: Fields whose gold is a list of key terms; a prediction containing any term is right.
KEY_TERM_FIELDS = frozenset({"need", "prior_solution", "pain"})
#: Fields compared as whole values (case- and accent-insensitive).
EXACT_FIELDS = frozenset({"timeline_bucket", "next_step", "name", "email", "company", "city"})
#: Every field a fields dataset may score, in report order.
SCORED_FIELDS: tuple[str, ...] = DATASET_FIELD_NAMES

#: Relative tolerance of a budget amount (docs/datasets.md: within 1 %).
BUDGET_TOLERANCE = 0.01

_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\s\W_]+|[\s\W_]+$")


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, 0.0 when the denominator is 0."""
    return numerator / denominator if denominator else 0.0


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall and F1 from counts."""
    precision = ratio(tp, tp + fp)
    recall = ratio(tp, tp + fn)
    return {
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * precision * recall, precision + recall),
    }


def accuracy(correct: Iterable[bool]) -> float:
    """Share of ``True`` values (0.0 for no values)."""
    values = list(correct)
    return ratio(sum(values), len(values))


def is_correct(pred: str | None, gold: str, also: Sequence[str] = ()) -> bool:
    """A label prediction is right when it is the gold label or one of its alternatives."""
    return pred is not None and (pred == gold or pred in also)


def credited_gold(pred: str | None, gold: str, also: Sequence[str] = ()) -> str:
    """The gold label a prediction is scored against: the prediction itself when it is
    an accepted alternative (docs/datasets.md: a prediction in ``also`` counts as the gold)."""
    return pred if pred is not None and pred in also else gold


def per_label(gold: Sequence[str], pred: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of every label seen in gold or predictions."""
    labels = sorted(set(gold) | set(pred))
    out: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        out[label] = {**prf(tp, fp, fn), "support": sum(1 for g in gold if g == label)}
    return out


def macro_f1(labels: dict[str, dict[str, float]]) -> float:
    """Unweighted mean F1 over the labels of :func:`per_label`.

    Labels only ever predicted (support 0) count with F1 0, as in scikit-learn:
    inventing a label is a cost, not a free pass."""
    return ratio(sum(m["f1"] for m in labels.values()), len(labels))


def confusion(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Confusion matrix: ``matrix[i][j]`` counts gold ``labels[i]`` predicted as ``labels[j]``."""
    labels = sorted(set(gold) | set(pred))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        matrix[index[g]][index[p]] += 1
    return {"labels": labels, "matrix": matrix}


def label_metrics(
    gold: Sequence[str], also: Sequence[Sequence[str]], pred: Sequence[str | None]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label scores and confusion of a single-label task.

    ``also`` holds each item's accepted alternatives; a prediction among them is
    scored as if it were the gold label. A missing prediction is ``(none)``."""
    credited = [credited_gold(p, g, a) for g, a, p in zip(gold, also, pred, strict=True)]
    shown = [p if p is not None else NONE_LABEL for p in pred]
    labels = per_label(credited, shown)
    return {
        "n": len(gold),
        "accuracy": accuracy(is_correct(p, g, a) for g, a, p in zip(gold, also, pred, strict=True)),
        "macro_f1": macro_f1(labels),
        "per_label": labels,
        "confusion": confusion(credited, shown),
    }


# --- qualification fields ----------------------------------------------------


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text: no diacritics, casefolded,
    single spaces, no punctuation at the edges ("  Medellín. " -> "medellin")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return _EDGE_PUNCT.sub("", _SPACES.sub(" ", plain))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _national(phone: str) -> str:
    """The national significant digits of a phone as written: no country code
    ("+598 99 123 456" -> "99123456") and no trunk prefix ("099 123 456" -> "99123456"),
    so a local number and its international form compare equal."""
    text = phone.strip()
    if text.startswith(("+", "00")):
        try:
            parsed = phonenumbers.parse("+" + _digits(text).removeprefix("00"), None)
        except phonenumbers.NumberParseException:
            return _digits(text)
        return str(parsed.national_number)
    return _digits(text).lstrip("0")


def _empty(field: str, value: Any) -> bool:
    # "unknown" is the taxonomy's "nothing said about when": the same as no timeline.
    if value is None or value == "" or value == [] or value == {}:
        return True
    return field == "timeline_bucket" and value == "unknown"


def field_matches(field: str, gold: Any, pred: Any) -> bool:
    """Whether a predicted field value matches a non-empty gold value (docs/datasets.md rules).

    - ``need``, ``prior_solution``, ``pain``: gold is key terms; right when the
      prediction contains any of them (case- and accent-insensitive).
    - ``budget``: same currency and amount within 1 %.
    - ``phone``: same national significant digits (no country code, no trunk 0),
      or the trailing digits of the longer one.
    - the rest (enums and names): equal, case- and accent-insensitive.
    """
    if _empty(field, pred):
        return False
    if field in KEY_TERM_FIELDS:
        terms = [gold] if isinstance(gold, str) else list(gold)
        text = fold(pred if isinstance(pred, str) else str(pred))
        return any(fold(term) and fold(term) in text for term in terms)
    if field == "budget":
        if not isinstance(pred, dict):
            return False
        currency_ok = str(pred.get("currency") or "").upper() == str(gold.get("currency")).upper()
        want, got = gold.get("amount"), pred.get("amount")
        if want is None:
            return currency_ok and got is None
        return (
            currency_ok
            and got is not None
            and abs(float(got) - float(want)) <= BUDGET_TOLERANCE * abs(float(want))
        )
    if field == "phone":
        short, long = sorted((_national(str(gold)), _national(str(pred))), key=len)
        return short == long or (len(short) >= 7 and long.endswith(short))
    return fold(str(pred)) == fold(str(gold))


def field_outcome(field: str, gold: Any, pred: Any) -> str:
    """``tp``, ``fp``, ``fn``, ``wrong`` (a value that misses a gold value: one FP
    and one FN) or ``tn`` (both empty) for one field of one item."""
    if _empty(field, gold):
        return "tn" if _empty(field, pred) else "fp"
    if _empty(field, pred):
        return "fn"
    return "tp" if field_matches(field, gold, pred) else "wrong"


def field_metrics(golds: Sequence[dict[str, Any]], preds: Sequence[dict[str, Any]]) -> dict:
    """Per-field and micro-averaged precision, recall and F1 of qualification fields.

    Only the fields a gold item lists are scored for that item. A value where gold
    is null is a false positive; a wrong value is a false positive and a false
    negative (the usual slot-filling convention)."""
    counts: dict[str, Counter] = {}
    for gold, pred in zip(golds, preds, strict=True):
        for field, want in gold.items():
            outcome = field_outcome(field, want, pred.get(field))
            tally = counts.setdefault(field, Counter())
            if outcome == "wrong":
                tally["fp"] += 1
                tally["fn"] += 1
            else:
                tally[outcome] += 1
    order = [f for f in SCORED_FIELDS if f in counts] + sorted(set(counts) - set(SCORED_FIELDS))
    per_field = {}
    for field in order:
        c = counts[field]
        per_field[field] = {
            **prf(c["tp"], c["fp"], c["fn"]),
            "tp": c["tp"],
            "fp": c["fp"],
            "fn": c["fn"],
            "support": c["tp"] + c["fn"],
        }
    tp = sum(c["tp"] for c in counts.values())
    fp = sum(c["fp"] for c in counts.values())
    fn = sum(c["fn"] for c in counts.values())
    micro = prf(tp, fp, fn)
    return {
        "n": len(golds),
        "micro_precision": micro["precision"],
        "micro_recall": micro["recall"],
        "micro_f1": micro["f1"],
        "per_field": per_field,
    }


# --- handoff -------------------------------------------------------------------


def handoff_metrics(
    gold: Sequence[tuple[bool, str | None]], pred: Sequence[tuple[bool, str | None]]
) -> dict[str, Any]:
    """P/R/F1 of ``needed`` (positive class: needed) and accuracy of the reason on the
    items where gold and prediction both say needed."""
    pairs = list(zip(gold, pred, strict=True))
    tp = sum(1 for g, p in pairs if g[0] and p[0])
    fp = sum(1 for g, p in pairs if not g[0] and p[0])
    fn = sum(1 for g, p in pairs if g[0] and not p[0])
    both = [(g[1], p[1]) for g, p in pairs if g[0] and p[0]]
    scores = prf(tp, fp, fn)
    reasons_gold = [g[1] or NONE_LABEL for g, p in pairs if g[0] and p[0]]
    reasons_pred = [p[1] or NONE_LABEL for g, p in pairs if g[0] and p[0]]
    return {
        "n": len(pairs),
        "accuracy": accuracy(g[0] == p[0] for g, p in pairs),
        "precision": scores["precision"],
        "recall": scores["recall"],
        "f1": scores["f1"],
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "reason_accuracy": accuracy(g == p for g, p in both),
        "reason_n": len(both),
        "reason_confusion": confusion(reasons_gold, reasons_pred),
    }


# --- uncertainty -------------------------------------------------------------


def bootstrap_ci(
    items: Sequence[Any],
    statistic: Callable[[Sequence[Any]], float],
    *,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``statistic`` over ``items``.

    Deterministic for a given ``seed`` so reports are reproducible."""
    if not items:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(items)
    values = sorted(
        statistic([items[rng.randrange(n)] for _ in range(n)]) for _ in range(resamples)
    )
    low = values[int((1 - level) / 2 * (resamples - 1))]
    high = values[int((1 + level) / 2 * (resamples - 1))]
    return (low, high)
