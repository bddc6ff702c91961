"""The webhook parser on the project's own payloads (tests/data/whatsapp/own)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from copilot.integrations.whatsapp import (
    WebhookError,
    WebhookEvent,
    WebhookParseResult,
    parse_webhook,
)
from copilot.taxonomy import Author, DeliveryStatus, Direction, MessageType
from tests.conftest import WHATSAPP_OWN

FIXTURES = WHATSAPP_OWN
LEAD = "573015550101"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def parse(name: str) -> WebhookParseResult:
    result = parse_webhook((FIXTURES / name).read_bytes())
    assert result.errors == [], result.errors
    return result


def only(result: WebhookParseResult, kind: str) -> Any:
    events = result.of_kind(kind)
    assert len(events) == 1, [e.kind for e in result.events]
    return events[0]


def test_text_message_with_contact_and_metadata() -> None:
    event = only(parse("text_inbound.json"), "message")
    assert event.contact.wa_id == LEAD
    assert event.contact.user_id == "CO.7788990011223344"
    assert event.contact.parent_user_id == "CO.ENT.5566778899"
    assert event.contact.name == "Valentina Ríos"
    assert event.phone_number_id == "420000000000001"
    assert event.display_phone_number == "5716010000"
    assert event.waba_id == "310000000000001"
    message = event.message
    assert message.id == "wamid.GC-TEXT-0001"
    assert message.type is MessageType.TEXT
    assert message.direction is Direction.INBOUND and message.author is Author.LEAD
    assert message.text == "hola! cuanto sale el plan mensual?"
    assert message.timestamp == datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
    assert message.context is None and message.referral is None
    assert event.raw["text"]["body"] == message.text


def test_bytes_str_and_dict_give_the_same_events() -> None:
    raw = (FIXTURES / "text_inbound.json").read_bytes()
    a, b, c = parse_webhook(raw), parse_webhook(raw.decode()), parse_webhook(json.loads(raw))
    assert a == b == c


def test_reply_context_and_forwarding_flags() -> None:
    first, second = parse("text_reply_forwarded.json").of_kind("message")
    assert first.message.context.replied_to_id == "wamid.GC-BIZ-0042"
    assert first.message.context.replied_to_from == "5716010000"
    assert not first.message.context.forwarded
    assert not first.message.context.is_template_reply
    # Integer timestamps are accepted as well as strings.
    assert first.message.timestamp == datetime.fromtimestamp(1763640060, UTC)
    assert second.message.context.forwarded and second.message.context.frequently_forwarded
    assert second.message.context.replied_to_id is None


def test_click_to_whatsapp_referral_is_kept_on_the_message() -> None:
    message = only(parse("referral_ad.json"), "message").message
    referral = message.referral
    assert referral.source_type == "ad"
    assert referral.source_id == "120211000000000001"
    assert referral.headline == "Clases de yoga: primera gratis"
    assert referral.ctwa_clid == "ARAkGC-clid-0001"
    # Fields the model does not name are kept too.
    assert referral.model_dump()["image_url"] == "https://scontent.example/yoga.jpg"


def test_template_quick_reply_is_a_campaign_answer() -> None:
    message = only(parse("template_button_reply.json"), "message").message
    assert message.type is MessageType.BUTTON
    assert message.text == "Quero saber mais"
    assert message.payload == "PROMO_NOV_QUERO"
    assert message.context.is_template_reply
    assert message.context.campaign_payload == "PROMO_NOV_QUERO"
    assert message.context.replied_to_id == "wamid.GC-TPL-0900"


def test_interactive_button_list_and_flow_replies() -> None:
    button, row, flow = (e.message for e in parse("interactive_replies.json").of_kind("message"))
    assert (button.type, button.text, button.payload) == (
        MessageType.INTERACTIVE,
        "Agendar visita",
        "agendar_visita",
    )
    assert (row.text, row.payload) == ("Plan Pro", "plan_pro")
    assert flow.text == "Sent"
    assert json.loads(flow.payload)["ciudad"] == "Bogotá"
    # Interactive replies answer session messages, not templates.
    assert not button.context.is_template_reply


def test_media_with_captions_voice_notes_and_filenames() -> None:
    image, voice, document, video, sticker = (
        e.message for e in parse("media.json").of_kind("message")
    )
    assert image.type is MessageType.IMAGE and image.text == "este modelo en talla M?"
    assert image.media.id == "910000000000001" and image.media.mime_type == "image/jpeg"
    assert image.media.url == "https://lookaside.example/img/910000000000001"
    assert voice.type is MessageType.AUDIO and voice.media.voice and voice.text is None
    assert document.media.filename == "cotizacion_proveedor.pdf" and document.text is None
    assert video.type is MessageType.VIDEO and video.text == "así quedó la instalación"
    assert sticker.type is MessageType.STICKER and sticker.media.mime_type == "image/webp"


def test_location_and_contacts_become_readable_text() -> None:
    place, point, card = (e.message for e in parse("location_contacts.json").of_kind("message"))
    assert place.type is MessageType.LOCATION
    assert place.text == "📍 Parque de la 93, Cl. 93A #11A-28, Bogotá"
    assert point.text == "📍 6.2442, -75.5812"
    assert card.type is MessageType.CONTACTS
    assert card.text == "👤 Camila Ortiz: +57 310 555 0177, camila@example.com"


def test_reactions_edits_and_revokes() -> None:
    result = parse("reaction_edit_revoke.json")
    assert [e.kind for e in result.events] == ["reaction", "reaction", "edit", "revoke"]
    added, removed = result.of_kind("reaction")
    assert added.emoji == "❤️" and added.message_id == "wamid.GC-BIZ-0200"
    assert added.message.type is MessageType.REACTION and added.message.id == "wamid.GC-RCT-0001"
    assert removed.emoji is None
    edit = only(result, "edit")
    assert edit.original_message_id == "wamid.GC-TEXT-0001" and edit.edit_id == "wamid.GC-EDT-0001"
    # The new content is keyed by the original id so the inbox can replace it in place.
    assert edit.message.id == "wamid.GC-TEXT-0001"
    assert edit.message.text == "cuanto sale el plan anual?"
    assert edit.direction is Direction.INBOUND
    revoke = only(result, "revoke")
    assert revoke.original_message_id == "wamid.GC-TEXT-0003"
    assert revoke.contact.wa_id == LEAD


def test_order_system_unsupported_and_unknown_types_are_kept() -> None:
    result = parse("order_system_unsupported.json")
    assert [e.kind for e in result.events] == ["message", "system", "message", "message"]
    order, unsupported, unknown = (e for e in result.of_kind("message"))
    assert order.message.type is MessageType.ORDER
    assert order.message.text == (
        "para entrega el sábado\n🛒 2 × CAMISETA-M (45000 COP), 1 × GORRA (30000 COP)"
    )
    system = only(result, "system")
    assert system.message.type is MessageType.SYSTEM
    assert system.system_type == "user_changed_number"
    assert system.new_wa_id == "573015550202"
    assert unsupported.message.type is MessageType.UNSUPPORTED
    assert unsupported.errors[0].code == 131051
    assert unsupported.errors[0].details == "Message type is currently not supported."
    assert unknown.message.type is MessageType.UNKNOWN
    assert unknown.raw["hologram"] == {"id": "910000000000099"}


def test_statuses_with_pricing_errors_and_new_values() -> None:
    sent, delivered, read, played, failed, held = parse("statuses.json").of_kind("status")
    assert sent.message_id == "wamid.GC-OUT-0001" and sent.status is DeliveryStatus.SENT
    assert sent.recipient_id == LEAD
    assert sent.conversation.id == "conv-gc-0001"
    assert sent.conversation.origin_type == "marketing"
    assert sent.conversation.expiration_timestamp == datetime.fromtimestamp(1763733400, UTC)
    assert sent.pricing.billable is True and sent.pricing.category == "marketing"
    assert sent.pricing.pricing_model == "PMP"
    assert sent.biz_opaque_callback_data == "campaign=nov"
    assert [delivered.status, read.status, played.status] == [
        DeliveryStatus.DELIVERED,
        DeliveryStatus.READ,
        DeliveryStatus.PLAYED,
    ]
    assert failed.failed and failed.errors[0].code == 131047
    assert failed.errors[0].title == "Re-engagement message"
    # A status Meta added later is kept with its name, not dropped.
    assert held.status is None and held.status_name == "held_for_quality_assessment"


def test_coexistence_echoes_are_outbound_phone_answers_to_the_lead() -> None:
    result = parse("echoes.json")
    assert [e.kind for e in result.events] == ["echo", "echo", "edit"]
    text, image = result.of_kind("echo")
    assert text.contact.wa_id == LEAD and text.contact.name == "Valentina Ríos"
    assert text.message.direction is Direction.OUTBOUND
    assert text.message.author is Author.PHONE_ECHO
    assert text.message.is_human_answer
    assert text.message.text == "Hola Valentina! Sí, el plan mensual cuesta 120.000"
    # No phone in `to`: the lead is known by the business-scoped id.
    assert image.contact.wa_id is None and image.contact.user_id == "CO.1122334455667788"
    assert image.message.media.id == "910000000000010"
    edit = only(result, "edit")
    assert edit.direction is Direction.OUTBOUND and edit.message.author is Author.PHONE_ECHO
    assert edit.message.id == "wamid.GC-ECHO-0001"


def test_history_backfill_has_both_directions_and_progress() -> None:
    result = parse("history.json")
    assert [e.kind for e in result.events] == ["history_progress"] + ["history"] * 4
    progress = only(result, "history_progress")
    assert (progress.phase, progress.chunk_order, progress.progress) == (1, 2, 40)
    assert (progress.thread_count, progress.message_count) == (2, 4)
    asked, answered, placeholder, other = result.of_kind("history")
    assert all(e.backfill for e in (asked, answered, placeholder, other))
    assert asked.message.direction is Direction.INBOUND and asked.message.author is Author.LEAD
    assert asked.contact.wa_id == LEAD and asked.history_status == "READ"
    assert answered.message.direction is Direction.OUTBOUND
    assert answered.message.author is Author.PHONE_ECHO
    assert answered.message.status is DeliveryStatus.READ
    assert answered.contact.wa_id == LEAD
    assert placeholder.message.type is MessageType.UNKNOWN
    assert placeholder.message.status is DeliveryStatus.DELIVERED
    # `from_me: false` decides the direction when present.
    assert other.message.direction is Direction.INBOUND
    assert other.contact.wa_id == "5215555550144" and other.phase == 1


def test_history_declined_reports_the_error() -> None:
    progress = only(parse("history_declined.json"), "history_progress")
    assert progress.errors[0].code == 2593109
    assert progress.errors[0].details == "History sharing is turned off by the business"
    assert progress.message_count == 0


def test_history_media_follow_up_is_a_backfilled_message() -> None:
    """Media of a backfilled thread comes later, as ``messages`` in a history change."""
    event = only(parse("history_media.json"), "history")
    assert event.backfill and event.contact.wa_id == LEAD
    message = event.message
    assert message.type is MessageType.IMAGE and message.text == "la foto del local que pedí"
    assert message.direction is Direction.INBOUND and message.author is Author.LEAD
    assert message.media.id == "910000000000101"
    assert message.timestamp == datetime.fromtimestamp(1760000500, UTC)


def test_history_declined_alone_is_not_a_delivery() -> None:
    """Meta documents the declined notice as a bare ``value``: on its own it is
    no delivery (in its envelope, see the test above)."""
    value = load("history_declined.json")["entry"][0]["changes"][0]["value"]
    with pytest.raises(WebhookError, match="'object' must be"):
        parse_webhook(value)


def test_app_state_sync_contacts() -> None:
    added, removed = parse("app_state_sync.json").of_kind("app_state_sync")
    assert added.action == "add" and added.sync_type == "contact"
    assert added.contact.wa_id == "573005550133"  # display phone normalised to digits
    assert added.contact.name == "Julián Herrera" and added.first_name == "Julián"
    assert added.timestamp == datetime.fromtimestamp(1763649000, UTC)
    assert removed.action == "remove" and removed.contact.wa_id == "573005550144"


def test_user_preferences_opt_out_and_resume() -> None:
    stop, resume = parse("user_preferences.json").of_kind("user_preferences")
    assert stop.contact.wa_id == LEAD and stop.contact.name == "Valentina Ríos"
    assert stop.value == "stop" and stop.opted_out is True
    assert stop.category == "marketing_messages"
    assert resume.contact.wa_id == "573005550155" and resume.opted_out is False


def test_account_notices_and_unknown_fields() -> None:
    result = parse("account_notices.json")
    assert [e.kind for e in result.events] == ["account_update", "account_update", "unknown"]
    account, template, unknown = result.events
    assert account.field == "account_update" and account.event == "VERIFIED_ACCOUNT"
    assert template.field == "message_template_status_update" and template.event == "APPROVED"
    assert template.value["message_template_name"] == "bienvenida_gym"
    assert unknown.field == "brand_new_field"
    assert unknown.raw == {"something": "Meta added later"}


def test_lead_known_only_by_username_and_business_scoped_id() -> None:
    event = only(parse("username_only.json"), "message")
    assert event.contact.wa_id is None
    assert event.contact.user_id == "CO.9988776655443322"
    assert event.contact.parent_user_id == "CO.ENT.1234"
    assert event.contact.username == "@lu.compras"
    assert event.contact.key == "CO.9988776655443322"


def test_every_entry_and_change_is_walked() -> None:
    result = parse("multi_entry.json")
    assert [e.kind for e in result.events] == ["message", "message", "status", "message", "echo"]
    texts = [e.message.text for e in result.events if e.kind in ("message", "echo")]
    assert texts == ["uno", "dos", "tres", "cuatro"]
    assert result.events[3].phone_number_id == "420000000000002"
    assert result.events[3].waba_id == "310000000000002"
    assert result.events[4].contact.wa_id == "5215555550166"


def test_bad_items_are_reported_and_the_rest_still_parses() -> None:
    result = parse_webhook(load("partly_malformed.json"))
    assert [e.kind for e in result.events] == ["message", "status"]
    assert result.events[0].message.text == "este sí llega"
    assert result.events[1].message_id == "wamid.GC-OUT-0201"
    wheres = [p.where for p in result.errors]
    assert wheres == [
        "entry[0]",
        "entry[1].changes",
        "entry[2].changes[0].value",
        "entry[2].changes[1].value.messages[0]",
        "entry[2].changes[1].value.messages[1]",
        "entry[2].changes[1].value.messages[3]",
        "entry[2].changes[1].value.statuses[0]",
    ]
    by_where = {p.where: p for p in result.errors}
    assert "no id" in by_where["entry[2].changes[1].value.messages[0]"].error
    assert "timestamp" in by_where["entry[2].changes[1].value.messages[1]"].error
    assert by_where["entry[2].changes[1].value.messages[1]"].raw["id"] == "wamid.GC-BAD-0001"


def test_message_without_any_sender_is_reported_not_invented() -> None:
    payload = load("text_inbound.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"] = []
    del value["messages"][0]["from"]
    result = parse_webhook(payload)
    assert result.events == []
    assert "no lead identifier" in result.errors[0].error


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"object": "page", "entry": []}', "'object' must be"),
        (b'{"entry": []}', "'object' must be"),
        (b'{"object": "whatsapp_business_account"}', "'entry' must be a list"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
        (42, "bytes or a dict"),
    ],
)
def test_malformed_deliveries_raise_a_clear_webhook_error(payload: Any, needle: str) -> None:
    with pytest.raises(WebhookError, match=needle):
        parse_webhook(payload)


def test_events_round_trip_through_json() -> None:
    """The service can store or forward events as JSON and read them back by kind."""
    adapter = TypeAdapter(WebhookEvent)
    for path in sorted(FIXTURES.glob("*.json")):
        for event in parse_webhook(path.read_bytes()).events:
            again = adapter.validate_json(event.model_dump_json())
            assert again == event, path.name
