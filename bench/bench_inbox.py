"""Inbox benchmark: ingest throughput and inbox-list latency on a big database.

    python bench/bench_inbox.py                      # 100k conversations, 1M messages
    python bench/bench_inbox.py --conversations 10000 --messages 100000 --ingest 2000

Builds the database in bulk (printing how long it took), then measures, in the
same run and on the same file:

- the raw floor: a plain SQLite insert of a message plus an update of its
  conversation, one transaction each;
- ingest through the library, one message at a time: store + analysis +
  stage + assignment + suggestion (the real rules engine when it works, else
  the keyword stand-in, and the bench says which);
- the inbox list: the latest 50 open conversations of one agent (p50 / p99).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot.inbox import Inbox, InboxConfig, ManualClock, open_db
from copilot.inbox.db import Checkpointer
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message

T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # Friday noon in Bogotá
#: Cap on open conversations per agent during the bench (each holds ~100 at the start).
MAX_OPEN = 1000
TEXTS = [
    "hola, cuanto sale el sofá de 3 puestos?",
    "buenas tardes, tienen comedores de 6 puestos? para este mes",
    "me pueden llamar mañana? busco una cama doble",
    "envían a Chía? lo necesito para el viernes",
    "quiero hablar con un asesor por favor",
    "ok gracias",
    "aceptan tarjeta de crédito?",
    "vi su anuncio en instagram, me interesa el escritorio",
]


def build(
    path: Path, conversations: int, messages: int, agents: int, seed: int, open_share: float = 0.02
) -> float:
    """Fill a fresh inbox database in bulk; returns the seconds it took."""
    started = time.perf_counter()
    db = open_db(path)
    conn = db.conn
    rng = random.Random(seed)
    base = T0.timestamp() - 90 * 86400
    conn.execute("BEGIN")
    conn.execute("INSERT INTO teams (name) VALUES ('ventas'), ('soporte')")
    conn.executemany(
        "INSERT INTO agents (name, team_id, role, token_hash, available, max_open, active,"
        " created_at) VALUES (?, ?, 'agent', ?, 1, NULL, 1, ?)",
        [(f"agent{i}", 1 + i % 2, f"hash{i}", base) for i in range(agents)],
    )
    conn.executemany(
        "INSERT INTO contacts (id, wa_id, name, created_at) VALUES (?, ?, ?, ?)",
        ((i, f"57{i:010d}", f"Lead {i}", base) for i in range(1, conversations + 1)),
    )
    per = max(1, messages // conversations)
    rows = []
    for cid in range(1, conversations + 1):
        start = base + rng.random() * 85 * 86400
        last = start + per * 60
        status = "open" if rng.random() < open_share else "closed"
        rows.append(
            (
                cid,
                cid,
                status,
                1 + cid % agents,
                "new",
                start,
                start,
                last,
                f"wamid.bulk.{cid}.{per - 1}",
                last,
                "ok gracias",
                "inbound",
                cid * per,
                last,
                last + 86400,
            )
        )
    conn.executemany(
        "INSERT INTO conversations (id, contact_id, status, assignee_id, stage, created_at,"
        " first_inbound_at, last_inbound_at, last_message_id, last_message_at, last_message_text,"
        " last_message_direction, last_seq, updated_at, window_closes_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    del rows
    conn.execute("COMMIT")

    def message_rows():
        seq = 0
        for cid in range(1, conversations + 1):
            for j in range(per):
                seq += 1
                inbound = j % 2 == 0
                yield (
                    seq,
                    f"wamid.bulk.{cid}.{j}",
                    cid,
                    "inbound" if inbound else "outbound",
                    "lead" if inbound else "agent",
                    "text",
                    TEXTS[seq % len(TEXTS)],
                    base + seq,
                    "done" if inbound else None,
                    base,
                )

    # Big transactions: one per 200k rows keeps memory flat and the build fast.
    batch: list = []
    for row in message_rows():
        batch.append(row)
        if len(batch) == 200_000:
            _insert_messages(conn, batch)
            batch = []
    if batch:
        _insert_messages(conn, batch)
    db.execute("ANALYZE")
    db.close()
    return time.perf_counter() - started


def _insert_messages(conn, batch) -> None:
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO messages (id, wa_id, conversation_id, direction, author, type, text, ts,"
        " analysis_state, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        batch,
    )
    conn.execute("COMMIT")


def raw_floor(path: Path, n: int, conversations: int) -> float:
    """Plain SQLite: insert a message and update its conversation, one transaction each."""
    db = open_db(path)
    conn = db.conn
    # Same WAL set-up as the library run: checkpoints in a background thread.
    conn.execute("PRAGMA wal_autocheckpoint = 100000")
    checkpointer = Checkpointer(path).start()
    rng = random.Random(1)
    cpu = time.process_time()
    started = time.perf_counter()
    for i in range(n):
        cid = rng.randint(1, conversations)
        ts = T0.timestamp() + i
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute(
            "INSERT INTO messages (wa_id, conversation_id, direction, author, type, text, ts,"
            " created_at) VALUES (?, ?, 'inbound', 'lead', 'text', ?, ?, ?)",
            (f"wamid.floor.{i}", cid, TEXTS[i % len(TEXTS)], ts, ts),
        )
        conn.execute(
            "UPDATE conversations SET last_seq = ?, last_message_id = ?, last_message_at = ?,"
            " last_message_text = ? WHERE id = ?",
            (cur.lastrowid, f"wamid.floor.{i}", ts, TEXTS[i % len(TEXTS)], cid),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    checkpointer.stop()
    db.close()
    return n / elapsed, n / cpu


def make_analyzer(engine: str):
    """The real Copilot (rules) when it analyses, else the keyword stand-in."""
    if engine == "rules":
        from copilot.facade import Copilot

        copilot = Copilot()
        try:
            copilot.analyze_text("hola, cuanto sale el sofá?", now=T0)
            return copilot, "rules (copilot.Copilot)"
        except NotImplementedError as exc:
            print(f"  ! rules engine not usable yet ({exc!r}); using the keyword stand-in")
    return KeywordAnalyzer(), "keywords (copilot.inbox.testing.KeywordAnalyzer)"


class TimedAnalyzer:
    """Wraps an analyser to time the analysis apart from the inbox's own work."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.profile = inner.profile
        self.seconds = 0.0

    def analyze(self, conversation, now=None):
        started = time.perf_counter()
        try:
            return self.inner.analyze(conversation, now)
        finally:
            self.seconds += time.perf_counter() - started


def ingest(
    path: Path, n: int, conversations: int, engine: str, new_share: float
) -> tuple[float, str, int, float, float]:
    """Ingest ``n`` messages one at a time through the library. Returns the rate,
    the analyser's label, the suggestions made and the seconds spent analysing."""
    inner, label = make_analyzer(engine)
    analyzer = TimedAnalyzer(inner)
    clock = ManualClock(T0)
    inbox = Inbox(
        path,
        copilot=analyzer,
        clock=clock,
        config=InboxConfig(default_max_open=MAX_OPEN, reassign_after_minutes=None),
    )
    inbox.start_checkpointer()  # as a service would: no checkpoint fsync on the ingest path
    rng = random.Random(2)
    items = []
    for i in range(n):
        if rng.random() < new_share:
            contact = Contact(wa_id=f"58{i:010d}", name=f"Nuevo {i}")
        else:
            contact = Contact(wa_id=f"57{rng.randint(1, conversations):010d}")
        at = T0 + timedelta(seconds=i)
        items.append(
            (contact, Message(id=f"wamid.bench.{i}", text=TEXTS[i % len(TEXTS)], timestamp=at))
        )
    suggested = 0
    cpu = time.process_time()
    started = time.perf_counter()
    for contact, message in items:
        clock.set(message.timestamp)
        result = inbox.ingest(contact, message)
        suggested += result.suggestion_id is not None
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    analysed = inbox.conn.execute(
        "SELECT COUNT(*) FROM messages WHERE wa_id LIKE 'wamid.bench.%' AND analysis_state = 'done'"
    ).fetchone()[0]
    inbox.close()
    if analysed != n:
        print(f"  ! only {analysed}/{n} messages were analysed")
    return n / elapsed, label, suggested, analyzer.seconds, n / cpu


def inbox_list(path: Path, queries: int, agents: int) -> dict[str, list[float]]:
    """Latencies (ms) of the inbox list, through the library and as bare SQL."""
    inbox = Inbox(path, copilot=KeywordAnalyzer())
    rng = random.Random(3)
    lib, raw, lib_cpu = [], [], []
    sql = (
        "SELECT c.id, c.stage, c.handoff_needed, c.last_message_text, c.last_message_at,"
        " ct.name FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
        " WHERE c.assignee_id = ? AND c.status = 'open' ORDER BY c.last_message_at DESC LIMIT 50"
    )
    for _ in range(queries):
        agent = rng.randint(1, agents)
        t, c = time.perf_counter(), time.thread_time()
        rows = inbox.list_conversations(agent, limit=50)
        lib.append((time.perf_counter() - t) * 1000)
        lib_cpu.append((time.thread_time() - c) * 1000)
        t = time.perf_counter()
        inbox.conn.execute(sql, (agent,)).fetchall()
        raw.append((time.perf_counter() - t) * 1000)
        assert len(rows) <= 50
    inbox.close()
    return {"library": lib, "library_cpu": lib_cpu, "sql": raw}


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--ingest", type=int, default=5_000, help="messages ingested and timed")
    parser.add_argument("--floor", type=int, default=5_000, help="raw-floor messages")
    parser.add_argument("--list-queries", type=int, default=2_000)
    parser.add_argument(
        "--new-share", type=float, default=0.2, help="share of ingests from new leads"
    )
    parser.add_argument(
        "--open-share", type=float, default=0.02, help="share of open conversations in the build"
    )
    parser.add_argument("--engine", choices=["rules", "keywords"], default="rules")
    parser.add_argument(
        "--db", type=Path, default=None, help="database file (default: a temp file)"
    )
    args = parser.parse_args()

    tmp = None
    path = args.db
    if path is None:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "bench.db"
    if path.exists():
        path.unlink()
    print(f"python {sys.version.split()[0]}, pid {os.getpid()}, database {path}")
    seconds = build(path, args.conversations, args.messages, args.agents, 0, args.open_share)
    size = path.stat().st_size / 1e6
    print(
        f"build: {args.conversations:,} conversations, {args.messages:,} messages"
        f" in {seconds:.1f} s ({size:.0f} MB)"
    )
    print(f"load average before the runs: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    floor, floor_cpu = raw_floor(path, args.floor, args.conversations)
    print(
        f"raw floor (insert message + update conversation, 1 tx each): {floor:,.0f} msg/s"
        f" wall, {floor_cpu:,.0f} msg/s per CPU-second"
    )
    rate, label, suggested, analysing, rate_cpu = ingest(
        path, args.ingest, args.conversations, args.engine, args.new_share
    )
    per_msg = 1e6 / rate
    in_analysis = analysing / args.ingest * 1e6
    print(
        f"library ingest [{label}] (store + analysis + stage + assignment + suggestion):"
        f" {rate:,.0f} msg/s wall, {rate_cpu:,.0f} msg/s per CPU-second"
        f" ({suggested} suggestions)   target >= 1,500"
    )
    print(
        f"  per message (wall): {per_msg:.0f} us = {in_analysis:.0f} us in Copilot.analyze"
        f" + {per_msg - in_analysis:.0f} us in the inbox"
        f" (the inbox alone would do {1e6 / (per_msg - in_analysis):,.0f} msg/s)"
    )
    print(
        f"ratio library / raw floor: {rate / floor:.3f} wall, {rate_cpu / floor_cpu:.3f} CPU"
        f"  (floor is {floor / rate:.1f}x faster)"
    )
    lat = inbox_list(path, args.list_queries, args.agents)
    print(
        f"inbox list (latest 50 open of one agent), {args.list_queries} queries:"
        f" library p50 {pct(lat['library'], 50):.3f} ms, p99 {pct(lat['library'], 99):.3f} ms"
        f" wall (CPU p99 {pct(lat['library_cpu'], 99):.3f} ms)   target p99 <= 2 ms;"
        f" bare SQL p50 {pct(lat['sql'], 50):.3f} ms, p99 {pct(lat['sql'], 99):.3f} ms"
    )
    print(f"load average after the runs: {os.getloadavg()[0]:.2f}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
