"""Typed events the webhook parser produces, one per thing Meta reported.

Each event is a small pydantic model with a ``kind`` literal so a service can
dispatch on it (``match event.kind``) and serialise it as JSON. Every event
keeps the raw item it was built from (``raw``) so nothing Meta sent is lost.

How the inbox consumes them:

* :class:`InboundMessage`: ``inbox.ingest(contact, message)``.
* :class:`EchoMessage`: the business owner answered from the WhatsApp Business
  App (Coexistence); ingest as outbound with ``author=phone_echo``.
* :class:`HistoryMessage`: Coexistence backfill; ingest with ``backfill=True``,
  never trigger automation.
* :class:`StatusUpdate`: ``apply_status(...)`` on the outbound message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.models import Contact, Message
from copilot.taxonomy import DeliveryStatus, Direction


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(_Model):
    """One error object as Meta reports it (message, status or history errors)."""

    code: int | None = None
    title: str | None = None
    message: str | None = None
    details: str | None = None
    href: str | None = None


class ConversationInfo(_Model):
    """The (legacy) conversation a status belongs to, used for billing."""

    id: str | None = None
    origin_type: str | None = Field(
        None, description="service, utility, marketing, business_initiated..."
    )
    expiration_timestamp: datetime | None = None


class Pricing(_Model):
    """How Meta prices the message a status is about."""

    billable: bool | None = None
    pricing_model: str | None = None
    category: str | None = None
    type: str | None = None


class _Event(_Model):
    phone_number_id: str | None = Field(None, description="The business number that received it")
    display_phone_number: str | None = None
    waba_id: str | None = Field(None, description="WhatsApp Business Account id (entry id)")
    raw: dict[str, Any] = Field(default_factory=dict, description="The item as Meta sent it")


class InboundMessage(_Event):
    """A message the lead sent (any type: text, media, buttons, unsupported...)."""

    kind: Literal["message"] = "message"
    contact: Contact
    message: Message
    errors: list[ErrorDetail] = Field(
        default_factory=list, description="Meta's errors on the message (unsupported types)"
    )


class EchoMessage(_Event):
    """Coexistence ``smb_message_echoes``: the business wrote to the lead from the
    WhatsApp Business App. ``contact`` is the lead (the ``to`` side)."""

    kind: Literal["echo"] = "echo"
    contact: Contact
    message: Message


class HistoryMessage(_Event):
    """Coexistence ``history`` backfill: a past message, either direction.

    It is old news: store it, never run automation (suggestions, SLA) on it.
    """

    kind: Literal["history"] = "history"
    contact: Contact
    message: Message
    backfill: Literal[True] = True
    history_status: str | None = Field(None, description="history_context.status as sent")
    phase: int | None = None
    chunk_order: int | None = None
    progress: int | None = None


class HistoryProgress(_Event):
    """One ``history`` chunk's progress, or the reason the history is unavailable."""

    kind: Literal["history_progress"] = "history_progress"
    phase: int | None = None
    chunk_order: int | None = None
    progress: int | None = None
    thread_count: int = 0
    message_count: int = 0
    errors: list[ErrorDetail] = Field(default_factory=list)


class MessageEdit(_Event):
    """A message was edited (by the lead, or by the business in the app when echoed).

    ``message`` carries the new content under the *original* message id, so the
    inbox can replace the stored message in place.
    """

    kind: Literal["edit"] = "edit"
    contact: Contact
    direction: Direction
    edit_id: str
    original_message_id: str
    message: Message
    timestamp: datetime


class MessageRevoke(_Event):
    """A message was deleted for everyone."""

    kind: Literal["revoke"] = "revoke"
    contact: Contact
    direction: Direction
    revoke_id: str
    original_message_id: str
    timestamp: datetime


class Reaction(_Event):
    """An emoji reaction to a message; ``emoji`` is ``None`` when it was removed."""

    kind: Literal["reaction"] = "reaction"
    contact: Contact
    direction: Direction
    reaction_id: str
    message_id: str | None = Field(None, description="The message reacted to")
    emoji: str | None = None
    timestamp: datetime
    message: Message = Field(..., description="The reaction as a message (type reaction)")


class SystemNotice(_Event):
    """A system message about the lead (changed number, changed identity).

    Not something the lead wrote: store it, do not analyse it.
    """

    kind: Literal["system"] = "system"
    contact: Contact
    message: Message
    system_type: str | None = None
    new_wa_id: str | None = Field(None, description="The lead's new number, if it changed")


class StatusUpdate(_Event):
    """Delivery news about a message the business sent."""

    kind: Literal["status"] = "status"
    message_id: str
    status: DeliveryStatus | None = Field(None, description="None when Meta sent a new status")
    status_name: str = Field(..., description="The status exactly as Meta sent it")
    timestamp: datetime
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    recipient_type: str | None = None
    errors: list[ErrorDetail] = Field(default_factory=list)
    conversation: ConversationInfo | None = None
    pricing: Pricing | None = None
    biz_opaque_callback_data: str | None = None

    @property
    def failed(self) -> bool:
        """True when the message could not be delivered."""
        return self.status is DeliveryStatus.FAILED


class AppStateSync(_Event):
    """Coexistence ``smb_app_state_sync``: a contact added, edited or removed in the app."""

    kind: Literal["app_state_sync"] = "app_state_sync"
    sync_type: str | None = None
    action: str | None = Field(None, description="add, remove, ...")
    contact: Contact
    first_name: str | None = None
    timestamp: datetime | None = None


class UserPreferences(_Event):
    """The lead's marketing-message preference changed (``stop``, ``resume``, ``signup``)."""

    kind: Literal["user_preferences"] = "user_preferences"
    contact: Contact
    category: str | None = None
    value: str
    detail: str | None = None
    timestamp: datetime | None = None

    @property
    def opted_out(self) -> bool | None:
        """True for a stop, False for a resume or signup, None for anything else."""
        value = self.value.lower()
        if value == "stop":
            return True
        if value in ("resume", "signup"):
            return False
        return None


class AccountUpdate(_Event):
    """A notification about the business account, its numbers or its templates."""

    kind: Literal["account_update"] = "account_update"
    field: str
    event: str | None = None
    value: dict[str, Any] = Field(default_factory=dict)


class PlatformError(_Event):
    """Errors Meta attached to a change rather than to one message."""

    kind: Literal["platform_error"] = "platform_error"
    field: str
    errors: list[ErrorDetail] = Field(default_factory=list)


class UnknownEvent(_Event):
    """Anything else Meta sent (a new field, calls...): kept, never dropped."""

    kind: Literal["unknown"] = "unknown"
    field: str


WebhookEvent = Annotated[
    InboundMessage
    | EchoMessage
    | HistoryMessage
    | HistoryProgress
    | MessageEdit
    | MessageRevoke
    | Reaction
    | SystemNotice
    | StatusUpdate
    | AppStateSync
    | UserPreferences
    | AccountUpdate
    | PlatformError
    | UnknownEvent,
    Field(discriminator="kind"),
]


class ParseProblem(_Model):
    """One item of a delivery that could not be read; the rest still parsed."""

    where: str = Field(..., description="JSON path of the item, e.g. entry[0].changes[1]")
    error: str
    raw: Any = None


class WebhookParseResult(_Model):
    """Everything one delivery contained: events in order, and per-item problems."""

    events: list[WebhookEvent] = Field(default_factory=list)
    errors: list[ParseProblem] = Field(default_factory=list)

    def of_kind(self, kind: str) -> list[Any]:
        """The events whose ``kind`` is ``kind``, in delivery order."""
        return [event for event in self.events if event.kind == kind]
