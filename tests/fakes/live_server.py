"""A real ``lead-copilot serve`` on a free 127.0.0.1 port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]  # tests/fakes/ -> the checkout


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(
    db: Path,
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    ready: Callable[[httpx.Response], bool] = lambda health: True,
    timeout: float = 60.0,
) -> Iterator[str]:
    """Start the service on ``db`` and yield its URL once ``/healthz`` answers 200
    and ``ready`` accepts that answer; stop it afterwards. The service sees none
    of this machine's ``LEAD_COPILOT_*`` / ``WHATSAPP_*`` variables, only ``env``;
    its output goes to ``log`` (shown if it fails to start)."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("LEAD_COPILOT_", "WHATSAPP_"))
    }
    clean.update(PYTHONPATH=str(REPO), **dict(env or {}))
    port = free_port()
    command = [sys.executable, "-m", "copilot", "serve", "--db", str(db), "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, *args], cwd=REPO, env=clean, stdout=out, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    health = httpx.get(f"{url}/healthz", timeout=2)
                    if health.status_code == 200 and ready(health):
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text(errors="replace")[-3000:])
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
