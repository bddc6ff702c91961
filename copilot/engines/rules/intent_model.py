"""A small statistical intent model: the rules engine's second opinion.

A multinomial logistic regression over sparse features of the prepared text (the
lexicon's :meth:`~copilot.engines.rules.intent_lexicon.IntentLexicon.prepare`
output): word unigrams and bigrams, character 3-5-grams inside words (they survive
typos and inflections: "cotizacion", "cotizar", "cotisar"), whether the line asks
something, and what the business's last message asked. Pure Python, no numpy: the
weights are a JSON file (``lexicons/intent_model.json``) with, for every feature,
only the classes whose weight is not negligible, so scoring one line costs a few
dozen dictionary lookups.

The weights come from ``python -m copilot.evals.train_intent_model`` (training data only,
deterministic: the command rebuilds the shipped file byte for byte).
:func:`copilot.engines.rules.intent.classify_intent` consults the model only when
the lexicon is unsure, see ``BLEND`` in the weights file.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

MODEL_FILE = "intent_model.json"
FORMAT_VERSION = 1
#: Longest prepared text the model reads: past that a lead message is a paste, and
#: its first few hundred characters say what it is about.
MAX_CHARS = 2000
_WORD = re.compile(r"[a-z0-9ñ]+")
_CHAR_NGRAMS = (3, 4, 5)
_LENGTH_BUCKETS = (1, 2, 4, 8, 16)
#: Labels whose agreement does not raise the confidence (see :func:`blend`).
CATCH_ALL = frozenset({"other"})
#: Labels that hand the lead to a person or stop messages: the model needs
#: ``impose_consequential_above`` to impose one of them on the rules.
CONSEQUENTIAL = frozenset({"human_request", "opt_out", "complaint", "spam"})


class IntentModelError(ValueError):
    """The weights file is missing, malformed or of another format version."""


def features(prepared: str, prompt: str) -> list[str]:
    """The sparse features of an already prepared line (``IntentLexicon.prepare``)
    read after a business message of kind ``prompt`` (a ``Prompt`` value:
    ``none``, ``open``, ``info``, ``meeting``, ``purchase``). Duplicates are kept
    out; the order is deterministic."""
    prepared = prepared[:MAX_CHARS]
    tokens = _WORD.findall(prepared)
    out: dict[str, None] = {}
    for token in tokens:
        out["w:" + token] = None
        padded = f"<{token}>"
        for n in _CHAR_NGRAMS:
            for start in range(len(padded) - n + 1):
                out["c:" + padded[start : start + n]] = None
    for left, right in zip(["<s>", *tokens], [*tokens, "</s>"], strict=True):
        out[f"b:{left}_{right}"] = None
    asks = "?" in prepared
    length = next((b for b in _LENGTH_BUCKETS if len(tokens) <= b), 99)
    out["len:" + str(length)] = None
    out["q:" + str(asks)] = None
    out["p:" + prompt] = None
    # A short line after a qualifying question is usually its answer.
    out[f"pq:{prompt}:{asks}:{min(length, 8)}"] = None
    return list(out)


@dataclass(frozen=True)
class IntentModel:
    """Trained weights: ``labels`` in order, a bias per label and, per feature, a
    sparse row of ``(label index, weight)`` pairs; ``blend`` holds the parameters
    the rules engine uses to combine its opinion with the model's."""

    labels: tuple[str, ...]
    bias: tuple[float, ...]
    weights: Mapping[str, tuple[tuple[int, float], ...]]
    blend: Mapping[str, float]

    def probabilities(self, prepared: str, prompt: str) -> dict[str, float]:
        """Probability of every label for a prepared line after ``prompt``."""
        return self.probabilities_of(features(prepared, prompt))

    def probabilities_of(self, feats: Iterable[str]) -> dict[str, float]:
        """Probability of every label given the line's :func:`features`."""
        scores = list(self.bias)
        weights = self.weights
        for feature in feats:
            row = weights.get(feature)
            if row is not None:
                for index, weight in row:
                    scores[index] += weight
        # The temperature (fitted on out-of-fold predictions) softens a model that
        # is surer of itself than its accuracy warrants.
        temperature = self.blend.get("temperature", 1.0)
        if temperature != 1.0:
            scores = [s / temperature for s in scores]
        return dict(zip(self.labels, softmax(scores), strict=True))

    def to_json(self) -> dict[str, Any]:
        """The JSON document of these weights (what :func:`parse_model` reads)."""
        return {
            "format": FORMAT_VERSION,
            "labels": list(self.labels),
            "bias": list(self.bias),
            "blend": dict(sorted(self.blend.items())),
            "weights": {f: [[i, w] for i, w in row] for f, row in sorted(self.weights.items())},
        }


def softmax(scores: Sequence[float]) -> list[float]:
    """Normalised exponentials of ``scores`` (stable for large values)."""
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def parse_model(data: Any) -> IntentModel:
    """An :class:`IntentModel` from its JSON document; raises :class:`IntentModelError`
    when the document is not one."""
    try:
        if data.get("format") != FORMAT_VERSION:
            raise IntentModelError(f"unsupported intent model format {data.get('format')!r}")
        labels = tuple(str(label) for label in data["labels"])
        bias = tuple(float(b) for b in data["bias"])
        weights = {
            str(feature): tuple((int(i), float(w)) for i, w in row)
            for feature, row in data["weights"].items()
        }
        blend = {str(k): float(v) for k, v in data["blend"].items()}
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, IntentModelError):
            raise
        raise IntentModelError(f"malformed intent model: {exc!r}") from exc
    if len(bias) != len(labels) or not labels:
        raise IntentModelError("intent model: one bias per label is required")
    if any(not 0 <= i < len(labels) for row in weights.values() for i, _ in row):
        raise IntentModelError("intent model: a weight points to an unknown label")
    return IntentModel(labels=labels, bias=bias, weights=weights, blend=blend)


def dump_model(model: IntentModel) -> str:
    """The weights file's text: compact, sorted, so equal models give equal bytes."""
    return json.dumps(model.to_json(), separators=(",", ":"), sort_keys=True) + "\n"


@lru_cache(maxsize=1)
def load_intent_model() -> IntentModel:
    """The packaged model (``lexicons/intent_model.json``), loaded once."""
    path = resources.files("copilot.engines.rules").joinpath("lexicons", MODEL_FILE)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise IntentModelError(f"intent model file {MODEL_FILE} is not in the package") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IntentModelError(f"{MODEL_FILE}: invalid JSON: {exc}") from exc
    return parse_model(data)


def sparse_rows(
    dense: Mapping[str, Sequence[float]], min_weight: float, digits: int
) -> dict[str, tuple[tuple[int, float], ...]]:
    """Dense per-feature weight vectors rounded to ``digits`` and pruned of weights
    smaller than ``min_weight`` (features left with nothing are dropped)."""
    rows: dict[str, tuple[tuple[int, float], ...]] = {}
    for feature, vector in dense.items():
        row = tuple((i, round(w, digits)) for i, w in enumerate(vector) if abs(w) >= min_weight)
        if row:
            rows[feature] = row
    return rows


def top(probabilities: Mapping[str, float]) -> tuple[str, float]:
    """The most probable label and its probability (ties: the first label)."""
    label = max(probabilities, key=probabilities.__getitem__)
    return label, probabilities[label]


def labels_of(values: Iterable[str]) -> tuple[str, ...]:
    """Sorted distinct labels (the model's label order)."""
    return tuple(sorted(set(values)))


def blend(
    label: str, confidence: float, probabilities: Mapping[str, float], params: Mapping[str, float]
) -> tuple[str, float]:
    """Combine the rules' ``label`` at ``confidence`` with the model's
    ``probabilities`` under the blend ``params`` of the weights file.

    At or above ``consult_below`` the rules decide alone. Below, the label maximises
    ``log p_model(c) + rules_weight * confidence * [c is the rules' label]``: the
    surer the rules, the more the model must disagree to change their answer, and
    its pick must reach ``impose_above`` (``impose_consequential_above`` for a
    person, an opt-out, a complaint or spam). The
    confidence stays an honest "how sure": the model's own probability for a label
    it imposed; when it agrees with the rules, halfway between both opinions (never
    below the rules' own)."""
    if confidence >= params.get("consult_below", 0.0) or not probabilities:
        return label, confidence
    boost = params.get("rules_weight", 0.0) * confidence
    best, best_score = label, boost + math.log(max(probabilities.get(label, 0.0), 1e-9))
    for candidate, probability in probabilities.items():
        score = math.log(max(probability, 1e-9)) + (boost if candidate == label else 0.0)
        if score > best_score:
            best, best_score = candidate, score
    if best != label:
        # Imposing a label needs a sure model; more so for the labels that hand the
        # lead to a person or stop all messages.
        needed = params.get("impose_above", 0.0)
        if best in CONSEQUENTIAL:
            needed = max(needed, params.get("impose_consequential_above", 0.0))
        if probabilities[best] < needed:
            return label, confidence
        return best, probabilities[best]
    if label in CATCH_ALL:
        # "other" is both models' catch-all: agreeing on it says nothing about what
        # the lead wants ("el de ayer"), so the rules' doubt stands.
        return label, confidence
    # Agreement: halfway to the model's probability when it is the surer one.
    return label, max(confidence, (confidence + probabilities.get(label, 0.0)) / 2)
