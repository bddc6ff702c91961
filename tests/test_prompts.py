"""The prompt loader: listing, loading, hashing, rendering, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from copilot.llm.schema import SCHEMAS
from copilot.prompts import PromptError, list_prompts, list_versions, load_prompt, parse_prompt

DRAFT = """+++
task = "analyze"
version = "v9"
schema = "AnalyzeOutput"
model = "some-model"

[params]
temperature = 0.2
+++

# system

Instructions for $business.

# user

Lead said: $turns
"""


def test_lists_the_shipped_prompts() -> None:
    assert "analyze@v1" in list_prompts()
    assert list_versions("analyze")[0] == "v1"
    assert list_versions("no_such_task") == []


def test_loads_analyze_v1_with_its_front_matter() -> None:
    prompt = load_prompt("analyze@v1")
    assert (prompt.task, prompt.version, prompt.ref) == ("analyze", "v1", "analyze@v1")
    assert prompt.schema in SCHEMAS
    assert prompt.model == "gpt-4o-mini"
    assert prompt.params["temperature"] == 0
    assert re.fullmatch(r"[0-9a-f]{12}", prompt.hash)
    assert prompt.version_id == f"analyze@v1#{prompt.hash}"
    assert "$turns" in prompt.user and "$business" in prompt.system


def test_task_alone_loads_the_latest_version() -> None:
    latest = list_versions("analyze")[-1]
    assert load_prompt("analyze").version == latest


def test_the_hash_follows_the_content() -> None:
    one = parse_prompt(DRAFT)
    same = parse_prompt(DRAFT.replace("\n", "\r\n"))
    changed = parse_prompt(DRAFT.replace("Lead said", "The lead said"))
    assert one.hash == same.hash
    assert one.hash != changed.hash


def test_the_shipped_file_is_the_one_loaded() -> None:
    # The wheel carries prompts/ as package data (tests/test_wheel.py checks it).
    shipped = Path(__file__).resolve().parent.parent / "prompts" / "analyze" / "v1.md"
    text = shipped.read_text(encoding="utf-8")
    assert parse_prompt(text).hash == load_prompt("analyze@v1").hash


def test_a_draft_file_outside_the_package_loads(tmp_path) -> None:
    path = tmp_path / "draft.md"
    path.write_text(DRAFT, encoding="utf-8")
    prompt = load_prompt(str(path))
    assert prompt.version == "v9" and prompt.params == {"temperature": 0.2}


def test_render_substitutes_values_literally() -> None:
    prompt = parse_prompt(DRAFT)
    hostile = "$business {system} ${turns} \\n"
    system, user = prompt.render(business="Shop", turns=hostile)
    assert system == "Instructions for Shop."
    assert user == f"Lead said: {hostile}"  # placeholders inside values stay as text


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nothing@v1", "no prompt task 'nothing'"),
        ("analyze@v99", "no version 'v99'"),
        ("Analyze v1", "not a prompt reference"),
        ("/no/such/file.md", "does not exist"),
    ],
)
def test_unknown_references_are_clear_errors(ref: str, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        load_prompt(ref)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# system\nx\n# user\ny\n", "front matter"),
        ('+++\ntask = "a"\nversion = "v1"\n+++\n# system\nx\n# user\ny\n', "lacks schema"),
        ('+++\ntask = "a"\nversion = "v1"\nschema = "S"\n+++\n# system\nx\n', "'# user'"),
        ("+++\ntask = = 1\n+++\n# system\nx\n# user\ny\n", "bad front matter"),
    ],
)
def test_malformed_files_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        parse_prompt(text, "draft.md")


def test_a_missing_placeholder_is_named() -> None:
    with pytest.raises(PromptError, match=r"\$turns"):
        parse_prompt(DRAFT).render(business="Shop")
