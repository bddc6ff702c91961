"""Rebuild every shipped model from its training data, in one command.

Run from the repository root::

    python -m copilot.evals.retrain           # retrain every model, refresh the manifest
    python -m copilot.evals.retrain --check   # rebuild each model and compare, byte for byte

Each model's trainer is deterministic. The intent model keeps the blend
parameters recorded in its shipped file (a tuning choice: ``train_intent_model
--cv-only`` searches them again) and rebuilds its weights from the data. ``models.sha256`` (next to this file)
records, per model, the SHA-256 of its training data and of the shipped file; a
test recomputes both, so changed data with a stale model fails CI without
retraining anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from copilot.evals import train_intent_model, train_semantic

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "models.sha256"


@dataclass(frozen=True)
class ShippedModel:
    """A model file, the data it is trained on, and its trainer's entry point."""

    name: str
    output: Path
    data: Callable[[], list[Path]]
    train: Callable[[list[str]], int]


def _intent_data() -> list[Path]:
    return list(train_intent_model.DEFAULT_DATA) + list(train_intent_model.RULES_BEFORE)


def _train_intent(args: list[str]) -> int:
    # The blend parameters are a tuning choice recorded in the shipped file
    # (`train_intent_model --cv-only` searches them again); the weights are
    # rebuilt from the data with that choice.
    blend = json.loads(train_intent_model.OUTPUT.read_text(encoding="utf-8"))["blend"]
    return train_intent_model.main([*args, "--blend", json.dumps(blend)])


MODELS = (
    ShippedModel("intent", train_intent_model.OUTPUT, _intent_data, _train_intent),
    ShippedModel(
        "semantic", train_semantic.OUTPUT, train_semantic.training_paths, train_semantic.main
    ),
)


def manifest() -> dict[str, dict[str, str]]:
    """Per model: the SHA-256 of its training data and of its shipped file."""
    return {
        model.name: {
            "data": train_semantic.data_digest(model.data()),
            "model": hashlib.sha256(model.output.read_bytes()).hexdigest(),
        }
        for model in MODELS
    }


def render_manifest(entries: dict[str, dict[str, str]]) -> str:
    """The manifest file's text."""
    return json.dumps(entries, indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="rebuild and compare, write nothing")
    args = parser.parse_args(argv)
    failed = []
    for model in MODELS:
        print(f"== {model.name}: {model.output.relative_to(HERE.parent)}", flush=True)
        if model.train(["--check"] if args.check else []) != 0:
            failed.append(model.name)
    if args.check:
        if MANIFEST.read_text(encoding="utf-8") != render_manifest(manifest()):
            failed.append("manifest")
    else:
        MANIFEST.write_text(render_manifest(manifest()), encoding="utf-8")
    if failed:
        print("out of date: " + ", ".join(failed))
        return 1
    print("every model matches its data")
    return 0


if __name__ == "__main__":
    sys.exit(main())
