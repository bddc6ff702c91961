"""The WhatsApp settings, read from the environment in this one place.

``WHATSAPP_APP_SECRET`` and ``WHATSAPP_VERIFY_TOKEN`` let webhooks in (the
signature and the subscription handshake); ``WHATSAPP_ACCESS_TOKEN`` and
``WHATSAPP_PHONE_NUMBER_ID`` let replies out through the Cloud API, at
``WHATSAPP_API_BASE_URL`` (Meta's Graph API unless set, e.g. to a local fake);
``WHATSAPP_BUSINESS_ACCOUNT_ID`` lets the approved templates be synced.
The service's configuration and :func:`~integrations.whatsapp.sender_from_env`
both read them through :meth:`WhatsAppSettings.from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from copilot.integrations.whatsapp.errors import ConfigError

DEFAULT_BASE_URL = "https://graph.facebook.com/v21.0"

#: setting -> environment variable
ENV_NAMES: dict[str, str] = {
    "app_secret": "WHATSAPP_APP_SECRET",
    "verify_token": "WHATSAPP_VERIFY_TOKEN",
    "access_token": "WHATSAPP_ACCESS_TOKEN",
    "phone_number_id": "WHATSAPP_PHONE_NUMBER_ID",
    "api_base_url": "WHATSAPP_API_BASE_URL",
    "business_account_id": "WHATSAPP_BUSINESS_ACCOUNT_ID",
}
#: Settings never shown in a repr or a log.
SECRETS = frozenset({"app_secret", "verify_token", "access_token"})


@dataclass(frozen=True)
class WhatsAppSettings:
    """What the adapter needs to receive and send. Build with :meth:`from_env`."""

    app_secret: str | None = None
    verify_token: str | None = None
    access_token: str | None = None
    phone_number_id: str | None = None
    api_base_url: str = DEFAULT_BASE_URL
    #: the WhatsApp Business Account whose approved templates are synced
    business_account_id: str | None = None

    def __repr__(self) -> str:  # never print a secret
        shown = ", ".join(
            f"{f.name}={'***' if f.name in SECRETS and getattr(self, f.name) else getattr(self, f.name)!r}"
            for f in fields(self)
        )
        return f"WhatsAppSettings({shown})"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, check: bool = True
    ) -> WhatsAppSettings:
        """Read the ``WHATSAPP_*`` variables of ``env`` (default ``os.environ``);
        blank counts as unset. With ``check`` (the default) an incomplete or
        invalid combination raises :class:`ConfigError` naming the variable."""
        env = os.environ if env is None else env
        values = {}
        for name, var in ENV_NAMES.items():
            raw = (env.get(var) or "").strip()
            if raw:
                values[name] = raw
        settings = cls(**values)
        if check:
            settings.check()
        return settings

    def check(self) -> None:
        """Raise :class:`ConfigError`, naming the variable, for settings that cannot
        work: only one of the two sending credentials, or a base URL that is not
        http(s)."""
        if bool(self.access_token) != bool(self.phone_number_id):
            missing = "access_token" if not self.access_token else "phone_number_id"
            raise ConfigError(
                f"{ENV_NAMES[missing]} is not set: set both {ENV_NAMES['access_token']} and "
                f"{ENV_NAMES['phone_number_id']} to send through the Cloud API, or neither (outbox)"
            )
        if not self.api_base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"{ENV_NAMES['api_base_url']}: must be an http(s) URL, "
                f"got {self.api_base_url[:80]!r}"
            )

    @property
    def sends_for_real(self) -> bool:
        """True when replies go through the Cloud API (both credentials set)."""
        return bool(self.access_token and self.phone_number_id)

    @property
    def syncs_templates(self) -> bool:
        """True when approved templates can be read (credentials and account id)."""
        return bool(self.access_token and self.phone_number_id and self.business_account_id)

    @property
    def webhook_enabled(self) -> bool:
        """True when webhook deliveries can be verified (an app secret is set)."""
        return bool(self.app_secret)
