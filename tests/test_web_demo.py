"""The demo data loader (``lead-copilot serve --demo``) and the chart geometry."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from copilot.demo import AGENTS, DEMO_PREFIX, LEADS, load_demo
from copilot.inbox import Inbox
from copilot.web import charts


def test_demo_fills_a_living_inbox_once_and_prints_tokens(tmp_path: Path) -> None:
    inbox = Inbox(str(tmp_path / "demo.db"))
    now = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # Friday noon in Bogotá
    summary = load_demo(inbox, now=now)
    conn = inbox.conn
    assert conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == len(LEADS) >= 30
    langs = {r[0] for r in conn.execute("SELECT DISTINCT language FROM conversations")}
    assert {"es", "pt", "en"} <= langs
    assert conn.execute("SELECT COUNT(*) FROM analyses").fetchone()[0] >= len(LEADS)
    authors = dict(conn.execute("SELECT author, COUNT(*) FROM messages GROUP BY author"))
    assert authors["lead"] > 40 and authors["agent"] > 20 and authors.get("phone_echo")
    assert authors.get("bot")  # acknowledgements / out-of-hours replies
    states = dict(conn.execute("SELECT state, COUNT(*) FROM suggestions GROUP BY state"))
    assert states["accepted"] and states["edited"] and states["rejected"]
    assert (
        conn.execute("SELECT COUNT(*) FROM conversations WHERE assignee_id IS NULL").fetchone()[0]
        >= 5
    )  # a queue to work on
    assert conn.execute("SELECT COUNT(*) FROM conversations WHERE handoff_needed = 1").fetchone()[0]
    stages = {r[0] for r in conn.execute("SELECT DISTINCT stage FROM conversations")}
    assert {"new", "qualified", "proposal_sent", "won", "lost"} <= stages
    # Every demo agent can sign in with the printed token.
    tokens = [
        line.split()[-1]
        for line in summary.splitlines()
        if line.strip().startswith(tuple(name.split()[0] for name, _, _ in AGENTS.values()))
    ]
    assert len(tokens) == len(AGENTS)
    assert all(inbox.authenticate(token) for token in tokens)
    # Metrics have something to show.
    report = inbox.metrics(datetime(2026, 11, 1, tzinfo=UTC), now)
    assert report.first_response["all"]["all"].answered >= 20
    # A second load (the next start on the same file) adds nothing and prints the
    # same tokens, which still work: nobody is signed out by a restart.
    inbox.close()
    inbox = Inbox(str(tmp_path / "demo.db"))
    conn = inbox.conn
    again = load_demo(inbox, now=now)
    assert "already present" in again
    assert conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == len(LEADS)
    assert [line.split()[-1] for line in again.splitlines() if line.split()[-1] in tokens] == tokens
    assert all(inbox.authenticate(token) for token in tokens)
    # Another database gets other tokens.
    other = Inbox(str(tmp_path / "other.db"))
    assert not set(tokens) & {line.split()[-1] for line in load_demo(other, now=now).splitlines()}
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM contacts WHERE wa_id NOT LIKE ?", (DEMO_PREFIX + "%",)
        ).fetchone()[0]
        == 0
    )


def test_line_chart_breaks_on_missing_days_and_scales() -> None:
    chart = charts.line_chart([("1", 10.0), ("2", None), ("3", 20.0), ("4", 5.0)], threshold=15)
    assert not chart.empty
    assert len(chart.segments) == 2  # the gap splits the line
    ys = [p.y for p in chart.points]
    assert ys[1] < ys[0] < ys[2]  # higher value, smaller y
    assert chart.threshold_y is not None
    assert charts.line_chart([("1", None)]).empty


def test_bar_chart_and_stacked_bar() -> None:
    chart = charts.bar_chart([("a", 100.0), ("b", 0.0), ("c", None)], y_max=100)
    assert [b.label for b in chart.bars] == ["a", "b"]
    assert chart.bars[1].h > 0  # a zero is visible, unlike a day without data
    segs = charts.stacked([("accepted", 3), ("edited", 1), ("rejected", 0)], width=400)
    assert [s.w for s in segs] == [300.0, 100.0, 0.0]
    assert charts.stacked([("accepted", 0)])[0].w == 0
