"""The WhatsApp environment variables are read in one place, and the sync and
async senders share one request, one reading of answers and one retry policy."""

from __future__ import annotations

import asyncio

import pytest

from copilot.integrations.whatsapp import (
    AsyncOutboxSender,
    AsyncWhatsAppSender,
    ConfigError,
    OutboxSender,
    SendError,
    WhatsAppSender,
    WhatsAppSettings,
    sender_from_env,
)
from copilot.integrations.whatsapp.settings import DEFAULT_BASE_URL
from copilot.integrations.whatsapp.settings import ENV_NAMES as WHATSAPP_ENV_NAMES
from copilot.service import ConfigError as ServiceConfigError
from copilot.service import Settings
from copilot.service.config import ENV_NAMES
from tests.fakes import graph_api as fake_graph
from tests.fakes.graph_api import FakeGraphAPI

graph_api = fake_graph.graph_api

TOKEN = "EAAG-settings-token"
PHONE_ID = "420000000000077"
LEAD = "573015550177"


# --- settings ------------------------------------------------------------------------


def test_from_env_reads_strips_and_treats_blank_as_unset():
    settings = WhatsAppSettings.from_env(
        {
            "WHATSAPP_APP_SECRET": "  s3cret ",
            "WHATSAPP_VERIFY_TOKEN": "",
            "WHATSAPP_ACCESS_TOKEN": TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": f" {PHONE_ID}\n",
            "OTHER": "ignored",
        }
    )
    assert settings == WhatsAppSettings(
        app_secret="s3cret", access_token=TOKEN, phone_number_id=PHONE_ID
    )
    assert settings.api_base_url == DEFAULT_BASE_URL
    assert settings.sends_for_real and settings.webhook_enabled
    assert TOKEN not in repr(settings) and "s3cret" not in repr(settings)
    assert PHONE_ID in repr(settings)
    assert not WhatsAppSettings.from_env({}).sends_for_real


def test_from_env_reads_os_environ(monkeypatch):
    for var in WHATSAPP_ENV_NAMES.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", "verify-me")
    assert WhatsAppSettings.from_env().verify_token == "verify-me"


BAD = [
    pytest.param(
        {"WHATSAPP_ACCESS_TOKEN": TOKEN}, "WHATSAPP_PHONE_NUMBER_ID is not set", id="no-id"
    ),
    pytest.param(
        {"WHATSAPP_PHONE_NUMBER_ID": PHONE_ID}, "WHATSAPP_ACCESS_TOKEN is not set", id="no-token"
    ),
    pytest.param(
        {"WHATSAPP_API_BASE_URL": "ftp://graph"}, "WHATSAPP_API_BASE_URL: must be an http", id="url"
    ),
]


@pytest.mark.parametrize(("env", "message"), BAD)
def test_the_service_and_the_sender_refuse_the_same_settings_alike(tmp_path, env, message):
    """Once each: the adapter, the adapter's sender_from_env and the service's
    configuration give the same error for the same environment."""
    with pytest.raises(ConfigError) as adapter:
        WhatsAppSettings.from_env(env)
    with pytest.raises(ConfigError) as sender:
        sender_from_env(env)
    with pytest.raises(ServiceConfigError) as service:
        Settings.from_env({"LEAD_COPILOT_DB": str(tmp_path / "x.db"), **env})
    assert message in str(adapter.value)
    assert str(adapter.value) == str(sender.value) == str(service.value)


def test_the_service_reads_whatsapp_through_the_adapter(tmp_path):
    env = {
        "LEAD_COPILOT_DB": str(tmp_path / "x.db"),
        "WHATSAPP_APP_SECRET": "s3cret",
        "WHATSAPP_ACCESS_TOKEN": f" {TOKEN} ",
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
        "WHATSAPP_API_BASE_URL": "http://127.0.0.1:9/v21.0",
    }
    settings = Settings.from_env(env)
    assert settings.whatsapp == WhatsAppSettings.from_env(env)
    assert settings.sends_for_real and settings.webhook_enabled
    # A flag still wins over the environment.
    flagged = Settings.from_env(env, api_base_url="https://graph.example/v21.0")
    assert flagged.whatsapp.api_base_url == "https://graph.example/v21.0"
    # The variables handed to worker processes are the adapter's names.
    assert {ENV_NAMES[name] for name in WHATSAPP_ENV_NAMES} == set(WHATSAPP_ENV_NAMES.values())
    assert Settings.from_env(settings.to_env()).whatsapp == settings.whatsapp


def test_sender_from_env_picks_by_the_settings(graph_api: FakeGraphAPI):
    assert isinstance(sender_from_env({}), OutboxSender)
    assert isinstance(sender_from_env({}, use_async=True), AsyncOutboxSender)
    env = {
        "WHATSAPP_ACCESS_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
        "WHATSAPP_API_BASE_URL": graph_api.base_url,
    }
    with sender_from_env(env) as sender:
        assert isinstance(sender, WhatsAppSender)
        assert sender.messages_url == f"{graph_api.base_url}/{PHONE_ID}/messages"


# --- one sender, two transports -----------------------------------------------------------

OPTIONS = {"initial_wait": 0.01, "max_wait": 0.05, "jitter": 0.0, "max_attempts": 4}


def _script(api: FakeGraphAPI) -> None:
    api.script(
        api.rate_limited(retry_after=2),
        api.server_error(503),
        api.drop(),
        api.meta_error(status=400),
    )


def _run_sync(api: FakeGraphAPI) -> tuple[SendError, list[float]]:
    waits: list[float] = []
    sender = WhatsAppSender(TOKEN, PHONE_ID, api.base_url, sleep=waits.append, **OPTIONS)
    with sender, pytest.raises(SendError) as info:
        sender.send_text(LEAD, "hola")
    return info.value, waits


def _run_async(api: FakeGraphAPI) -> tuple[SendError, list[float]]:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async def run() -> None:
        async with AsyncWhatsAppSender(
            TOKEN, PHONE_ID, api.base_url, sleep=record, **OPTIONS
        ) as sender:
            await sender.send_text(LEAD, "hola")

    with pytest.raises(SendError) as info:
        asyncio.run(run())
    return info.value, waits


def test_sync_and_async_senders_behave_the_same(graph_api: FakeGraphAPI):
    """The same answers from Meta (429, 503, a dropped connection, then a 400) give
    the same requests, the same waits and the same final error on both senders."""
    _script(graph_api)
    sync_error, sync_waits = _run_sync(graph_api)
    sync_requests = [(r.path, r.headers["authorization"], r.json) for r in graph_api.requests]
    graph_api.requests.clear()
    _script(graph_api)
    async_error, async_waits = _run_async(graph_api)
    async_requests = [(r.path, r.headers["authorization"], r.json) for r in graph_api.requests]

    assert len(sync_requests) == 4 and sync_requests == async_requests
    assert sync_waits[0] == 2.0 and sync_waits == async_waits
    for field in ("status_code", "code", "title", "error_message", "retryable", "attempts"):
        assert getattr(sync_error, field) == getattr(async_error, field), field
    assert str(sync_error) == str(async_error)
    assert sync_error.attempts == 4 and sync_error.status_code == 400
