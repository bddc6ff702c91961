"""Ingest: store every message first, then let the copilot and the automations act.

``ingest`` commits the message (and the conversation's list columns) in its own
transaction before anything else runs, so once it returns, or even once that
first commit is done, the message survives a crash. Analysis, stage, assignment
and suggestion follow in a second transaction; if the analyser raises, the message
stays with ``analysis_state = 'failed'`` and :meth:`retry_pending` picks it up.
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from copilot.inbox.errors import InvalidInput
from copilot.inbox.models import IngestResult, StoredMessage, from_epoch, to_epoch
from copilot.inbox.store import InboxStore
from copilot.models import Analysis, Contact, Conversation, Message
from copilot.profile import BusinessProfile
from copilot.taxonomy import (
    Author,
    DeliveryStatus,
    Direction,
    Intent,
    MessageType,
    Origin,
    Stage,
)
from copilot.window import closes_at

_STATUS_RANK = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.OUTBOX: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
    DeliveryStatus.PLAYED: 5,
    DeliveryStatus.FAILED: 6,
}
#: Conversations whose recent messages are kept in memory between ingests.
_CONTEXT_CACHE = 5000
_AUTO_TASKS = "('soft_followup', 'proposal_followup', 'reactivation')"

_CONTACT_KEYS = ("id", "wa_id", "user_id", "name", "username", "opted_out")
_HEAD_CONVERSATION_KEYS = (
    "id",
    "last_message_at",
    "waiting_since",
    "last_human_at",
    "first_inbound_at",
    "stage",
    "lost_reason",
    "human_took_over",
    "last_seq",
    "status",
)
#: The contact and its conversation's clocks, read in one query when a message arrives.
_HEAD_SQL = (
    "SELECT ct.id, ct.wa_id, ct.user_id, ct.name, ct.username, ct.opted_out, c.id,"
    " c.last_message_at, c.waiting_since, c.last_human_at, c.first_inbound_at, c.stage,"
    " c.lost_reason, c.human_took_over, c.last_seq, c.status"
    " FROM contacts ct LEFT JOIN conversations c ON c.contact_id = ct.id WHERE "
)
#: The conversation columns the analysis transaction decides on.
_SNAPSHOT_KEYS = (
    "stage",
    "fields",
    "origin",
    "origin_source",
    "tags",
    "last_inbound_at",
    "suggestions_paused",
    "contact_id",
    "assignee_id",
    "team_id",
)
_SNAPSHOT_COLUMNS = ", ".join(_SNAPSHOT_KEYS)
_SNAPSHOT_COLUMNS_C = ", ".join(f"c.{k}" for k in _SNAPSHOT_KEYS)
_SNAPSHOT_GUARD = "".join(f" AND {k} IS ?" for k in _SNAPSHOT_KEYS) + (
    " AND (SELECT opted_out FROM contacts WHERE id = contact_id) IS ?"
)
_DIRECTIONS = {d.value: d for d in Direction}
_AUTHORS = {a.value: a for a in Author}
_TYPES = {t.value: t for t in MessageType}
_SET_FIELDS = frozenset(("id", "direction", "author", "type", "text", "timestamp"))
_FAST_FIELDS = (*_SET_FIELDS, "referral", "context", "media", "payload", "status")
#: The unvalidated build below knows Message's fields; a changed model falls back to validation.
_FAST = set(Message.model_fields) == set(_FAST_FIELDS)
_new = object.__new__
_set = object.__setattr__


def _stored_message(
    wa_id: str, direction: str, author: str, mtype: str | None, text: str | None, ts: float
) -> Message:
    """A :class:`Message` from a stored row without extras, built without validation
    (what ``model_construct`` does, minus its generic overhead): the row was
    validated when it was stored, and the context is rebuilt on most ingests."""
    message = _new(Message)
    _set(
        message,
        "__dict__",
        {
            "id": wa_id,
            "direction": _DIRECTIONS[direction],
            "author": _AUTHORS[author],
            "type": _TYPES[mtype or "text"],
            "text": text,
            "timestamp": from_epoch(ts),
            "referral": None,
            "context": None,
            "media": None,
            "payload": None,
            "status": None,
        },
    )
    _set(message, "__pydantic_fields_set__", set(_SET_FIELDS))
    _set(message, "__pydantic_extra__", None)
    _set(message, "__pydantic_private__", None)
    return message


@runtime_checkable
class Analyzer(Protocol):
    """What the inbox needs from the copilot: :class:`copilot.Copilot` is one."""

    profile: BusinessProfile

    def analyze(self, conversation: Conversation, now: datetime | None = None) -> Analysis:
        """Analyse the latest inbound message of ``conversation``."""
        ...


def local_message_id() -> str:
    """A unique id for an outbound message not (yet) accepted by WhatsApp."""
    return f"local-{uuid.uuid4().hex}"


class IngestMixin(InboxStore):
    """Ingest, delivery statuses and analysis retries."""

    analyzer: Analyzer

    @property
    def _context(self) -> OrderedDict[int, tuple[int, list[Message]]]:
        # conversation id -> (last_seq the messages reflect, recent messages)
        cache = self.__dict__.get("_context_cache")
        if cache is None:
            cache = self.__dict__["_context_cache"] = OrderedDict()
        return cache

    # --- contacts -----------------------------------------------------------

    def _contact_and_conversation(
        self, contact: Contact, now: float
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Find or create the contact, with its conversation's clocks when it has one,
        in one query. Returns (contact row, conversation row or None)."""
        row = None
        if contact.wa_id:
            row = self.conn.execute(_HEAD_SQL + "ct.wa_id = ?", (contact.wa_id,)).fetchone()
        if row is None and contact.user_id:
            row = self.conn.execute(_HEAD_SQL + "ct.user_id = ?", (contact.user_id,)).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO contacts (wa_id, user_id, name, username, created_at)"
                " VALUES (?,?,?,?,?)",
                (contact.wa_id, contact.user_id, contact.name, contact.username, now),
            )
            head = {
                "id": cur.lastrowid,
                "wa_id": contact.wa_id,
                "user_id": contact.user_id,
                "name": contact.name,
                "opted_out": 0,
            }
            return head, None
        head = dict(zip(_CONTACT_KEYS, row[: len(_CONTACT_KEYS)], strict=True))
        conv = row[len(_CONTACT_KEYS) :]
        changes = {}
        for key in ("wa_id", "user_id", "name", "username"):
            value = getattr(contact, key)
            if value and value != head[key] and (key in ("name", "username") or not head[key]):
                changes[key] = value
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            self.conn.execute(
                f"UPDATE contacts SET {sets} WHERE id = ?", (*changes.values(), head["id"])
            )
            head.update(changes)
        if conv[0] is None:
            return head, None
        return head, dict(zip(_HEAD_CONVERSATION_KEYS, conv, strict=True))

    def set_consent(
        self, contact_id: int, category: str, opted_in: bool, source: str | None = None
    ) -> None:
        """Record a contact's opt-in (or withdrawal) for one Meta category."""
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO consents (contact_id, category, opted_in, source, at)"
                " VALUES (?,?,?,?,?)",
                (contact_id, category, int(opted_in), source, self._now()),
            )
            self._audit(
                "system",
                "consent",
                "contact",
                contact_id,
                category=category,
                opted_in=opted_in,
                source=source,
            )

    def consents(self, contact_id: int) -> list[dict[str, Any]]:
        """A contact's opt-ins per category, with source and time."""
        rows = self._rows("SELECT * FROM consents WHERE contact_id = ?", (contact_id,))
        return [{**r, "opted_in": bool(r["opted_in"]), "at": from_epoch(r["at"])} for r in rows]

    def set_opted_out(self, contact_id: int, opted_out: bool, *, actor: str = "system") -> None:
        """Set (or clear, when the lead opts back in) a contact's opted-out flag."""
        with self._tx():
            self._mark_opted_out(contact_id, opted_out, actor)

    def _mark_opted_out(self, contact_id: int, opted_out: bool, actor: str) -> None:
        now = self._now()
        cur = self.conn.execute(
            "UPDATE contacts SET opted_out = ?, opted_out_at = ? WHERE id = ? AND opted_out != ?",
            (int(opted_out), now if opted_out else None, contact_id, int(opted_out)),
        )
        if cur.rowcount:
            self._audit(actor, "opt_out" if opted_out else "opt_in", "contact", contact_id)
            if opted_out:
                self.conn.execute(
                    "UPDATE tasks SET state = 'cancelled', closed_at = ? WHERE state = 'pending'"
                    f" AND kind IN {_AUTO_TASKS} AND conversation_id IN"
                    " (SELECT id FROM conversations WHERE contact_id = ?)",
                    (now, contact_id),
                )

    # --- ingest ---------------------------------------------------------------

    def ingest(
        self,
        contact: Contact,
        message: Message,
        *,
        backfill: bool = False,
        raw: dict[str, Any] | str | None = None,
    ) -> IngestResult:
        """Store ``message`` from/to ``contact``, then analyse, stage, assign and schedule.

        Idempotent: a message id already stored returns ``duplicate=True`` and does
        nothing else. ``backfill=True`` (history import) stores without any
        automation. Outbound ``phone_echo`` / ``agent`` messages count as a
        person's answer: they stop the SLA clock and pause suggestions until the
        lead writes again. ``raw`` keeps the provider's payload beside the message.
        """
        if not (contact.wa_id or contact.user_id):
            raise InvalidInput("the contact needs a wa_id or a user_id")
        if message.direction is Direction.INBOUND and message.author is not Author.LEAD:
            raise InvalidInput(f"an inbound message is written by the lead, not {message.author}")
        if message.direction is Direction.OUTBOUND and message.author is Author.LEAD:
            raise InvalidInput("an outbound message cannot be written by the lead")
        stored = self._store(contact, message, backfill, raw)
        if isinstance(stored, IngestResult):
            return stored
        conversation_id, contact_id, seq, head = stored
        result = IngestResult(
            message_id=message.id,
            conversation_id=conversation_id,
            contact_id=contact_id,
            backfill=backfill,
        )
        if backfill or message.direction is Direction.OUTBOUND:
            return result
        return self._analyse(result, seq, message.timestamp, head)

    def _store(
        self, contact: Contact, message: Message, backfill: bool, raw: Any
    ) -> IngestResult | tuple[int, int, int, dict[str, Any]]:
        conn = self.conn
        now = self._now()
        ts = to_epoch(message.timestamp)
        inbound = message.direction is Direction.INBOUND
        analyse = inbound and not backfill
        extra = {
            key: value
            for key in ("referral", "context", "media", "payload")
            if (value := getattr(message, key)) is not None
        }
        with self._tx():
            head, conv = self._contact_and_conversation(contact, now)
            contact_id = head["id"]
            if conv is None:
                cur = conn.execute(
                    "INSERT INTO conversations (contact_id, status, stage, created_at, updated_at)"
                    " VALUES (?, 'open', 'new', ?, ?)",
                    (contact_id, min(ts, now), now),
                )
                conv = {
                    "id": cur.lastrowid,
                    "last_message_at": None,
                    "waiting_since": None,
                    "last_human_at": None,
                    "first_inbound_at": None,
                    "stage": Stage.NEW.value,
                    "lost_reason": None,
                    "human_took_over": 0,
                    "last_seq": 0,
                }
            cid = conv["id"]
            cur = conn.execute(
                "INSERT OR IGNORE INTO messages (wa_id, conversation_id, direction, author,"
                " agent_id, type, text, ts, extra, raw, status, backfill, analysis_state,"
                " created_at) VALUES (?,?,?,?,NULL,?,?,?,?,?,?,?,?,?)",
                (
                    message.id,
                    cid,
                    message.direction.value,
                    message.author.value,
                    message.type.value,
                    message.text,
                    ts,
                    json.dumps(
                        {
                            k: v.model_dump(exclude_none=True) if hasattr(v, "model_dump") else v
                            for k, v in extra.items()
                        },
                        ensure_ascii=False,
                    )
                    if extra
                    else None,
                    raw
                    if isinstance(raw, str) or raw is None
                    else json.dumps(raw, ensure_ascii=False),
                    message.status.value if message.status else (None if inbound else "sent"),
                    int(backfill),
                    "pending" if analyse else None,
                    now,
                ),
            )
            if cur.rowcount != 1:
                # Already stored (a redelivery, or another process won the race): undo
                # everything this transaction did, including a contact it created.
                conn.execute("ROLLBACK")
                return self._duplicate(message.id, backfill)
            seq = cur.lastrowid
            after = self._after_store(conv, seq, message, ts, inbound, backfill, now)
            head.update(
                stage=conv["stage"],
                lost_reason=conv["lost_reason"],
                human_took_over=conv["human_took_over"],
                previous_seq=conv["last_seq"],
                message=message,
            )
            if analyse:
                # The conversation as it is after this message, for the analysis
                # transaction (which re-reads it only if someone changed it meanwhile).
                head["after"] = {**after, "opted_out": head["opted_out"]}
                try:
                    # Read the copilot's context under the lock this transaction
                    # already holds: no separate read transaction afterwards.
                    head["conversation"] = self._conversation_for(cid, seq, ts, head)
                except Exception:  # never lose the message over its context: retried below
                    head["conversation"] = None
        if not analyse:
            self._context.pop(cid, None)
        return cid, contact_id, seq, head

    def _duplicate(self, message_id: str, backfill: bool) -> IngestResult:
        row = self._row(
            "SELECT m.conversation_id, c.contact_id FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id WHERE m.wa_id = ?",
            (message_id,),
        )
        return IngestResult(message_id=message_id, duplicate=True, backfill=backfill, **row)

    def _after_store(
        self,
        conv: dict,
        seq: int,
        message: Message,
        ts: float,
        inbound: bool,
        backfill: bool,
        now: float | None = None,
    ) -> dict[str, Any]:
        """Update the conversation's list columns and clocks for a stored message, in
        one UPDATE. For an inbound message to analyse, returns the columns the
        analysis needs as they are after the update (``RETURNING``), else ``{}``."""
        cid = conv["id"]
        is_latest = conv["last_message_at"] is None or ts >= conv["last_message_at"]
        sets = ["updated_at = ?"]
        params: list[Any] = [self._now() if now is None else now]
        if is_latest:
            sets += [
                "last_message_id = ?",
                "last_message_at = ?",
                "last_message_text = ?",
                "last_message_direction = ?",
            ]
            params += [
                message.id,
                ts,
                (message.text or f"[{message.type.value}]")[:200],
                message.direction.value,
            ]
        if not backfill:
            sets.append("last_seq = ?")
            params.append(seq)
        returning = ""
        if inbound:
            sets.append("last_inbound_at = MAX(COALESCE(last_inbound_at, 0), ?)")
            params.append(ts)
            if message.type is not MessageType.SYSTEM:
                # A system notice (a changed number) is not the lead writing: it
                # opens no window, as in the conversation state.
                sets.append("window_closes_at = MAX(COALESCE(window_closes_at, 0), ?)")
                params.append(closes_at(ts))
            if not backfill:
                sets += ["status = 'open'", "suggestions_paused = 0"]
                if conv.get("status", "open") != "open":
                    # The lead wrote to a closed or snoozed conversation: it is
                    # open again, and its history says who reopened it.
                    sets += ["outcome = NULL", "snoozed_until = NULL"]
                    self._history(
                        "stage_history", cid, "lead", "reopen", conv["status"], "open", None, now
                    )
                if conv["first_inbound_at"] is None or ts < conv["first_inbound_at"]:
                    # Only when it moves: the column is indexed (metrics by date).
                    sets.append("first_inbound_at = ?")
                    params.append(ts)
                # The SLA clock starts at the oldest message nobody answered yet; a
                # late-delivered message older than the last human answer does not restart it.
                after_answer = ts > (conv["last_human_at"] or 0)
                if after_answer and (conv["waiting_since"] is None or ts < conv["waiting_since"]):
                    sets.append("waiting_since = ?")
                    params.append(ts)
                # Automatic follow-ups are only ever scheduled when a person answers,
                # which sets last_human_at: without one there is nothing to cancel.
                if conv["last_human_at"] is not None:
                    self.conn.execute(
                        "UPDATE tasks SET state = 'cancelled', closed_at = ?"
                        " WHERE conversation_id = ? AND state = 'pending'"
                        f" AND kind IN {_AUTO_TASKS}",
                        (params[0], cid),
                    )
                returning = f" RETURNING {_SNAPSHOT_COLUMNS}"
        else:
            sets.append("last_outbound_at = MAX(COALESCE(last_outbound_at, 0), ?)")
            params.append(ts)
            human = message.author in (Author.AGENT, Author.PHONE_ECHO)
            if human and not backfill:
                self._human_answered(cid, conv, ts, None, message.author, sets, params)
        cur = self.conn.execute(
            f"UPDATE conversations SET {', '.join(sets)} WHERE id = ?{returning}", (*params, cid)
        )
        if not returning:
            return {}
        row = cur.fetchall()[0]
        return dict(zip(_SNAPSHOT_KEYS, row, strict=True))

    def _human_answered(
        self,
        cid: int,
        conv: dict,
        ts: float,
        agent_id: int | None,
        author: Author,
        sets: list[str],
        params: list[Any],
    ) -> None:
        """A person answered at ``ts``: stop the SLA clock, count the first response,
        pause suggestions (phone echoes) and schedule the follow-ups."""
        sets += [
            "last_human_at = MAX(COALESCE(last_human_at, 0), ?)",
            "human_took_over = 1",
            "handoff_needed = 0",
        ]
        params.append(ts)
        if conv["waiting_since"] is not None and ts >= conv["waiting_since"]:
            sets.append("waiting_since = NULL")
        if conv["first_inbound_at"] is not None:
            sets += [
                "first_response_by = CASE WHEN first_response_at IS NULL THEN ?"
                " ELSE first_response_by END",
                "first_response_at = COALESCE(first_response_at, ?)",
            ]
            params += [agent_id, ts]
        if author is Author.PHONE_ECHO:
            sets.append("suggestions_paused = 1")
            self.conn.execute(
                "UPDATE suggestions SET state = 'superseded', decided_at = ?"
                " WHERE conversation_id = ? AND state = 'proposed'",
                (self._now(), cid),
            )
        self._schedule_followups(cid, ts)  # type: ignore[attr-defined]

    # --- analysis -----------------------------------------------------------------

    def _conversation_for(
        self, cid: int, seq: int, ts: float, head: dict[str, Any] | None = None
    ) -> Conversation:
        """The conversation as the copilot reads it: the recent messages up to and
        including message ``seq``, with the stage and flags (``head``, when the
        caller already has them)."""
        cached = self._context.get(cid)
        if (
            head is not None
            and cached is not None
            and cached[0] == head["previous_seq"]
            and cached[1][-1].timestamp <= head["message"].timestamp
        ):
            # Nothing was stored in this conversation since the cached context was
            # built (its last_seq is unchanged): append instead of re-reading.
            keep = self.config.recent_messages - 1
            messages = [*cached[1][-keep:], head["message"]] if keep else [head["message"]]
            return self._remember(cid, seq, messages, head)
        head = head or self._row(
            "SELECT c.stage, c.lost_reason, c.human_took_over, ct.opted_out, ct.wa_id,"
            " ct.user_id, ct.name FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
            " WHERE c.id = ?",
            (cid,),
        )
        rows = self.conn.execute(
            "SELECT wa_id, direction, author, type, text, ts, extra FROM messages"
            " WHERE conversation_id = ? AND (ts < ? OR (ts = ? AND id <= ?))"
            " AND revoked_at IS NULL ORDER BY ts DESC, id DESC LIMIT ?",
            (cid, ts, ts, seq, self.config.recent_messages),
        ).fetchall()
        messages = []
        for wa_id, direction, author, mtype, text, mts, extra in reversed(rows):
            if extra or not _FAST:
                data: dict[str, Any] = {
                    "id": wa_id,
                    "direction": direction,
                    "author": author,
                    "type": mtype or "text",
                    "text": text,
                    "timestamp": from_epoch(mts),
                    **(json.loads(extra) if extra else {}),
                }
                messages.append(Message.model_validate(data))
            else:
                messages.append(_stored_message(wa_id, direction, author, mtype, text, mts))
        return self._remember(cid, seq, messages, head)

    def _remember(
        self, cid: int, seq: int, messages: list[Message], head: dict[str, Any]
    ) -> Conversation:
        """Build the Conversation and keep its messages for the next ingest."""
        self._context[cid] = (seq, messages)
        self._context.move_to_end(cid)
        if len(self._context) > _CONTEXT_CACHE:
            self._context.popitem(last=False)
        # The owner's name: the handoff notice names the person who owns the conversation.
        owner = self.conn.execute(
            "SELECT a.name FROM conversations c JOIN agents a ON a.id = c.assignee_id"
            " WHERE c.id = ?",
            (cid,),
        ).fetchone()
        return Conversation(
            id=str(cid),
            contact=Contact(wa_id=head["wa_id"], user_id=head["user_id"], name=head["name"]),
            messages=messages,
            stage=head["stage"],
            lost_reason=head["lost_reason"],
            opted_out=bool(head["opted_out"]),
            human_took_over=bool(head["human_took_over"]),
            owner_name=owner[0] if owner else None,
        )

    def _analyse(
        self, result: IngestResult, seq: int, timestamp: datetime, head: dict | None = None
    ) -> IngestResult:
        cid = result.conversation_id
        ts = to_epoch(timestamp)
        conversation = head.get("conversation") if head is not None else None
        if conversation is None:
            conversation = self._conversation_for(cid, seq, ts, head)
        try:
            analysis = self.analyzer.analyze(conversation, now=self.clock.now())
        except Exception as exc:  # any analyser fault: keep the message, retry later
            error = f"{type(exc).__name__}: {exc}"[:500]
            with self._tx() as conn:
                conn.execute("UPDATE messages SET analysis_state = 'failed' WHERE id = ?", (seq,))
                self._audit("system", "analysis_failed", "message", result.message_id, error=error)
            return result.model_copy(update={"analysis_error": error})
        with self._tx():
            snapshot = head.get("after") if head is not None else None
            return self._apply_analysis(result, seq, ts, analysis, snapshot)

    def _conversation_update(
        self, cid: int, ts: float, analysis: Analysis, intent: str | None, now: float, conv: dict
    ) -> tuple[list[str], list[Any], dict[str, Any]]:
        """The SET clause the analysis makes on the conversation (read from ``conv``),
        and the merged qualification fields."""
        # Only the analysis of the latest inbound message speaks for the conversation;
        # a retried older one only fills gaps.
        latest = ts >= (conv["last_inbound_at"] or 0)
        stored = json.loads(conv["fields"] or "{}")
        for name, value in analysis.fields.model_dump(mode="json", exclude_none=True).items():
            if latest or name not in stored:
                stored[name] = value
        sets = ["fields = ?", "updated_at = ?"]
        params: list[Any] = [json.dumps(stored, ensure_ascii=False), now]
        origin = analysis.origin
        if origin.label is not Origin.UNKNOWN and (
            conv["origin"] in (None, Origin.UNKNOWN.value)
            or (conv["origin_source"] == "text" and origin.source.value not in ("text", "none"))
        ):
            sets += ["origin = ?", "origin_source = ?", "origin_evidence = ?"]
            params += [origin.label.value, origin.source.value, (origin.evidence or "")[:500]]
        elif conv["origin"] is None:
            sets.append("origin = 'unknown'")
        if latest:
            sets += ["language = ?", "last_intent = ?", "handoff_needed = ?", "handoff_reason = ?"]
            params += [
                analysis.language.value,
                intent,
                int(analysis.handoff.needed),
                analysis.handoff.reason.value if analysis.handoff.reason else None,
            ]
        return sets, params, stored

    def _apply_analysis(
        self,
        result: IngestResult,
        seq: int,
        ts: float,
        analysis: Analysis,
        snapshot: dict[str, Any] | None = None,
    ) -> IngestResult:
        """Store the analysis and act on it (inside a transaction). ``snapshot`` is the
        conversation as the store transaction left it; it is used as is when nobody
        changed the conversation since (checked in the UPDATE), else re-read."""
        conn = self.conn
        cid = result.conversation_id
        now = self._now()
        intent = analysis.intent.label.value if analysis.intent else None
        conv = snapshot
        while True:
            if conv is None:
                conv = self._row(
                    f"SELECT {_SNAPSHOT_COLUMNS_C}, ct.opted_out FROM conversations c"
                    " JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = ?",
                    (cid,),
                )
                guard, guard_params = "", []
            else:
                # Optimistic check: the UPDATE applies only if every column the
                # decisions below read still holds what the snapshot says.
                guard = _SNAPSHOT_GUARD
                guard_params = [conv[k] for k in _SNAPSHOT_KEYS] + [conv["opted_out"]]
            sets, params, stored = self._conversation_update(cid, ts, analysis, intent, now, conv)
            # The automatic new -> qualified move rides on the same UPDATE (the guard
            # holds the stage it was decided on).
            qualified = self._qualifies(conv["stage"], set(stored))  # type: ignore[attr-defined]
            if qualified:
                sets.append("stage = 'qualified'")
            cur = conn.execute(
                f"UPDATE conversations SET {', '.join(sets)} WHERE id = ?{guard}",
                (*params, cid, *guard_params),
            )
            if cur.rowcount == 1 or not guard:
                break
            conv = None  # changed by someone else since the message was stored: re-read
        latest = ts >= (conv["last_inbound_at"] or 0)
        reply = analysis.reply
        usage = analysis.usage or {}
        cur = conn.execute(
            "INSERT INTO analyses (message_seq, message_id, conversation_id, engine,"
            " prompt_version, model, intent, handoff_needed, handoff_reason, template, result,"
            " latency_ms, tokens_in, tokens_out, cost_usd, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                seq,
                result.message_id,
                cid,
                analysis.engine,
                analysis.prompt_version,
                analysis.model,
                intent,
                int(analysis.handoff.needed),
                analysis.handoff.reason.value if analysis.handoff.reason else None,
                reply.template.value if reply else None,
                analysis.model_dump_json(exclude_defaults=True),
                analysis.latency_ms,
                usage.get("input_tokens", usage.get("prompt_tokens")),
                usage.get("output_tokens", usage.get("completion_tokens")),
                analysis.cost_usd,
                now,
            ),
        )
        analysis_id = cur.lastrowid
        conn.execute("UPDATE messages SET analysis_state = 'done' WHERE id = ?", (seq,))
        opted_out = bool(conv["opted_out"])
        if latest and intent == Intent.OPT_OUT.value:
            self._mark_opted_out(conv["contact_id"], True, "lead")
            opted_out = True
        stage = conv["stage"]
        if qualified:
            self._record_auto_qualified(cid, now)  # type: ignore[attr-defined]
            stage = Stage.QUALIFIED.value
        suggestion_id = None
        allowed = reply is not None and (
            not opted_out or reply.template.value == "opt_out_confirmation"
        )
        if latest and allowed and not conv["suggestions_paused"]:
            suggestion_id = self._propose(  # type: ignore[attr-defined]
                cid, result.message_id, analysis_id, reply.template, reply.text, reply.language
            )
        traits = {
            "origin": analysis.origin.label.value,
            "intent": intent,
            "language": analysis.language.value,
            "tags": json.loads(conv["tags"] or "[]"),
        }
        assignee = self._route_and_assign(cid, traits, conv)  # type: ignore[attr-defined]
        return result.model_copy(
            update={
                "analysed": True,
                "assignee_id": assignee,
                "suggestion_id": suggestion_id,
                "stage": Stage(stage),
            }
        )

    def analysis(self, message_id: str) -> Analysis | None:
        """The latest stored analysis of a message (None while pending)."""
        row = self._row(
            "SELECT a.result FROM analyses a JOIN messages m ON m.id = a.message_seq"
            " WHERE m.wa_id = ? ORDER BY a.id DESC LIMIT 1",
            (message_id,),
        )
        return Analysis.model_validate_json(row["result"]) if row else None

    def retry_pending(self, limit: int = 100, *, min_age_seconds: float = 0) -> int:
        """Analyse stored inbound messages whose analysis is pending or failed
        (oldest first). ``min_age_seconds`` skips messages stored more recently,
        which another process may still be analysing. Returns how many now have
        an analysis."""
        rows = self._rows(
            "SELECT m.id, m.wa_id, m.conversation_id, m.ts, c.contact_id FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.analysis_state IN ('pending', 'failed') AND m.created_at <= ?"
            " ORDER BY m.id LIMIT ?",
            (self._now() - min_age_seconds, limit),
        )
        done = 0
        for row in rows:
            result = IngestResult(
                message_id=row["wa_id"],
                conversation_id=row["conversation_id"],
                contact_id=row["contact_id"],
            )
            out = self._analyse(result, row["id"], from_epoch(row["ts"]))
            done += out.analysed
        return done

    # --- delivery statuses -----------------------------------------------------------

    def apply_status(
        self,
        message_id: str,
        status: DeliveryStatus | str,
        timestamp: datetime | None = None,
        *,
        error_code: int | str | None = None,
        error_title: str | None = None,
    ) -> StoredMessage | None:
        """Record a delivery status for an outbound message. Statuses only move
        forward (a late ``sent`` after ``read`` is ignored); ``failed`` always
        applies. Returns the message, or None for an id the inbox never stored."""
        status = DeliveryStatus(status)
        row = self._row("SELECT id, status FROM messages WHERE wa_id = ?", (message_id,))
        if row is None:
            return None
        current = DeliveryStatus(row["status"]) if row["status"] else DeliveryStatus.PENDING
        if status is DeliveryStatus.FAILED or _STATUS_RANK[status] > _STATUS_RANK[current]:
            error = None
            if error_code is not None or error_title:
                error = f"{error_code or ''} {error_title or ''}".strip()
            at = to_epoch(timestamp) if timestamp else self._now()
            with self._tx() as conn:
                conn.execute(
                    "UPDATE messages SET status = ?, status_at = ?, error = COALESCE(?, error)"
                    " WHERE id = ?",
                    (status.value, at, error, row["id"]),
                )
                if status is DeliveryStatus.FAILED:
                    self._audit("whatsapp", "send_failed", "message", message_id, error=error)
        return self.message(message_id)
