"""The chaos report lists each fault test with what it saw (checked in a child pytest run)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_chaos_tests_get_one_report_line_each(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text((REPO / "tests" / "conftest.py").read_text())
    (tmp_path / "test_faults.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.mark.chaos("fault A: a held fault")
            def test_held(chaos_report):
                chaos_report("3 of 3 stored")

            @pytest.mark.chaos("fault B: a broken fault")
            def test_broken():
                assert 1 == 2

            def test_plain():
                pass
            """
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    out = run.stdout
    assert run.returncode == 1, out
    assert "chaos HELD    fault A: a held fault :: 3 of 3 stored" in out
    assert "chaos FAILED  fault B: a broken fault :: -" in out
    assert "test_plain" not in out.split("chaos report")[1]
