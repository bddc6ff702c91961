"""Token counting with o200k_base works offline, and the analyze prompt stays small."""

from __future__ import annotations

import hashlib

from copilot.llm.context import build_context
from copilot.llm.tokens import (
    count_message_tokens,
    count_tokens,
    encoding,
    install_offline_encoding,
)
from copilot.prompts import load_prompt
from tests.fakes.llm_answers import ten_turn_conversation


def test_o200k_base_loads_without_network() -> None:
    # conftest blocks every non-loopback socket, so a download would fail here.
    assert encoding().name == "o200k_base"
    assert count_tokens("hola, cuanto sale el sofá?") > 0
    assert encoding().decode(encoding().encode("¿qué incluye?")) == "¿qué incluye?"


def test_the_packaged_file_lands_in_tiktokens_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    path = install_offline_encoding()
    assert path.parent == tmp_path
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


def test_analyze_v1_on_ten_turns_fits_the_token_budget(profile, friday_noon) -> None:
    convo = ten_turn_conversation(friday_noon)
    context = build_context(load_prompt("analyze@v1"), convo, profile, friday_noon)
    assert len(convo.messages) == 10
    assert count_message_tokens(context.messages) <= 1500
