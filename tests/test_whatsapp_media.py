"""Cloud API media: the adapter's two-step download against the fake Graph API
(a real HTTP server on 127.0.0.1) and the local store's size cap and expiry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.inbox.media_store import MediaCache, MediaStore, media_folder
from copilot.integrations.whatsapp import MediaDownloader, MediaError, WhatsAppSender
from tests.fakes.graph_api import FakeGraphAPI

PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 200


def _downloader(api: FakeGraphAPI, **options: object) -> MediaDownloader:
    return MediaDownloader(
        "token", "123", api.base_url, sleep=lambda _: None, initial_wait=0, jitter=0, **options
    )


@pytest.fixture
def graph_api() -> Iterator[FakeGraphAPI]:
    with FakeGraphAPI() as api:
        yield api


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_download_follows_the_url_with_the_token_on_both_requests(
    graph_api: FakeGraphAPI,
) -> None:
    graph_api.add_media("1111", PNG, "image/png")
    media = _downloader(graph_api).download("1111")
    assert media.data == PNG and media.mime_type == "image/png"
    paths = [r.path for r in graph_api.media_requests]
    assert paths == ["/v21.0/1111", "/download/1111"]
    assert all(r.headers["authorization"] == "Bearer token" for r in graph_api.media_requests)


def test_download_errors_are_media_errors_and_ids_cannot_steer_the_path(
    graph_api: FakeGraphAPI,
) -> None:
    downloader = _downloader(graph_api, max_attempts=2)
    with pytest.raises(MediaError, match="HTTP 404"):
        downloader.download("2222")  # Meta no longer has it
    for bad in ("../../me", "a/b", "", "x" * 200):
        with pytest.raises(MediaError, match="not a media id"):
            downloader.download(bad)
    assert [r.path for r in graph_api.media_requests] == ["/v21.0/2222"]
    graph_api.add_media("3333", PNG, "image/png")
    graph_api.media_down = True
    with pytest.raises(MediaError, match="HTTP 500"):
        downloader.download("3333")
    assert len(graph_api.media_requests) == 1 + 2  # the 5xx was retried, within bounds


def test_the_store_evicts_the_oldest_past_its_cap(tmp_path: Path) -> None:
    clock = Clock()
    store = MediaStore(tmp_path / "m", max_bytes=1000, now=clock)
    for n in range(4):
        clock.t += 1
        store.put(f"id{n}", bytes([n]) * 300, "application/pdf")
    assert store.total_bytes() == 900
    assert store.get("id0") is None  # the oldest went first
    assert store.get("id3") == (bytes([3]) * 300, "application/pdf")
    assert [store.get(f"id{n}") is not None for n in range(4)] == [False, True, True, True]
    store.put("huge", b"x" * 1001, "video/mp4")  # larger than the whole cap: not kept
    assert store.get("huge") is None and store.total_bytes() == 900
    assert media_folder(tmp_path / "inbox.db") == tmp_path / "inbox.media"


def test_the_cache_fetches_once_then_again_after_expiry(
    graph_api: FakeGraphAPI, tmp_path: Path
) -> None:
    clock = Clock()
    graph_api.add_media("4444", PNG, "image/png")
    cache = MediaCache(MediaStore(tmp_path / "m", max_age=3600, now=clock), _downloader(graph_api))
    assert cache.get("4444") == (PNG, "image/png")
    assert cache.get("4444") == (PNG, "image/png")
    assert len(graph_api.media_requests) == 2  # one description + one download
    clock.t += 3601
    newer = PNG + b"2"
    graph_api.add_media("4444", newer, "image/png")
    assert cache.get("4444") == (newer, "image/png")
    assert len(graph_api.media_requests) == 4  # expired: fetched again


def test_the_cache_answers_none_when_upstream_fails(
    graph_api: FakeGraphAPI, tmp_path: Path
) -> None:
    graph_api.add_media("5555", PNG, "image/png")
    graph_api.media_down = True
    cache = MediaCache(MediaStore(tmp_path / "m"), _downloader(graph_api, max_attempts=1))
    assert cache.get("5555") is None
    graph_api.media_down = False  # back: the next view fetches it
    assert cache.get("5555") == (PNG, "image/png")


def test_an_image_or_pdf_is_uploaded_then_sent_by_its_media_id(
    graph_api: FakeGraphAPI,
) -> None:
    downloader = _downloader(graph_api)
    media_id = downloader.upload(PNG, "image/png", "foto.png")
    upload = graph_api.requests[-1]
    assert upload.method == "POST" and upload.path == "/v21.0/123/media"
    assert upload.headers["authorization"] == "Bearer token"
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert PNG in upload.body and b'name="messaging_product"' in upload.body
    sender = WhatsAppSender("token", "123", base_url=graph_api.base_url)
    sender.send_media("573001", "image", media_id, caption="Así queda")
    sender.send_media(
        "573001",
        "document",
        downloader.upload(b"%PDF-1.4 x", "application/pdf"),
        filename="propuesta.pdf",
    )
    image, document = (r.json for r in graph_api.message_requests)
    assert image["type"] == "image" and image["image"] == {"id": media_id, "caption": "Así queda"}
    assert document["type"] == "document" and document["document"]["filename"] == "propuesta.pdf"
    with pytest.raises(MediaError, match="cannot send"):
        downloader.upload(b"MZ", "application/x-msdownload")
    with pytest.raises(MediaError, match="must be 1 to"):
        downloader.upload(b"", "image/png")
    graph_api.script(graph_api.meta_error(400, code=131053, message="Media upload error"))
    with pytest.raises(MediaError, match=r"upload failed.*Media upload error"):
        downloader.upload(PNG, "image/png")
    sender.close()
