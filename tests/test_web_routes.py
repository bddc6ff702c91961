"""The web inbox's routes through the real app (S1's ``create_app``) with Litestar's
TestClient on a real SQLite file: sign-in, CSRF, the team access rule, escaping,
the list's views and filters, actions, live endpoints, metrics and languages."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from copilot.inbox import Inbox
from copilot.models import Contact, Message
from copilot.service import Settings, create_app
from copilot.web import i18n
from copilot.web.session import csrf_for_session, session_cookie

ADMIN = "web-admin-token-0123456789"


@dataclass
class World:
    client: TestClient
    inbox: Inbox
    db: Path
    tokens: dict[str, str]
    ids: dict[str, int]
    convs: dict[str, int]

    def login(self, who: str) -> None:
        self.client.cookies.clear()
        page = self.client.get("/login")
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
        r = self.client.post(
            "/login", data={"token": self.tokens[who], "nonce": nonce, "next": "/"}
        )
        assert r.status_code == 200, r.text[:500]

    def csrf(self, who: str) -> str:
        # Derived from the signed session cookie that ``who`` gets at sign-in.
        return csrf_for_session(session_cookie(self.client.app.state.service, self.tokens[who]))


def _ingest(inbox: Inbox, wa_id: str, name: str, text: str, minutes_ago: float, n: int) -> int:
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    msg = Message(id=f"wamid.t.{wa_id}.{n}", text=text, timestamp=moment)
    return inbox.ingest(Contact(wa_id=wa_id, name=name), msg).conversation_id


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    db = tmp_path / "web.db"
    app = create_app(Settings(db=str(db), background=False, admin_token=ADMIN))
    with TestClient(app) as client:
        inbox: Inbox = app.state.service.inbox()
        tokens, ids = {"admin": ADMIN}, {}
        for key, name, team in (
            ("ana", "Ana", "ventas"),
            ("beto", "Beto", "ventas"),
            ("carla", "Carla", "soporte"),
        ):
            agent, token = inbox.create_agent(name, team)
            tokens[key], ids[key] = token, agent.id
        convs = {
            "old": _ingest(
                inbox, "573000000001", "Olga Vieja", "hola, cuanto sale el sofa?", 50, 1
            ),
            "new": _ingest(inbox, "573000000002", "Nico Nuevo", "hola buenas", 2, 1),
            "ana": _ingest(inbox, "573000000003", "Luis", "quiero hablar con un asesor", 20, 1),
            "carla": _ingest(inbox, "573000000004", "Sofi Soporte", "no me llega el pedido", 5, 1),
            "xss": _ingest(
                inbox, "573000000005", "<b>Mal</b>", "<script>alert('x')</script> hola", 3, 1
            ),
        }
        inbox.claim(convs["ana"], ids["ana"])
        inbox.claim(convs["carla"], ids["carla"])
        yield World(client, inbox, db, tokens, ids, convs)


def test_pages_need_a_session_and_redirect_to_sign_in(world: World) -> None:
    r = world.client.get("/", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    assert world.client.get(f"/c/{world.convs['ana']}/live").status_code == 401


def test_sign_in_sets_an_http_only_cookie_and_bad_tokens_are_refused(world: World) -> None:
    page = world.client.get("/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
    bad = world.client.post("/login", data={"token": "lc_wrong", "nonce": nonce, "next": "/"})
    assert bad.status_code == 401
    assert "Token inválido" in bad.text
    page = world.client.get("/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
    r = world.client.post(
        "/login",
        data={"token": world.tokens["ana"], "nonce": nonce, "next": "https://evil.example/x"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/"  # never an open redirect
    cookie = r.headers["set-cookie"]
    assert "lc_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_sign_in_without_the_form_nonce_is_refused(world: World) -> None:
    r = world.client.post("/login", data={"token": world.tokens["ana"], "nonce": "forged"})
    assert r.status_code == 403
    assert "lc_session" not in r.headers.get("set-cookie", "")


def test_sign_out_needs_csrf_and_clears_the_session(world: World) -> None:
    world.login("ana")
    assert world.client.post("/logout", data={"csrf": "nope"}).status_code == 403
    r = world.client.post("/logout", data={"csrf": world.csrf("ana")}, follow_redirects=False)
    assert r.status_code == 303
    world.client.cookies.clear()
    assert world.client.get("/", follow_redirects=False).status_code == 303


def test_another_teams_conversation_is_refused_in_every_route(world: World) -> None:
    world.login("ana")
    cid = world.convs["carla"]
    for path in (f"/c/{cid}", f"/c/{cid}/live", f"/c/{cid}/chat"):
        r = world.client.get(path)
        assert r.status_code == 403, path
        assert "Sofi" not in r.text and "no me llega" not in r.text
    before = world.inbox.notes(cid)
    r = world.client.post(f"/c/{cid}/notes", data={"csrf": world.csrf("ana"), "text": "hola"})
    assert r.status_code == 403
    assert world.inbox.notes(cid) == before
    r = world.client.post(f"/c/{cid}/release", data={"csrf": world.csrf("ana")})
    assert r.status_code == 403
    assert world.inbox.conversation(cid).assignee_id == world.ids["carla"]
    # ...and it is not listed either.
    assert "Sofi Soporte" not in world.client.get("/?view=unassigned&status=any").text
    # An admin opens it.
    world.login("admin")
    assert world.client.get(f"/c/{cid}").status_code == 200


def test_only_admins_get_the_all_view(world: World) -> None:
    world.login("ana")
    assert world.client.get("/?view=all").status_code == 403
    assert "?view=all" not in world.client.get("/").text
    world.login("admin")
    page = world.client.get("/?view=all").text
    for name in ("Olga Vieja", "Nico Nuevo", "Luis", "Sofi Soporte"):
        assert name in page


def test_unassigned_view_lists_the_longest_waiting_first(world: World) -> None:
    world.login("beto")
    page = world.client.get("/?view=unassigned").text
    assert (
        page.index("Olga Vieja") < page.index("&lt;b&gt;Mal&lt;/b&gt;") < page.index("Nico Nuevo")
    )
    assert "Luis" not in page  # claimed by Ana


def test_filters_and_search(world: World) -> None:
    world.login("admin")
    handoff = world.client.get("/?view=all&handoff=1").text
    assert "Luis" in handoff and "Nico Nuevo" not in handoff
    sla = world.client.get("/?view=all&sla=1").text  # SLA 15 min: Olga (50) and Luis (20)
    assert "Olga Vieja" in sla and "Luis" in sla and "Nico Nuevo" not in sla
    found = world.client.get("/?view=all&q=sofa").text
    assert "Olga Vieja" in found and "Nico Nuevo" not in found
    world.inbox.set_tags(world.convs["new"], ["vip"])
    tagged = world.client.get("/?view=all&tag=vip").text
    assert "Nico Nuevo" in tagged and "Olga Vieja" not in tagged
    # Odd input is ignored or matched literally, never an error.
    assert world.client.get("/?view=all&stage=bogus&q=%25_%27--&page=-3").status_code == 200


def test_lead_text_is_escaped_everywhere(world: World) -> None:
    world.login("admin")
    for path in ("/?view=all", f"/c/{world.convs['xss']}", f"/c/{world.convs['xss']}/chat"):
        page = world.client.get(path).text
        assert "<script>alert" not in page
        assert "<b>Mal</b>" not in page
    page = world.client.get(f"/c/{world.convs['xss']}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; hola" in page


def test_security_headers(world: World) -> None:
    world.login("ana")
    r = world.client.get("/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"


def test_actions_without_csrf_change_nothing(world: World) -> None:
    world.login("beto")
    cid = world.convs["old"]
    r = world.client.post(f"/c/{cid}/claim", data={"csrf": "forged"})
    assert r.status_code == 403
    assert world.inbox.conversation(cid).assignee_id is None
    r = world.client.post(f"/c/{cid}/claim", data={"csrf": world.csrf("ana")})  # not Beto's
    assert r.status_code == 403
    r = world.client.post(f"/c/{cid}/claim", data={"csrf": world.csrf("beto")})
    assert r.status_code == 200
    assert world.inbox.conversation(cid).assignee_id == world.ids["beto"]


def test_claim_accept_and_conflict(world: World) -> None:
    world.login("beto")
    cid = world.convs["old"]
    world.client.post(f"/c/{cid}/claim", data={"csrf": world.csrf("beto")})
    suggestion = world.inbox.current_suggestion(cid)
    assert suggestion is not None
    last = world.inbox.messages(cid)[-1].id
    # The lead writes again before Beto sends: refused, nothing sent.
    _ingest(world.inbox, "573000000001", "Olga Vieja", "y tienen envio a Chia?", 0, 2)
    r = world.client.post(
        f"/c/{cid}/reply",
        data={
            "csrf": world.csrf("beto"),
            "last_seen": last,
            "suggestion_id": str(suggestion.id),
            "action": "accept",
            "form": "s",
            "text": suggestion.text,
        },
    )
    assert r.status_code == 409
    assert "Respuesta rechazada, no se envió nada" in r.text
    assert not [m for m in world.inbox.messages(cid) if m.direction.value == "outbound"]
    # Fresh view: accept the new suggestion.
    current = world.inbox.current_suggestion(cid)
    last = world.inbox.messages(cid)[-1].id
    r = world.client.post(
        f"/c/{cid}/reply",
        data={
            "csrf": world.csrf("beto"),
            "last_seen": last,
            "suggestion_id": str(current.id),
            "action": "accept",
            "form": "s",
            "text": "ignored when accepting",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/c/{cid}?ok=outbox"
    with sqlite3.connect(world.db) as conn:
        rows = conn.execute(
            "SELECT text, author, status FROM messages WHERE conversation_id = ?"
            " AND direction = 'outbound'",
            (cid,),
        ).fetchall()
        state = conn.execute("SELECT state FROM suggestions WHERE id = ?", (current.id,)).fetchone()
    assert rows == [(current.text, "agent", "outbox")]
    assert state == ("accepted",)


def test_edit_reject_notes_tags_stage_tasks_transfer_release(world: World) -> None:
    world.login("ana")
    cid = world.convs["ana"]
    csrf = world.csrf("ana")
    sug = world.inbox.current_suggestion(cid)
    r = world.client.post(
        f"/c/{cid}/reject", data={"csrf": csrf, "suggestion_id": str(sug.id), "reason": "tono"}
    )
    assert r.status_code == 200
    assert world.inbox.suggestions(cid)[0].state == "rejected"
    last = world.inbox.messages(cid)[-1].id
    r = world.client.post(
        f"/c/{cid}/reply",
        data={"csrf": csrf, "last_seen": last, "action": "send", "form": "f", "text": "Hola Luis!"},
    )
    assert r.status_code == 200 and "Mensaje guardado en la bandeja de salida" in r.text
    assert world.inbox.messages(cid)[-1].text == "Hola Luis!"
    world.client.post(f"/c/{cid}/notes", data={"csrf": csrf, "text": "<i>nota</i> interna"})
    assert world.inbox.notes(cid)[-1].text == "<i>nota</i> interna"
    assert "&lt;i&gt;nota&lt;/i&gt; interna" in world.client.get(f"/c/{cid}").text
    world.client.post(f"/c/{cid}/tags", data={"csrf": csrf, "add": "urgente"})
    assert world.inbox.conversation(cid).tags == ["urgente"]
    world.client.post(f"/c/{cid}/tags", data={"csrf": csrf, "remove": "urgente"})
    assert world.inbox.conversation(cid).tags == []
    r = world.client.post(f"/c/{cid}/stage", data={"csrf": csrf, "stage": "lost"})
    assert r.status_code == 422  # lost needs a reason
    world.client.post(
        f"/c/{cid}/stage", data={"csrf": csrf, "stage": "lost", "lost_reason": "not_now"}
    )
    detail = world.inbox.conversation(cid)
    assert (detail.stage.value, detail.lost_reason.value) == ("lost", "not_now")
    world.client.post(
        f"/c/{cid}/tasks", data={"csrf": csrf, "title": "Llamar", "due": "2030-01-02T10:30"}
    )
    task = next(t for t in world.inbox.tasks(conversation_id=cid) if t.kind == "custom")
    assert task.title == "Llamar" and task.owner_id == world.ids["ana"]
    world.client.post(f"/c/{cid}/tasks/{task.id}/done", data={"csrf": csrf})
    assert world.inbox.task(task.id).state == "done"
    world.client.post(
        f"/c/{cid}/transfer",
        data={"csrf": csrf, "to_agent_id": str(world.ids["beto"]), "note": "te lo paso"},
    )
    assert world.inbox.conversation(cid).assignee_id == world.ids["beto"]
    # Ana no longer owns it: she may not release it.
    r = world.client.post(f"/c/{cid}/release", data={"csrf": csrf})
    assert r.status_code == 403
    world.login("beto")
    world.client.post(f"/c/{cid}/release", data={"csrf": world.csrf("beto")})
    assert world.inbox.conversation(cid).assignee_id is None


def test_reply_by_someone_who_is_not_the_owner_is_refused(world: World) -> None:
    world.login("beto")
    cid = world.convs["ana"]
    last = world.inbox.messages(cid)[-1].id
    r = world.client.post(
        f"/c/{cid}/reply",
        data={
            "csrf": world.csrf("beto"),
            "last_seen": last,
            "action": "send",
            "form": "f",
            "text": "hola, soy Beto",
        },
    )
    assert r.status_code == 403
    assert "no eres el responsable" in r.text
    assert "hola, soy Beto" in r.text  # the draft is kept
    assert all(m.direction.value == "inbound" for m in world.inbox.messages(cid))


def test_live_endpoint_reports_new_messages_and_owner_changes(world: World) -> None:
    world.login("ana")
    cid = world.convs["ana"]
    first = world.client.get(f"/c/{cid}/live").json()
    _ingest(world.inbox, "573000000003", "Luis", "sigo esperando", 0, 2)
    second = world.client.get(f"/c/{cid}/live").json()
    assert second["seq"] > first["seq"] and second["version"] != first["version"]
    assert "sigo esperando" in world.client.get(f"/c/{cid}/chat").text
    rows = world.client.get("/?view=mine&fragment=rows")
    assert rows.status_code == 200 and "sigo esperando" in rows.text
    again = world.client.get(
        "/?view=mine&fragment=rows", headers={"If-None-Match": rows.headers["etag"]}
    )
    assert again.status_code == 304


def test_metrics_page_draws_svg_charts(world: World) -> None:
    world.login("ana")
    cid = world.convs["ana"]
    last = world.inbox.messages(cid)[-1].id
    sug = world.inbox.current_suggestion(cid)
    world.inbox.reply(cid, world.ids["ana"], last_seen_message_id=last, suggestion_id=sug.id)
    page = world.client.get("/metrics?days=7").text
    assert page.count("<svg") >= 2
    assert "Tiempo de primera respuesta por día" in page
    assert "Ana" in page  # agents table
    assert world.client.get("/metrics?days=9999").status_code == 200


def test_languages_switch_with_a_cookie(world: World) -> None:
    world.login("ana")
    assert "Sin asignar" in world.client.get("/").text
    r = world.client.get("/lang/en?next=/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    world.client.cookies.set("lc_lang", "en")
    assert "Unassigned" in world.client.get("/").text
    world.client.cookies.set("lc_lang", "pt")
    assert "Sem responsável" in world.client.get("/").text
    assert (
        world.client.get("/lang/xx?next=//evil.example", follow_redirects=False).headers["location"]
        == "/"
    )


def test_every_message_has_three_translations() -> None:
    for key in i18n.all_keys():
        for lang in i18n.LANGUAGES:
            assert i18n.translate(
                lang,
                key,
                detail="d",
                until="u",
                reason="r",
                n=1,
                tag="t",
                title="x",
                outcome="o",
                name="a",
            ).strip(), (key, lang)
    for kind, table in i18n.enum_tables().items():
        for value, texts in table.items():
            assert len(texts) == 3 and all(texts), (kind, value)
    assert i18n.label("en", "stage", "proposal_sent") == "Proposal sent"
    assert i18n.negotiate("xx") == "es"


def test_chat_shows_edits_revokes_and_reactions_with_the_text_escaped(world: World) -> None:
    inbox, cid = world.inbox, world.convs["ana"]
    _ingest(inbox, "573000000003", "Luis", "lo quiero <b>rojo</b>", 10, 2)
    _ingest(inbox, "573000000003", "Luis", "mejor olvidalo <i>todo</i>", 9, 3)
    _ingest(inbox, "573000000003", "Luis", "sin cambios", 8, 4)
    world.login("ana")
    live_before = world.client.get(f"/c/{cid}/live").json()["version"]
    plain = world.client.get(f"/c/{cid}").text
    assert 'class="edited"' not in plain and "revoked-label" not in plain
    assert 'class="reaction ' not in plain

    edited = inbox.apply_edit("wamid.t.573000000003.2", "lo quiero <b>azul</b>")
    assert edited is not None and edited.edited_at is not None
    inbox.apply_reaction("wamid.t.573000000003.2", "👍", direction="outbound")
    inbox.apply_reaction("wamid.t.573000000003.2", "❤️", direction="inbound")
    revoked = inbox.apply_revoke("wamid.t.573000000003.3")
    assert revoked is not None and revoked.revoked_at is not None
    # The open chat's fingerprint moves, though none of them is the last message.
    assert world.client.get(f"/c/{cid}/live").json()["version"] != live_before

    for path in (f"/c/{cid}", f"/c/{cid}/chat"):
        page = world.client.get(path).text
        chat = page[page.index('id="chat"') :]
        bubbles = {
            m.group(1): m.group(0)
            for m in re.finditer(r'<li id="m-\d+"[^>]*data-id="([^"]+)".*?</li>', chat, re.S)
        }
        edit = bubbles["wamid.t.573000000003.2"]
        assert "lo quiero &lt;b&gt;azul&lt;/b&gt;" in edit and "<b>azul" not in edit
        assert "rojo" not in edit
        assert re.search(r'class="edited" title="Editado a las \d\d:\d\d"', edit)
        assert ">editado</time>" in edit
        assert 'class="reaction reaction-lead" title="Reacción del lead"' in edit
        assert 'class="reaction reaction-business" title="Reacción del negocio"' in edit
        assert edit.index("❤️") < edit.index("👍")  # the lead's first
        gone = bubbles["wamid.t.573000000003.3"]
        assert "msg inbound author-lead revoked" in gone
        assert re.search(r'title="Eliminado a las \d\d:\d\d">El lead eliminó este mensaje<', gone)
        # Still readable for the agent, struck through, and escaped.
        assert '<del class="text">mejor olvidalo &lt;i&gt;todo&lt;/i&gt;</del>' in gone
        untouched = bubbles["wamid.t.573000000003.4"]
        assert "revoked" not in untouched and "edited" not in untouched
        assert "reaction" not in untouched

    world.client.get("/lang/pt?next=/", follow_redirects=False)
    page = world.client.get(f"/c/{cid}/chat").text
    assert "O lead apagou esta mensagem" in page and ">editada</time>" in page
    assert 'title="Reação do lead"' in page


def test_the_owner_corrects_the_copilot_and_the_panel_shows_it(world: World) -> None:
    cid, other = world.convs["ana"], world.convs["old"]
    analysed = world.inbox.latest_analysis(cid)["message_id"]
    world.login("ana")
    csrf = world.csrf("ana")
    page = world.client.get(f"/c/{cid}").text
    assert f'action="/c/{cid}/correct"' in page and f'value="{analysed}"' in page
    r = world.client.post(
        f"/c/{cid}/correct",
        data={"csrf": csrf, "message_id": analysed, "intent": "complaint", "handoff": "no"},
    )
    assert r.status_code == 200 and "Corrección guardada." in r.text
    intent = re.search(r'<dd id="an-intent">(.*?)</dd>', r.text, re.S).group(1)
    assert "Queja" in intent and "corregido" in intent
    (saved,) = world.inbox.corrections(message_id=analysed)
    assert saved.agent_id == world.ids["ana"]
    assert saved.corrected == {"intent": "complaint", "handoff": {"needed": False, "reason": None}}
    assert saved.predicted["intent"] == world.inbox.conversation(cid).last_intent
    # Nothing chosen, an unknown label, a message of another conversation: refused,
    # and nothing more is stored.
    bad = [
        {"message_id": analysed},
        {"message_id": analysed, "intent": "bogus"},
        {"message_id": world.inbox.latest_analysis(other)["message_id"], "intent": "pricing"},
        {"message_id": "wamid.nope", "intent": "pricing"},
    ]
    codes = [
        world.client.post(f"/c/{cid}/correct", data={"csrf": csrf, **form}).status_code
        for form in bad
    ]
    assert codes == [422, 422, 422, 404]
    assert len(world.inbox.corrections(conversation_id=cid)) == 1
    assert world.inbox.corrections(conversation_id=other) == []


def test_only_the_owner_or_an_admin_corrects_and_only_with_csrf(world: World) -> None:
    cid = world.convs["ana"]
    analysed = world.inbox.latest_analysis(cid)["message_id"]
    world.login("beto")  # same team, not the owner
    assert f'action="/c/{cid}/correct"' not in world.client.get(f"/c/{cid}").text
    form = {"message_id": analysed, "intent": "pricing"}
    r = world.client.post(f"/c/{cid}/correct", data={"csrf": world.csrf("beto"), **form})
    assert r.status_code == 403
    world.login("admin")
    assert world.client.post(f"/c/{cid}/correct", data={"csrf": "x", **form}).status_code == 403
    r = world.client.post(f"/c/{cid}/correct", data={"csrf": world.csrf("admin"), **form})
    assert r.status_code == 200
    assert [c.corrected for c in world.inbox.corrections(conversation_id=cid)] == [
        {"intent": "pricing"}
    ]


def test_the_cookie_holds_no_token_and_a_forged_one_signs_nobody_in(world: World) -> None:
    world.login("ana")
    value = world.client.cookies.get("lc_session")
    assert world.tokens["ana"] not in value
    assert world.client.get("/", follow_redirects=False).status_code == 200
    agent_id, kind, epoch, signature = value.split(".")
    forged = [
        f"{world.ids['beto']}.{kind}.{epoch}.{signature}",  # another agent, same signature
        f"{agent_id}.admin.{epoch}.{signature}",
        f"{agent_id}.{kind}.{int(epoch) + 1}.{signature}",
        f"{agent_id}.{kind}.{epoch}.{'0' * 64}",
        world.tokens["ana"],  # a bare token is no session
        "x.y",
    ]
    for bad in forged:
        world.client.cookies.clear()
        world.client.cookies.set("lc_session", bad)
        assert world.client.get("/", follow_redirects=False).status_code == 303, bad


def test_sign_out_everywhere_ends_every_session_and_a_rotated_token_too(world: World) -> None:
    from litestar.testing import TestClient

    world.login("ana")
    other = TestClient(world.client.app)
    other.cookies.set("lc_session", world.client.cookies.get("lc_session"))  # a second device
    assert other.get("/", follow_redirects=False).status_code == 200
    assert world.client.post("/logout/everywhere", data={"csrf": "nope"}).status_code == 403
    r = world.client.post(
        "/logout/everywhere", data={"csrf": world.csrf("ana")}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/login?bye=1"
    assert other.get("/", follow_redirects=False).status_code == 303
    # The token itself still signs in; rotating it ends that session too.
    world.login("ana")
    assert world.client.get("/", follow_redirects=False).status_code == 200
    world.tokens["ana"] = world.inbox.rotate_token(world.ids["ana"])
    assert world.client.get("/", follow_redirects=False).status_code == 303


def test_a_session_survives_a_restart_on_the_same_database(world: World) -> None:
    from litestar.testing import TestClient

    world.login("beto")
    value = world.client.cookies.get("lc_session")
    app = create_app(Settings(db=str(world.db), background=False, admin_token=ADMIN))
    with TestClient(app) as restarted:
        restarted.cookies.set("lc_session", value)
        page = restarted.get("/", follow_redirects=False)
        assert page.status_code == 200 and "Beto" in page.text


def test_media_goes_only_to_agents_who_may_open_the_conversation(world: World) -> None:
    from copilot.models import Contact as Lead
    from copilot.models import Media
    from copilot.taxonomy import MessageType

    result = world.inbox.ingest(
        Lead(wa_id="573009990001", name="Foto"),
        Message(
            id="wamid.t.media.1",
            type=MessageType.IMAGE,
            media=Media(id="demo-image", mime_type="image/png"),
            timestamp=datetime.now(UTC),
        ),
    )
    world.inbox.claim(result.conversation_id, world.ids["carla"])  # team soporte
    seq = world.inbox.message("wamid.t.media.1").seq
    assert world.client.get(f"/media/{seq}", follow_redirects=False).status_code == 303
    world.login("ana")  # team ventas: another team's conversation
    assert world.client.get(f"/media/{seq}").status_code == 403
    world.login("carla")
    r = world.client.get(f"/media/{seq}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG") and "private" in r.headers["cache-control"]
    assert (
        world.client.get(f"/media/{world.inbox.message('wamid.t.media.1').seq + 999}").status_code
        == 404
    )
