"""``lead-copilot eval``: run an engine over labelled datasets and score it.

Exit codes: 0 done, 1 a quality gate failed, 2 bad input (dataset, profile,
engine, options).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from copilot.cli import db_option, main
from copilot.cli.analyze import fail, load_profile_or_fail
from copilot.engines.base import Engine, EngineError
from copilot.evals.accounting import spec_label
from copilot.evals.calibration import coverage_svg, svg_name
from copilot.evals.compare import Comparison, compare
from copilot.evals.datasets_io import (
    Dataset,
    DatasetError,
    load_dataset,
    load_predictions,
    resolve_dataset_paths,
    write_jsonl,
)
from copilot.evals.flywheel import export_cases
from copilot.evals.gates import GateCheck, GateError, check_gates, load_gates, summarize
from copilot.evals.html_report import render_html
from copilot.evals.report import (
    render_comparison_markdown,
    render_comparison_text,
    render_markdown,
    render_text,
)
from copilot.evals.runner import (
    DatasetResult,
    EngineSpec,
    EvalAbort,
    result_from_predictions,
    run_dataset,
)
from copilot.inbox.errors import InboxDatabaseError
from copilot.profile import BusinessProfile

#: Exit code when a quality gate fails (bad input exits 2).
EXIT_GATE_FAILED = 1


def load_datasets(specs: tuple[str, ...], limit: int | None) -> list[Dataset]:
    """Every dataset named by ``--dataset`` values, validated (exit 2 on problems)."""
    datasets = []
    for spec in specs:
        paths = resolve_dataset_paths(spec)
        if not paths:
            fail(f"{spec}: no *.jsonl datasets there")
        for path in paths:
            try:
                datasets.append(load_dataset(path).limited(limit))
            except DatasetError as exc:
                fail(f"bad dataset\n{exc}")
    return datasets


def prediction_paths(target: str, datasets: list[Dataset]) -> list[Path]:
    """Where each dataset's predictions go: ``target`` itself for one dataset; for
    several, ``target`` is a folder holding ``<split>-<kind>.jsonl`` files."""
    if len(datasets) == 1:
        return [Path(target)]
    folder = Path(target)
    if folder.suffix == ".jsonl":
        folder = folder.with_suffix("")
    paths: list[Path] = []
    for dataset in datasets:
        candidate = folder / (dataset.name.replace("/", "-") + ".jsonl")
        number = 2
        while candidate in paths:
            candidate = folder / f"{dataset.name.replace('/', '-')}-{number}.jsonl"
            number += 1
        paths.append(candidate)
    return paths


def saved_results(baseline: Path, datasets: list[Dataset]) -> list[DatasetResult]:
    """Score saved predictions as the baseline: a file for one dataset, or a folder
    written by ``--predictions`` (``<split>-<kind>.jsonl``) for several."""
    if baseline.is_dir():
        paths = [baseline / (d.name.replace("/", "-") + ".jsonl") for d in datasets]
    elif len(datasets) == 1:
        paths = [baseline]
    else:
        fail(f"{baseline}: several datasets need a folder of predictions as the baseline")
    results = []
    for dataset, path in zip(datasets, paths, strict=True):
        try:
            rows = load_predictions(path, dataset)
        except DatasetError as exc:
            fail(f"bad baseline predictions\n{exc}")
        label = spec_label(rows, path.stem) + " (saved)"
        results.append(result_from_predictions(dataset, rows, label))
    return results


@contextmanager
def progress(dataset: Dataset, runs: int) -> Iterator[Callable[[], None] | None]:
    """A progress bar on stderr when it is a terminal, else nothing."""
    total = len(dataset.entries) * runs
    if not sys.stderr.isatty() or total < 20:
        yield None
        return
    with click.progressbar(length=total, label=dataset.name, file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def run_spec(
    spec: EngineSpec,
    datasets: list[Dataset],
    profile: BusinessProfile,
    repeat: int,
    bootstrap: int,
) -> list[DatasetResult]:
    """Run one engine spec over every dataset (exit 2 when the engine is unusable)."""
    try:
        engine: Engine = spec.build()
    except EngineError as exc:
        fail(str(exc))
    results = []
    for dataset in datasets:
        with progress(dataset, repeat) as tick:
            try:
                results.append(
                    run_dataset(
                        dataset,
                        engine,
                        profile,
                        label=spec.label,
                        repeat=repeat,
                        bootstrap=bootstrap,
                        on_item=tick,
                    )
                )
            except (EngineError, EvalAbort) as exc:
                fail(str(exc))
    return results


def write_outputs(
    results: list[DatasetResult],
    predictions: str | None,
    report_dir: str | None,
    comparisons: list[Comparison] | None = None,
    checks: list[GateCheck] | None = None,
) -> None:
    """The predictions files and the report folder (Markdown, HTML, JSON), as asked."""
    if predictions:
        for result, path in zip(
            results, prediction_paths(predictions, [r.dataset for r in results]), strict=True
        ):
            write_jsonl(path, result.predictions)
            click.echo(f"predictions: {path}", err=True)
    if report_dir:
        folder = Path(report_dir)
        folder.mkdir(parents=True, exist_ok=True)
        gate_lines = [c.describe() for c in checks or []]
        markdown = (
            render_comparison_markdown(comparisons, gate_lines)
            if comparisons
            else render_markdown(results)
        )
        (folder / "report.md").write_text(markdown, encoding="utf-8")
        for result in results:
            if "calibration" in result.metrics:
                (folder / svg_name(result.dataset.name)).write_text(
                    coverage_svg(result.metrics["calibration"], result.dataset.name),
                    encoding="utf-8",
                )
        (folder / "report.html").write_text(
            render_html(results, comparisons or [], checks or []), encoding="utf-8"
        )
        summary: dict = {"results": [r.summary() for r in results]}
        if comparisons:
            summary["comparisons"] = [c.summary() for c in comparisons]
        if checks is not None:
            summary["gates"] = summarize(checks)
        (folder / "results.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        click.echo(f"report: {folder / 'report.md'}", err=True)


@main.group("eval", invoke_without_command=True)
@click.option(
    "--dataset",
    "dataset_specs",
    multiple=True,
    metavar="FILE",
    help="A JSONL dataset, a folder of them, or a shipped name (dev, dev/intents). Repeatable.",
)
@click.option(
    "--predictions", metavar="OUT.jsonl", help="Write predictions (a folder for several datasets)."
)
@click.option(
    "--engine",
    default="rules",
    show_default=True,
    help="Engine SPEC: NAME[:PROMPT@VERSION][,KEY=VALUE...].",
)
@click.option("--prompt", metavar="NAME@VERSION", help="Prompt for prompt-driven engines.")
@click.option(
    "--candidate",
    metavar="SPEC",
    help="Engine to evaluate (instead of --engine), e.g. llm:analyze@v2,model=gpt-4o-mini.",
)
@click.option(
    "--baseline",
    metavar="SPEC",
    help="Engine SPEC, or saved predictions (a file, or a --predictions folder), to compare "
    "against: metrics side by side and a per-case diff.",
)
@click.option(
    "--gates",
    "gates_path",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[FILE]",
    help="Check quality gates (default file: the shipped evals/gates.toml); exit 1 on failure.",
)
@click.option("--profile", "profile_path", metavar="FILE", help="Business profile TOML.")
@click.option("--report", "report_dir", metavar="DIR", help="Write DIR/report.md and results.json.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N items of each dataset.")
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run N times and report the spread of the headline metrics.",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(min=0),
    default=0,
    help="Resamples for 95% bootstrap confidence intervals (0: none; 1000 is typical).",
)
@click.pass_context
def eval_command(
    ctx: click.Context,
    dataset_specs: tuple[str, ...],
    predictions: str | None,
    engine: str,
    prompt: str | None,
    candidate: str | None,
    baseline: str | None,
    gates_path: str | None,
    profile_path: str | None,
    report_dir: str | None,
    limit: int | None,
    repeat: int,
    bootstrap: int,
) -> None:
    """Score an engine on labelled datasets (kind recognised by the keys of each file).

    \b
    Examples:
      lead-copilot eval --dataset evals/datasets/dev/intents.jsonl
      lead-copilot eval --dataset dev --report reports/dev --predictions out/
      lead-copilot eval --dataset test --candidate llm:analyze@v2 --baseline rules --gates
      lead-copilot eval check evals/datasets/dev/fields.jsonl
    """
    if ctx.invoked_subcommand is not None:
        return
    if not dataset_specs:
        fail("give at least one --dataset FILE (or a subcommand such as 'check')")
    datasets = load_datasets(dataset_specs, limit)
    profile = load_profile_or_fail(profile_path)
    rules = None
    if gates_path is not None:
        try:
            rules = load_gates(gates_path or None)
        except GateError as exc:
            fail(str(exc))
    saved = Path(baseline) if baseline and Path(baseline).exists() else None
    try:
        spec = EngineSpec.parse(candidate) if candidate else EngineSpec.parse(engine, prompt)
        base_spec = EngineSpec.parse(baseline) if baseline and saved is None else None
    except EngineError as exc:
        fail(str(exc))
    # Saved baseline predictions are checked before the (possibly slow) candidate runs.
    base_results = saved_results(saved, datasets) if saved else None
    results = run_spec(spec, datasets, profile, repeat, bootstrap)
    if base_spec is not None:
        base_results = run_spec(base_spec, datasets, profile, repeat, bootstrap)
    comparisons: list[Comparison] = []
    if base_results is not None:
        comparisons = [compare(b, c) for b, c in zip(base_results, results, strict=True)]
        for comparison in comparisons:
            click.echo(render_comparison_text(comparison))
            click.echo()
    else:
        for result in results:
            click.echo(render_text(result))
            click.echo()
    checks = check_gates(rules, results, comparisons) if rules is not None else None
    write_outputs(results, predictions, report_dir, comparisons, checks)
    if checks is not None:
        failed = [c for c in checks if not c.passed]
        click.echo(f"Gates: {len(checks) - len(failed)} of {len(checks)} passed")
        for check in checks:
            click.echo("  " + check.describe())
        if failed:
            click.echo(f"{len(failed)} gate(s) failed", err=True)
            sys.exit(EXIT_GATE_FAILED)


@eval_command.command("check")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
def check_command(files: tuple[str, ...]) -> None:
    """Validate datasets against the taxonomy; every problem with its line number."""
    bad = 0
    for spec in files:
        for path in resolve_dataset_paths(spec):
            try:
                dataset = load_dataset(path)
            except DatasetError as exc:
                bad += 1
                click.echo(str(exc), err=True)
                continue
            langs = sorted({item.lang for item in dataset.items})
            click.echo(
                f"{path}: ok, {len(dataset.entries)} {dataset.kind} items ({', '.join(langs)})"
            )
    if bad:
        raise click.exceptions.Exit(2)


def _moment(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 date or time for ``--since`` / ``--until`` (UTC when no offset)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: not an ISO 8601 date or time: {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@eval_command.command("export")
@db_option
@click.option("--out", "out_dir", required=True, metavar="DIR", help="Folder for the JSONL files.")
@click.option("--since", metavar="ISO", help="Only corrections and decisions from then on.")
@click.option("--until", metavar="ISO", help="Only corrections and decisions before then.")
def export_command(db: str, out_dir: str, since: str | None, until: str | None) -> None:
    """Export what agents fixed in the inbox as candidate eval cases.

    Corrected labels become intents / origins / handoff / fields lines; edited or
    rejected suggestions become templates lines and replies.jsonl records. Every
    line says "review": "pending": check each one, then move it into
    evals/datasets/. Lead text is exported as written (phones and emails included).

    \b
    Example:
      lead-copilot eval export --out flywheel/ --since 2026-11-01
    """
    start, end = _moment(since, "--since"), _moment(until, "--until")
    if not Path(db).is_file():
        fail(f"{db}: no such inbox database")
    try:
        export = export_cases(db, out_dir, since=start, until=end)
    except InboxDatabaseError as exc:
        fail(str(exc))
    for kind, count in export.counts().items():
        if count:
            click.echo(f"{Path(out_dir) / (kind + '.jsonl')}: {count} candidate cases")
    if not any(export.counts().values()):
        click.echo("nothing to export: no corrections, edits or rejections in that period")
