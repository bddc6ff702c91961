"""Fault 2: every route, API and web, applies the same team rule.

A real server (``python -m copilot serve``) on 127.0.0.1 over a real SQLite file.
Team alpha owns two conversations (one owned by Ana, one queued for the team);
agents of another team (Beto, team beta) and of no team (Nadia) walk every route
of the OpenAPI schema and every web page with alpha's ids in the path: each must
be refused (403, or 404) and change nothing in the database. Routes open to any
agent are listed below with the reason; a route in neither table fails the test.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot.inbox import Inbox, InboxConfig, RoutingRule
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message, Referral
from copilot.service import Settings, create_app
from copilot.web.session import csrf_for_session

REPO = Path(__file__).resolve().parent.parent
ADMIN = "access-admin-token-0123456789"
REFUSED = {403, 404}

#: What must never reach an agent outside team alpha (names, texts, the team).
SECRETS = ("Alfa", "alpha", "secreta", "vip-alfa", "5731111")


@dataclass
class Site:
    url: str
    db: Path
    tokens: dict[str, str]
    ids: dict[str, int]
    convs: dict[str, int]
    alpha_convs: set[int]
    task_alpha: int
    suggestion_alpha: int
    message_alpha: str
    last_alpha: dict[int, str]
    me: int = 0  # the agent walking the routes
    web_clients: dict[str, httpx.Client] = field(default_factory=dict)

    def api(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[who]}"}, timeout=30
        )

    def web(self, who: str) -> httpx.Client:
        """A browser-like client signed in through the login form."""
        if who not in self.web_clients:
            client = httpx.Client(base_url=self.url, timeout=30)
            page = client.get("/login")
            nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
            r = client.post("/login", data={"token": self.tokens[who], "nonce": nonce, "next": "/"})
            assert r.status_code == 303, r.text[:300]
            self.web_clients[who] = client
        return self.web_clients[who]

    def digest(self) -> tuple[int, int, str]:
        """(tables, rows, hash of every row of every table) of the inbox file."""
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            h, rows = hashlib.sha256(), 0
            for name in names:
                # Sorted here: some tables have no rowid to order by.
                for row in sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{name}"')):
                    h.update(f"{name}:{row}".encode())
                    rows += 1
            return len(names), rows, h.hexdigest()
        finally:
            conn.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _populate(db: Path, profile) -> dict[str, Any]:
    """Agents and conversations written through the library before the server starts."""
    inbox = Inbox(
        db,
        copilot=KeywordAnalyzer(profile),
        config=InboxConfig(routing=[RoutingRule(origin="ad", team="alpha")]),
    )
    tokens, ids = {}, {}
    for key, name, team in (
        ("ana", "Ana Alfa", "alpha"),
        ("alba", "Alba Alfa", "alpha"),
        ("beto", "Beto Beta", "beta"),
        ("nadia", "Nadia Nadie", None),
    ):
        agent, token = inbox.create_agent(name, team)
        tokens[key], ids[key] = token, agent.id
    now = datetime.now(UTC) - timedelta(minutes=30)

    def lead(n: int, name: str, phone: str, text: str, ad: bool = False) -> tuple[int, str]:
        message = Message(
            id=f"wamid.access.{n}",
            text=text,
            timestamp=now + timedelta(minutes=n),
            referral=Referral(source_type="ad") if ad else None,
        )
        got = inbox.ingest(Contact(wa_id=phone, name=name), message)
        return got.conversation_id, got.message_id

    a_owned, message_alpha = lead(1, "Alicia Alfa", "573111100001", "cuanto cuesta el sofa?", True)
    a_queued, queued_msg = lead(2, "Amalia Alfa", "573111100002", "hola, precio?", True)
    shared, _ = lead(3, "Sara Compartida", "573222200003", "hola")
    b_owned, _ = lead(4, "Bruno Beta", "573222200004", "hola, necesito ayuda")
    n_owned, _ = lead(5, "Nora Nadie", "573222200005", "buenas")
    inbox.claim(a_owned, ids["ana"])
    inbox.claim(b_owned, ids["beto"])
    inbox.claim(n_owned, ids["nadia"])
    inbox.add_note(a_owned, ids["ana"], "nota secreta del equipo")
    inbox.set_tags(a_owned, ["vip-alfa"], [], agent_id=ids["ana"])
    task = inbox.create_task(a_owned, "Tarea Alfa", datetime.now(UTC) + timedelta(days=1))
    suggestions = inbox.suggestions(a_owned) + inbox.suggestions(a_queued)
    assert suggestions, "the analyser proposed no reply to reject"
    inbox.close()
    return {
        "tokens": tokens,
        "ids": ids,
        "convs": {
            "a_owned": a_owned,
            "a_queued": a_queued,
            "shared": shared,
            "b_owned": b_owned,
            "n_owned": n_owned,
        },
        "alpha_convs": {a_owned, a_queued},
        "task_alpha": task.id,
        "suggestion_alpha": suggestions[0].id,
        "message_alpha": message_alpha,
        "last_alpha": {a_owned: message_alpha, a_queued: queued_msg},
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    from copilot.profile import load_profile

    tmp = tmp_path_factory.mktemp("access")
    db = tmp / "inbox.db"
    data = _populate(db, load_profile())
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEAD_COPILOT_", "WHATSAPP_"))}
    env.update(
        PYTHONPATH=str(REPO),
        LEAD_COPILOT_ADMIN_TOKEN=ADMIN,
        # One tick at start-up only: nothing changes the file while the routes are walked.
        LEAD_COPILOT_TICK_SECONDS="3600",
    )
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "copilot", "serve", "--db", str(db), "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    site = Site(url=url, db=db, **data)
    site.tokens["admin"] = ADMIN
    try:
        deadline = time.monotonic() + 90
        while True:  # up, and the background process did its start-up tick
            try:
                health = httpx.get(f"{url}/healthz", timeout=2)
                if health.status_code == 200 and health.json().get("last_tick_at"):
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "server.log").read_text()[-3000:])
            time.sleep(0.2)
        with site.api("admin") as api:
            site.ids["admin"] = api.get("/api/me").json()["id"]
        yield site
    finally:
        for client in site.web_clients.values():
            client.close()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# --- the route tables ---------------------------------------------------------------

#: Routes any signed-in agent may call, with the reason. They are not walked.
OPEN_API = {
    ("GET", "/healthz"): "liveness and queue counts; no conversation data",
    ("GET", "/webhooks/whatsapp"): "Meta's handshake, authenticated by the verify token",
    ("POST", "/webhooks/whatsapp"): "Meta's deliveries, authenticated by their signature",
    ("POST", "/api/analyze"): "analyses the text in the request; reads no stored data",
    ("GET", "/api/me"): "the caller's own profile",
    ("POST", "/api/me/availability"): "the caller's own availability",
}
#: Routes only an admin may call at all (no team's data): refused to agents.
ADMIN_API = {
    ("POST", "/api/agents"): {"name": "Intrusa", "team": "alpha"},
    ("GET", "/api/deliveries"): None,
    ("POST", "/api/deliveries/{delivery_id}/replay"): None,
    ("POST", "/api/deliveries/replay"): None,
}


def _due() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).isoformat()


#: Routes on one of team alpha's conversations, tasks or messages: each path
#: parameter is filled with alpha's ids; the body is valid, so only the access
#: rule can refuse it.
TEAM_API: dict[tuple[str, str], Callable[[Site, int], dict[str, Any] | None]] = {
    ("GET", "/api/conversations/{conversation_id}"): lambda s, c: None,
    ("GET", "/api/conversations/{conversation_id}/notes"): lambda s, c: None,
    ("POST", "/api/conversations/{conversation_id}/notes"): lambda s, c: {"text": "hola"},
    ("POST", "/api/conversations/{conversation_id}/claim"): lambda s, c: None,
    ("POST", "/api/conversations/{conversation_id}/assign"): lambda s, c: {"agent_id": s.me},
    ("POST", "/api/conversations/{conversation_id}/transfer"): lambda s, c: {"to_agent_id": s.me},
    ("POST", "/api/conversations/{conversation_id}/release"): lambda s, c: {},
    ("POST", "/api/conversations/{conversation_id}/reply"): lambda s, c: {
        "last_seen_message_id": s.last_alpha[c],
        "text": "hola",
    },
    ("POST", "/api/conversations/{conversation_id}/suggestions/{suggestion_id}/reject"): (
        lambda s, c: {"reason": "no"}
    ),
    ("POST", "/api/conversations/{conversation_id}/tags"): lambda s, c: {"add": ["intruso"]},
    ("POST", "/api/conversations/{conversation_id}/stage"): lambda s, c: {"stage": "won"},
    ("POST", "/api/conversations/{conversation_id}/close"): lambda s, c: {"outcome": "spam"},
    ("POST", "/api/conversations/{conversation_id}/snooze"): lambda s, c: {"until": _due()},
    ("POST", "/api/conversations/{conversation_id}/suggest"): lambda s, c: None,
    ("POST", "/api/conversations/{conversation_id}/reopen"): lambda s, c: None,
    ("POST", "/api/conversations/{conversation_id}/tasks"): lambda s, c: {
        "title": "intruso",
        "due_at": _due(),
    },
    ("POST", "/api/tasks/{task_id}/done"): lambda s, c: None,
    ("POST", "/api/tasks/{task_id}/cancel"): lambda s, c: None,
    ("POST", "/api/messages/{message_id}/corrections"): lambda s, c: {"intent": "pricing"},
}

#: Lists over every team: each query either is refused or shows nothing of alpha.
LIST_API: dict[tuple[str, str], list[dict[str, str]]] = {
    ("GET", "/api/conversations"): [
        {},
        {"view": "all", "status": "any"},
        {"view": "unassigned", "status": "any"},
        {"view": "team", "team": "alpha", "status": "any"},
        {"team": "alpha", "status": "any"},
        {"view": "mine", "status": "any"},
        {"view": "all", "q": "Alfa", "status": "any"},
        {"view": "unassigned", "q": "Alfa", "status": "any"},
    ],
    ("GET", "/api/tasks"): [{"mine": "false", "state": "any"}, {"conversation_id": "{a_owned}"}],
    ("GET", "/api/agents"): [{}, {"team": "alpha"}],
    ("GET", "/api/metrics"): [{}],
}


def _schema_routes(site: Site) -> set[tuple[str, str]]:
    schema = httpx.get(f"{site.url}/schema/openapi.json", timeout=30).json()
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }


def _leaks(site: Site, response: httpx.Response) -> list[str]:
    """What of team alpha a response shows to ``who`` (empty: nothing). A refusal
    may name what was asked for (``?team=alpha``): that echo is no leak."""
    asked = str(response.request.url) + response.request.content.decode(errors="replace")
    found = [s for s in SECRETS if s in response.text and s not in asked]
    for agent in ("ana", "alba"):
        if f'"agent:{site.ids[agent]}"' in response.text:
            found.append(f"agent:{agent}")
    for cid in site.alpha_convs:  # a page's link to one of alpha's conversations
        if f'href="/c/{cid}"' in response.text or f'href="/c/{cid}?' in response.text:
            found.append(f"link to conversation {cid}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, list):
        for item in body:
            if isinstance(item, dict):
                ids = {item.get("id"), item.get("conversation_id")}
                if "contact_key" in item or "kind" in item:  # a conversation or a task
                    found += [f"conversation {i}" for i in ids & site.alpha_convs]
                if "role" in item and item.get("id") in (site.ids["ana"], site.ids["alba"]):
                    found.append(f"agent {item['id']}")
    return found


def _fill(path: str, site: Site, cid: int) -> str:
    return path.format(
        conversation_id=cid,
        suggestion_id=site.suggestion_alpha,
        task_id=site.task_alpha,
        message_id=site.message_alpha,
    )


# --- the API walk ---------------------------------------------------------------------


@pytest.mark.chaos("fault 2: every API route as another team's agent: refused, nothing changed")
@pytest.mark.parametrize("who", ["beto", "nadia"])
def test_every_api_route_refuses_another_teams_data(site: Site, who: str, chaos_report) -> None:
    routes = _schema_routes(site)
    classified = set(OPEN_API) | set(ADMIN_API) | set(TEAM_API) | set(LIST_API)
    assert routes - classified == set(), "classify these routes in this test"
    assert classified - routes == set(), "these routes are gone from the schema"

    site.me = site.ids[who]
    tables, rows, before = site.digest()
    leaks: list[str] = []
    calls = 0
    with site.api(who) as api:
        # A control: the caller's own conversations and the shared queue open.
        own = site.convs["b_owned" if who == "beto" else "n_owned"]
        assert api.get(f"/api/conversations/{own}").status_code == 200
        assert api.get(f"/api/conversations/{site.convs['shared']}").status_code == 200

        for (method, path), body in sorted(TEAM_API.items()):
            for cid in sorted(site.alpha_convs):
                r = api.request(method, _fill(path, site, cid), json=body(site, cid))
                calls += 1
                if r.status_code not in REFUSED or _leaks(site, r):
                    leaks.append(f"{method} {_fill(path, site, cid)}: {r.status_code}")
        for (method, path), body in ADMIN_API.items():
            r = api.request(method, path.replace("{delivery_id}", "1"), json=body)
            calls += 1
            if r.status_code != 403:
                leaks.append(f"{method} {path}: {r.status_code}")
        for (method, path), queries in sorted(LIST_API.items()):
            for query in queries:
                params = {k: v.format(**site.convs) for k, v in query.items()}
                r = api.request(method, path, params=params)
                calls += 1
                seen = _leaks(site, r)
                if r.status_code not in (200, *REFUSED) or seen:
                    leaks.append(f"{method} {path}?{params}: {r.status_code} {seen}")
    after = site.digest()[2]
    chaos_report(
        f"{len(routes)} API routes in the schema ({len(TEAM_API) + len(LIST_API) + len(ADMIN_API)}"
        f" walked, {len(OPEN_API)} open), {calls} calls as {who}: {len(leaks)} leaks;"
        f" {tables} tables, {rows} rows {'unchanged' if after == before else 'CHANGED'}"
    )
    assert leaks == []
    assert after == before, "a refused request changed the database"


# --- the web walk ---------------------------------------------------------------------

OPEN_WEB = {
    ("GET", "/login"): "the sign-in form",
    ("POST", "/login"): "signing in checks the token itself",
    ("POST", "/logout"): "ends the caller's own session",
    ("POST", "/logout/everywhere"): "ends every session of the caller only",
    ("POST", "/quick-replies"): "an admin only (refused to agents: test_inbox_quick_replies)",
    ("POST", "/quick-replies/{qid}/delete"): "an admin only (test_inbox_quick_replies)",
    ("GET", "/media/{seq}"): "a message's attachment, refused like its conversation:"
    " test_web_routes::test_media_goes_only_to_agents_who_may_open_the_conversation",
    ("GET", "/events"): "a stream (not walked here): its access filter is tested in"
    " test_inbox_changes, its page in test_web_browser",
    ("GET", "/lang/{code}"): "a language preference cookie",
    ("GET", "/static/{file_path}"): "stylesheets and scripts",
}
#: Form fields of each page on one of alpha's conversations (the CSRF token added).
TEAM_WEB: dict[tuple[str, str], Callable[[Site, int], dict[str, Any] | None]] = {
    ("GET", "/c/{cid}"): lambda s, c: None,
    ("GET", "/c/{cid}/live"): lambda s, c: None,
    ("GET", "/c/{cid}/chat"): lambda s, c: None,
    ("POST", "/c/{cid}/reply"): lambda s, c: {
        "action": "send",
        "text": "hola",
        "last_seen": s.last_alpha[c],
    },
    ("POST", "/c/{cid}/template"): lambda s, c: {
        "template": "soft_followup",
        "last_seen": s.last_alpha[c],
    },
    ("POST", "/c/{cid}/reject"): lambda s, c: {"suggestion_id": s.suggestion_alpha},
    ("POST", "/c/{cid}/claim"): lambda s, c: {},
    ("POST", "/c/{cid}/release"): lambda s, c: {},
    ("POST", "/c/{cid}/transfer"): lambda s, c: {"to_agent_id": s.me},
    ("POST", "/c/{cid}/notes"): lambda s, c: {"text": "hola"},
    ("POST", "/c/{cid}/tags"): lambda s, c: {"add": "intruso"},
    ("POST", "/c/{cid}/stage"): lambda s, c: {"stage": "won"},
    ("POST", "/c/{cid}/correct"): lambda s, c: {
        "message_id": s.message_alpha,
        "intent": "pricing",
    },
    ("POST", "/c/{cid}/tasks"): lambda s, c: {"title": "intruso", "due": "2030-01-01T10:00"},
    ("POST", "/c/{cid}/tasks/{task_id}/{verb}"): lambda s, c: {},
    ("POST", "/c/{cid}/close"): lambda s, c: {"outcome": "spam"},
    ("POST", "/c/{cid}/reopen"): lambda s, c: {},
    ("POST", "/c/{cid}/snooze"): lambda s, c: {"until": "1h"},
    ("POST", "/c/{cid}/suggest"): lambda s, c: {},
}
LIST_WEB: dict[tuple[str, str], list[dict[str, str]]] = {
    ("GET", "/"): [
        {},
        {"view": "all", "status": "any"},
        {"view": "unassigned", "status": "any"},
        {"view": "team", "status": "any"},
        {"view": "mine", "status": "any"},
        {"view": "unassigned", "q": "Alfa", "status": "any"},
    ],
    ("GET", "/metrics"): [{}, {"days": "90"}],
    ("GET", "/quick-replies"): [{}],
}


def _web_routes(site: Site, tmp: Path) -> set[tuple[str, str]]:
    """Every route of the app that is not in the OpenAPI schema (the web pages),
    read off the route table of an app built like the server's."""
    app = create_app(Settings(db=str(tmp / "routes.db"), background=False, admin_token=ADMIN))
    every = {
        (method, re.sub(r":\w+}", "}", route.path))
        for route in app.routes
        for method in route.methods
        if method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }
    docs = {r for r in every if r[1] == "/schema" or r[1].startswith("/schema/")}
    return every - _schema_routes(site) - docs


@pytest.mark.chaos("fault 2: every web page as another team's agent: refused like the API")
@pytest.mark.parametrize("who", ["beto", "nadia"])
def test_every_web_page_refuses_another_teams_data_like_the_api(
    site: Site, who: str, chaos_report, tmp_path: Path
) -> None:
    routes = _web_routes(site, tmp_path)
    classified = set(OPEN_WEB) | set(TEAM_WEB) | set(LIST_WEB)
    assert routes - classified == set(), "classify these web routes in this test"
    assert classified - routes == set(), "these web routes are gone"

    site.me = site.ids[who]
    web = site.web(who)
    csrf = csrf_for_session(web.cookies.get("lc_session"))
    tables, rows, before = site.digest()
    leaks: list[str] = []
    calls = 0
    with site.api(who) as api:
        for cid in sorted(site.alpha_convs):
            api_status = api.get(f"/api/conversations/{cid}").status_code
            for (method, path), form in sorted(TEAM_WEB.items()):
                verbs = ("done", "cancel") if "{verb}" in path else ("",)
                for verb in verbs:
                    real = path.format(cid=cid, task_id=site.task_alpha, verb=verb)
                    if method == "GET":
                        r = web.get(real)
                    else:
                        r = web.post(real, data={"csrf": csrf, **form(site, cid)})
                    calls += 1
                    if r.status_code not in REFUSED or r.status_code != api_status:
                        leaks.append(f"{method} {real}: web {r.status_code}, API {api_status}")
                    elif _leaks(site, r):
                        leaks.append(f"{method} {real}: {_leaks(site, r)}")
    for (_, path), queries in sorted(LIST_WEB.items()):
        for query in queries:
            r = web.get(path, params=query)
            calls += 1
            seen = _leaks(site, r)
            if r.status_code not in (200, *REFUSED) or seen:
                leaks.append(f"GET {path}?{query}: {r.status_code} {seen}")
    after = site.digest()[2]
    chaos_report(
        f"{len(routes)} web routes ({len(TEAM_WEB) + len(LIST_WEB)} walked, {len(OPEN_WEB)} open),"
        f" {calls} calls as {who}: {len(leaks)} leaks or answers unlike the API;"
        f" {tables} tables, {rows} rows {'unchanged' if after == before else 'CHANGED'}"
    )
    assert leaks == []
    assert after == before, "a refused form changed the database"


# --- the API and the web answer the same --------------------------------------------------


def _web_ids(web: httpx.Client, params: dict[str, str]) -> tuple[int, set[int]]:
    r = web.get("/", params=params)
    return r.status_code, {int(x) for x in re.findall(r'href="/c/(\d+)[?"]', r.text)}


@pytest.mark.chaos("fault 2: the API and the web show the same conversations to each actor")
def test_api_and_web_show_each_actor_the_same_conversations(site: Site, chaos_report) -> None:
    expected = {  # what each actor may open, by the rule
        "ana": {"a_owned", "a_queued", "shared", "n_owned"},
        "beto": {"shared", "b_owned", "n_owned"},
        "nadia": {"shared", "n_owned"},
        "admin": set(site.convs),
    }
    compared = 0
    for who, names in expected.items():
        web = site.web(who)
        with site.api(who) as api:
            seen_api: set[int] = set()
            seen_web: set[int] = set()
            for view in ("mine", "unassigned", "team", "all"):
                params = {"view": view, "status": "any"}
                r = api.get("/api/conversations", params=params)
                status, web_ids = _web_ids(web, params)
                assert r.status_code == status, (who, view)
                if status == 200:
                    api_ids = {c["id"] for c in r.json()}
                    assert api_ids == web_ids, (who, view)
                    seen_api |= api_ids
                    seen_web |= web_ids
                compared += 1
            # One conversation at a time: the same status through both.
            readable = set()
            for cid in site.convs.values():
                a = api.get(f"/api/conversations/{cid}").status_code
                w = web.get(f"/c/{cid}").status_code
                assert a == w, (who, cid, a, w)
                compared += 1
                if a == 200:
                    readable.add(cid)
        want = {site.convs[n] for n in names}
        assert readable == want, who
        # The lists show only what the actor may open (and the views together:
        # everything open, the actor's own and their team's).
        assert seen_api <= want and seen_web <= want, who
    chaos_report(f"{compared} answers compared through the API and the web for 4 actors: same")


def test_metrics_and_agents_are_scoped_the_same_through_api_and_web(site: Site) -> None:
    with site.api("beto") as api:
        agents = {a["name"] for a in api.get("/api/agents").json()}
        assert agents == {"admin", "Beto Beta"}
        assert api.get("/api/agents", params={"team": "alpha"}).status_code == 403
        report = api.get("/api/metrics").json()
        assert set(report["first_response"]["team"]) <= {"beta", "none"}
        assert report["first_response"]["all"]["all"]["conversations"] == 3
    with site.api("admin") as api:
        report = api.get("/api/metrics").json()
        assert "alpha" in report["first_response"]["team"]
        assert report["first_response"]["all"]["all"]["conversations"] == len(site.convs)
    page = site.web("beto").get("/metrics")
    assert page.status_code == 200 and "Alfa" not in page.text
