"""Test doubles for the inbox: a small, deterministic analyser and a recording sender.

``KeywordAnalyzer`` stands in for :class:`copilot.Copilot` where a test needs
predictable analyses (it reads a handful of keywords, nothing more). It is not
the rules engine and must never be used to answer real leads.
"""

from __future__ import annotations

from datetime import datetime

from copilot.inbox.replies import OutgoingMessage
from copilot.models import (
    Analysis,
    Conversation,
    ConversationState,
    FieldValue,
    Handoff,
    IntentResult,
    OriginResult,
    QualificationFields,
    SuggestedReply,
    Timeline,
)
from copilot.profile import BusinessProfile, load_profile
from copilot.taxonomy import (
    HandoffReason,
    Intent,
    Language,
    NextStep,
    Origin,
    OriginSource,
    TemplateKey,
    TimelineBucket,
)

_INTENTS = (
    ("baja", Intent.OPT_OUT),
    ("stop", Intent.OPT_OUT),
    ("asesor", Intent.HUMAN_REQUEST),
    ("cuanto", Intent.PRICING),
    ("hola", Intent.GREETING),
)


class KeywordAnalyzer:
    """A deterministic stand-in analyser. ``fail_on`` makes it raise for texts
    containing that marker (to test pending analyses)."""

    def __init__(self, profile: BusinessProfile | None = None, fail_on: str | None = None):
        self.profile = profile or load_profile()
        self.fail_on = fail_on
        self.calls = 0

    def analyze(self, conversation: Conversation, now: datetime | None = None) -> Analysis:
        """Analyse the latest inbound message by keywords."""
        self.calls += 1
        last = conversation.last_inbound
        text = (last.text or "").lower() if last else ""
        if self.fail_on and self.fail_on in text:
            raise RuntimeError("analyser down")
        intent = next((i for word, i in _INTENTS if word in text), Intent.OTHER)
        fields = QualificationFields()
        mid = last.id if last else None
        if "busco" in text:
            need = text.split("busco", 1)[1].strip().split(",")[0] or "algo"
            fields.need = FieldValue(value=need, message_id=mid, confidence=0.9)
        if "mañana" in text:
            fields.timeline = FieldValue(
                value=Timeline(text="mañana", bucket=TimelineBucket.IMMEDIATE),
                message_id=mid,
                confidence=0.9,
            )
        if "llamada" in text:
            fields.next_step = FieldValue(value=NextStep.CALL, message_id=mid, confidence=0.9)
        origin = OriginResult(label=Origin.UNKNOWN)
        first = conversation.messages[0] if conversation.messages else None
        if first is not None and first.referral is not None:
            origin = OriginResult(
                label=Origin.AD, source=OriginSource.REFERRAL_METADATA, evidence="referral"
            )
        elif "anuncio" in text:
            origin = OriginResult(label=Origin.AD, source=OriginSource.TEXT, evidence="anuncio")
        handoff = Handoff(needed=False)
        if intent is Intent.HUMAN_REQUEST:
            handoff = Handoff(needed=True, reason=HandoffReason.HUMAN_REQUEST)
        if intent is Intent.OPT_OUT or conversation.opted_out:
            key = TemplateKey.OPT_OUT_CONFIRMATION
        elif len(conversation.inbound) == len(conversation.messages):
            key = TemplateKey.WELCOME
        else:
            key = TemplateKey.QUALIFICATION
        reply = SuggestedReply(
            template=key,
            text=self.profile.templates[key].text_for(Language.ES).split("{")[0] or key.value,
            language=Language.ES,
        )
        return Analysis(
            message_id=mid,
            language=Language.ES,
            intent=IntentResult(label=intent, confidence=0.9) if last else None,
            origin=origin,
            fields=fields,
            handoff=handoff,
            reply=reply,
            state=ConversationState(stage=conversation.stage, opted_out=conversation.opted_out),
            engine="keywords",
        )


class RecordingSender:
    """A sender that returns fake WhatsApp ids (``wamid.out.N``) and remembers what
    it sent; ``fail=True`` makes it raise."""

    name = "recording"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> str | None:
        """Record and accept the message (or raise when told to fail)."""
        if self.fail:
            raise ConnectionError("WhatsApp unreachable")
        self.sent.append(message)
        return f"wamid.out.{len(self.sent)}"
