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
import gc
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot.inbox import Inbox, InboxConfig, ManualClock, open_db
from copilot.inbox.db import Checkpointer
from copilot.inbox.pipeline import is_qualified
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message
from copilot.taxonomy import LostReason

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


#: Stages of the existing conversations (the rest are ``new``), and lost reasons.
STAGE_MIX = (("qualified", 0.25), ("proposal_sent", 0.10), ("won", 0.08), ("lost", 0.07))
LOST_REASONS = tuple(reason.value for reason in LostReason)


def sample_analyses(seed_texts: list[str]) -> list[dict]:
    """What the copilot stored for a few real lines: the conversation columns it
    sets, the analysis JSON and the suggestion. The build copies them onto the
    existing conversations, so every one looks analysed, as it would in use."""
    copilot, _ = make_analyzer("rules")
    samples = []
    for text in seed_texts:
        analysis = copilot.analyze_text(text, now=T0)
        reply = analysis.reply
        samples.append(
            {
                "fields": json.dumps(
                    analysis.fields.model_dump(mode="json", exclude_none=True), ensure_ascii=False
                ),
                "origin": analysis.origin.label.value,
                "origin_source": analysis.origin.source.value,
                "origin_evidence": (analysis.origin.evidence or "")[:500],
                "language": analysis.language.value,
                "intent": analysis.intent.label.value if analysis.intent else None,
                "result": analysis.model_dump_json(exclude_defaults=True),
                "template": reply.template.value if reply else "welcome",
                "reply": reply.text if reply else "Hola",
                "qualified": is_qualified(
                    set(analysis.fields.model_dump(exclude_none=True)),
                    copilot.profile.qualification.qualified_when,
                ),
            }
        )
    return samples


def build(
    path: Path, conversations: int, messages: int, agents: int, seed: int, open_share: float = 0.02
) -> float:
    """Fill a fresh inbox database in bulk, as the inbox would have left it after
    months of use; returns the seconds it took.

    Every conversation alternates lead and agent messages (so a person answered
    and follow-ups were scheduled), carries the analysis columns (fields, origin,
    language, intent), a stage from :data:`STAGE_MIX`, the analysis and the
    decided suggestion of its last inbound message, its stage history and its
    follow-up tasks (pending when still due)."""
    started = time.perf_counter()
    samples = sample_analyses(TEXTS)
    db = open_db(path)
    conn = db.conn
    rng = random.Random(seed)
    base = T0.timestamp() - 90 * 86400
    now = T0.timestamp()
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
    per = max(2, messages // conversations)
    per -= per % 2  # lead, agent, lead, agent...: the agent answered last
    rows, analyses, suggestions, stages, tasks = [], [], [], [], []
    starts = [0.0] * (conversations + 1)
    for cid in range(1, conversations + 1):
        start = starts[cid] = base + rng.random() * 85 * 86400
        last = start + (per - 1) * 60
        last_in = last - 60
        status = "open" if rng.random() < open_share else "closed"
        agent = 1 + cid % agents
        stage, roll = "new", rng.random()
        for name, share in STAGE_MIX:
            if roll < share:
                stage = name
                break
            roll -= share
        lost = rng.choice(LOST_REASONS) if stage == "lost" else None
        sample = samples[cid % len(samples)]
        if stage == "new" and sample["qualified"]:
            stage = "qualified"  # the inbox would have moved it already
        first_seq = (cid - 1) * per + 1
        rows.append(
            (cid, cid, status, agent, 1 + (agent - 1) % 2, start, stage, lost,
             sample["origin"], sample["origin_source"], sample["origin_evidence"],
             sample["fields"], sample["language"], sample["intent"],
             start, start + 60, last_in, last, last, last_in + 86400,
             first_seq + per - 1, f"wamid.bulk.{cid}.{per - 1}", last,
             TEXTS[(first_seq + per - 1) % len(TEXTS)], start, last)
        )  # fmt: skip
        analyses.append(
            (first_seq + per - 2, f"wamid.bulk.{cid}.{per - 2}", cid, sample["intent"],
             sample["template"], sample["result"], last_in)
        )  # fmt: skip
        suggestions.append(
            (cid, f"wamid.bulk.{cid}.{per - 2}", cid, sample["template"], sample["reply"],
             sample["language"], rng.choice(("accepted", "accepted", "edited", "rejected")),
             agent, last_in, last)
        )  # fmt: skip
        if stage != "new":
            after = stage if lost is None else f"{stage}:{lost}"
            stages.append((cid, start + 120, "system", "stage", "new", after))
        for kind, due in (("soft_followup", last + 86400), ("reactivation", last + 30 * 86400)):
            state = "pending" if due > now and stage not in ("won", "lost") else "done"
            tasks.append((cid, kind, due, state, last))
    # Rows go in shuffled, so table pages end up about two-thirds full, as on a file
    # that grew under live updates; a sorted bulk load packs them full, and every
    # later growth of a row would then split a page.
    rng.shuffle(rows)
    conn.executemany(
        "INSERT INTO conversations (id, contact_id, status, assignee_id, team_id, assigned_at,"
        " stage, lost_reason, origin, origin_source, origin_evidence, fields, language,"
        " last_intent, first_inbound_at, first_response_at, last_inbound_at, last_outbound_at,"
        " last_human_at, window_closes_at, last_seq, last_message_id, last_message_at,"
        " last_message_text, created_at, updated_at, human_took_over, last_message_direction)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, 1, 'outbound')",
        rows,
    )
    conn.executemany(
        "INSERT INTO analyses (message_seq, message_id, conversation_id, engine, intent,"
        " handoff_needed, template, result, created_at) VALUES (?,?,?,'rules',?,0,?,?,?)",
        analyses,
    )
    conn.executemany(
        "INSERT INTO suggestions (conversation_id, message_id, analysis_id, template, text,"
        " language, state, agent_id, created_at, decided_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        suggestions,
    )
    conn.executemany(
        "INSERT INTO stage_history (conversation_id, at, by, action, before, after)"
        " VALUES (?,?,?,?,?,?)",
        stages,
    )
    conn.executemany(
        "INSERT INTO tasks (conversation_id, kind, due_at, state, created_at) VALUES (?,?,?,?,?)",
        tasks,
    )
    del rows, analyses, suggestions, stages, tasks
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
                    starts[cid] + j * 60,
                    "done" if inbound else None,
                    starts[cid] + j * 60,
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


class RecordingConnection:
    """Stands in for the inbox's connection and keeps every statement it runs, with
    its parameters, so :func:`sql_replay` can time the SQL alone."""

    def __init__(self, conn: sqlite3.Connection, log: list) -> None:
        self._conn = conn
        self._log = log

    def execute(self, sql: str, params=()):
        self._log.append((sql, params))
        return self._conn.execute(sql, params)

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


def ingest(
    path: Path,
    n: int,
    conversations: int,
    engine: str,
    new_share: float,
    record: list | None = None,
) -> tuple[float, str, int, float, float]:
    """Ingest ``n`` messages one at a time through the library. Returns the rate,
    the analyser's label, the suggestions made and the seconds spent analysing.
    With ``record``, every statement the inbox runs is appended to it."""
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
    gc.collect()
    gc.freeze()  # as the service's workers do at start-up (copilot/service/app.py)
    if record is not None:
        inbox.conn = RecordingConnection(inbox.conn, record)
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


def sql_replay(path: Path, log: list, n: int) -> float:
    """Run the recorded statements of ``n`` ingests again, in order, on a copy of
    the database as it was before them: the cost of the SQL alone (statements,
    commits, checkpoints), without Python, analysis or models. Returns us/message."""
    db = open_db(path)
    conn = db.conn
    conn.execute("PRAGMA wal_autocheckpoint = 100000")
    checkpointer = Checkpointer(path).start()
    started = time.perf_counter()
    for sql, params in log:
        cursor = conn.execute(sql, params)
        if sql.startswith("SELECT") or "RETURNING" in sql:
            cursor.fetchall()
    elapsed = time.perf_counter() - started
    checkpointer.stop()
    db.close()
    return elapsed / n * 1e6


def remove_database(path: Path) -> None:
    """Delete a database file with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a closed database file (its WAL already folded in)."""
    remove_database(target)
    shutil.copyfile(source, target)


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
        "--sql-breakdown",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the inbox's SQL alone (ingests again on two copies of the file)",
    )
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
    copies = []
    if args.sql_breakdown:  # the database as it is before the ingest, twice
        copies = [path.with_name(f"{path.stem}.before{i}.db") for i in (1, 2)]
        for copy in copies:
            copy_database(path, copy)
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
    if copies:
        log: list = []
        ingest(copies[0], args.ingest, args.conversations, args.engine, args.new_share, log)
        sql_us = sql_replay(copies[1], log, args.ingest)
        for copy in copies:
            remove_database(copy)
        print(
            f"  the inbox's SQL alone ({len(log) / args.ingest:.1f} statements per message,"
            f" replayed on a copy without Python): {sql_us:.0f} us per message;"
            f" the rest of the inbox (Python, models, JSON) {per_msg - in_analysis - sql_us:.0f} us"
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
