"""Fetch the media of inbound messages from the Cloud API.

An image, audio, video or document message carries a media id. Its bytes are
two requests away: ``GET {base_url}/{media_id}`` (bearer token) answers JSON
with a short-lived ``url`` and the ``mime_type``; ``GET url`` with the same
token answers the bytes. :class:`MediaDownloader` makes both with the senders'
plumbing (the bearer header, the timeout, the bounded retries of transient
failures) and raises :class:`MediaError` for anything else. The token never
leaves this object: callers get bytes, never the URL.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import Retrying

from copilot.integrations.whatsapp.errors import MediaError, SendError
from copilot.integrations.whatsapp.sender import _error_from_response, _GraphConfig
from copilot.integrations.whatsapp.settings import DEFAULT_BASE_URL

#: A media id as Meta writes them (digits, sometimes letters); anything else is
#: refused before it can steer the request's path.
MEDIA_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


@dataclass(frozen=True)
class Media:
    """A downloaded media file."""

    data: bytes
    mime_type: str


class GraphReader(_GraphConfig):
    """GETs on the Graph API with the senders' token, timeout and bounded retries
    (sync httpx client); :class:`MediaDownloader` and the template sync build on it."""

    def __init__(
        self,
        access_token: str,
        phone_number_id: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **options: Any,
    ) -> None:
        super().__init__(access_token, phone_number_id, base_url, **options)
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=self.timeout)
        self._sleep = sleep

    def get(self, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        """One GET with the bearer token, transient failures retried; raises
        :class:`SendError` (Meta's error) otherwise."""
        headers = {"Authorization": self._headers["Authorization"]}
        for attempt in Retrying(**self._retry_policy(self._sleep)):
            with attempt:
                number = attempt.retry_state.attempt_number
                try:
                    response = self._client.get(url, headers=headers, params=params)
                except httpx.TransportError as exc:
                    raise self._transport_error(exc, number) from exc
                if not response.is_success:
                    raise _error_from_response(response, number)
                return response
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._own_client:
            self._client.close()


class MediaDownloader(GraphReader):
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
