"""Benchmark of the ``semantic`` engine beside the rules-only engine, on one core.

Prints p50 / p99 latency of ``Copilot.analyze`` per message for ``rules`` and
``semantic``, measured in the same run over the same messages, and the process's
resident memory after each engine is loaded. Every message is new (a lead line
of the shipped dev and test sets with a random tail), so no cache answers it.

Run: ``python bench/bench_semantic.py [--messages N]`` (needs the ``semantic``
extra). Targets: semantic p50 <= 15 ms, p99 <= 40 ms; rules <= 1 ms;
RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

try:
    import copilot  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot import Copilot
from copilot.evals.datasets_io import resolve_dataset_paths
from copilot.models import Conversation, Message
from copilot.profile import load_profile

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TAILS = ("por favor", "gracias", "obrigado", "thanks", "ok", "🙏", "urgente", "hoy", "amanhã")


def rss_mb() -> float:
    """Current resident set size of this process, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def messages(n: int, seed: int = 7) -> list[str]:
    """``n`` distinct lead lines built from the shipped dev and test lines."""
    lines = []
    for split in ("dev", "test"):
        for kind in ("intents", "handoff"):
            for path in resolve_dataset_paths(f"{split}/{kind}"):
                lines += [json.loads(x)["text"] for x in path.read_text().splitlines() if x]
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        text = f"{rng.choice(lines)} {rng.choice(TAILS)} {rng.randrange(10**6)}"
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def timed(copilot: Copilot, texts: list[str]) -> list[float]:
    """Milliseconds per analysis of each text, as a one-message conversation."""
    out = []
    for i, text in enumerate(texts):
        conversation = Conversation(messages=[Message(id=f"m{i}", text=text, timestamp=NOW)])
        start = time.perf_counter()
        copilot.analyze(conversation, now=NOW)
        out.append((time.perf_counter() - start) * 1000)
    return out


def line(name: str, ms: list[float], rss: float) -> str:
    """One result row."""
    p99 = statistics.quantiles(ms, n=100)[98]
    return f"{name:9} p50 {statistics.median(ms):7.2f} ms  p99 {p99:7.2f} ms  RSS {rss:6.0f} MB"


def main() -> None:
    """Run the benchmark and print one row per engine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    profile = load_profile()
    texts = messages(args.messages * 2 + 20)
    rules = Copilot(profile, engine="rules")
    timed(rules, texts[:10])  # warm up imports and lexicons
    rules_ms = timed(rules, texts[20 : 20 + args.messages])
    rules_rss = rss_mb()
    semantic = Copilot(profile, engine="semantic")
    timed(semantic, texts[10:20])
    semantic_ms = timed(semantic, texts[20 + args.messages :])
    print(f"{args.messages} new messages per engine, one core")
    print(line("rules", rules_ms, rules_rss))
    print(line("semantic", semantic_ms, rss_mb()))


if __name__ == "__main__":
    main()
