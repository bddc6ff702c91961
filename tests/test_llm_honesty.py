"""A fallback never passes as the model's answer: every analysis says who decided and
why (all reasons, in order), and the eval counts model answers, fallbacks, tokens
and cache hits, scores model-decided items apart and gates on fallbacks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from copilot.cli import main
from copilot.cli.analyze import render_summary
from copilot.engines.llm import LLMEngine
from copilot.evals.datasets_io import load_dataset
from copilot.evals.gates import check_gates, load_gates
from copilot.evals.runner import EvalAbort, run_dataset
from copilot.facade import Copilot
from copilot.models import Conversation, Message
from copilot.profile import load_profile
from tests.fakes.llm_answers import analyze_json
from tests.fakes.openai_server import FakeOpenAI, Reply

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "evals" / "cassettes" / "test-sample" / "intents.jsonl"
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LEAD_COPILOT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEAD_COPILOT_CACHE", str(tmp_path / "cache.sqlite"))


def engine(server: FakeOpenAI, **options: Any) -> LLMEngine:
    options.setdefault("cache", False)
    options.setdefault("retry_max_wait", 0.01)
    return LLMEngine(base_url=server.base_url, api_key="k", model="fake", **options)


def lead(text: str) -> Conversation:
    return Conversation(id="c1", messages=[Message(id="m1", text=text, timestamp=NOW)])


def spec(server: FakeOpenAI | str, **extra: Any) -> str:
    url = server if isinstance(server, str) else server.base_url
    options = {"model": "fake", "base_url": url, "cache": "false", "retry_attempts": 2}
    options |= {"retry_max_wait": 0.05, "timeout": 10, **extra}
    return "llm:analyze@v1," + ",".join(f"{k}={v}" for k, v in options.items())


# --- one analysis ---------------------------------------------------------------------


def test_every_reason_is_kept_in_order_and_the_summary_says_fallback() -> None:
    with FakeOpenAI(Reply.ok(analyze_json())) as server:
        server.script(Reply.invalid_json(), Reply.truncated())
        copilot = Copilot(engine=engine(server))
        analysis = copilot.analyze(lead("cuanto sale el sofá?"), now=NOW)
    assert analysis.decision == "fallback"
    assert [r.split(":")[0] for r in analysis.reasons] == ["invalid output", "truncated"]
    assert analysis.decided_by["fallback"].startswith("invalid output")
    assert "truncated" in analysis.decided_by["fallback"]
    summary = render_summary(analysis, lead("cuanto sale el sofá?"))
    assert "FALLBACK to rules" in summary
    assert "1. invalid output" in summary and "2. truncated" in summary


def test_a_reasked_answer_says_so_with_the_first_problem() -> None:
    with FakeOpenAI(Reply.ok(analyze_json())) as server:
        server.script(Reply.invalid_json())
        analysis = Copilot(engine=engine(server)).analyze(lead("cuanto sale?"), now=NOW)
    assert analysis.decision == "reask"
    assert len(analysis.reasons) == 1 and analysis.reasons[0].startswith("invalid output")
    assert "the model's answer, after a re-ask" in render_summary(analysis, lead("x"))


def test_the_rules_engine_claims_no_model_decision() -> None:
    analysis = Copilot(engine="rules").analyze(lead("cuanto sale?"), now=NOW)
    assert analysis.decision is None and analysis.reasons == []
    assert "Decided by" not in render_summary(analysis, lead("cuanto sale?"))


# --- the eval -------------------------------------------------------------------------


def test_predictions_and_accounting_tell_model_answers_from_fallbacks() -> None:
    dataset = load_dataset(SAMPLE).limited(6)
    with FakeOpenAI(Reply.ok(analyze_json(), usage=(100, 40, 20))) as server:
        # The third item gets a server error on both its attempts, then no more.
        server.script(Reply.ok(analyze_json(), usage=(100, 40, 20)))
        server.script(Reply.ok(analyze_json(), usage=(100, 40, 20)))
        server.script(Reply.failure(500), Reply.failure(500))
        result = run_dataset(dataset, engine(server, retry_attempts=2), load_profile())
    rows = result.predictions
    assert [r["decided_by"] for r in rows] == ["model", "model", "fallback", *["model"] * 3]
    fell = rows[2]
    assert fell["engine"].startswith("rules (fallback of ")
    assert fell["reasons"][0].startswith("transport failed after retries: HTTP 500")
    assert rows[0]["usage"]["input_tokens"] == 100 and rows[0]["usage"]["cached_tokens"] == 40
    a = result.accounting
    assert a is not None
    assert (a["asked"], a["model"], a["reask"], a["fallback"]) == (6, 5, 0, 1)
    assert a["fallback_reasons"] == {"transport failed after retries": 1}
    assert a["tokens"] == {"input_tokens": 500, "cached_tokens": 200, "output_tokens": 100}
    assert result.headline_model is not None and result.headline_model["n"] == 5
    checks = check_gates({}, [result])
    assert [(c.gate, c.value, c.passed) for c in checks] == [("max_fallbacks", 1, False)]


def test_the_fallback_gate_can_be_set_per_table(tmp_path: Path) -> None:
    gates = tmp_path / "gates.toml"
    gates.write_text('["test-sample/intents"]\nmax_fallbacks = 2\n', encoding="utf-8")
    dataset = load_dataset(SAMPLE).limited(3)
    with FakeOpenAI(Reply.ok(analyze_json())) as server:
        server.script(Reply.refused(), Reply.refused())  # two items, refusals are not re-asked
        result = run_dataset(dataset, engine(server), load_profile())
    [check] = check_gates(load_gates(gates), [result])
    assert (check.value, check.limit, check.passed) == (2, 2, True)


def test_consecutive_fallbacks_stop_the_run() -> None:
    dataset = load_dataset(SAMPLE)  # 20 items
    with FakeOpenAI(Reply.failure(500)) as server:
        built = engine(server, retry_attempts=1)
        with pytest.raises(EvalAbort, match=r"10 items in a row.*fell back.*HTTP 500"):
            run_dataset(dataset, built, load_profile())
        assert len(server.requests) == 10


def test_reports_show_who_answered(tmp_path: Path) -> None:
    with FakeOpenAI(Reply.ok(analyze_json())) as server:
        server.script(Reply.ok(analyze_json()), Reply.refused())  # refusals are not re-asked
        result = CliRunner().invoke(
            main,
            [
                "eval",
                "--dataset",
                str(SAMPLE),
                "--limit",
                "4",
                "--engine",
                spec(server),
                "--gates",
                "--report",
                str(tmp_path / "report"),
                "--predictions",
                str(tmp_path / "pred.jsonl"),
            ],
        )
    assert result.exit_code == 1, result.output
    assert "model answers used: 3 of 4 items (0 after a re-ask); fallbacks: 1" in result.output
    assert "fallback reasons: refusal ×1" in result.output
    assert "scores on the 3 model-decided items" in result.output
    assert "FAIL test-sample/intents: 1 items fell back" in result.output
    report = tmp_path / "report"
    assert "model answers used: 3 of 4 items" in (report / "report.md").read_text()
    assert "model answers used: 3 of 4 items" in (report / "report.html").read_text()
    summary = json.loads((report / "results.json").read_text())
    [only] = summary["results"]
    assert only["accounting"]["fallback"] == 1
    assert only["headline_model_decided"]["n"] == 3
    assert summary["gates"]["passed"] is False
    rows = [json.loads(x) for x in (tmp_path / "pred.jsonl").read_text().splitlines()]
    assert [r["decided_by"] for r in rows] == ["model", "fallback", "model", "model"]


# --- a real server killed mid-eval ----------------------------------------------------


def _wait_for(check: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


@pytest.mark.chaos("llm: a model server killed mid-eval makes the eval say so and fail its gate")
def test_a_server_killed_mid_eval_fails_the_gate(tmp_path: Path, chaos_report: Any) -> None:
    answer = tmp_path / "answer.json"
    answer.write_text(analyze_json(), encoding="utf-8")
    log = tmp_path / "requests.log"
    log.touch()
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    serve = ["--content-file", str(answer), "--log", str(log)]
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--delay", "0.5", *serve],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        run = ["--limit", "11", "--engine", spec(url, timeout=5), "--gates"]
        run += ["--predictions", str(tmp_path / "pred.jsonl")]
        evaluation = subprocess.Popen(
            [sys.executable, "-m", "copilot", "eval", "--dataset", str(SAMPLE), *run],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Fewer than ten items fall back, so the fail-fast does not cut the run short.
        _wait_for(lambda: len(log.read_text().splitlines()) >= 3)
        server.send_signal(signal.SIGKILL)
        out, err = evaluation.communicate(timeout=240)
    finally:
        server.kill()
        server.wait(timeout=30)
    rows = [json.loads(x) for x in (tmp_path / "pred.jsonl").read_text().splitlines()]
    used = sum(r["decided_by"] == "model" for r in rows)
    fell = [r for r in rows if r["decided_by"] == "fallback"]
    chaos_report(
        f"{used} model answers, {len(fell)} fallbacks of {len(rows)}; exit {evaluation.returncode}"
    )
    assert evaluation.returncode == 1, out + err
    assert 2 <= used <= 3 and len(fell) == 11 - used
    assert f"fallbacks: {len(fell)}" in out
    assert "transport failed after retries" in out
    assert f"FAIL test-sample/intents: {len(fell)} items fell back" in out
    assert all(r["engine"].startswith("rules (fallback of llm:") for r in fell)


def test_a_comparison_reports_who_answered_for_the_candidate(tmp_path: Path) -> None:
    with FakeOpenAI(Reply.ok(analyze_json())) as server:
        server.script(Reply.refused())
        result = CliRunner().invoke(
            main,
            [
                "eval",
                "--dataset",
                str(SAMPLE),
                "--limit",
                "3",
                "--candidate",
                spec(server),
                "--baseline",
                "rules",
                "--report",
                str(tmp_path / "report"),
            ],
        )
    assert result.exit_code == 0, result.output
    assert "model answers used: 2 of 3 items (0 after a re-ask); fallbacks: 1" in result.output
    for name in ("report.md", "report.html"):
        assert "fell back: it001: refusal" in (tmp_path / "report" / name).read_text()
    summary = json.loads((tmp_path / "report" / "results.json").read_text())
    assert summary["results"][0]["accounting"]["fallback"] == 1
