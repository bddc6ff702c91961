"""Media attached to stored messages: what is attached, and its bytes when the
inbox has them.

A message keeps its attachment's description (``extra.media``: the media id,
MIME type, file name). The demo's attachments (ids ``demo-image``,
``demo-audio``) ship with the package, so the demo shows a real picture and a
real voice note without any network. Media of the WhatsApp Cloud API comes
through the inbox's ``media_cache`` (a :class:`~copilot.inbox.media_store.MediaCache`,
set when the service has Cloud API credentials): fetched on first view, then
read from the local store. Without one, or when the fetch fails,
:meth:`MediaMixin.media_bytes` answers None and the page keeps the labelled
placeholder.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from copilot.inbox.errors import NotFoundError
from copilot.inbox.media_store import MediaCache
from copilot.inbox.store import InboxStore

#: The demo's attachments: media id -> (file in copilot/data/demo_media, MIME type).
DEMO_MEDIA = {
    "demo-image": ("image.png", "image/png"),
    "demo-audio": ("audio.wav", "audio/wav"),
}


class MediaMixin(InboxStore):
    """Message attachments."""

    #: Where Cloud API media comes from; None: only the demo's media is served.
    media_cache: MediaCache | None = None

    def _servable(self, media_id: Any) -> bool:
        if not isinstance(media_id, str) or not media_id:
            return False
        return media_id in DEMO_MEDIA or self.media_cache is not None

    def media_info(self, seq: int) -> dict[str, Any]:
        """The attachment of the stored message ``seq`` (its storage id): the
        conversation, the message type, media id, MIME type, file name and
        whether the inbox can serve its bytes. Raises :class:`NotFoundError`
        for a message without one."""
        row = self._row("SELECT conversation_id, type, extra FROM messages WHERE id = ?", (seq,))
        media = (json.loads(row["extra"] or "{}") if row else {}).get("media")
        if not isinstance(media, dict):
            raise NotFoundError(f"no attachment on message {seq}")
        return {
            "conversation_id": row["conversation_id"],
            "type": row["type"],
            "id": media.get("id"),
            "mime_type": media.get("mime_type"),
            "filename": media.get("filename"),
            "available": self._servable(media.get("id")),
        }

    def conversation_media(self, conversation_id: int) -> dict[int, dict[str, Any]]:
        """The attachments of a conversation's messages, by message storage id."""
        rows = self._rows(
            "SELECT id, json_extract(extra, '$.media.id') AS media_id,"
            " json_extract(extra, '$.media.mime_type') AS mime_type,"
            " json_extract(extra, '$.media.filename') AS filename FROM messages"
            " WHERE conversation_id = ? AND extra IS NOT NULL AND json_valid(extra)"
            " AND json_type(extra, '$.media') = 'object'",
            (conversation_id,),
        )
        return {
            r["id"]: {
                "id": r["media_id"],
                "mime_type": r["mime_type"],
                "filename": r["filename"],
                "available": self._servable(r["media_id"]),
            }
            for r in rows
        }

    def media_bytes(self, seq: int) -> tuple[bytes, str] | None:
        """(bytes, MIME type) of a message's attachment, or None when the inbox
        cannot have them (no media cache, or the Cloud API failed)."""
        info = self.media_info(seq)
        media_id = info["id"]
        found = DEMO_MEDIA.get(media_id or "")
        if found is None:
            if self.media_cache is None or not isinstance(media_id, str) or not media_id:
                return None
            return self.media_cache.get(media_id)
        name, mime = found
        data = (resources.files("copilot") / "data" / "demo_media" / name).read_bytes()
        return data, mime
