"""Pydantic models the inbox returns, and its configuration.

The inbox configuration lives here, not in the business profile: the profile says
what the *business* is (facts, hours, templates, follow-up delays, the qualified
rule), while routing rules, caps and SLA reassignment describe how one *team*
runs its inbox and change with the staff, not with the business.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.models import EARLIEST, LATEST
from copilot.taxonomy import (
    Author,
    DeliveryStatus,
    Direction,
    HandoffReason,
    Intent,
    Language,
    LostReason,
    MessageType,
    Origin,
    Stage,
    TemplateKey,
)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


log = logging.getLogger(__name__)

_EARLIEST_TS, _LATEST_TS = EARLIEST.timestamp(), LATEST.timestamp()


def from_epoch(value: float | None) -> datetime | None:
    """An epoch-seconds column as an aware UTC datetime.

    A value outside the accepted range (stored before writes were checked) is
    clamped into it with a warning, so one bad row never makes a conversation,
    a task list or a page unreadable."""
    if value is None:
        return None
    if not _EARLIEST_TS <= value < _LATEST_TS:  # also false for NaN
        clamped = _EARLIEST_TS if value < _EARLIEST_TS else _LATEST_TS - 1
        log.warning("stored moment %r is out of range; read as %s", value, clamped)
        value = clamped
    return datetime.fromtimestamp(value, UTC)


def to_epoch(value: datetime) -> float:
    """An aware datetime (naive counts as UTC) as epoch seconds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


# --- configuration ----------------------------------------------------------


class RoutingRule(_Out):
    """Route a conversation to ``team`` when every given condition matches."""

    team: str
    origin: Origin | None = None
    intent: Intent | None = None
    language: Language | None = None
    tag: str | None = None


class InboxConfig(_Out):
    """How the inbox routes, assigns and automates. Every field has a safe default."""

    routing: list[RoutingRule] = Field(
        default_factory=list, description="First matching rule wins; none matching: default_team"
    )
    default_team: str | None = Field(None, description="Team when no rule matches (None: any)")
    strategy: Literal["round_robin", "least_open"] = "round_robin"
    team_strategy: dict[str, Literal["round_robin", "least_open"]] = Field(default_factory=dict)
    default_max_open: int = Field(25, gt=0, description="Cap on open conversations per agent")
    reassign_after_minutes: float | None = Field(
        30, gt=0, description="Reassign when the owner leaves the lead waiting this long; None: off"
    )
    auto_acknowledgement: bool = Field(True, description="Send the acknowledgement when SLA passes")
    auto_out_of_hours: bool = Field(True, description="Send the out-of-hours reply")
    recent_messages: int = Field(12, ge=1, le=200, description="Messages given to the copilot")
    retry_batch: int = Field(100, ge=1, description="Pending analyses retried per tick")


class Shift(_Out):
    """Working hours of an agent, per weekday, in the business's time zone.
    A weekday missing from ``days`` is off; ``None`` for the whole shift means always on."""

    days: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[tuple[time, time]]]

    @field_validator("days", mode="before")
    @classmethod
    def _spans(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for day, spans in value.items():
            items = [spans] if isinstance(spans, str) else spans
            parsed = []
            for span in items:
                if isinstance(span, str):
                    start, _, end = span.partition("-")
                    parsed.append((start.strip(), end.strip()))
                else:
                    parsed.append(span)
            out[day] = parsed
        return out


# --- outputs ----------------------------------------------------------------


class Team(_Out):
    id: int
    name: str


class Agent(_Out):
    """A person in the inbox. ``role`` admin may act on any conversation."""

    id: int
    name: str
    team: str | None = None
    role: Literal["admin", "agent"] = "agent"
    available: bool = False
    shift: Shift | None = None
    max_open: int | None = None
    active: bool = True


class StoredMessage(_Out):
    """A message as the inbox keeps it."""

    id: str = Field(..., description="WhatsApp message id (a local id until sent)")
    seq: int = Field(..., description="Storage order inside the database")
    conversation_id: int
    direction: Direction
    author: Author
    agent_id: int | None = None
    type: MessageType
    text: str | None = None
    timestamp: datetime
    status: DeliveryStatus | None = None
    error: str | None = None
    template: TemplateKey | None = None
    backfill: bool = False
    analysis_state: Literal["pending", "done", "failed"] | None = None
    edited_at: datetime | None = Field(None, description="When its text was last edited")
    revoked_at: datetime | None = Field(None, description="When it was deleted for everyone")
    reactions: dict[str, str] = Field(
        default_factory=dict, description='Current reactions: "lead" / "business" -> emoji'
    )


class ConversationSummary(_Out):
    """One row of the inbox list."""

    id: int
    contact_id: int
    contact_name: str | None = None
    contact_key: str
    status: Literal["open", "closed", "snoozed"]
    assignee_id: int | None = None
    team: str | None = None
    stage: Stage
    lost_reason: LostReason | None = None
    handoff_needed: bool = False
    handoff_reason: HandoffReason | None = None
    opted_out: bool = False
    last_message_id: str | None = None
    last_message_at: datetime | None = None
    last_message_text: str | None = None
    last_message_direction: Direction | None = None
    waiting_since: datetime | None = None
    outcome: str | None = Field(
        None, description="How it was closed: won, lost, spam or no_reply_needed"
    )
    snoozed_until: datetime | None = None


class ConversationDetail(ConversationSummary):
    """Everything the inbox knows about a conversation, except its messages."""

    origin: Origin | None = None
    origin_evidence: str | None = None
    origin_source: str | None = None
    tags: list[str] = Field(default_factory=list)
    fields: dict[str, Any] = Field(default_factory=dict)
    language: Language | None = None
    last_intent: Intent | None = None
    human_took_over: bool = False
    suggestions_paused: bool = False
    first_inbound_at: datetime | None = None
    first_response_at: datetime | None = None
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    window_closes_at: datetime | None = None
    created_at: datetime


class Suggestion(_Out):
    """A reply the copilot proposed, and what the agent did with it."""

    id: int
    conversation_id: int
    message_id: str | None = None
    template: TemplateKey
    text: str
    language: Language
    state: Literal["proposed", "accepted", "edited", "rejected", "superseded"]
    agent_id: int | None = None
    final_text: str | None = None
    similarity: float | None = Field(None, description="1.0 = sent as proposed")
    reason: str | None = None
    sent_message_id: str | None = Field(None, description="The message the agent sent for it")
    created_at: datetime
    decided_at: datetime | None = None


class Note(_Out):
    id: int
    conversation_id: int
    agent_id: int | None
    text: str
    created_at: datetime


class Task(_Out):
    """A follow-up or a custom task."""

    id: int
    conversation_id: int
    kind: Literal["soft_followup", "proposal_followup", "reactivation", "custom"]
    title: str | None = None
    owner_id: int | None = None
    due_at: datetime
    state: Literal["pending", "fired", "done", "cancelled"]
    created_at: datetime


class HistoryEntry(_Out):
    """One change of stage or owner."""

    conversation_id: int
    at: datetime
    by: str
    action: str
    before: str | None = None
    after: str | None = None
    note: str | None = None


class AuditEntry(_Out):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class IngestResult(_Out):
    """What :meth:`Inbox.ingest` did with a message."""

    message_id: str
    conversation_id: int
    contact_id: int
    duplicate: bool = Field(False, description="Already stored: nothing else was done")
    backfill: bool = False
    analysed: bool = False
    analysis_error: str | None = Field(None, description="Why the analysis is still pending")
    assignee_id: int | None = None
    suggestion_id: int | None = None
    stage: Stage | None = None


class TickReport(_Out):
    """What one :meth:`Inbox.tick` fired."""

    now: datetime
    acknowledgements: int = 0
    out_of_hours: int = 0
    followups: int = 0
    tasks_due: int = 0
    reassigned: int = 0
    assigned_from_queue: int = 0
    analyses_retried: int = 0
    suggestions_refreshed: int = 0
    woken: int = 0
