"""The parser on 56 real payloads from public MIT-licensed projects
(tests/data/whatsapp/public, with their license notices in LICENSES.md).

Each file has its own expectations: the event kinds in order and the key
values the copilot relies on. A file without expectations fails the suite, so
new shapes cannot slip in untested. Meta's documentation examples carry no
license and are not copied: the project's own payloads cover those kinds
(tests/test_whatsapp_parser.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from copilot.integrations.whatsapp import WebhookParseResult, parse_webhook
from copilot.taxonomy import DeliveryStatus, Direction, MessageType
from tests.conftest import WHATSAPP_PUBLIC as REAL

Check = Callable[[WebhookParseResult], None]
EXPECTED: dict[str, tuple[list[str], Check]] = {}


def expect(name: str, kinds: list[str]) -> Callable[[Check], Check]:
    """Register the event kinds and the value checks for one real payload."""

    def register(check: Check) -> Check:
        EXPECTED[name] = (kinds, check)
        return check

    return register


def ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def msg(result: WebhookParseResult, index: int = 0) -> Any:
    return result.events[index].message


# --- text and contacts --------------------------------------------------------


@expect("text.json", ["message"])
def _text(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.message.text == "Body Text" and e.message.type is MessageType.TEXT
    assert e.message.id == "wamid.xyzxyz" and e.message.timestamp == ts(1697043223)
    assert e.contact.wa_id == "972987654321" and e.contact.name == "Test Name"
    assert e.contact.user_id == "US.13491208655302741918"
    assert e.contact.parent_user_id == "US.ENT.11815799212886844830"
    assert e.phone_number_id == "1122334455667"


@expect("text_reply_context.json", ["message"])
def _reply(r: WebhookParseResult) -> None:
    m = msg(r)
    assert m.text == "replied text"
    assert (
        m.context.replied_to_id == "wamid.xyzxyz==" and m.context.replied_to_from == "972123456789"
    )


@expect("text_forwarded.json", ["message"])
def _forwarded(r: WebhookParseResult) -> None:
    assert msg(r).context.forwarded and not msg(r).context.frequently_forwarded


@expect("text_frequently_forwarded.json", ["message"])
def _frequently(r: WebhookParseResult) -> None:
    assert msg(r).context.frequently_forwarded and msg(r).text == "text forwarded many times"


@expect("text_multiple_messages.json", ["message", "message"])
def _multiple(r: WebhookParseResult) -> None:
    assert [e.message.text for e in r.events] == ["MESSAGE_BODY", "MESSAGE_BODY2"]
    assert [e.message.timestamp for e in r.events] == [ts(1669233778), ts(1669233779)]


@expect("text_no_contact_profile.json", ["message"])
def _no_profile(r: WebhookParseResult) -> None:
    assert r.events[0].contact.wa_id == "PHONE_NUMBER" and r.events[0].contact.name is None


@expect("text_bsuid_only_no_from.json", ["message"])
def _bsuid_only(r: WebhookParseResult) -> None:
    contact = r.events[0].contact
    assert contact.wa_id is None and contact.user_id == "BSUID_123" and contact.name == "NAME"
    assert contact.key == "BSUID_123"


@expect("text_username_bsuid.json", ["message"])
def _username(r: WebhookParseResult) -> None:
    contact = r.events[0].contact
    assert contact.wa_id is None and contact.user_id == "US.13491208655302741918"
    assert (
        contact.username == "@testusername" and contact.parent_user_id == "US.ENT.506847293015824"
    )


@expect("text_phone_and_username.json", ["message"])
def _phone_and_username(r: WebhookParseResult) -> None:
    contact = r.events[0].contact
    assert contact.wa_id == "16315551181" and contact.username == "@testusername"
    assert contact.user_id == "US.13491208655302741918"
    assert msg(r).timestamp == ts(1504902988)


# --- media ------------------------------------------------------------------------


@expect("image.json", ["message"])
def _image(r: WebhookParseResult) -> None:
    m = msg(r)
    assert m.type is MessageType.IMAGE and m.text is None
    assert m.media.id == "65463453" and m.media.mime_type == "image/jpeg" and m.media.url is None


@expect("image_with_url.json", ["message"])
def _image_url(r: WebhookParseResult) -> None:
    assert msg(r).media.url.startswith("https://lookaside.fbsbx.com/")


@expect("video_caption.json", ["message"])
def _video(r: WebhookParseResult) -> None:
    m = msg(r)
    assert m.type is MessageType.VIDEO and m.text == "hello world"
    assert m.media.mime_type == "video/mp4" and m.media.id == "661828760183585"


@expect("audio.json", ["message"])
def _audio(r: WebhookParseResult) -> None:
    m = msg(r)
    assert m.type is MessageType.AUDIO and not m.media.voice and m.context.forwarded


@expect("audio_voice.json", ["message"])
def _voice(r: WebhookParseResult) -> None:
    m = msg(r)
    assert m.type is MessageType.AUDIO and m.media.voice
    assert m.media.mime_type == "audio/ogg; codecs=opus"


@expect("document.json", ["message"])
def _document(r: WebhookParseResult) -> None:
    m = msg(r)
    assert m.type is MessageType.DOCUMENT and m.media.filename == "4_641947.pdf"
    assert m.media.mime_type == "application/pdf"


@expect("sticker.json", ["message"])
def _sticker(r: WebhookParseResult) -> None:
    assert msg(r).type is MessageType.STICKER and msg(r).media.mime_type == "image/webp"


# --- location, contacts, interactive, orders ------------------------------------------


@expect("location_current.json", ["message"])
def _location_current(r: WebhookParseResult) -> None:
    assert msg(r).type is MessageType.LOCATION and msg(r).text == "📍 12.25089, 43.90539"


@expect("location_place.json", ["message"])
def _location_place(r: WebhookParseResult) -> None:
    assert msg(r).text == "📍 Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025"


@expect("contacts.json", ["message"])
def _contacts(r: WebhookParseResult) -> None:
    m = msg(r)
    assert m.type is MessageType.CONTACTS
    assert m.text.splitlines() == [
        "👤 Chandler Bing: +1 555-555-5555",
        "👤 Monica: +1 666-666-6666",
        "👤 Rachel Green: +1 777-777-7777",
    ]


@expect("interactive_button_reply.json", ["message"])
def _button_reply(r: WebhookParseResult) -> None:
    m = msg(r)
    assert (m.type, m.text, m.payload) == (MessageType.INTERACTIVE, "title", "callback_data")
    assert m.context.replied_to_id == "wamid.xyzxyz" and not m.context.is_template_reply


@expect("interactive_list_reply.json", ["message"])
def _list_reply(r: WebhookParseResult) -> None:
    assert (msg(r).text, msg(r).payload) == ("title", "callback_data")


@expect("interactive_flow_nfm_reply.json", ["message"])
def _flow(r: WebhookParseResult) -> None:
    m = msg(r)
    assert m.text == "Sent" and json.loads(m.payload)["delivery_rating"] == "4"


@expect("interactive_missing_body.json", ["message", "platform_error"])
def _interactive_missing(r: WebhookParseResult) -> None:
    assert msg(r).type is MessageType.INTERACTIVE and msg(r).text is None
    assert r.events[1].errors[0].code == 131000
    assert r.events[1].errors[0].details == "Unsupported webhook payload"


@expect("template_quick_reply_button.json", ["message"])
def _template_button(r: WebhookParseResult) -> None:
    m = msg(r)
    assert (m.type, m.text, m.payload) == (MessageType.BUTTON, "SIM", "SIM")
    assert m.context.is_template_reply and m.context.campaign_payload == "SIM"


@expect("order.json", ["message"])
def _order(r: WebhookParseResult) -> None:
    assert msg(r).type is MessageType.ORDER
    assert msg(r).text == "🛒 3 × HAMBURGER (30 ILS), 2 × FRENCH_FRIES (35 ILS), 2 × SODA (10 ILS)"


@expect("referral_ad.json", ["message"])
def _referral(r: WebhookParseResult) -> None:
    m = msg(r)
    assert m.text == "BODY" and m.referral.ctwa_clid == "CTWA_CLID"
    assert m.referral.source_id == "ADID" and m.referral.headline == "AD_TITLE"
    assert m.referral.model_dump()["thumbnail_url"] == "RAW_THUMBNAIL_URL"


@expect("referral_ad_button_referred_product.json", ["message"])
def _referral_button(r: WebhookParseResult) -> None:
    m = msg(r)
    assert m.referral.source_url == "AD_OR_POST_FB_URL"
    assert (m.type, m.payload) == (MessageType.BUTTON, "No-Button-Payload")
    assert m.context.forwarded and m.context.frequently_forwarded
    assert m.timestamp == ts(1669233778)  # an integer timestamp
    assert r.events[0].raw["context"]["referred_product"]["product_retailer_id"] == "PRODUCT_ID"


# --- reactions, unsupported, system, edits -------------------------------------------


@expect("reaction.json", ["reaction"])
def _reaction(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.emoji == "😮" and e.message_id == "wamid.yzxyzx=" and e.contact.wa_id == "972987654321"


@expect("reaction_removed.json", ["reaction"])
def _unreaction(r: WebhookParseResult) -> None:
    assert r.events[0].emoji is None and r.events[0].message_id == "wamid.yzxyzx="


@expect("unsupported.json", ["message"])
def _unsupported(r: WebhookParseResult) -> None:
    assert msg(r).type is MessageType.UNSUPPORTED and r.events[0].errors[0].code == 131051


@expect("unsupported_poll.json", ["message"])
def _unsupported_poll(r: WebhookParseResult) -> None:
    assert (
        msg(r).type is MessageType.UNSUPPORTED and r.events[0].raw["unsupported"]["type"] == "pool"
    )


@expect("unknown_type.json", ["message"])
def _unknown(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.message.type is MessageType.UNKNOWN
    assert e.errors[0].code == 131051 and e.errors[0].details.startswith("Message type is not")


@expect("message_deleted_unsupported.json", ["message"])
def _deleted(r: WebhookParseResult) -> None:
    assert msg(r).type is MessageType.UNSUPPORTED and r.events[0].contact.name == "Mauricio Binda"


@expect("system_user_changed_number.json", ["system"])
def _system_changed(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.system_type == "user_changed_number" and e.new_wa_id == "NEW_PHONE_NUMBER_ID"
    assert e.message.type is MessageType.SYSTEM and e.message.timestamp == ts(1669233778)


@expect("system_phone_number_change.json", ["system"])
def _system_phone(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.contact.wa_id == "972987654321" and e.new_wa_id == "972912345678"
    assert e.message.text == "User A changed from 972987654321 to 972912345678"


@expect("system_identity_change.json", ["system"])
def _system_identity(r: WebhookParseResult) -> None:
    assert r.events[0].system_type == "customer_identity_changed"
    assert r.events[0].contact.name == "User A"


@expect("edit_inbound.json", ["edit"])
def _edit(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.direction is Direction.INBOUND
    assert e.original_message_id.startswith("wamid.HBgLMTQxMjU1NTA4")
    assert e.message.id == e.original_message_id
    assert e.message.type is MessageType.IMAGE and e.message.text == "Updated image caption"
    assert e.message.context.replied_to_id == "M0"


@expect("revoke_inbound.json", ["revoke"])
def _revoke(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.original_message_id == "<ORIGINAL_WHATSAPP_MESSAGE_ID>"
    assert e.direction is Direction.INBOUND and e.timestamp == ts(1697043223)


# --- statuses --------------------------------------------------------------------------


@expect("status_sent_pricing.json", ["status"])
def _sent_pricing(r: WebhookParseResult) -> None:
    s = r.events[0]
    assert s.status is DeliveryStatus.SENT and s.recipient_id == "1111111111111"
    assert s.conversation.origin_type == "business_initiated"
    assert s.conversation.expiration_timestamp == ts(1673031000)
    assert s.pricing.pricing_model == "CBP" and s.pricing.billable is True


@expect("status_sent_tracker.json", ["status"])
def _sent_tracker(r: WebhookParseResult) -> None:
    assert r.events[0].biz_opaque_callback_data == "some data"


@expect("status_sent_to_bsuid.json", ["status"])
def _sent_bsuid(r: WebhookParseResult) -> None:
    s = r.events[0]
    assert s.recipient_id is None and s.recipient_user_id == "US.13491208655302741918"
    assert s.pricing.type == "regular" and s.pricing.category == "marketing"


@expect("status_delivered.json", ["status"])
def _delivered(r: WebhookParseResult) -> None:
    assert r.events[0].status is DeliveryStatus.DELIVERED and r.events[0].timestamp == ts(
        1698266945
    )


@expect("status_read.json", ["status"])
def _read(r: WebhookParseResult) -> None:
    assert r.events[0].status is DeliveryStatus.READ and r.events[0].message_id == "wamid.xyzxyz"


@expect("status_played.json", ["status"])
def _played(r: WebhookParseResult) -> None:
    assert r.events[0].status is DeliveryStatus.PLAYED


@expect("status_group.json", ["status"])
def _group(r: WebhookParseResult) -> None:
    assert r.events[0].recipient_type == "group" and r.events[0].status is DeliveryStatus.READ


@expect("status_failed_experiment.json", ["status"])
def _failed_experiment(r: WebhookParseResult) -> None:
    s = r.events[0]
    assert s.failed and s.errors[0].code == 130472
    assert s.errors[0].href.startswith("https://developers.facebook.com/")


@expect("status_failed_reengagement.json", ["status"])
def _failed_window(r: WebhookParseResult) -> None:
    s = r.events[0]
    assert s.failed and s.errors[0].code == 131047 and s.errors[0].title == "Re-engagement message"
    assert "24 hours" in s.errors[0].details


@expect("status_failed_media.json", ["status"])
def _failed_media(r: WebhookParseResult) -> None:
    assert r.events[0].errors[0].code == 131053 and r.events[0].recipient_id == "1111111111111"


@expect("status_failed_netflie.json", ["status"])
def _failed_netflie(r: WebhookParseResult) -> None:
    s = r.events[0]
    assert s.failed and (s.errors[0].code, s.errors[0].title) == (131053, "ERROR_TITLE")
    assert s.errors[0].message is None


# --- Coexistence -------------------------------------------------------------------------


@expect("echo_bsuid.json", ["echo"])
def _echo_bsuid(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.contact.wa_id == "<WHATSAPP_USER_PHONE_NUMBER>" and e.contact.user_id == "<BSUID>"
    assert e.contact.parent_user_id == "<PARENT_BSUID>" and e.message.text == "Test message"


@expect("echo_edit.json", ["edit"])
def _echo_edit(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.direction is Direction.OUTBOUND and e.message.text == "Text was edited"
    assert e.original_message_id == "wamid.zzzzzz"
    # `to` is the business number here, so the lead is the other side.
    assert e.contact.wa_id == "972987654321"


@expect("echo_revoke.json", ["revoke"])
def _echo_revoke(r: WebhookParseResult) -> None:
    assert r.events[0].direction is Direction.OUTBOUND
    assert r.events[0].original_message_id == "wamid.zzzzzz"


@expect("user_preferences_signup.json", ["user_preferences"])
def _signup(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.value == "signup" and e.opted_out is False and e.contact.wa_id == "16505551234"
    assert e.timestamp == ts(1731705721)


@expect(
    "coexistence_mixed_fields.json",
    ["account_update"] * 4
    + ["history_progress"]
    + ["account_update"] * 3
    + ["message", "echo", "status", "unknown"]
    + ["account_update"] * 5
    + ["app_state_sync", "echo", "account_update", "user_preferences"],
)
def _mixed(r: WebhookParseResult) -> None:
    by_kind = {k: r.of_kind(k) for k in ("message", "echo", "status", "unknown")}
    assert by_kind["message"][0].message.text == "hi"
    assert [e.contact.wa_id for e in by_kind["echo"]] == ["222", "444"]
    assert by_kind["status"][0].status is DeliveryStatus.DELIVERED
    assert by_kind["unknown"][0].field == "calls"
    prefs = r.of_kind("user_preferences")[0]
    assert prefs.value == "stop" and prefs.opted_out is True and prefs.contact.wa_id == "555"
    fields = [e.field for e in r.of_kind("account_update")]
    assert "security" in fields and "message_template_status_update" in fields


@expect("template_status_rejected.json", ["account_update"])
def _template_rejected(r: WebhookParseResult) -> None:
    e = r.events[0]
    assert e.field == "message_template_status_update" and e.event == "REJECTED"
    assert e.value["reason"] == "SCAM"


@expect("account_update_restriction.json", ["account_update"])
def _restriction(r: WebhookParseResult) -> None:
    assert r.events[0].event == "ACCOUNT_RESTRICTION"
    assert len(r.events[0].value["restriction_info"]) == 2


def _real_files() -> list[str]:
    return sorted(p.name for p in REAL.glob("*.json") if p.name != "MANIFEST.json")


@pytest.mark.parametrize("name", _real_files())
def test_real_payload(name: str) -> None:
    """Every real payload parses without problems into the expected events."""
    assert name in EXPECTED, f"no expectations written for {name}"
    kinds, check = EXPECTED[name]
    result = parse_webhook((REAL / name).read_bytes())
    assert result.errors == []
    assert [e.kind for e in result.events] == kinds
    check(result)


def test_every_expectation_has_its_file() -> None:
    """The table and the directory agree."""
    assert set(EXPECTED) == set(_real_files())
    assert len(EXPECTED) == 56


def test_every_file_names_its_source_and_license() -> None:
    """Each copied file is in the manifest with its repository, commit and path,
    and LICENSES.md carries the notice of each of those repositories."""
    manifest = json.loads((REAL / "MANIFEST.json").read_text(encoding="utf-8"))
    assert sorted(item["file"] for item in manifest) == _real_files()
    licenses = (REAL / "LICENSES.md").read_text(encoding="utf-8")
    for item in manifest:
        assert item["license"] == "MIT" and item["path"], item
        assert len(item["commit"]) == 40, item
        section = licenses.split(f"## {item['repository']}\n", 1)[1].split("\n## ", 1)[0]
        assert item["commit"] in section and f"`{item['file']}`" in section, item
        assert "Copyright (c)" in section and "Permission is hereby granted" in section
