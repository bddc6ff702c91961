"""Pydantic models at every boundary: messages in, analyses out.

Everything the copilot reads (a conversation) and everything it returns (an
:class:`Analysis`) is one of these models, so a developer embedding the library
gets validated, JSON-serialisable objects and the service can expose the same
shapes over HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.taxonomy import (
    Author,
    DeliveryStatus,
    Direction,
    HandoffReason,
    Intent,
    Language,
    LostReason,
    MessageType,
    NextStep,
    Origin,
    OriginSource,
    Stage,
    TemplateCategory,
    TemplateKey,
    TimelineBucket,
)

#: Longest text the copilot analyses; longer texts are cut (never rejected) so a
#: 64 KB paste neither crashes nor slows the engines.
MAX_ANALYSED_CHARS = 4000


class Model(BaseModel):
    """Base for all models: unknown keys are errors, enums serialise as values."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, populate_by_name=True)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


#: The moments the library accepts, wherever one comes in (a message's timestamp,
#: a task's due time, the moment an analysis runs at): every real conversation
#: fits, and the range keeps far from datetime's limits, so converting a moment
#: to any time zone or adding a follow-up delay to it never overflows.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def checked_moment(value: datetime, field: str) -> datetime:
    """``value`` made aware (naive counts as UTC) once it is known to lie in
    [:data:`EARLIEST`, :data:`LATEST`); ``ValueError`` naming ``field`` otherwise."""
    value = _aware(value)
    try:
        in_range = EARLIEST <= value.astimezone(UTC) < LATEST
    except (OverflowError, ValueError):  # 9999-12-31T23:59-14:00 is past year 9999 in UTC
        in_range = False
    if not in_range:
        raise ValueError(
            f"{field}: {value.isoformat()} is out of range; "
            f"give a moment from {EARLIEST.year} to {LATEST.year - 1}"
        )
    return value


class Referral(BaseModel):
    """The ``referral`` object of a click-to-WhatsApp ad or post (kept as Meta sends it)."""

    model_config = ConfigDict(extra="allow")

    source_type: str | None = None
    source_url: str | None = None
    source_id: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    ctwa_clid: str | None = None


class MessageContext(Model):
    """What a message replies to, and how it was forwarded."""

    replied_to_id: str | None = Field(None, description="WhatsApp id of the message replied to")
    replied_to_from: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    is_template_reply: bool = Field(
        False, description="The message replies to a template or campaign the business sent"
    )
    campaign_payload: str | None = Field(None, description="Payload of a campaign button")


class Media(Model):
    """A media attachment, described (never downloaded) by the copilot."""

    id: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    voice: bool = False
    url: str | None = None


class Message(Model):
    """One WhatsApp message in a conversation, inbound or outbound."""

    id: str = Field(..., min_length=1, max_length=256)
    direction: Direction = Direction.INBOUND
    author: Author = Author.LEAD
    type: MessageType = MessageType.TEXT
    text: str | None = Field(None, description="Text, caption, button title or reply title")
    timestamp: datetime
    referral: Referral | None = None
    context: MessageContext | None = None
    media: Media | None = None
    payload: str | None = Field(None, description="Button or list-reply payload id")
    status: DeliveryStatus | None = None

    @field_validator("timestamp", mode="before")
    @classmethod
    def _epoch_strings(cls, value: Any) -> Any:
        # WhatsApp sends Unix seconds as a string ("1700000000").
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value

    @field_validator("timestamp")
    @classmethod
    def _naive_is_utc(cls, value: datetime) -> datetime:
        return checked_moment(value, "timestamp")

    @property
    def is_inbound(self) -> bool:
        """True when the lead wrote it."""
        return self.direction is Direction.INBOUND

    @property
    def is_human_answer(self) -> bool:
        """True for outbound messages a person wrote (an agent, or the owner's phone)."""
        return self.direction is Direction.OUTBOUND and self.author in (
            Author.AGENT,
            Author.PHONE_ECHO,
        )

    @property
    def analysed_text(self) -> str:
        """The text the engines read: stripped and cut to :data:`MAX_ANALYSED_CHARS`."""
        return (self.text or "").strip()[:MAX_ANALYSED_CHARS]


class Contact(Model):
    """The lead. WhatsApp identifies them by phone (``wa_id``) or by the newer
    business-scoped user id (``user_id``) when the phone is hidden."""

    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = Field(
        None, description="Parent business-scoped user id (shared across a business portfolio)"
    )
    name: str | None = None
    username: str | None = None

    @property
    def key(self) -> str:
        """A stable identifier: the phone when known, else the business-scoped id."""
        return self.wa_id or self.user_id or ""


class Conversation(Model):
    """A conversation with one lead, oldest message first."""

    id: str | None = None
    contact: Contact = Field(default_factory=Contact)
    messages: list[Message] = Field(default_factory=list)
    stage: Stage = Stage.NEW
    lost_reason: LostReason | None = None
    opted_out: bool = False
    human_took_over: bool = Field(
        False, description="A person took the conversation over (set by the inbox)"
    )
    owner_name: str | None = Field(
        None, description="The person who owns the conversation (set by the inbox)"
    )

    @property
    def inbound(self) -> list[Message]:
        """The lead's messages."""
        return [m for m in self.messages if m.is_inbound]

    @property
    def last_inbound(self) -> Message | None:
        """The lead's latest message, if any."""
        for message in reversed(self.messages):
            if message.is_inbound:
                return message
        return None


# --- analysis ---------------------------------------------------------------


class LabelScore(Model):
    """A label with the engine's confidence in it."""

    label: str
    confidence: float = Field(..., ge=0, le=1)


class IntentResult(Model):
    """The primary intent of the latest inbound message, with alternatives."""

    label: Intent
    confidence: float = Field(..., ge=0, le=1)
    alternatives: list[LabelScore] = Field(default_factory=list)


class OriginResult(Model):
    """Where the lead came from and what says so."""

    label: Origin
    source: OriginSource = OriginSource.NONE
    evidence: str | None = Field(None, description="The metadata or text that decided it")
    confidence: float = Field(1.0, ge=0, le=1)


class Timeline(Model):
    """For when, as the lead said it, with its bucket."""

    text: str
    bucket: TimelineBucket


class Budget(Model):
    """Money the lead says they can spend."""

    amount: float | None = Field(None, ge=0)
    currency: str | None = Field(None, description="ISO 4217 code")
    text: str


class FieldValue(Model):
    """One extracted qualification value with where it came from."""

    value: str | NextStep | Timeline | Budget
    message_id: str | None = None
    confidence: float = Field(..., ge=0, le=1)


class QualificationFields(Model):
    """What the copilot knows about the lead, merged across the conversation.
    A later message's value replaces an earlier one (corrections win)."""

    need: FieldValue | None = None
    timeline: FieldValue | None = None
    prior_solution: FieldValue | None = None
    pain: FieldValue | None = None
    next_step: FieldValue | None = None
    budget: FieldValue | None = None
    name: FieldValue | None = None
    email: FieldValue | None = None
    phone: FieldValue | None = None
    company: FieldValue | None = None
    city: FieldValue | None = None

    def known(self) -> list[str]:
        """Names of the fields with a value."""
        return [name for name, value in self if value is not None]

    def flat(self) -> dict[str, Any]:
        """Plain values, in the shape of the eval predictions (``docs/datasets.md``)."""
        out: dict[str, Any] = {}
        for name, field in self:
            if name == "timeline":
                out["timeline_bucket"] = field.value.bucket.value if field else None
            elif name == "budget":
                out["budget"] = (
                    {"amount": field.value.amount, "currency": field.value.currency}
                    if field
                    else None
                )
            elif field is None:
                out[name] = None
            else:
                value = field.value
                out[name] = value.value if isinstance(value, NextStep) else value
        return out


class Handoff(Model):
    """Whether a person must take over now, and why."""

    needed: bool
    reason: HandoffReason | None = None
    explanation: str | None = None


class SuggestedReply(Model):
    """The reply the copilot suggests, rendered from the business's templates."""

    template: TemplateKey
    text: str
    language: Language
    requires_approved_template: bool = Field(
        False,
        description="The 24-hour window is closed: only an approved template may be sent",
    )
    category: TemplateCategory = TemplateCategory.UTILITY
    variables: dict[str, str] = Field(default_factory=dict)
    turn: str | None = Field(
        None,
        description="The wording used: answer, loss, objection, complaint, media or courtesy "
        "(None: the template as written)",
    )
    propose_stage: Stage | None = Field(
        None, description="A stage change the agent may make with this reply (lost)"
    )
    propose_lost_reason: LostReason | None = None
    free_text_rejected: str | None = Field(
        None,
        description="Why the engine's free text was not used and the library's wording was "
        "(not in the lead's language, a fact the profile does not hold, ...)",
    )


class ConversationState(Model):
    """The clock-and-history facts the template choice reads (see ``docs/datasets.md``)."""

    stage: Stage = Stage.NEW
    lost_reason: LostReason | None = None
    hours_since_last_inbound: float | None = None
    hours_since_last_outbound: float | None = None
    last_message_from: str | None = Field(None, description="'lead' or 'business'")
    inbound_count: int = 0
    outbound_count: int = 0
    within_business_hours: bool = True
    minutes_waiting_for_first_reply: float | None = None
    opted_out: bool = False
    missing_fields: list[str] = Field(default_factory=list)
    assigned_human_took_over: bool = False
    window_open: bool = Field(True, description="The 24-hour customer service window is open")


class Signal(Model):
    """A hint an engine raises for the handoff policy (e.g. a suspected injection)."""

    name: str
    reason: HandoffReason | None = None
    score: float = Field(1.0, ge=0, le=1)
    detail: str | None = None


#: Who answered when a model was asked (see ``Analysis.decision``).
Decision = Literal["model", "reask", "fallback"]


class Analysis(Model):
    """Everything the copilot says about the latest inbound message."""

    message_id: str | None = None
    language: Language
    intent: IntentResult | None = Field(None, description="None when there is no inbound text")
    origin: OriginResult
    fields: QualificationFields = Field(default_factory=QualificationFields)
    handoff: Handoff
    reply: SuggestedReply | None = None
    state: ConversationState
    signals: list[Signal] = Field(default_factory=list)
    engine: str
    decided_by: dict[str, str] = Field(
        default_factory=dict, description="Which engine decided each part (hybrid)"
    )
    decision: Decision | None = Field(
        None,
        description="Who answered when a model was asked: its first answer (model), its "
        "answer after a re-ask (reask) or the fallback engine (fallback)",
    )
    reasons: list[str] = Field(
        default_factory=list,
        description="Every problem met on the way to the decision, in order",
    )
    prompt_version: str | None = None
    model: str | None = None
    latency_ms: float | None = None
    usage: dict[str, int] = Field(default_factory=dict)
    cost_usd: float | None = None
