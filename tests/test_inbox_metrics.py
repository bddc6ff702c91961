"""Metrics over a small, fully known day of the inbox, and their CSV / JSON export."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from copilot.cli import main
from copilot.inbox import Inbox, InboxConfig, ManualClock
from copilot.inbox.testing import KeywordAnalyzer, RecordingSender
from copilot.models import Contact, Message, Referral

BOGOTA = ZoneInfo("America/Bogota")
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=BOGOTA)  # Friday noon
START, END = datetime(2026, 11, 20, tzinfo=BOGOTA), datetime(2026, 11, 23, tzinfo=BOGOTA)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def day(profile, tmp_path):
    """Four leads: answered in 10 min, in 30 min, never, and across the night."""
    clock = ManualClock(T0)
    box = Inbox(
        tmp_path / "inbox.db",
        copilot=KeywordAnalyzer(profile),
        clock=clock,
        sender=RecordingSender(),
        config=InboxConfig(reassign_after_minutes=None, auto_acknowledgement=False),
    )
    ana = box.create_agent("Ana", "ventas", available=True)[0]
    beto = box.create_agent("Beto", "ventas", available=True)[0]

    def lead(n, text, minutes, **kw):
        clock.set(at(minutes))
        return box.ingest(
            Contact(wa_id=f"5730000{n}"),
            Message(id=f"in{n}", text=text, timestamp=at(minutes), **kw),
        )

    def answer(result, agent, minutes, **kw):
        clock.set(at(minutes))
        return box.reply(
            result.conversation_id, agent.id, last_seen_message_id=result.message_id, **kw
        )

    c1 = lead(1, "hola, vi el anuncio", 0, referral=Referral(source_type="ad"))
    c2 = lead(2, "cuanto cuesta el sofa", 1)
    c3 = lead(3, "quiero un asesor", 2)
    s1 = box.current_suggestion(c1.conversation_id)
    answer(c1, ana, 10, suggestion_id=s1.id)  # accepted welcome template
    s2 = box.current_suggestion(c2.conversation_id)
    answer(c2, beto, 31, suggestion_id=s2.id, text=s2.text + " ¿Cuál modelo?")  # edited
    box.reject_suggestion(box.current_suggestion(c3.conversation_id).id, ana.id, "tono")
    clock.set(at(20))
    box.ingest(Contact(wa_id="57300001"), Message(id="in1b", text="genial", timestamp=at(20)))
    box.move_stage(c1.conversation_id, "won", agent_id=ana.id)
    box.move_stage(c2.conversation_id, "lost", agent_id=beto.id, lost_reason="no_budget")
    c4 = lead(4, "busco cama", 5 * 60 + 50)  # Friday 17:50, ten minutes before closing
    answer(c4, beto, 22 * 60 + 5, text="¡Buenos días!")  # Saturday 10:05
    clock.set(at(23 * 60))
    return box, ana, beto


def test_first_response_and_sla(day):
    box, ana, _beto = day
    report = box.metrics(START, END)
    overall = report.first_response["all"]["all"]
    assert (overall.conversations, overall.answered) == (4, 3)
    assert overall.median_minutes == 30.0  # of 10, 30 and 975
    assert overall.sla_compliance_pct == 25.0  # 1 of 4 within 15 min (the unanswered one breached)
    assert report.first_response["agent"][f"agent:{ana.id}"].median_minutes == 10.0
    assert report.first_response["origin"]["ad"].answered == 1
    assert set(report.first_response["day"]) == {"2026-11-20"}
    business = box.metrics(START, END, business_hours_only=True).first_response["all"]["all"]
    assert business.sla_compliance_pct == 50.0  # the overnight answer took 15 business minutes


def test_funnel_suggestions_handoffs_templates(day):
    box, ana, beto = day
    report = box.metrics(START, END)
    ad = report.funnel_by_origin["ad"]
    assert ad.reached == {"new": 1, "qualified": 1, "proposal_sent": 1, "won": 1}
    unknown = report.funnel_by_origin["unknown"]
    assert unknown.reached["new"] == 3 and unknown.lost == 1
    assert report.lost_reasons == {"no_budget": 1}
    assert report.handoff_rate_pct == 25.0 and report.handoff_reasons == {"human_request": 1}
    s = report.suggestions
    assert (s.accepted, s.edited, s.rejected) == (1, 1, 1)
    assert s.acceptance_pct == pytest.approx(33.33)
    assert 0 < s.mean_similarity_when_edited < 1
    assert report.handled_by_agent == {f"agent:{ana.id}": 1, f"agent:{beto.id}": 2}
    welcome = report.templates["welcome"]
    assert (welcome.sends, welcome.replies) == (2, 1)  # accepted and edited; only lead 1 wrote back


def test_cli_exports_csv_and_json(day, tmp_path):
    _box, *_ = day
    db = str(tmp_path / "inbox.db")
    runner = CliRunner()
    args = ["inbox", "metrics", "--db", db, "--from", START.isoformat(), "--to", END.isoformat()]
    out = runner.invoke(main, [*args, "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert {
        "section": "lost_reasons",
        "group": "all",
        "key": "",
        "metric": "no_budget",
        "value": "1",
    } in rows
    out = runner.invoke(main, [*args, "--format", "json"])
    assert json.loads(out.output)["first_response"]["all"]["all"]["conversations"] == 4


def test_cli_tick_and_bad_database(tmp_path):
    runner = CliRunner()
    db = tmp_path / "x.db"
    assert runner.invoke(main, ["inbox", "init", "--db", str(db)]).exit_code == 0
    out = runner.invoke(main, ["inbox", "tick", "--db", str(db)])
    assert out.exit_code == 0 and json.loads(out.output)["acknowledgements"] == 0
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 100)
    out = runner.invoke(main, ["inbox", "tick", "--db", str(bad)])
    assert out.exit_code == 1 and "not a SQLite database" in out.output
