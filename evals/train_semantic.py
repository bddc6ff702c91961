"""Train the ``semantic`` engine's heads (``copilot/engines/semantic/heads.json``).

Run from the repository root::

    python -m copilot.evals.train_semantic           # embed the data, train, write the heads
    python -m copilot.evals.train_semantic --check   # rebuild and compare to the shipped file

Training data (TRAINING data only: never ``datasets/test`` nor ``datasets/blind``):
``datasets/dev/intents.jsonl`` and ``datasets/dev/handoff.jsonl`` plus
``train_data/intents-*.jsonl`` and ``train_data/semantic-*.jsonl`` (lines written
for the families of misses: a person asked for in other words, complaints with no
keyword, sensitive and complex requests, unsubscribe phrasing, out-of-scope
questions, routine negatives). Intent lines teach the intent head; every line
teaches the signal head (an intent ``complaint`` or ``human_request`` is that
signal, a handoff line's reason is its signal, ``gold.signals`` lists the rest).

Embeddings are rounded before training and the heads are fitted by full-batch
gradient descent from zeros, so the same data gives the same file byte for byte;
the file records the data's SHA-256, which a test compares without embedding.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from copilot.engines.semantic.heads import FORMAT_VERSION, SIGNALS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUTPUT = ROOT / "copilot" / "engines" / "semantic" / "heads.json"
#: Folders no training path may come from: scoring sets.
HELD_OUT = ("test", "blind")


def training_paths(base: Path = HERE) -> list[Path]:
    """The training files, in a fixed order; never a scoring split."""
    paths = [
        base / "datasets" / "dev" / "intents.jsonl",
        base / "datasets" / "dev" / "handoff.jsonl",
    ]
    paths += sorted((base / "train_data").glob("intents-*.jsonl"))
    paths += sorted((base / "train_data").glob("semantic-*.jsonl"))
    refuse_held_out(paths, base)
    return paths


def refuse_held_out(paths: Sequence[Path], base: Path = HERE) -> None:
    """Raise ``SystemExit`` if any path lies in a scoring split (``datasets/test``,
    ``datasets/blind``): those sets measure the product and are never trained on."""
    for path in paths:
        parts = path.resolve().relative_to(base.resolve()).parts
        if len(parts) > 1 and parts[0] == "datasets" and parts[1] in HELD_OUT:
            raise SystemExit(f"refusing to train on a scoring split: {path}")


def data_digest(paths: Sequence[Path], base: Path = HERE) -> str:
    """SHA-256 over each training file's relative path and bytes."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(base).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_lines(paths: Sequence[Path]) -> list[tuple[str, str | None, frozenset[str]]]:
    """``(text, intent or None, signals)`` for every training line."""
    lines = []
    for path in paths:
        for raw in path.read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            item = json.loads(raw)
            gold = item["gold"]
            intent = gold.get("intent")
            signals = set(gold.get("signals", []))
            if intent in ("complaint", "human_request"):
                signals.add(intent)
            if gold.get("needed") and gold.get("reason") in SIGNALS:
                signals.add(gold["reason"])
            lines.append((item["text"], intent, frozenset(signals)))
    return lines


def _fit(x, y, *, softmax: bool, weights, steps: int = 300, rate: float = 0.5, l2: float = 1e-3):
    """Full-batch gradient descent from zeros (deterministic)."""
    import numpy as np

    w = np.zeros((x.shape[1], y.shape[1]))
    b = np.zeros(y.shape[1])
    for _ in range(steps):
        logits = x @ w + b
        if softmax:
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
        else:
            p = 1 / (1 + np.exp(-logits))
        err = (p - y) * weights
        w -= rate * (x.T @ err / len(x) + l2 * w)
        b -= rate * err.mean(axis=0)
    return w, b


#: Cross-validation folds for the thresholds and the intent temperature.
FOLDS = 5
#: Out-of-fold precision a signal must reach to be raised on its own ("sure"),
#: and to be worth a ``low_confidence`` doubt ("maybe").
SURE_PRECISION = 0.9
MAYBE_PRECISION = 0.75
GRID = tuple(round(0.3 + 0.02 * i, 2) for i in range(35))
TEMPERATURES = tuple(round(0.5 + 0.25 * i, 2) for i in range(19))


def _out_of_fold(x, y, *, softmax: bool, weights):
    """Logits of every line from a head trained on the other folds."""
    import numpy as np

    folds = np.arange(len(x)) % FOLDS
    logits = np.zeros(y.shape)
    for k in range(FOLDS):
        train_rows = folds != k
        w = weights[train_rows] if np.ndim(weights) else weights
        wk, bk = _fit(x[train_rows], y[train_rows], softmax=softmax, weights=w)
        logits[~train_rows] = x[~train_rows] @ wk + bk
    return logits


def _threshold(probs, gold, precision: float) -> float:
    """The lowest grid threshold whose raised lines reach ``precision`` (out of fold)."""
    for t in GRID:
        raised = probs >= t
        if raised.sum() and (gold[raised].sum() / raised.sum()) >= precision:
            return t
    return 0.99


def _temperature(logits, y) -> float:
    """The softmax temperature with the lowest out-of-fold log loss."""
    import numpy as np

    best = None
    for t in TEMPERATURES:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -(log_p * y).sum() / len(y)
        if best is None or loss < best[0] - 1e-9:
            best = (loss, t)
    return best[1]


def train(paths: Sequence[Path], embedder) -> dict:
    """The heads file's content for ``paths``, embedded by ``embedder``."""
    import numpy as np

    lines = load_lines(paths)
    vectors = np.round(np.asarray(embedder.embed([t for t, _, _ in lines]), dtype=np.float64), 4)
    # e5 vectors share a large common direction: standardise each dimension so
    # gradient descent sees the differences, then fold the scaling into the weights.
    center = vectors.mean(axis=0)
    scale = np.maximum(vectors.std(axis=0), 1e-3)
    vectors = (vectors - center) / scale
    labelled = [i for i, (_, intent, _) in enumerate(lines) if intent]
    labels = sorted({lines[i][1] for i in labelled})
    y = np.zeros((len(labelled), len(labels)))
    for row, i in enumerate(labelled):
        y[row, labels.index(lines[i][1])] = 1
    wi, bi = _fit(vectors[labelled], y, softmax=True, weights=1.0)
    s = np.array([[name in signals for name in SIGNALS] for _, _, signals in lines], dtype=float)
    # Positives are rare: weigh them up (capped) so recall is not traded away.
    positive = np.clip((len(s) - s.sum(axis=0)) / np.maximum(s.sum(axis=0), 1), 1, 10)
    ws, bs = _fit(vectors, s, softmax=False, weights=np.where(s == 1, positive, 1.0))

    # Out of fold: the intent softmax's temperature (a calibrated confidence)
    # and, per signal, the thresholds to raise it or to voice a doubt.
    temperature = _temperature(_out_of_fold(vectors[labelled], y, softmax=True, weights=1.0), y)
    wi, bi = wi / temperature, bi / temperature
    oof = 1 / (
        1
        + np.exp(-_out_of_fold(vectors, s, softmax=False, weights=np.where(s == 1, positive, 1.0)))
    )
    thresholds = {
        name: {
            "sure": _threshold(oof[:, j], s[:, j], SURE_PRECISION),
            "maybe": _threshold(oof[:, j], s[:, j], MAYBE_PRECISION),
        }
        for j, name in enumerate(SIGNALS)
    }

    def r(a):
        return np.round(a, 4).tolist()

    def fold(w, b):
        return w / scale[:, None], b - (center / scale) @ w

    wi, bi = fold(wi, bi)
    ws, bs = fold(ws, bs)

    return {
        "format": FORMAT_VERSION,
        "embedder": embedder.name,
        "data": [p.relative_to(HERE).as_posix() for p in paths],
        "data_sha256": data_digest(paths),
        "lines": len(lines),
        "intent": {
            "labels": labels,
            "weights": r(wi),
            "bias": r(bi),
            "temperature": temperature,
        },
        "signals": {
            "labels": list(SIGNALS),
            "weights": r(ws),
            "bias": r(bs),
            "thresholds": thresholds,
        },
    }


def render(heads: dict) -> str:
    """The heads as the shipped file's text (stable key order and number format)."""
    return json.dumps(heads, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    from copilot.engines.semantic.embedders import default_embedder

    text = render(train(training_paths(), default_embedder()))
    if args.check:
        same = args.output.read_text(encoding="utf-8") == text
        print("heads match their data" if same else f"{args.output} differs from a rebuild")
        return 0 if same else 1
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
