"""Render eval results: plain text for the terminal, Markdown for ``report.md``.

Case texts are lead messages, i.e. untrusted: in Markdown every cell is escaped
(pipes, HTML metacharacters, newlines) so a message cannot break the table or
inject markup into a rendered report.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from copilot.evals.accounting import describe
from copilot.evals.calibration import TARGET_ACCURACY, suggest_threshold, svg_name, table_rows
from copilot.evals.compare import Comparison, MetricDelta
from copilot.evals.runner import DatasetResult

#: Wrong cases listed per dataset in the Markdown report.
MAX_CASES = 50
#: Metrics keys holding confusion matrices, with their titles.
CONFUSIONS = (("confusion", "Confusion"), ("reason_confusion", "Reason confusion"))


def fmt(value: Any) -> str:
    """A metric for display: ratios with three decimals, counts as they are."""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def md_cell(value: Any) -> str:
    """Escape a value for a Markdown table cell (no control characters either)."""
    text = html.escape(" ".join(_CONTROL.sub("", str(value)).split()), quote=False)
    return text.replace("|", "\\|").replace("`", "\\`")


def md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; every cell escaped."""
    lines = [
        "| " + " | ".join(md_cell(h) for h in header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(md_cell(fmt(c)) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A fixed-width table for the terminal."""
    cells = [[str(h) for h in header]] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def headline_rows(result: DatasetResult) -> list[list[Any]]:
    """Rows of the headline table: value, then the interval and spread when measured."""
    rows = []
    for key, value in result.headline.items():
        row: list[Any] = [key, value]
        if result.intervals:
            low, high = result.intervals.get(key, (None, None))
            row.append(f"{low:.3f}–{high:.3f}" if low is not None else "")
        spread = result.spread().get(key)
        if spread:
            row.append(f"{spread['min']:.3f}–{spread['max']:.3f} (sd {spread['stdev']:.3f})")
        rows.append(row)
    return rows


def headline_header(result: DatasetResult) -> list[str]:
    """Header of :func:`headline_rows`."""
    header = ["metric", "value"]
    if result.intervals:
        header.append("95% CI")
    if result.spread():
        header.append(f"spread over {len(result.repeats)} runs")
    return header


def language_table(result: DatasetResult) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the per-language headline metrics."""
    keys = list(result.headline)
    rows = [[lang, v["n"], *(v[k] for k in keys)] for lang, v in result.by_language.items()]
    return ["lang", "n", *keys], rows


def detail_tables(
    result: DatasetResult, confusion: bool = True
) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, header, rows) of the kind-specific tables (confusion matrices included
    unless ``confusion`` is false)."""
    m = result.metrics
    tables = []
    if "per_label" in m:
        rows = [
            [label, s["precision"], s["recall"], s["f1"], s["support"]]
            for label, s in m["per_label"].items()
        ]
        tables.append(("Per label", ["label", "precision", "recall", "f1", "support"], rows))
    if "per_field" in m:
        rows = [
            [f, s["precision"], s["recall"], s["f1"], s["tp"], s["fp"], s["fn"]]
            for f, s in m["per_field"].items()
        ]
        header = ["field", "precision", "recall", "f1", "tp", "fp", "fn"]
        tables.append(("Per field", header, rows))
    if "reason_n" in m:
        rows = [
            ["needed: tp / fp / fn", f"{m['tp']} / {m['fp']} / {m['fn']}"],
            ["reason accuracy (both needed)", f"{m['reason_accuracy']:.3f} of {m['reason_n']}"],
        ]
        tables.append(("Handoff", ["", ""], rows))
    if "calibration" in m:
        calib = m["calibration"]
        best = suggest_threshold(calib["curve"])
        title = (
            f"Calibration: ECE {calib['ece']:.3f}; lowest threshold keeping accuracy >= "
            f"{TARGET_ACCURACY}: {'none' if best is None else f'{best:.2f}'}"
        )
        tables.append((title, ["threshold", "coverage", "accuracy"], table_rows(calib)))
    for key, title in CONFUSIONS:
        if confusion and key in m and m[key]["labels"]:
            labels, matrix = m[key]["labels"], m[key]["matrix"]
            rows = [[label, *matrix[i]] for i, label in enumerate(labels)]
            tables.append(
                (f"{title} (rows gold, columns predicted)", ["gold \\ pred", *labels], rows)
            )
    return tables


def compact_confusion(title: str, confusion: dict[str, Any]) -> str:
    """A confusion matrix that fits a terminal: numbered columns, dots for zeros."""
    labels, matrix = confusion["labels"], confusion["matrix"]
    header = ["gold \\ pred", *(str(i) for i in range(1, len(labels) + 1))]
    rows = [
        [f"{i} {label}", *(str(n) if n else "." for n in matrix[i - 1])]
        for i, label in enumerate(labels, start=1)
    ]
    return f"{title} (rows gold, columns predicted, numbered as the rows)\n" + text_table(
        header, rows
    )


def honesty_lines(result: DatasetResult) -> list[str]:
    """Who answered (model, re-ask, fallback) and the scores on model-decided items;
    nothing when no model was asked."""
    if result.accounting is None:
        return []
    lines = [f"{result.engine}: " + line for line in describe(result.accounting)[:1]]
    lines += describe(result.accounting)[1:]
    all_items = ", ".join(f"{k} {v:.3f}" for k, v in result.headline.items())
    decided = result.headline_model or {}
    if decided.get("n"):
        on_model = ", ".join(f"{k} {v:.3f}" for k, v in decided.items() if k != "n")
        lines.append(f"scores on the {decided['n']} model-decided items: {on_model}")
    else:
        lines.append("scores on model-decided items: none (no item was decided by the model)")
    lines.append(f"scores on all {len(result.predictions)} items: {all_items}")
    for entry in result.accounting["fallback_items"][:MAX_CASES]:
        lines.append(f"  fell back: {entry['id']}: " + " | ".join(entry["reasons"]))
    return lines


def render_text(result: DatasetResult) -> str:
    """A terminal summary of one dataset run."""
    d = result.dataset
    parts = [f"== {d.name} ({d.kind}, {len(result.predictions)} items, engine {result.engine})"]
    parts.append(text_table(headline_header(result), headline_rows(result)))
    if honest := honesty_lines(result):
        parts.append("\n".join(honest))
    header, rows = language_table(result)
    parts.append("By language\n" + text_table(header, rows))
    for title, header, rows in detail_tables(result, confusion=False):
        parts.append(f"{title}\n" + text_table(header, rows))
    for key, title in CONFUSIONS:
        if key in result.metrics and result.metrics[key]["labels"]:
            parts.append(compact_confusion(title, result.metrics[key]))
    if result.latency_ms:
        lat = result.latency_ms
        parts.append(
            f"latency ms: mean {lat['mean']:.2f}, p50 {lat['p50']:.2f}, p90 {lat['p90']:.2f}"
        )
    if result.failures:
        item_id, error = result.failures[0]
        parts.append(f"{len(result.failures)} items failed; first: {item_id}: {error}")
    return "\n\n".join(parts)


def render_markdown(results: Sequence[DatasetResult], title: str = "Lead Copilot eval") -> str:
    """The Markdown report of several dataset runs."""
    engines = sorted({r.engine for r in results})
    out = [f"# {md_cell(title)}", "", f"Engine: {md_cell(', '.join(engines))}", ""]
    out.append(
        md_table(
            ["dataset", "kind", "n", "headline"],
            [
                [
                    r.dataset.name,
                    r.kind,
                    len(r.predictions),
                    ", ".join(f"{k} {v:.3f}" for k, v in r.headline.items()),
                ]
                for r in results
            ],
        )
    )
    for r in results:
        out += ["", f"## {md_cell(r.dataset.name)} ({r.kind})", ""]
        out += [f"File `{md_cell(r.dataset.path)}`, {len(r.predictions)} items.", ""]
        out += [md_table(headline_header(r), headline_rows(r)), ""]
        out += honesty_markdown(r)
        out += ["### By language", "", md_table(*language_table(r)), ""]
        for table_title, header, rows in detail_tables(r):
            out += [f"### {md_cell(table_title)}", "", md_table(header, rows), ""]
        if "calibration" in r.metrics:
            out += [f"![coverage–accuracy]({svg_name(r.dataset.name)})", ""]
        if r.latency_ms:
            lat = r.latency_ms
            out += [
                f"Latency per item (ms): mean {lat['mean']:.2f}, p50 {lat['p50']:.2f}, "
                f"p90 {lat['p90']:.2f}.",
                "",
            ]
        if r.failures:
            out += [f"### Failed items ({len(r.failures)})", ""]
            out += [md_table(["id", "error"], r.failures[:MAX_CASES]), ""]
        wrong = [c for c in r.cases if not c.correct]
        out += [f"### Wrong cases ({len(wrong)} of {len(r.cases)})", ""]
        if wrong:
            rows = [[c.id, c.lang, c.text, c.gold, c.pred, c.detail or ""] for c in wrong]
            out += [
                md_table(["id", "lang", "text", "gold", "predicted", "detail"], rows[:MAX_CASES])
            ]
            if len(wrong) > MAX_CASES:
                out += ["", f"… and {len(wrong) - MAX_CASES} more (see the predictions file)."]
        else:
            out += ["None."]
    return "\n".join(out).rstrip() + "\n"


def honesty_markdown(result: DatasetResult) -> list[str]:
    """The Markdown of :func:`honesty_lines`: a section, every line escaped."""
    lines = honesty_lines(result)
    if not lines:
        return []
    return ["### Who answered", "", *[f"- {md_cell(line)}" for line in lines], ""]


# --- comparisons -----------------------------------------------------------------


def _delta_rows(deltas: Sequence[MetricDelta]) -> list[list[Any]]:
    return [[d.metric, d.baseline, d.candidate, f"{d.delta:+.3f}"] for d in deltas]


def render_comparison_text(comparison: Comparison) -> str:
    """A terminal summary of a candidate against a baseline on one dataset."""
    c = comparison
    d = c.dataset
    header = ["metric", c.baseline.engine, c.candidate.engine, "delta"]
    parts = [
        f"== {d.name} ({d.kind}, {len(c.cases)} items): {c.candidate.engine} vs {c.baseline.engine}"
    ]
    parts.append(text_table(header, _delta_rows(c.metrics)))
    rows = [
        [lang, f"{delta.metric}", delta.baseline, delta.candidate, f"{delta.delta:+.3f}"]
        for lang, deltas in c.by_language.items()
        for delta in deltas
    ]
    parts.append("By language\n" + text_table(["lang", *header], rows))
    counts = c.counts()
    parts.append(", ".join(f"{n} {status}" for status, n in counts.items()))
    for result in (c.baseline, c.candidate):
        if honest := honesty_lines(result):
            parts.append("\n".join(honest))
    for status in ("broken", "fixed"):
        shown = [case for case in c.cases if case.status == status][:10]
        if shown:
            lines = [
                f"  {x.id} [{x.lang}] {x.text!r}: gold {x.gold}; {x.baseline} -> {x.candidate}"
                for x in shown
            ]
            parts.append(f"{status.capitalize()}:\n" + "\n".join(lines))
    return "\n\n".join(parts)


def render_comparison_markdown(
    comparisons: Sequence[Comparison],
    gate_lines: Sequence[str] = (),
    title: str = "Lead Copilot eval: comparison",
) -> str:
    """The Markdown report of a candidate against a baseline on several datasets."""
    if not comparisons:
        return f"# {md_cell(title)}\n"
    first = comparisons[0]
    base, cand = first.baseline.engine, first.candidate.engine
    out = [
        f"# {md_cell(title)}",
        "",
        f"Candidate `{md_cell(cand)}` against baseline `{md_cell(base)}`.",
        "",
    ]
    if gate_lines:
        out += ["## Gates", "", *[f"- {md_cell(line)}" for line in gate_lines], ""]
    rows = []
    for c in comparisons:
        counts = c.counts()
        for i, d in enumerate(c.metrics):
            name = c.dataset.name if i == 0 else ""
            moved = f"{counts['fixed']} fixed / {counts['broken']} broken" if i == 0 else ""
            rows.append([name, d.metric, d.baseline, d.candidate, f"{d.delta:+.3f}", moved])
    out += [md_table(["dataset", "metric", base, cand, "delta", "cases"], rows)]
    for c in comparisons:
        out += ["", f"## {md_cell(c.dataset.name)} ({c.dataset.kind})", ""]
        out += honesty_markdown(c.baseline) + honesty_markdown(c.candidate)
        rows = [
            [lang, d.metric, d.baseline, d.candidate, f"{d.delta:+.3f}"]
            for lang, deltas in c.by_language.items()
            for d in deltas
        ]
        out += ["### By language", "", md_table(["lang", "metric", base, cand, "delta"], rows), ""]
        for status in ("broken", "fixed", "changed"):
            shown = [x for x in c.cases if x.status == status]
            out += [f"### {status.capitalize()} ({len(shown)})", ""]
            if shown:
                table_rows = [
                    [x.id, x.lang, x.text, x.gold, x.baseline, x.candidate] for x in shown
                ]
                out += [
                    md_table(["id", "lang", "text", "gold", base, cand], table_rows[:MAX_CASES]),
                    "",
                ]
            else:
                out += ["None.", ""]
    return "\n".join(out).rstrip() + "\n"
