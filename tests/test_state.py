"""Conversation state: clocks, counts, who wrote last, the first-reply wait, the 24 h window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from copilot.models import (
    Contact,
    Conversation,
    FieldValue,
    Message,
    QualificationFields,
)
from copilot.state import conversation_state
from copilot.taxonomy import (
    Author,
    DeliveryStatus,
    Direction,
    LostReason,
    MessageType,
    Stage,
)

NO_FIELDS = QualificationFields()


def _msg(now, i, minutes_ago, inbound=True, author=None, **extra):
    return Message(
        id=f"m{i}",
        text=f"text {i}",
        timestamp=now - timedelta(minutes=minutes_ago),
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        author=author or (Author.LEAD if inbound else Author.BOT),
        **extra,
    )


def test_first_inbound_only(profile, friday_noon):
    conv = Conversation(messages=[_msg(friday_noon, 1, 12)])
    state = conversation_state(conv, NO_FIELDS, profile, friday_noon)
    assert state.last_message_from == "lead"
    assert (state.inbound_count, state.outbound_count) == (1, 0)
    assert state.hours_since_last_inbound == pytest.approx(0.2)
    assert state.hours_since_last_outbound is None
    assert state.minutes_waiting_for_first_reply == pytest.approx(12)
    assert state.within_business_hours is True
    assert state.window_open is True
    assert state.missing_fields == ["need", "timeline", "budget", "next_step", "name"]
    assert state.stage is Stage.NEW and not state.opted_out and not state.assigned_human_took_over


def test_bot_messages_do_not_stop_the_first_reply_clock(profile, friday_noon):
    conv = Conversation(
        messages=[
            _msg(friday_noon, 1, 40),
            _msg(friday_noon, 2, 39, inbound=False, author=Author.BOT),
            _msg(friday_noon, 3, 5),
        ]
    )
    state = conversation_state(conv, NO_FIELDS, profile, friday_noon)
    assert state.minutes_waiting_for_first_reply == pytest.approx(40)
    assert state.outbound_count == 1
    assert state.hours_since_last_outbound == pytest.approx(39 / 60)


@pytest.mark.parametrize("author", [Author.AGENT, Author.PHONE_ECHO])
def test_a_person_answering_stops_the_clock(profile, friday_noon, author):
    conv = Conversation(
        messages=[_msg(friday_noon, 1, 40), _msg(friday_noon, 2, 30, inbound=False, author=author)]
    )
    state = conversation_state(conv, NO_FIELDS, profile, friday_noon)
    assert state.minutes_waiting_for_first_reply is None
    assert state.last_message_from == "business"


def test_a_person_writing_before_the_lead_is_no_answer(profile, friday_noon):
    conv = Conversation(
        messages=[
            _msg(friday_noon, 1, 300, inbound=False, author=Author.AGENT),
            _msg(friday_noon, 2, 20),
        ]
    )
    state = conversation_state(conv, NO_FIELDS, profile, friday_noon)
    assert state.minutes_waiting_for_first_reply == pytest.approx(20)


def test_failed_and_system_messages_are_ignored(profile, friday_noon):
    conv = Conversation(
        messages=[
            _msg(friday_noon, 1, 60),
            _msg(
                friday_noon, 2, 50, inbound=False, author=Author.AGENT, status=DeliveryStatus.FAILED
            ),
            _msg(friday_noon, 3, 40, type=MessageType.SYSTEM),
        ]
    )
    state = conversation_state(conv, NO_FIELDS, profile, friday_noon)
    assert (state.inbound_count, state.outbound_count) == (1, 0)
    assert state.minutes_waiting_for_first_reply == pytest.approx(60)
    assert state.hours_since_last_inbound == pytest.approx(1)


@pytest.mark.parametrize(
    ("hours_ago", "open_"), [(1, True), (23.9, True), (24, False), (25, False)]
)
def test_24_hour_window(profile, friday_noon, hours_ago, open_):
    conv = Conversation(
        messages=[
            _msg(friday_noon, 1, hours_ago * 60),
            _msg(friday_noon, 2, 10, inbound=False, author=Author.AGENT),
        ]
    )
    assert conversation_state(conv, NO_FIELDS, profile, friday_noon).window_open is open_


def test_no_inbound_means_window_closed(profile, friday_noon):
    conv = Conversation(messages=[_msg(friday_noon, 1, 10, inbound=False, author=Author.AGENT)])
    state = conversation_state(conv, NO_FIELDS, profile, friday_noon)
    assert state.window_open is False
    assert state.minutes_waiting_for_first_reply is None
    assert state.hours_since_last_inbound is None


def test_empty_conversation(profile, friday_noon):
    state = conversation_state(Conversation(), NO_FIELDS, profile, friday_noon)
    assert state.last_message_from is None
    assert (state.inbound_count, state.outbound_count) == (0, 0)
    assert state.window_open is False


def test_out_of_order_messages_are_sorted(profile, friday_noon):
    conv = Conversation(
        messages=[
            _msg(friday_noon, 2, 5),
            _msg(friday_noon, 1, 60, inbound=False, author=Author.AGENT),
        ]
    )
    state = conversation_state(conv, NO_FIELDS, profile, friday_noon)
    assert state.last_message_from == "lead"
    assert state.minutes_waiting_for_first_reply == pytest.approx(5)


def test_future_timestamps_count_as_now(profile, friday_noon):
    conv = Conversation(messages=[_msg(friday_noon, 1, -30)])
    assert conversation_state(conv, NO_FIELDS, profile, friday_noon).hours_since_last_inbound == 0


def test_conversation_flags_and_business_hours(profile, friday_noon):
    conv = Conversation(
        contact=Contact(name="Laura"),
        messages=[_msg(friday_noon, 1, 5)],
        stage=Stage.LOST,
        lost_reason=LostReason.NOT_NOW,
        opted_out=True,
        human_took_over=True,
    )
    saturday_night = friday_noon + timedelta(days=1, hours=9)
    state = conversation_state(conv, NO_FIELDS, profile, saturday_night)
    assert state.stage is Stage.LOST and state.lost_reason is LostReason.NOT_NOW
    assert state.opted_out and state.assigned_human_took_over
    assert state.within_business_hours is False


def test_missing_fields_follow_the_profile(profile, friday_noon):
    fields = QualificationFields(
        need=FieldValue(value="sofá", confidence=0.9), name=FieldValue(value="Ana", confidence=1)
    )
    conv = Conversation(messages=[_msg(friday_noon, 1, 5)])
    assert conversation_state(conv, fields, profile, friday_noon).missing_fields == [
        "timeline",
        "budget",
        "next_step",
    ]
    custom = profile.model_copy(
        update={
            "qualification": profile.qualification.model_copy(update={"ask_for": ["city", "need"]})
        }
    )
    assert conversation_state(conv, fields, custom, friday_noon).missing_fields == ["city"]
