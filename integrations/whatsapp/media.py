"""Fetch the media of inbound messages from the Cloud API, and upload outbound ones.

An image, audio, video or document message carries a media id. Its bytes are
two requests away: ``GET {base_url}/{media_id}`` (bearer token) answers JSON
with a short-lived ``url`` and the ``mime_type``; ``GET url`` with the same
token answers the bytes. :class:`MediaDownloader` makes both with the senders'
plumbing (the bearer header, the timeout, the bounded retries of transient
failures) and raises :class:`MediaError` for anything else. The token never
leaves this object: callers get bytes, never the URL.

:meth:`MediaDownloader.upload` sends an image or PDF the other way: a
multipart ``POST {base_url}/{phone_number_id}/media`` answers its media id, which
a message then names (``WhatsAppSender.send_media``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from copilot.integrations.whatsapp.errors import MediaError, SendError
from copilot.integrations.whatsapp.payloads import MEDIA_KINDS
from copilot.integrations.whatsapp.sender import GraphClient, _successful

#: The Cloud API's size limits of what may be uploaded.
MAX_UPLOAD = {"image": 5 * 1024 * 1024, "document": 100 * 1024 * 1024}

#: A media id as Meta writes them (digits, sometimes letters); anything else is
#: refused before it can steer the request's path.
MEDIA_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


@dataclass(frozen=True)
class Media:
    """A downloaded media file."""

    data: bytes
    mime_type: str


class MediaDownloader(GraphClient):
    """Downloads media by id. ``max_bytes`` refuses larger files (WhatsApp's own
    limit is 100 MB for documents); ``options`` are the senders' timeout and
    retry options."""

    def __init__(self, *args: Any, max_bytes: int = 100 * 1024 * 1024, **options: Any) -> None:
        super().__init__(*args, **options)
        self.max_bytes = max_bytes

    def download(self, media_id: str) -> Media:
        """The bytes and MIME type of ``media_id``; raises :class:`MediaError`."""
        if not MEDIA_ID.match(media_id or ""):
            raise MediaError(f"not a media id: {str(media_id)[:40]!r}")
        try:
            meta = self.get(f"{self.base_url}/{media_id}").json()
        except ValueError:
            raise MediaError(f"media {media_id}: the Cloud API answered no JSON") from None
        except SendError as exc:
            raise MediaError(f"media {media_id}: {exc}") from exc
        url = meta.get("url") if isinstance(meta, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise MediaError(f"media {media_id}: the Cloud API answered no download url")
        try:
            response = self.get(url)
        except SendError as exc:
            raise MediaError(f"media {media_id}: download failed: {exc}") from exc
        if len(response.content) > self.max_bytes:
            raise MediaError(f"media {media_id}: larger than {self.max_bytes} bytes")
        mime = str(meta.get("mime_type") or response.headers.get("Content-Type") or "")
        mime = mime.split(";")[0].strip() or "application/octet-stream"
        return Media(response.content, mime)

    def upload(self, data: bytes, mime_type: str, filename: str = "attachment") -> str:
        """Upload an image (JPEG, PNG) or a PDF; returns its media id or raises
        :class:`MediaError` (after the retries, for transient failures)."""
        kind = next((k for k, mimes in MEDIA_KINDS.items() if mime_type in mimes), None)
        if kind is None:
            allowed = ", ".join(m for mimes in MEDIA_KINDS.values() for m in mimes)
            raise MediaError(f"cannot send {mime_type[:60]!r}; allowed: {allowed}")
        if not data or len(data) > MAX_UPLOAD[kind]:
            raise MediaError(f"a {kind} must be 1 to {MAX_UPLOAD[kind]} bytes, not {len(data)}")
        url = f"{self.base_url}/{self.phone_number_id}/media"
        try:
            response = self._retried(
                lambda: self._client.post(
                    url,
                    headers=self._bearer(),
                    data={"messaging_product": "whatsapp", "type": mime_type},
                    files={"file": (filename[:240] or "attachment", data, mime_type)},
                ),
                _successful,
            )
        except SendError as exc:
            raise MediaError(f"upload failed: {exc}") from exc
        try:
            media_id = response.json()["id"]
        except (ValueError, KeyError, TypeError):
            raise MediaError("the Cloud API answered the upload without a media id") from None
        if not isinstance(media_id, str) or not MEDIA_ID.match(media_id):
            raise MediaError("the Cloud API answered the upload with an invalid media id")
        return media_id
