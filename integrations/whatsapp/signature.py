"""Webhook authenticity: the payload signature and the subscription handshake.

Meta signs every delivery with HMAC-SHA256 of the *raw* request body, keyed by
the app secret, and sends it as ``X-Hub-Signature-256: sha256=<hex>``. The
signature must be checked on the exact bytes received, before any JSON parsing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from copilot.integrations.whatsapp.errors import SignatureError, VerificationError

SIGNATURE_HEADER = "X-Hub-Signature-256"
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def compute_signature(raw_body: bytes, app_secret: str) -> str:
    """The header value Meta would send for ``raw_body``: ``sha256=<hex>``."""
    digest = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> None:
    """Check ``X-Hub-Signature-256`` against the raw body; raise :class:`SignatureError`.

    The comparison is constant-time so the check leaks nothing about the
    expected digest.
    """
    if not app_secret:
        raise SignatureError("no app secret configured: cannot verify the webhook signature")
    if not isinstance(raw_body, bytes | bytearray | memoryview):
        raise SignatureError("the signature must be checked on the raw request body (bytes)")
    if header is None or not header.strip():
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    algorithm, sep, received = header.strip().partition("=")
    if not sep or algorithm.lower() != "sha256":
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header: expected 'sha256=<hex digest>'")
    if not _HEX_DIGEST.fullmatch(received):
        raise SignatureError(
            f"malformed {SIGNATURE_HEADER} header: the digest must be 64 hexadecimal characters"
        )
    expected = hmac.new(app_secret.encode("utf-8"), bytes(raw_body), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received.lower()):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the request body")


def _param(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    # Query-string parsers may hand over a list of values (parse_qs style).
    if isinstance(value, list | tuple):
        value = value[0] if len(value) == 1 else None
    return value if isinstance(value, str) else None


def verify_subscription(params: Mapping[str, Any], verify_token: str) -> str:
    """Answer Meta's GET handshake: return ``hub.challenge`` or raise :class:`VerificationError`.

    ``hub.mode`` must be ``subscribe`` and ``hub.verify_token`` must equal the
    token configured for the app (compared in constant time).
    """
    if not verify_token:
        raise VerificationError("no verify token configured")
    mode = _param(params, "hub.mode")
    token = _param(params, "hub.verify_token")
    challenge = _param(params, "hub.challenge")
    if mode is None:
        raise VerificationError("missing hub.mode")
    if mode != "subscribe":
        raise VerificationError(f"hub.mode must be 'subscribe', got {mode[:40]!r}")
    if token is None:
        raise VerificationError("missing hub.verify_token")
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        raise VerificationError("hub.verify_token does not match")
    if challenge is None or challenge == "":
        raise VerificationError("missing hub.challenge")
    return challenge
