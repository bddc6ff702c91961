"""Template sync: the approved templates of the WhatsApp Business Account, read
page after page from the fake Graph API (a real HTTP server on 127.0.0.1), kept
in the inbox by ``lead-copilot templates sync``, and checked by the picker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from copilot.cli import main
from copilot.inbox import Inbox
from copilot.integrations.whatsapp.sender import GraphClient
from copilot.integrations.whatsapp.templates import TemplateSyncError, approved_templates
from copilot.models import Contact, Message
from tests.fakes.graph_api import FakeGraphAPI, FakeResponse

WABA = "1029384756"


def _template(name: str, language: str, status: str = "APPROVED", body: str = "") -> dict:
    return {
        "id": f"id-{name}-{language}",
        "name": name,
        "language": language,
        "status": status,
        "category": "MARKETING",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Hola"},
            {"type": "BODY", "text": body or "Hola {{1}}, ¿seguimos con {{2}}? {{1}}"},
        ],
    }


TEMPLATES = [
    _template("soft_followup_v1", "es"),
    _template("soft_followup_v1", "pt_BR", body="Oi {{name}}"),
    _template("reactivation_v1", "es", status="REJECTED"),
    _template("acknowledgement_v1", "es", status="PENDING"),
    _template("proposal_followup_v1", "es_MX"),
]


@pytest.fixture
def graph_api() -> Iterator[FakeGraphAPI]:
    with FakeGraphAPI() as api:
        api.add_templates(WABA, TEMPLATES)
        yield api


def _reader(api: FakeGraphAPI) -> GraphClient:
    return GraphClient("token", "555", api.base_url, sleep=lambda _: None, max_attempts=1)


def _env(api: FakeGraphAPI, db: Path) -> dict[str, str]:
    return {
        "LEAD_COPILOT_DB": str(db),
        "WHATSAPP_ACCESS_TOKEN": "token",
        "WHATSAPP_PHONE_NUMBER_ID": "555",
        "WHATSAPP_API_BASE_URL": api.base_url,
        "WHATSAPP_BUSINESS_ACCOUNT_ID": WABA,
    }


def test_every_page_is_read_and_only_approved_templates_kept(graph_api: FakeGraphAPI) -> None:
    found = approved_templates(_reader(graph_api), WABA)
    assert [(t.name, t.language) for t in found] == [
        ("soft_followup_v1", "es"),
        ("soft_followup_v1", "pt_BR"),
        ("proposal_followup_v1", "es_MX"),
    ]
    assert found[0].variables == ["1", "2"] and found[1].variables == ["name"]
    assert found[0].body.startswith("Hola {{1}}") and found[0].category == "MARKETING"
    gets = graph_api.media_requests
    assert len(gets) == 3  # five templates, two a page
    assert all(r.headers["authorization"] == "Bearer token" for r in gets)
    assert all(r.path.startswith(f"/v21.0/{WABA}/message_templates") for r in gets)


def test_failures_are_clear_and_the_token_stays_on_the_server(
    graph_api: FakeGraphAPI,
) -> None:
    with pytest.raises(TemplateSyncError, match="not a business account id"):
        approved_templates(_reader(graph_api), "../me")
    with pytest.raises(TemplateSyncError, match="HTTP 400"):
        approved_templates(_reader(graph_api), "999")  # an account Meta does not know
    graph_api.media_down = True
    with pytest.raises(TemplateSyncError, match="HTTP 500"):
        approved_templates(_reader(graph_api), WABA)
    graph_api.media_down = False
    graph_api.script(
        FakeResponse(
            200,
            {"data": [TEMPLATES[0]], "paging": {"next": "http://elsewhere.invalid/page2"}},
        )
    )
    found = approved_templates(_reader(graph_api), WABA)
    assert [t.name for t in found] == ["soft_followup_v1"]  # the foreign next page: not followed


def test_cli_sync_keeps_the_list_and_the_picker_follows_it(
    graph_api: FakeGraphAPI, tmp_path: Path
) -> None:
    db = tmp_path / "inbox.db"
    inbox = Inbox(db)
    cid = inbox.ingest(
        Contact(wa_id="573001112233", name="Lead"),
        Message(id="wamid.sync.1", text="hola", timestamp=datetime(2026, 1, 1, tzinfo=UTC)),
    ).conversation_id
    before = {t["key"]: t["approved_name"] for t in inbox.template_previews(cid)}
    assert before["reactivation"] == "reactivation_v1"  # the profile's list, no sync yet
    runner = CliRunner()
    result = runner.invoke(main, ["templates", "sync"], env=_env(graph_api, db))
    assert result.exit_code == 0, result.output
    assert "3 approved templates synced" in result.output
    assert [(t["name"], t["language"]) for t in inbox.synced_templates()] == [
        ("proposal_followup_v1", "es_MX"),
        ("soft_followup_v1", "es"),
        ("soft_followup_v1", "pt_BR"),
    ]
    after = {t["key"]: t for t in inbox.template_previews(cid)}
    assert after["soft_followup"]["approved_name"] == "soft_followup_v1"
    assert after["soft_followup"]["meta_body"].startswith("Hola {{1}}")
    assert after["proposal_followup"]["approved_name"] == "proposal_followup_v1"
    assert after["reactivation"]["approved_name"] is None  # Meta rejected it
    assert after["acknowledgement"]["approved_name"] is None  # still pending at Meta

    # Meta down: a clear error, and the previous sync stays.
    graph_api.media_down = True
    failed = runner.invoke(main, ["templates", "sync"], env=_env(graph_api, db))
    assert failed.exit_code == 1 and "HTTP 500" in failed.output
    assert len(inbox.synced_templates()) == 3
    inbox.close()


def test_cli_sync_without_an_account_names_the_variable(tmp_path: Path) -> None:
    env = {"LEAD_COPILOT_DB": str(tmp_path / "x.db"), "WHATSAPP_BUSINESS_ACCOUNT_ID": ""}
    result = CliRunner().invoke(main, ["templates", "sync"], env=env)
    assert result.exit_code == 1 and "WHATSAPP_BUSINESS_ACCOUNT_ID" in result.output
