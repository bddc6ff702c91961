"""``lead-copilot serve`` as a real process on 127.0.0.1: a killed worker comes
back, a thousand idle connections do not lock anyone out, a taken port is a
clear error, and the API docs page needs no network."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes.server_process import clean_env, serve_command, start_server, wait_workers, workers

CHROMIUM = "/usr/bin/chromium"


@pytest.mark.chaos("fault 6: a SIGKILLed worker is respawned and /healthz answers again")
@pytest.mark.parametrize("count", [1, 2])
def test_a_killed_worker_is_respawned(tmp_path: Path, count: int, chaos_report) -> None:
    server = start_server(tmp_path, "--db", str(tmp_path / "x.db"), "--workers", str(count))
    try:
        server.wait_healthy()
        before = wait_workers(server, count)
        victim = before[0]
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        recovered = None
        while time.monotonic() - killed_at < 60:
            now = workers(server)
            if victim not in now and len(now) == count and server.health(timeout=2.0) == 200:
                recovered = time.monotonic() - killed_at
                break
            assert server.proc.poll() is None, f"the server stopped:\n{server.tail()}"
            time.sleep(0.1)
        assert recovered is not None, f"no worker came back within 60 s:\n{server.tail()}"
        assert server.proc.poll() is None
        chaos_report(f"{count} worker(s): back and healthy {recovered:.1f} s after SIGKILL")
    finally:
        server.stop()


@pytest.mark.chaos(
    "fault 7: 1,000 idle connections held 30 s; /healthz keeps answering; idle and slow closed"
)
def test_idle_connections_do_not_lock_the_service_out(tmp_path: Path, chaos_report) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1500:  # this process holds the thousand client sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]

    def like_a_login_shell() -> None:  # the usual soft limit of 1,024 open files
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))

    server = start_server(
        tmp_path,
        "--db",
        str(tmp_path / "x.db"),
        "--workers",
        "2",
        preexec_fn=like_a_login_shell,
    )
    idle: list[socket.socket] = []
    slow: list[socket.socket] = []
    try:
        server.wait_healthy()
        limits = [_open_files_limit(pid) for pid in wait_workers(server, 2)]
        for _ in range(1000):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        for _ in range(50):  # a request head begun and never finished
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(sock)
        latencies: list[float] = []
        dropped = 0  # idle connections the server closed (and the test opened again)
        held_since = time.monotonic()
        while time.monotonic() - held_since < 30 and len(latencies) < 30:
            for i, sock in enumerate(idle):  # keep a thousand held, as a client bent on it would
                if _closed_by_server(sock):
                    sock.close()
                    idle[i] = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                    dropped += 1
            asked = time.monotonic()
            status = server.health(timeout=10.0)
            latency = time.monotonic() - asked
            assert status == 200, f"/healthz gave {status} after {latency:.1f} s with 1,000 idle"
            assert latency < 5.0, f"/healthz took {latency:.1f} s with 1,000 idle connections"
            latencies.append(latency)
            time.sleep(max(0.0, 1.0 - latency))
        assert len(latencies) >= 10
        closed = sum(_closed_by_server(sock) for sock in slow)
        assert closed == len(slow), f"{closed} of {len(slow)} slow clients closed after 30 s"
        assert dropped >= 1000, f"the server closed only {dropped} idle connections in 30 s"
        chaos_report(
            f"{len(latencies)} checks over {time.monotonic() - held_since:.0f} s with 1,000 idle"
            f" held: slowest {max(latencies) * 1000:.0f} ms; server closed {dropped} idle and"
            f" {closed} of {len(slow)} slow clients; workers' open-files limit {limits}"
            " (started at 1024)"
        )
    finally:
        for sock in idle + slow:
            sock.close()
        server.stop()


def _open_files_limit(pid: int) -> int:
    """The soft limit of open files of process ``pid``."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError(f"no open-files limit for {pid}")


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closed ``sock`` (end of stream or reset), without waiting."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    first = start_server(tmp_path, "--db", str(tmp_path / "first.db"))
    try:
        first.wait_healthy()
        second_db = tmp_path / "second.db"
        second = subprocess.run(
            serve_command("--port", str(first.port), "--db", str(second_db)),
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
        assert f"cannot listen on 127.0.0.1:{first.port}" in second.stderr, second.stderr
        assert not second_db.exists()  # it stopped before touching anything
        assert first.health() == 200
    finally:
        first.stop()


def test_serve_and_the_commands_share_one_database(tmp_path: Path) -> None:
    """``serve`` without ``--db`` uses LEAD_COPILOT_DB; an agent added with the
    same variable signs in to that server."""
    db = tmp_path / "shared.db"
    env = clean_env(LEAD_COPILOT_DB=str(db))
    server = start_server(tmp_path, env=env)
    try:
        server.wait_healthy()
        assert db.exists() and not (tmp_path / "lead-copilot.db").exists()
        added = subprocess.run(
            [*serve_command()[:-1], "agents", "add", "Ana"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        token = added.stdout.strip()
        r = httpx.get(
            f"{server.url}/api/conversations", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200, r.text
    finally:
        server.stop()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is absent")
def test_the_api_docs_page_works_offline(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    server = start_server(tmp_path, "--db", str(tmp_path / "x.db"))
    blocked: list[str] = []
    try:
        server.wait_healthy()
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page()

                def only_loopback(route) -> None:
                    host = route.request.url.split("/")[2].rsplit(":", 1)[0]
                    if host in ("127.0.0.1", "localhost", "[::1]"):
                        route.continue_()
                    else:
                        blocked.append(route.request.url)
                        route.abort()

                page.route("**/*", only_loopback)
                page.goto(f"{server.url}/schema")
                page.wait_for_selector(".opblock-summary-path", timeout=30_000)
                paths = page.locator(".opblock-summary-path").all_inner_texts()
            finally:
                browser.close()
        assert "/api/analyze" in [p.strip().replace("\u200b", "") for p in paths]
        assert blocked == []
    finally:
        server.stop()
