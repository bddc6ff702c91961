"""One engine spec wherever users are: ``analyze --engine``, ``eval --engine`` and
the service's ``LEAD_COPILOT_ENGINE`` all set the LLM engine's ``structured``,
``timeout``, JSON ``params``, ``cache``, ``seed``, ``max_tokens`` and ``retries``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from copilot.cli import main
from copilot.engines.base import EngineError
from copilot.engines.spec import EngineSpec, build_engine
from copilot.service import ConfigError, Settings
from copilot.service.state import ServiceState
from tests.fakes.llm_answers import analyze_json
from tests.fakes.openai_server import FakeOpenAI, Reply

FULL = (
    'llm:analyze@v2,params={"frequency_penalty": 0.5, "stop": ["a,b"]},seed=3,'
    "max_tokens=300,retries=2,structured=json,timeout=60,cache=false"
)


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LEAD_COPILOT_MODEL"):
        monkeypatch.delenv(name, raising=False)


def test_json_params_and_every_option_parse() -> None:
    spec = EngineSpec.parse(FULL)
    assert spec.name == "llm" and spec.prompt == "analyze@v2"
    assert dict(spec.options) == {
        "params": {"frequency_penalty": 0.5, "stop": ["a,b"]},
        "seed": 3,
        "max_tokens": 300,
        "retry_attempts": 2,
        "structured": "json",
        "timeout": 60,
        "cache": False,
    }
    assert EngineSpec.parse(spec.label) == spec  # reports name it the same way


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('llm,params={"a": }', "not valid JSON"),
        ('llm,params={"a": 1', "unbalanced"),
        ("llm,oops", "is not KEY=VALUE"),
        ("llm,params=[1,2],cache=false", "params must be a JSON object"),
    ],
)
def test_bad_specs_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        build_engine(text)


def test_the_options_reach_the_request() -> None:
    with FakeOpenAI(Reply.ok(analyze_json())) as server:
        result = CliRunner().invoke(
            main,
            [
                "analyze",
                "hola, cuanto sale el sofá?",
                "--engine",
                f"llm:analyze@v1,model=m,base_url={server.base_url},"
                'params={"frequency_penalty":0.5},seed=3,max_tokens=300,structured=json,'
                "retries=1,timeout=20,cache=false",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "Decided by       the model's answer" in result.output
    [body] = server.requests
    assert body["frequency_penalty"] == 0.5 and body["seed"] == 3 and body["max_tokens"] == 300
    assert body["response_format"] == {"type": "json_object"}


def test_analyze_rejects_a_bad_spec_with_exit_2() -> None:
    result = CliRunner().invoke(main, ["analyze", "hola", "--engine", 'llm,params={"a"'])
    assert result.exit_code == 2
    assert "unbalanced brackets" in result.output


def test_the_service_takes_a_spec_in_its_environment(tmp_path: Path) -> None:
    env = {
        "LEAD_COPILOT_DB": str(tmp_path / "inbox.db"),
        "LEAD_COPILOT_BACKGROUND": "off",
        "LEAD_COPILOT_ENGINE": "llm,model=m,base_url=http://127.0.0.1:9/v1,structured=json,"
        'timeout=12,retries=2,cache=false,params={"frequency_penalty":0.5}',
    }
    state = ServiceState.build(Settings.from_env(env))
    engine = state.copilot.engine
    assert engine.structured == "json" and engine.caller.retry.attempts == 2
    assert engine.caller.retry.timeout == 12 and engine.params["frequency_penalty"] == 0.5
    bad = {**env, "LEAD_COPILOT_ENGINE": 'llm,params={"x"'}
    with pytest.raises(ConfigError, match=r"LEAD_COPILOT_ENGINE.*unbalanced"):
        Settings.from_env(bad)
    with pytest.raises(ConfigError, match="unknown engine 'magic'"):
        Settings.from_env({**env, "LEAD_COPILOT_ENGINE": "magic,x=1"})
