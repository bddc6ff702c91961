"""Sending: exact JSON bodies, retries and errors against a real local fake Graph API,
the outbox, configuration from the environment and the window/opt-out rules."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from copilot.integrations.whatsapp import (
    AsyncOutboxSender,
    AsyncWhatsAppSender,
    ConfigError,
    InvalidMessageError,
    ListRow,
    ListSection,
    OptedOutError,
    OutboxSender,
    ReplyButton,
    SendError,
    WhatsAppSender,
    WindowClosedError,
    check_can_send,
    sender_from_env,
)
from copilot.integrations.whatsapp.sender import parse_retry_after
from tests.fakes import graph_api as fake_graph
from tests.fakes.graph_api import FakeGraphAPI, FakeResponse

graph_api = fake_graph.graph_api  # the fixture: a running fake Graph API per test

TOKEN = "EAAG-test-token-gc"
PHONE_ID = "420000000000001"
LEAD = "573015550101"


class Waits(list[float]):
    """Records the waits tenacity asks for, without sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_sender(api: FakeGraphAPI, waits: Waits | None = None, **options: object) -> WhatsAppSender:
    options = {"initial_wait": 0.01, "max_wait": 0.05, "jitter": 0.01, **options}
    return WhatsAppSender(
        TOKEN, PHONE_ID, api.base_url, sleep=waits if waits is not None else Waits(), **options
    )  # type: ignore[arg-type]


# --- exact bodies ---------------------------------------------------------------


def test_text_send_posts_the_exact_body_with_bearer_token(graph_api: FakeGraphAPI) -> None:
    graph_api.script(graph_api.ok("wamid.GC-SENT-1"))
    with make_sender(graph_api) as sender:
        message_id = sender.send_text(LEAD, "¡Hola Valentina! El plan mensual cuesta 120.000")
    assert message_id == "wamid.GC-SENT-1"
    (request,) = graph_api.requests
    assert request.method == "POST"
    assert request.path == f"/v21.0/{PHONE_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": LEAD,
        "type": "text",
        "text": {"preview_url": False, "body": "¡Hola Valentina! El plan mensual cuesta 120.000"},
    }


def test_text_reply_with_context_and_preview(graph_api: FakeGraphAPI) -> None:
    with make_sender(graph_api) as sender:
        sender.send_text(LEAD, "mira https://example.com", preview_url=True, reply_to="wamid.IN-1")
    body = graph_api.requests[0].json
    assert body["context"] == {"message_id": "wamid.IN-1"}
    assert body["text"]["preview_url"] is True


def test_template_send_with_positional_body_variables(graph_api: FakeGraphAPI) -> None:
    with make_sender(graph_api) as sender:
        sender.send_template(LEAD, "seguimiento_suave", "es", ["Valentina", "plan mensual"])
    assert graph_api.requests[0].json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": LEAD,
        "type": "template",
        "template": {
            "name": "seguimiento_suave",
            "language": {"code": "es"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Valentina"},
                        {"type": "text", "text": "plan mensual"},
                    ],
                }
            ],
        },
    }


def test_template_named_variables_and_no_variables(graph_api: FakeGraphAPI) -> None:
    with make_sender(graph_api) as sender:
        sender.send_template(LEAD, "reactivacion", "pt_BR", {"nome": "Ana"})
        sender.send_template(LEAD, "hello_world", "en_US")
    named, bare = (r.json["template"] for r in graph_api.requests)
    assert named["components"] == [
        {"type": "body", "parameters": [{"type": "text", "parameter_name": "nome", "text": "Ana"}]}
    ]
    assert bare == {"name": "hello_world", "language": {"code": "en_US"}}


def test_interactive_buttons_body(graph_api: FakeGraphAPI) -> None:
    with make_sender(graph_api) as sender:
        sender.send_buttons(
            LEAD,
            "¿Cómo prefieres seguir?",
            [
                ReplyButton(id="call", title="Llamada"),
                ("visit", "Visita"),
                {"id": "wa", "title": "Por aquí"},
            ],
            header="Plan Pro",
            footer="Responde cuando puedas",
        )
    assert graph_api.requests[0].json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": LEAD,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "header": {"type": "text", "text": "Plan Pro"},
            "body": {"text": "¿Cómo prefieres seguir?"},
            "footer": {"text": "Responde cuando puedas"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "call", "title": "Llamada"}},
                    {"type": "reply", "reply": {"id": "visit", "title": "Visita"}},
                    {"type": "reply", "reply": {"id": "wa", "title": "Por aquí"}},
                ]
            },
        },
    }


def test_interactive_list_body(graph_api: FakeGraphAPI) -> None:
    sections = [
        ListSection(
            title="Planes",
            rows=[
                ListRow(id="basic", title="Básico", description="3 clases por semana"),
                ListRow(id="pro", title="Pro"),
            ],
        ),
        {"title": "Otros", "rows": [{"id": "day", "title": "Pase diario"}]},
    ]
    with make_sender(graph_api) as sender:
        sender.send_list(LEAD, "Elige un plan", "Ver planes", sections)
    assert graph_api.requests[0].json["interactive"] == {
        "type": "list",
        "body": {"text": "Elige un plan"},
        "action": {
            "button": "Ver planes",
            "sections": [
                {
                    "title": "Planes",
                    "rows": [
                        {"id": "basic", "title": "Básico", "description": "3 clases por semana"},
                        {"id": "pro", "title": "Pro"},
                    ],
                },
                {"title": "Otros", "rows": [{"id": "day", "title": "Pase diario"}]},
            ],
        },
    }


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda s: s.send_text(LEAD, "   "), "text body"),
        (lambda s: s.send_text(LEAD, "x" * 4097), "4096"),
        (lambda s: s.send_text("", "hola"), "recipient"),
        (
            lambda s: s.send_buttons(LEAD, "b", [("1", "a"), ("2", "b"), ("3", "c"), ("4", "d")]),
            "1 to 3",
        ),
        (lambda s: s.send_buttons(LEAD, "b", []), "1 to 3"),
        (lambda s: s.send_buttons(LEAD, "b", [("1", "a"), ("1", "b")]), "unique"),
        (lambda s: s.send_buttons(LEAD, "b", [("1", "un título demasiado largo")]), "20"),
        (lambda s: s.send_buttons(LEAD, "b", ["solo"]), "button"),
        (lambda s: s.send_list(LEAD, "b", "Ver", [{"rows": []}]), "rows"),
        (lambda s: s.send_list(LEAD, "b", "Ver", [{"rows": [{"id": "1"}]}]), "invalid list"),
        (lambda s: s.send_template(LEAD, "t", "es", "Valentina"), "list of strings"),
    ],
)
def test_invalid_messages_are_refused_before_any_request(
    graph_api: FakeGraphAPI, call, needle: str
) -> None:
    with make_sender(graph_api) as sender, pytest.raises(InvalidMessageError, match=needle):
        call(sender)
    assert graph_api.requests == []


# --- retries ----------------------------------------------------------------------


def test_retries_429_honouring_retry_after_then_5xx_then_succeeds(
    graph_api: FakeGraphAPI,
) -> None:
    graph_api.script(
        graph_api.rate_limited(retry_after=2),
        graph_api.server_error(503),
        graph_api.ok("wamid.GC-AFTER-RETRY"),
    )
    waits = Waits()
    with make_sender(graph_api, waits) as sender:
        assert sender.send_text(LEAD, "hola") == "wamid.GC-AFTER-RETRY"
    assert len(graph_api.message_requests) == 3
    # Same body every time: a retry is the same message.
    assert len({r.body for r in graph_api.requests}) == 1
    assert waits[0] == 2.0  # Retry-After honoured
    assert 0 < waits[1] <= 0.05  # exponential backoff + jitter, bounded by max_wait


def test_retry_after_is_capped(graph_api: FakeGraphAPI) -> None:
    graph_api.script(graph_api.rate_limited(retry_after=3600), graph_api.ok())
    waits = Waits()
    with make_sender(graph_api, waits, max_retry_after=5) as sender:
        sender.send_text(LEAD, "hola")
    assert waits == [5]


def test_retry_after_http_date() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now) == 30
    assert parse_retry_after("7", now=now) == 7
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_gives_up_after_the_bounded_attempts(graph_api: FakeGraphAPI) -> None:
    graph_api.script(*[graph_api.server_error()] * 6)
    waits = Waits()
    with make_sender(graph_api, waits) as sender, pytest.raises(SendError) as info:
        sender.send_text(LEAD, "hola")
    assert len(graph_api.requests) == 4
    assert len(waits) == 3
    error = info.value
    assert error.retryable and error.attempts == 4 and error.status_code == 500
    assert "HTTP 500" in str(error)


def test_429_without_retry_after_uses_backoff(graph_api: FakeGraphAPI) -> None:
    graph_api.script(graph_api.rate_limited(retry_after=None), graph_api.ok("wamid.OK"))
    waits = Waits()
    with make_sender(graph_api, waits) as sender:
        assert sender.send_text(LEAD, "hola") == "wamid.OK"
    assert len(waits) == 1 and 0 < waits[0] <= 0.05


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_other_4xx_are_not_retried(graph_api: FakeGraphAPI, status: int) -> None:
    graph_api.script(graph_api.meta_error(status=status), graph_api.ok())
    waits = Waits()
    with make_sender(graph_api, waits) as sender, pytest.raises(SendError) as info:
        sender.send_text(LEAD, "hola")
    assert len(graph_api.requests) == 1 and waits == []
    error = info.value
    assert not error.retryable and error.attempts == 1
    assert error.status_code == status and error.code == 131030
    assert error.title == "Recipient phone number not in allowed list"
    assert error.error_message == "(#131030) Recipient phone number not in allowed list"
    assert error.details == "Add recipient phone number to recipient list and try again."
    assert error.fbtrace_id == "FAKE-TRACE-4XX"
    assert "code 131030" in str(error) and f"HTTP {status}" in str(error)


def test_outside_window_error_from_meta_is_clear(graph_api: FakeGraphAPI) -> None:
    graph_api.script(
        graph_api.meta_error(
            code=131047,
            message="(#131047) Re-engagement message",
            title=None,
            details="Message failed to send because more than 24 hours have passed.",
        )
    )
    with make_sender(graph_api) as sender, pytest.raises(SendError, match="24 hours") as info:
        sender.send_text(LEAD, "hola")
    assert info.value.code == 131047


def test_dropped_connection_is_retried(graph_api: FakeGraphAPI) -> None:
    graph_api.script(graph_api.drop(), graph_api.ok("wamid.AFTER-DROP"))
    with make_sender(graph_api) as sender:
        assert sender.send_text(LEAD, "hola") == "wamid.AFTER-DROP"
    assert len(graph_api.requests) == 2


def test_nothing_listening_fails_after_retries() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits = Waits()
    sender = WhatsAppSender(
        TOKEN, PHONE_ID, f"http://127.0.0.1:{port}/v21.0", sleep=waits, max_attempts=3
    )
    with sender, pytest.raises(SendError, match="ConnectError") as info:
        sender.send_text(LEAD, "hola")
    assert info.value.status_code is None and info.value.retryable
    assert info.value.attempts == 3 and len(waits) == 2


def test_success_without_message_id_is_an_error(graph_api: FakeGraphAPI) -> None:
    graph_api.script(FakeResponse(200, {"messaging_product": "whatsapp"}))
    with make_sender(graph_api) as sender, pytest.raises(SendError, match="without a message id"):
        sender.send_text(LEAD, "hola")


def test_repr_never_shows_the_token(graph_api: FakeGraphAPI) -> None:
    with make_sender(graph_api) as sender:
        assert TOKEN not in repr(sender) and PHONE_ID in repr(sender)


def test_missing_credentials_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="access token"):
        WhatsAppSender("", PHONE_ID)
    with pytest.raises(ConfigError, match="phone number id"):
        WhatsAppSender(TOKEN, "")


# --- async ---------------------------------------------------------------------


def test_async_sender_retries_and_sends_the_same_body(graph_api: FakeGraphAPI) -> None:
    graph_api.script(graph_api.rate_limited(retry_after=1), graph_api.ok("wamid.ASYNC"))
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async def run() -> str:
        async with AsyncWhatsAppSender(TOKEN, PHONE_ID, graph_api.base_url, sleep=record) as sender:
            return await sender.send_template(LEAD, "bienvenida", "es", ["Ana"])

    assert asyncio.run(run()) == "wamid.ASYNC"
    assert waits == [1.0]
    first, second = graph_api.requests
    assert first.json == second.json
    assert first.json["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Ana"}
    ]
    assert first.headers["authorization"] == f"Bearer {TOKEN}"


def test_async_sender_does_not_retry_400(graph_api: FakeGraphAPI) -> None:
    graph_api.script(graph_api.meta_error())

    async def run() -> None:
        async with AsyncWhatsAppSender(TOKEN, PHONE_ID, graph_api.base_url) as sender:
            await sender.send_text(LEAD, "hola")

    with pytest.raises(SendError) as info:
        asyncio.run(run())
    assert info.value.code == 131030 and len(graph_api.requests) == 1


# --- outbox and configuration -------------------------------------------------------


def test_outbox_keeps_messages_locally_with_the_real_bodies(graph_api: FakeGraphAPI) -> None:
    outbox = OutboxSender()
    first = outbox.send_text(LEAD, "hola")
    second = outbox.send_buttons(LEAD, "¿Seguimos?", [("si", "Sí"), ("no", "No")])
    assert first.startswith("outbox-") and second.startswith("outbox-") and first != second
    assert [item.id for item in outbox.sent] == [first, second]
    assert [item.type for item in outbox.sent] == ["text", "interactive"]
    assert outbox.sent[0].to == LEAD
    # The outbox keeps exactly what the real sender would have posted.
    with make_sender(graph_api) as sender:
        sender.send_text(LEAD, "hola")
    assert outbox.sent[0].payload == graph_api.requests[0].json
    # And it validates like the real one.
    with pytest.raises(InvalidMessageError):
        outbox.send_text(LEAD, "")
    assert len(outbox.sent) == 2


def test_async_outbox() -> None:
    outbox = AsyncOutboxSender()
    message_id = asyncio.run(outbox.send_text(LEAD, "hola"))
    assert message_id.startswith("outbox-") and outbox.sent[0].id == message_id


def test_sender_from_env_without_credentials_is_the_outbox() -> None:
    assert isinstance(sender_from_env({}), OutboxSender)
    assert isinstance(sender_from_env({}, use_async=True), AsyncOutboxSender)


def test_sender_from_env_with_credentials_is_the_real_sender(graph_api: FakeGraphAPI) -> None:
    env = {
        "WHATSAPP_ACCESS_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
        "WHATSAPP_API_BASE_URL": graph_api.base_url + "/",
    }
    sender = sender_from_env(env)
    assert isinstance(sender, WhatsAppSender)
    with sender:
        assert sender.send_text(LEAD, "hola").startswith("wamid.FAKE")
    assert graph_api.requests[0].path == f"/v21.0/{PHONE_ID}/messages"
    default = sender_from_env(
        {"WHATSAPP_ACCESS_TOKEN": TOKEN, "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID}
    )
    assert default.messages_url == f"https://graph.facebook.com/v21.0/{PHONE_ID}/messages"
    default.close()
    assert isinstance(sender_from_env(env, use_async=True), AsyncWhatsAppSender)


def test_sender_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHATSAPP_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("WHATSAPP_PHONE_NUMBER_ID", raising=False)
    assert isinstance(sender_from_env(), OutboxSender)
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PHONE_ID)
    sender = sender_from_env()
    assert isinstance(sender, WhatsAppSender)
    sender.close()


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"WHATSAPP_ACCESS_TOKEN": TOKEN}, "WHATSAPP_PHONE_NUMBER_ID is not set"),
        ({"WHATSAPP_PHONE_NUMBER_ID": PHONE_ID}, "WHATSAPP_ACCESS_TOKEN is not set"),
        (
            {
                "WHATSAPP_ACCESS_TOKEN": TOKEN,
                "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
                "WHATSAPP_API_BASE_URL": "graph",
            },
            "http",
        ),
    ],
)
def test_sender_from_env_half_configured_is_an_error(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        sender_from_env(env)


# --- window and opt-out rules ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["text", "interactive", "media"])
def test_free_form_needs_the_window(kind: str) -> None:
    check_can_send(kind, window_open=True, opted_out=False)
    with pytest.raises(WindowClosedError, match="approved template"):
        check_can_send(kind, window_open=False, opted_out=False)


def test_templates_go_outside_the_window() -> None:
    check_can_send("template", window_open=False, opted_out=False)


def test_opted_out_leads_get_only_the_confirmation() -> None:
    for kind in ("text", "template"):
        with pytest.raises(OptedOutError, match="opted out"):
            check_can_send(kind, window_open=True, opted_out=True)
    check_can_send("text", window_open=True, opted_out=True, is_opt_out_confirmation=True)
    # The confirmation still obeys the window: outside it, only as a template.
    with pytest.raises(WindowClosedError):
        check_can_send("text", window_open=False, opted_out=True, is_opt_out_confirmation=True)
    check_can_send("template", window_open=False, opted_out=True, is_opt_out_confirmation=True)


def test_unknown_send_kind() -> None:
    with pytest.raises(ValueError, match="unknown send kind"):
        check_can_send("fax", window_open=True, opted_out=False)
