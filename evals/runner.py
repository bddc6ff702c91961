"""Run an engine over a dataset: predictions, per-case verdicts and metrics.

The runner keeps every artefact a later step needs (predictions in file order,
scored cases, full metrics, a per-language breakdown, latencies), so reports,
engine comparisons and CI gates are plain functions of :class:`DatasetResult`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from copilot.engines.base import Engine
from copilot.engines.spec import EngineSpec
from copilot.evals.accounting import account, item_record, model_decided
from copilot.evals.datasets_io import Dataset
from copilot.evals.metrics import bootstrap_ci
from copilot.evals.tasks import Case, RunContext, task_for
from copilot.profile import BusinessProfile

#: When this many items in a row fail, the engine is broken: stop instead of
#: grinding through the whole dataset (e.g. an LLM endpoint that is down).
FAIL_FAST_AFTER = 10


__all__ = ["DatasetResult", "EngineSpec", "EvalAbort", "result_from_predictions", "run_dataset"]


class EvalAbort(RuntimeError):
    """The run cannot go on (the engine cannot be built or fails on every item)."""


@dataclass
class DatasetResult:
    """Everything one engine did on one dataset."""

    dataset: Dataset
    engine: str
    predictions: list[dict[str, Any]]
    cases: list[Case]
    metrics: dict[str, Any]
    headline: dict[str, float]
    by_language: dict[str, dict[str, float]]
    failures: list[tuple[str, str]] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    repeats: list[dict[str, float]] = field(default_factory=list)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Model answers, fallbacks, tokens, cost (``None`` when no model was asked).
    accounting: dict[str, Any] | None = None
    #: The headline on the items the model answered (``None`` when none was asked).
    headline_model: dict[str, float] | None = None

    @property
    def kind(self) -> str:
        """The dataset kind."""
        return self.dataset.kind

    def spread(self) -> dict[str, dict[str, float]]:
        """Min, max and standard deviation of each headline metric over repeats."""
        out = {}
        for key in self.headline:
            values = [r[key] for r in self.repeats]
            if len(values) > 1:
                out[key] = {
                    "min": min(values),
                    "max": max(values),
                    "stdev": statistics.stdev(values),
                }
        return out

    def summary(self) -> dict[str, Any]:
        """A JSON-serialisable summary (no predictions) for ``results.json``."""
        return {
            "dataset": self.dataset.name,
            "path": self.dataset.path,
            "kind": self.kind,
            "engine": self.engine,
            "n": len(self.predictions),
            "headline": self.headline,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "spread": self.spread(),
            "by_language": self.by_language,
            "metrics": self.metrics,
            "failures": [{"id": i, "error": e} for i, e in self.failures],
            "latency_ms": self.latency_ms,
            "accounting": self.accounting,
            "headline_model_decided": self.headline_model,
        }


def _latency(predictions: list[dict[str, Any]]) -> dict[str, float]:
    values = sorted(p["latency_ms"] for p in predictions if "latency_ms" in p)
    if not values:
        return {}
    return {
        "mean": statistics.fmean(values),
        "p50": statistics.median(values),
        "p90": values[min(len(values) - 1, int(0.9 * len(values)))],
    }


def _predict_all(
    dataset: Dataset, ctx: RunContext, label: str, on_item: Callable[[], None] | None
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    task = task_for(dataset.kind)
    predictions: list[dict[str, Any]] = []
    failures: list[tuple[str, str]] = []
    in_a_row = 0
    for entry in dataset.entries:
        item = entry.item
        started = time.perf_counter()
        row: dict[str, Any] = {"id": item.id}
        ctx.seen.clear()
        try:
            row.update(task.predict(item, ctx))
            message = None
        except Exception as exc:  # one bad item must not sink the run; it is scored wrong
            message = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            row.update(dict.fromkeys(task.keys))
            row["error"] = message
            failures.append((item.id, message))
        row["engine"] = label
        row.update(item_record(ctx.seen, label))
        row["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
        predictions.append(row)
        if on_item:
            on_item()
        # A fallback is a failure of the model too: a dead endpoint must stop the run
        # rather than grind through the dataset on the fallback engine.
        if message is None and row.get("decided_by") == "fallback":
            message = "the model gave no answer, fell back: " + " | ".join(row["reasons"])
        in_a_row = in_a_row + 1 if message else 0
        if in_a_row == min(FAIL_FAST_AFTER, len(dataset.entries)):
            raise EvalAbort(
                f"{dataset.name}: the engine failed on {in_a_row} items in a row "
                f"(line {entry.line}, {item.id}: {message})"
            )
    return predictions, failures


def score_predictions(
    dataset: Dataset, predictions: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, float], dict[str, dict[str, float]], list[Case]]:
    """Metrics, headline metrics, per-language headline and cases of ``predictions``."""
    task = task_for(dataset.kind)
    items = dataset.items
    metrics = task.score(items, predictions)
    headline = {key: metrics[key] for key in task.headline}
    by_language: dict[str, dict[str, float]] = {}
    for lang in sorted({item.lang for item in items}):
        chosen = [i for i, item in enumerate(items) if item.lang == lang]
        sub = task.score([items[i] for i in chosen], [predictions[i] for i in chosen])
        by_language[lang] = {"n": len(chosen), **{key: sub[key] for key in task.headline}}
    cases = [task.case(item, pred) for item, pred in zip(items, predictions, strict=True)]
    return metrics, headline, by_language, cases


def honest_scores(
    dataset: Dataset, predictions: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, dict[str, float] | None]:
    """The accounting of a run and its headline on the model-decided items only."""
    accounting = account(predictions)
    if accounting is None:
        return None, None
    chosen = model_decided(predictions)
    if not chosen:
        return accounting, {}
    task = task_for(dataset.kind)
    items = dataset.items
    sub = task.score([items[i] for i in chosen], [predictions[i] for i in chosen])
    return accounting, {"n": len(chosen), **{key: sub[key] for key in task.headline}}


def _intervals(
    dataset: Dataset, predictions: list[dict[str, Any]], keys: tuple[str, ...], resamples: int
) -> dict[str, tuple[float, float]]:
    task = task_for(dataset.kind)
    pairs = list(zip(dataset.items, predictions, strict=True))
    out = {}
    for key in keys:

        def stat(sample: list[tuple[Any, dict]], key: str = key) -> float:
            return task.score([s[0] for s in sample], [s[1] for s in sample])[key]

        out[key] = bootstrap_ci(pairs, stat, resamples=resamples)
    return out


def run_dataset(
    dataset: Dataset,
    engine: Engine,
    profile: BusinessProfile,
    *,
    label: str | None = None,
    repeat: int = 1,
    bootstrap: int = 0,
    on_item: Callable[[], None] | None = None,
) -> DatasetResult:
    """Run ``engine`` on every item of ``dataset`` and score it.

    ``repeat`` > 1 runs the dataset again to measure the spread of a
    non-deterministic engine (the first run is the one reported in detail);
    ``bootstrap`` > 0 adds percentile confidence intervals of the headline metrics
    with that many resamples. An item whose prediction raises is recorded (``error``)
    and scored wrong; :class:`EvalAbort` is raised when items keep failing in a row."""
    label = label or getattr(engine, "name", "engine")
    ctx = RunContext(engine=engine, profile=profile)
    predictions, failures = _predict_all(dataset, ctx, label, on_item)
    metrics, headline, by_language, cases = score_predictions(dataset, predictions)
    repeats = [headline]
    for _ in range(repeat - 1):
        again, _failed = _predict_all(dataset, ctx, label, on_item)
        repeats.append(score_predictions(dataset, again)[1])
    task = task_for(dataset.kind)
    accounting, headline_model = honest_scores(dataset, predictions)
    return DatasetResult(
        dataset=dataset,
        engine=label,
        predictions=predictions,
        cases=cases,
        metrics=metrics,
        headline=headline,
        by_language=by_language,
        failures=failures,
        latency_ms=_latency(predictions),
        repeats=repeats,
        intervals=_intervals(dataset, predictions, task.headline, bootstrap) if bootstrap else {},
        accounting=accounting,
        headline_model=headline_model,
    )


def result_from_predictions(
    dataset: Dataset, predictions: list[dict[str, Any]], label: str
) -> DatasetResult:
    """Score saved predictions (e.g. an earlier run's ``--predictions`` file) as a run.

    ``predictions`` must hold one row per dataset line, in order, with the same ids
    (see :func:`copilot.evals.datasets_io.load_predictions`)."""
    metrics, headline, by_language, cases = score_predictions(dataset, predictions)
    accounting, headline_model = honest_scores(dataset, predictions)
    return DatasetResult(
        dataset=dataset,
        engine=label,
        predictions=predictions,
        cases=cases,
        metrics=metrics,
        headline=headline,
        by_language=by_language,
        failures=[(p["id"], p["error"]) for p in predictions if p.get("error")],
        latency_ms=_latency(predictions),
        repeats=[headline],
        accounting=accounting,
        headline_model=headline_model,
    )
