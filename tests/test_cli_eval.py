"""``lead-copilot eval`` through click's runner, with the fake engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from copilot.cli import main
from tests.test_evals_fakes import fake_pipeline  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("fake_pipeline")

INTENTS = [
    {"id": "a", "lang": "es", "text": "hola", "gold": {"intent": "greeting"}},
    {"id": "b", "lang": "es", "text": "cuanto vale?", "gold": {"intent": "pricing"}},
    {"id": "c", "lang": "pt", "text": "obrigado", "gold": {"intent": "greeting"}},
]
HANDOFF = [
    {"id": "h1", "lang": "es", "text": "un asesor porfa", "gold": {"needed": True, "reason": "human_request"}},
    {"id": "h2", "lang": "en", "text": "hola", "gold": {"needed": False}},
]  # fmt: skip


def write(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_eval_prints_metrics_and_writes_predictions_and_report(tmp_path: Path) -> None:
    data = write(tmp_path / "dev" / "intents.jsonl", INTENTS)
    out, report = tmp_path / "out" / "pred.jsonl", tmp_path / "report"
    result = invoke(
        "eval", "--dataset", str(data), "--engine", "fake",
        "--predictions", str(out), "--report", str(report),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "== dev/intents (intents, 3 items, engine fake)" in result.output
    assert "accuracy  0.667" in result.output
    assert "Confusion" in result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert [r["intent"] for r in rows] == ["greeting", "pricing", "other"]
    assert all(r["confidence"] == 0.9 and r["engine"] == "fake" for r in rows)
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert "| accuracy | 0.667 |" in markdown
    summary = json.loads((report / "results.json").read_text(encoding="utf-8"))
    (only,) = summary["results"]
    assert only["kind"] == "intents" and only["headline"]["accuracy"] == pytest.approx(2 / 3)


def test_several_datasets_write_one_predictions_file_each(tmp_path: Path) -> None:
    a = write(tmp_path / "dev" / "intents.jsonl", INTENTS)
    b = write(tmp_path / "dev" / "handoff.jsonl", HANDOFF)
    out = tmp_path / "preds"
    result = invoke(
        "eval", "--dataset", str(a), "--dataset", str(b), "--engine", "fake",
        "--predictions", str(out), "--limit", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["dev-handoff.jsonl", "dev-intents.jsonl"]
    handoff = json.loads((out / "dev-handoff.jsonl").read_text(encoding="utf-8"))
    assert handoff["handoff"] == {"needed": True, "reason": "human_request"}
    assert "(handoff, 1 items" in result.output


def test_a_folder_runs_every_dataset_in_it(tmp_path: Path) -> None:
    write(tmp_path / "intents.jsonl", INTENTS)
    write(tmp_path / "handoff.jsonl", HANDOFF)
    result = invoke("eval", "--dataset", str(tmp_path), "--engine", "fake")
    assert result.exit_code == 0, result.output
    assert "handoff" in result.output and "intents" in result.output
    assert "reason accuracy" in result.output


def test_bad_dataset_exits_2_with_the_line(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps(INTENTS[0]) + "\n\n{oops\n", encoding="utf-8")
    result = invoke("eval", "--dataset", str(data), "--engine", "fake")
    assert result.exit_code == 2
    assert f"{data}:3: not valid JSON" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "nowhere.jsonl"], "nowhere.jsonl: no such file"),
        (["--engine", "nope"], "unknown engine 'nope'"),
        (["--profile", "missing.toml"], "cannot read the profile"),
        (["--limit", "0"], "--limit"),
        ([], "give at least one --dataset"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    data = write(tmp_path / "intents.jsonl", INTENTS)
    base = [] if not args or args[0] == "--dataset" else ["--dataset", str(data)]
    result = invoke("eval", *base, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_engine_failing_on_everything_exits_2(tmp_path: Path) -> None:
    rows = [
        {"id": str(n), "lang": "es", "text": "boom", "gold": {"intent": "other"}} for n in range(3)
    ]
    result = invoke("eval", "--dataset", str(write(tmp_path / "i.jsonl", rows)), "--engine", "fake")
    assert result.exit_code == 2
    assert "failed on 3 items in a row" in result.output
    assert "the fake engine exploded" in result.output


def test_prompt_reaches_the_engine(tmp_path: Path) -> None:
    data = write(tmp_path / "intents.jsonl", INTENTS)
    result = invoke("eval", "--dataset", str(data), "--engine", "fake:triage@v7")
    assert result.exit_code == 0
    assert "engine fake:triage@v7" in result.output


def test_check_reports_ok_and_problems(tmp_path: Path) -> None:
    good = write(tmp_path / "good.jsonl", INTENTS)
    bad = write(tmp_path / "bad.jsonl", [INTENTS[0], {**INTENTS[1], "gold": {"intent": "price"}}])
    result = invoke("eval", "check", str(good))
    assert result.exit_code == 0
    assert "ok, 3 intents items (es, pt)" in result.output
    result = invoke("eval", "check", str(good), str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: gold.intent: Input should be" in result.output


def test_check_validates_the_shipped_datasets() -> None:
    result = invoke("eval", "check", "dev")
    assert result.exit_code == 0, result.output
    assert "intents items" in result.output


def test_repeat_and_bootstrap_columns(tmp_path: Path) -> None:
    data = write(tmp_path / "intents.jsonl", INTENTS)
    args = ["eval", "--dataset", str(data), "--engine", "fake", "--repeat", "2"]
    result = invoke(*args, "--bootstrap", "100")
    assert result.exit_code == 0, result.output
    assert "95% CI" in result.output and "spread over 2 runs" in result.output


def test_rules_engine_refuses_a_prompt(tmp_path: Path) -> None:
    data = write(tmp_path / "intents.jsonl", INTENTS)
    result = invoke("eval", "--dataset", str(data), "--engine", "rules", "--prompt", "analyze@v1")
    assert result.exit_code == 2
    assert "engine 'rules' does not accept prompt" in result.output
