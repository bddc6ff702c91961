"""Web inbox benchmark: page render times with 10,000 conversations in the database.

    python bench/bench_web.py                       # 10k conversations, 100k messages
    python bench/bench_web.py --conversations 10000 --requests 200

Builds the database in bulk (bench_inbox's builder, 30 % of conversations open, a
tenth of those unassigned), adds real conversations ingested through the rules
engine (analysis, fields, suggestion), then times whole requests through the real
Litestar app (S1's ``create_app`` with the web router; sign-in cookie, routing,
queries, Jinja rendering, security headers) in-process, so the figures are server
time without the network. Prints median / p95 / p99; asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_inbox import build
from litestar.testing import TestClient

from copilot.inbox import Inbox
from copilot.models import Contact, Message
from copilot.service import Settings, create_app
from copilot.web.session import session_cookie

LEAD_LINES = [
    "hola, cuanto sale el sofá de 3 puestos?",
    "lo necesito para este mes, somos 4 en casa",
    "me pueden llamar mañana? mi presupuesto es 2 millones",
    "vivo en Chía, hacen envíos?",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(label: str, times: list[float], target: float) -> None:
    ms = [t * 1000 for t in times]
    print(
        f"{label:<44} n={len(ms):<4} median {statistics.median(ms):6.1f} ms"
        f"  p95 {pct(ms, 0.95):6.1f} ms  p99 {pct(ms, 0.99):6.1f} ms  (target <= {target:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        secs = build(path, args.conversations, args.messages, 20, seed=7, open_share=0.3)
        inbox = Inbox(str(path))
        now = datetime.now(UTC)
        # Recent activity, some queue: as an inbox looks during the day.
        inbox.conn.execute(
            "UPDATE conversations SET last_message_at = ? - (id * 37 % 86400),"
            " waiting_since = CASE WHEN id % 3 = 0 THEN ? - (id % 3600) END,"
            " assignee_id = CASE WHEN id % 10 = 0 THEN NULL ELSE assignee_id END",
            (now.timestamp(), now.timestamp()),
        )
        _admin, admin_token = inbox.create_agent("Admin", "ventas", "admin")
        agent, agent_token = inbox.create_agent("Ana", "ventas")
        inbox.conn.execute(
            "UPDATE conversations SET assignee_id = ? WHERE id % 20 = 1", (agent.id,)
        )
        real = []
        for i in range(5):
            contact = Contact(wa_id=f"5739{i:08d}", name=f"Real {i}")
            for j in range(30):
                text = LEAD_LINES[j % len(LEAD_LINES)]
                moment = now - timedelta(minutes=60 - j)
                result = inbox.ingest(
                    contact, Message(id=f"wamid.real.{i}.{j}", text=text, timestamp=moment)
                )
            real.append(result.conversation_id)
        inbox.conn.execute(
            f"UPDATE conversations SET assignee_id = ? WHERE id IN ({','.join('?' * len(real))})",
            (agent.id, *real),
        )
        counts = inbox.conn.execute(
            "SELECT COUNT(*), SUM(status = 'open'), SUM(assignee_id IS NULL AND status = 'open'),"
            " (SELECT COUNT(*) FROM messages) FROM conversations"
        ).fetchone()
        inbox.close()
        print(
            f"database: {counts[0]} conversations ({counts[1]} open, {counts[2]} unassigned),"
            f" {counts[3]} messages; built in {secs:.1f} s"
        )

        app = create_app(Settings(db=str(path), background=False))
        with TestClient(app) as client:
            cases = [
                ("list: admin, all open (newest first)", admin_token, "/?view=all", 150),
                ("list: agent, mine", agent_token, "/?view=mine", 150),
                ("list: agent, unassigned (oldest first)", agent_token, "/?view=unassigned", 150),
                ("list: admin, all + SLA breached filter", admin_token, "/?view=all&sla=1", 150),
                (
                    "search: agent, team, 'sofa' (accents ignored)",
                    agent_token,
                    "/?view=team&q=sofa",
                    150,
                ),
                ("search: admin, all, 'hola envios'", admin_token, "/?view=all&q=hola+envios", 150),
                ("conversation view (30 msgs, analysis)", agent_token, f"/c/{real[0]}", 100),
                ("conversation view (bulk, 10 msgs)", admin_token, "/c/5000", 100),
            ]
            for label, token, url, target in cases:
                client.cookies.clear()
                client.cookies.set("lc_session", session_cookie(app.state.service, token))
                for _ in range(10):  # warm up (templates compiled, caches filled)
                    page = client.get(url, follow_redirects=False)
                    assert page.status_code == 200, url
                    assert 'id="rows"' in page.text or 'id="chat"' in page.text, url
                times = []
                for _ in range(args.requests):
                    started = time.perf_counter()
                    response = client.get(url, follow_redirects=False)
                    times.append(time.perf_counter() - started)
                    assert response.status_code == 200
                report(label, times, target)


if __name__ == "__main__":
    main()
