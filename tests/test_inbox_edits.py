"""Edits, revokes and reactions of stored messages; and the unvalidated context build."""

from __future__ import annotations

from datetime import timedelta

import pytest

from copilot.inbox import Inbox, ManualClock, open_db
from copilot.inbox.db import migrations
from copilot.inbox.edits import REVOKED_PREVIEW
from copilot.inbox.ingest import _stored_message
from copilot.inbox.models import from_epoch
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message
from copilot.taxonomy import Author, Direction

LAURA = Contact(wa_id="573001112233", name="Laura")


class SeeingAnalyzer(KeywordAnalyzer):
    """Remembers the texts of every context it was given."""

    def __init__(self, profile):
        super().__init__(profile)
        self.seen: list[list[str | None]] = []

    def analyze(self, conversation, now=None):
        self.seen.append([m.text for m in conversation.messages])
        return super().analyze(conversation, now)


@pytest.fixture
def clock(friday_noon):
    return ManualClock(friday_noon)


@pytest.fixture
def analyzer(profile):
    return SeeingAnalyzer(profile)


@pytest.fixture
def inbox(tmp_path, analyzer, clock):
    box = Inbox(tmp_path / "inbox.db", copilot=analyzer, clock=clock)
    yield box
    box.close()


def msg(mid, text, at, **kw):
    return Message(id=mid, text=text, timestamp=at, **kw)


def audit_actions(inbox, message_id):
    return [(e.action, e.detail) for e in inbox.audit_log("message", message_id)]


def test_edit_replaces_text_in_place_keeps_old_text_and_reanalyses(inbox, friday_noon):
    r = inbox.ingest(LAURA, msg("wamid.1", "hola busco sofá", friday_noon))
    assert inbox.conversation(r.conversation_id).fields["need"]["value"] == "sofá"
    edited_at = friday_noon + timedelta(minutes=1)
    out = inbox.apply_edit("wamid.1", "hola busco cama", edited_at, edit_id="wamid.e1")
    assert out.text == "hola busco cama" and out.edited_at == edited_at
    assert out.seq == inbox.message("wamid.1").seq  # same row
    assert inbox.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1
    [(action, detail)] = audit_actions(inbox, "wamid.1")
    assert action == "message_edit"
    assert detail["before"] == "hola busco sofá" and detail["after"] == "hola busco cama"
    assert detail["edit_id"] == "wamid.e1"
    conv = inbox.conversation(r.conversation_id)
    assert conv.last_message_text == "hola busco cama"
    assert conv.fields["need"]["value"] == "cama"  # analysed again
    assert inbox.conn.execute("SELECT COUNT(*) FROM analyses").fetchone()[0] == 2


def test_edit_is_idempotent_and_ignores_older_edits(inbox, analyzer, friday_noon):
    inbox.ingest(LAURA, msg("wamid.1", "hola", friday_noon))
    later, earlier = friday_noon + timedelta(minutes=2), friday_noon + timedelta(minutes=1)
    inbox.apply_edit("wamid.1", "hola, busco mesa", later)
    calls = analyzer.calls
    inbox.apply_edit("wamid.1", "hola, busco mesa", later)  # redelivered
    assert inbox.apply_edit("wamid.1", "hola, busco silla", earlier).text == "hola, busco mesa"
    assert analyzer.calls == calls  # nothing changed, nothing analysed
    assert [a for a, _ in audit_actions(inbox, "wamid.1")] == ["message_edit"]


def test_edit_of_an_outbound_message_is_not_analysed(inbox, analyzer, friday_noon):
    inbox.ingest(LAURA, msg("wamid.1", "hola", friday_noon))
    echo = msg(
        "wamid.2",
        "Hola Laura",
        friday_noon + timedelta(minutes=1),
        direction=Direction.OUTBOUND,
        author=Author.PHONE_ECHO,
    )
    inbox.ingest(LAURA, echo)
    calls = analyzer.calls
    out = inbox.apply_edit("wamid.2", "Hola Laura!", friday_noon + timedelta(minutes=2))
    assert out.text == "Hola Laura!" and analyzer.calls == calls


def test_unknown_message_changes_nothing(inbox, friday_noon):
    inbox.ingest(LAURA, msg("wamid.1", "hola", friday_noon))
    assert inbox.apply_edit("wamid.nope", "x", friday_noon) is None
    assert inbox.apply_revoke("wamid.nope", friday_noon) is None
    assert inbox.apply_reaction("wamid.nope", "👍", friday_noon) is None
    assert inbox.audit_log("message", "wamid.nope") == []


def test_revoke_keeps_the_row_and_leaves_the_context(inbox, analyzer, friday_noon):
    r = inbox.ingest(LAURA, msg("wamid.1", "mi cédula es 123", friday_noon))
    at = friday_noon + timedelta(minutes=1)
    out = inbox.apply_revoke("wamid.1", at, revoke_id="wamid.r1")
    assert out.revoked_at == at and out.text == "mi cédula es 123"  # kept, flagged
    assert inbox.apply_revoke("wamid.1", at + timedelta(minutes=1)).revoked_at == at  # twice
    [(action, detail)] = audit_actions(inbox, "wamid.1")
    assert action == "message_revoke" and detail["text"] == "mi cédula es 123"
    assert inbox.conversation(r.conversation_id).last_message_text == REVOKED_PREVIEW
    # A revoked message is not edited any more.
    assert inbox.apply_edit("wamid.1", "otra cosa", at + timedelta(minutes=2)).text == (
        "mi cédula es 123"
    )
    inbox.ingest(LAURA, msg("wamid.2", "hola de nuevo", friday_noon + timedelta(minutes=3)))
    assert analyzer.seen[-1] == ["hola de nuevo"]


def test_edit_refreshes_the_cached_context(inbox, analyzer, friday_noon):
    inbox.ingest(LAURA, msg("wamid.1", "busco sofá", friday_noon))
    inbox.apply_edit("wamid.1", "busco cama", friday_noon + timedelta(minutes=1))
    inbox.ingest(LAURA, msg("wamid.2", "para mañana", friday_noon + timedelta(minutes=2)))
    assert analyzer.seen[-1] == ["busco cama", "para mañana"]


def test_reactions_one_per_side_latest_wins_and_removal(inbox, friday_noon):
    inbox.ingest(LAURA, msg("wamid.1", "hola", friday_noon))
    t = [friday_noon + timedelta(minutes=i) for i in range(5)]
    assert inbox.apply_reaction("wamid.1", "👍", t[1]).reactions == {"lead": "👍"}
    out = inbox.apply_reaction("wamid.1", "❤️", t[2], direction=Direction.OUTBOUND)
    assert out.reactions == {"lead": "👍", "business": "❤️"}
    assert inbox.apply_reaction("wamid.1", "😮", t[0]).reactions["lead"] == "👍"  # older
    assert inbox.apply_reaction("wamid.1", None, t[3]).reactions == {"business": "❤️"}
    inbox.apply_reaction("wamid.1", None, t[3])  # redelivered removal
    # A reaction older than the removal does not come back.
    assert "lead" not in inbox.apply_reaction("wamid.1", "👍", t[2]).reactions
    actions = [(d["who"], d["emoji"]) for a, d in audit_actions(inbox, "wamid.1")]
    assert actions == [("lead", "👍"), ("business", "❤️"), ("lead", None)]
    [stored] = inbox.messages(inbox.message("wamid.1").conversation_id)
    assert stored.reactions == {"business": "❤️"}


def test_old_database_gets_the_edit_columns(tmp_path):
    path = tmp_path / "inbox.db"
    db = open_db(path)
    assert [m.name for m in migrations.applied(db)][:2] == ["m001_initial", "m002_edits"]
    assert {"edited_at", "revoked_at", "reactions"} <= set(db["messages"].columns_dict)
    db.close()


@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_unvalidated_context_message_equals_the_validated_one(direction):
    author = "lead" if direction == "inbound" else "agent"
    fast = _stored_message("wamid.9", direction, author, "text", "hola", 1763658000.25)
    slow = Message.model_validate(
        {
            "id": "wamid.9",
            "direction": direction,
            "author": author,
            "type": "text",
            "text": "hola",
            "timestamp": from_epoch(1763658000.25),  # what the validated path passed
        }
    )
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == slow.model_fields_set
    assert repr(fast) == repr(slow)
