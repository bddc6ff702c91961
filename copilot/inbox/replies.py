"""Replies: suggestions, the agent's answer, automatic messages and the sender.

Rules enforced here, all inside one ``BEGIN IMMEDIATE`` transaction before anything
is handed to the sender:

- only the conversation's owner may reply;
- a reply names the last message the agent saw; if anything was stored after it
  (the lead wrote again, someone or something replied) it is refused with
  :class:`ConflictError` and nothing is sent;
- an opted-out contact gets nothing but the opt-out confirmation;
- outside the 24-hour window only an approved template, unedited, may go out.
"""

from __future__ import annotations

import difflib
import json
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from copilot import window
from copilot.inbox.errors import (
    ConflictError,
    InvalidInput,
    NotFoundError,
    OptedOutError,
    PermissionDenied,
    SendError,
    WindowClosed,
)
from copilot.inbox.ingest import IngestMixin, local_message_id
from copilot.inbox.models import StoredMessage, Suggestion, from_epoch
from copilot.models import FieldValue, QualificationFields
from copilot.profile import BusinessProfile
from copilot.replies import Rendered
from copilot.replies import render_template as render
from copilot.taxonomy import Author, DeliveryStatus, Language, TemplateKey


class OutgoingMessage(BaseModel):
    """What a :class:`Sender` receives: everything needed to deliver one message."""

    model_config = ConfigDict(extra="forbid")

    local_id: str
    conversation_id: int
    to_wa_id: str | None = None
    to_user_id: str | None = None
    text: str
    template: TemplateKey | None = None
    approved_name: str | None = None
    language: Language = Language.ES
    variables: dict[str, str] = {}


@runtime_checkable
class Sender(Protocol):
    """Delivers outbound messages. ``send`` returns the WhatsApp message id, or None
    when the message was only queued (outbox); it raises on failure."""

    name: str

    def send(self, message: OutgoingMessage) -> str | None:
        """Hand ``message`` over for delivery."""
        ...


class OutboxSender:
    """The default sender: nothing leaves the machine; messages stay in the outbox
    (``status = 'outbox'``) for a real sender or a person to deliver."""

    name = "outbox"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> str | None:
        """Keep the message; return None (not delivered to WhatsApp)."""
        self.sent.append(message)
        return None


def stored_fields(stored: dict[str, Any] | None) -> QualificationFields:
    """The conversation's stored qualification fields (FieldValue dumps) as the
    library's model; a value that no longer validates is left out."""
    known: dict[str, FieldValue] = {}
    for name, value in (stored or {}).items():
        if name not in QualificationFields.model_fields or not isinstance(value, dict):
            continue
        try:
            known[name] = FieldValue.model_validate(value)
        except ValidationError:
            continue
    return QualificationFields(**known)


def render_template(
    profile: BusinessProfile,
    key: TemplateKey,
    language: Language | str | None,
    *,
    now: datetime,
    lead_name: str | None = None,
    agent_name: str | None = None,
    fields: dict[str, Any] | None = None,
) -> Rendered | None:
    """Render one of the profile's templates with what the inbox knows, through
    the library's one renderer (:func:`copilot.replies.render_template`).

    Used for the automatic messages (acknowledgement, out-of-hours) and follow-up
    suggestions the clock creates; values come from the profile, the stored
    fields and the contact's name, cleaned by the renderer. ``None`` when the
    template renders empty.
    """
    return render(
        profile,
        key,
        language,
        now,
        fields=stored_fields(fields),
        contact_name=lead_name,
        agent_name=agent_name,
    )


def similarity(a: str, b: str) -> float:
    """How much of a suggestion survived the agent's edit (1.0 = unchanged)."""
    return round(difflib.SequenceMatcher(None, a, b, autojunk=False).ratio(), 4)


class RepliesMixin(IngestMixin):
    """Suggestions, replies and automatic sends."""

    sender: Sender

    # --- suggestions -------------------------------------------------------------

    def _propose(
        self,
        cid: int,
        message_id: str | None,
        analysis_id: int | None,
        template: TemplateKey,
        text: str,
        language: Language,
    ) -> int:
        """Store a new proposed suggestion, superseding the older ones (inside a tx)."""
        now = self._now()
        self.conn.execute(
            "UPDATE suggestions SET state = 'superseded', decided_at = ?"
            " WHERE conversation_id = ? AND state = 'proposed'",
            (now, cid),
        )
        cur = self.conn.execute(
            "INSERT INTO suggestions (conversation_id, message_id, analysis_id, template, text,"
            " language, state, created_at) VALUES (?,?,?,?,?,?, 'proposed', ?)",
            (cid, message_id, analysis_id, template.value, text, language.value, now),
        )
        return cur.lastrowid

    @staticmethod
    def _suggestion(row: dict[str, Any]) -> Suggestion:
        return Suggestion.model_validate(
            {
                **{k: row[k] for k in Suggestion.model_fields if k in row},
                "created_at": from_epoch(row["created_at"]),
                "decided_at": from_epoch(row["decided_at"]),
            }
        )

    def suggestions(self, conversation_id: int, state: str | None = None) -> list[Suggestion]:
        """Suggestions of a conversation, newest first (optionally of one state)."""
        sql = "SELECT * FROM suggestions WHERE conversation_id = ?"
        params: tuple = (conversation_id,)
        if state:
            sql += " AND state = ?"
            params += (state,)
        return [self._suggestion(r) for r in self._rows(sql + " ORDER BY id DESC", params)]

    def current_suggestion(self, conversation_id: int) -> Suggestion | None:
        """The suggestion waiting for the agent's decision, if any."""
        found = self.suggestions(conversation_id, "proposed")
        return found[0] if found else None

    def reject_suggestion(
        self, suggestion_id: int, agent_id: int, reason: str | None = None
    ) -> Suggestion:
        """The agent discards a suggestion (owner or admin)."""
        with self._tx() as conn:
            row = self._row("SELECT * FROM suggestions WHERE id = ?", (suggestion_id,))
            if row is None:
                raise NotFoundError(f"no suggestion {suggestion_id}")
            self._owner_or_admin(  # type: ignore[attr-defined]
                self._conversation_row(row["conversation_id"]), agent_id
            )
            if row["state"] != "proposed":
                raise ConflictError(f"suggestion {suggestion_id} is already {row['state']}")
            conn.execute(
                "UPDATE suggestions SET state = 'rejected', agent_id = ?, reason = ?,"
                " decided_at = ? WHERE id = ?",
                (agent_id, reason, self._now(), suggestion_id),
            )
            self._audit(
                f"agent:{agent_id}", "suggestion_reject", "suggestion", suggestion_id, reason=reason
            )
        return self._suggestion(
            self._row("SELECT * FROM suggestions WHERE id = ?", (suggestion_id,))
        )

    # --- the agent's reply ---------------------------------------------------------

    def reply(
        self,
        conversation_id: int,
        agent_id: int,
        text: str | None = None,
        *,
        last_seen_message_id: str,
        suggestion_id: int | None = None,
        template: TemplateKey | str | None = None,
    ) -> StoredMessage:
        """Send the owner's reply. ``suggestion_id`` records that it accepts (same
        text) or edits (other text) a suggestion; without ``text`` the suggestion
        goes as proposed. ``template`` (alone) sends one of the profile's
        templates as rendered for this conversation (:meth:`template_previews`):
        outside the 24-hour window, an approved one. Raises
        :class:`PermissionDenied`, :class:`ConflictError`, :class:`OptedOutError`,
        :class:`WindowClosed` (nothing sent), or :class:`SendError` (stored as
        ``failed``)."""
        if text is not None and not text.strip():
            raise InvalidInput("the reply is empty")
        if template is not None:
            if text is not None or suggestion_id is not None:
                raise InvalidInput("a template is sent alone: no text, no suggestion_id")
            try:
                template = TemplateKey(template)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from exc
        now = self._now()
        with self._tx() as conn:
            conv = self._conversation_row(conversation_id)
            if conv["assignee_id"] != agent_id:
                raise PermissionDenied(
                    f"only the owner may reply: conversation {conversation_id} belongs to "
                    f"{'nobody (claim it first)' if conv['assignee_id'] is None else 'agent ' + str(conv['assignee_id'])}"
                )
            self._check_fresh(conv, last_seen_message_id)
            suggestion = None
            if suggestion_id is not None:
                suggestion = self._row(
                    "SELECT * FROM suggestions WHERE id = ? AND conversation_id = ?",
                    (suggestion_id, conversation_id),
                )
                if suggestion is None:
                    raise NotFoundError(f"no suggestion {suggestion_id} in this conversation")
                if suggestion["state"] != "proposed":
                    raise ConflictError(
                        f"suggestion {suggestion_id} is already {suggestion['state']}"
                    )
            language = Language(suggestion["language"]) if suggestion else None
            if template is not None:
                rendered = self._render_for(conv, template, agent_id)
                if rendered is None:
                    raise InvalidInput(f"the template {template.value!r} is empty")
                text, language = rendered.text, rendered.language
                unchanged = True  # the template as the business wrote it
            else:
                if text is None:
                    if suggestion is None:
                        raise InvalidInput("give a text, a suggestion_id or a template")
                    text = suggestion["text"]
                template = TemplateKey(suggestion["template"]) if suggestion else None
                unchanged = suggestion is not None and text == suggestion["text"]
            contact = self._row(
                "SELECT wa_id, user_id, opted_out FROM contacts WHERE id = ?",
                (conv["contact_id"],),
            )
            if contact["opted_out"] and not (
                template is TemplateKey.OPT_OUT_CONFIRMATION and unchanged
            ):
                raise OptedOutError(
                    "the contact opted out: only the opt-out confirmation, as proposed, may be sent"
                )
            approved = None
            if not window.is_open(conv["window_closes_at"], now):
                approved = self.profile.templates[template].approved_name if template else None
                if not (approved and unchanged):
                    raise WindowClosed(
                        "the 24-hour window is closed: only an approved template, unedited, may be sent"
                    )
            local = local_message_id()
            seq = self._insert_outbound(conv, local, text, Author.AGENT, agent_id, template, now)
            if suggestion is not None:
                conn.execute(
                    "UPDATE suggestions SET state = ?, agent_id = ?, final_text = ?,"
                    " similarity = ?, sent_message_id = ?, decided_at = ? WHERE id = ?",
                    (
                        "accepted" if unchanged else "edited",
                        agent_id,
                        text,
                        similarity(suggestion["text"], text),
                        local,
                        now,
                        suggestion_id,
                    ),
                )
            self._audit(
                f"agent:{agent_id}",
                "reply",
                "conversation",
                conversation_id,
                message=local,
                suggestion=suggestion_id,
            )
        outgoing = OutgoingMessage(
            local_id=local,
            conversation_id=conversation_id,
            to_wa_id=contact["wa_id"],
            to_user_id=contact["user_id"],
            text=text,
            template=template,
            approved_name=approved,
            language=language or self.profile.default_language,
        )
        return self._dispatch(outgoing, seq, raise_errors=True)

    def _render_for(self, conv: dict, key: TemplateKey, agent_id: int | None):
        """A profile template rendered for a conversation (its language, fields,
        the lead's and the agent's names), or None when it renders empty."""
        names = self._row(
            "SELECT ct.name AS lead, (SELECT a.name FROM agents a WHERE a.id = ?) AS agent"
            " FROM contacts ct WHERE ct.id = ?",
            (agent_id, conv["contact_id"]),
        )
        return render_template(
            self.profile,
            key,
            conv["language"],
            now=self.clock.now(),
            lead_name=names["lead"],
            agent_name=names["agent"],
            fields=json.loads(conv["fields"] or "{}"),
        )

    def template_previews(
        self, conversation_id: int, agent_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The profile's templates as they would go to this conversation: key,
        Meta-approved name (None: only inside the 24-hour window), category and
        rendered text, approved ones first."""
        conv = self._conversation_row(conversation_id)
        out = []
        for key, spec in self.profile.templates.items():
            rendered = self._render_for(conv, TemplateKey(key), agent_id)
            if rendered is None:
                continue
            out.append(
                {
                    "key": TemplateKey(key).value,
                    "approved_name": spec.approved_name,
                    "category": spec.category.value,
                    "text": rendered.text,
                    "language": rendered.language.value,
                }
            )
        out.sort(key=lambda t: (t["approved_name"] is None, t["key"]))
        return out

    def _check_fresh(self, conv: dict, last_seen: str) -> None:
        seen = self._row(
            "SELECT id FROM messages WHERE wa_id = ? AND conversation_id = ?",
            (last_seen, conv["id"]),
        )
        if seen is None:
            raise ConflictError(f"message {last_seen!r} is not part of conversation {conv['id']}")
        if conv["last_seq"] > seen["id"]:
            newer = self._row(
                "SELECT wa_id, direction, author, agent_id FROM messages WHERE conversation_id = ?"
                " AND id > ? AND backfill = 0 ORDER BY id LIMIT 1",
                (conv["id"], seen["id"]),
            )
            if newer["direction"] == "inbound":
                what = f"the lead wrote again (message {newer['wa_id']})"
            elif newer["author"] == "phone_echo":
                what = "someone replied from the business phone"
            elif newer["author"] == "bot":
                what = "an automatic message was sent"
            else:
                what = f"agent {newer['agent_id']} replied"
            raise ConflictError(f"reply refused, nothing sent: {what} since {last_seen!r}")

    def _insert_outbound(
        self,
        conv: dict,
        local_id: str,
        text: str,
        author: Author,
        agent_id: int | None,
        template: TemplateKey | None,
        now: float,
    ) -> int:
        """Store an outbound message as pending and update the conversation (inside a tx)."""
        cur = self.conn.execute(
            "INSERT INTO messages (wa_id, conversation_id, direction, author, agent_id, type,"
            " text, ts, status, template, backfill, created_at)"
            " VALUES (?,?, 'outbound', ?,?, 'text', ?,?, 'pending', ?, 0, ?)",
            (
                local_id,
                conv["id"],
                author.value,
                agent_id,
                text,
                now,
                template.value if template else None,
                now,
            ),
        )
        seq = cur.lastrowid
        sets = [
            "last_seq = ?",
            "last_message_id = ?",
            "last_message_at = MAX(COALESCE(last_message_at, 0), ?)",
            "last_message_text = ?",
            "last_message_direction = 'outbound'",
            "last_outbound_at = MAX(COALESCE(last_outbound_at, 0), ?)",
            "updated_at = ?",
        ]
        params: list[Any] = [seq, local_id, now, text[:200], now, now]
        if author is Author.AGENT:
            self._human_answered(conv["id"], conv, now, agent_id, author, sets, params)
        self.conn.execute(
            f"UPDATE conversations SET {', '.join(sets)} WHERE id = ?", (*params, conv["id"])
        )
        return seq

    def _dispatch(
        self, outgoing: OutgoingMessage, seq: int, *, raise_errors: bool
    ) -> StoredMessage:
        """Hand a stored outbound message to the sender and record the outcome."""
        try:
            wa_id = self.sender.send(outgoing)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            with self._tx() as conn:
                conn.execute(
                    "UPDATE messages SET status = 'failed', error = ?, status_at = ? WHERE id = ?",
                    (error, self._now(), seq),
                )
                self._audit("system", "send_failed", "message", outgoing.local_id, error=error)
            if raise_errors:
                raise SendError(
                    f"message {outgoing.local_id} is stored but was not sent: {error}"
                ) from exc
            return self.message(outgoing.local_id)
        status = DeliveryStatus.OUTBOX if wa_id is None else DeliveryStatus.SENT
        with self._tx() as conn:
            conn.execute(
                "UPDATE messages SET status = ?, status_at = ?, wa_id = ? WHERE id = ?",
                (status.value, self._now(), wa_id or outgoing.local_id, seq),
            )
            if wa_id:
                # The message now goes by WhatsApp's id: so must what points at it.
                conn.execute(
                    "UPDATE conversations SET last_message_id = ? WHERE id = ? AND last_message_id = ?",
                    (wa_id, outgoing.conversation_id, outgoing.local_id),
                )
                conn.execute(
                    "UPDATE suggestions SET sent_message_id = ?"
                    " WHERE conversation_id = ? AND sent_message_id = ?",
                    (wa_id, outgoing.conversation_id, outgoing.local_id),
                )
        return self.message(wa_id or outgoing.local_id)

    def resend(self, message_id: str) -> StoredMessage:
        """Try a failed (or outbox) outbound message again through the sender."""
        row = self._row(
            "SELECT m.*, ct.wa_id AS to_wa, ct.user_id AS to_user FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id"
            " JOIN contacts ct ON ct.id = c.contact_id WHERE m.wa_id = ?",
            (message_id,),
        )
        if row is None:
            raise NotFoundError(f"no message {message_id!r}")
        if row["direction"] != "outbound" or row["status"] not in ("failed", "outbox", "pending"):
            raise InvalidInput(f"message {message_id!r} is not an unsent outbound message")
        template = TemplateKey(row["template"]) if row["template"] else None
        outgoing = OutgoingMessage(
            local_id=message_id,
            conversation_id=row["conversation_id"],
            to_wa_id=row["to_wa"],
            to_user_id=row["to_user"],
            text=row["text"] or "",
            template=template,
            approved_name=self.profile.templates[template].approved_name if template else None,
        )
        return self._dispatch(outgoing, row["id"], raise_errors=True)

    # --- automatic messages ------------------------------------------------------------

    def _send_automatic(self, cid: int, key: TemplateKey, flag: str) -> bool:
        """Send a bot message (acknowledgement, out-of-hours) once: ``flag`` is the
        conversation column that marks it sent for the current waiting period.
        Returns True when a message went to the sender."""
        now = self._now()
        with self._tx():
            conv = self._conversation_row(cid)
            contact = self._row(
                "SELECT wa_id, user_id, name, opted_out FROM contacts WHERE id = ?",
                (conv["contact_id"],),
            )
            waiting = conv["waiting_since"]
            if waiting is None or (conv[flag] or 0) >= waiting:
                return False  # answered meanwhile, or already sent (idempotent tick)
            self.conn.execute(f"UPDATE conversations SET {flag} = ? WHERE id = ?", (now, cid))
            window_open = window.is_open(conv["window_closes_at"], now)
            approved = self.profile.templates[key].approved_name
            if contact["opted_out"] or not (window_open or approved):
                return False
            rendered = render_template(
                self.profile,
                key,
                conv["language"],
                now=self.clock.now(),
                lead_name=contact["name"],
                fields=json.loads(conv["fields"] or "{}"),
            )
            if rendered is None:
                return False
            text, language = rendered.text, rendered.language
            local = local_message_id()
            seq = self._insert_outbound(conv, local, text, Author.BOT, None, key, now)
            self._audit("system", key.value, "conversation", cid, message=local)
        outgoing = OutgoingMessage(
            local_id=local,
            conversation_id=cid,
            to_wa_id=contact["wa_id"],
            to_user_id=contact["user_id"],
            text=text,
            template=key,
            approved_name=None if window_open else approved,
            language=language,
        )
        self._dispatch(outgoing, seq, raise_errors=False)
        return True
