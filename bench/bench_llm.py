"""Figures for the ``llm`` engine: prompt size and cost, throughput, cached rerun.

    python bench/bench_llm.py [--prompt analyze@v1] [--n 200] [--concurrency 16]
                              [--delay 0.3] [--repeat 3]

1. Prompt size of ``analyze@v1`` and ``analyze@v2`` on a 10-turn conversation,
   counted with tiktoken ``o200k_base`` (offline). The headline is the total
   input: the chat messages (static system part first, then the user part)
   plus the strict JSON schema the SDK sends in ``response_format``, which
   providers bill as input too. Then the output tokens of a typical answer and
   the cost per 1,000 analyses at the listed prices, without and with the
   static prefix served from the provider's prompt cache.
2. Against the fake OpenAI-compatible server answering in ``--delay`` seconds:
   ``--n`` distinct analyses with ``--prompt`` at ``--concurrency`` with the
   SDK's async client, compared with the ideal rate (concurrency / delay).
3. The same analyses again, served by the SQLite cache.

Targets: total input (messages + schema) <= 1,500 tokens; >= 80 % of the ideal
rate; cached rerun <= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openai.lib._parsing._completions import type_to_response_format_param

from copilot.engines.llm import LLMEngine
from copilot.llm.context import build_context
from copilot.llm.cost import DEFAULT_PRICES, cost_usd
from copilot.llm.provider import Usage
from copilot.llm.schema import AnalyzeV2, schema_for
from copilot.llm.tokens import count_message_tokens, count_tokens
from copilot.profile import load_profile
from copilot.prompts import load_prompt
from tests.fakes.llm_answers import analyze_answer, analyze_v2_answer, ten_turn_conversation

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("America/Bogota"))
PRICED = ("gpt-4o-mini", "gpt-4.1-mini")
PROMPTS = ("analyze@v1", "analyze@v2")


def typical_answer(schema: type = object) -> str:
    """What a model would answer for the 10-turn conversation, in ``schema``'s shape
    (``AnalyzeV2`` for ``analyze@v2``, else ``AnalyzeOutput``)."""
    reply = "Los sábados abrimos de 10:00 a 14:00 en Calle 85 # 15-20, Bogotá."
    if schema is AnalyzeV2:
        answer = analyze_v2_answer(
            intent="meeting_request",
            conf=0.86,
            also=["provides_info"],
            handoff="hot_lead",
            fields=[
                {"k": "need", "v": "sofá de 3 puestos"},
                {"k": "timeline", "v": "antes de fin de mes"},
                {"k": "next_step", "v": "visit"},
                {"k": "budget", "v": "como 2 palos"},
                {"k": "name", "v": "Laura"},
                {"k": "city", "v": "Chía"},
            ],
            bucket="this_month",
            slots={"question": None, "answer": reply, "need": None, "next_step": None},
        )
        return json.dumps(answer, ensure_ascii=False)
    answer = analyze_answer(
        intent={"label": "meeting_request", "confidence": 0.86, "also": ["provides_info"]},
        handoff={"needed": True, "reason": "hot_lead"},
    )
    answer["fields"].update(
        name="Laura",
        city="Chía",
        next_step="visit",
        timeline={"text": "antes de fin de mes", "bucket": "this_month"},
        budget={"amount": 2000000, "currency": "COP", "text": "como 2 palos"},
    )
    answer["reply"] = {
        "template": "business_answer",
        "slots": {"question": None, "answer": reply, "need": None, "next_step": None},
        "free_text": None,
    }
    return json.dumps(answer, ensure_ascii=False)


def prompt_figures(ref: str) -> None:
    """Section 1 for one prompt: tokens and cost."""
    profile = load_profile()
    prompt = load_prompt(ref)
    schema_model = schema_for(prompt.schema)
    context = build_context(prompt, ten_turn_conversation(NOW), profile, NOW)
    messages = count_message_tokens(context.messages)
    static = count_message_tokens(context.messages[:1]) - 3
    schema = type_to_response_format_param(schema_model)["json_schema"]
    schema_tokens = count_tokens(json.dumps(schema, separators=(",", ":")))
    total = messages + schema_tokens
    output = count_tokens(typical_answer(schema_model))
    print(f"prompt {prompt.version_id} on a 10-turn conversation (tiktoken o200k_base)")
    print(f"  TOTAL INPUT             {total:6d} tokens  (messages + schema; target <= 1500)")
    print(f"    messages              {messages:6d} tokens")
    print(f"      static system part  {static:6d} tokens  (first: the cacheable prefix)")
    print(f"      user part (turns)   {messages - static:6d} tokens")
    print(f"    strict schema (JSON)  {schema_tokens:6d} tokens  (sent in response_format)")
    print(f"  output (typical answer) {output:6d} tokens")
    for model in PRICED:
        price = DEFAULT_PRICES[model]
        full = cost_usd(Usage(total, 0, output), model, DEFAULT_PRICES) or 0
        # OpenAI caches prompt prefixes in 128-token steps from 1,024 tokens on; the
        # schema and the system message come before the turns.
        prefix = static + schema_tokens
        cached = (prefix // 128) * 128 if prefix >= 1024 else 0
        warm = cost_usd(Usage(total, cached, output), model, DEFAULT_PRICES) or 0
        print(
            f"  {model} (${price.input}/{price.cached_input}/{price.output} per 1M in/cached/out):"
            f" ${full * 1000:.4f} per 1,000 analyses, ${warm * 1000:.4f} with the prefix cached"
            f" ({cached} tokens)"
        )


def run(coroutine):
    """Run on uvloop when installed (as the service does under granian), else asyncio."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def distinct(conversation, number: int):
    """The conversation with a numbered last lead line, so no two requests are equal."""
    last = conversation.messages[-2]
    messages = list(conversation.messages)
    messages[-2] = last.model_copy(update={"text": f"{last.text} (pedido {number})"})
    return conversation.model_copy(update={"messages": messages})


async def run_batch(engine: LLMEngine, conversations: list, concurrency: int) -> float:
    """Seconds to analyse ``conversations`` with ``concurrency`` in flight."""
    profile = load_profile()
    gate = asyncio.Semaphore(concurrency)

    async def one(conversation):
        async with gate:
            return await engine.aunderstand(conversation, profile, NOW)

    started = time.perf_counter()
    results = await asyncio.gather(*(one(c) for c in conversations))
    elapsed = time.perf_counter() - started
    await engine.aclose()
    failed = [r for r in results if "fallback" in r.decided_by]
    if failed:
        raise SystemExit(f"{len(failed)} analyses fell back: {failed[0].decided_by['fallback']}")
    return elapsed


def throughput_figures(prompt: str, n: int, concurrency: int, delay: float, repeat: int) -> None:
    """Sections 2 and 3: concurrent analyses against the fake server, then cached.

    Each repetition uses new conversations and a new cache file, so every analysis
    of the first pass is a real call; the second pass reruns the same ones cached.
    """
    ideal = concurrency / delay
    print(f"{n} analyses with {prompt}, concurrency {concurrency},", end=" ")
    print(f"server delay {delay * 1000:.0f} ms,")
    print(f"  async client on {loop_name()}, fake server in its own process")
    answer = typical_answer(schema_for(load_prompt(prompt).schema))
    options = {"prompt": prompt, "base_url": None, "api_key": "bench"}
    with (
        tempfile.TemporaryDirectory() as tmp,
        fake_server(Path(tmp), delay, answer) as (url, count),
    ):
        options["base_url"] = url
        # Warm-up: first-use costs (imports, SDK client and type set-up) are not throughput.
        warm = [distinct(ten_turn_conversation(NOW, f"warm-{i}"), -1 - i) for i in range(16)]
        run(run_batch(LLMEngine(**options, cache=False), warm, concurrency))
        for attempt in range(repeat):
            batch = [
                distinct(ten_turn_conversation(NOW, f"bench-{attempt}-{i}"), attempt * n + i)
                for i in range(n)
            ]
            cache = Path(tmp) / f"bench-cache-{attempt}.sqlite"
            before = count()
            cpu = time.process_time()
            engine = LLMEngine(**options, cache=cache)
            elapsed = run(run_batch(engine, batch, concurrency))
            cpu = time.process_time() - cpu
            calls = count() - before
            rate = n / elapsed
            rerun = LLMEngine(**options, cache=cache)
            before = count()
            cached = run(run_batch(rerun, batch, concurrency))
            print(
                f"  run {attempt + 1}: {elapsed:.2f} s, {rate:.1f}/s = {rate / ideal:.0%} of"
                f" ideal {ideal:.1f}/s (target >= 80 %); {calls} calls;"
                f" client CPU {cpu / n * 1000:.1f} ms per analysis"
            )
            print(
                f"         cached rerun {cached:.3f} s (target <= 1 s);"
                f" {count() - before} new calls"
            )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  machine: {os.cpu_count()} CPUs, load average {load:.1f} at the end")


def loop_name() -> str:
    """Which event loop :func:`run` uses."""
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover
        return "asyncio"
    return "uvloop"


@contextmanager
def fake_server(tmp: Path, delay: float, content: str):
    """The fake server in its own process (as a remote server would be), so its work
    does not share this process's interpreter lock. Yields its URL and a request counter."""
    answer = tmp / "answer.json"
    answer.write_text(content, encoding="utf-8")
    log = tmp / "requests.log"
    command = [sys.executable, "-m", "tests.fakes.openai_server", "--delay", str(delay)]
    command += ["--content-file", str(answer), "--log", str(log)]
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        command, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        url = process.stdout.readline().strip()
        if not url:
            raise SystemExit("the fake server did not start")

        def count() -> int:
            return len(log.read_text().splitlines()) if log.exists() else 0

        yield url, count
    finally:
        process.stdin.close()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt", default="analyze@v1", help="prompt of sections 2 and 3")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for ref in PROMPTS:
        prompt_figures(ref)
    throughput_figures(args.prompt, args.n, args.concurrency, args.delay, args.repeat)


if __name__ == "__main__":
    main()
