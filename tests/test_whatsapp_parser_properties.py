"""Property-based tests: the parser never crashes and never loses a valid message.

Whatever arrives (random bytes, JSON cut at any point, random nested objects,
real payloads with random parts replaced), ``parse_webhook`` either returns a
result or raises ``WebhookError``. A valid delivery with random extra keys
yields exactly one event per message, in order.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from copilot.integrations.whatsapp import WebhookError, WebhookParseResult, parse_webhook
from tests.conftest import whatsapp_payloads

SAMPLES = whatsapp_payloads()
SAMPLE_BYTES = [p.read_bytes() for p in SAMPLES]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Building whole deliveries is slower: fewer examples keep the suite quick.
DELIVERY_SETTINGS = settings(SETTINGS, max_examples=80)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)


def parse_or_webhook_error(payload: Any) -> WebhookParseResult | None:
    """Parse; the only exception allowed out is WebhookError."""
    try:
        result = parse_webhook(payload)
    except WebhookError:
        return None
    assert isinstance(result, WebhookParseResult)
    # Whatever came out can be serialised (the service stores and forwards it).
    result.model_dump_json()
    return result


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    parse_or_webhook_error(data)


@SETTINGS
@given(st.sampled_from(SAMPLE_BYTES), st.data())
def test_real_json_truncated_anywhere(raw: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(raw)))
    parse_or_webhook_error(raw[:cut])


@SETTINGS
@given(json_values)
def test_random_json_documents(value: Any) -> None:
    parse_or_webhook_error(json.dumps(value).encode())


@SETTINGS
@given(json_values, st.sampled_from(["entry", "changes", "value", "messages", "statuses"]))
def test_random_values_at_every_level_of_a_delivery(junk: Any, level: str) -> None:
    value: dict[str, Any] = {"metadata": {"phone_number_id": "1"}}
    change: dict[str, Any] = {"field": "messages", "value": value}
    delivery: dict[str, Any] = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [change]}],
    }
    if level == "entry":
        delivery["entry"] = junk
    elif level == "changes":
        delivery["entry"][0]["changes"] = junk
    elif level == "value":
        change["value"] = junk
    else:
        value[level] = junk
    parse_or_webhook_error(delivery)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            out += _paths(child, (*prefix, index))
    return out


@SETTINGS
@given(st.sampled_from(SAMPLE_BYTES), st.data())
def test_real_payloads_with_random_parts_replaced_or_removed(
    raw: bytes, data: st.DataObject
) -> None:
    doc = json.loads(raw)
    paths = [p for p in _paths(doc) if p]
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        path = data.draw(st.sampled_from(paths))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if data.draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = data.draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation already changed this branch
    parse_or_webhook_error(doc)


# --- valid deliveries: nothing lost ---------------------------------------------

LEADS = ["573015550101", "5491155550123", "5511955550199"]


def _body(kind: str, n: int) -> dict[str, Any]:
    bodies: dict[str, dict[str, Any]] = {
        "text": {"type": "text", "text": {"body": f"mensaje {n}"}},
        "image": {"type": "image", "image": {"id": f"m{n}", "caption": "foto"}},
        "audio": {"type": "audio", "audio": {"id": f"m{n}", "voice": True}},
        "location": {"type": "location", "location": {"latitude": 4.6, "longitude": -74.1}},
        "contacts": {"type": "contacts", "contacts": [{"name": {"formatted_name": "Sol"}}]},
        "interactive": {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "b", "title": "Sí"}},
        },
        "button": {"type": "button", "button": {"payload": "P", "text": "Sí"}},
        "order": {"type": "order", "order": {"product_items": [{"product_retailer_id": "X"}]}},
        "reaction": {"type": "reaction", "reaction": {"message_id": "wamid.o", "emoji": "👍"}},
        "edit": {
            "type": "edit",
            "edit": {"original_message_id": "wamid.o", "message": {"type": "text", "text": {}}},
        },
        "revoke": {"type": "revoke", "revoke": {"original_message_id": "wamid.o"}},
        "system": {"type": "system", "system": {"body": "cambió", "type": "user_changed_number"}},
        "unsupported": {"type": "unsupported", "errors": [{"code": 131051}]},
        "poll": {"type": "poll", "poll": {"question": "?"}},
    }
    return copy.deepcopy(bodies[kind])


MESSAGE_KINDS = st.sampled_from(
    [
        *("text", "image", "audio", "location", "contacts", "interactive", "button", "order"),
        *("reaction", "edit", "revoke", "system", "unsupported", "poll"),
    ]
)
small_values = st.recursive(
    json_scalars, lambda children: st.lists(children, max_size=2), max_leaves=4
)
extra_keys = st.dictionaries(
    st.text(min_size=1, max_size=8).map(lambda k: f"x_{k}"), small_values, max_size=2
)
timestamps = st.integers(min_value=0, max_value=4_000_000_000)
timestamp_forms = st.sampled_from([str, int])


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """A valid delivery (random shape, random extra keys) and its message ids in order."""
    ids: list[str] = []
    counter = 0
    entries = []
    for e in range(draw(st.integers(min_value=1, max_value=3))):
        changes = []
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            echoes = draw(st.booleans())
            items = []
            for _ in range(draw(st.integers(min_value=0, max_value=4))):
                counter += 1
                lead = draw(st.sampled_from(LEADS))
                item = _body(draw(MESSAGE_KINDS), counter)
                item["id"] = f"wamid.P{counter}"
                item["timestamp"] = draw(timestamp_forms)(draw(timestamps))
                if echoes:
                    item["from"], item["to"] = "5716010000", lead
                else:
                    item["from"] = lead
                item.update(draw(extra_keys))
                items.append(item)
                ids.append(item["id"])
            value: dict[str, Any] = {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "5716010000", "phone_number_id": f"pn{e}"},
                "contacts": [{"profile": {"name": "Lead"}, "wa_id": lead} for lead in LEADS],
                "message_echoes" if echoes else "messages": items,
            }
            value.update(draw(extra_keys))
            field = "smb_message_echoes" if echoes else "messages"
            changes.append({"field": field, "value": value, **draw(extra_keys)})
        entries.append({"id": f"waba{e}", "changes": changes, **draw(extra_keys)})
    delivery = {"object": "whatsapp_business_account", "entry": entries}
    delivery.update(draw(extra_keys))
    return delivery, ids


def item_id(event: Any) -> str | None:
    """The WhatsApp id of the message an event was built from."""
    if event.kind == "edit":
        return event.edit_id
    if event.kind == "revoke":
        return event.revoke_id
    message = getattr(event, "message", None)
    return message.id if message is not None else None


@DELIVERY_SETTINGS
@given(deliveries())
def test_every_message_of_a_valid_delivery_yields_one_event(case: Any) -> None:
    delivery, ids = case
    result = parse_webhook(json.dumps(delivery).encode())
    assert result.errors == []
    assert [item_id(e) for e in result.events] == ids


@DELIVERY_SETTINGS
@given(deliveries(), st.data())
def test_junk_in_optional_message_fields_loses_no_message(case: Any, data: st.DataObject) -> None:
    delivery, ids = case
    messages = [
        item
        for entry in delivery["entry"]
        for change in entry["changes"]
        for key in ("messages", "message_echoes")
        for item in change["value"].get(key, [])
    ]
    assume(messages)
    optional = ["context", "referral", "text", "image", "interactive", "button", "errors"]
    for item in messages:
        for key in data.draw(st.lists(st.sampled_from(optional), max_size=3, unique=True)):
            if item.get("type") not in ("edit", "revoke", "reaction", "system"):
                item[key] = data.draw(
                    small_values | st.dictionaries(st.text(max_size=5), small_values, max_size=3)
                )
    result = parse_webhook(delivery)
    assert result.errors == []
    assert [item_id(e) for e in result.events] == ids
