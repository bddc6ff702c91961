"""``lead-copilot serve`` (the service under granian) and ``lead-copilot agents``."""

from __future__ import annotations

import os
import resource
import socket

import click

from copilot.cli import db_option, main

#: Milliseconds a client has to send a request's head once it connected (or
#: between two requests on a kept-alive connection); past it the connection is
#: closed, so idle or slow clients cannot keep holding the workers' connections.
HEADER_READ_TIMEOUT_MS = 5_000
#: Connections one worker serves at once. Idle ones cost little (a socket and a
#: small task), and granian's default (backlog / workers: 512 with two workers)
#: let a thousand silent clients lock everyone out.
MAX_CONNECTIONS_PER_WORKER = 8192
#: Connections the kernel queues before a worker accepts them.
BACKLOG = 4096


def check_port_free(host: str, port: int) -> None:
    """Fail with a clear message when ``host:port`` is taken. granian binds with
    SO_REUSEPORT, so a second server on a taken port would start and silently
    share its requests with the first; this bind, without it, refuses."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # SO_REUSEADDR: a stopped server's connections in TIME_WAIT do not count
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; another server "
                "(another `lead-copilot serve`?) holds it: stop it or choose another --port"
            ) from exc


def _raise_open_files_limit() -> None:
    """Let this process and its workers hold as many sockets as the hard limit
    allows: each connection is a file descriptor, and a soft limit of 1024 would
    make the workers refuse connections long before they are busy."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


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
@db_option
@click.option("--profile", default=None, help="Business profile TOML [env LEAD_COPILOT_PROFILE]")
@click.option(
    "--engine",
    type=click.Choice(["rules", "llm", "hybrid", "semantic"]),
    default=None,
    help="Analysis engine [env LEAD_COPILOT_ENGINE; rules]",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--demo", is_flag=True, help="Load demo conversations and agents first")
def serve(
    host: str,
    port: int,
    db: str,
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
    from granian.http import HTTP1Settings

    from copilot.service.background import BackgroundSupervisor
    from copilot.service.config import ConfigError
    from copilot.service.state import ServiceState

    check_port_free(host, port)
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
    _raise_open_files_limit()
    try:
        Granian(
            "copilot.service.app:create_app_from_env",
            factory=True,
            interface="asgi",
            address=host,
            port=port,
            workers=workers,
            log_access=False,
            # HTTP/1 only: browsers, Meta and proxies speak it over plain TCP, and
            # granian's auto mode waits for a client's first bytes with no timeout,
            # so a connection that never sends any would be held for ever.
            http="1",
            # A worker that dies (a crash, the OOM killer) is started again; granian
            # still stops when a new worker dies at once again (a crash loop).
            respawn_failed_workers=True,
            respawn_interval=1.0,
            backlog=BACKLOG,
            backpressure=MAX_CONNECTIONS_PER_WORKER,
            http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        ).serve()
    finally:
        background.stop()


@main.group()
def agents() -> None:
    """Inbox agents and their bearer tokens."""


def _inbox(db: str):
    from copilot.inbox import Inbox, InboxError

    settings = _settings(db=db)
    try:
        return Inbox(settings.db)
    except InboxError as exc:
        raise click.ClickException(str(exc)) from exc


@agents.command("add")
@click.argument("name")
@click.option("--team", default=None, help="Team name (created if new)")
@click.option("--role", type=click.Choice(["agent", "admin"]), default="agent", show_default=True)
@click.option("--available/--away", default=True, show_default=True)
@db_option
def agents_add(name: str, team: str | None, role: str, available: bool, db: str) -> None:
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
@db_option
def agents_list(db: str) -> None:
    """List the agents (never their tokens)."""
    inbox = _inbox(db)
    try:
        for agent in inbox.agents():
            state = "active" if agent.active else "inactive"
            click.echo(f"{agent.id}\t{agent.name}\t{agent.role}\t{agent.team or '-'}\t{state}")
    finally:
        inbox.close()
