"""A local store of fetched media: one file per media id in a folder beside the
database, bounded in total size and in age.

Each media id is kept as two files named by the SHA-256 of the id (so a
lead-controlled id never becomes a path): ``<hash>.bin`` (the bytes) and
``<hash>.json`` (MIME type, size, when stored). Writes go to a temporary file
renamed into place, so several processes may share the folder. Past
``max_bytes`` in total the oldest entries are evicted first; an entry older
than ``max_age`` seconds counts as missing, so it is fetched again (Meta keeps
media for about 30 days).

:class:`MediaCache` puts a store in front of a fetcher (the WhatsApp adapter's
:class:`~copilot.integrations.whatsapp.media.MediaDownloader`): the first view
fetches, later views read the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

#: Defaults: 500 MB in all, 7 days per file.
DEFAULT_MAX_BYTES = 500 * 1024 * 1024
DEFAULT_MAX_AGE = 7 * 24 * 3600.0


class Fetched(Protocol):
    """What a fetcher returns."""

    data: bytes
    mime_type: str


class Fetcher(Protocol):
    """Anything that downloads a media id (raises on failure)."""

    def download(self, media_id: str) -> Fetched: ...


def media_folder(db_path: str | os.PathLike[str]) -> Path:
    """The media folder of a database file: ``inbox.db`` -> ``inbox.media/``."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.media")


class MediaStore:
    """The folder of fetched media. ``now`` is injectable for tests."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age: float = DEFAULT_MAX_AGE,
        now: Callable[[], float] = time.time,
    ) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        if not max_age > 0:
            raise ValueError("max_age must be a positive number of seconds")
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._now = now
        self._lock = threading.Lock()

    @staticmethod
    def _key(media_id: str) -> str:
        return hashlib.sha256(media_id.encode()).hexdigest()

    def _meta(self, key: str) -> dict | None:
        try:
            meta = json.loads((self.folder / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def get(self, media_id: str) -> tuple[bytes, str] | None:
        """(bytes, MIME type), or None when missing or expired."""
        key = self._key(media_id)
        meta = self._meta(key)
        if meta is None or self._now() - float(meta.get("stored_at", 0)) > self.max_age:
            return None
        try:
            data = (self.folder / f"{key}.bin").read_bytes()
        except OSError:
            return None
        return data, str(meta.get("mime_type") or "application/octet-stream")

    def put(self, media_id: str, data: bytes, mime_type: str) -> None:
        """Keep ``data``, then evict the oldest entries past the size cap. A file
        larger than the whole cap is not kept."""
        if len(data) > self.max_bytes:
            return
        key = self._key(media_id)
        meta = {"mime_type": mime_type, "size": len(data), "stored_at": self._now()}
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            # The bytes first, the description last: a reader never finds a
            # description whose bytes are not there yet.
            self._write(self.folder / f"{key}.bin", data)
            self._write(self.folder / f"{key}.json", json.dumps(meta).encode())
            self._evict()

    def _write(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def entries(self) -> list[tuple[str, float, int]]:
        """(hash, stored_at, size) of every entry, oldest first."""
        out = []
        for path in self.folder.glob("*.json"):
            meta = self._meta(path.stem)
            if meta is not None:
                out.append((path.stem, float(meta.get("stored_at", 0)), int(meta.get("size", 0))))
        return sorted(out, key=lambda e: e[1])

    def total_bytes(self) -> int:
        """The size of every kept file together."""
        return sum(size for _, _, size in self.entries())

    def _evict(self) -> None:
        entries = self.entries()
        total = sum(size for _, _, size in entries)
        now = self._now()
        for key, stored_at, size in entries:
            if total <= self.max_bytes and now - stored_at <= self.max_age:
                continue
            for suffix in (".json", ".bin"):
                with contextlib.suppress(OSError):
                    (self.folder / f"{key}{suffix}").unlink()
            total -= size


class MediaCache:
    """A :class:`MediaStore` in front of a :class:`Fetcher`."""

    def __init__(self, store: MediaStore, fetcher: Fetcher) -> None:
        self.store = store
        self.fetcher = fetcher

    def get(self, media_id: str) -> tuple[bytes, str] | None:
        """The media's bytes and MIME type: from the store, else fetched (and
        kept). None when the fetch fails; the failure is logged, never raised."""
        found = self.store.get(media_id)
        if found is not None:
            return found
        try:
            media = self.fetcher.download(media_id)
        except Exception as exc:  # any failure upstream: the page shows a placeholder
            log.warning("media %s not fetched: %s", media_id[:40], exc)
            return None
        try:
            self.store.put(media_id, media.data, media.mime_type)
        except OSError as exc:  # a full disk still shows this one view
            log.warning("media %s not stored: %s", media_id[:40], exc)
        return media.data, media.mime_type
