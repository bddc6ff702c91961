"""The wheel installs one top-level name, ``copilot``, and works on its own.

Built offline from this checkout (the build backend is a test dependency, so
``--no-build-isolation --no-index``) and installed into a fresh venv. That
venv gets its dependencies by a path line to this environment's
site-packages: a plain path, so the checkout's editable-install hook there is
not run and ``copilot`` can only come from the wheel. ``pip check`` then
proves the wheel's declared dependencies are all met.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.wheel


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_wheel_installs_only_copilot_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--quiet",
        "-w",
        dist,
        REPO,
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("lead_copilot-*.whl")

    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"copilot"}
    for packaged in (
        "copilot/integrations/whatsapp/parser.py",
        "copilot/evals/runner.py",
        "copilot/evals/gates.toml",
        "copilot/evals/datasets/test/intents.jsonl",
        "copilot/evals/templates/report.html",
        "copilot/data/prompts/analyze/v1.md",
        "copilot/web/templates/base.html",
    ):
        assert packaged in names, packaged

    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    bin_dir = env_dir / "bin"
    python = bin_dir / "python"
    site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
        ).stdout.strip()
    )
    (site / "_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    pip = (sys.executable, "-m", "pip", "--python", python)
    installed = run(*pip, "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    checked = run(*pip, "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # Outside the checkout: copilot and its parts come from the wheel, and no
    # generic name is importable.
    probe = run(
        python,
        "-c",
        "import importlib.util as u, copilot, copilot.integrations.whatsapp, copilot.evals.runner\n"
        "from copilot.prompts import load_prompt\n"
        "from copilot.evals.gates import load_gates\n"
        "print(copilot.__file__)\n"
        "print(load_prompt('analyze@v1').ref, len(load_gates()))\n"
        "print([n for n in ('integrations', 'evals', 'prompts') if u.find_spec(n)])",
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    where, prompt, generic = probe.stdout.splitlines()
    assert Path(where).is_relative_to(site)
    assert prompt.startswith("analyze@v1 ")
    assert generic == "[]"

    analyzed = run(
        bin_dir / "lead-copilot", "analyze", "hola! cuanto sale el sofá de 3 puestos?", cwd=tmp_path
    )
    assert analyzed.returncode == 0, analyzed.stderr
    assert analyzed.stdout.splitlines()[0].split()[:2] == ["Intent", "pricing"]
