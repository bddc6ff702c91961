"""Shared fixtures. Tests never touch the network: sockets may only reach loopback."""

from __future__ import annotations

import os
import re
import socket
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from copilot.profile import BusinessProfile, load_profile

REPO = Path(__file__).resolve().parent.parent
#: Test payloads live in the repository (see tests/data/whatsapp/README.md).
WHATSAPP_OWN = REPO / "tests" / "data" / "whatsapp" / "own"
WHATSAPP_PUBLIC = REPO / "tests" / "data" / "whatsapp" / "public"


def whatsapp_payloads() -> list[Path]:
    """Every WhatsApp webhook payload of the tests, the project's own and the public ones."""
    files = [*WHATSAPP_OWN.glob("*.json"), *WHATSAPP_PUBLIC.glob("*.json")]
    return sorted(p for p in files if p.name != "MANIFEST.json")


BOGOTA = ZoneInfo("America/Bogota")

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address):  # type: ignore[no-untyped-def]
    host = address[0] if isinstance(address, tuple) else address
    inet = self.family in (socket.AF_INET, socket.AF_INET6)
    if inet and isinstance(host, str) and not host.startswith("127.") and host != "::1":
        raise RuntimeError(f"tests must not reach the network (tried {address!r})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(autouse=True)
def _fresh_llm_modes() -> None:
    # The LLM engine remembers per server URL what output mode it supports; fake
    # servers reuse ports, so no test may inherit another's lesson.
    engine = sys.modules.get("copilot.engines.llm")
    if engine is not None:
        engine.forget_modes()


# --- Nothing outside the repository -------------------------------------------
# A fresh clone must pass on its own, so no test may read a folder beside the
# checkout (such as a shared/ folder one machine happens to have). An audit hook
# refuses any open or listing there. Python's own folders, the temp folder and
# hidden folders (caches in a home directory) stay allowed when they lie there,
# since a checkout may sit right in a home or temp directory.
_OUTSIDE = str(REPO.parent) + os.sep
# Only allowed folders that lie beside the checkout matter (a folder above it,
# such as /tmp for a clone in /tmp/x/, must not allow the clone's neighbours).
_ALLOWED = tuple(
    d
    for d in {
        str(Path(p).resolve()) + os.sep
        for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, tempfile.gettempdir(), *sys.path)
        if p
    }
    if d.startswith(_OUTSIDE) and not d.startswith(str(REPO) + os.sep)
)


def read_outside_repository(path: object) -> bool:
    """Whether ``path`` lies beside the checkout rather than in it."""
    if not isinstance(path, str | bytes | os.PathLike):
        return False  # a file descriptor
    full = os.path.abspath(os.fsdecode(path)) + os.sep
    if not full.startswith(_OUTSIDE) or full.startswith(str(REPO) + os.sep):
        return False
    if full.startswith(_ALLOWED):
        return False
    return not full[len(_OUTSIDE) :].startswith(".")


def _inside_repository_only(event: str, args: tuple) -> None:
    if event in ("open", "os.listdir", "os.scandir") and args and read_outside_repository(args[0]):
        raise PermissionError(f"tests must not read outside the repository (tried {args[0]!r})")


sys.addaudithook(_inside_repository_only)


@pytest.fixture(scope="session")
def profile() -> BusinessProfile:
    """The demo business profile shipped in the package."""
    return load_profile()


@pytest.fixture
def friday_noon() -> datetime:
    """Friday 2026-11-20, 12:00 in Bogotá: inside business hours."""
    return datetime(2026, 11, 20, 12, 0, tzinfo=BOGOTA)


# --- The chaos report -------------------------------------------------------
# Fault tests carry ``@pytest.mark.chaos("fault: what is checked")`` and may
# add what they measured through the ``chaos_report`` fixture. At the end of
# the run one line per chaos test says what it checked, what it saw, and
# whether it held, so CI's log reads as the fault list.

_CHAOS: dict[str, dict[str, object]] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "chaos(what): a fault-injection test, listed in the chaos report"
    )


@pytest.fixture
def chaos_report(request: pytest.FixtureRequest):
    """Record a figure for this chaos test's line in the report (``chaos_report("…")``)."""
    entry = _CHAOS.setdefault(request.node.nodeid, {"seen": []})

    def add(text: str) -> None:
        entry["seen"].append(text)  # type: ignore[union-attr]

    return add


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    outcome = yield
    marker = item.get_closest_marker("chaos")
    if marker is None:
        return
    report = outcome.get_result()
    entry = _CHAOS.setdefault(item.nodeid, {"seen": []})
    entry["what"] = marker.args[0] if marker.args else item.name
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        entry["outcome"] = "skipped" if report.skipped else report.outcome
        if report.skipped and isinstance(report.longrepr, tuple):
            entry["seen"].append(f"skipped: {report.longrepr[2]}")  # type: ignore[union-attr]


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    lines = [e for e in _CHAOS.values() if "outcome" in e]
    if not lines:
        return
    terminalreporter.section("chaos report: one line per fault")

    # "fault 2" before "fault 10": numbers in the text sort as numbers.
    def natural(entry: dict[str, object]) -> list[object]:
        return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(entry["what"]))]

    for entry in sorted(lines, key=natural):
        seen = "; ".join(entry["seen"]) or "-"  # type: ignore[arg-type]
        word = {"passed": "HELD", "failed": "FAILED", "skipped": "SKIPPED"}[str(entry["outcome"])]
        terminalreporter.write_line(f"chaos {word:7} {entry['what']} :: {seen}")
