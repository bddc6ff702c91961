"""Faults of the webhook delivery queue, against the real service: ``lead-copilot
serve`` in its own process group on 127.0.0.1, a real SQLite file, deliveries
signed and posted over HTTP. Each test counts the messages stored in the inbox
against the deliveries the webhook acknowledged (200) and reports it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from copilot.integrations.whatsapp import compute_signature
from tests.test_webhook_live import ADMIN, REPO, SECRET, _free_port, text_delivery


class Service:
    """One ``lead-copilot serve`` (one HTTP worker and the background process)."""

    def __init__(self, tmp: Path, db: Path | None = None, **env: str) -> None:
        self.tmp = tmp
        self.db = db or tmp / "inbox.db"
        self.queue_db = self.db.with_name(f"{self.db.stem}.webhooks.db")
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.starts = 0

    def start(self, timeout: float = 60.0) -> float:
        """Start the service; returns the monotonic time it first answered."""
        port = _free_port()
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("LEAD_COPILOT_", "WHATSAPP_"))
        }
        env.update(
            PYTHONPATH=str(REPO),
            WHATSAPP_APP_SECRET=SECRET,
            LEAD_COPILOT_ADMIN_TOKEN=ADMIN,
            LEAD_COPILOT_TICK_SECONDS="3600",
            **self.env,
        )
        self.starts += 1
        log = (self.tmp / f"server{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "copilot", "serve", "--db", str(self.db), "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers die with it
        )
        log.close()
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/healthz", timeout=2)
                return time.monotonic()
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(self.log()[-3000:])

    def log(self) -> str:
        return (self.tmp / f"server{self.starts}.log").read_text(errors="replace")

    def _signal_group(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole service: no clean-up of any kind."""
        self._signal_group(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(15)
        self._reap_group()

    def stop(self) -> None:
        """Stop the service; SIGKILL what is left after a grace period."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.proc.wait(15)
        self._reap_group()

    def _reap_group(self) -> None:
        # The background process and the workers belong to the group too.
        if self.proc is None:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def post(self, body: bytes) -> httpx.Response:
        return httpx.post(
            f"{self.url}/webhooks/whatsapp",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": compute_signature(body, SECRET),
            },
            timeout=30,
        )

    def health(self) -> httpx.Response:
        return httpx.get(f"{self.url}/healthz", timeout=30)

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
        )

    def stored(self, message_ids: list[str]) -> int:
        """How many of these messages the inbox holds."""
        if not message_ids:
            return 0
        conn = sqlite3.connect(self.db, timeout=30)
        try:
            found = 0
            for i in range(0, len(message_ids), 500):
                chunk = message_ids[i : i + 500]
                found += conn.execute(
                    f"SELECT COUNT(*) FROM messages WHERE wa_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchone()[0]
            return found
        finally:
            conn.close()

    def wait_stored(self, message_ids: list[str], timeout: float = 45.0) -> int:
        """Poll until every message is stored or the deadline passes; returns the count."""
        deadline = time.monotonic() + timeout
        stored = self.stored(message_ids)
        while stored < len(message_ids) and time.monotonic() < deadline:
            time.sleep(0.2)
            stored = self.stored(message_ids)
        return stored

    def wait_health(self, code: int, timeout: float = 30.0) -> dict:
        """Poll /healthz until it answers ``code``; returns its body."""
        deadline = time.monotonic() + timeout
        r = self.health()
        while r.status_code != code and time.monotonic() < deadline:
            time.sleep(0.2)
            r = self.health()
        assert r.status_code == code, r.text
        return r.json()


@pytest.fixture
def service(tmp_path):
    services: list[Service] = []

    def make(db: Path | None = None, **env: str) -> Service:
        svc = Service(tmp_path, db, **env)
        services.append(svc)
        return svc

    yield make
    for svc in services:
        svc.stop()


def send(svc: Service, count: int, phone_base: int, text: str = "hola, precio?") -> list[str]:
    """Post ``count`` text deliveries (one contact each); returns the acknowledged ids."""
    acked = []
    for i in range(count):
        message_id, body = text_delivery(str(phone_base + i), text)
        r = svc.post(body)
        assert r.status_code == 200, r.text
        acked.append(message_id)
    return acked


@pytest.mark.chaos("fault 1: an unprocessable delivery is set aside, the 150 behind it stored")
def test_poison_delivery_is_set_aside_and_the_queue_moves_on(service, chaos_report):
    svc = service()
    svc.start()
    surrogate_id, surrogate = text_delivery("573005550001", "hola \ud800")
    assert b"\\ud800" in surrogate  # valid JSON holding a lone surrogate escape
    name_id, named = text_delivery("573005550002", "buenas")
    named = named.replace(b'"Lucia"', b'"Ana \\udfff"')
    not_whatsapp = json.dumps({"object": "page", "entry": []}).encode()
    for body in (surrogate, named, not_whatsapp):
        assert svc.post(body).status_code == 200
    acked = send(svc, 150, 573006000000)
    stored = svc.wait_stored([surrogate_id, name_id, *acked])
    chaos_report(f"{stored} of {len(acked) + 2} acknowledged messages stored")
    assert stored == len(acked) + 2
    conn = sqlite3.connect(svc.db)
    text = conn.execute("SELECT text FROM messages WHERE wa_id = ?", (surrogate_id,)).fetchone()[0]
    name = conn.execute(
        "SELECT c.name FROM contacts c JOIN conversations v ON v.contact_id = c.id"
        " JOIN messages m ON m.conversation_id = v.id WHERE m.wa_id = ?",
        (name_id,),
    ).fetchone()[0]
    conn.close()
    assert text == "hola \ufffd" and name == "Ana \ufffd"
    chaos_report(f"lone surrogates repaired: text {text!r}, name {name!r}")

    # The one that cannot be processed is kept, with its error, and can be replayed.
    with svc.api() as api:
        failed = api.get("/api/deliveries", params={"state": "failed"}).json()
        assert [d["error"] for d in failed] == [
            "webhook 'object' must be 'whatsapp_business_account', got 'page'"
        ]
        assert httpx.get(f"{svc.url}/api/deliveries").status_code == 401
        health = svc.wait_health(200)
        assert health["status"] == "degraded" and health["queue"]["set_aside"] == 1
        replayed = api.post(f"/api/deliveries/{failed[0]['id']}/replay")
        assert replayed.status_code == 200 and replayed.json()["replayed"] == [failed[0]["id"]]
        assert api.post("/api/deliveries/999999/replay").status_code == 404
        deadline = time.monotonic() + 30
        again = []
        while time.monotonic() < deadline and not again:
            again = api.get("/api/deliveries", params={"state": "failed"}).json()
            time.sleep(0.2)
        assert [d["id"] for d in again] == [failed[0]["id"]]  # processed again, set aside again
    chaos_report(f"set aside: {len(failed)} ({failed[0]['error']}); replayed and set aside again")


@pytest.mark.chaos("fault 3: a storage fault for a few seconds loses no acknowledged delivery")
def test_storage_fault_for_a_few_seconds_loses_nothing(service, chaos_report):
    svc = service(LEAD_COPILOT_STUCK_SECONDS="2")
    svc.start()
    before = send(svc, 5, 573007000000)
    assert svc.wait_stored(before) == 5
    conn = sqlite3.connect(svc.db, timeout=30, isolation_level=None)
    conn.execute("CREATE TABLE chaos_fault (on_ INTEGER)")
    conn.execute(
        "CREATE TRIGGER chaos_fault_messages BEFORE INSERT ON messages"
        " WHEN EXISTS (SELECT 1 FROM chaos_fault)"
        " BEGIN SELECT RAISE(ABORT, 'injected storage fault'); END"
    )
    conn.execute("INSERT INTO chaos_fault VALUES (1)")
    started = time.monotonic()
    # Several deliveries of the same contacts: they must still land in order.
    acked = send(svc, 20, 573007100000) + send(svc, 20, 573007100000, "y el envio?")
    during = svc.health()
    while during.status_code != 503 and time.monotonic() - started < 8:
        time.sleep(0.2)  # the fault holds until health sees it, 8 s at most
        during = svc.health()
    held = time.monotonic() - started
    conn.execute("DELETE FROM chaos_fault")
    acked += send(svc, 10, 573007200000)
    stored = svc.wait_stored(before + acked)
    total = len(before) + len(acked)
    chaos_report(
        f"fault held {held:.1f} s; {stored} of {total} acknowledged stored;"
        f" health during it {during.status_code}"
    )
    assert stored == total
    assert during.status_code == 503, during.text
    assert any("blocked" in p or "storage" in p for p in during.json()["problems"])
    order = conn.execute(
        "SELECT m.text FROM messages m JOIN conversations v ON v.id = m.conversation_id"
        " JOIN contacts c ON c.id = v.contact_id WHERE c.wa_id = '573007100003' ORDER BY m.id"
    ).fetchall()
    assert [t for (t,) in order] == ["hola, precio?", "y el envio?"]
    conn.execute("DROP TRIGGER chaos_fault_messages")
    conn.close()
    assert svc.wait_health(200)["deliveries"].get("failed") is None


@pytest.mark.chaos("fault 4: a deleted queue file does not skip new deliveries")
def test_queue_file_removed_between_and_during_runs(service, chaos_report):
    svc = service()
    svc.start()
    first = send(svc, 20, 573008000000)
    assert svc.wait_stored(first) == 20
    svc.stop()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{svc.queue_db}{suffix}").unlink(missing_ok=True)
    svc.start()
    second = send(svc, 30, 573008100000)
    stored_between = svc.wait_stored(second)
    chaos_report(f"removed between runs: {stored_between} of {len(second)} stored")
    assert stored_between == len(second)

    for suffix in ("", "-wal", "-shm"):  # while it runs
        Path(f"{svc.queue_db}{suffix}").unlink(missing_ok=True)
    third = send(svc, 30, 573008200000)
    stored_during = svc.wait_stored(third)
    chaos_report(f"removed while running: {stored_during} of {len(third)} stored")
    assert stored_during == len(third)
    svc.stop()  # and what was acknowledged is in the file a new process reads
    svc.start()
    assert svc.wait_health(200)["deliveries"].get("pending") is None


@pytest.mark.chaos("fault 8: after SIGKILL a restarted service processes within seconds")
def test_restart_after_sigkill_resumes_within_seconds(service, chaos_report):
    svc = service()
    svc.start()
    first = send(svc, 10, 573009000000)
    assert svc.wait_stored(first) == 10
    unprocessed = send(svc, 10, 573009100000)
    svc.kill()
    ready = svc.start()
    after = send(svc, 10, 573009200000)
    stored = svc.wait_stored(unprocessed + after, timeout=30)
    seconds = time.monotonic() - ready
    chaos_report(
        f"{stored} of {len(unprocessed) + len(after)} acknowledged stored {seconds:.1f} s"
        " after the restarted service answered"
    )
    assert stored == len(unprocessed) + len(after)


def _mount_tmpfs(where: Path, size: str) -> str | None:
    """Mount a tmpfs; returns why it cannot be done, or None."""
    if not shutil.which("mount"):
        return "no mount command"
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return f"mounting a tmpfs is not permitted here: {done.stderr.strip()[:200]}"
    return None


@pytest.mark.chaos("fault 9: a full disk answers 503 and loses no acknowledged delivery")
def test_full_disk_answers_503_and_loses_nothing(service, chaos_report, tmp_path):
    mnt = tmp_path / "small"
    reason = _mount_tmpfs(mnt, "3m")
    if reason:
        pytest.skip(reason)
    try:
        svc = service(db=mnt / "inbox.db")
        svc.start()
        acked: list[str] = []
        refused = None
        padding = "x" * 20_000
        deadline = time.monotonic() + 40
        for i in range(2000):
            if time.monotonic() > deadline:
                break
            message_id, body = text_delivery(str(573010000000 + i), f"hola {padding}")
            r = svc.post(body)
            if r.status_code == 200:
                acked.append(message_id)
                continue
            refused = r
            break
        assert refused is not None, "the disk never filled up"
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "storage_unavailable"
        health = svc.wait_health(503, timeout=20)
        assert any("disk" in p or "stored" in p for p in health["problems"]), health
        subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], check=True)
        late_id, late = text_delivery("573010999999", "ya hay espacio?")
        deadline = time.monotonic() + 20
        while svc.post(late).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        acked.append(late_id)
        stored = svc.wait_stored(acked, timeout=45)
        chaos_report(
            f"first 503 after {len(acked) - 1} deliveries; health 503 ({health['problems'][0]});"
            f" {stored} of {len(acked)} acknowledged stored once space came back"
        )
        assert stored == len(acked)
        svc.wait_health(200)
        svc.stop()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.chaos("fault 10: /healthz answers 503 while processing is blocked")
def test_health_is_503_while_processing_is_blocked(service, chaos_report):
    svc = service(LEAD_COPILOT_STUCK_SECONDS="2")
    svc.start()
    first = send(svc, 3, 573011000000)
    assert svc.wait_stored(first) == 3
    assert svc.wait_health(200)["status"] == "ok"
    blocker = sqlite3.connect(svc.db, timeout=30, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the inbox's write lock, held
    try:
        blocked = send(svc, 5, 573011100000)
        started = time.monotonic()
        health = svc.wait_health(503, timeout=20)
        waited = time.monotonic() - started
        assert any("blocked" in p for p in health["problems"]), health
        assert health["queue"]["pending"] == 5
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    stored = svc.wait_stored(first + blocked)
    chaos_report(
        f"503 {waited:.1f} s after the lock was taken; {stored} of"
        f" {len(first) + len(blocked)} acknowledged stored after it was released"
    )
    assert stored == len(first) + len(blocked)
    assert svc.wait_health(200)["status"] == "ok"
