"""Full-text search: accents and case do not matter, the best match comes
first, matches are highlighted, and typed syntax is only ever text."""

from __future__ import annotations

from datetime import timedelta

import pytest

from copilot.inbox import Inbox, ManualClock
from copilot.inbox.db import open_db
from copilot.inbox.listing import ConversationQuery, list_conversations
from copilot.inbox.search import fts_query, highlight
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message


@pytest.fixture
def inbox(profile, friday_noon):
    return Inbox(":memory:", copilot=KeywordAnalyzer(profile), clock=ManualClock(friday_noon))


def say(inbox, wa_id, name, mid, text, at):
    return inbox.ingest(
        Contact(wa_id=wa_id, name=name), Message(id=mid, text=text, timestamp=at)
    ).conversation_id


def search(inbox, text, actor=None):
    rows = list_conversations(inbox, ConversationQuery(view="all", status=None, text=text), actor)
    return rows


def test_accents_and_case_do_not_matter(inbox, friday_noon):
    sofa = say(inbox, "573001", "Laura", "w1", "Quiero el SOFÁ de cuero", friday_noon)
    sao = say(inbox, "573002", "João Conceição", "w2", "oi, vocês entregam?", friday_noon)
    say(inbox, "573003", "Pedro", "w3", "hola, una mesa", friday_noon)
    assert [r["id"] for r in search(inbox, "sofa")] == [sofa]
    assert [r["id"] for r in search(inbox, "Sofá")] == [sofa]
    assert [r["id"] for r in search(inbox, "joao conceicao")] == [sao]
    assert [r["id"] for r in search(inbox, "CONCEI")] == [sao]  # a prefix
    assert [r["id"] for r in search(inbox, "573002")] == [sao]  # the number
    assert search(inbox, "sillón") == []


def test_the_contact_before_the_messages_and_edits_followed(inbox, friday_noon):
    by_message = say(inbox, "573001", "Laura", "w1", "mi vecina Marta lo compró", friday_noon)
    by_name = say(inbox, "573002", "Marta Gómez", "w2", "hola", friday_noon - timedelta(days=3))
    rows = search(inbox, "marta")
    assert [r["id"] for r in rows] == [by_name, by_message]
    assert rows[1]["match_text"] == "mi vecina Marta lo compró"
    inbox.apply_edit("w1", "mi vecina lo compró")
    assert [r["id"] for r in search(inbox, "marta")] == [by_name]
    assert [r["id"] for r in search(inbox, "vecina")] == [by_message]


def test_search_syntax_is_only_text(inbox, friday_noon):
    cid = say(inbox, "573001", "Eva", "w1", 'precio "sofa" OR NEAR(x) * -', friday_noon)
    for text in ('"sofa" OR', "NEAR(", "sofa*", "precio -", "near OR"):
        assert [r["id"] for r in search(inbox, text)] == [cid], text
    assert search(inbox, '" * ( )') == []
    assert fts_query('a"b OR c') == '"a"* "b"* "or"* "c"*'


def test_search_respects_the_access_rule(inbox, friday_noon):
    from copilot.inbox.access import Actor

    ana, _ = inbox.create_agent("Ana", "ventas")
    cid = say(inbox, "573001", "Laura", "w1", "quiero un sofá", friday_noon)
    inbox.conn.execute("INSERT INTO teams (name) VALUES ('soporte')")
    inbox.conn.execute(
        "UPDATE conversations SET team_id = (SELECT id FROM teams WHERE name = 'soporte')"
        " WHERE id = ?",
        (cid,),
    )
    rows = list_conversations(
        inbox, ConversationQuery(view="team", text="sofa"), Actor(ana.id, "agent", "ventas")
    )
    assert rows == []


def test_highlight_marks_folded_prefixes():
    assert highlight("Quiero el SOFÁ rojo", "sofa") == [
        ("Quiero el ", False),
        ("SOFÁ", True),
        (" rojo", False),
    ]
    assert highlight("São Paulo, sí", "sao si") == [
        ("São", True),
        (" Paulo, ", False),
        ("sí", True),
    ]
    long = "x " * 100 + "el sofá" + " y" * 50
    parts = highlight(long, "sofa", width=40)
    assert parts[0] == ("…", False) and ("sofá", True) in parts and parts[-1] == ("…", False)


def test_an_old_file_is_indexed_by_the_migration(tmp_path, profile, friday_noon):
    path = tmp_path / "inbox.db"
    db = open_db(path)
    db.conn.close()
    inbox = Inbox(path, copilot=KeywordAnalyzer(profile), clock=ManualClock(friday_noon))
    cid = say(inbox, "573001", "Laura", "w1", "un sofá azul", friday_noon)
    # Emulate a file from before the index: drop it, forget the migration, reopen.
    inbox.conn.execute("DROP TRIGGER message_search_ai")
    for name in ("message_search", "contact_search"):
        inbox.conn.execute(f"DROP TABLE {name}")
    for trigger in ("message_search_ad", "message_search_au"):
        inbox.conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for trigger in ("contact_search_ai", "contact_search_ad", "contact_search_au"):
        inbox.conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    inbox.conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm010_search'")
    inbox.close()
    again = Inbox(path, copilot=KeywordAnalyzer(profile), clock=ManualClock(friday_noon))
    assert [r["id"] for r in search(again, "SOFA")] == [cid]
    assert [r["id"] for r in search(again, "laura")] == [cid]
    again.close()
