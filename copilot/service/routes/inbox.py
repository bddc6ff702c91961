"""The inbox JSON API under ``/api``: each handler checks who is calling, asks
the inbox's access rule (:mod:`copilot.inbox.access`) and calls one inbox
method. Inbox errors become 4xx in ``errors.py``: an unknown conversation 404,
another team's 403, the same answers the web pages give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, Parameter, QueryParameter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from copilot import window
from copilot.inbox import (
    Agent,
    ConversationDetail,
    ConversationSummary,
    Inbox,
    InvalidInput,
    MetricsReport,
    NotFoundError,
    Outcome,
    PermissionDenied,
    StoredMessage,
    Suggestion,
    Task,
    access,
)
from copilot.inbox.listing import ConversationQuery, list_conversations, summaries
from copilot.inbox.models import HistoryEntry, Note
from copilot.service.auth import Principal, provide_principal, require_admin
from copilot.taxonomy import LostReason, Origin, Stage

Id = Annotated[int, Parameter(ge=1, le=2**62)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
NoteText = Annotated[str, StringConstraints(max_length=2000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignBody(_Body):
    agent_id: int = Field(..., ge=1, le=2**62, description="The agent who gets the conversation")


class TransferBody(_Body):
    to_agent_id: int = Field(..., ge=1, le=2**62)
    note: NoteText | None = Field(None, description="Internal note for the new owner")


class ReleaseBody(_Body):
    note: NoteText | None = None


class ReplyBody(_Body):
    """Free text, or a suggestion accepted (no ``text``) or edited (with ``text``)."""

    last_seen_message_id: Short = Field(
        ..., description="The newest message the agent saw; 409 if anything came after it"
    )
    text: Text | None = None
    suggestion_id: int | None = Field(None, ge=1, le=2**62)


class RejectBody(_Body):
    reason: NoteText | None = None


class NoteBody(_Body):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class TagsBody(_Body):
    add: list[Tag] = Field(default_factory=list, max_length=50)
    remove: list[Tag] = Field(default_factory=list, max_length=50)


class StageBody(_Body):
    stage: Stage
    lost_reason: LostReason | None = Field(None, description="Required for 'lost' only")
    note: NoteText | None = None


class CloseBody(_Body):
    outcome: Outcome = Field(..., description="won, lost, spam or no_reply_needed")
    lost_reason: LostReason | None = Field(None, description="Required for 'lost' only")
    note: NoteText | None = None


class SnoozeBody(_Body):
    until: datetime = Field(..., description="When it comes back (with a time zone)")
    note: NoteText | None = None


class TaskBody(_Body):
    title: Short
    due_at: datetime
    owner_id: int | None = Field(None, ge=1, le=2**62, description="Default: the owner")


class AgentBody(_Body):
    name: Short
    team: Short | None = None
    role: Literal["admin", "agent"] = "agent"
    available: bool = False


class AvailabilityBody(_Body):
    available: bool


class ConversationView(BaseModel):
    """One conversation with everything the agent needs beside the chat."""

    conversation: ConversationDetail
    window_open: bool = Field(
        description="Free text may be sent: the lead wrote less than 24 hours ago"
    )
    messages: list[StoredMessage]
    analysis: dict[str, Any] | None = Field(None, description="The latest analysis")
    suggestion: Suggestion | None = Field(None, description="The reply waiting for a decision")
    notes: list[Note]
    tasks: list[Task]
    history: list[HistoryEntry]


class NewAgent(BaseModel):
    """A created agent and its bearer token (shown this once only)."""

    agent: Agent
    token: str


def _inbox(request: Request) -> Inbox:
    return request.app.state.service.inbox()


def _readable(request: Request, principal: Principal, conversation_id: int) -> Inbox:
    """The inbox, once the caller may read the conversation (else 404 / 403)."""
    inbox = _inbox(request)
    access.require_read(inbox.conn, principal, conversation_id)
    return inbox


class InboxController(Controller):
    """Conversations, replies, notes, tags, stages, tasks, agents and metrics."""

    path = "/api"
    tags: ClassVar[list[str]] = ["inbox"]
    dependencies: ClassVar[dict[str, Provide]] = {
        "principal": Provide(provide_principal, sync_to_thread=False)
    }

    # --- conversations ------------------------------------------------------

    @get("/conversations", sync_to_thread=True)
    def list_conversations(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        view: FromQuery[Literal["all", "mine", "unassigned", "team"] | None] = None,
        status: FromQuery[Literal["open", "closed", "snoozed", "any"]] = "open",
        team: Annotated[str | None, Parameter(max_length=100)] = None,
        stage: FromQuery[Stage | None] = None,
        origin: FromQuery[Origin | None] = None,
        tag: Annotated[str | None, Parameter(max_length=50)] = None,
        handoff: FromQuery[bool | None] = None,
        sla_breached: FromQuery[bool | None] = None,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
        before: FromQuery[datetime | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    ) -> list[ConversationSummary]:
        """The inbox list, limited to what the caller may open. ``view``: all
        (admins; their default), mine (an agent's default), unassigned (the queue)
        or team (the caller's team unless ``team`` is given; another team's: admins
        only); filters combine."""
        f = ConversationQuery(
            view=view or ("all" if principal.is_admin else "mine"),
            status=None if status == "any" else status,
            team=team,
            stage=stage.value if stage else None,
            origin=origin.value if origin else None,
            tag=tag,
            handoff_needed=handoff,
            sla_breached=sla_breached,
            text=q,
            before=before,
            limit=limit,
        )
        return summaries(list_conversations(_inbox(request), f, principal))

    @get("/conversations/{conversation_id:int}", sync_to_thread=True)
    def get_conversation(
        self, request: Request, principal: NamedDependency[Principal], conversation_id: Id
    ) -> ConversationView:
        """One conversation: details, latest messages, latest analysis, the
        suggestion waiting for a decision, notes, tasks and history."""
        inbox = _readable(request, principal, conversation_id)
        detail = inbox.conversation(conversation_id)
        return ConversationView(
            conversation=detail,
            window_open=window.is_open(detail.window_closes_at, inbox.clock.now()),
            messages=inbox.messages(conversation_id),
            analysis=inbox.latest_analysis(conversation_id),
            suggestion=inbox.current_suggestion(conversation_id),
            notes=inbox.notes(conversation_id),
            tasks=inbox.tasks(conversation_id=conversation_id),
            history=inbox.history(conversation_id),
        )

    @post("/conversations/{conversation_id:int}/claim", sync_to_thread=True, status_code=200)
    def claim(
        self, request: Request, principal: NamedDependency[Principal], conversation_id: Id
    ) -> ConversationDetail:
        """Take an unassigned conversation (409 if someone else has it, 403 if it
        is another team's)."""
        return _readable(request, principal, conversation_id).claim(
            conversation_id, principal.agent_id
        )

    @post("/conversations/{conversation_id:int}/assign", sync_to_thread=True, status_code=200)
    def assign(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        data: JSONBody[AssignBody],
    ) -> ConversationDetail:
        """Give a conversation to an agent (admin; an agent may only claim)."""
        inbox = _readable(request, principal, conversation_id)
        if data.agent_id == principal.agent_id:
            conversation = inbox.conversation(conversation_id)
            if conversation.assignee_id is None:
                return inbox.claim(conversation_id, principal.agent_id)
        require_admin(principal)
        return inbox.transfer(conversation_id, principal.agent_id, data.agent_id)

    @post("/conversations/{conversation_id:int}/transfer", sync_to_thread=True, status_code=200)
    def transfer(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        data: JSONBody[TransferBody],
    ) -> ConversationDetail:
        """Hand a conversation to another agent with a note (owner or admin; the
        owner only within the conversation's team)."""
        return _readable(request, principal, conversation_id).transfer(
            conversation_id, principal.agent_id, data.to_agent_id, data.note or None
        )

    @post("/conversations/{conversation_id:int}/release", sync_to_thread=True, status_code=200)
    def release(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        data: JSONBody[ReleaseBody | None] = None,
    ) -> ConversationDetail:
        """Give a conversation back to the queue (owner or admin)."""
        note = data.note if data else None
        return _readable(request, principal, conversation_id).release(
            conversation_id, principal.agent_id, note or None
        )

    @post("/conversations/{conversation_id:int}/reply", sync_to_thread=True, status_code=201)
    def reply(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        data: JSONBody[ReplyBody],
    ) -> StoredMessage:
        """Send the owner's reply: free ``text``, or ``suggestion_id`` alone (accept)
        or with ``text`` (edit). 409 when the conversation moved on since
        ``last_seen_message_id`` or the lead opted out; 422 when the 24-hour window
        is closed; 502 when WhatsApp refused it (the message is kept as failed)."""
        return _readable(request, principal, conversation_id).reply(
            conversation_id,
            principal.agent_id,
            data.text,
            last_seen_message_id=data.last_seen_message_id,
            suggestion_id=data.suggestion_id,
        )

    @post(
        "/conversations/{conversation_id:int}/suggestions/{suggestion_id:int}/reject",
        sync_to_thread=True,
        status_code=200,
    )
    def reject(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        suggestion_id: Id,
        data: JSONBody[RejectBody | None] = None,
    ) -> Suggestion:
        """Discard the copilot's suggestion, with an optional reason."""
        inbox = _readable(request, principal, conversation_id)
        if not any(s.id == suggestion_id for s in inbox.suggestions(conversation_id)):
            raise NotFoundError(f"no suggestion {suggestion_id} in conversation {conversation_id}")
        reason = data.reason if data else None
        return inbox.reject_suggestion(suggestion_id, principal.agent_id, reason or None)

    @get("/conversations/{conversation_id:int}/notes", sync_to_thread=True)
    def list_notes(
        self, request: Request, principal: NamedDependency[Principal], conversation_id: Id
    ) -> list[Note]:
        """Internal notes, oldest first."""
        return _readable(request, principal, conversation_id).notes(conversation_id)

    @post("/conversations/{conversation_id:int}/notes", sync_to_thread=True, status_code=201)
    def add_note(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        data: JSONBody[NoteBody],
    ) -> Note:
        """Add an internal note (never sent to the lead)."""
        inbox = _inbox(request)
        access.require_write(inbox.conn, principal, conversation_id)
        return inbox.add_note(conversation_id, principal.agent_id, data.text)

    @post("/conversations/{conversation_id:int}/tags", sync_to_thread=True, status_code=200)
    def set_tags(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        data: JSONBody[TagsBody],
    ) -> list[str]:
        """Add and remove tags; returns the conversation's tags."""
        inbox = _inbox(request)
        access.require_write(inbox.conn, principal, conversation_id)
        return inbox.set_tags(conversation_id, data.add, data.remove, agent_id=principal.agent_id)

    @post("/conversations/{conversation_id:int}/stage", sync_to_thread=True, status_code=200)
    def move_stage(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        data: JSONBody[StageBody],
    ) -> ConversationDetail:
        """Move the conversation to a pipeline stage (owner or admin)."""
        inbox = _inbox(request)
        access.require_manage(inbox.conn, principal, conversation_id)
        return inbox.move_stage(
            conversation_id,
            data.stage,
            agent_id=principal.agent_id,
            lost_reason=data.lost_reason,
            note=data.note or None,
        )

    @post("/conversations/{conversation_id:int}/close", sync_to_thread=True, status_code=200)
    def close_conversation(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        data: JSONBody[CloseBody],
    ) -> ConversationDetail:
        """Close the conversation with an outcome (owner or admin); it stops its
        SLA timer and reopens when the lead writes again."""
        inbox = _inbox(request)
        access.require_manage(inbox.conn, principal, conversation_id)
        return inbox.close_conversation(
            conversation_id,
            data.outcome,
            agent_id=principal.agent_id,
            lost_reason=data.lost_reason,
            note=data.note or None,
        )

    @post("/conversations/{conversation_id:int}/snooze", sync_to_thread=True, status_code=200)
    def snooze_conversation(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        data: JSONBody[SnoozeBody],
    ) -> ConversationDetail:
        """Put the conversation aside until a time (owner or admin); it comes back
        open then, or when the lead writes."""
        inbox = _inbox(request)
        access.require_manage(inbox.conn, principal, conversation_id)
        if data.until.tzinfo is None:
            raise InvalidInput("until needs a time zone, e.g. 2026-12-01T09:00:00-05:00")
        return inbox.snooze(
            conversation_id, data.until, agent_id=principal.agent_id, note=data.note or None
        )

    @post("/conversations/{conversation_id:int}/suggest", sync_to_thread=True, status_code=200)
    def suggest_again(
        self, request: Request, principal: NamedDependency[Principal], conversation_id: Id
    ) -> Suggestion | None:
        """Ask the copilot for a fresh suggestion on the lead's latest message
        (null when it proposes nothing)."""
        inbox = _inbox(request)
        access.require_write(inbox.conn, principal, conversation_id)
        return inbox.suggest_again(conversation_id, agent_id=principal.agent_id)

    @post("/conversations/{conversation_id:int}/reopen", sync_to_thread=True, status_code=200)
    def reopen_conversation(
        self, request: Request, principal: NamedDependency[Principal], conversation_id: Id
    ) -> ConversationDetail:
        """Reopen a closed conversation."""
        inbox = _inbox(request)
        access.require_manage(inbox.conn, principal, conversation_id)
        return inbox.reopen_conversation(conversation_id, agent_id=principal.agent_id)

    # --- tasks -------------------------------------------------------------------

    @post("/conversations/{conversation_id:int}/tasks", sync_to_thread=True, status_code=201)
    def create_task(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        conversation_id: Id,
        data: JSONBody[TaskBody],
    ) -> Task:
        """A custom task (call back, send the quote...) with a due time, for an
        agent who may open the conversation (default: its owner)."""
        inbox = _inbox(request)
        scope = access.require_write(inbox.conn, principal, conversation_id)
        if data.owner_id is not None:
            owner = access.actor_of_agent(inbox.conn, data.owner_id)
            if not access.can_own_task(owner, scope):
                raise PermissionDenied(
                    f"agent {data.owner_id} may not open conversation {conversation_id}"
                )
        due = data.due_at if data.due_at.tzinfo else data.due_at.replace(tzinfo=UTC)
        return inbox.create_task(
            conversation_id,
            data.title,
            due,
            owner_id=data.owner_id,
            by_agent_id=principal.agent_id,
        )

    @get("/tasks", sync_to_thread=True)
    def list_tasks(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        mine: FromQuery[bool] = True,
        task_state: Annotated[
            Literal["pending", "fired", "done", "cancelled", "any"], QueryParameter(name="state")
        ] = "pending",
        conversation_id: Annotated[int | None, Parameter(ge=1, le=2**62)] = None,
    ) -> list[Task]:
        """Tasks by due time: the caller's (``mine``, default) or everyone's, in
        the conversations the caller may open."""
        inbox = _inbox(request)
        if conversation_id is not None:
            access.require_read(inbox.conn, principal, conversation_id)
        return inbox.tasks(
            conversation_id=conversation_id,
            owner_id=principal.agent_id if mine else None,
            state=None if task_state == "any" else task_state,
            visible_to=principal,
        )

    @post("/tasks/{task_id:int}/done", sync_to_thread=True, status_code=200)
    def task_done(
        self, request: Request, principal: NamedDependency[Principal], task_id: Id
    ) -> Task:
        """Mark a task done (its owner, the conversation's owner or an admin)."""
        return self._close_task(request, principal, task_id, cancel=False)

    @post("/tasks/{task_id:int}/cancel", sync_to_thread=True, status_code=200)
    def task_cancel(
        self, request: Request, principal: NamedDependency[Principal], task_id: Id
    ) -> Task:
        """Cancel a task (its owner, the conversation's owner or an admin)."""
        return self._close_task(request, principal, task_id, cancel=True)

    @staticmethod
    def _close_task(
        request: Request, principal: NamedDependency[Principal], task_id: int, cancel: bool
    ) -> Task:
        inbox = _inbox(request)
        task = inbox.task(task_id)
        scope = access.require_read(inbox.conn, principal, task.conversation_id)
        if not access.can_close_task(principal, scope, task.owner_id):
            raise PermissionDenied(f"task {task_id} is not yours")
        return inbox.close_task(task_id, agent_id=principal.agent_id, cancel=cancel)

    # --- agents and metrics ------------------------------------------------------

    @get("/me", sync_to_thread=True)
    def me(self, request: Request, principal: NamedDependency[Principal]) -> Agent:
        """The calling agent."""
        return _inbox(request).agent(principal.agent_id)

    @post("/me/availability", sync_to_thread=True, status_code=200)
    def availability(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        data: JSONBody[AvailabilityBody],
    ) -> Agent:
        """Go online (serves the queue) or offline."""
        return _inbox(request).set_availability(principal.agent_id, data.available)

    @get("/agents", sync_to_thread=True)
    def list_agents(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        team: Annotated[str | None, Parameter(max_length=100)] = None,
    ) -> list[Agent]:
        """The agents the caller may see (an admin: all; an agent: their team and
        the admins), or those of one team (another team's: admins only)."""
        return _inbox(request).agents(team, visible_to=principal)

    @post("/agents", sync_to_thread=True, status_code=201)
    def create_agent(
        self, request: Request, principal: NamedDependency[Principal], data: JSONBody[AgentBody]
    ) -> NewAgent:
        """Create an agent (admin). The token is in this answer only."""
        require_admin(principal)
        agent, token = _inbox(request).create_agent(
            data.name, data.team, data.role, available=data.available
        )
        return NewAgent(agent=agent, token=token)

    @get("/metrics", sync_to_thread=True)
    def metrics(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        start: FromQuery[datetime | None] = None,
        end: FromQuery[datetime | None] = None,
        business_hours_only: FromQuery[bool] = False,
    ) -> MetricsReport:
        """First response times, funnel, handoffs, suggestions and templates over
        ``[start, end)`` (default: the last 7 days), over the conversations the
        caller may open (an admin: all)."""
        end = _aware(end) if end else datetime.now(UTC)
        start = _aware(start) if start else end - timedelta(days=7)
        if start >= end:
            raise ValueError("start must be before end")
        return _inbox(request).metrics(
            start, end, business_hours_only=business_hours_only, visible_to=principal
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
