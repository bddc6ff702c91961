"""The ``lead-copilot`` command line.

Each sub-command lives in its own module and registers itself on :data:`main`.
"""

from __future__ import annotations

import click

from copilot import __version__


def db_option(command):
    """The ``--db`` option every command shares, resolved by
    :func:`copilot.service.config.database_path`: the flag, else
    ``LEAD_COPILOT_DB``, else ``lead-copilot.db``."""

    def resolve(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
        from copilot.service.config import database_path

        return database_path(value)

    return click.option(
        "--db",
        default=None,
        callback=resolve,
        metavar="FILE",
        help="SQLite file [env LEAD_COPILOT_DB; default lead-copilot.db]",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lead-copilot")
def main() -> None:
    """Lead Copilot: answer WhatsApp sales leads with context."""


# Sub-command modules; importing one registers its commands on `main`.
from copilot.cli import analyze as _analyze  # noqa: E402,F401
from copilot.cli import deliveries as _deliveries  # noqa: E402,F401
from copilot.cli import eval as _eval  # noqa: E402,F401
from copilot.cli import inbox as _inbox  # noqa: E402,F401
from copilot.cli import profile as _profile  # noqa: E402,F401
from copilot.cli import serve as _serve  # noqa: E402,F401
from copilot.cli import templates as _templates  # noqa: E402,F401
