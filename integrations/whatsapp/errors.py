"""Errors raised by the WhatsApp adapter.

Every error names the problem in its message so the service can turn it into a
clear HTTP 4xx (or a log line) without guessing.
"""

from __future__ import annotations

from typing import Any


class WhatsAppError(Exception):
    """Base class of every error raised by ``copilot.integrations.whatsapp``."""


class SignatureError(WhatsAppError, ValueError):
    """The ``X-Hub-Signature-256`` header is missing, malformed or does not match."""


class VerificationError(WhatsAppError, ValueError):
    """The webhook subscription handshake (``hub.mode`` / ``hub.verify_token``) failed."""


class WebhookError(WhatsAppError, ValueError):
    """The delivery as a whole cannot be read (not JSON, not an object, wrong ``object``)."""


class ConfigError(WhatsAppError, ValueError):
    """The sender configuration is incomplete or invalid."""


class InvalidMessageError(WhatsAppError, ValueError):
    """A message to send breaks WhatsApp's limits (empty text, too many buttons...)."""


class SendError(WhatsAppError):
    """Meta refused a send, or it failed after every retry.

    ``status_code`` is the HTTP status (``None`` for a transport failure);
    ``code``, ``title``, ``error_message`` and ``details`` come from Meta's
    error object when there is one. ``retryable`` tells whether the failure was
    transient (429, 5xx, network) and the retries ran out.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        title: str | None = None,
        error_message: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        attempts: int = 1,
        response_body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.subcode = subcode
        self.title = title
        self.error_message = error_message
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.retryable = retryable
        self.retry_after = retry_after
        self.attempts = attempts
        self.response_body = response_body


class SendPolicyError(WhatsAppError):
    """A send that WhatsApp's rules forbid; nothing was sent."""


class WindowClosedError(SendPolicyError):
    """Free-form messages need the 24-hour window open; outside it only an
    approved template may be sent."""


class OptedOutError(SendPolicyError):
    """The lead opted out: nothing may be sent but the opt-out confirmation."""


class MediaError(WhatsAppError):
    """A media file could not be fetched from the Cloud API (the message says why)."""
