"""The data flywheel: turn what agents fixed in the inbox into candidate eval cases.

``export_cases(db, out_dir)`` reads an inbox database and writes, in the formats
of ``docs/datasets.md``:

- ``intents.jsonl``, ``origins.jsonl``, ``handoff.jsonl``, ``fields.jsonl``: one
  line per lead message whose labels an agent corrected (the corrected labels are
  the gold; several corrections of one message: later ones win, field by field);
- ``templates.jsonl``: one line per suggestion an agent edited or rejected, with
  the conversation state stored with the analysis that made it (reconstructed
  from the messages when there is none, e.g. a follow-up from the clock). The
  gold is the template of the message the agent actually sent: for a light edit
  (similarity >= 0.8) the suggestion's own template; for a rejection, the next
  message a person sent before the lead wrote again, when it was a template.
  Otherwise (a rewrite, free text) the gold is unknown: the line keeps the
  suggested template as a placeholder and says ``"review": "template unknown"``;
- ``replies.jsonl``: every edited or rejected suggestion with the suggested text,
  the final text and their similarity (not a scored dataset; ``eval check`` skips it
  in a folder).

Every line carries ``"review": "pending"`` (or ``"template unknown"``) and a
``source`` (conversation, message, correction or suggestion id): a person reviews
each one before moving it into ``evals/datasets/``. Ids are stable across exports
of the same database: ``fw-<message id>-<kind>`` (``fw-s<suggestion id>-template``).

Privacy: lead text is exported as written, phone numbers and emails included
(the fields datasets need them). Treat the export folder like the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from copilot import window
from copilot.evals.datasets_io import write_jsonl
from copilot.inbox.db import open_db
from copilot.inbox.models import to_epoch
from copilot.inbox.replies import similarity
from copilot.models import ConversationState

LANGS = ("es", "pt", "en")
#: The files an export writes, in order.
FILES = ("intents", "origins", "handoff", "fields", "templates", "replies")
PENDING = "pending"
TEMPLATE_UNKNOWN = "template unknown"
#: An edited suggestion at least this similar to what went out kept its template
#: (the agent fixed the wording); below, the agent wrote another message.
KEPT_TEMPLATE_SIMILARITY = 0.8


@dataclass
class Export:
    """What an export wrote: kind -> lines."""

    out_dir: Path
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Lines per file."""
        return {kind: len(rows) for kind, rows in self.lines.items()}


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


class _Reader:
    """The reads the export needs, on one database connection."""

    def __init__(self, db: Database) -> None:
        self.conn = db.conn
        self._turns: dict[int, list[dict[str, Any]]] = {}

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def row(self, sql: str, params: tuple = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        """The conversation's messages with text, in conversation order; deleted
        ("revoked") ones are left out, as the copilot leaves them out."""
        if conversation_id not in self._turns:
            self._turns[conversation_id] = self.rows(
                "SELECT id, wa_id, direction, author, text, ts, extra, template FROM messages"
                " WHERE conversation_id = ? AND revoked_at IS NULL ORDER BY ts, id",
                (conversation_id,),
            )
        return self._turns[conversation_id]

    def turns_before(
        self, conversation_id: int, message_id: str | None, *, at: float | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """The turns before message ``message_id`` (or up to time ``at``) and the
        message itself (None when it is unknown or was deleted for everyone)."""
        until: tuple[float, int] | None = None
        if message_id is not None:
            target = self.row(
                "SELECT ts, id FROM messages WHERE wa_id = ? AND conversation_id = ?",
                (message_id, conversation_id),
            )
            if target is None:
                return [], None
            until = (target["ts"], target["id"])
        turns: list[dict[str, Any]] = []
        for row in self.messages(conversation_id):
            if until is not None and (row["ts"], row["id"]) >= until:
                found = row if row["wa_id"] == message_id else None
                return turns, found
            if until is None and at is not None and row["ts"] > at:
                break
            if row["text"]:
                turns.append(_turn(row))
        return turns, None

    def language(self, conversation_id: int, analysis_result: dict | None) -> str:
        lang = (analysis_result or {}).get("language")
        if lang not in LANGS:
            conv = self.row("SELECT language FROM conversations WHERE id = ?", (conversation_id,))
            lang = conv["language"] if conv else None
        return lang if lang in LANGS else "es"


def _turn(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["wa_id"],
        "from": "lead" if row["direction"] == "inbound" else "business",
        "text": row["text"],
        "ts": _iso(row["ts"]),
    }


def _window(column: str, since: datetime | None, until: datetime | None) -> tuple[str, tuple]:
    where, params = "", []
    if since is not None:
        where += f" AND {column} >= ?"
        params.append(to_epoch(since))
    if until is not None:
        where += f" AND {column} < ?"
        params.append(to_epoch(until))
    return where, tuple(params)


def _merged_corrections(
    reader: _Reader, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """One entry per corrected message: the corrections merged, later ones winning
    (field by field for ``fields``), in the order messages were first corrected."""
    where, params = _window("created_at", since, until)
    merged: dict[str, dict[str, Any]] = {}
    for row in reader.rows(f"SELECT * FROM corrections WHERE 1 = 1{where} ORDER BY id", params):
        entry = merged.setdefault(
            row["message_id"],
            {"message_id": row["message_id"], "conversation_id": row["conversation_id"]},
        )
        corrected = json.loads(row["corrected"])
        predicted = json.loads(row["predicted"] or "{}")
        for key, value in corrected.items():
            if key == "fields":
                entry.setdefault("fields", {}).update(value)
                entry.setdefault("predicted_fields", {}).update(predicted.get("fields") or {})
            else:
                entry[key] = value
                entry[f"predicted_{key}"] = predicted.get(key)
            entry.setdefault("corrections", {})[key] = row["id"]
        entry["agent_id"] = row["agent_id"]
        entry["corrected_at"] = _iso(row["created_at"])
    return list(merged.values())


def _source(entry: dict[str, Any], key: str, **more: Any) -> dict[str, Any]:
    return {
        "conversation_id": entry["conversation_id"],
        "message_id": entry["message_id"],
        "correction_id": entry["corrections"][key],
        "agent_id": entry["agent_id"],
        "corrected_at": entry["corrected_at"],
        **more,
    }


def _analysis_of(reader: _Reader, seq: int) -> dict[str, Any] | None:
    row = reader.row(
        "SELECT result FROM analyses WHERE message_seq = ? ORDER BY id DESC LIMIT 1", (seq,)
    )
    return json.loads(row["result"]) if row else None


def _correction_lines(reader: _Reader, entry: dict[str, Any], out: dict[str, list]) -> None:
    cid = entry["conversation_id"]
    context, message = reader.turns_before(cid, entry["message_id"])
    if message is None or not (message["text"] or "").strip():
        return  # revoked since, or no text: nothing a dataset line can hold
    result = _analysis_of(reader, message["id"])
    base = {"lang": reader.language(cid, result)}
    text = message["text"]
    mid = entry["message_id"]
    if "intent" in entry:
        out["intents"].append(
            {
                "id": f"fw-{mid}-intent",
                **base,
                "context": context,
                "text": text,
                "gold": {"intent": entry["intent"], "also": []},
                "predicted": {"intent": entry["predicted_intent"]},
                "review": PENDING,
                "source": _source(entry, "intent"),
            }
        )
    if "origin" in entry:
        out["origins"].append(_origin_line(reader, entry, base))
    if "handoff" in entry:
        out["handoff"].append(
            {
                "id": f"fw-{mid}-handoff",
                **base,
                "context": context,
                "text": text,
                "gold": entry["handoff"],
                "predicted": {"handoff": entry["predicted_handoff"]},
                "review": PENDING,
                "source": _source(entry, "handoff"),
            }
        )
    if "fields" in entry:
        out["fields"].append(
            {
                "id": f"fw-{mid}-fields",
                **base,
                "messages": [*context, _turn(message)],
                "gold": entry["fields"],
                "predicted": {"fields": entry["predicted_fields"]},
                "review": PENDING,
                "source": _source(entry, "fields"),
            }
        )


def _origin_line(reader: _Reader, entry: dict[str, Any], base: dict) -> dict[str, Any]:
    """An origin is decided on the conversation's first lead message: that is the
    line's text, with its referral (click-to-WhatsApp ad) and template-reply flag."""
    cid = entry["conversation_id"]
    first = next(
        (m for m in reader.messages(cid) if m["direction"] == "inbound" and m["text"]), None
    )
    extra = json.loads(first["extra"] or "{}") if first else {}
    metadata: dict[str, Any] = {
        "context_template": bool((extra.get("context") or {}).get("is_template_reply"))
    }
    if isinstance(extra.get("referral"), dict):
        metadata = {"referral": extra["referral"], **metadata}
    first_id = first["wa_id"] if first else entry["message_id"]
    return {
        "id": f"fw-{first_id}-origin",
        **base,
        "text": first["text"] if first else "",
        "metadata": metadata,
        "gold": {"origin": entry["origin"], "also": []},
        "predicted": {"origin": entry["predicted_origin"]},
        "review": PENDING,
        "source": _source(entry, "origin", first_message_id=first_id),
    }


def _reconstructed_state(reader: _Reader, suggestion: dict[str, Any]) -> dict[str, Any]:
    """The conversation state at suggestion time, rebuilt from the stored messages
    (for suggestions without an analysis, e.g. follow-ups the clock proposed)."""
    at = suggestion["created_at"]
    before = [m for m in reader.messages(suggestion["conversation_id"]) if m["ts"] <= at]
    inbound = [m for m in before if m["direction"] == "inbound"]
    outbound = [m for m in before if m["direction"] != "inbound"]
    conv = reader.row(
        "SELECT stage, lost_reason FROM conversations WHERE id = ?",
        (suggestion["conversation_id"],),
    )
    state = ConversationState(
        stage=conv["stage"] if conv else "new",
        lost_reason=conv["lost_reason"] if conv else None,
        hours_since_last_inbound=round((at - inbound[-1]["ts"]) / 3600, 2) if inbound else None,
        hours_since_last_outbound=round((at - outbound[-1]["ts"]) / 3600, 2) if outbound else None,
        last_message_from=("lead" if before[-1]["direction"] == "inbound" else "business")
        if before
        else None,
        inbound_count=len(inbound),
        outbound_count=len(outbound),
        window_open=window.open_since(inbound[-1]["ts"] if inbound else None, at),
    )
    return state.model_dump(mode="json")


def _sent_instead(reader: _Reader, suggestion: dict[str, Any]) -> dict[str, Any] | None:
    """The message a person actually sent in answer: the edited suggestion's own
    message, or, for a rejection, the next outbound message by an agent or the
    business phone before the lead wrote again."""
    if suggestion["sent_message_id"]:
        sent = reader.row(
            "SELECT wa_id, template, text FROM messages WHERE wa_id = ?",
            (suggestion["sent_message_id"],),
        )
        if sent is not None:
            return sent
        # Not found: the suggestion keeps the local id it was stored under, and the
        # message took WhatsApp's id once sent. It went out at the decision time.
    after = suggestion["decided_at"] or suggestion["created_at"]
    for row in reader.messages(suggestion["conversation_id"]):
        if row["ts"] < after:
            continue
        if row["direction"] == "inbound":
            return None
        if row["author"] in ("agent", "phone_echo"):
            return row
    return None


def _gold_template(suggestion: dict[str, Any], sent: dict[str, Any] | None) -> str | None:
    """The template the agent actually sent, or None when unknown. The inbox records
    an edited suggestion's template on the sent message whatever the edit; only a
    light edit (wording kept, :data:`KEPT_TEMPLATE_SIMILARITY`) still counts as
    that template. A message sent after a rejection counts when it was a template."""
    if sent is None or not sent["template"]:
        return None
    if suggestion["state"] == "edited":
        kept = (suggestion["similarity"] or 0.0) >= KEPT_TEMPLATE_SIMILARITY
        return sent["template"] if kept else None
    return sent["template"]


def _suggestion_lines(reader: _Reader, suggestion: dict[str, Any], out: dict[str, list]) -> None:
    cid = suggestion["conversation_id"]
    sid = suggestion["id"]
    result = None
    if suggestion["analysis_id"] is not None:
        row = reader.row("SELECT result FROM analyses WHERE id = ?", (suggestion["analysis_id"],))
        result = json.loads(row["result"]) if row else None
    if result is not None and "state" in result:
        state = ConversationState.model_validate(result["state"]).model_dump(mode="json")
        state_from = "analysis"
    else:
        state = _reconstructed_state(reader, suggestion)
        state_from = "reconstructed"
    if suggestion["message_id"]:
        context, message = reader.turns_before(cid, suggestion["message_id"])
        messages = [*context, _turn(message)] if message and message["text"] else context
    else:
        messages, _ = reader.turns_before(cid, None, at=suggestion["created_at"])
    sent = _sent_instead(reader, suggestion)
    source = {
        "conversation_id": cid,
        "message_id": suggestion["message_id"],
        "suggestion_id": sid,
        "decision": suggestion["state"],
        "agent_id": suggestion["agent_id"],
        "decided_at": _iso(suggestion["decided_at"]),
        "state_from": state_from,
        "sent_message_id": sent["wa_id"] if sent else None,
    }
    lang = suggestion["language"] if suggestion["language"] in LANGS else "es"
    gold = _gold_template(suggestion, sent)
    final_text = suggestion["final_text"] or (sent["text"] if sent else None)
    score = suggestion["similarity"]
    if score is None and final_text is not None:
        score = similarity(suggestion["text"] or "", final_text)
    out["templates"].append(
        {
            "id": f"fw-s{sid}-template",
            "lang": lang,
            "state": state,
            "messages": messages,
            # Unknown gold: the suggested template stands in until a person decides.
            "gold": {"template": gold or suggestion["template"], "also": []},
            "predicted": {"template": suggestion["template"]},
            "review": PENDING if gold else TEMPLATE_UNKNOWN,
            "source": source,
        }
    )
    out["replies"].append(
        {
            "id": f"fw-s{sid}-reply",
            "lang": lang,
            "decision": suggestion["state"],
            "template": suggestion["template"],
            "suggested_text": suggestion["text"],
            "final_text": final_text,
            "similarity": score,
            "reason": suggestion["reason"],
            "messages": messages,
            "review": PENDING,
            "source": source,
        }
    )


def collect_cases(
    db: Database, *, since: datetime | None = None, until: datetime | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The candidate eval cases of an inbox database, per file kind (see module doc).
    ``since`` / ``until`` bound when the correction or the decision was made."""
    reader = _Reader(db)
    out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in FILES}
    for entry in _merged_corrections(reader, since, until):
        _correction_lines(reader, entry, out)
    # Several corrections of one conversation's origin collapse onto its first message.
    unique: dict[str, dict[str, Any]] = {line["id"]: line for line in out["origins"]}
    out["origins"] = list(unique.values())
    where, params = _window("decided_at", since, until)
    for suggestion in reader.rows(
        f"SELECT * FROM suggestions WHERE state IN ('edited', 'rejected'){where} ORDER BY id",
        params,
    ):
        _suggestion_lines(reader, suggestion, out)
    return out


def export_cases(
    db: Database | str | Path,
    out_dir: str | Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Export:
    """Write the candidate cases of inbox ``db`` into ``out_dir`` (``<kind>.jsonl``
    per kind that has lines) and return what was written. A kind without lines
    leaves no file: one from an earlier export into the same folder is removed, so
    the folder always shows this export only (and an empty dataset file, which
    ``eval check`` refuses, is never written)."""
    database = db if isinstance(db, Database) else open_db(db)
    lines = collect_cases(database, since=since, until=until)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for kind, rows in lines.items():
        target = folder / f"{kind}.jsonl"
        if rows:
            write_jsonl(target, rows)
        else:
            target.unlink(missing_ok=True)
    return Export(folder, lines)
