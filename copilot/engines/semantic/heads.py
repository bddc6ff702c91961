"""Linear heads over sentence embeddings: intent (softmax) and handoff signals (sigmoids).

The weights are a JSON file (``heads.json``) written by
``python -m copilot.evals.train_semantic`` from the training data only; the file
records the SHA-256 of that data, and the command rebuilds it byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

HEADS_FILE = "heads.json"
FORMAT_VERSION = 1
#: The signals the handoff policy reads, as the signal head names them.
SIGNALS = ("human_request", "complaint", "sensitive", "complex", "out_of_scope")


class HeadsError(ValueError):
    """The heads file is missing, malformed or of another format version."""


@dataclass(frozen=True)
class Heads:
    """Trained heads: intent labels with a softmax layer, signals with sigmoid units."""

    embedder: str
    intent_labels: tuple[str, ...]
    intent_weights: Any  # (dim, labels) numpy array
    intent_bias: Any
    signal_labels: tuple[str, ...]
    signal_weights: Any  # (dim, signals)
    signal_bias: Any
    data_sha256: str
    #: Per signal, ``sure`` (raise it) and ``maybe`` (voice a doubt) probabilities,
    #: chosen out of fold for a precision (see ``train_semantic``).
    thresholds: dict[str, dict[str, float]]

    def intent(self, vector: Any) -> dict[str, float]:
        """Probability of every intent label for one embedding."""
        import numpy as np

        logits = vector @ self.intent_weights + self.intent_bias
        logits = logits - logits.max()
        probs = np.exp(logits)
        probs /= probs.sum()
        return {label: float(p) for label, p in zip(self.intent_labels, probs, strict=True)}

    def signals(self, vector: Any) -> dict[str, float]:
        """Probability of every signal (independent) for one embedding."""
        import numpy as np

        logits = vector @ self.signal_weights + self.signal_bias
        probs = 1.0 / (1.0 + np.exp(-logits))
        return {label: float(p) for label, p in zip(self.signal_labels, probs, strict=True)}


def heads_from_dict(data: dict[str, Any]) -> Heads:
    """Build :class:`Heads` from the parsed JSON; :class:`HeadsError` when malformed."""
    import numpy as np

    try:
        if data["format"] != FORMAT_VERSION:
            raise HeadsError(f"heads format {data['format']} is not {FORMAT_VERSION}")
        intent, signal = data["intent"], data["signals"]
        return Heads(
            embedder=data["embedder"],
            intent_labels=tuple(intent["labels"]),
            intent_weights=np.asarray(intent["weights"], dtype=np.float32),
            intent_bias=np.asarray(intent["bias"], dtype=np.float32),
            signal_labels=tuple(signal["labels"]),
            signal_weights=np.asarray(signal["weights"], dtype=np.float32),
            signal_bias=np.asarray(signal["bias"], dtype=np.float32),
            data_sha256=data["data_sha256"],
            thresholds={k: dict(v) for k, v in signal["thresholds"].items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, HeadsError):
            raise
        raise HeadsError(f"malformed heads file: {exc}") from exc


@lru_cache(maxsize=1)
def shipped_heads() -> Heads:
    """The heads shipped inside the package."""
    text = resources.files(__package__).joinpath(HEADS_FILE).read_text(encoding="utf-8")
    return heads_from_dict(json.loads(text))
