"""A small, predictable engine and pipeline for the eval and CLI tests.

The eval runner is tested against this fake (not the real rules engine) so the
expected metrics can be computed by hand and do not move when the rules improve.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from copilot.engines.base import Engine, Understanding, register_engine
from copilot.models import (
    Budget,
    Conversation,
    ConversationState,
    FieldValue,
    Handoff,
    IntentResult,
    OriginResult,
    QualificationFields,
    SuggestedReply,
)
from copilot.profile import BusinessProfile
from copilot.taxonomy import Intent, Language, Origin, OriginSource, TemplateKey

#: First keyword found in the lowercased text decides the intent.
KEYWORDS: tuple[tuple[str, Intent], ...] = (
    ("asesor", Intent.HUMAN_REQUEST),
    ("pesimo", Intent.COMPLAINT),
    ("precio", Intent.PRICING),
    ("cuanto", Intent.PRICING),
    ("quiero", Intent.PURCHASE_INTENT),
    ("hola", Intent.GREETING),
)


class FakeEngine:
    """Keyword intent, metadata-only origin, two fields; counts its calls."""

    name = "fake"

    def __init__(self, prompt: str | None = None) -> None:
        self.prompt = prompt
        self.calls = 0

    def understand(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Understanding:
        self.calls += 1
        last = conversation.last_inbound
        text = (last.text or "").lower() if last else ""
        if "boom" in text:
            raise ValueError("the fake engine exploded")
        # prompt "nogreeting" drops the greeting rule: a second behaviour to compare.
        keywords = [(k, i) for k, i in KEYWORDS if self.prompt != "nogreeting" or k != "hola"]
        label = next((i for k, i in keywords if k in text), Intent.OTHER)
        first = conversation.inbound[0] if conversation.inbound else None
        if first and first.referral:
            origin = OriginResult(label=Origin.AD, source=OriginSource.REFERRAL_METADATA)
        elif first and first.context and first.context.is_template_reply:
            origin = OriginResult(label=Origin.CAMPAIGN, source=OriginSource.CAMPAIGN_CONTEXT)
        elif first and any((first.text or "").startswith(k) for k in profile.entry_points):
            key = next(k for k in profile.entry_points if (first.text or "").startswith(k))
            origin = OriginResult(
                label=profile.entry_points[key], source=OriginSource.ENTRY_POINT, evidence=key
            )
        else:
            origin = OriginResult(label=Origin.UNKNOWN)
        fields = QualificationFields()
        for message in conversation.inbound:
            lowered = (message.text or "").lower()
            if "sofa" in lowered:
                fields.need = FieldValue(value=message.text, message_id=message.id, confidence=0.9)
            if "2 millones" in lowered:
                budget = Budget(amount=2_000_000, currency="COP", text="2 millones")
                fields.budget = FieldValue(value=budget, message_id=message.id, confidence=0.8)
        return Understanding(
            language=Language.ES,
            intent=IntentResult(label=label, confidence=0.9) if last else None,
            origin=origin,
            fields=fields,
            engine=self.name,
            prompt_version=self.prompt,
        )


register_engine("fake", FakeEngine)


def fake_state(conversation, fields, profile, now) -> ConversationState:
    """The default state: the pipeline's other parts are not under test here."""
    return ConversationState(inbound_count=len(conversation.inbound))


def fake_handoff(conversation, understanding, state) -> Handoff:
    """Hand off human requests and complaints, with that reason."""
    intent = understanding.intent.label if understanding.intent else None
    if intent in (Intent.HUMAN_REQUEST, Intent.COMPLAINT):
        return Handoff(needed=True, reason=intent.value)
    return Handoff(needed=False)


def fake_reply(conversation, understanding, handoff, state, profile, now) -> SuggestedReply:
    """Always the welcome template, in Spanish."""
    return SuggestedReply(template=TemplateKey.WELCOME, text="¡Hola!", language=Language.ES)


def fake_choose_template(state, understanding, profile, text=None) -> TemplateKey:
    """Opt-out, then out-of-hours, a question mark in the text, else welcome."""
    if state.opted_out:
        return TemplateKey.OPT_OUT_CONFIRMATION
    if not state.within_business_hours:
        return TemplateKey.OUT_OF_HOURS
    if text and text.endswith("?"):
        return TemplateKey.BUSINESS_ANSWER
    return TemplateKey.WELCOME


@pytest.fixture
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the state, handoff and reply steps of the facade with the fakes above."""
    monkeypatch.setattr("copilot.facade.conversation_state", fake_state)
    monkeypatch.setattr("copilot.facade.decide_handoff", fake_handoff)
    monkeypatch.setattr("copilot.facade.suggest_reply", fake_reply)
    monkeypatch.setattr("copilot.replies.choose_template", fake_choose_template)


def test_fake_engine_follows_the_engine_protocol() -> None:
    assert isinstance(FakeEngine(), Engine)
