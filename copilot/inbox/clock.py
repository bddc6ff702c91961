"""Time for the inbox: an injectable clock, so tests (and replays) control ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time as an aware datetime."""

    def now(self) -> datetime:
        """The current time."""
        ...


class SystemClock:
    """The real clock (UTC)."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, simulations)."""

    def __init__(self, start: datetime) -> None:
        self._now = start if start.tzinfo else start.replace(tzinfo=UTC)

    def now(self) -> datetime:
        """The time the clock was set to."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``."""
        self._now = moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def advance(self, **delta: float) -> datetime:
        """Move forward by a ``timedelta(**delta)`` and return the new time."""
        self._now += timedelta(**delta)
        return self._now
