"""The runner and the CLI with the real rules engine on the shipped datasets.

Scores are not asserted (they move as the rules improve); the shape of what the
runner produces and the absence of failures are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from copilot.cli import main
from copilot.evals.datasets_io import load_dataset, resolve_dataset_paths
from copilot.models import Analysis
from copilot.taxonomy import HandoffReason, Intent, Origin, TemplateKey

REPO = Path(__file__).resolve().parent.parent
LIMIT = 15


def test_every_shipped_kind_runs_without_failures(tmp_path: Path) -> None:
    out = tmp_path / "pred"
    result = CliRunner().invoke(
        main,
        ["eval", "--dataset", "dev", "--limit", str(LIMIT), "--predictions", str(out),
         "--report", str(tmp_path / "report")],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "items failed" not in result.output
    checks = {
        "intents": lambda r: r["intent"] in set(Intent) and 0 <= r["confidence"] <= 1,
        "origins": lambda r: r["origin"] in set(Origin),
        "fields": lambda r: set(r["fields"]) >= {"need", "timeline_bucket", "budget", "city"},
        "handoff": lambda r: r["handoff"]["reason"] in {None, *HandoffReason},
        "templates": lambda r: r["template"] in set(TemplateKey),
        "replies": lambda r: r["template"] in set(TemplateKey) and r["text"].strip() != "",
    }
    for path in resolve_dataset_paths("dev"):
        dataset = load_dataset(path)
        rows = [json.loads(x) for x in (out / f"dev-{path.stem}.jsonl").read_text().splitlines()]
        assert [r["id"] for r in rows] == [i.id for i in dataset.items[:LIMIT]]
        assert all("error" not in r and r["engine"] == "rules" for r in rows)
        assert all(checks[dataset.kind](r) for r in rows), dataset.kind
    summary = json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))
    assert {r["kind"] for r in summary["results"]} == set(checks)


def test_make_run_command_analyses_the_demo_as_a_real_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "copilot", "analyze"]
    done = subprocess.run(
        [*command, "--conversation", "copilot/data/demo_conversation.json", "--json"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    analysis = Analysis.model_validate_json(done.stdout)
    assert analysis.message_id == "wamid.demo-5"
    assert analysis.origin.label == Origin.INSTAGRAM  # the demo profile's entry point
    assert analysis.reply is not None
    summary = subprocess.run(
        [*command, "--demo"], capture_output=True, text=True, cwd="/", env=env, timeout=60,
        check=False,
    )  # fmt: skip
    assert summary.returncode == 0, summary.stderr
    assert "Origin           instagram (entry_point)" in summary.stdout
