"""The web inbox in a real browser (Debian's Chromium driven by Playwright) against
a real server (``lead-copilot serve``, granian) on 127.0.0.1 and a real SQLite file.

Skipped only when /usr/bin/chromium is absent (install: apt-get install chromium
chromium-driver); a browser is never downloaded.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from copilot.inbox import Inbox
from copilot.models import Contact, Message
from copilot.profile import load_profile

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parent.parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: apt-get install chromium chromium-driver to run the browser tests",
)


@dataclass
class Site:
    url: str
    db: Path
    tokens: dict[str, str]
    ids: dict[str, int]
    convs: dict[str, int]

    profile_path: Path

    def inbox(self) -> Inbox:
        return Inbox(str(self.db), profile=load_profile(self.profile_path))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _say(inbox: Inbox, wa_id: str, name: str, text: str, n: int, minutes_ago: float = 1) -> int:
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    message = Message(id=f"wamid.b.{wa_id}.{n}", text=text, timestamp=moment)
    return inbox.ingest(Contact(wa_id=wa_id, name=name), message).conversation_id


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("web")
    db = tmp / "inbox.db"
    # Open all day with a long SLA, so the service's background tick sends no
    # automatic message that would change what a test expects.
    profile_path = tmp / "profile.toml"
    text = (REPO / "copilot" / "data" / "demo_profile.toml").read_text()
    head, rest = text.split("[business_hours]", 1)
    rest = rest.split("\n[", 1)[1]
    days = "".join(
        f'{d} = "00:00-23:59"\n' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    head = head.replace("first_response_sla_minutes = 15", "first_response_sla_minutes = 600")
    profile_path.write_text(f"{head}[business_hours]\n{days}\n[{rest}")
    inbox = Inbox(str(db), profile=load_profile(profile_path))
    tokens, ids = {}, {}
    for key, name, team in (("ana", "Ana", "ventas"), ("beto", "Beto", "ventas")):
        agent, token = inbox.create_agent(name, team)
        tokens[key], ids[key] = token, agent.id
    convs = {
        "accept": _say(inbox, "573100000001", "Luis Pérez", "hola, cuanto sale el sofá?", 1, 6),
        "taken": _say(inbox, "573100000002", "Marta", "buenas, tienen camas dobles?", 1, 5),
        "xss": _say(
            inbox, "573100000003", "Eva", "<script>window.__pwned = 1</script> hola!", 1, 4
        ),
    }
    inbox.claim(convs["accept"], ids["ana"])
    inbox.claim(convs["taken"], ids["ana"])
    inbox.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEAD_COPILOT_", "WHATSAPP_"))}
    env.update(PYTHONPATH=str(REPO))
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "copilot",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--profile",
            str(profile_path),
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "server.log").read_text()[-3000:])
            time.sleep(0.1)
        yield Site(url, db, tokens, ids, convs, profile_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site: Site):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="es-CO")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def conv_url(cid: int) -> re.Pattern:
    """A conversation's page, whatever list filters its URL carries."""
    return re.compile(rf"/c/{cid}(\?[^#]*)?$")


def sign_in(page, site: Site, who: str) -> None:
    page.goto(site.url + "/")
    assert "/login" in page.url
    page.fill("#token", site.tokens[who])
    page.click("button[type=submit]")
    page.wait_for_url(site.url + "/")


def test_sign_in_open_a_conversation_and_accept_the_suggestion(page, site: Site) -> None:
    sign_in(page, site, "ana")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["lc_session"]["httpOnly"] is True
    page.screenshot(path="/tmp/web_list.png", full_page=True)
    page.click("text=Luis Pérez")
    page.wait_for_url(conv_url(site.convs["accept"]))
    suggested = page.input_value("#suggestion-form textarea")
    assert suggested.strip()
    assert "Aceptar y enviar" in page.inner_text("#suggestion-form")
    page.screenshot(path="/tmp/web_conversation.png", full_page=True)
    with page.expect_navigation():
        page.click("#suggestion-form button[value=accept]")
    assert "ok=outbox" in page.url, page.inner_text("main")[:500]
    assert "Mensaje guardado en la bandeja de salida" in page.inner_text("#notice")
    outbound = page.locator("#chat li.msg.outbound.author-agent .text")
    assert outbound.last.inner_text() == suggested
    with sqlite3.connect(site.db) as conn:
        rows = conn.execute(
            "SELECT m.text, m.author, m.agent_id, m.status, s.state FROM messages m"
            " JOIN suggestions s ON s.sent_message_id = m.wa_id"
            " WHERE m.conversation_id = ? AND m.direction = 'outbound'",
            (site.convs["accept"],),
        ).fetchall()
    assert rows == [(suggested, "agent", site.ids["ana"], "outbox", "accepted")]


def test_reply_to_a_conversation_another_agent_took_over_is_refused(page, site: Site) -> None:
    sign_in(page, site, "ana")
    cid = site.convs["taken"]
    page.goto(f"{site.url}/c/{cid}")
    page.fill("#reply-form textarea", "Hola Marta, sí tenemos!")
    # Meanwhile an admin gives the conversation to Beto.
    inbox = site.inbox()
    try:
        inbox.transfer(cid, site.ids["ana"], site.ids["beto"], "Beto sigue")
    finally:
        inbox.close()
    with page.expect_navigation():
        page.click("#reply-form button[value=send]")
    page.screenshot(path="/tmp/web_refused.png", full_page=True)
    assert page.locator("#error").count() == 1, page.inner_text("main")[:500]
    error = page.inner_text("#error")
    assert "no eres el responsable" in error
    # The draft is still there, and nothing was sent.
    assert page.input_value("#reply-form textarea") == "Hola Marta, sí tenemos!"
    with sqlite3.connect(site.db) as conn:
        sent = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND direction = 'outbound'",
            (cid,),
        ).fetchone()[0]
        owner = conn.execute(
            "SELECT assignee_id FROM conversations WHERE id = ?", (cid,)
        ).fetchone()[0]
    assert sent == 0
    assert owner == site.ids["beto"]


def test_lead_script_is_shown_as_text(page, site: Site) -> None:
    sign_in(page, site, "beto")
    page.goto(f"{site.url}/?view=unassigned")
    assert "<script>window.__pwned = 1</script> hola!" in page.inner_text("#rows")
    page.click("text=Eva")
    page.wait_for_url(conv_url(site.convs["xss"]))
    text = page.locator("#chat li.msg.inbound .text").first.inner_text()
    assert text == "<script>window.__pwned = 1</script> hola!"
    assert page.evaluate("window.__pwned") is None


def test_new_messages_and_assignment_changes_appear_without_reloading(page, site: Site) -> None:
    sign_in(page, site, "beto")
    page.goto(f"{site.url}/?view=unassigned")
    inbox = site.inbox()
    try:
        _say(inbox, "573100000009", "Nueva Lead", "hola, info del escritorio", 1, 0)
        page.wait_for_selector("text=Nueva Lead", timeout=15_000)  # polled, no reload
        cid = site.convs["xss"]
        page.goto(f"{site.url}/c/{cid}")
        _say(inbox, "573100000003", "Eva", "sigo aquí", 2, 0)
        page.wait_for_selector("#chat >> text=sigo aquí", timeout=15_000)
        assert page.is_visible("#live-new")
        inbox.claim(cid, site.ids["ana"])
        page.wait_for_selector("#live-owner:not(.hidden)", timeout=15_000)
        assert "Ana" in page.inner_text("#owner-line")
    finally:
        inbox.close()


def test_metrics_page_and_languages(page, site: Site) -> None:
    sign_in(page, site, "ana")
    page.goto(f"{site.url}/metrics")
    assert page.locator("svg.chart").count() >= 1
    page.screenshot(path="/tmp/web_metrics.png", full_page=True)
    with page.expect_navigation():
        page.click("a[lang=en]")
    assert page.inner_text("h1") == "Metrics"
    with page.expect_navigation():
        page.click("a[lang=pt]")
    assert page.inner_text("h1") == "Métricas"
    assert "Caixa" in page.inner_text("nav.mainnav")
    with page.expect_navigation():
        page.click("a[lang=es]")


def test_correct_the_copilot_from_the_analysis_panel(page, site: Site) -> None:
    sign_in(page, site, "ana")
    page.goto(f"{site.url}/c/{site.convs['accept']}")
    page.click("details.correct summary")
    page.select_option("#correct-form select[name=intent]", "complaint")
    page.select_option("#correct-form select[name=handoff]", "yes")
    with page.expect_navigation():
        page.click("#correct-form button[type=submit]")
    assert "Corrección guardada." in page.inner_text("#notice")
    assert "Queja" in page.inner_text("#an-intent") and "corregido" in page.inner_text("#an-intent")
    assert "corregido" in page.inner_text("#an-handoff")
    page.click("details.correct summary")
    page.locator("section.analysis").screenshot(path="/tmp/web_correct.png")
    with sqlite3.connect(site.db) as conn:
        rows = conn.execute(
            "SELECT agent_id, corrected FROM corrections WHERE conversation_id = ?",
            (site.convs["accept"],),
        ).fetchall()
    assert [(agent, json.loads(corrected)) for agent, corrected in rows] == [
        (site.ids["ana"], {"intent": "complaint", "handoff": {"needed": True, "reason": None}})
    ]
