"""``POST /api/messages/{message_id}/corrections``: an agent corrects the copilot's
labels of a lead's message (intent, origin, handoff, fields). The corrections feed
the evals' data flywheel (``lead-copilot eval export``)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter
from pydantic import BaseModel, ConfigDict, Field

from copilot.inbox import Inbox, access
from copilot.inbox.corrections import Correction, FieldCorrections
from copilot.service.auth import Principal, provide_principal
from copilot.taxonomy import HandoffReason, Intent, Origin

MessageId = Annotated[str, Parameter(min_length=1, max_length=200)]


class CorrectionBody(BaseModel):
    """The labels the agent corrects; at least one. ``fields``: field name ->
    corrected value (``null`` = must stay empty), named as in the fields datasets."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent | None = None
    origin: Origin | None = None
    handoff_needed: bool | None = None
    handoff_reason: HandoffReason | None = Field(
        None, description="Implies handoff_needed=true when that is not given"
    )
    fields: FieldCorrections | None = None


def _inbox(request: Request) -> Inbox:
    return request.app.state.service.inbox()


class CorrectionsController(Controller):
    """Label corrections by agents (owner of the conversation or admin)."""

    path = "/api"
    tags: ClassVar[list[str]] = ["inbox"]
    dependencies: ClassVar[dict[str, Provide]] = {
        "principal": Provide(provide_principal, sync_to_thread=False)
    }

    @post("/messages/{message_id:str}/corrections", sync_to_thread=True, status_code=201)
    def correct(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        message_id: MessageId,
        data: JSONBody[CorrectionBody],
    ) -> Correction:
        """Record the agent's corrected labels for a lead's message, beside what the
        copilot predicted. 404 for an unknown message, 403 for an agent who neither
        owns the conversation nor is an admin (another team's conversation included), 422 for nothing to correct or an
        outbound message."""
        given: dict[str, Any] = data.model_dump(exclude={"fields"}, exclude_unset=True)
        inbox = _inbox(request)
        conversation_id = inbox.message(message_id).conversation_id
        access.require_manage(inbox.conn, principal, conversation_id)
        return inbox.correct_label(
            message_id,
            principal.agent_id,
            intent=given.get("intent"),
            origin=given.get("origin"),
            handoff_needed=given.get("handoff_needed"),
            handoff_reason=given.get("handoff_reason"),
            fields=data.fields,
        )
