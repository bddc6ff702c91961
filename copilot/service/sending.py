"""The inbox's :class:`~copilot.inbox.Sender` on top of the WhatsApp adapter.

With Cloud API credentials replies go through :class:`WhatsAppSender` (base URL
configurable, so tests point it at a local fake); without them the inbox's own
outbox keeps them (``status = 'outbox'``) and nothing leaves the machine.
:func:`build_media_cache` likewise fetches inbound media through the adapter.
"""

from __future__ import annotations

from typing import Any

from copilot.inbox import OutgoingMessage, Sender
from copilot.inbox.media_store import MediaCache, MediaStore, media_folder
from copilot.integrations.whatsapp import MediaDownloader, WhatsAppSender
from copilot.service.config import Settings


class CloudAPISender:
    """Deliver inbox messages through the WhatsApp Cloud API."""

    name = "whatsapp"

    def __init__(self, client: WhatsAppSender) -> None:
        self.client = client

    def send(self, message: OutgoingMessage) -> str | None:
        """Send a template (when the inbox names an approved one) or free text;
        returns the WhatsApp message id or raises the adapter's ``SendError``."""
        to = message.to_wa_id or message.to_user_id
        if not to:
            raise ValueError(f"conversation {message.conversation_id} has no recipient id")
        if message.approved_name:
            return self.client.send_template(
                to, message.approved_name, message.language.value, dict(message.variables)
            )
        return self.client.send_text(to, message.text)

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


class DatabaseOutbox:
    """No credentials: the message stays in the inbox database with status
    ``outbox`` (the inbox's own ``OutboxSender`` would also keep a copy in memory
    for ever, which a long-running service must not do)."""

    name = "outbox"

    def send(self, message: OutgoingMessage) -> str | None:
        """Keep nothing here: the inbox already stored the message."""
        return None


def build_sender(settings: Settings) -> Sender:
    """The sender the settings ask for: Cloud API with credentials, else the outbox."""
    if not settings.sends_for_real:
        return DatabaseOutbox()
    options: dict[str, Any] = dict(settings.sender_options or {})
    whatsapp = settings.whatsapp
    client = WhatsAppSender(
        whatsapp.access_token or "",
        whatsapp.phone_number_id or "",
        whatsapp.api_base_url,
        **options,
    )
    return CloudAPISender(client)


def build_media_cache(settings: Settings) -> MediaCache | None:
    """The store and downloader of Cloud API media (a folder beside the database),
    or None without credentials (the demo's media only). Fetches happen while an
    agent waits for the page, so they get a short timeout and one retry."""
    if not settings.sends_for_real:
        return None
    whatsapp = settings.whatsapp
    options: dict[str, Any] = {"timeout": 8.0, "max_attempts": 2, "max_wait": 1.0}
    options.update(settings.sender_options or {})
    downloader = MediaDownloader(
        whatsapp.access_token or "",
        whatsapp.phone_number_id or "",
        whatsapp.api_base_url,
        **options,
    )
    store = MediaStore(
        media_folder(settings.db),
        max_bytes=settings.media_max_bytes,
        max_age=settings.media_max_age_days * 24 * 3600,
    )
    return MediaCache(store, downloader)
