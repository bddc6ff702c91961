"""Label corrections: an agent says what the copilot got wrong about a lead's message.

A correction keeps, for one inbound message, the labels the agent corrected
(intent, origin, handoff, qualification fields) beside what the copilot predicted
when the agent corrected them. It changes nothing else in the inbox: it is the
raw material of the evals' data flywheel (``evals/flywheel.py`` exports it as
candidate eval cases, reviewed by a person before they join a dataset).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from copilot.inbox.assignment import AssignmentMixin
from copilot.inbox.errors import InvalidInput, NotFoundError
from copilot.inbox.models import from_epoch, to_epoch
from copilot.inbox.store import actor_of
from copilot.taxonomy import Direction, HandoffReason, Intent, NextStep, Origin, TimelineBucket

_Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
_Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
KeyTerms = list[_Term] | _Term | None


class BudgetValue(BaseModel):
    """A corrected budget: an amount (optional) in an ISO 4217 currency."""

    model_config = ConfigDict(extra="forbid")

    amount: float | None = Field(None, ge=0)
    currency: str = Field(..., pattern=r"^[A-Z]{3}$")


class FieldCorrections(BaseModel):
    """Corrected qualification fields, named as in the ``fields`` eval datasets.
    Only the keys given are corrections; ``None`` means "this must stay empty"."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    need: KeyTerms = None
    timeline_bucket: TimelineBucket | None = None
    prior_solution: KeyTerms = None
    pain: KeyTerms = None
    next_step: NextStep | None = None
    budget: BudgetValue | None = None
    name: _Value | None = None
    email: _Value | None = None
    phone: _Value | None = None
    company: _Value | None = None
    city: _Value | None = None

    def given(self) -> dict[str, Any]:
        """The corrected keys and their values, as plain JSON."""
        return self.model_dump(mode="json", include=self.model_fields_set)


class Correction(BaseModel):
    """One stored correction: what the copilot predicted and what the agent says,
    with the same keys (``intent``, ``origin``, ``handoff``, ``fields``)."""

    id: int
    message_id: str
    conversation_id: int
    agent_id: int
    analysis_id: int | None = None
    predicted: dict[str, Any]
    corrected: dict[str, Any]
    created_at: datetime


def _field_prediction(stored: dict[str, Any], name: str) -> Any:
    """A stored qualification field (a FieldValue dump) as a ``fields`` gold value."""
    if name == "timeline_bucket":
        value = (stored.get("timeline") or {}).get("value")
        return value.get("bucket") if isinstance(value, dict) else None
    value = (stored.get(name) or {}).get("value")
    if name == "budget" and isinstance(value, dict):
        return {"amount": value.get("amount"), "currency": value.get("currency")}
    if isinstance(value, dict):  # a timeline-like value: keep its words
        return value.get("text")
    return value


class CorrectionsMixin(AssignmentMixin):
    """Label corrections by agents."""

    def correct_label(
        self,
        message_id: str,
        agent_id: int,
        *,
        intent: Intent | str | None = None,
        origin: Origin | str | None = None,
        handoff_needed: bool | None = None,
        handoff_reason: HandoffReason | str | None = None,
        fields: FieldCorrections | dict[str, Any] | None = None,
    ) -> Correction:
        """Record that the agent corrects the labels of inbound message ``message_id``.

        Give at least one of ``intent``, ``origin``, ``handoff_needed`` /
        ``handoff_reason`` (a reason alone means a handoff was needed) and
        ``fields`` (field name -> corrected value, ``None`` = must stay empty).
        The copilot's prediction at this moment is stored beside it, and the
        correction is audited. Only the conversation's owner or an admin may do
        it (:class:`PermissionDenied`); an unknown message raises
        :class:`NotFoundError`, a bad label or an outbound message :class:`InvalidInput`.
        """
        corrected = self._corrected(intent, origin, handoff_needed, handoff_reason, fields)
        now = self._now()
        with self._tx() as conn:
            message = self._row(
                "SELECT id, conversation_id, direction FROM messages WHERE wa_id = ?",
                (message_id,),
            )
            if message is None:
                raise NotFoundError(f"no message {message_id!r}")
            conv = self._conversation_row(message["conversation_id"])
            self._owner_or_admin(conv, agent_id)
            if message["direction"] != Direction.INBOUND.value:
                raise InvalidInput(f"message {message_id!r} is not a lead's message")
            analysis = self._row(
                "SELECT id, result FROM analyses WHERE message_seq = ? ORDER BY id DESC LIMIT 1",
                (message["id"],),
            )
            predicted = self._predicted(corrected, analysis, conv)
            cur = conn.execute(
                "INSERT INTO corrections (message_id, conversation_id, agent_id, analysis_id,"
                " predicted, corrected, created_at) VALUES (?,?,?,?,?,?,?)",
                (
                    message_id,
                    conv["id"],
                    agent_id,
                    analysis["id"] if analysis else None,
                    json.dumps(predicted, ensure_ascii=False),
                    json.dumps(corrected, ensure_ascii=False),
                    now,
                ),
            )
            correction_id = cur.lastrowid
            self._audit(
                actor_of(agent_id),
                "label_correction",
                "message",
                message_id,
                correction=correction_id,
                predicted=predicted,
                corrected=corrected,
            )
        return self._correction(
            self._row("SELECT * FROM corrections WHERE id = ?", (correction_id,))
        )

    @staticmethod
    def _corrected(
        intent: Intent | str | None,
        origin: Origin | str | None,
        handoff_needed: bool | None,
        handoff_reason: HandoffReason | str | None,
        fields: FieldCorrections | dict[str, Any] | None,
    ) -> dict[str, Any]:
        """The corrections as plain JSON, validated against the taxonomy."""
        out: dict[str, Any] = {}
        try:
            if intent is not None:
                out["intent"] = Intent(intent).value
            if origin is not None:
                out["origin"] = Origin(origin).value
            reason = HandoffReason(handoff_reason).value if handoff_reason is not None else None
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        if handoff_needed is False and reason is not None:
            raise InvalidInput("a handoff reason only goes with handoff_needed=true")
        if handoff_needed is not None or reason is not None:
            out["handoff"] = {"needed": True if handoff_needed is None else handoff_needed}
            out["handoff"]["reason"] = reason
        if fields is not None:
            try:
                given = (
                    fields if isinstance(fields, FieldCorrections) else FieldCorrections(**fields)
                ).given()
            except (ValidationError, TypeError) as exc:
                raise InvalidInput(f"bad field correction: {exc}") from None
            if given:
                out["fields"] = given
        if not out:
            raise InvalidInput("nothing to correct: give an intent, origin, handoff or fields")
        return out

    @staticmethod
    def _predicted(
        corrected: dict[str, Any], analysis: dict[str, Any] | None, conv: dict[str, Any]
    ) -> dict[str, Any]:
        """What the copilot said about the corrected labels (``None`` when unknown)."""
        result = json.loads(analysis["result"]) if analysis else {}
        out: dict[str, Any] = {}
        if "intent" in corrected:
            out["intent"] = (result.get("intent") or {}).get("label")
        if "origin" in corrected:
            # The conversation's origin is what the agent saw (decided on the first message).
            out["origin"] = conv["origin"]
        if "handoff" in corrected:
            handoff = result.get("handoff") or {}
            out["handoff"] = (
                {"needed": bool(handoff.get("needed")), "reason": handoff.get("reason")}
                if analysis
                else None
            )
        if "fields" in corrected:
            stored = json.loads(conv["fields"] or "{}")
            out["fields"] = {name: _field_prediction(stored, name) for name in corrected["fields"]}
        return out

    @staticmethod
    def _correction(row: dict[str, Any]) -> Correction:
        return Correction.model_validate(
            {
                **row,
                "predicted": json.loads(row["predicted"] or "{}"),
                "corrected": json.loads(row["corrected"]),
                "created_at": from_epoch(row["created_at"]),
            }
        )

    def corrections(
        self,
        *,
        conversation_id: int | None = None,
        message_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Correction]:
        """Stored corrections, oldest first (of one conversation or message, in a
        time range)."""
        where, params = ["1 = 1"], []
        if message_id is not None:
            where.append("message_id = ?")
            params.append(message_id)
        if conversation_id is not None:
            where.append("conversation_id = ?")
            params.append(conversation_id)
        if since is not None:
            where.append("created_at >= ?")
            params.append(to_epoch(since))
        if until is not None:
            where.append("created_at < ?")
            params.append(to_epoch(until))
        rows = self._rows(
            f"SELECT * FROM corrections WHERE {' AND '.join(where)} ORDER BY id", tuple(params)
        )
        return [self._correction(r) for r in rows]
