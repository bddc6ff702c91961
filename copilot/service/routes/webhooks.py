"""The WhatsApp Cloud API webhook.

``GET`` answers Meta's subscription handshake. ``POST`` checks
``X-Hub-Signature-256`` on the raw body (401 when missing or wrong), appends the
body to the delivery queue and answers 200 at once: parsing, storing messages in
the inbox and analysing them happen in the background runner, so Meta never
waits for the copilot and never retries because of it.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Annotated

from litestar import Request, get, post
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.params import QueryParameter
from litestar.response import Response

from copilot.integrations.whatsapp import (
    SIGNATURE_HEADER,
    SignatureError,
    VerificationError,
    verify_signature,
    verify_subscription,
)
from copilot.service.errors import error_body


@get(
    "/webhooks/whatsapp",
    tags=["webhooks"],
    summary="Webhook verification (Meta's subscription handshake)",
    media_type="text/plain",
)
async def verify(
    request: Request,
    mode: Annotated[str | None, QueryParameter(name="hub.mode", max_length=100)] = None,
    token: Annotated[str | None, QueryParameter(name="hub.verify_token", max_length=1000)] = None,
    challenge: Annotated[str | None, QueryParameter(name="hub.challenge", max_length=1000)] = None,
) -> Response[str]:
    """Echo ``hub.challenge`` when ``hub.verify_token`` matches; 403 otherwise."""
    settings = request.app.state.service.settings
    params = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}
    try:
        answer = verify_subscription(
            {k: v for k, v in params.items() if v is not None}, settings.verify_token or ""
        )
    except VerificationError as exc:
        raise PermissionDeniedException(f"webhook verification failed: {exc}") from exc
    return Response(answer, media_type="text/plain")


@post(
    "/webhooks/whatsapp",
    tags=["webhooks"],
    summary="Receive a WhatsApp Cloud API delivery",
    status_code=200,
)
async def receive(request: Request) -> Response[dict[str, object]]:
    """Verify the signature, store the raw delivery, answer 200.

    401: signature missing or wrong. 400: a signed body that is not a JSON
    object (kept anyway, as ``rejected``). 503: no app secret configured, or the
    delivery could not be stored (disk full, I/O error): not acknowledged, so
    Meta sends it again.
    """
    state = request.app.state.service
    secret = state.settings.app_secret
    if not secret:
        raise HTTPException(
            status_code=503,
            detail="the WhatsApp webhook is not configured: set WHATSAPP_APP_SECRET",
        )
    body = await request.body()
    try:
        verify_signature(body, request.headers.get(SIGNATURE_HEADER), secret)
    except SignatureError as exc:
        raise NotAuthorizedException(str(exc)) from exc
    writer = state.delivery_writer()
    try:
        is_object = isinstance(json.loads(body), dict)
    except (ValueError, RecursionError):  # includes UnicodeDecodeError
        is_object = False
    try:
        if not is_object:
            await writer.append(body, state="rejected", error="not a JSON object")
            return Response(
                error_body("invalid_request", "the webhook body must be a JSON object"),
                status_code=400,
            )
        # Committed (group commit, off the event loop) before the answer: the delivery
        # survives a crash; the runner does the rest after the response.
        delivery_id = await writer.append(body)
    except (sqlite3.Error, OSError) as exc:
        # Not stored, so not acknowledged: Meta delivers it again later.
        return Response(
            error_body(
                "storage_unavailable",
                f"the delivery could not be stored, try again later: {type(exc).__name__}: "
                + str(exc)[:200],
            ),
            status_code=503,
            headers={"Retry-After": "30"},
        )
    state.wake_runner()
    return Response({"status": "received", "delivery": delivery_id})
