"""Compare a candidate (prompt, model or engine) with a baseline on the same dataset.

Headline metrics side by side with deltas (overall and per language) and a
per-case diff: ``fixed`` (baseline wrong, candidate right), ``broken`` (the
reverse), ``changed`` (both wrong, different answers) and ``unchanged``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from copilot.evals.datasets_io import Dataset
from copilot.evals.runner import DatasetResult

STATUSES = ("fixed", "broken", "changed", "unchanged")


@dataclass
class MetricDelta:
    """One metric of both runs."""

    metric: str
    baseline: float
    candidate: float

    @property
    def delta(self) -> float:
        """Candidate minus baseline (positive is better for every headline metric)."""
        return self.candidate - self.baseline


@dataclass
class CaseDiff:
    """One item as both runs saw it."""

    id: str
    lang: str
    text: str
    gold: str
    baseline: str
    candidate: str
    status: str


@dataclass
class Comparison:
    """A candidate run against a baseline run of the same dataset."""

    baseline: DatasetResult
    candidate: DatasetResult
    metrics: list[MetricDelta]
    by_language: dict[str, list[MetricDelta]]
    cases: list[CaseDiff] = field(default_factory=list)

    @property
    def dataset(self) -> Dataset:
        """The dataset both ran on."""
        return self.candidate.dataset

    def counts(self) -> dict[str, int]:
        """How many cases are fixed, broken, changed and unchanged."""
        return {status: sum(1 for c in self.cases if c.status == status) for status in STATUSES}

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable comparison (for ``results.json``)."""
        return {
            "dataset": self.dataset.name,
            "kind": self.dataset.kind,
            "baseline": self.baseline.engine,
            "candidate": self.candidate.engine,
            "metrics": [
                {
                    "metric": d.metric,
                    "baseline": d.baseline,
                    "candidate": d.candidate,
                    "delta": d.delta,
                }
                for d in self.metrics
            ],
            "by_language": {
                lang: {d.metric: d.delta for d in deltas}
                for lang, deltas in self.by_language.items()
            },
            "counts": self.counts(),
            "changed_cases": [vars(c) for c in self.cases if c.status != "unchanged"],
        }


def _status(base_ok: bool, cand_ok: bool, same_answer: bool) -> str:
    if cand_ok and not base_ok:
        return "fixed"
    if base_ok and not cand_ok:
        return "broken"
    if not base_ok and not same_answer:
        return "changed"
    return "unchanged"


def compare(baseline: DatasetResult, candidate: DatasetResult) -> Comparison:
    """Side-by-side metrics and the per-case diff of two runs of one dataset."""
    if baseline.dataset.path != candidate.dataset.path:
        raise ValueError("a comparison needs two runs of the same dataset")
    metrics = [
        MetricDelta(key, baseline.headline[key], candidate.headline[key])
        for key in candidate.headline
    ]
    by_language = {
        lang: [
            MetricDelta(key, baseline.by_language[lang][key], values[key])
            for key in candidate.headline
        ]
        for lang, values in candidate.by_language.items()
    }
    cases = [
        CaseDiff(
            id=c.id,
            lang=c.lang,
            text=c.text,
            gold=c.gold,
            baseline=b.pred,
            candidate=c.pred,
            status=_status(b.correct, c.correct, b.pred == c.pred),
        )
        for b, c in zip(baseline.cases, candidate.cases, strict=True)
    ]
    return Comparison(baseline, candidate, metrics, by_language, cases)
