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
