"""The change feed behind live pages: what changed, for whom."""

from __future__ import annotations

import pytest

from copilot.inbox import Inbox, ManualClock
from copilot.inbox.access import Actor
from copilot.inbox.changes import changes_since, current_marks, data_version
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message


@pytest.fixture
def inbox(profile, friday_noon):
    return Inbox(":memory:", copilot=KeywordAnalyzer(profile), clock=ManualClock(friday_noon))


def say(inbox, wa_id, mid, text, at):
    return inbox.ingest(
        Contact(wa_id=wa_id, name=f"L{wa_id}"), Message(id=mid, text=text, timestamp=at)
    ).conversation_id


def test_changes_say_what_happened_and_only_to_those_who_may_read(inbox, friday_noon):
    ana, _ = inbox.create_agent("Ana", "ventas")
    otro, _ = inbox.create_agent("Otro", "soporte")
    mine = say(inbox, "5701", "w1", "hola", friday_noon)
    inbox.claim(mine, ana.id)
    marks = current_marks(inbox.conn)
    say(inbox, "5701", "w2", "cuánto cuesta?", friday_noon)
    inbox.add_note(mine, ana.id, "llamar")
    as_ana, marks_after = changes_since(inbox.conn, marks, Actor(ana.id, "agent", "ventas"))
    assert [c.conversation_id for c in as_ana] == [mine]
    change = as_ana[0]
    assert change.inbound and change.owner_id == ana.id and change.team == "ventas"
    assert {"message", "analysis", "suggestion", "activity"} <= change.kinds
    as_other, _ = changes_since(inbox.conn, marks, Actor(otro.id, "agent", "soporte"))
    assert as_other == []  # another team's conversation: not even its id
    # Past the new marks, nothing is new.
    assert changes_since(inbox.conn, marks_after, None)[0] == []


def test_data_version_moves_when_another_connection_commits(tmp_path, profile, friday_noon):
    import sqlite3

    path = tmp_path / "inbox.db"
    inbox = Inbox(path, copilot=KeywordAnalyzer(profile), clock=ManualClock(friday_noon))
    reader = sqlite3.connect(path)
    before = data_version(reader)
    assert data_version(reader) == before
    say(inbox, "5701", "w1", "hola", friday_noon)
    assert data_version(reader) != before
    reader.close()
    inbox.close()
