"""``lead-copilot serve`` (the service under granian) and ``lead-copilot agents``."""

from __future__ import annotations

import os

import click

from copilot.cli import main

_DEFAULT_DB = "lead-copilot.db"


def _settings(**flags):
    from copilot.service.config import ConfigError, Settings

    try:
        return Settings.from_env(**flags)
    except ConfigError as exc:
        raise click.ClickException(f"invalid configuration: {exc}") from exc


def _load_demo(state) -> str:
    """Fill the inbox with the web helper's demo data, when it ships a loader."""
    try:
        from copilot.web import demo
    except ImportError:
        return "no demo data loader is installed (copilot.web.demo)"
    loader = getattr(demo, "load_demo", None)
    if loader is None:
        return "copilot.web.demo has no load_demo()"
    result = loader(state.inbox())
    return f"demo data loaded: {result}" if result is not None else "demo data loaded"


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--db", default=None, help=f"SQLite file [env LEAD_COPILOT_DB; {_DEFAULT_DB}]")
@click.option("--profile", default=None, help="Business profile TOML [env LEAD_COPILOT_PROFILE]")
@click.option(
    "--engine",
    type=click.Choice(["rules", "llm", "hybrid"]),
    default=None,
    help="Analysis engine [env LEAD_COPILOT_ENGINE; rules]",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--demo", is_flag=True, help="Load demo conversations and agents first")
def serve(
    host: str,
    port: int,
    db: str | None,
    profile: str | None,
    engine: str | None,
    workers: int,
    demo: bool,
) -> None:
    """Run the service: WhatsApp webhook, inbox API, web inbox, analysis.

    With no variables set it runs offline: an SQLite file, the rules engine, the
    demo profile, replies kept in the outbox. Set WHATSAPP_APP_SECRET and
    WHATSAPP_VERIFY_TOKEN to receive webhooks, WHATSAPP_ACCESS_TOKEN and
    WHATSAPP_PHONE_NUMBER_ID to send, LEAD_COPILOT_ADMIN_TOKEN for an admin login.
    """
    from granian import Granian

    from copilot.service.background import BackgroundSupervisor
    from copilot.service.config import ConfigError
    from copilot.service.state import ServiceState

    if db is None and not os.environ.get("LEAD_COPILOT_DB"):
        db = _DEFAULT_DB
    settings = _settings(db=db, profile=profile, engine=engine)
    try:  # migrate the file and create the admin once, before the workers start
        state = ServiceState.build(settings)
    except ConfigError as exc:
        raise click.ClickException(f"invalid configuration: {exc}") from exc
    except Exception as exc:  # a corrupt or foreign database file, a bad profile...
        raise click.ClickException(str(exc)) from exc
    try:
        if demo:
            click.echo(_load_demo(state))
    finally:
        state.close()
    # The HTTP workers only store deliveries; one background process (lower CPU
    # priority) parses, analyses and ticks, so acknowledging Meta stays fast.
    os.environ.update(settings.with_changes(background=False).to_env())
    background = BackgroundSupervisor(settings)
    background.start()
    click.echo(f"Lead Copilot on http://{host}:{port}  (API docs: /schema, health: /healthz)")
    click.echo(f"  database {settings.db} | engine {settings.engine} | workers {workers}")
    click.echo(
        "  replies: "
        + ("WhatsApp Cloud API" if settings.sends_for_real else "outbox (no WhatsApp credentials)")
        + " | webhook: "
        + ("enabled" if settings.webhook_enabled else "disabled (set WHATSAPP_APP_SECRET)")
    )
    if not settings.admin_token:
        click.echo("  no LEAD_COPILOT_ADMIN_TOKEN: create agents with `lead-copilot agents add`")
    try:
        Granian(
            "copilot.service.app:create_app_from_env",
            factory=True,
            interface="asgi",
            address=host,
            port=port,
            workers=workers,
            log_access=False,
        ).serve()
    finally:
        background.stop()


@main.group()
def agents() -> None:
    """Inbox agents and their bearer tokens."""


def _inbox(db: str | None):
    from copilot.inbox import Inbox, InboxError

    settings = _settings(db=db or os.environ.get("LEAD_COPILOT_DB") or _DEFAULT_DB)
    try:
        return Inbox(settings.db)
    except InboxError as exc:
        raise click.ClickException(str(exc)) from exc


@agents.command("add")
@click.argument("name")
@click.option("--team", default=None, help="Team name (created if new)")
@click.option("--role", type=click.Choice(["agent", "admin"]), default="agent", show_default=True)
@click.option("--available/--away", default=True, show_default=True)
@click.option("--db", default=None, help=f"SQLite file [env LEAD_COPILOT_DB; {_DEFAULT_DB}]")
def agents_add(name: str, team: str | None, role: str, available: bool, db: str | None) -> None:
    """Create an agent and print their bearer token (shown this once only)."""
    from copilot.inbox import InboxError

    inbox = _inbox(db)
    try:
        agent, token = inbox.create_agent(name, team, role, available=available)  # type: ignore[arg-type]
    except InboxError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        inbox.close()
    click.echo(f"agent {agent.id} {agent.name} ({agent.role}, team {agent.team or '-'})", err=True)
    click.echo("token (store it now, it is not shown again):", err=True)
    click.echo(token)


@agents.command("list")
@click.option("--db", default=None, help=f"SQLite file [env LEAD_COPILOT_DB; {_DEFAULT_DB}]")
def agents_list(db: str | None) -> None:
    """List the agents (never their tokens)."""
    inbox = _inbox(db)
    try:
        for agent in inbox.agents():
            state = "active" if agent.active else "inactive"
            click.echo(f"{agent.id}\t{agent.name}\t{agent.role}\t{agent.team or '-'}\t{state}")
    finally:
        inbox.close()
