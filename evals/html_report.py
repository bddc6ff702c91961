"""A self-contained HTML report: inline CSS, no scripts, no external assets.

Rendered with Jinja2 with autoescaping on: lead messages are untrusted and are
only ever inserted as escaped text. Confusion matrices are heat maps whose
shade is the share of the gold row (computed here, so styles hold only numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from copilot.evals.compare import Comparison
from copilot.evals.gates import GateCheck
from copilot.evals.report import (
    CONFUSIONS,
    MAX_CASES,
    detail_tables,
    fmt,
    headline_header,
    headline_rows,
    honesty_lines,
    language_table,
)
from copilot.evals.runner import DatasetResult

_RIGHT = "5, 150, 105"  # diagonal: green
_WRONG = "220, 38, 38"  # off the diagonal: red
#: Shade of a cell: a floor so that one stray case in a big row still shows
#: (a plain share made 1 of 10 an invisible pink), plus the share of the row.
_FLOOR, _SPAN = 0.15, 0.75
#: Above this shade the count is written in white, to stay readable.
_DARK = 0.55


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("copilot.evals", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def heatmap(title: str, confusion: dict[str, Any]) -> dict[str, Any]:
    """View model of a confusion matrix: counts with a row-normalised shade."""
    labels, matrix = confusion["labels"], confusion["matrix"]
    rows = []
    for i, label in enumerate(labels):
        total = sum(matrix[i]) or 1
        cells = []
        for j, count in enumerate(matrix[i]):
            alpha = _FLOOR + _SPAN * count / total if count else 0.0
            cells.append(
                {
                    "pred": labels[j],
                    "count": count,
                    "alpha": alpha,
                    "dark": alpha > _DARK,
                    "kind": "right" if i == j else "wrong",
                    "rgb": _RIGHT if i == j else _WRONG,
                }
            )
        rows.append({"label": label, "cells": cells})
    return {"title": title, "labels": labels, "rows": rows}


def _section(result: DatasetResult, comparison: Comparison | None) -> dict[str, Any]:
    lang_header, lang_rows = language_table(result)
    tables = [
        {"title": title, "header": header, "rows": [[fmt(c) for c in row] for row in rows]}
        for title, header, rows in detail_tables(result, confusion=False)
    ]
    heatmaps = [
        heatmap(title, result.metrics[key])
        for key, title in CONFUSIONS
        if key in result.metrics and result.metrics[key]["labels"]
    ]
    section: dict[str, Any] = {
        "name": result.dataset.name,
        "anchor": result.dataset.name.replace("/", "-"),
        "path": result.dataset.path,
        "kind": result.kind,
        "n": len(result.predictions),
        "latency": result.latency_ms or None,
        "headline_text": ", ".join(f"{k} {v:.3f}" for k, v in result.headline.items()),
        "headline_header": headline_header(result),
        "headline_rows": [[fmt(c) for c in row] for row in headline_rows(result)],
        "lang_header": lang_header,
        "lang_rows": [[fmt(c) for c in row] for row in lang_rows],
        "tables": tables,
        "heatmaps": heatmaps,
        "wrong": [c for c in result.cases if not c.correct],
        "diff": None,
        "honesty": honesty_lines(result),
    }
    if comparison is not None:
        section["honesty"] = honesty_lines(comparison.baseline) + section["honesty"]
        section["deltas"] = comparison.metrics
        section["counts"] = comparison.counts()
        section["diff"] = {
            status: [c for c in comparison.cases if c.status == status][:MAX_CASES]
            for status in ("broken", "fixed", "changed")
        }
    return section


def render_html(
    results: Sequence[DatasetResult],
    comparisons: Sequence[Comparison] = (),
    gates: Sequence[GateCheck] = (),
    title: str = "Lead Copilot eval",
) -> str:
    """The HTML report of the candidate ``results`` (with comparisons and gates, if any)."""
    by_path = {c.dataset.path: c for c in comparisons}
    sections = [_section(r, by_path.get(r.dataset.path)) for r in results]
    compare = bool(comparisons)
    first = comparisons[0] if comparisons else None
    engines = ", ".join(sorted({r.engine for r in results}))
    subtitle = (
        f"Candidate {first.candidate.engine} against baseline {first.baseline.engine}"
        if first
        else f"Engine {engines}"
    )
    return (
        _environment()
        .get_template("report.html")
        .render(
            title=title,
            subtitle=subtitle,
            sections=sections,
            compare=compare,
            baseline_label=first.baseline.engine if first else "",
            candidate_label=first.candidate.engine if first else "",
            gates=[{"passed": g.passed, "line": g.describe()} for g in gates],
            max_cases=MAX_CASES,
        )
    )
