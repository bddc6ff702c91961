"""The ``llm`` engine against a real model server, only when one is given:

    make llama-server                       # llama.cpp + SmolLM2-135M, 127.0.0.1:8080
    make test-real-llm                      # or: LEAD_COPILOT_REAL_LLM_URL=... pytest -m real_llm

``LEAD_COPILOT_REAL_LLM_ITEMS`` (default 10) test items are analysed per prompt
version; at least ``LEAD_COPILOT_REAL_LLM_MIN_SHARE`` (default 0.8) of them must
be the model's own answers, and every fallback must say why."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from copilot.cli import main

URL = os.environ.get("LEAD_COPILOT_REAL_LLM_URL", "")
MODEL = os.environ.get("LEAD_COPILOT_REAL_LLM_MODEL", "smollm2")
ITEMS = int(os.environ.get("LEAD_COPILOT_REAL_LLM_ITEMS", "10"))
MIN_SHARE = float(os.environ.get("LEAD_COPILOT_REAL_LLM_MIN_SHARE", "0.8"))
TIMEOUT = float(os.environ.get("LEAD_COPILOT_REAL_LLM_TIMEOUT", "240"))

pytestmark = [
    pytest.mark.real_llm,
    pytest.mark.skipif(not URL, reason="no real model server (set LEAD_COPILOT_REAL_LLM_URL)"),
    pytest.mark.timeout(0),  # a CPU model takes minutes for ten items
]


@pytest.mark.parametrize("prompt", ["analyze@v1", "analyze@v2"])
def test_most_answers_are_the_models_own(prompt: str, tmp_path: Path) -> None:
    spec = f"llm:{prompt},base_url={URL},model={MODEL},cache=false,timeout={TIMEOUT},retries=2"
    predictions = tmp_path / "predictions.jsonl"
    args = ["--limit", str(ITEMS), "--engine", spec, "--predictions", str(predictions)]
    result = CliRunner().invoke(main, ["eval", "--dataset", "test/intents", *args, "--gates"])
    print(result.output)
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    used = [r for r in rows if r["decided_by"] in ("model", "reask")]
    fell = [r for r in rows if r["decided_by"] == "fallback"]
    assert len(used) + len(fell) == len(rows) == ITEMS
    assert all(r["reasons"] for r in fell)  # every fallback says why
    assert f"model answers used: {len(used)} of {ITEMS}" in result.output
    assert sum(r["usage"]["input_tokens"] for r in rows) > 0
    if fell:  # the default gate of an llm run: no fallback
        assert result.exit_code == 1 and f"{len(fell)} items fell back" in result.output
    assert len(used) >= MIN_SHARE * ITEMS, f"{len(used)} of {ITEMS} model answers"
