"""``lead-copilot deliveries``: the webhook deliveries set aside, listed and replayed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from copilot.cli import db_option, main
from copilot.cli.serve import _settings

_db = db_option
_queue_db = click.option(
    "--queue-db", default=None, help="The webhook queue's file [env LEAD_COPILOT_QUEUE_DB]"
)


def _queue(db: str, queue_db: str | None):
    from copilot.inbox import InboxError
    from copilot.service.deliveries import DeliveryQueue, connect_state
    from copilot.service.queuefile import QueueFile

    settings = _settings(db=db, queue_db=queue_db)
    try:
        return DeliveryQueue(QueueFile(settings.queue_path), connect_state(settings.db))
    except InboxError as exc:
        raise click.ClickException(str(exc)) from exc


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds") if at else "-"


@main.group()
def deliveries() -> None:
    """Webhook deliveries: list the ones set aside, replay them."""


@deliveries.command("list")
@click.option("--failed", "state", flag_value="failed", default=True, help="Set aside (default)")
@click.option("--retrying", "state", flag_value="retry", help="Waiting to be tried again")
@click.option("--rejected", "state", flag_value="rejected", help="Refused at the door")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line")
@_db
@_queue_db
def list_cmd(state: str, limit: int, as_json: bool, db: str, queue_db: str | None) -> None:
    """List deliveries with their error, newest first."""
    queue = _queue(db, queue_db)
    rows = queue.deliveries(state, limit)
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(
                f"{row['id']}\t{_when(row['received_at'])}\t{row['attempts']} tries\t"
                f"{row['error'] or '-'}"
            )
    if not rows and not as_json:
        click.echo(f"no {state} deliveries", err=True)


@deliveries.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "replay_all", is_flag=True, help="Every set-aside delivery")
@_db
@_queue_db
def replay_cmd(ids: tuple[int, ...], replay_all: bool, db: str, queue_db: str | None):
    """Put set-aside deliveries back in line (the running service processes them)."""
    if bool(ids) == replay_all:
        raise click.UsageError("give delivery ids or --all (not both)")
    queue = _queue(db, queue_db)
    replayed = queue.replay(None if replay_all else ids)
    missing = sorted(set(ids) - set(replayed))
    click.echo(f"{len(replayed)} deliveries put back in line: {' '.join(map(str, replayed))}")
    if missing:
        raise click.ClickException(f"not set aside: {' '.join(map(str, missing))}")
