"""Service settings: environment variables, overridden by command-line flags.

Every setting has one environment variable, so the ``serve`` command can hand the
settings to granian's worker processes through the environment. Invalid values
fail at start-up with :class:`ConfigError` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from copilot.engines.base import EngineError
from copilot.engines.spec import EngineSpec
from copilot.integrations.whatsapp import ConfigError as WhatsAppConfigError
from copilot.integrations.whatsapp import settings as whatsapp_settings

ENGINES = ("rules", "llm", "hybrid", "semantic")

#: The SQLite file of every command (``serve``, ``agents``, ``inbox``) when
#: neither ``--db`` nor ``LEAD_COPILOT_DB`` names another.
DEFAULT_DB = "lead-copilot.db"

#: field name -> environment variable
ENV_NAMES: dict[str, str] = {
    "db": "LEAD_COPILOT_DB",
    "queue_db": "LEAD_COPILOT_QUEUE_DB",
    "profile": "LEAD_COPILOT_PROFILE",
    "engine": "LEAD_COPILOT_ENGINE",
    "admin_token": "LEAD_COPILOT_ADMIN_TOKEN",
    "tick_seconds": "LEAD_COPILOT_TICK_SECONDS",
    "stuck_seconds": "LEAD_COPILOT_STUCK_SECONDS",
    "max_body_bytes": "LEAD_COPILOT_MAX_BODY_BYTES",
    "background": "LEAD_COPILOT_BACKGROUND",
    "media_max_bytes": "LEAD_COPILOT_MEDIA_MAX_BYTES",
    "media_max_age_days": "LEAD_COPILOT_MEDIA_MAX_AGE_DAYS",
    # The WhatsApp adapter reads its own variables (WhatsAppSettings.from_env).
    **whatsapp_settings.ENV_NAMES,
}
_SECRETS = {"admin_token", *whatsapp_settings.SECRETS}


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to start. Build with :meth:`from_env`."""

    db: str = DEFAULT_DB
    #: the webhook delivery queue's own SQLite file (default: beside ``db``)
    queue_db: str | None = None
    profile: str | None = None
    engine: str = "rules"
    admin_token: str | None = None
    tick_seconds: float = 60.0
    #: /healthz answers 503 when deliveries wait this long while none is settled
    stuck_seconds: float = 120.0
    max_body_bytes: int = 1_000_000
    background: bool = True
    #: the local store of Cloud API media (a folder beside ``db``): total size cap
    media_max_bytes: int = 500 * 1024 * 1024
    #: ... and how long a fetched file is kept before it is fetched again
    media_max_age_days: float = 7.0
    app_secret: str | None = None
    verify_token: str | None = None
    access_token: str | None = None
    phone_number_id: str | None = None
    api_base_url: str = whatsapp_settings.DEFAULT_BASE_URL
    business_account_id: str | None = None
    #: sender options (tests shorten the retry waits); not read from the environment
    sender_options: Mapping[str, Any] | None = None

    def __repr__(self) -> str:  # never print a secret
        shown = {
            f.name: (
                "***" if f.name in _SECRETS and getattr(self, f.name) else getattr(self, f.name)
            )
            for f in fields(self)
        }
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read the environment (default ``os.environ``), apply ``overrides`` (flags;
        ``None`` means "not given"), validate and return the settings."""
        env = os.environ if env is None else env
        # Checked below with everything else, once the flags are applied.
        values: dict[str, Any] = asdict(
            whatsapp_settings.WhatsAppSettings.from_env(env, check=False)
        )
        for name, var in ENV_NAMES.items():
            if name in whatsapp_settings.ENV_NAMES:
                continue
            raw = env.get(var)
            if raw is not None and raw.strip() != "":
                values[name] = _convert(name, var, raw.strip())
        for name, value in overrides.items():
            if name not in ENV_NAMES and name != "sender_options":
                raise TypeError(f"unknown setting {name!r}")
            if value is not None:
                values[name] = value
        settings = cls(**values)
        settings.validate()
        return settings

    def with_changes(self, **changes: Any) -> Settings:
        """A validated copy with ``changes`` applied."""
        settings = replace(self, **changes)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise :class:`ConfigError` (naming the variable) for any invalid value."""
        try:
            engine = EngineSpec.parse(self.engine).name
        except EngineError as exc:
            raise ConfigError(f"{ENV_NAMES['engine']} (--engine): {exc}") from exc
        if engine not in ENGINES:
            raise ConfigError(
                f"{ENV_NAMES['engine']} (--engine): unknown engine {engine!r}; "
                f"choose one of {', '.join(ENGINES)} (options after commas: "
                "llm,structured=json,timeout=60)"
            )
        if not str(self.db).strip():
            raise ConfigError(f"{ENV_NAMES['db']} (--db): the database path is empty")
        if str(self.db) == ":memory:":
            raise ConfigError(
                f"{ENV_NAMES['db']} (--db): the service needs a file (its workers share it)"
            )
        for name in ("db", "queue_db"):
            value = getattr(self, name)
            if value is None:
                continue
            parent = Path(value).expanduser().resolve().parent
            if not parent.is_dir():
                raise ConfigError(f"{ENV_NAMES[name]}: the folder {str(parent)!r} does not exist")
        if self.profile is not None and not Path(self.profile).is_file():
            raise ConfigError(
                f"{ENV_NAMES['profile']} (--profile): no profile file at {self.profile!r}"
            )
        for name in ("tick_seconds", "stuck_seconds"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{ENV_NAMES[name]}: must be a positive number of seconds")
        if self.max_body_bytes < 1024:
            raise ConfigError(f"{ENV_NAMES['max_body_bytes']}: must be at least 1024 bytes")
        if not self.media_max_age_days > 0:
            raise ConfigError(
                f"{ENV_NAMES['media_max_age_days']}: must be a positive number of days"
            )
        if self.media_max_bytes < 1024 * 1024:
            raise ConfigError(f"{ENV_NAMES['media_max_bytes']}: must be at least 1048576 bytes")
        try:
            self.whatsapp.check()
        except WhatsAppConfigError as exc:
            raise ConfigError(str(exc)) from None
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise ConfigError(
                f"{ENV_NAMES['admin_token']}: too short; use at least 16 random characters"
            )

    @property
    def queue_path(self) -> str:
        """Where the webhook queue lives: its own file, so storing a delivery never
        waits for the inbox's write lock (``inbox.db`` -> ``inbox.webhooks.db``)."""
        if self.queue_db:
            return self.queue_db
        path = Path(self.db)
        return str(path.with_name(f"{path.stem}.webhooks{path.suffix or '.db'}"))

    @property
    def whatsapp(self) -> whatsapp_settings.WhatsAppSettings:
        """The WhatsApp adapter's part of the settings."""
        return whatsapp_settings.WhatsAppSettings(
            **{name: getattr(self, name) for name in whatsapp_settings.ENV_NAMES}
        )

    @property
    def sends_for_real(self) -> bool:
        """True when replies go through the Cloud API (credentials set)."""
        return self.whatsapp.sends_for_real

    @property
    def webhook_enabled(self) -> bool:
        """True when webhooks can be verified (an app secret is set)."""
        return self.whatsapp.webhook_enabled

    def to_env(self) -> dict[str, str]:
        """The settings as environment variables (to hand to worker processes)."""
        out = {}
        for name, var in ENV_NAMES.items():
            value = asdict(self)[name]
            if value is None:
                continue
            if isinstance(value, bool):
                value = "1" if value else "0"
            out[var] = str(value)
        return out


def database_path(flag: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The database file a command uses: its ``--db`` flag, else ``LEAD_COPILOT_DB``
    (from ``env``, default ``os.environ``), else :data:`DEFAULT_DB`."""
    if flag is not None and flag.strip():
        return flag
    env = os.environ if env is None else env
    return (env.get(ENV_NAMES["db"]) or "").strip() or DEFAULT_DB


def _convert(name: str, var: str, raw: str) -> Any:
    """One environment value as the field's type."""
    try:
        if name in ("tick_seconds", "stuck_seconds", "media_max_age_days"):
            return float(raw)
        if name in ("max_body_bytes", "media_max_bytes"):
            return int(raw)
    except ValueError:
        raise ConfigError(f"{var}: {raw[:40]!r} is not a number") from None
    if name == "background":
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{var}: expected 1/0, true/false, yes/no or on/off, got {raw[:40]!r}")
    return raw
