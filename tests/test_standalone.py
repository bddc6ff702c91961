"""The test suite stands alone: it reads nothing beside the checkout, so a
fresh clone passes without any folder next to it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import REPO, read_outside_repository

# Ways a test could name a folder beside the checkout.
BESIDE = re.compile(
    "|".join(
        [
            r"REPO\.parent\b",
            r"\.parent\.parent\.parent\b",
            r"parent\s*/\s*[\"']shared",
            r"\.\./shared",
            r"[\"']/work/",
        ]
    )
)


def test_no_test_names_a_folder_beside_the_checkout() -> None:
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sorted((REPO / "tests").rglob("*.py"))
        # The guard names the parent to watch it, and this file to test it.
        if path.name not in ("conftest.py", "test_standalone.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BESIDE.search(line)
    ]
    assert found == []


def test_the_pattern_catches_the_old_ways() -> None:
    for line in (
        'REPO.parent / "shared" / "fixtures"',
        "SHARED = REPO.parent / 'shared'",
        'Path(__file__).parent.parent.parent / "x"',
        "open('../shared/fixtures/text.json')",
    ):
        assert BESIDE.search(line), line


def test_reading_beside_the_checkout_is_refused(tmp_path: Path) -> None:
    neighbour = REPO.parent / "shared" / "fixtures" / "whatsapp" / "text.json"
    with pytest.raises(PermissionError, match="outside the repository"):
        neighbour.read_bytes()
    with pytest.raises(PermissionError, match="outside the repository"):
        os.listdir(REPO.parent / "shared")
    # The checkout, the temp folder and hidden folders stay readable.
    assert not read_outside_repository(REPO / "README.md")
    assert not read_outside_repository(tmp_path / "x.db")
    assert not read_outside_repository(REPO.parent / ".cache" / "x")
    assert (REPO / "tests" / "data" / "whatsapp" / "README.md").read_text(encoding="utf-8")
