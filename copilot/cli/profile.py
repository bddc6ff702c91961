"""``lead-copilot profile check``: validate a business profile and warn about gaps."""

from __future__ import annotations

import click

from copilot.cli import main
from copilot.cli.analyze import CliError
from copilot.profile import ProfileError, load_profile, missing_languages


@main.group("profile")
def profile_group() -> None:
    """Business profiles."""


@profile_group.command("check")
@click.argument("path", required=False, metavar="[PROFILE]")
def check_command(path: str | None) -> None:
    """Validate PROFILE (default: the demo profile). Exit code 2 when it is
    invalid; warnings (facts missing a language) are printed and exit 0."""
    try:
        profile = load_profile(path)
    except ProfileError as exc:
        raise CliError(str(exc)) from None
    label = path or "demo profile"
    warnings = missing_languages(profile)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{label}: ok ({profile.name}, {len(warnings)} warning(s))")
