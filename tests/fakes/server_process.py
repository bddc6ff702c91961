"""``lead-copilot serve`` as a process the test handles itself: its pid, its
granian workers, its own process group, any arguments and environment. For
tests that signal or inspect the server; :mod:`tests.fakes.live_server` serves
the rest."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.fakes.live_server import REPO, free_port


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the service's own variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEAD_COPILOT_", "WHATSAPP_"))}
    env.update(PYTHONPATH=str(REPO), **extra)
    return env


def serve_command(*args: str) -> list[str]:
    """The command line of ``lead-copilot serve`` with ``args``."""
    return [sys.executable, "-m", "copilot", "serve", *args]


@dataclass
class Server:
    """A running ``lead-copilot serve``."""

    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self, timeout: float = 5.0) -> int | None:
        """The status of ``/healthz``, or None when no answer came within ``timeout``."""
        try:
            return httpx.get(f"{self.url}/healthz", timeout=timeout).status_code
        except httpx.HTTPError:
            return None

    def wait_healthy(self, deadline_s: float = 90.0) -> float:
        """Seconds until ``/healthz`` answers 200 (bounded; fails with the log)."""
        start = time.monotonic()
        while time.monotonic() - start < deadline_s:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.tail()}")
            if self.health(timeout=2.0) == 200:
                return time.monotonic() - start
            time.sleep(0.1)
        raise AssertionError(f"no healthy answer in {deadline_s:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGTERM the server and wait (it stops its workers and background
        process); then SIGKILL whatever is left of its process group."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # its own group (start_new_session)
            os.killpg(self.proc.pid, signal.SIGKILL)


def start_server(tmp: Path, *args: str, env: dict[str, str] | None = None, **popen) -> Server:
    """Start ``lead-copilot serve --port <free> *args`` in its own process group."""
    port = free_port()
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            serve_command("--port", str(port), *args),
            cwd=popen.pop("cwd", tmp),
            env=env or clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **popen,
        )
    return Server(proc, port, log)


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from /proc)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    return inodes


def workers(server: Server) -> list[int]:
    """The granian worker processes: the server's children that hold its
    listening socket (the background process does not)."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(server.port)}
    found = []
    for child in children(server.proc.pid):
        try:
            links = {os.readlink(fd) for fd in Path(f"/proc/{child}/fd").iterdir()}
        except OSError:
            continue
        if links & wanted:
            found.append(child)
    return found


def wait_workers(server: Server, count: int, deadline_s: float = 60.0) -> list[int]:
    """The server's ``count`` workers, once they all started (the first one may
    answer before the others are up); fails past the deadline."""
    start = time.monotonic()
    while len(found := workers(server)) < count and time.monotonic() - start < deadline_s:
        time.sleep(0.1)
    assert len(found) == count, (found, server.tail())
    return found
