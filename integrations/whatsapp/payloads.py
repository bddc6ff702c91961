"""JSON bodies of the Cloud API ``/messages`` endpoint, checked against its limits.

The builders are pure functions so the real sender, the outbox and the tests
all agree on the exact JSON that goes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from copilot.integrations.whatsapp.errors import InvalidMessageError

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ID = 256
MAX_HEADER = 60
MAX_FOOTER = 60
MAX_SECTIONS = 10
MAX_ROWS = 10
MAX_SECTION_TITLE = 24
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72


class ReplyButton(BaseModel):
    """A quick-reply button: the ``id`` comes back as the reply's payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str


class ListRow(BaseModel):
    """One choice of a list message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    description: str | None = None


class ListSection(BaseModel):
    """A titled group of rows in a list message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str | None = None
    rows: list[ListRow]


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidMessageError(f"{what} must be a non-empty string")
    if len(value) > limit:
        raise InvalidMessageError(f"{what} is {len(value)} characters; WhatsApp allows {limit}")
    return value


def _recipient(to: Any) -> str:
    return _text(to, "recipient 'to'", 256)


def _envelope(to: str, kind: str, reply_to: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": _recipient(to),
        "type": kind,
    }
    if reply_to:
        body["context"] = {"message_id": reply_to}
    return body


def text_payload(
    to: str, body: str, *, preview_url: bool = False, reply_to: str | None = None
) -> dict[str, Any]:
    """A free-text message (only inside the 24-hour window)."""
    payload = _envelope(to, "text", reply_to)
    payload["text"] = {"preview_url": preview_url, "body": _text(body, "text body", MAX_TEXT)}
    return payload


#: What an outbound attachment may be, and its size limit (Cloud API limits).
MEDIA_KINDS = {"image": ("image/jpeg", "image/png"), "document": ("application/pdf",)}
MAX_CAPTION = 1024


def media_payload(
    to: str,
    kind: str,
    media_id: str,
    *,
    caption: str | None = None,
    filename: str | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    """An image or document message of an uploaded media id."""
    if kind not in MEDIA_KINDS:
        raise InvalidMessageError(f"media kind must be one of {', '.join(MEDIA_KINDS)}")
    payload = _envelope(to, kind, reply_to)
    media: dict[str, Any] = {"id": _text(media_id, "media id", MAX_ID)}
    if caption:
        media["caption"] = _text(caption, "caption", MAX_CAPTION)
    if filename and kind == "document":
        media["filename"] = _text(filename, "file name", 240)
    payload[kind] = media
    return payload


def template_payload(
    to: str,
    name: str,
    language: str,
    body_variables: Sequence[str] | Mapping[str, str] = (),
    *,
    components: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An approved template. ``body_variables`` fill ``{{1}}, {{2}}...`` in order, or
    named parameters when given as a mapping; ``components`` replaces them entirely."""
    template: dict[str, Any] = {
        "name": _text(name, "template name", 512),
        "language": {"code": _text(language, "template language", 15)},
    }
    if components is not None:
        template["components"] = components
    elif body_variables:
        if isinstance(body_variables, Mapping):
            parameters = [
                {
                    "type": "text",
                    "parameter_name": key,
                    "text": _text(value, f"variable {key}", 32768),
                }
                for key, value in body_variables.items()
            ]
        elif isinstance(body_variables, str):
            raise InvalidMessageError("body_variables must be a list of strings, not one string")
        else:
            parameters = [
                {"type": "text", "text": _text(value, f"variable {i}", 32768)}
                for i, value in enumerate(body_variables, start=1)
            ]
        template["components"] = [{"type": "body", "parameters": parameters}]
    payload = _envelope(to, "template", None)
    payload["template"] = template
    return payload


def _coerce_button(item: Any) -> ReplyButton:
    if isinstance(item, ReplyButton):
        return item
    if isinstance(item, Mapping):
        return ReplyButton.model_validate(dict(item))
    if isinstance(item, tuple | list) and len(item) == 2:
        return ReplyButton(id=item[0], title=item[1])
    raise InvalidMessageError(f"a button must be ReplyButton, (id, title) or a mapping: {item!r}")


def _interactive(
    to: str,
    kind: str,
    body: str,
    action: dict[str, Any],
    header: str | None,
    footer: str | None,
    reply_to: str | None,
) -> dict[str, Any]:
    interactive: dict[str, Any] = {"type": kind}
    if header is not None:
        interactive["header"] = {"type": "text", "text": _text(header, "header", MAX_HEADER)}
    interactive["body"] = {"text": _text(body, "interactive body", MAX_INTERACTIVE_BODY)}
    if footer is not None:
        interactive["footer"] = {"text": _text(footer, "footer", MAX_FOOTER)}
    interactive["action"] = action
    payload = _envelope(to, "interactive", reply_to)
    payload["interactive"] = interactive
    return payload


def buttons_payload(
    to: str,
    body: str,
    buttons: Sequence[ReplyButton | tuple[str, str] | Mapping[str, str]],
    *,
    header: str | None = None,
    footer: str | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    """An interactive message with one to three quick-reply buttons."""
    try:
        parsed = [_coerce_button(item) for item in buttons]
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise InvalidMessageError(f"invalid button: {exc}") from None
    if not 1 <= len(parsed) <= MAX_BUTTONS:
        raise InvalidMessageError(f"{len(parsed)} buttons; WhatsApp allows 1 to {MAX_BUTTONS}")
    if len({b.id for b in parsed}) != len(parsed):
        raise InvalidMessageError("button ids must be unique")
    action = {
        "buttons": [
            {
                "type": "reply",
                "reply": {
                    "id": _text(b.id, "button id", MAX_ID),
                    "title": _text(b.title, "button title", MAX_BUTTON_TITLE),
                },
            }
            for b in parsed
        ]
    }
    return _interactive(to, "button", body, action, header, footer, reply_to)


def list_payload(
    to: str,
    body: str,
    button: str,
    sections: Sequence[ListSection | Mapping[str, Any]],
    *,
    header: str | None = None,
    footer: str | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    """An interactive list: a button that opens up to ten rows grouped in sections."""
    try:
        parsed = [
            s if isinstance(s, ListSection) else ListSection.model_validate(s) for s in sections
        ]
    except ValueError as exc:
        raise InvalidMessageError(f"invalid list section: {exc}") from None
    if not 1 <= len(parsed) <= MAX_SECTIONS:
        raise InvalidMessageError(f"{len(parsed)} sections; WhatsApp allows 1 to {MAX_SECTIONS}")
    rows = [row for section in parsed for row in section.rows]
    if not 1 <= len(rows) <= MAX_ROWS:
        raise InvalidMessageError(f"{len(rows)} rows; WhatsApp allows 1 to {MAX_ROWS} in all")
    if len({row.id for row in rows}) != len(rows):
        raise InvalidMessageError("list row ids must be unique")
    if len(parsed) > 1 and any(not s.title for s in parsed):
        raise InvalidMessageError("every section needs a title when there are several")
    out_sections = []
    for section in parsed:
        out: dict[str, Any] = {}
        if section.title:
            out["title"] = _text(section.title, "section title", MAX_SECTION_TITLE)
        out["rows"] = []
        for row in section.rows:
            item = {
                "id": _text(row.id, "row id", MAX_ID),
                "title": _text(row.title, "row title", MAX_ROW_TITLE),
            }
            if row.description:
                item["description"] = _text(row.description, "row description", MAX_ROW_DESCRIPTION)
            out["rows"].append(item)
        out_sections.append(out)
    action = {"button": _text(button, "list button", MAX_BUTTON_TITLE), "sections": out_sections}
    return _interactive(to, "list", body, action, header, footer, reply_to)
