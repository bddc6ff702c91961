"""WhatsApp Cloud API adapter: verify, parse and send.

* :func:`verify_signature` / :func:`verify_subscription`: webhook authenticity.
* :func:`parse_webhook`: a delivery into typed events (``events.py``), every
  entry, change and item, Coexistence included.
* :class:`WhatsAppSender` (and :class:`AsyncWhatsAppSender`): send text,
  templates and interactive messages with bounded retries;
  :class:`OutboxSender` when there are no credentials; :func:`sender_from_env`.
* :class:`MediaDownloader`: fetch an inbound message's media by id, upload an
  image or PDF to send (``WhatsAppSender.send_media``).
* :func:`check_can_send`: the 24-hour window and opt-out rules.
* :class:`WhatsAppSettings`: the ``WHATSAPP_*`` environment variables, read once.
"""

from copilot.integrations.whatsapp.errors import (
    ConfigError,
    InvalidMessageError,
    MediaError,
    OptedOutError,
    SendError,
    SendPolicyError,
    SignatureError,
    VerificationError,
    WebhookError,
    WhatsAppError,
    WindowClosedError,
)
from copilot.integrations.whatsapp.events import (
    AccountUpdate,
    AppStateSync,
    EchoMessage,
    ErrorDetail,
    HistoryMessage,
    HistoryProgress,
    InboundMessage,
    MessageEdit,
    MessageRevoke,
    ParseProblem,
    PlatformError,
    Reaction,
    StatusUpdate,
    SystemNotice,
    UnknownEvent,
    UserPreferences,
    WebhookEvent,
    WebhookParseResult,
)
from copilot.integrations.whatsapp.media import Media, MediaDownloader
from copilot.integrations.whatsapp.parser import parse_webhook
from copilot.integrations.whatsapp.payloads import ListRow, ListSection, ReplyButton
from copilot.integrations.whatsapp.policy import SendKind, check_can_send
from copilot.integrations.whatsapp.sender import (
    AsyncOutboxSender,
    AsyncWhatsAppSender,
    OutboxItem,
    OutboxSender,
    WhatsAppSender,
    sender_from_env,
)
from copilot.integrations.whatsapp.settings import WhatsAppSettings
from copilot.integrations.whatsapp.signature import (
    SIGNATURE_HEADER,
    compute_signature,
    verify_signature,
    verify_subscription,
)

__all__ = [
    "SIGNATURE_HEADER",
    "AccountUpdate",
    "AppStateSync",
    "AsyncOutboxSender",
    "AsyncWhatsAppSender",
    "ConfigError",
    "EchoMessage",
    "ErrorDetail",
    "HistoryMessage",
    "HistoryProgress",
    "InboundMessage",
    "InvalidMessageError",
    "ListRow",
    "ListSection",
    "Media",
    "MediaDownloader",
    "MediaError",
    "MessageEdit",
    "MessageRevoke",
    "OptedOutError",
    "OutboxItem",
    "OutboxSender",
    "ParseProblem",
    "PlatformError",
    "Reaction",
    "ReplyButton",
    "SendError",
    "SendKind",
    "SendPolicyError",
    "SignatureError",
    "StatusUpdate",
    "SystemNotice",
    "UnknownEvent",
    "UserPreferences",
    "VerificationError",
    "WebhookError",
    "WebhookEvent",
    "WebhookParseResult",
    "WhatsAppError",
    "WhatsAppSender",
    "WhatsAppSettings",
    "WindowClosedError",
    "check_can_send",
    "compute_signature",
    "parse_webhook",
    "sender_from_env",
    "verify_signature",
    "verify_subscription",
]
