"""Sync the approved templates from the WhatsApp Business Account into the inbox
(``lead-copilot templates sync``)."""

from __future__ import annotations

from typing import Any

from copilot.inbox import Inbox
from copilot.integrations.whatsapp.sender import GraphClient
from copilot.integrations.whatsapp.settings import ENV_NAMES
from copilot.integrations.whatsapp.templates import approved_templates
from copilot.service.config import ConfigError, Settings


def sync_templates(settings: Settings, inbox: Inbox) -> int:
    """Read every approved template of ``WHATSAPP_BUSINESS_ACCOUNT_ID`` and keep
    them in the inbox, replacing the previous sync; returns how many. Raises
    :class:`ConfigError` without credentials and the adapter's
    ``TemplateSyncError`` when Meta cannot be read (the previous sync stays)."""
    whatsapp = settings.whatsapp
    if not whatsapp.syncs_templates:
        raise ConfigError(
            f"set {ENV_NAMES['access_token']}, {ENV_NAMES['phone_number_id']} and "
            f"{ENV_NAMES['business_account_id']} to sync the approved templates"
        )
    options: dict[str, Any] = {"timeout": 20.0}
    options.update(settings.sender_options or {})
    reader = GraphClient(
        whatsapp.access_token or "",
        whatsapp.phone_number_id or "",
        whatsapp.api_base_url,
        **options,
    )
    try:
        found = approved_templates(reader, whatsapp.business_account_id or "")
    finally:
        reader.close()
    return inbox.replace_synced_templates(found)
