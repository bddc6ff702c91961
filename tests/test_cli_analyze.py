"""``lead-copilot analyze`` through click's runner (fake engine) and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from copilot.cli import main
from copilot.models import Analysis, Conversation
from tests.test_evals_fakes import fake_pipeline  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "copilot" / "data" / "demo_conversation.json"

TURNS = [
    {"from": "lead", "text": "Hola! busco un sofa"},
    {"from": "business", "text": "¡Hola! ¿Qué presupuesto tienes?"},
    {"from": "lead", "text": "unos 2 millones, cuanto cuesta el de 3 puestos?"},
]


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def write(tmp_path: Path, content: object, name: str = "conv.json") -> Path:
    path = tmp_path / name
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.usefixtures("fake_pipeline")
class TestWithFakeEngine:
    def test_text_as_json(self) -> None:
        result = invoke("analyze", "hola, cuanto cuesta?", "--engine", "fake", "--json")
        assert result.exit_code == 0, result.output
        analysis = Analysis.model_validate_json(result.output)
        assert analysis.intent.label == "pricing"
        assert analysis.engine == "fake"

    def test_turn_list_summary(self, tmp_path: Path) -> None:
        result = invoke(
            "analyze", "--conversation", str(write(tmp_path, TURNS)), "--engine", "fake"
        )
        assert result.exit_code == 0, result.output
        out = result.output
        assert "Intent" in out and "pricing (0.90)" in out
        assert "Origin           unknown (none)" in out
        assert 'need            Hola! busco un sofa  [m1: "Hola! busco un sofa"]' in out
        assert "budget          2.000.000 COP (2 millones)  [m3:" in out
        assert "Handoff          no" in out
        assert "[welcome]" in out and "approved template needed: no" in out

    def test_conversation_object_from_stdin_with_new_text(self) -> None:
        conversation = json.loads(DEMO.read_text(encoding="utf-8"))
        result = invoke(
            "analyze", "quiero hablar con un asesor", "--conversation", "-",
            "--engine", "fake", "--json", stdin=json.dumps(conversation),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        analysis = Analysis.model_validate_json(result.output)
        assert analysis.intent.label == "human_request"
        assert analysis.handoff.needed and analysis.handoff.reason == "human_request"
        assert analysis.message_id == "m6"  # appended after the demo's five messages
        assert analysis.state.inbound_count == 4

    def test_messages_as_turns_keep_the_contact(self, tmp_path: Path) -> None:
        data = {"contact": {"name": "Ana"}, "messages": TURNS}
        path = write(tmp_path, data)
        result = invoke("analyze", "--conversation", str(path), "--engine", "fake", "--json")
        assert result.exit_code == 0, result.output

    def test_prompt_reaches_the_engine(self) -> None:
        result = invoke("analyze", "hola", "--engine", "fake", "--prompt", "triage@v2", "--json")
        assert Analysis.model_validate_json(result.output).prompt_version == "triage@v2"

    def test_lead_text_cannot_drive_the_terminal(self) -> None:
        evil = "busco sofa \x1b[2J\x1b]0;pwned\x07 \u202eabc"
        result = CliRunner().invoke(main, ["analyze", evil, "--engine", "fake"], color=True)
        assert result.exit_code == 0, result.output
        assert "\x1b[1m" in result.output  # our own styling survives (color on)
        for bad in ("\x1b[2J", "\x1b]0;", "\x07", "\u202e"):
            assert bad not in result.output
        assert "busco sofa [2J]0;pwned abc" in result.output

    def test_demo_flag_reads_the_shipped_conversation(self) -> None:
        result = invoke("analyze", "--demo", "--engine", "fake")
        assert result.exit_code == 0, result.output
        assert "laura.gomez@example.com" not in result.output  # fake extracts no e-mail
        assert "Intent" in result.output


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["--conversation", "nope.json"], None, "nope.json"),
        (["--conversation", "{file}"], "{bad", "not valid JSON (Expecting property name"),
        (["--conversation", "{file}"], "", "the file is empty"),
        (["--conversation", "{file}"], "42", "expected a conversation object or a list of turns"),
        (["--conversation", "{file}"], [{"from": "bot", "text": "x"}], "0.from: Input should be"),
        (
            ["--conversation", "{file}"],
            {"messages": [{"text": "x"}]},
            "messages.0.id: Field required",
        ),
        (
            ["--conversation", "{file}"],
            [{"from": "business", "text": "hola"}],
            "no message from the lead",
        ),
        (["   "], None, "TEXT is empty"),
        ([], None, "give a TEXT to analyse or --conversation FILE"),
        (["hola", "--engine", "nope"], None, "unknown engine 'nope'"),
        (["hola", "--profile", "{file}"], "name = ", "not valid TOML"),
        (["hola", "--profile", "{file}"], 'name = "x"', "country: Field required"),
        (["hola", "--now", "yesterday"], None, "is not an ISO date-time"),
        (["--demo", "--conversation", "{file}"], "[]", "not both"),
    ],
)
def test_clear_errors_exit_2(
    tmp_path: Path, args: list[str], content: object, message: str
) -> None:
    path = write(tmp_path, content, "input.txt") if content is not None else None
    args = [str(path) if a == "{file}" else a for a in args]
    result = invoke("analyze", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_demo_conversation_is_a_valid_spanish_conversation() -> None:
    conversation = Conversation.model_validate_json(DEMO.read_text(encoding="utf-8"))
    assert 4 <= len(conversation.messages) <= 6
    assert conversation.messages[-1].is_inbound
    assert conversation.messages[0].text.startswith("Hola, vi su perfil de Instagram")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "copilot", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )


def test_real_process_version_check_and_errors(tmp_path: Path) -> None:
    version = _run("--version")
    assert version.returncode == 0 and "lead-copilot, version" in version.stdout
    checked = _run("eval", "check", "dev/intents")
    assert checked.returncode == 0, checked.stderr
    assert "intents items" in checked.stdout
    bad = write(tmp_path, "[1, 2", "bad.json")
    failed = _run("analyze", "--conversation", str(bad))
    assert failed.returncode == 2
    assert "not valid JSON" in failed.stderr
