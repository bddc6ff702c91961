"""Races and crashes on a real SQLite file: concurrent claims and replies, duplicate
deliveries from several connections, and a SIGKILL in the middle of ingesting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copilot.inbox import (
    ConflictError,
    Inbox,
    InboxConfig,
    ManualClock,
    PermissionDenied,
    check_integrity,
    open_db,
)
from copilot.inbox.testing import KeywordAnalyzer, RecordingSender
from copilot.models import Contact, Message

REPO = Path(__file__).resolve().parent.parent
THREADS = 8


def _race(make, target, n=THREADS):
    """On ``n`` threads: each builds its own inbox with ``make()`` (SQLite connections
    belong to their thread), then all run ``target(inbox, i)`` released together."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        inbox = make()
        barrier.wait()
        try:
            results[i] = target(inbox, i)
        except Exception as exc:  # collected and asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.fixture
def shared(tmp_path, profile, friday_noon):
    """A database file and a factory of independent inboxes (one connection each)."""
    path = tmp_path / "inbox.db"
    open_db(path).close()
    senders: list[RecordingSender] = []

    def make():
        sender = RecordingSender()
        senders.append(sender)
        return Inbox(
            path,
            copilot=KeywordAnalyzer(profile),
            clock=ManualClock(friday_noon),
            sender=sender,
            config=InboxConfig(reassign_after_minutes=None),
        )

    make.senders = senders
    return make


def test_concurrent_claims_exactly_one_wins(shared, friday_noon):
    setup = shared()
    agents = [setup.create_agent(f"A{i}", "ventas")[0].id for i in range(THREADS)]
    r = setup.ingest(Contact(wa_id="57300"), Message(id="w1", text="hola", timestamp=friday_noon))
    results = _race(shared, lambda box, i: box.claim(r.conversation_id, agents[i]))
    winners = [x for x in results if not isinstance(x, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(x, ConflictError) for x in results if isinstance(x, Exception))
    owner = setup.conversation(r.conversation_id).assignee_id
    assert owner == winners[0].assignee_id
    claims = [h for h in setup.history(r.conversation_id) if h.action == "claim"]
    assert len(claims) == 1


def test_concurrent_replies_only_one_is_sent(shared, friday_noon):
    setup = shared()
    owner = setup.create_agent("Ana", "ventas", available=True)[0]
    other = setup.create_agent("Beto", "ventas")[0]
    r = setup.ingest(Contact(wa_id="57300"), Message(id="w1", text="hola", timestamp=friday_noon))
    assert r.assignee_id == owner.id

    def reply(box, i):
        agent = owner.id if i % 2 == 0 else other.id  # half are not the owner
        return box.reply(r.conversation_id, agent, f"respuesta {i}", last_seen_message_id="w1")

    results = _race(shared, reply)
    sent = [x for x in results if not isinstance(x, Exception)]
    assert len(sent) == 1
    errors = [type(x) for x in results if isinstance(x, Exception)]
    assert errors.count(PermissionDenied) == THREADS // 2
    assert errors.count(ConflictError) == THREADS // 2 - 1
    assert sum(len(s.sent) for s in shared.senders) == 1
    outbound = [m for m in setup.messages(r.conversation_id) if m.direction == "outbound"]
    assert len(outbound) == 1


def test_same_message_from_many_connections_is_stored_once(shared, friday_noon):
    message = Message(id="wamid.dup", text="hola", timestamp=friday_noon)
    results = _race(shared, lambda box, i: box.ingest(Contact(wa_id="57300"), message))
    assert not any(isinstance(x, Exception) for x in results), results
    assert sum(not x.duplicate for x in results) == 1
    count = shared().conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    assert count == 1


CHILD = """
import sys
from datetime import UTC, datetime, timedelta
from copilot.inbox import Inbox
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message
box = Inbox(sys.argv[1], copilot=KeywordAnalyzer())
t0 = datetime(2026, 11, 20, 17, tzinfo=UTC)
i = 0
while True:
    msg = Message(id=f"wamid.{i}", text=f"hola busco sofa {i}", timestamp=t0 + timedelta(seconds=i))
    box.ingest(Contact(wa_id=f"57{i % 50:05d}"), msg)
    print(msg.id, flush=True)
    i += 1
"""


def test_sigkill_mid_ingest_loses_no_acknowledged_message(tmp_path):
    path = tmp_path / "inbox.db"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, env=env, text=True
    )
    acknowledged = []
    try:
        for line in proc.stdout:
            acknowledged.append(line.strip())
            if len(acknowledged) >= 300:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 300
    inbox = Inbox(path, copilot=KeywordAnalyzer(), clock=ManualClock(datetime.now(UTC)))
    assert check_integrity(inbox.db) == []
    stored = {r[0] for r in inbox.conn.execute("SELECT wa_id FROM messages")}
    missing = set(acknowledged) - stored
    assert not missing
    # Anything stored but not analysed when the process died is picked up by a retry.
    inbox.retry_pending(limit=10)
    pending = inbox.conn.execute(
        "SELECT COUNT(*) FROM messages WHERE analysis_state IN ('pending','failed')"
    ).fetchone()[0]
    assert pending == 0
