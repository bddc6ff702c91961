"""``lead-copilot inbox``: create or check the database, run the clock, export metrics."""

from __future__ import annotations

import csv
import io
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from copilot.cli import db_option, main
from copilot.inbox.metrics import report_json


def _open(db: str, profile: str | None, config: str | None):
    from copilot.inbox import Inbox, InboxConfig, InboxError
    from copilot.profile import ProfileError, load_profile

    try:
        inbox_config = None
        if config:
            inbox_config = InboxConfig.model_validate(tomllib.loads(Path(config).read_text()))
        return Inbox(db, profile=load_profile(profile), config=inbox_config)
    except (InboxError, ProfileError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


_db = db_option
_profile = click.option("--profile", default=None, help="Business profile TOML (default: demo)")
_config = click.option("--config", default=None, help="Inbox configuration TOML (routing, caps)")


def _when(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO date or datetime") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@main.group()
def inbox() -> None:
    """The shared inbox database: init, check, tick, retry, metrics."""


@inbox.command("init")
@_db
def init_cmd(db: str) -> None:
    """Create (or upgrade) the inbox database."""
    from copilot.inbox import InboxError, open_db

    try:
        open_db(db).close()
    except InboxError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"inbox database ready: {db}")


@inbox.command("check")
@_db
def check_cmd(db: str) -> None:
    """Check the database file's integrity."""
    from copilot.inbox import InboxError, check_integrity, open_db

    try:
        problems = check_integrity(open_db(db))
    except InboxError as exc:
        raise click.ClickException(str(exc)) from exc
    if problems:
        raise click.ClickException("integrity problems:\n" + "\n".join(problems))
    click.echo("ok")


@inbox.command("tick")
@_db
@_profile
@_config
@click.option("--loop", is_flag=True, help="Keep ticking until interrupted")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between ticks")
def tick_cmd(db: str, profile: str | None, config: str | None, loop: bool, interval: float) -> None:
    """Fire what is due (acknowledgements, out-of-hours replies, follow-ups,
    reassignments) once, or every ``--interval`` seconds with ``--loop``."""
    box = _open(db, profile, config)
    while True:
        report = box.tick()
        click.echo(report.model_dump_json())
        if not loop:
            return
        time.sleep(interval)


@inbox.command("retry")
@_db
@_profile
@click.option("--limit", default=1000, show_default=True)
def retry_cmd(db: str, profile: str | None, limit: int) -> None:
    """Analyse the stored messages whose analysis is still pending."""
    done = _open(db, profile, None).retry_pending(limit)
    click.echo(f"analysed {done} pending message(s)")


@inbox.command("metrics")
@_db
@_profile
@click.option("--from", "start", default=None, help="ISO date (default: 30 days ago)")
@click.option("--to", "end", default=None, help="ISO date, exclusive (default: now)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@click.option("--business-hours", is_flag=True, help="Count response times in business hours")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None)
def metrics_cmd(
    db: str,
    profile: str | None,
    start: str | None,
    end: str | None,
    fmt: str,
    business_hours: bool,
    output: str | None,
) -> None:
    """Export inbox metrics for a date range as JSON or CSV."""
    now = datetime.now(UTC)
    hi = _when(end, now)
    lo = _when(start, hi - timedelta(days=30))
    report = _open(db, profile, None).metrics(lo, hi, business_hours_only=business_hours)
    if fmt == "json":
        text = report_json(report) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, ["section", "group", "key", "metric", "value"])
        writer.writeheader()
        writer.writerows(report.as_rows())
        text = buffer.getvalue()
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
