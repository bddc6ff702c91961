"""The 24-hour customer service window: one rule, and every caller agrees on it.

The window is open strictly before 24 hours after the lead's latest message; at
exactly 24:00:00 it is closed. The library (state, template choice, LLM request,
analysis), the inbox's refusal before anything reaches the sender, the JSON API
and the web page are all checked at 23:59:59, 24:00:00 and 24:00:01.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from copilot import window
from copilot.facade import Copilot
from copilot.inbox import Inbox, ManualClock
from copilot.inbox.clock import SystemClock
from copilot.inbox.testing import RecordingSender
from copilot.llm.context import window_open as llm_window_open
from copilot.models import Contact, Conversation, Message, QualificationFields
from copilot.replies import choose_template
from copilot.service import Settings, create_app
from copilot.state import conversation_state
from copilot.taxonomy import Author, Direction, MessageType, TemplateKey

BOGOTA = ZoneInfo("America/Bogota")
#: Thursday noon: 24 hours later (Friday noon) the business is open too, so
#: business hours never decide the template choice here.
WROTE = datetime(2026, 11, 19, 12, 0, tzinfo=BOGOTA)
ADMIN = "window-admin-token-0123456789"

MOMENTS = [
    pytest.param(timedelta(hours=23, minutes=59, seconds=59), True, id="23:59:59"),
    # Close enough that hours rounded to four decimals would read 24.0.
    pytest.param(timedelta(hours=24) - timedelta(milliseconds=100), True, id="23:59:59.9"),
    pytest.param(timedelta(hours=24), False, id="24:00:00"),
    pytest.param(timedelta(hours=24, seconds=1), False, id="24:00:01"),
]


# --- the rule itself ------------------------------------------------------------------


@pytest.mark.parametrize(("elapsed", "open_"), MOMENTS)
def test_the_boundary_in_datetimes_epochs_and_hours(elapsed, open_):
    now = WROTE + elapsed
    assert window.closes_at(WROTE) == WROTE + timedelta(hours=24)
    assert window.is_open(window.closes_at(WROTE), now) is open_
    assert window.open_since(WROTE, now) is open_
    epoch = WROTE.timestamp()
    assert window.open_since(epoch, now.timestamp()) is open_
    assert window.is_open(window.closes_at(epoch), now.timestamp()) is open_
    assert window.open_after(elapsed.total_seconds() / 3600) is open_


def test_no_lead_message_is_a_closed_window():
    assert window.is_open(None, WROTE) is False
    assert window.open_since(None, WROTE) is False
    assert window.open_after(None) is False


def test_a_lead_message_from_the_future_holds_the_window_open():
    assert window.open_since(WROTE + timedelta(minutes=5), WROTE) is True


def test_one_microsecond_before_the_end_is_still_open():
    now = WROTE + timedelta(hours=24) - timedelta(microseconds=1)
    assert window.open_since(WROTE, now) is True


# --- every caller agrees ---------------------------------------------------------------


def _conversation() -> Conversation:
    # We answered once, then the lead wrote: inside the window this is a
    # qualification question, outside it the approved acknowledgement.
    return Conversation(
        contact=Contact(wa_id="573001234567", name="Laura"),
        messages=[
            Message(id="w0", text="hola, busco un sofá", timestamp=WROTE - timedelta(minutes=10)),
            Message(
                id="o1",
                text="¡Hola Laura! ¿Qué medidas buscas?",
                timestamp=WROTE - timedelta(minutes=5),
                direction=Direction.OUTBOUND,
                author=Author.AGENT,
            ),
            Message(id="w1", text="y cuánto se demora la entrega?", timestamp=WROTE),
        ],
    )


@pytest.mark.parametrize(("elapsed", "open_"), MOMENTS)
def test_the_library_agrees_at_the_boundary(profile, elapsed, open_):
    now = WROTE + elapsed
    conversation = _conversation()
    state = conversation_state(conversation, QualificationFields(), profile, now)
    assert state.window_open is open_
    # A state read in hours (as the evaluation datasets give it) decides the same.
    assert window.open_after(state.hours_since_last_inbound) is open_
    assert llm_window_open(conversation, now) is open_
    analysis = Copilot(profile).analyze(conversation, now=now)
    assert analysis.state.window_open is open_
    assert analysis.reply is not None
    assert analysis.reply.requires_approved_template is (not open_)
    chosen = choose_template(state, None, profile)
    assert (chosen is not TemplateKey.ACKNOWLEDGEMENT) is open_


def test_a_system_notice_opens_no_window(profile):
    now = WROTE + timedelta(hours=30)
    conversation = _conversation()
    conversation.messages.append(
        Message(
            id="s1",
            text="the customer changed their number",
            timestamp=now - timedelta(hours=1),
            type=MessageType.SYSTEM,
        )
    )
    state = conversation_state(conversation, QualificationFields(), profile, now)
    assert state.window_open is False
    assert llm_window_open(conversation, now) is False


@pytest.mark.parametrize(("elapsed", "open_"), MOMENTS)
def test_the_automatic_message_goes_as_free_text_only_inside_the_window(
    profile, tmp_path, elapsed, open_
):
    """What the inbox hands to the sender: free text inside the window, the
    approved template outside it."""
    clock = ManualClock(WROTE)
    sender = RecordingSender()
    inbox = Inbox(str(tmp_path / "inbox.db"), copilot=Copilot(profile), clock=clock, sender=sender)
    lead = Message(id="wamid.w1", text="hola, busco un sofá", timestamp=WROTE)
    inbox.ingest(Contact(wa_id="573001234567", name="Laura"), lead)
    clock.set(WROTE + elapsed)
    assert inbox.tick().acknowledgements == 1
    (sent,) = sender.sent
    assert sent.template == TemplateKey.ACKNOWLEDGEMENT
    expected = None if open_ else profile.templates[TemplateKey.ACKNOWLEDGEMENT].approved_name
    assert sent.approved_name == expected
    inbox.close()


def test_a_system_notice_opens_no_window_in_the_inbox(profile, tmp_path):
    clock = ManualClock(WROTE)
    inbox = Inbox(str(tmp_path / "inbox.db"), copilot=Copilot(profile), clock=clock)
    laura = Contact(wa_id="573001234567", name="Laura")
    cid = inbox.ingest(laura, Message(id="w1", text="hola", timestamp=WROTE)).conversation_id
    notice = Message(
        id="s1",
        text="the customer changed their number",
        timestamp=WROTE + timedelta(hours=25),
        type=MessageType.SYSTEM,
    )
    inbox.ingest(laura, notice)
    assert inbox.conversation(cid).window_closes_at == WROTE + timedelta(hours=24)
    inbox.close()


@pytest.fixture
def frozen(monkeypatch):
    """The service's clock, held still at a moment the test sets."""
    moment = {"now": WROTE}
    monkeypatch.setattr(SystemClock, "now", lambda self: moment["now"])
    return moment


def _login(client: TestClient) -> None:
    page = client.get("/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"token": ADMIN, "nonce": nonce, "next": "/"})
    assert r.status_code == 200, r.text[:300]


@pytest.mark.parametrize(("elapsed", "open_"), MOMENTS)
def test_the_api_the_web_and_the_inbox_refusal_agree(tmp_path, frozen, elapsed, open_):
    settings = Settings(db=str(tmp_path / "inbox.db"), admin_token=ADMIN, background=False)
    app = create_app(settings)
    with TestClient(app) as client:
        inbox = app.state.service.inbox()
        lead = Message(id="wamid.w1", text="hola, busco un sofá", timestamp=WROTE)
        cid = inbox.ingest(Contact(wa_id="573001234567", name="Laura"), lead).conversation_id
        headers = {"Authorization": f"Bearer {ADMIN}"}
        assert client.post(f"/api/conversations/{cid}/claim", headers=headers).status_code < 300

        frozen["now"] = WROTE + elapsed
        view = client.get(f"/api/conversations/{cid}", headers=headers)
        assert view.status_code == 200, view.text
        assert view.json()["window_open"] is open_

        _login(client)
        page = client.get(f"/c/{cid}")
        assert page.status_code == 200
        shown = re.search(r'<p class="window (open|closed)">', page.text).group(1)
        assert shown == ("open" if open_ else "closed")

        body = {"last_seen_message_id": "wamid.w1", "text": "¿seguimos con el sofá?"}
        client.cookies.clear()
        sent = client.post(f"/api/conversations/{cid}/reply", headers=headers, json=body)
        if open_:
            assert sent.status_code in (200, 201), sent.text
        else:
            assert sent.status_code == 422 and sent.json()["error"] == "window_closed"
