"""Send WhatsApp messages through the Cloud API, or keep them in a local outbox.

``WhatsAppSender`` POSTs to ``{base_url}/{phone_number_id}/messages`` with
httpx and returns the WhatsApp message id. Transient failures (HTTP 429, 5xx,
network errors) are retried by tenacity with exponential backoff and jitter,
honouring ``Retry-After``, for a bounded number of attempts. Any other 4xx is
Meta refusing the message: it is raised at once as :class:`SendError` with
Meta's code, title and message.

Retrying a network error is at-least-once: if Meta accepted a request whose
answer was lost, the lead may get the message twice. That is the usual trade
for not losing the reply.

``OutboxSender`` has the same interface for when there are no credentials:
nothing leaves the machine, it returns ``outbox-<uuid>`` and keeps what it
"sent". :func:`sender_from_env` picks one of the two from the environment.

The sync and async senders share everything but the HTTP call itself: the
request (:meth:`_GraphConfig._request`), the reading of the answer and of
errors (:meth:`_GraphConfig._handle`, :meth:`_GraphConfig._transport_error`)
and the retry policy (:meth:`_GraphConfig._retry_policy`).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from copilot.integrations.whatsapp.errors import ConfigError, SendError
from copilot.integrations.whatsapp.payloads import (
    ListSection,
    ReplyButton,
    buttons_payload,
    list_payload,
    media_payload,
    template_payload,
    text_payload,
)
from copilot.integrations.whatsapp.settings import DEFAULT_BASE_URL, WhatsAppSettings

R = TypeVar("R")


class _TransientSendError(SendError):
    """A failure worth retrying (429, 5xx, network)."""


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TransientSendError)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_from_response(response: httpx.Response, attempts: int) -> SendError:
    """A :class:`SendError` carrying Meta's error object (transient or not)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:500]
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    title = error.get("error_user_title") or error.get("title") or error.get("type")
    meta_message = error.get("message") or error.get("error_user_msg")
    details = error_data.get("details")
    status = response.status_code
    transient = status == 429 or status >= 500
    retry_after = parse_retry_after(response.headers.get("Retry-After")) if transient else None
    parts = [f"HTTP {status}"]
    if code is not None:
        parts.append(f"code {code}")
    summary = f"WhatsApp send failed ({', '.join(parts)})"
    explained = ": ".join(str(x) for x in (title, meta_message) if x)
    if explained:
        summary += f": {explained}"
    if details and details != meta_message:
        summary += f" ({details})"
    cls = _TransientSendError if transient else SendError
    return cls(
        summary,
        status_code=status,
        code=code,
        subcode=subcode,
        title=str(title) if title else None,
        error_message=str(meta_message) if meta_message else None,
        details=str(details) if details else None,
        fbtrace_id=error.get("fbtrace_id"),
        retryable=transient,
        retry_after=retry_after,
        attempts=attempts,
        response_body=body,
    )


def _message_id(response: httpx.Response) -> str:
    try:
        body = response.json()
        message_id = body["messages"][0]["id"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise SendError(
            f"WhatsApp answered HTTP {response.status_code} without a message id",
            status_code=response.status_code,
            response_body=response.text[:500],
        ) from None
    if not isinstance(message_id, str) or not message_id:
        raise SendError("WhatsApp answered with an empty message id", status_code=200)
    return message_id


class _Messages(Generic[R]):
    """The send methods every sender offers; subclasses implement :meth:`send`."""

    def send(self, payload: dict[str, Any]) -> R:  # pragma: no cover - abstract
        """Send one ``/messages`` JSON body; returns the message id."""
        raise NotImplementedError

    def send_text(
        self, to: str, body: str, *, preview_url: bool = False, reply_to: str | None = None
    ) -> R:
        """Send free text (only inside the 24-hour window)."""
        return self.send(text_payload(to, body, preview_url=preview_url, reply_to=reply_to))

    def send_media(
        self,
        to: str,
        kind: str,
        media_id: str,
        *,
        caption: str | None = None,
        filename: str | None = None,
        reply_to: str | None = None,
    ) -> R:
        """Send an uploaded image or document (``kind``) by its media id."""
        return self.send(
            media_payload(to, kind, media_id, caption=caption, filename=filename, reply_to=reply_to)
        )

    def send_template(
        self,
        to: str,
        name: str,
        language: str,
        body_variables: Sequence[str] | Mapping[str, str] = (),
        *,
        components: list[dict[str, Any]] | None = None,
    ) -> R:
        """Send an approved template with its body variables."""
        return self.send(
            template_payload(to, name, language, body_variables, components=components)
        )

    def send_buttons(
        self,
        to: str,
        body: str,
        buttons: Sequence[ReplyButton | tuple[str, str] | Mapping[str, str]],
        *,
        header: str | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
    ) -> R:
        """Send an interactive message with up to three quick-reply buttons."""
        return self.send(
            buttons_payload(to, body, buttons, header=header, footer=footer, reply_to=reply_to)
        )

    def send_list(
        self,
        to: str,
        body: str,
        button: str,
        sections: Sequence[ListSection | Mapping[str, Any]],
        *,
        header: str | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
    ) -> R:
        """Send an interactive list message."""
        return self.send(
            list_payload(
                to, body, button, sections, header=header, footer=footer, reply_to=reply_to
            )
        )


class _GraphConfig:
    """What both Graph senders share: URL, headers, retry policy."""

    def __init__(
        self,
        access_token: str,
        phone_number_id: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        initial_wait: float = 0.5,
        max_wait: float = 8.0,
        jitter: float = 0.5,
        max_retry_after: float = 60.0,
    ) -> None:
        if not access_token:
            raise ConfigError("a WhatsApp access token is required")
        if not phone_number_id:
            raise ConfigError("a WhatsApp phone number id is required")
        if max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")
        self.phone_number_id = phone_number_id
        self.base_url = base_url.rstrip("/")
        self.messages_url = f"{self.base_url}/{phone_number_id}/messages"
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_retry_after = max_retry_after
        self.initial_wait = initial_wait
        self.max_wait = max_wait
        self.jitter = jitter
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json",
        }

    def __repr__(self) -> str:  # never show the token
        return f"{type(self).__name__}(phone_number_id={self.phone_number_id!r}, base_url={self.base_url!r})"

    def _request(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of the one POST that sends ``payload``."""
        return {"url": self.messages_url, "json": payload, "headers": self._headers}

    def _retry_policy(self, sleep: Callable[[float], Any]) -> dict[str, Any]:
        """Tenacity's arguments: transient failures only, bounded attempts, the
        waits of :meth:`_wait`; the last error is raised as is."""
        return {
            "stop": stop_after_attempt(self.max_attempts),
            "wait": self._wait,
            "retry": retry_if_exception(_is_transient),
            "sleep": sleep,
            "reraise": True,
        }

    def _wait(self, state: RetryCallState) -> float:
        """Retry-After when Meta gave one (capped), else exponential backoff with jitter."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, SendError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after)
        # Exponential growth plus random jitter, so many clients don't retry in step.
        growth = self.initial_wait * 2 ** max(0, state.attempt_number - 1)
        return min(self.max_wait, growth + random.uniform(0, self.jitter))

    def _transport_error(self, exc: httpx.TransportError, attempt: int) -> SendError:
        return _TransientSendError(
            f"WhatsApp send failed: {type(exc).__name__}: {exc}",
            retryable=True,
            attempts=attempt,
        )

    def _handle(self, response: httpx.Response, attempt: int) -> str:
        """The message id of a successful answer, else the error it carries."""
        if response.is_success:
            return _message_id(response)
        raise _error_from_response(response, attempt)


class GraphClient(_GraphConfig):
    """Calls to the Graph API on a sync httpx client, with the token, timeout and
    bounded retries of :class:`_GraphConfig`: the sender, the media downloader and
    the template sync all go through :meth:`_retried`.

    ``options`` are the retry policy and timeout: ``max_attempts`` bounds the tries
    (the first included); waits grow from ``initial_wait`` to ``max_wait`` seconds
    with up to ``jitter`` seconds of randomness; a ``Retry-After`` is honoured up to
    ``max_retry_after``. ``sleep`` is injectable so tests can see the waits without
    waiting.
    """

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

    def _retried(
        self,
        call: Callable[[], httpx.Response],
        answer: Callable[[httpx.Response, int], R],
    ) -> R:
        """``answer(call(), attempt)``, with transport failures and the transient
        errors ``answer`` raises retried under the policy; raises :class:`SendError`."""
        for attempt in Retrying(**self._retry_policy(self._sleep)):
            with attempt:
                number = attempt.retry_state.attempt_number
                try:
                    response = call()
                except httpx.TransportError as exc:
                    raise self._transport_error(exc, number) from exc
                return answer(response, number)
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": self._headers["Authorization"]}

    def get(self, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        """One GET with the bearer token, transient failures retried; raises
        :class:`SendError` (Meta's error) otherwise."""
        return self._retried(
            lambda: self._client.get(url, headers=self._bearer(), params=params), _successful
        )

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _successful(response: httpx.Response, attempt: int) -> httpx.Response:
    """``response`` when it succeeded, else the error it carries."""
    if not response.is_success:
        raise _error_from_response(response, attempt)
    return response


class WhatsAppSender(GraphClient, _Messages[str]):
    """Sends messages through the Cloud API (sync httpx client); ``options`` as
    for :class:`GraphClient`."""

    def send(self, payload: dict[str, Any]) -> str:
        """POST one ``/messages`` body; returns the WhatsApp message id or raises
        :class:`SendError` (after the retries, for transient failures)."""
        return self._retried(lambda: self._client.post(**self._request(payload)), self._handle)

    def __enter__(self) -> WhatsAppSender:
        return self


class AsyncWhatsAppSender(_GraphConfig, _Messages[Awaitable[str]]):
    """The same as :class:`WhatsAppSender` on ``httpx.AsyncClient`` (methods are awaitable)."""

    def __init__(
        self,
        access_token: str,
        phone_number_id: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **options: Any,
    ) -> None:
        super().__init__(access_token, phone_number_id, base_url, **options)
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=self.timeout)
        self._sleep = sleep

    async def send(self, payload: dict[str, Any]) -> str:  # type: ignore[override]
        """POST one ``/messages`` body; returns the WhatsApp message id."""
        async for attempt in AsyncRetrying(**self._retry_policy(self._sleep)):
            with attempt:
                number = attempt.retry_state.attempt_number
                try:
                    response = await self._client.post(**self._request(payload))
                except httpx.TransportError as exc:
                    raise self._transport_error(exc, number) from exc
                return self._handle(response, number)
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def aclose(self) -> None:
        """Close the HTTP client if this sender created it."""
        if self._own_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncWhatsAppSender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class OutboxItem(BaseModel):
    """A message the outbox "sent": kept locally, never transmitted."""

    model_config = ConfigDict(extra="forbid")

    id: str
    to: str
    type: str
    payload: dict[str, Any]
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class OutboxSender(_Messages[str]):
    """A sender for when there are no credentials: nothing leaves the machine.

    Every send is validated exactly like a real one, gets a local id
    ``outbox-<uuid>`` and is appended to :attr:`sent`.
    """

    def __init__(self) -> None:
        self.sent: list[OutboxItem] = []
        self._lock = threading.Lock()

    def send(self, payload: dict[str, Any]) -> str:
        """Keep the message locally and return its ``outbox-<uuid>`` id."""
        item = OutboxItem(
            id=f"outbox-{uuid.uuid4().hex}",
            to=str(payload.get("to", "")),
            type=str(payload.get("type", "")),
            payload=payload,
        )
        with self._lock:
            self.sent.append(item)
        return item.id

    def close(self) -> None:
        """Nothing to close; present for interface parity."""


class AsyncOutboxSender(_Messages[Awaitable[str]]):
    """:class:`OutboxSender` with awaitable methods, for async services."""

    def __init__(self) -> None:
        self.outbox = OutboxSender()

    @property
    def sent(self) -> list[OutboxItem]:
        """What was "sent", oldest first."""
        return self.outbox.sent

    async def send(self, payload: dict[str, Any]) -> str:  # type: ignore[override]
        """Keep the message locally and return its ``outbox-<uuid>`` id."""
        return self.outbox.send(payload)

    async def aclose(self) -> None:
        """Nothing to close; present for interface parity."""


def sender_from_env(
    env: Mapping[str, str] | None = None, *, use_async: bool = False, **options: Any
) -> WhatsAppSender | AsyncWhatsAppSender | OutboxSender | AsyncOutboxSender:
    """The real sender when ``WHATSAPP_ACCESS_TOKEN`` and ``WHATSAPP_PHONE_NUMBER_ID``
    are set (``WHATSAPP_API_BASE_URL`` optional), else the local outbox.

    The variables are read by :meth:`WhatsAppSettings.from_env`: setting only one
    of the two is a configuration mistake and raises :class:`ConfigError` rather
    than silently keeping messages local. ``options`` go to the sender
    (timeouts, retry policy).
    """
    settings = WhatsAppSettings.from_env(env)
    if not settings.sends_for_real:
        return AsyncOutboxSender() if use_async else OutboxSender()
    cls = AsyncWhatsAppSender if use_async else WhatsAppSender
    return cls(
        settings.access_token or "",
        settings.phone_number_id or "",
        settings.api_base_url,
        **options,
    )
