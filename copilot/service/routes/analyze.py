"""``POST /api/analyze``: stateless analysis of a conversation posted as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Request, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from copilot.models import Analysis, Conversation
from copilot.service.auth import Principal, provide_principal


@post(
    "/api/analyze",
    tags=["analysis"],
    summary="Analyse a conversation (nothing is stored)",
    status_code=200,
    sync_to_thread=True,
    dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
)
def analyze(
    request: Request,
    data: JSONBody[Conversation],
    principal: NamedDependency[Principal],
    now: Annotated[
        datetime | None,
        Parameter(description="The moment to analyse at (ISO 8601); default: now"),
    ] = None,
) -> Analysis:
    """Intent, origin, fields, handoff and suggested reply for the latest inbound
    message. 422 when the conversation has no message from the lead, or when
    ``now`` lies outside the accepted range of moments."""
    if data.last_inbound is None:
        raise ValueError("the conversation has no inbound message from the lead to analyse")
    del principal  # any authenticated caller may analyse
    return request.app.state.service.copilot.analyze(data, now=now)
