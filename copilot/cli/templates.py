"""``lead-copilot templates``: the Meta-approved templates the inbox may send."""

from __future__ import annotations

import click

from copilot.cli import db_option, main
from copilot.cli.serve import _settings


@main.group()
def templates() -> None:
    """Approved message templates: sync them from the WhatsApp Business Account."""


@templates.command("sync")
@db_option
def sync_cmd(db: str) -> None:
    """Read the approved templates (WHATSAPP_BUSINESS_ACCOUNT_ID) into the inbox."""
    from copilot.inbox import Inbox
    from copilot.integrations.whatsapp.templates import TemplateSyncError
    from copilot.service.config import ConfigError
    from copilot.service.template_sync import sync_templates

    settings = _settings(db=db)
    inbox = Inbox(settings.db)
    try:
        count = sync_templates(settings, inbox)
    except (ConfigError, TemplateSyncError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        inbox.close()
    click.echo(f"{count} approved templates synced")
