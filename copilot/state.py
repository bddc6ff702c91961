"""The conversation state the template choice reads.

Definitions (all as of ``now``):

- ``hours_since_last_inbound`` / ``hours_since_last_outbound``: hours since the
  lead's latest message / our latest message (any author: agent, phone echo or
  bot); ``None`` when there is none. Future timestamps count as 0. Cut (not
  rounded) to four decimals, so a state read in hours agrees with ``window_open``
  even a fraction of a second before the window closes.
- ``last_message_from``: ``"lead"`` or ``"business"``, by the latest message.
- ``minutes_waiting_for_first_reply``: minutes since the lead's first message
  while no *person* has answered it yet (an agent message or a Coexistence phone
  echo after that first message); ``None`` once a person answered or when the
  lead never wrote. Bot messages do not stop this clock: they are not a person.
- ``window_open``: the WhatsApp 24-hour customer-service window, i.e. the lead's
  latest message is less than 24 hours old (:mod:`copilot.window`: at exactly
  24 hours it is closed).
- ``missing_fields``: the profile's ``qualification.ask_for`` minus the known fields.

System messages and outbound messages that failed to send are ignored: the
lead never saw a failed message, so it neither answers them nor opens a wait.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from copilot.models import Conversation, ConversationState, QualificationFields
from copilot.profile import BusinessProfile
from copilot.taxonomy import DeliveryStatus, Direction, MessageType
from copilot.window import open_since

_MICROSECOND = timedelta(microseconds=1)
_SYSTEM, _INBOUND, _FAILED = MessageType.SYSTEM, Direction.INBOUND, DeliveryStatus.FAILED


def _hours(now: datetime, then: datetime) -> float:
    return max(0.0, (now - then).total_seconds() / 3600)


def _cut(now: datetime, then: datetime) -> float:
    # Hours cut to four decimals in whole microseconds (exact integer arithmetic):
    # rounding 23.99999 up to 24.0 would close the window early for a reader of hours.
    micros = max(0, (now - then) // _MICROSECOND)
    return micros // 360_000 / 10_000


def missing_fields(profile: BusinessProfile, fields: QualificationFields | None) -> list[str]:
    """The profile's ``qualification.ask_for`` fields still without a value, in order."""
    # The fields' own values (``QualificationFields.known`` without pydantic's iterator).
    values = fields.__dict__ if fields is not None else {}
    return [f for f in profile.qualification.ask_for if values.get(f) is None]


def conversation_state(
    conversation: Conversation,
    fields: QualificationFields,
    profile: BusinessProfile,
    now: datetime,
) -> ConversationState:
    """Clock and history facts of ``conversation`` as of ``now`` (see the module doc)."""
    # System messages and failed sends do not count (see the module doc). One pass,
    # the attributes read directly: this runs on every analysis.
    messages = []
    ordered = True
    previous = None
    for m in conversation.messages:
        if m.type is _SYSTEM or (m.direction is not _INBOUND and m.status is _FAILED):
            continue
        moment = m.timestamp
        if previous is not None and previous > moment:
            ordered = False
        previous = moment
        messages.append(m)
    if not ordered:
        # Stable sort: the inbox may append out of order; equal times keep their order.
        messages.sort(key=lambda m: m.timestamp)
    inbound = [m for m in messages if m.direction is _INBOUND]
    outbound = [m for m in messages if m.direction is not _INBOUND]
    waiting = None
    if inbound:
        first = inbound[0].timestamp
        answered = any(m.is_human_answer and m.timestamp >= first for m in outbound)
        if not answered:
            waiting = round(_hours(now, first) * 60, 2)

    return ConversationState(
        stage=conversation.stage,
        lost_reason=conversation.lost_reason,
        hours_since_last_inbound=_cut(now, inbound[-1].timestamp) if inbound else None,
        hours_since_last_outbound=_cut(now, outbound[-1].timestamp) if outbound else None,
        last_message_from=None
        if not messages
        else "lead"
        if messages[-1].direction is _INBOUND
        else "business",
        inbound_count=len(inbound),
        outbound_count=len(outbound),
        within_business_hours=profile.is_open(now),
        minutes_waiting_for_first_reply=waiting,
        opted_out=conversation.opted_out,
        missing_fields=missing_fields(profile, fields),
        assigned_human_took_over=conversation.human_took_over,
        window_open=open_since(inbound[-1].timestamp if inbound else None, now),
    )
