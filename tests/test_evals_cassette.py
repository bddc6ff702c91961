"""The shipped LLM cassette (``evals/cassettes/``) replayed through ``lead-copilot eval``:
no key, no network, gates pass, two replays agree, a missing request is a clear
error, and the recording script reproduces the shipped cassette."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from copilot.cli import main
from copilot.evals import record_cassette
from copilot.evals.datasets_io import load_dataset
from copilot.evals.runner import EngineSpec, run_dataset
from copilot.profile import load_profile

REPO = Path(__file__).resolve().parent.parent
CASSETTE = REPO / "evals" / "cassettes" / "analyze-v1-test-intents-handoff.jsonl"
SAMPLE = REPO / "evals" / "cassettes" / "test-sample"
GATES = REPO / "evals" / "gates-llm-replay.toml"
SPEC = f"llm:analyze@v1,model=gpt-4o-mini,cache=false,cassette={CASSETTE},cassette_mode=replay"


@pytest.fixture(autouse=True)
def _no_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replay must need no key and no endpoint (conftest also blocks the network)."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LEAD_COPILOT_MODEL"):
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def without_latency(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "latency_ms"} for row in rows]


def test_the_cassette_says_it_was_recorded_against_a_scripted_stand_in() -> None:
    meta = json.loads(CASSETTE.read_text(encoding="utf-8").splitlines()[0])
    assert meta["key"] == "_meta"
    assert meta["recorded_against"] == "scripted local stand-in"
    assert "NOT a real model" in meta["note"]
    assert meta["datasets"] == {"test-sample/intents": 20, "test-sample/handoff": 20}
    entries = CASSETTE.read_text(encoding="utf-8").splitlines()[1:]
    assert len(entries) == 40  # one answer per item: no re-asks were needed


def test_the_replay_passes_its_gates_without_key_or_network(tmp_path: Path) -> None:
    result = invoke(
        "eval",
        "--engine",
        SPEC,
        "--dataset",
        str(SAMPLE),
        "--gates",
        str(GATES),
        "--predictions",
        str(tmp_path / "pred"),
    )
    assert result.exit_code == 0, result.output
    # Six metric gates plus, per dataset, the llm run's default of no fallbacks.
    assert "Gates: 8 of 8 passed" in result.output
    assert "0 items fell back" in result.output
    rows = [
        json.loads(line)
        for name in ("test-sample-intents.jsonl", "test-sample-handoff.jsonl")
        for line in (tmp_path / "pred" / name).read_text().splitlines()
    ]
    assert len(rows) == 40
    assert not [row for row in rows if row.get("error")]
    assert {row["decided_by"] for row in rows} == {"model"}


def test_two_replays_give_identical_results() -> None:
    profile = load_profile()
    runs = []
    for _ in range(2):
        engine = EngineSpec.parse(SPEC).build()
        runs.append(
            [run_dataset(load_dataset(p), engine, profile) for p in sorted(SAMPLE.glob("*.jsonl"))]
        )
    first, second = runs
    for a, b in zip(first, second, strict=True):
        assert without_latency(a.predictions) == without_latency(b.predictions)
        assert a.metrics == b.metrics
        assert a.headline == b.headline
        assert [vars(c) for c in a.cases] == [vars(c) for c in b.cases]


def test_a_request_missing_from_the_cassette_is_a_clear_error_on_that_item(
    tmp_path: Path,
) -> None:
    lines = (SAMPLE / "intents.jsonl").read_text(encoding="utf-8").splitlines()
    changed = json.loads(lines[3])
    changed["text"] += " (edited after recording)"
    lines[3] = json.dumps(changed, ensure_ascii=False)
    data = tmp_path / "edited" / "intents.jsonl"
    data.parent.mkdir()
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    engine = EngineSpec.parse(SPEC).build()
    result = run_dataset(load_dataset(data), engine, load_profile())
    assert [item for item, _ in result.failures] == [changed["id"]]
    error = result.predictions[3]["error"]
    assert error.startswith("CassetteMissError: request ")
    assert "is not in cassette" in error and str(CASSETTE) in error
    assert "record it again" in error
    assert result.predictions[3]["intent"] is None  # scored wrong, never silently rules
    assert all("error" not in row for i, row in enumerate(result.predictions) if i != 3)


def test_a_cassette_that_holds_none_of_the_requests_stops_the_eval_with_exit_2() -> None:
    result = invoke("eval", "--engine", SPEC, "--dataset", "dev/intents", "--limit", "12")
    assert result.exit_code == 2
    assert "failed on 10 items in a row" in result.output
    assert "is not in cassette" in result.output


def test_a_missing_cassette_file_is_exit_2_with_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    spec = SPEC.replace(str(CASSETTE), str(missing))
    result = invoke("eval", "--engine", spec, "--dataset", str(SAMPLE))
    assert result.exit_code == 2
    assert f"cassette {missing} does not exist; record it first" in result.output


def test_the_recording_script_reproduces_the_shipped_cassette(tmp_path: Path) -> None:
    datasets = [load_dataset(p) for p in (SAMPLE / "intents.jsonl", SAMPLE / "handoff.jsonl")]
    out = tmp_path / "tape.jsonl"
    results = record_cassette.record(out, datasets)
    assert all(not r.failures for r in results)
    fresh = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    shipped = [json.loads(line) for line in CASSETTE.read_text(encoding="utf-8").splitlines()]
    assert fresh[0]["recorded_against"] == "scripted local stand-in"
    # Same requests (keys) and the same answers: the shipped file is what the script makes.
    assert {e["key"]: e for e in fresh[1:]} == {e["key"]: e for e in shipped[1:]}


def test_even_samples_mix_the_dataset() -> None:
    lines = [str(i) for i in range(159)]
    picked = record_cassette.sample_lines(lines, 20)
    assert len(picked) == 20 and picked[0] == "0" and int(picked[-1]) > 140
    assert record_cassette.sample_lines(lines[:5], 20) == lines[:5]
    gold = [json.loads(line)["gold"]["needed"] for line in (SAMPLE / "handoff.jsonl").open()]
    assert 0 < sum(gold) < len(gold)  # both verdicts are in the replayed sample
