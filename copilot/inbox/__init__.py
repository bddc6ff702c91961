"""The inbox core: one conversation per lead, one owner per conversation, nothing
lost, everything measured. A library layer over SQLite; the service exposes it.

    from copilot.inbox import Inbox
    inbox = Inbox("inbox.db")
    inbox.ingest(contact, message)
"""

from copilot.inbox.clock import Clock, ManualClock, SystemClock
from copilot.inbox.closing import Outcome
from copilot.inbox.core import Inbox
from copilot.inbox.db import check_integrity, open_db
from copilot.inbox.errors import (
    ConflictError,
    InboxDatabaseError,
    InboxError,
    InvalidInput,
    NotFoundError,
    OptedOutError,
    PermissionDenied,
    SendError,
    WindowClosed,
)
from copilot.inbox.ingest import Analyzer
from copilot.inbox.metrics import MetricsReport
from copilot.inbox.models import (
    Agent,
    ConversationDetail,
    ConversationSummary,
    InboxConfig,
    IngestResult,
    RoutingRule,
    Shift,
    StoredMessage,
    Suggestion,
    Task,
    TickReport,
)
from copilot.inbox.replies import OutboxSender, OutgoingMessage, Sender

__all__ = [
    "Agent",
    "Analyzer",
    "Clock",
    "ConflictError",
    "ConversationDetail",
    "ConversationSummary",
    "Inbox",
    "InboxConfig",
    "InboxDatabaseError",
    "InboxError",
    "IngestResult",
    "InvalidInput",
    "ManualClock",
    "MetricsReport",
    "NotFoundError",
    "OptedOutError",
    "OutboxSender",
    "Outcome",
    "OutgoingMessage",
    "PermissionDenied",
    "RoutingRule",
    "SendError",
    "Sender",
    "Shift",
    "StoredMessage",
    "Suggestion",
    "SystemClock",
    "Task",
    "TickReport",
    "WindowClosed",
    "check_integrity",
    "open_db",
]
