"""Quality gates: thresholds and tolerated regressions read from a TOML file.

```toml
[intents]
min = { accuracy = 0.80, macro_f1 = 0.70 }   # the run must reach these
max_drop = { accuracy = 0.02 }                # vs the baseline, when comparing
max_broken = 5                                # cases the candidate may break
max_fallbacks = 0                             # items the model left to the fallback
```

An ``llm`` run is held to ``max_fallbacks = 0`` on every dataset unless its
table says otherwise: a run whose items fell back to the rules engine scores
the rules engine, not the model.

A table is a dataset kind (``intents``, ``fields``...) or a dataset name
(``test/intents``); the name wins when both match. Metric names are the
headline metrics of the kind. ``lead-copilot eval --gates`` exits 1 when a
gate fails and prints which one, with the value and the limit.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.evals.compare import Comparison
from copilot.evals.runner import DatasetResult
from copilot.evals.tasks import TASKS


class GateError(ValueError):
    """A gates file that cannot be used."""


class GateRule(BaseModel):
    """The gates of one kind or dataset."""

    model_config = ConfigDict(extra="forbid")

    min: dict[str, float] = Field(default_factory=dict)
    max_drop: dict[str, float] = Field(default_factory=dict)
    max_broken: int | None = Field(None, ge=0)
    #: Items the model may leave to the fallback engine (default 0 for ``llm`` runs).
    max_fallbacks: int | None = Field(None, ge=0)


@dataclass
class GateCheck:
    """One gate applied to one dataset run."""

    dataset: str
    gate: str
    metric: str
    value: float
    limit: float
    passed: bool

    def describe(self) -> str:
        """A line for people: what was checked, the value and the limit."""
        verdict = "ok  " if self.passed else "FAIL"
        if self.gate == "min":
            return (
                f"{verdict} {self.dataset}: {self.metric} {self.value:.3f} (min {self.limit:.3f})"
            )
        if self.gate == "max_drop":
            return (
                f"{verdict} {self.dataset}: {self.metric} {self.value:+.3f} vs baseline "
                f"(tolerated drop {self.limit:.3f})"
            )
        if self.gate == "max_fallbacks":
            return (
                f"{verdict} {self.dataset}: {int(self.value)} items fell back instead of "
                f"using the model's answer (max {int(self.limit)})"
            )
        return f"{verdict} {self.dataset}: {int(self.value)} cases broken (max {int(self.limit)})"


def default_gates_path() -> Path:
    """The gates file shipped with the evals (``evals/gates.toml``)."""
    return Path(str(resources.files("copilot.evals") / "gates.toml"))


def load_gates(path: str | Path | None = None) -> dict[str, GateRule]:
    """Read and validate a gates file (the shipped one when ``None``)."""
    path = Path(path) if path else default_gates_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise GateError(f"{path}: not valid TOML: {exc}") from exc
    rules: dict[str, GateRule] = {}
    for name, table in data.items():
        kind = name.split("/")[-1] if "/" in name else name
        if kind not in TASKS:
            raise GateError(f"{path}: [{name}] is not a dataset kind ({', '.join(TASKS)})")
        try:
            rule = GateRule.model_validate(table)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise GateError(f"{path}: [{name}] {problems}") from exc
        known = set(TASKS[kind].headline)
        for metric in [*rule.min, *rule.max_drop]:
            if metric not in known:
                raise GateError(
                    f"{path}: [{name}] unknown metric {metric!r} for {kind} "
                    f"(known: {', '.join(sorted(known))})"
                )
        rules[name] = rule
    return rules


def _rule_for(rules: dict[str, GateRule], result: DatasetResult) -> GateRule | None:
    return rules.get(result.dataset.name) or rules.get(result.kind)


#: Fallbacks an engine's run may have when its gates table does not say: an
#: ``llm`` run is there to measure the model, so by default none.
DEFAULT_MAX_FALLBACKS = {"llm": 0}


def engine_name(label: str) -> str:
    """The engine of a run label (``llm:analyze@v1,model=x`` -> ``llm``)."""
    return label.split(",", 1)[0].split(":", 1)[0].strip()


def _fallback_check(rule: GateRule | None, result: DatasetResult) -> GateCheck | None:
    if result.accounting is None:
        return None
    limit = rule.max_fallbacks if rule is not None else None
    if limit is None:
        limit = DEFAULT_MAX_FALLBACKS.get(engine_name(result.engine))
    if limit is None:
        return None
    fallbacks = result.accounting["fallback"]
    return GateCheck(
        result.dataset.name, "max_fallbacks", "fallbacks", fallbacks, limit, fallbacks <= limit
    )


def check_gates(
    rules: dict[str, GateRule],
    results: list[DatasetResult],
    comparisons: list[Comparison] | None = None,
) -> list[GateCheck]:
    """Every gate that applies to ``results`` (and to ``comparisons``, for drops)."""
    checks: list[GateCheck] = []
    by_path = {c.dataset.path: c for c in comparisons or []}
    for result in results:
        rule = _rule_for(rules, result)
        if (fallbacks := _fallback_check(rule, result)) is not None:
            checks.append(fallbacks)
        if rule is None:
            continue
        name = result.dataset.name
        for metric, limit in rule.min.items():
            value = result.headline[metric]
            checks.append(GateCheck(name, "min", metric, value, limit, value >= limit))
        comparison = by_path.get(result.dataset.path)
        if comparison is None:
            continue
        for delta in comparison.metrics:
            if delta.metric in rule.max_drop:
                limit = rule.max_drop[delta.metric]
                checks.append(
                    GateCheck(
                        name, "max_drop", delta.metric, delta.delta, limit, delta.delta >= -limit
                    )
                )
        if rule.max_broken is not None:
            broken = comparison.counts()["broken"]
            checks.append(
                GateCheck(
                    name, "max_broken", "broken", broken, rule.max_broken, broken <= rule.max_broken
                )
            )
    return checks


def summarize(checks: list[GateCheck]) -> dict[str, Any]:
    """Counts and the failed checks, for ``results.json``."""
    return {
        "checked": len(checks),
        "failed": [vars(c) for c in checks if not c.passed],
        "passed": all(c.passed for c in checks),
    }
