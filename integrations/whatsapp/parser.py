"""Turn a WhatsApp Cloud API webhook delivery into typed events.

One delivery holds entries, each entry holds changes, and each change holds
messages, echoes, statuses or account notices. The parser walks *every* one of
them. A delivery that cannot be read at all raises :class:`WebhookError`; a bad
item inside a good delivery becomes a :class:`ParseProblem` and the rest still
parses. No other exception ever leaves :func:`parse_webhook`.

Meta's shapes were learnt from real payloads (pywa, netflie, whatsapp-api-js,
Meta's Coexistence docs): ids and timestamps may be strings or numbers, the
lead may be known by phone (``wa_id``/``from``) or only by a business-scoped
user id (``user_id``/``from_user_id``), and optional objects may be missing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from copilot.integrations.whatsapp.errors import WebhookError
from copilot.integrations.whatsapp.events import (
    AccountUpdate,
    AppStateSync,
    ConversationInfo,
    EchoMessage,
    ErrorDetail,
    HistoryMessage,
    HistoryProgress,
    InboundMessage,
    MessageEdit,
    MessageRevoke,
    ParseProblem,
    PlatformError,
    Pricing,
    Reaction,
    StatusUpdate,
    SystemNotice,
    UnknownEvent,
    UserPreferences,
    WebhookParseResult,
)
from copilot.models import Contact, Media, Message, MessageContext, Referral
from copilot.taxonomy import Author, DeliveryStatus, Direction, MessageType

BUSINESS_ACCOUNT_OBJECT = "whatsapp_business_account"

#: Change fields about the account, its numbers and templates (no lead involved).
ACCOUNT_FIELDS = frozenset(
    {
        "account_alerts",
        "account_review_update",
        "account_update",
        "business_capability_update",
        "business_status_update",
        "message_template_components_update",
        "message_template_quality_update",
        "message_template_status_update",
        "partner_solutions",
        "payment_configuration_update",
        "phone_number_name_update",
        "phone_number_quality_update",
        "security",
        "template_category_update",
    }
)

_MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{5,}")
_MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z


class _ItemError(Exception):
    """A problem with one item; becomes a ParseProblem."""


# --- small readers: tolerant of wrong types, never raising ------------------


def _str(value: Any) -> str | None:
    """A non-empty string, or an integer id rendered as one; else None."""
    if isinstance(value, str):
        return value if value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    return None


def _timestamp(value: Any, what: str = "timestamp") -> datetime:
    """Unix seconds (int, float or digit string) as an aware UTC datetime."""
    if isinstance(value, bool) or value is None:
        raise _ItemError(f"missing or invalid {what}")
    seconds: float
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value.strip()) if len(value) < 40 else math.nan
        except ValueError:
            raise _ItemError(f"{what} is not Unix seconds: {value[:40]!r}") from None
    else:
        raise _ItemError(f"{what} must be Unix seconds, got {type(value).__name__}")
    if not math.isfinite(seconds) or not 0 <= seconds <= _MAX_TIMESTAMP:
        raise _ItemError(f"{what} out of range: {str(value)[:40]!r}")
    return datetime.fromtimestamp(seconds, UTC)


def _optional_timestamp(value: Any) -> datetime | None:
    try:
        return _timestamp(value)
    except _ItemError:
        return None


def _error_details(value: Any) -> list[ErrorDetail]:
    details = []
    for item in _list(value):
        if not isinstance(item, dict):
            continue
        details.append(
            ErrorDetail(
                code=_int(item.get("code")),
                title=_str(item.get("title")),
                message=_str(item.get("message")),
                details=_str(_dict(item.get("error_data")).get("details"))
                or _str(item.get("details")),
                href=_str(item.get("href")),
            )
        )
    return details


def _digits_if_phone(value: str | None) -> str | None:
    # Contact sync sends display phones ("+1 650-555-1234"); messages use bare digits.
    if value and _PHONE_LIKE.fullmatch(value):
        return re.sub(r"\D", "", value) or value
    return value


# --- contacts ---------------------------------------------------------------


class _Contacts:
    """The ``contacts`` array of a change, searchable by phone or user id."""

    def __init__(self, raw: Any) -> None:
        self.items = [c for c in _list(raw) if isinstance(c, dict)]

    def find(
        self, wa_id: str | None, user_id: str | None, parent_user_id: str | None = None
    ) -> Contact:
        """The lead known by these ids, named from the matching ``contacts`` entry."""
        match: dict[str, Any] | None = None
        for item in self.items:
            if (wa_id and _str(item.get("wa_id")) == wa_id) or (
                user_id and _str(item.get("user_id")) == user_id
            ):
                match = item
                break
        if match is None and not (wa_id or user_id) and len(self.items) == 1:
            # No sender on the message (BSUID-only payloads): the sole contact is the lead.
            match = self.items[0]
        if match is None:
            return Contact(wa_id=wa_id, user_id=user_id, parent_user_id=parent_user_id)
        profile = _dict(match.get("profile"))
        return Contact(
            wa_id=wa_id or _str(match.get("wa_id")),
            user_id=user_id or _str(match.get("user_id")),
            parent_user_id=parent_user_id or _str(match.get("parent_user_id")),
            name=_str(profile.get("name")),
            username=_str(profile.get("username")) or _str(match.get("username")),
        )


def _require_key(contact: Contact, what: str) -> Contact:
    if not contact.key:
        raise _ItemError(f"{what} has no lead identifier (wa_id / user_id)")
    return contact


# --- message content --------------------------------------------------------


def _referral(value: Any) -> Referral | None:
    if not isinstance(value, dict):
        return None
    known = set(Referral.model_fields)
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            continue
        if key in known:
            text = _str(item) if not isinstance(item, float) else str(item)
            if text is not None:
                cleaned[key] = text
        else:
            cleaned[key] = item
    return Referral.model_validate(cleaned)


def _location_text(location: dict[str, Any]) -> str | None:
    name = _str(location.get("name"))
    address = _str(location.get("address"))
    if name or address:
        return "📍 " + ", ".join(part for part in (name, address) if part)
    lat, lon = location.get("latitude"), location.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return f"📍 {lat}, {lon}"
    return None


def _contact_card_text(card: dict[str, Any]) -> str | None:
    name = _dict(card.get("name"))
    full = _str(name.get("formatted_name")) or " ".join(
        part for part in (_str(name.get("first_name")), _str(name.get("last_name"))) if part
    )
    phones = [
        _str(p.get("phone")) or _str(p.get("wa_id"))
        for p in _list(card.get("phones"))
        if isinstance(p, dict)
    ]
    emails = [_str(e.get("email")) for e in _list(card.get("emails")) if isinstance(e, dict)]
    reach = ", ".join(x for x in [*phones, *emails] if x)
    if not full and not reach:
        return None
    return "👤 " + (f"{full}: {reach}" if full and reach else full or reach)


def _order_text(order: dict[str, Any]) -> str | None:
    parts = []
    for item in _list(order.get("product_items")):
        if not isinstance(item, dict):
            continue
        product = _str(item.get("product_retailer_id")) or "?"
        quantity = item.get("quantity")
        line = f"{quantity} × {product}" if isinstance(quantity, int | float | str) else product
        price, currency = item.get("item_price"), _str(item.get("currency"))
        if isinstance(price, int | float | str) and not isinstance(price, bool):
            line += f" ({price}{' ' + currency if currency else ''})"
        parts.append(line)
    note = _str(order.get("text"))
    summary = "🛒 " + ", ".join(parts) if parts else None
    return "\n".join(x for x in (note, summary) if x) or None


def _media(obj: dict[str, Any]) -> Media:
    return Media(
        id=_str(obj.get("id")),
        mime_type=_str(obj.get("mime_type")),
        filename=_str(obj.get("filename")),
        voice=obj.get("voice") is True,
        url=_str(obj.get("url")),
    )


def _message_type(name: str | None) -> MessageType:
    if name is None:
        return MessageType.UNKNOWN
    try:
        return MessageType(name)
    except ValueError:
        return MessageType.UNKNOWN


def _content(msg: dict[str, Any]) -> dict[str, Any]:
    """Type, text, media and payload of a message body (any type, never raising)."""
    name = _str(msg.get("type"))
    mtype = _message_type(name)
    out: dict[str, Any] = {"type": mtype, "text": None, "media": None, "payload": None}
    body = _dict(msg.get(name)) if name else {}
    if mtype is MessageType.TEXT:
        out["text"] = _str(body.get("body"))
    elif name in _MEDIA_TYPES:
        out["media"] = _media(body)
        out["text"] = _str(body.get("caption"))
    elif mtype is MessageType.LOCATION:
        out["text"] = _location_text(body)
    elif mtype is MessageType.CONTACTS:
        cards = [_contact_card_text(c) for c in _list(msg.get("contacts")) if isinstance(c, dict)]
        out["text"] = "\n".join(c for c in cards if c) or None
    elif mtype is MessageType.INTERACTIVE:
        kind = _str(body.get("type"))
        reply = _dict(body.get(kind)) if kind else {}
        if kind == "nfm_reply":
            out["text"] = _str(reply.get("body")) or _str(reply.get("name"))
            out["payload"] = _str(reply.get("response_json"))
        else:
            out["text"] = _str(reply.get("title"))
            out["payload"] = _str(reply.get("id"))
    elif mtype is MessageType.BUTTON:
        out["text"] = _str(body.get("text"))
        out["payload"] = _str(body.get("payload"))
    elif mtype is MessageType.ORDER:
        out["text"] = _order_text(body)
    elif mtype is MessageType.SYSTEM:
        out["text"] = _str(body.get("body"))
    elif mtype is MessageType.REACTION:
        out["text"] = _str(body.get("emoji"))
    return out


def _context(msg: dict[str, Any], content: dict[str, Any]) -> MessageContext | None:
    raw = msg.get("context")
    is_button = content["type"] is MessageType.BUTTON
    if not isinstance(raw, dict) and not is_button:
        return None
    ctx = _dict(raw)
    return MessageContext(
        replied_to_id=_str(ctx.get("id")),
        replied_to_from=_str(ctx.get("from")),
        forwarded=ctx.get("forwarded") is True,
        frequently_forwarded=ctx.get("frequently_forwarded") is True,
        # A `button` message is only ever a template quick-reply: a campaign answer.
        is_template_reply=is_button,
        campaign_payload=content["payload"] if is_button else None,
    )


def _build_message(
    msg: dict[str, Any],
    *,
    direction: Direction,
    author: Author,
    message_id: str | None = None,
    timestamp: datetime | None = None,
    status: DeliveryStatus | None = None,
) -> Message:
    """A copilot :class:`Message` from one Meta message object."""
    mid = message_id or _str(msg.get("id"))
    if not mid:
        raise _ItemError("message has no id")
    when = timestamp or _timestamp(msg.get("timestamp"), "message timestamp")
    content = _content(msg)
    return Message(
        id=mid,
        direction=direction,
        author=author,
        type=content["type"],
        text=content["text"],
        timestamp=when,
        referral=_referral(msg.get("referral")),
        context=_context(msg, content),
        media=content["media"],
        payload=content["payload"],
        status=status,
    )


# --- the walk ---------------------------------------------------------------


class _Walker:
    """Collects events and problems while walking one delivery."""

    def __init__(self) -> None:
        self.result = WebhookParseResult()

    def attempt(self, where: str, raw: Any, fn: Callable[[], Iterable[Any]]) -> None:
        """Run one item's parser; any failure becomes a problem, never an exception."""
        try:
            events = list(fn())
        except _ItemError as exc:
            self.problem(where, str(exc), raw)
        except Exception as exc:  # a malformed item must not stop the delivery
            self.problem(where, f"{type(exc).__name__}: {_short(exc)}", raw)
        else:
            self.result.events.extend(events)

    def problem(self, where: str, error: str, raw: Any) -> None:
        """Record an item that could not be read."""
        self.result.errors.append(ParseProblem(where=where, error=error, raw=raw))


def _short(exc: Exception) -> str:
    text = str(exc).replace("\n", " ")
    return text[:300]


#: A JSON escape of a UTF-16 surrogate (``\\ud800``): the only way a lone one,
#: which no UTF-8 text can hold, gets into a decoded body.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _repair(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys too) replaced by
    U+FFFD: valid JSON may escape one (``"hola \\ud800"``), and no database,
    log or page can encode it. Everything else is returned as is."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_repair(k): _repair(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_repair(v) for v in value]
    return value


def _repaired(data: Any) -> Any:
    try:
        return _repair(data)
    except RecursionError:
        raise WebhookError("webhook body is nested too deeply") from None


def _load(payload: Any) -> dict[str, Any]:
    if isinstance(payload, bytes | bytearray | memoryview | str):
        text = bytes(payload) if not isinstance(payload, str) else payload
        try:
            data = json.loads(text)
        except RecursionError:
            raise WebhookError("webhook body is nested too deeply") from None
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise WebhookError(f"webhook body is not valid JSON: {_short(exc)}") from None
        if isinstance(text, str) or _SURROGATE_ESCAPE.search(text):
            data = _repaired(data)
    elif isinstance(payload, dict):
        data = _repaired(payload)
    else:
        raise WebhookError(f"webhook payload must be bytes or a dict, got {type(payload).__name__}")
    if not isinstance(data, dict):
        raise WebhookError(f"webhook body must be a JSON object, got {type(data).__name__}")
    obj = data.get("object")
    if obj != BUSINESS_ACCOUNT_OBJECT:
        shown = repr(obj)[:60] if obj is not None else "nothing"
        raise WebhookError(f"webhook 'object' must be {BUSINESS_ACCOUNT_OBJECT!r}, got {shown}")
    if not isinstance(data.get("entry"), list):
        raise WebhookError("webhook 'entry' must be a list")
    return data


def parse_webhook(payload: dict[str, Any] | bytes | str) -> WebhookParseResult:
    """Parse one webhook delivery into events, walking every entry, change and item.

    Raises :class:`WebhookError` only when the delivery as a whole is unreadable;
    problems with single items are listed in ``result.errors``.
    """
    data = _load(payload)
    walker = _Walker()
    for i, entry in enumerate(data["entry"]):
        where = f"entry[{i}]"
        if not isinstance(entry, dict):
            walker.problem(where, "entry is not an object", entry)
            continue
        changes = entry.get("changes")
        if not isinstance(changes, list):
            walker.problem(f"{where}.changes", "entry has no 'changes' list", entry)
            continue
        for j, change in enumerate(changes):
            change_where = f"{where}.changes[{j}]"
            try:
                _walk_change(walker, change, change_where, _str(entry.get("id")))
            except Exception as exc:  # defensive: a bug here must not lose the rest
                walker.problem(change_where, f"{type(exc).__name__}: {_short(exc)}", change)
    return walker.result


def _walk_change(walker: _Walker, change: Any, where: str, waba_id: str | None) -> None:
    if not isinstance(change, dict):
        walker.problem(where, "change is not an object", change)
        return
    field = change.get("field")
    value = change.get("value")
    if not isinstance(field, str) or not field:
        walker.problem(where, "change has no 'field'", change)
        return
    if not isinstance(value, dict):
        walker.problem(f"{where}.value", f"change {field!r} has no 'value' object", change)
        return
    metadata = _dict(value.get("metadata"))
    base = {
        "phone_number_id": _str(metadata.get("phone_number_id")),
        "display_phone_number": _str(metadata.get("display_phone_number")),
        "waba_id": waba_id,
    }
    ctx = _ChangeContext(walker, value, f"{where}.value", base, field)
    if field in ("messages", "smb_message_echoes"):
        ctx.walk_messaging()
    elif field == "history":
        ctx.walk_history()
    elif field == "smb_app_state_sync":
        ctx.walk_list("state_sync", ctx.app_state_sync)
    elif field == "user_preferences":
        ctx.walk_list("user_preferences", ctx.user_preference)
    elif field in ACCOUNT_FIELDS:
        walker.attempt(where, value, lambda: [ctx.account_update()])
    else:
        walker.result.events.append(UnknownEvent(field=field, raw=value, **base))


class _ChangeContext:
    """Parses the items of one change (one ``value`` object)."""

    def __init__(
        self, walker: _Walker, value: dict[str, Any], where: str, base: dict[str, Any], field: str
    ) -> None:
        self.walker = walker
        self.value = value
        self.where = where
        self.base = base
        self.field = field
        self.contacts = _Contacts(value.get("contacts"))
        self.business_number = base["display_phone_number"]

    # -- generic helpers

    def walk_list(self, key: str, parse: Callable[[dict[str, Any]], Iterable[Any]]) -> bool:
        """Parse every item of ``value[key]``; returns whether the key was there."""
        if key not in self.value:
            return False
        items = self.value[key]
        if not isinstance(items, list):
            self.walker.problem(f"{self.where}.{key}", f"'{key}' is not a list", items)
            return True
        for k, item in enumerate(items):
            where = f"{self.where}.{key}[{k}]"
            if not isinstance(item, dict):
                self.walker.problem(where, "item is not an object", item)
                continue
            self.walker.attempt(where, item, lambda item=item: parse(item))
        return True

    def _platform_errors(self) -> bool:
        if "errors" not in self.value:
            return False
        self.walker.attempt(
            f"{self.where}.errors",
            self.value["errors"],
            lambda: [
                PlatformError(
                    field=self.field,
                    errors=_error_details(self.value["errors"]),
                    raw={"errors": self.value["errors"]},
                    **self.base,
                )
            ],
        )
        return True

    # -- field: messages / smb_message_echoes

    def walk_messaging(self) -> None:
        """Messages, echoes, statuses, errors and calls of a messaging change."""
        seen = [
            self.walk_list("messages", self.inbound),
            self.walk_list("message_echoes", self.echo),
            self.walk_list("statuses", self.status),
            self._platform_errors(),
            self.walk_list("calls", self.call),
        ]
        if not any(seen):
            self.walker.result.events.append(
                UnknownEvent(field=self.field, raw=self.value, **self.base)
            )

    def inbound(self, msg: dict[str, Any]) -> list[Any]:
        """One message the lead sent."""
        contact = _require_key(
            self.contacts.find(
                _str(msg.get("from")),
                _str(msg.get("from_user_id")),
                _str(msg.get("from_parent_user_id")),
            ),
            "message",
        )
        return [self._message_event(msg, contact, Direction.INBOUND, Author.LEAD)]

    def echo(self, msg: dict[str, Any]) -> list[Any]:
        """One message the business sent from the WhatsApp Business App (Coexistence)."""
        to = _str(msg.get("to"))
        if to and self.business_number and to == self.business_number:
            # Some captures put the business in `to`; the lead is then the sender.
            ids = (_str(msg.get("from")), _str(msg.get("from_user_id")), None)
        else:
            ids = (to, _str(msg.get("to_user_id")), _str(msg.get("to_parent_user_id")))
        contact = _require_key(self.contacts.find(*ids), "echo")
        return [self._message_event(msg, contact, Direction.OUTBOUND, Author.PHONE_ECHO)]

    def _message_event(
        self, msg: dict[str, Any], contact: Contact, direction: Direction, author: Author
    ) -> Any:
        kind = _str(msg.get("type"))
        common = {"contact": contact, "raw": msg, **self.base}
        if kind == "edit":
            return self._edit(msg, common, direction, author)
        if kind == "revoke":
            return self._revoke(msg, common, direction)
        message = _build_message(msg, direction=direction, author=author)
        if kind == "reaction":
            reaction = _dict(msg.get("reaction"))
            return Reaction(
                direction=direction,
                reaction_id=message.id,
                message_id=_str(reaction.get("message_id")),
                emoji=_str(reaction.get("emoji")),
                timestamp=message.timestamp,
                message=message,
                **common,
            )
        if kind == "system":
            system = _dict(msg.get("system"))
            return SystemNotice(
                message=message,
                system_type=_str(system.get("type")),
                new_wa_id=_str(system.get("wa_id")),
                **common,
            )
        if direction is Direction.OUTBOUND:
            return EchoMessage(message=message, **common)
        return InboundMessage(message=message, errors=_error_details(msg.get("errors")), **common)

    def _edit(
        self, msg: dict[str, Any], common: dict[str, Any], direction: Direction, author: Author
    ) -> MessageEdit:
        edit = _dict(msg.get("edit"))
        edit_id = _str(msg.get("id"))
        original = _str(edit.get("original_message_id"))
        if not edit_id or not original:
            raise _ItemError("edit needs an id and edit.original_message_id")
        when = _timestamp(msg.get("timestamp"), "edit timestamp")
        inner = _dict(edit.get("message"))
        message = _build_message(
            inner, direction=direction, author=author, message_id=original, timestamp=when
        )
        return MessageEdit(
            direction=direction,
            edit_id=edit_id,
            original_message_id=original,
            message=message,
            timestamp=when,
            **common,
        )

    def _revoke(
        self, msg: dict[str, Any], common: dict[str, Any], direction: Direction
    ) -> MessageRevoke:
        revoke_id = _str(msg.get("id"))
        original = _str(_dict(msg.get("revoke")).get("original_message_id"))
        if not revoke_id or not original:
            raise _ItemError("revoke needs an id and revoke.original_message_id")
        return MessageRevoke(
            direction=direction,
            revoke_id=revoke_id,
            original_message_id=original,
            timestamp=_timestamp(msg.get("timestamp"), "revoke timestamp"),
            **common,
        )

    def status(self, item: dict[str, Any]) -> list[Any]:
        """Delivery news about one outbound message."""
        message_id = _str(item.get("id"))
        name = _str(item.get("status"))
        if not message_id or not name:
            raise _ItemError("status needs 'id' and 'status'")
        try:
            status: DeliveryStatus | None = DeliveryStatus(name.lower())
        except ValueError:
            status = None
        conversation = None
        if isinstance(item.get("conversation"), dict):
            conv = item["conversation"]
            conversation = ConversationInfo(
                id=_str(conv.get("id")),
                origin_type=_str(_dict(conv.get("origin")).get("type")),
                expiration_timestamp=_optional_timestamp(conv.get("expiration_timestamp")),
            )
        pricing = None
        if isinstance(item.get("pricing"), dict):
            price = item["pricing"]
            billable = price.get("billable")
            pricing = Pricing(
                billable=billable if isinstance(billable, bool) else None,
                pricing_model=_str(price.get("pricing_model")),
                category=_str(price.get("category")),
                type=_str(price.get("type")),
            )
        return [
            StatusUpdate(
                message_id=message_id,
                status=status,
                status_name=name,
                timestamp=_timestamp(item.get("timestamp"), "status timestamp"),
                recipient_id=_str(item.get("recipient_id")),
                recipient_user_id=_str(item.get("recipient_user_id")),
                recipient_type=_str(item.get("recipient_type")),
                errors=_error_details(item.get("errors")),
                conversation=conversation,
                pricing=pricing,
                biz_opaque_callback_data=_str(item.get("biz_opaque_callback_data")),
                raw=item,
                **self.base,
            )
        ]

    def call(self, item: dict[str, Any]) -> list[Any]:
        """Calling events are not handled by the copilot: kept as unknown."""
        return [UnknownEvent(field="calls", raw=item, **self.base)]

    # -- field: history (Coexistence backfill)

    def walk_history(self) -> None:
        """History chunks (threads of past messages) and media follow-ups."""
        seen = [
            self.walk_list("history", self.history_chunk),
            self.walk_list("messages", lambda msg: [self.history_message(msg, None, {})]),
            self._platform_errors(),
        ]
        if not any(seen):
            self.walker.result.events.append(
                UnknownEvent(field=self.field, raw=self.value, **self.base)
            )

    def history_chunk(self, chunk: dict[str, Any]) -> list[Any]:
        """One chunk: a progress event, then every message of every thread."""
        meta = _dict(chunk.get("metadata"))
        progress = {
            "phase": _int(meta.get("phase")),
            "chunk_order": _int(meta.get("chunk_order")),
            "progress": _int(meta.get("progress")),
        }
        threads = _list(chunk.get("threads"))
        message_count = sum(len(_list(t.get("messages"))) for t in threads if isinstance(t, dict))
        # Keep the progress event small: the messages are events of their own.
        summary = {k: v for k, v in chunk.items() if k != "threads"}
        # The progress event goes first, then the thread messages in order.
        self.walker.result.events.append(
            HistoryProgress(
                thread_count=len(threads),
                message_count=message_count,
                errors=_error_details(chunk.get("errors")),
                raw=summary,
                **progress,
                **self.base,
            )
        )
        for t, thread in enumerate(threads):
            where = f"{self.where}.history.threads[{t}]"
            if not isinstance(thread, dict):
                self.walker.problem(where, "thread is not an object", thread)
                continue
            thread_id = _str(thread.get("id"))
            for m, msg in enumerate(_list(thread.get("messages"))):
                if not isinstance(msg, dict):
                    self.walker.problem(f"{where}.messages[{m}]", "item is not an object", msg)
                    continue
                self.walker.attempt(
                    f"{where}.messages[{m}]",
                    msg,
                    lambda msg=msg, thread_id=thread_id: [
                        self.history_message(msg, thread_id, progress)
                    ],
                )
        return []

    def _history_direction(self, msg: dict[str, Any], thread_id: str | None) -> Direction:
        from_me = msg.get("from_me", _dict(msg.get("history_context")).get("from_me"))
        if isinstance(from_me, bool):
            return Direction.OUTBOUND if from_me else Direction.INBOUND
        sender = _str(msg.get("from"))
        if sender and thread_id:
            return Direction.INBOUND if sender == thread_id else Direction.OUTBOUND
        if sender and self.business_number and sender == self.business_number:
            return Direction.OUTBOUND
        if not sender and _str(msg.get("to")):
            return Direction.OUTBOUND
        return Direction.INBOUND

    def history_message(
        self, msg: dict[str, Any], thread_id: str | None, progress: dict[str, Any]
    ) -> HistoryMessage:
        """One past message; its direction comes from ``from_me`` or who sent it."""
        direction = self._history_direction(msg, thread_id)
        if thread_id:
            is_phone = bool(_PHONE_LIKE.fullmatch(thread_id))
            ids = (thread_id, None, None) if is_phone else (None, thread_id, None)
        elif direction is Direction.INBOUND:
            ids = (_str(msg.get("from")), _str(msg.get("from_user_id")), None)
        else:
            ids = (_str(msg.get("to")), _str(msg.get("to_user_id")), None)
        contact = _require_key(self.contacts.find(*ids), "history message")
        history_status = _str(_dict(msg.get("history_context")).get("status"))
        status = None
        if direction is Direction.OUTBOUND and history_status:
            try:
                status = DeliveryStatus(history_status.lower())
            except ValueError:
                status = None
        message = _build_message(
            msg,
            direction=direction,
            author=Author.LEAD if direction is Direction.INBOUND else Author.PHONE_ECHO,
            status=status,
        )
        return HistoryMessage(
            contact=contact,
            message=message,
            history_status=history_status,
            raw=msg,
            **progress,
            **self.base,
        )

    # -- Coexistence contact sync, preferences, account notices

    def app_state_sync(self, item: dict[str, Any]) -> list[Any]:
        """One contact added, changed or removed in the WhatsApp Business App."""
        contact = _dict(item.get("contact"))
        return [
            AppStateSync(
                sync_type=_str(item.get("type")),
                action=_str(item.get("action")),
                contact=Contact(
                    wa_id=_digits_if_phone(_str(contact.get("phone_number"))),
                    user_id=_str(contact.get("user_id")),
                    name=_str(contact.get("full_name")) or _str(contact.get("first_name")),
                ),
                first_name=_str(contact.get("first_name")),
                timestamp=_optional_timestamp(_dict(item.get("metadata")).get("timestamp")),
                raw=item,
                **self.base,
            )
        ]

    def user_preference(self, item: dict[str, Any]) -> list[Any]:
        """One marketing preference change (stop / resume / signup)."""
        value = _str(item.get("value"))
        if not value:
            raise _ItemError("user preference has no 'value'")
        contact = _require_key(
            self.contacts.find(_str(item.get("wa_id")), _str(item.get("user_id"))),
            "user preference",
        )
        return [
            UserPreferences(
                contact=contact,
                category=_str(item.get("category")),
                value=value,
                detail=_str(item.get("detail")),
                timestamp=_optional_timestamp(item.get("timestamp")),
                raw=item,
                **self.base,
            )
        ]

    def account_update(self) -> AccountUpdate:
        """A notice about the account, a number or a template."""
        return AccountUpdate(
            field=self.field,
            event=_str(self.value.get("event")),
            value=self.value,
            raw=self.value,
            **self.base,
        )
