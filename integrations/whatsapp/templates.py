"""Read the approved message templates of a WhatsApp Business Account.

``GET {base_url}/{waba_id}/message_templates`` answers a page of templates and
a ``paging.next`` URL while more remain. :func:`approved_templates` follows the
pages (bounded in number, and only on the same server: the token never goes
elsewhere) and keeps the approved ones: name, language, category, body text and
the body's variables (``{{1}}`` or ``{{name}}``, in order of first use).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from copilot.integrations.whatsapp.errors import SendError, WhatsAppError
from copilot.integrations.whatsapp.sender import GraphClient

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
#: The most pages read in one sync (100 templates each).
MAX_PAGES = 50


class TemplateSyncError(WhatsAppError):
    """The templates could not be read (the message says why)."""


@dataclass(frozen=True)
class ApprovedTemplate:
    """One approved template in one language."""

    name: str
    language: str
    category: str
    body: str
    variables: list[str] = field(default_factory=list)


def _body_of(components: Any) -> str:
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            return str(component.get("text") or "")
    return ""


def _variables(body: str) -> list[str]:
    seen: list[str] = []
    for name in _VARIABLE.findall(body):
        if name not in seen:
            seen.append(name)
    return seen


def parse_template(item: Any) -> ApprovedTemplate | None:
    """An approved template from one item of Meta's answer, else None."""
    if not isinstance(item, dict) or str(item.get("status", "")).upper() != "APPROVED":
        return None
    name, language = item.get("name"), item.get("language")
    if not isinstance(name, str) or not name or not isinstance(language, str) or not language:
        return None
    body = _body_of(item.get("components"))
    return ApprovedTemplate(
        name=name[:512],
        language=language[:16],
        category=str(item.get("category") or "").upper()[:32],
        body=body[:2048],
        variables=_variables(body),
    )


def approved_templates(reader: GraphClient, waba_id: str) -> list[ApprovedTemplate]:
    """Every approved template of the account ``waba_id``, page after page;
    raises :class:`TemplateSyncError`."""
    if not re.fullmatch(r"[0-9]{1,32}", waba_id or ""):
        raise TemplateSyncError(f"not a business account id: {str(waba_id)[:40]!r}")
    url: str | None = f"{reader.base_url}/{waba_id}/message_templates"
    params: dict[str, str] | None = {
        "limit": "100",
        "fields": "name,language,status,category,components",
    }
    origin = urlsplit(reader.base_url)[:2]
    found: list[ApprovedTemplate] = []
    for _ in range(MAX_PAGES):
        if url is None:
            return found
        try:
            body = reader.get(url, params).json()
        except ValueError:
            raise TemplateSyncError("the Business Management API answered no JSON") from None
        except SendError as exc:
            raise TemplateSyncError(f"templates not read: {exc}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise TemplateSyncError("the Business Management API answered no template list")
        found.extend(t for t in map(parse_template, body["data"]) if t is not None)
        paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
        following = paging.get("next")
        # The next page's URL carries its own query; only ever on the same server.
        url = (
            following if isinstance(following, str) and urlsplit(following)[:2] == origin else None
        )
        params = None
    raise TemplateSyncError(f"more than {MAX_PAGES} pages of templates")
