"""Comparisons, gates and the HTML report, with two behaviours of the fake engine."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from copilot.cli import main
from copilot.evals.compare import compare
from copilot.evals.datasets_io import parse_dataset
from copilot.evals.gates import GateError, check_gates, load_gates
from copilot.evals.html_report import render_html
from copilot.evals.report import render_comparison_markdown, render_comparison_text
from copilot.evals.runner import run_dataset
from copilot.profile import BusinessProfile
from tests.test_evals_fakes import FakeEngine, fake_pipeline  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("fake_pipeline")

ROWS = [
    {"id": "a", "lang": "es", "text": "hola", "gold": {"intent": "greeting"}},
    {"id": "b", "lang": "es", "text": "hola, cuanto vale?", "gold": {"intent": "pricing"}},
    {"id": "c", "lang": "pt", "text": "hola <b>amigo</b>", "gold": {"intent": "other"}},
    {"id": "d", "lang": "pt", "text": "ok", "gold": {"intent": "spam"}},
]


def _runs(profile: BusinessProfile):
    data = parse_dataset("\n".join(json.dumps(r) for r in ROWS), "x/intents.jsonl")
    base = run_dataset(data, FakeEngine(), profile, label="fake")
    cand = run_dataset(data, FakeEngine("nogreeting"), profile, label="fake:nogreeting")
    return base, cand


def test_compare_deltas_and_case_statuses(profile: BusinessProfile) -> None:
    base, cand = _runs(profile)
    comparison = compare(base, cand)
    # baseline: greeting, pricing, greeting, other -> a, b right (2/4)
    # candidate: other, pricing, other, other -> b, c right (2/4)
    accuracy = comparison.metrics[0]
    assert (accuracy.metric, accuracy.baseline, accuracy.candidate, accuracy.delta) == (
        "accuracy", 0.5, 0.5, 0.0,
    )  # fmt: skip
    assert [c.status for c in comparison.cases] == ["broken", "unchanged", "fixed", "unchanged"]
    assert comparison.counts() == {"fixed": 1, "broken": 1, "changed": 0, "unchanged": 2}
    pt = {d.metric: d for d in comparison.by_language["pt"]}
    assert (pt["accuracy"].baseline, pt["accuracy"].candidate) == (0.0, 0.5)
    text = render_comparison_text(comparison)
    assert "fake:nogreeting vs fake" in text and "1 fixed, 1 broken" in text
    markdown = render_comparison_markdown([comparison], ["FAIL x"])
    assert "### Broken (1)" in markdown and "- FAIL x" in markdown
    summary = comparison.summary()
    assert summary["counts"]["fixed"] == 1 and len(summary["changed_cases"]) == 2


def test_gates_min_drop_and_broken(profile: BusinessProfile, tmp_path: Path) -> None:
    base, cand = _runs(profile)
    gates = tmp_path / "gates.toml"
    gates.write_text(
        "[intents]\nmin = { accuracy = 0.5, macro_f1 = 0.9 }\n"
        "max_drop = { accuracy = 0.0 }\nmax_broken = 0\n",
        encoding="utf-8",
    )
    checks = check_gates(load_gates(gates), [cand], [compare(base, cand)])
    verdicts = {(c.gate, c.metric): c.passed for c in checks}
    assert verdicts == {
        ("min", "accuracy"): True,
        ("min", "macro_f1"): False,
        ("max_drop", "accuracy"): True,
        ("max_broken", "broken"): False,
    }
    failed = [c.describe() for c in checks if not c.passed]
    assert failed[1] == "FAIL x/intents: 1 cases broken (max 0)"
    # a dataset-name table wins over the kind table
    gates.write_text(
        '[intents]\nmin = { accuracy = 0.9 }\n["x/intents"]\nmin = { accuracy = 0.1 }\n',
        encoding="utf-8",
    )
    assert all(c.passed for c in check_gates(load_gates(gates), [cand]))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[intent]\nmin = { accuracy = 1 }", "not a dataset kind"),
        ("[intents]\nmin = { f1 = 1 }", "unknown metric 'f1'"),
        ("[intents]\nmax_broken = -1", "max_broken"),
        ("[intents]\nmin = ", "not valid TOML"),
    ],
)
def test_bad_gates_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "g.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GateError, match=message):
        load_gates(path)


def test_shipped_gates_file_is_valid() -> None:
    rules = load_gates()
    assert set(rules) == {"intents", "origins", "fields", "handoff", "templates", "replies"}


def test_html_report_is_self_contained_and_escaped(profile: BusinessProfile) -> None:
    base, cand = _runs(profile)
    page = render_html([cand], [compare(base, cand)])
    assert page.startswith("<!doctype html>")
    assert "<b>amigo</b>" not in page and "&lt;b&gt;amigo&lt;/b&gt;" in page
    assert not re.search(r"<(script|link|img)\b", page)
    assert not re.search(r"(src|href)=", page)
    assert 'class="heat"' in page and "rgba(5, 150, 105" in page
    assert "1 fixed" in page and "1 broken" in page


def test_cli_compare_with_gates_writes_reports_and_fails(tmp_path: Path) -> None:
    data = tmp_path / "dev" / "intents.jsonl"
    data.parent.mkdir()
    data.write_text("\n".join(json.dumps(r) for r in ROWS), encoding="utf-8")
    gates = tmp_path / "gates.toml"
    gates.write_text("[intents]\nmax_broken = 0\n", encoding="utf-8")
    report = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        ["eval", "--dataset", str(data), "--candidate", "fake:nogreeting", "--baseline", "fake",
         "--gates", str(gates), "--report", str(report)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "FAIL dev/intents: 1 cases broken (max 0)" in result.output
    assert "Gates: 0 of 1 passed" in result.output
    summary = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert summary["gates"]["passed"] is False
    assert summary["comparisons"][0]["counts"]["broken"] == 1
    assert "Broken (1)" in (report / "report.md").read_text(encoding="utf-8")
    assert (report / "report.html").read_text(encoding="utf-8").count("<table") >= 4


def test_cli_gates_pass_and_shipped_default(tmp_path: Path) -> None:
    data = tmp_path / "intents.jsonl"
    data.write_text(json.dumps(ROWS[0]), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["eval", "--dataset", str(data), "--engine", "fake", "--gates"]
    )
    assert result.exit_code == 0, result.output
    assert "Gates: 2 of 2 passed" in result.output
    result = CliRunner().invoke(
        main, ["eval", "--dataset", str(data), "--gates", str(tmp_path / "none.toml")]
    )
    assert result.exit_code == 2 and "no such file" in result.output


def test_saved_predictions_as_the_baseline(tmp_path: Path) -> None:
    data = tmp_path / "dev" / "intents.jsonl"
    data.parent.mkdir()
    data.write_text("\n".join(json.dumps(r) for r in ROWS), encoding="utf-8")
    saved = tmp_path / "saved.jsonl"
    runner = CliRunner()
    first = runner.invoke(
        main, ["eval", "--dataset", str(data), "--engine", "fake", "--predictions", str(saved)]
    )
    assert first.exit_code == 0, first.output
    result = runner.invoke(
        main, ["eval", "--dataset", str(data), "--candidate", "fake:nogreeting", "--baseline", str(saved)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fake:nogreeting vs fake (saved)" in result.output
    assert "1 fixed, 1 broken" in result.output
    # predictions that do not belong to the dataset are refused with the line
    lines = saved.read_text(encoding="utf-8").splitlines()
    saved.write_text("\n".join([lines[0], lines[2]]), encoding="utf-8")
    result = runner.invoke(main, ["eval", "--dataset", str(data), "--baseline", str(saved)])
    assert result.exit_code == 2
    assert f"{saved}:2: id 'c' where the dataset has 'b'" in result.output
