"""Every command finds the same database: ``--db``, else ``LEAD_COPILOT_DB``,
else ``lead-copilot.db`` in the working folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from copilot.cli import main
from copilot.inbox import Inbox
from copilot.service import config


def run(args: list[str], env: dict[str, str | None]) -> str:
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_one_rule_decides_the_file() -> None:
    database_path = config.database_path
    assert config.DEFAULT_DB == "lead-copilot.db"
    assert database_path(None, {}) == "lead-copilot.db"
    assert database_path(None, {"LEAD_COPILOT_DB": "a.db"}) == "a.db"
    assert database_path("b.db", {"LEAD_COPILOT_DB": "a.db"}) == "b.db"
    assert database_path(None, {"LEAD_COPILOT_DB": "  "}) == "lead-copilot.db"
    assert config.Settings.from_env({}).db == database_path(None, {})


@pytest.mark.parametrize("variable", [None, "shared.db"])
def test_agents_and_inbox_commands_use_the_same_file(
    tmp_path: Path, monkeypatch, variable: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"LEAD_COPILOT_DB": variable, "COPILOT_DB": None}
    expected = tmp_path / (variable or "lead-copilot.db")
    assert str(expected.name) in run(["inbox", "init"], env)
    run(["agents", "add", "Ana", "--team", "ventas"], env)
    assert "ok" in run(["inbox", "check"], env)
    assert "Ana" in run(["agents", "list"], env)
    assert "nothing to export" in run(["eval", "export", "--out", str(tmp_path / "out")], env)
    run(["deliveries", "list"], env)
    queue = expected.with_name(f"{expected.stem}.webhooks.db")  # the webhook queue beside it
    assert {p.name for p in tmp_path.glob("*.db")} == {expected.name, queue.name}  # no inbox.db
    box = Inbox(str(expected))
    try:
        assert [a.name for a in box.agents()] == ["Ana"]
    finally:
        box.close()


def test_the_flag_wins_over_the_variable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"LEAD_COPILOT_DB": str(tmp_path / "from-env.db")}
    run(["inbox", "init", "--db", str(tmp_path / "from-flag.db")], env)
    assert (tmp_path / "from-flag.db").exists() and not (tmp_path / "from-env.db").exists()
