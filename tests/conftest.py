"""Shared fixtures. Tests never touch the network: sockets may only reach loopback."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from copilot.profile import BusinessProfile, load_profile

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
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
    for entry in sorted(lines, key=lambda e: str(e["what"])):
        seen = "; ".join(entry["seen"]) or "-"  # type: ignore[arg-type]
        word = {"passed": "HELD", "failed": "FAILED", "skipped": "SKIPPED"}[str(entry["outcome"])]
        terminalreporter.write_line(f"chaos {word:7} {entry['what']} :: {seen}")
