"""The Litestar service: WhatsApp webhooks, the inbox JSON API and analysis.

from copilot.service import Settings, create_app
app = create_app(Settings(db="inbox.db", app_secret="..."))
"""

from copilot.service.app import create_app, create_app_from_env
from copilot.service.config import ConfigError, Settings

__all__ = ["ConfigError", "Settings", "create_app", "create_app_from_env"]
