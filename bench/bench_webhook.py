"""Webhook ingest benchmark: signed WhatsApp deliveries through the real server.

    python bench/bench_webhook.py                  # 10 s per server, 32 connections, 2 workers
    python bench/bench_webhook.py --seconds 20 --workers 2 --concurrency 32 --keep /tmp

Starts ``lead-copilot serve`` (granian, the real app on a fresh SQLite file) and,
in the same run and the same way, a bare Litestar app whose endpoint only reads
the body and answers 200. Each gets the same load: ``--concurrency`` keep-alive
connections from ``wrk`` (apt install wrk) on 127.0.0.1, one distinct
pre-signed text delivery per request (a Lua script walks the list), for a bounded
time. (An asyncio httpx client could not load the bare endpoint past ~250 req/s
here: the generator, not the server, was the limit.) Prints deliveries/s and p50/p99 latency for
both, the ratio, and the number of deliveries stored (counted in the database
after the run) and processed into inbox messages by the background runner.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from copilot.integrations.whatsapp import compute_signature  # noqa: E402

SECRET = "bench-app-secret"
LOG = Path(tempfile.gettempdir()) / "bench_webhook.log"

try:  # the bare app granian imports as bench.bench_webhook:bare_app
    from litestar import Litestar, Request, post

    @post("/webhooks/whatsapp", status_code=200)
    async def _bare(request: Request) -> dict[str, str]:
        await request.body()
        return {"status": "received"}

    def bare_app() -> Litestar:
        """A Litestar app with one endpoint that reads the body and answers 200."""
        return Litestar(route_handlers=[_bare])
except ImportError:  # pragma: no cover
    pass


def delivery(i: int) -> bytes:
    """One inbound text delivery with a unique message id and phone number."""
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "contacts": [
                                {"profile": {"name": f"Lead {i}"}, "wa_id": f"57300{i:07d}"}
                            ],
                            "messages": [
                                {
                                    "from": f"57300{i:07d}",
                                    "id": f"wamid.BENCH{i:09d}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": "hola, cuanto cuesta el sofa de 3 puestos?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


def start(cmd: list[str], env: dict[str, str], ready_url: str) -> subprocess.Popen:
    log = open(LOG, "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(ready_url)
    except RuntimeError:
        proc.kill()
        raise RuntimeError(f"{cmd[2]} did not start; see {LOG}") from None
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


WRK_SCRIPT = r"""
-- Each thread sends its own slice of pre-signed distinct deliveries, in turn.
local bodies, sigs, threads = {}, {}, {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local sig, body = line:match("^(%S+)\t(.*)$")
    table.insert(sigs, sig)
    table.insert(bodies, body)
  end
  step = tonumber(args[2])
  counter = tid
end

function request()
  local i = (counter % #bodies) + 1
  counter = counter + step
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = sigs[i],
  }, bodies[i])
end

function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f %.3f\n",
    summary.requests, summary.duration, summary.errors.status + summary.errors.connect
      + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def load(url: str, bodies_file: Path, threads: int, concurrency: int, seconds: float) -> dict:
    """Run wrk for ``seconds`` over ``concurrency`` keep-alive connections."""
    script = bodies_file.with_suffix(".lua")
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
            "--",
            str(bodies_file),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = next(line for line in out.splitlines() if line.startswith("RESULT")).split()
    sent, duration_us, errors = int(fields[1]), int(fields[2]), int(fields[3])
    return {
        "sent": sent,
        "elapsed": duration_us / 1e6,
        "rate": sent / (duration_us / 1e6),
        "p50_ms": float(fields[4]),
        "p99_ms": float(fields[5]),
        "max_ms": float(fields[6]),
        "errors": errors,
    }


class _nullcontext:
    def __init__(self, value: str) -> None:
        self.value = value

    def __enter__(self) -> str:
        return self.value

    def __exit__(self, *exc: object) -> None:
        return None


def _check(*paths: Path) -> str:
    results = []
    for path in paths:
        with sqlite3.connect(path, timeout=30) as conn:
            results.append(conn.execute("PRAGMA quick_check").fetchone()[0])
    return "ok" if all(r == "ok" for r in results) else ", ".join(results)


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(sql).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per server")
    parser.add_argument("--bodies", type=int, default=40000, help="distinct deliveries")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", default=None, help="folder to keep the databases in")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    args = parser.parse_args()
    python = sys.executable
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEAD_COPILOT_", "WHATSAPP_"))}
    env["PYTHONPATH"] = str(ROOT)
    print(
        f"wrk: {args.seconds:g} s per server, {args.concurrency} connections, "
        f"{args.workers} granian worker(s), {os.cpu_count()} CPU(s)"
    )
    tmp = tempfile.mkdtemp(dir=args.keep) if args.keep else None
    with tempfile.TemporaryDirectory() if tmp is None else _nullcontext(tmp) as tmp:
        db = Path(tmp) / "bench.db"
        bodies = Path(tmp) / "bodies.tsv"
        with bodies.open("w") as fh:
            for i in range(args.bodies):
                body = delivery(i)
                fh.write(f"{compute_signature(body, SECRET)}\t{body.decode()}\n")
        # 1. The bare Litestar endpoint, served the same way.
        port = free_port()
        bare = start(
            [
                python,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--no-log",
                "bench.bench_webhook:bare_app",
            ],
            env,
            f"http://127.0.0.1:{port}/",
        )
        try:
            floor = load(
                f"http://127.0.0.1:{port}/webhooks/whatsapp",
                bodies,
                args.threads,
                args.concurrency,
                args.seconds,
            )
        finally:
            stop(bare)
        # 2. The real service.
        port = free_port()
        service_env = {**env, "WHATSAPP_APP_SECRET": SECRET, "WHATSAPP_VERIFY_TOKEN": "bench"}
        server = start(
            [
                python,
                "-m",
                "copilot",
                "serve",
                "--db",
                str(db),
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            service_env,
            f"http://127.0.0.1:{port}/healthz",
        )
        try:
            real = load(
                f"http://127.0.0.1:{port}/webhooks/whatsapp",
                bodies,
                args.threads,
                args.concurrency,
                args.seconds,
            )
            queue = db.with_name("bench.webhooks.db")
            stored = count(queue, "SELECT COUNT(*) FROM webhook_deliveries")
            t0 = time.perf_counter()
            pending = -1
            while time.perf_counter() - t0 < args.drain_timeout:
                pending = count(queue, "SELECT COUNT(*) FROM webhook_deliveries") - count(
                    db, "SELECT COUNT(*) FROM webhook_progress"
                )
                if pending == 0:
                    break
                time.sleep(0.25)
            drain = time.perf_counter() - t0
            distinct = count(
                queue,
                "SELECT COUNT(DISTINCT json_extract(CAST(body AS TEXT),"
                " '$.entry[0].changes[0].value.messages[0].id')) FROM webhook_deliveries",
            )
            messages = count(db, "SELECT COUNT(*) FROM messages WHERE wa_id LIKE 'wamid.BENCH%'")
            analysed = count(db, "SELECT COUNT(*) FROM messages WHERE analysis_state = 'done'")
            integrity = _check(db, queue)
        finally:
            stop(server)

    def line(name: str, r: dict) -> str:
        return (
            f"{name:<28} {r['rate']:>8.0f} req/s   p50 {r['p50_ms']:6.1f} ms   "
            f"p99 {r['p99_ms']:6.1f} ms   max {r['max_ms']:6.1f} ms   sent {r['sent']}"
            f"   non-2xx/errors {r['errors']}"
        )

    print(line("bare Litestar endpoint", floor))
    print(line("POST /webhooks/whatsapp", real))
    print(f"ratio service / bare: {real['rate'] / floor['rate']:.2f} (throughput)")
    # wrk counts the requests answered within the run; the few still in flight
    # when it stops are stored too, so stored >= answered means none was lost.
    lost = max(0, real["sent"] - stored)
    print(
        f"stored deliveries: {stored} (answered 200 within the run: {real['sent']}):"
        f" {'every answered delivery stored' if not lost else f'MISSING {lost}'}"
    )
    print(
        f"background: {messages} inbox messages (of {distinct} distinct message ids delivered), {analysed} analysed, "
        f"{pending} deliveries still pending after {drain:.1f} s of draining"
    )
    print(f"database integrity after the run: {integrity}")
    if args.keep:
        print(f"databases kept in {tmp}")


if __name__ == "__main__":
    main()
