"""Figure: "A rerun of 1,000 cases from the cache or a cassette completes in <= 5 s."

    python bench/bench_evals.py [--n 1000] [--repeat 3]

1. Builds ``--n`` unique eval cases: every intents and handoff line of the shipped
   dev and test sets, then variations of them (a suffix on the lead's text, new
   ids) until there are ``--n`` distinct requests, written as two JSONL datasets.
2. Records them once with the ``llm`` engine against the local fake
   OpenAI-compatible server (scripted answers derived from the rules engine, as
   ``evals/record_cassette.py`` does), into a cassette and, in a second pass, into
   a SQLite response cache.
3. Times, best of ``--repeat``:
   a. the cassette replay of all cases through the eval runner in-process
      (``EngineSpec`` + ``run_dataset``: build the engine, predict, score);
   b. the same as a ``lead-copilot eval --engine 'llm:...,cassette=...'`` process
      (wall clock, interpreter start and imports included);
   c. a cached rerun: ``lead-copilot eval --engine 'llm:...,cache=FILE'`` with the
      fake server still up, checking it received no request.

Target: each rerun of 1,000 cases <= 5 s. No network: the server is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from copilot.engines.llm import LLMEngine  # noqa: E402
from copilot.evals import record_cassette  # noqa: E402
from copilot.evals.datasets_io import Dataset, load_dataset, resolve_dataset_paths  # noqa: E402
from copilot.evals.runner import EngineSpec, run_dataset  # noqa: E402
from copilot.profile import load_profile  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402

MODEL = "gpt-4o-mini"
SUFFIXES = (" por favor", " gracias", " 🙏", " ?", " (urgente)", " obrigado", " thanks")
TARGET_S = 5.0


def build_cases(folder: Path, n: int) -> list[Dataset]:
    """``n`` distinct cases over ``folder/bench/{intents,handoff}.jsonl``."""
    rows: dict[str, list[dict]] = {"intents": [], "handoff": []}
    for kind in rows:
        for split in ("dev", "test"):
            for path in resolve_dataset_paths(f"{split}/{kind}"):
                rows[kind] += [json.loads(x) for x in path.read_text().splitlines() if x]
    # Equal conversations are equal requests whatever the kind or id: keep the first.
    seen: set[tuple[str, str]] = set()
    originals = []
    for kind in rows:
        for row in rows[kind]:
            key = (row["text"], json.dumps(row.get("context", []), sort_keys=True))
            if key not in seen:
                seen.add(key)
                originals.append((kind, row))
    out: dict[str, list[dict]] = {kind: [] for kind in rows}
    for kind, row in originals:
        out[kind].append(row)
    total, round_ = len(originals), 0
    while total < n:
        suffix = SUFFIXES[round_ % len(SUFFIXES)] * (round_ // len(SUFFIXES) + 1)
        for kind, row in originals:
            if total >= n:
                break
            variant = {**row, "id": f"{row['id']}-v{round_}", "text": row["text"] + suffix}
            key = (variant["text"], json.dumps(variant.get("context", []), sort_keys=True))
            if key in seen:
                continue
            seen.add(key)
            out[kind].append(variant)
            total += 1
        round_ += 1
    # The shipped sets alone may exceed n: trim the handoff set first.
    excess = sum(len(v) for v in out.values()) - n
    if excess > 0:
        out["handoff"] = out["handoff"][: len(out["handoff"]) - excess]
    datasets = []
    for kind, items in out.items():
        path = folder / "bench" / f"{kind}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in items) + "\n")
        datasets.append(load_dataset(path))
    return datasets


def fill_cache(cache: Path, datasets: list[Dataset], server: FakeOpenAI) -> None:
    """Populate the SQLite response cache with the scripted answers."""
    llm = LLMEngine(base_url=server.base_url, api_key="bench", model=MODEL, cache=cache)
    engine = record_cassette.ScriptedRecorder(llm, server)
    profile = load_profile()
    try:
        for dataset in datasets:
            run_dataset(dataset, engine, profile)
    finally:
        llm.close()


def replay_in_process(spec: str, datasets: list[Dataset]) -> tuple[float, int]:
    """Seconds to build the engine and run + score every dataset; wrong answers."""
    started = time.perf_counter()
    engine = EngineSpec.parse(spec).build()
    profile = load_profile()
    results = [run_dataset(d, engine, profile) for d in datasets]
    seconds = time.perf_counter() - started
    errors = sum(len(r.failures) for r in results)
    return seconds, errors


def cli(spec: str, folder: Path) -> float:
    """Wall seconds of a whole ``lead-copilot eval`` process (fails loudly on errors)."""
    command = [
        sys.executable,
        "-c",
        "import sys; from copilot.cli import main; sys.argv[0] = 'lead-copilot'; main()",
        "eval",
        "--engine",
        spec,
        "--dataset",
        str(folder),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LEAD_COPILOT_"))}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"lead-copilot eval failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    """Build, record, then time the reruns; prints the figures."""
    parser = argparse.ArgumentParser(description="Eval rerun figures (cassette and cache)")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        datasets = build_cases(folder, args.n)
        n = sum(len(d.entries) for d in datasets)
        sizes = ", ".join(f"{d.kind} {len(d.entries)}" for d in datasets)
        print(f"cases: {n} unique ({sizes})")

        tape = folder / "bench.jsonl"
        started = time.perf_counter()
        results = record_cassette.record(tape, datasets, model=MODEL)
        recorded = len(tape.read_text().splitlines()) - 1
        failed = sum(len(r.failures) for r in results)
        print(
            f"record via fake server: {time.perf_counter() - started:.2f} s, "
            f"{recorded} answers, {failed} errors"
        )
        assert recorded == n and failed == 0, "every case must be recorded exactly once"

        spec = f"llm:analyze@v1,model={MODEL},cache=false,cassette={tape},cassette_mode=replay"
        best, errors = min(replay_in_process(spec, datasets) for _ in range(args.repeat))
        print(f"cassette replay, in-process runner: {best:.2f} s for {n} cases ({errors} errors)")
        cli_best = min(cli(spec, folder / "bench") for _ in range(args.repeat))
        print(f"cassette replay, lead-copilot eval process: {cli_best:.2f} s")

        cache = folder / "cache.sqlite"
        with FakeOpenAI() as server:
            started = time.perf_counter()
            fill_cache(cache, datasets, server)
            print(f"fill the SQLite cache via fake server: {time.perf_counter() - started:.2f} s")
            before = len(server.requests)
            cached = (
                f"llm:analyze@v1,model={MODEL},cache={cache},"
                f"base_url={server.base_url},api_key=bench"
            )
            cache_best = min(cli(cached, folder / "bench") for _ in range(args.repeat))
            sent = len(server.requests) - before
            print(f"cached rerun, lead-copilot eval process: {cache_best:.2f} s ({sent} requests)")
            assert sent == 0, "a cached rerun must not call the model"

        worst = max(best, cli_best, cache_best)
        verdict = "ok" if worst <= TARGET_S else "MISSED"
        print(f"target: rerun of {n} cases <= {TARGET_S:.0f} s: {verdict} (slowest {worst:.2f} s)")


if __name__ == "__main__":
    main()
