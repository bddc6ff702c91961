"""The ``lead-copilot`` command line.

Each sub-command lives in its own module and registers itself on :data:`main`.
"""

from __future__ import annotations

import click

from copilot import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lead-copilot")
def main() -> None:
    """Lead Copilot: answer WhatsApp sales leads with context."""


# Sub-command modules; importing one registers its commands on `main`.
from copilot.cli import analyze as _analyze  # noqa: E402,F401
from copilot.cli import deliveries as _deliveries  # noqa: E402,F401
from copilot.cli import eval as _eval  # noqa: E402,F401
from copilot.cli import inbox as _inbox  # noqa: E402,F401
from copilot.cli import serve as _serve  # noqa: E402,F401
