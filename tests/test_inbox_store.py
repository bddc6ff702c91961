"""Inbox store and ingest: schema, idempotency, ordering, backfill, faults."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlite_utils import Database

from copilot.inbox import (
    Inbox,
    InboxConfig,
    InboxDatabaseError,
    InvalidInput,
    ManualClock,
    open_db,
)
from copilot.inbox.db import Checkpointer, migrations
from copilot.inbox.store import LATEST_ANALYSIS_SQL
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message, Referral
from copilot.taxonomy import Author, DeliveryStatus, Direction, Stage

#: Every migration, in order: a new one is added here on purpose.
ALL_MIGRATIONS = [
    "m001_initial",
    "m002_edits",
    "m003_corrections",
    "m004_tag_names",
    "m005_open_by_recency",
    "m006_metrics_indexes",
    "m007_service_tables",
    "m008_close_and_snooze",
    "m009_reads",
    "m010_search",
    "m011_web_sessions",
    "m012_quick_replies",
    "m013_synced_templates",
]


@pytest.fixture
def clock(friday_noon):
    return ManualClock(friday_noon)


@pytest.fixture
def inbox(profile, clock):
    return Inbox(":memory:", copilot=KeywordAnalyzer(profile), clock=clock)


def msg(mid, text, at, **kw):
    return Message(id=mid, text=text, timestamp=at, **kw)


LAURA = Contact(wa_id="573001112233", name="Laura")


def test_file_database_is_wal_and_migrated_once(tmp_path):
    path = tmp_path / "inbox.db"
    db = open_db(path)
    assert db.journal_mode == "wal"
    applied = [m.name for m in migrations.applied(db)]
    assert applied == ALL_MIGRATIONS
    assert "idx_conversations_queue" in {i.name for i in db["conversations"].indexes}
    db.close()
    again = open_db(path)  # reopening applies nothing new
    assert [m.name for m in migrations.applied(again)] == applied


_OPEN_WHEN_TOLD = """
import sys, time
from pathlib import Path
from copilot.inbox.db import open_db
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.002)
open_db(sys.argv[1]).close()
"""


def test_processes_opening_a_new_file_at_once_all_get_it_migrated_once(tmp_path):
    # The service's workers start together on a file that does not exist yet.
    path, go = tmp_path / "inbox.db", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_WHEN_TOLD, str(path), str(go)],
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for _ in range(6)
    ]
    time.sleep(1.5)  # let every process import and wait at the line
    go.touch()
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    db = open_db(path)
    assert [m.name for m in migrations.applied(db)] == ALL_MIGRATIONS


def test_tags_in_use_follow_set_tags(inbox, friday_noon):
    a = inbox.ingest(LAURA, msg("t1", "hola", friday_noon)).conversation_id
    b = inbox.ingest(Contact(wa_id="573009998877"), msg("t2", "hola", friday_noon)).conversation_id
    inbox.set_tags(a, ["vip", "sofá"])
    inbox.set_tags(b, ["vip"])
    assert inbox.tags_in_use() == ["sofá", "vip"]
    inbox.set_tags(a, remove=["vip", "sofá"])
    assert inbox.tags_in_use() == ["vip"]  # b still carries it
    inbox.set_tags(b, remove=["vip"])
    assert inbox.tags_in_use() == []


def test_tag_names_migration_collects_the_tags_already_used(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m004_tag_names")
    db["contacts"].insert({"id": 1, "wa_id": "57300"})
    db["conversations"].insert(
        {"contact_id": 1, "status": "open", "stage": "new", "tags": '["b", "a", "b"]'}
    )
    db.close()
    assert open_db(path).execute("SELECT name FROM tag_names").fetchall() == [("a",), ("b",)]


def test_inbox_list_query_uses_its_index(inbox):
    plan = inbox.conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM conversations WHERE assignee_id = 1"
        " AND status = 'open' ORDER BY last_message_at DESC LIMIT 50"
    ).fetchall()
    detail = " ".join(row[-1] for row in plan)
    assert "idx_conversations_assignee_id_status_last_message_at" in detail
    assert "TEMP B-TREE" not in detail


def test_not_sqlite_file_gets_clear_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("this is not a database, just text\n" * 10)
    with pytest.raises(InboxDatabaseError, match="not a SQLite database"):
        open_db(path)


def test_foreign_database_gets_clear_error(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    with pytest.raises(InboxDatabaseError, match="another application"):
        open_db(path)


def test_corrupt_database_gets_clear_error(tmp_path):
    path = tmp_path / "inbox.db"
    db = open_db(path)
    db.execute("PRAGMA journal_mode=delete")
    db.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # trash the schema page after the header
    path.write_bytes(bytes(data))
    with pytest.raises(InboxDatabaseError, match=r"corrupt|cannot open"):
        open_db(path)


def test_newer_database_gets_clear_error(tmp_path):
    path = tmp_path / "inbox.db"
    db = open_db(path)
    db["_sqlite_migrations"].insert(
        {"migration_set": "lead_copilot_inbox", "name": "m999_future", "applied_at": "x"}
    )
    db.close()
    with pytest.raises(InboxDatabaseError, match="newer Lead Copilot"):
        open_db(path)


def test_same_message_ten_times_is_stored_once(inbox, friday_noon):
    first = inbox.ingest(LAURA, msg("wamid.1", "hola busco sofá", friday_noon))
    assert first.analysed and not first.duplicate
    for _ in range(9):
        again = inbox.ingest(LAURA, msg("wamid.1", "hola busco sofá", friday_noon))
        assert again.duplicate and again.conversation_id == first.conversation_id
    assert inbox.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1
    assert inbox.conn.execute("SELECT COUNT(*) FROM analyses").fetchone()[0] == 1
    assert inbox.analyzer.calls == 1


def test_unknown_contact_is_created_and_one_conversation_per_lead(inbox, friday_noon):
    a = inbox.ingest(LAURA, msg("w1", "hola", friday_noon))
    b = inbox.ingest(Contact(wa_id=LAURA.wa_id), msg("w2", "sigo aqui", friday_noon))
    c = inbox.ingest(
        Contact(user_id="CO.123456", name="Sin Telefono"), msg("w3", "hi", friday_noon)
    )
    assert a.conversation_id == b.conversation_id != c.conversation_id
    detail = inbox.conversation(c.conversation_id)
    assert detail.contact_key == "CO.123456" and detail.contact_name == "Sin Telefono"
    # The phone turns up later for the user-id contact: same lead, same conversation.
    d = inbox.ingest(Contact(wa_id="5491100", user_id="CO.123456"), msg("w4", "x", friday_noon))
    assert d.conversation_id == c.conversation_id
    # Looked up by either key.
    assert inbox.conversation_for_contact(LAURA.wa_id).id == a.conversation_id
    assert inbox.conversation_for_contact(user_id="CO.123456").id == c.conversation_id
    assert inbox.conversation_for_contact("5491100", "CO.nobody").id == c.conversation_id
    assert inbox.conversation_for_contact("000", "CO.nobody") is None
    assert inbox.conversation_for_contact() is None


def test_contact_without_any_id_is_refused(inbox, friday_noon):
    with pytest.raises(InvalidInput, match="wa_id or a user_id"):
        inbox.ingest(Contact(name="nobody"), msg("w1", "hola", friday_noon))


def test_out_of_order_messages_keep_the_latest_on_the_row(inbox, friday_noon):
    later = friday_noon + timedelta(minutes=5)
    inbox.ingest(LAURA, msg("w2", "segundo", later))
    result = inbox.ingest(LAURA, msg("w1", "primero", friday_noon))  # delivered late
    detail = inbox.conversation(result.conversation_id)
    assert detail.last_message_id == "w2" and detail.last_message_text == "segundo"
    assert detail.first_inbound_at == friday_noon
    assert detail.waiting_since == friday_noon  # the SLA counts from the oldest unanswered
    assert [m.id for m in inbox.messages(result.conversation_id)] == ["w1", "w2"]


def test_backfill_stores_without_automation(inbox, friday_noon):
    old = friday_noon - timedelta(days=40)
    r = inbox.ingest(LAURA, msg("old1", "hola busco mesa", old), backfill=True)
    inbox.ingest(
        LAURA,
        msg(
            "old2",
            "claro",
            old + timedelta(minutes=3),
            direction=Direction.OUTBOUND,
            author=Author.PHONE_ECHO,
        ),
        backfill=True,
    )
    assert r.backfill and not r.analysed
    assert inbox.analyzer.calls == 0
    detail = inbox.conversation(r.conversation_id)
    assert detail.assignee_id is None and detail.waiting_since is None
    assert detail.first_response_at is None and not detail.human_took_over
    assert inbox.tasks(conversation_id=r.conversation_id) == []
    assert inbox.suggestions(r.conversation_id) == []


def test_failed_analysis_keeps_message_and_retry_picks_it_up(profile, clock, friday_noon):
    analyzer = KeywordAnalyzer(profile, fail_on="boom")
    inbox = Inbox(":memory:", copilot=analyzer, clock=clock)
    result = inbox.ingest(LAURA, msg("w1", "boom cuanto vale", friday_noon))
    assert not result.analysed and "analyser down" in result.analysis_error
    assert inbox.message("w1").analysis_state == "failed"
    analyzer.fail_on = None
    assert inbox.retry_pending() == 1
    assert inbox.message("w1").analysis_state == "done"
    assert inbox.retry_pending() == 0
    assert inbox.conversation(result.conversation_id).last_intent == "pricing"


def test_origin_from_referral_metadata_is_kept(inbox, friday_noon):
    referral = Referral(source_type="ad", source_id="120200", headline="Sofás")
    r = inbox.ingest(LAURA, msg("w1", "hola", friday_noon, referral=referral))
    detail = inbox.conversation(r.conversation_id)
    assert detail.origin == "ad" and detail.origin_source == "referral_metadata"


def test_opt_out_sets_flag_and_proposes_only_the_confirmation(inbox, friday_noon):
    r = inbox.ingest(LAURA, msg("w1", "no me escriban mas, BAJA", friday_noon))
    detail = inbox.conversation(r.conversation_id)
    assert detail.opted_out
    assert inbox.current_suggestion(r.conversation_id).template == "opt_out_confirmation"
    assert any(e.action == "opt_out" for e in inbox.audit_log("contact", r.contact_id))


def test_qualified_when_need_timeline_next_step_known(inbox, friday_noon):
    r = inbox.ingest(LAURA, msg("w1", "busco comedor", friday_noon))
    assert r.stage is Stage.NEW
    r = inbox.ingest(LAURA, msg("w2", "para mañana", friday_noon + timedelta(minutes=1)))
    assert r.stage is Stage.NEW
    r = inbox.ingest(LAURA, msg("w3", "mejor una llamada", friday_noon + timedelta(minutes=2)))
    assert r.stage is Stage.QUALIFIED
    history = [h for h in inbox.history(r.conversation_id) if h.action == "stage"]
    assert [(h.before, h.after, h.by) for h in history] == [("new", "qualified", "system")]


def test_delivery_statuses_only_move_forward(inbox, friday_noon):
    echo = msg("out1", "hola!", friday_noon, direction=Direction.OUTBOUND, author=Author.PHONE_ECHO)
    inbox.ingest(LAURA, echo)
    assert inbox.apply_status("out1", "read", friday_noon).status is DeliveryStatus.READ
    assert inbox.apply_status("out1", "delivered", friday_noon).status is DeliveryStatus.READ
    failed = inbox.apply_status("out1", "failed", error_code=131047, error_title="Re-engagement")
    assert failed.status is DeliveryStatus.FAILED and "131047" in failed.error
    assert inbox.apply_status("unknown-id", "sent") is None


def test_lead_author_on_outbound_is_refused(inbox, friday_noon):
    with pytest.raises(InvalidInput):
        inbox.ingest(LAURA, msg("w1", "x", friday_noon, direction=Direction.OUTBOUND))


def test_analysis_is_stored_beside_the_message(inbox, friday_noon):
    inbox.ingest(LAURA, msg("w1", "cuanto cuesta el sofá?", friday_noon))
    analysis = inbox.analysis("w1")
    assert analysis.intent.label == "pricing" and analysis.engine == "keywords"
    row = inbox.conn.execute("SELECT engine, intent, template FROM analyses").fetchone()
    assert row == ("keywords", "pricing", "welcome")
    assert inbox.analysis("nope") is None


def test_tick_retries_pending_analyses_after_a_grace_minute(profile, clock, friday_noon):
    analyzer = KeywordAnalyzer(profile, fail_on="boom")
    inbox = Inbox(":memory:", copilot=analyzer, clock=clock)
    inbox.ingest(LAURA, msg("w1", "boom", friday_noon))
    analyzer.fail_on = None
    assert inbox.tick().analyses_retried == 0  # too fresh: maybe another process has it
    clock.advance(minutes=2)
    assert inbox.tick().analyses_retried == 1


def test_consent_per_category_and_manual_opt_back_in(inbox, friday_noon):
    r = inbox.ingest(LAURA, msg("w1", "BAJA", friday_noon))
    inbox.set_consent(r.contact_id, "marketing", False, source="whatsapp:BAJA")
    inbox.set_consent(r.contact_id, "utility", True, source="web form")
    consents = {c["category"]: (c["opted_in"], c["source"]) for c in inbox.consents(r.contact_id)}
    assert consents == {"marketing": (False, "whatsapp:BAJA"), "utility": (True, "web form")}
    inbox.set_opted_out(r.contact_id, False, actor="agent:1")
    assert not inbox.conversation(r.conversation_id).opted_out
    actions = [e.action for e in inbox.audit_log("contact", r.contact_id)]
    assert actions == ["opt_out", "consent", "consent", "opt_in"]


def test_closed_conversation_reopens_when_the_lead_writes(inbox, friday_noon):
    r = inbox.ingest(LAURA, msg("w1", "hola", friday_noon))
    assert inbox.close_conversation(r.conversation_id, "no_reply_needed").status == "closed"
    assert inbox.list_conversations(status="open") == []
    inbox.ingest(LAURA, msg("w2", "otra pregunta", friday_noon + timedelta(days=2)))
    assert inbox.conversation(r.conversation_id).status == "open"


def test_background_checkpointer_runs_and_stops(tmp_path, profile, friday_noon):
    inbox = Inbox(tmp_path / "inbox.db", copilot=KeywordAnalyzer(profile))
    inbox.start_checkpointer(interval=0.01)
    for i in range(20):
        inbox.ingest(LAURA, msg(f"w{i}", "hola", friday_noon + timedelta(seconds=i)))
    checkpointer = inbox._checkpointer
    deadline = 200
    while checkpointer.runs == 0 and deadline:
        time.sleep(0.01)
        deadline -= 1
    assert checkpointer.runs > 0
    inbox.close()
    assert checkpointer._thread is None


def test_checkpointer_starts_the_wal_over_when_it_grows_past_its_limit(tmp_path):
    # Steady writes (a little Python work between them, as in ingest): a passive
    # checkpoint alone never lets SQLite start the WAL over, so it would only grow.
    path = tmp_path / "inbox.db"
    db = open_db(path)
    db.execute("PRAGMA wal_autocheckpoint = 0")  # only the thread checkpoints
    db.execute("CREATE TABLE filler (x TEXT)")
    wal = Path(f"{path}-wal")
    checkpointer = Checkpointer(path, interval=0.02, max_wal_bytes=128 * 1024).start()
    sizes = []
    try:
        for _ in range(600):  # ~2.5 MB through the WAL
            db.execute("INSERT INTO filler VALUES (?)", ("x" * 4000,))
            sizes.append(wal.stat().st_size)
            time.sleep(0.001)
    finally:
        checkpointer.stop()
    assert checkpointer.truncations >= 1
    assert any(b < a for a, b in pairwise(sizes))  # the file shrank along the way
    assert max(sizes) < 1_500_000, max(sizes)
    assert db.execute("SELECT COUNT(*) FROM filler").fetchone()[0] == 600


def test_a_long_read_delays_the_wal_truncation_not_the_writers(tmp_path):
    path = tmp_path / "inbox.db"
    db = open_db(path)
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("CREATE TABLE filler (x TEXT)")
    for _ in range(100):  # ~0.5 MB of WAL, past the limit below
        db.execute("INSERT INTO filler VALUES (?)", ("x" * 4000,))
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM filler").fetchone()  # holds its snapshot
    checkpointer = Checkpointer(
        path, interval=0.02, max_wal_bytes=128 * 1024, truncate_wait_ms=20
    ).start()
    db.execute("PRAGMA busy_timeout = 2000")  # a stalled writer would fail, not wait
    try:
        for _ in range(50):
            db.execute("INSERT INTO filler VALUES ('during the read')")
            time.sleep(0.01)
        assert checkpointer.truncations == 0  # it cannot empty a WAL a reader still needs
        reader.execute("COMMIT")
        deadline = time.monotonic() + 5
        while checkpointer.truncations == 0 and time.monotonic() < deadline:
            db.execute("INSERT INTO filler VALUES ('after')")
            time.sleep(0.02)
    finally:
        checkpointer.stop()
        reader.close()
    assert checkpointer.truncations >= 1
    assert db.execute("SELECT COUNT(*) FROM filler").fetchone()[0] >= 151


class _Recording(KeywordAnalyzer):
    def __init__(self, profile):
        super().__init__(profile)
        self.seen = []

    def analyze(self, conversation, now=None):
        self.seen.append([(m.id, m.direction.value, m.text) for m in conversation.messages])
        return super().analyze(conversation, now)


def test_copilot_sees_the_recent_messages_with_or_without_the_cache(
    tmp_path, profile, clock, friday_noon
):
    analyzer = _Recording(profile)
    inbox = Inbox(
        tmp_path / "inbox.db", copilot=analyzer, clock=clock, config=InboxConfig(recent_messages=3)
    )
    agent = inbox.create_agent("Ana", available=True)[0]
    at = [friday_noon + timedelta(minutes=i) for i in range(6)]
    r = inbox.ingest(LAURA, msg("w1", "hola", at[0]))
    inbox.ingest(LAURA, msg("w2", "busco sofá", at[1]))
    clock.set(at[2])
    inbox.reply(r.conversation_id, agent.id, "¿de qué color?", last_seen_message_id="w2")
    inbox.ingest(LAURA, msg("w3", "gris", at[3]))
    inbox.ingest(LAURA, msg("w4", "para mañana", at[4]))
    texts = [[m[2] for m in seen] for seen in analyzer.seen]
    assert texts == [
        ["hola"],
        ["hola", "busco sofá"],
        ["busco sofá", "¿de qué color?", "gris"],  # the reply invalidated the cache
        ["¿de qué color?", "gris", "para mañana"],  # served from the cache
    ]
    # A fresh inbox (no cache) builds the same context from the database.
    fresh = Inbox(
        tmp_path / "inbox.db",
        copilot=KeywordAnalyzer(profile),
        clock=clock,
        config=InboxConfig(recent_messages=3),
    )
    seq = fresh.conn.execute("SELECT id FROM messages WHERE wa_id = 'w4'").fetchone()[0]
    rebuilt = fresh._conversation_for(r.conversation_id, seq, at[4].timestamp())
    assert [(m.id, m.direction.value, m.text) for m in rebuilt.messages] == [
        tuple(x) for x in analyzer.seen[3]
    ]


def test_latest_analysis_reads_through_indexes_not_the_whole_table(inbox):
    plan = " | ".join(
        row[3] for row in inbox.conn.execute("EXPLAIN QUERY PLAN " + LATEST_ANALYSIS_SQL, (1,))
    )
    assert "SEARCH m USING COVERING INDEX idx_messages_conversation_id_ts" in plan
    assert "SEARCH a USING COVERING INDEX idx_analyses_message_seq" in plan
    assert "SEARCH analyses USING INTEGER PRIMARY KEY" in plan
    assert "SCAN" not in plan


def test_latest_analysis_is_the_newest_one_of_the_conversation(inbox, clock):
    contact = Contact(wa_id="573001234567", name="Laura")
    first = inbox.ingest(contact, msg("wamid.a1", "hola", clock.now()))
    assert inbox.latest_analysis(first.conversation_id)["message_id"] == "wamid.a1"
    clock.advance(minutes=1)
    inbox.ingest(contact, msg("wamid.a2", "cuanto sale el sofa?", clock.now()))
    latest = inbox.latest_analysis(first.conversation_id)
    assert latest["message_id"] == "wamid.a2"
    assert latest["result"]["message_id"] == "wamid.a2"
    assert latest["created_at"].tzinfo is not None
    assert inbox.latest_analysis(999) is None
