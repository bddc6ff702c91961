"""The WhatsApp customer service window, decided in one place.

Meta lets a business send free-form messages for 24 hours after the customer's
latest message; after that only an approved template may go out. The window
is the half-open interval ``[last inbound, last inbound + 24 h)``: at 23:59:59
it is open, at exactly 24:00:00 it is closed. Counting the boundary as closed
is the safe side: a free-form message sent at that instant may already be
refused by Meta, while a template is always allowed.

Every caller asks these functions: the template choice and the conversation
state, the LLM request, the inbox before it hands a reply to the sender, the
web page and the JSON API. Times are either datetimes or epoch seconds (the
inbox stores the latter); one call never mixes the two.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

#: How long the window stays open after the lead's latest message.
WINDOW = timedelta(hours=24)
#: The same, in seconds (the inbox stores epoch seconds).
WINDOW_SECONDS = int(WINDOW.total_seconds())
#: The same, in hours (the conversation state counts hours).
WINDOW_HOURS = WINDOW.total_seconds() / 3600

Moment = TypeVar("Moment", datetime, float)


def closes_at(last_inbound: Moment) -> Moment:
    """When the window opened by a lead message at ``last_inbound`` closes
    (a datetime, or epoch seconds)."""
    if isinstance(last_inbound, datetime):
        return last_inbound + WINDOW
    return last_inbound + WINDOW_SECONDS


def is_open(window_closes_at: Moment | None, now: Moment) -> bool:
    """True while free-form messages may be sent: ``now`` is before the window's
    end. No end (the lead never wrote) is a closed window."""
    return window_closes_at is not None and now < window_closes_at


def open_since(last_inbound: Moment | None, now: Moment) -> bool:
    """True when the lead's latest message, at ``last_inbound``, still holds the
    window open at ``now`` (a message from the future holds it open too)."""
    return last_inbound is not None and is_open(closes_at(last_inbound), now)


def open_after(hours_since_last_inbound: float | None) -> bool:
    """The same rule for a state that counts hours since the lead's latest message
    (the evaluation datasets give states this way)."""
    return hours_since_last_inbound is not None and hours_since_last_inbound < WINDOW_HOURS
