"""The :class:`Copilot` facade: one call from a conversation to an analysis."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from copilot.engines import Engine, get_engine
from copilot.handoff import decide_handoff
from copilot.models import Analysis, Contact, Conversation, Message, checked_moment
from copilot.profile import BusinessProfile, load_profile
from copilot.replies import suggest_reply
from copilot.state import conversation_state
from copilot.turns import with_competitor


class Copilot:
    """Analyse WhatsApp lead conversations for one business.

    >>> copilot = Copilot()                      # demo profile, offline rules engine
    >>> copilot.analyze_text("hola, cuanto sale el sofá?").intent.label
    <Intent.PRICING: 'pricing'>
    """

    def __init__(
        self,
        profile: BusinessProfile | str | None = None,
        engine: str | Engine = "rules",
        **engine_options: Any,
    ) -> None:
        self.profile = profile if isinstance(profile, BusinessProfile) else load_profile(profile)
        self.engine = get_engine(engine, **engine_options) if isinstance(engine, str) else engine

    def analyze(self, conversation: Conversation, now: datetime | None = None) -> Analysis:
        """Analyse the latest inbound message of ``conversation`` as of ``now``.

        ``now`` defaults to the current time; pass it explicitly for repeatable
        results (timeline buckets, business hours and follow-ups read the clock).
        ``ValueError`` (naming ``now``) when it lies outside the accepted range.
        """
        now = checked_moment(now, "now") if now is not None else datetime.now(UTC)
        started = time.perf_counter()
        understanding = self.engine.understand(conversation, self.profile, now)
        # A competitor named in a price comparison is the lead's prior solution.
        intent = understanding.intent.label if understanding.intent else None
        fields = with_competitor(understanding.fields, conversation.last_inbound, intent)
        if fields is not understanding.fields:
            understanding = understanding.model_copy(update={"fields": fields})
        state = conversation_state(conversation, understanding.fields, self.profile, now)
        handoff = decide_handoff(conversation, understanding, state)
        reply = suggest_reply(conversation, understanding, handoff, state, self.profile, now)
        last = conversation.last_inbound
        return Analysis(
            message_id=last.id if last else None,
            language=understanding.language,
            intent=understanding.intent,
            origin=understanding.origin,
            fields=understanding.fields,
            handoff=handoff,
            reply=reply,
            state=state,
            signals=understanding.signals,
            engine=understanding.engine,
            decided_by=understanding.decided_by,
            decision=understanding.decision,
            reasons=understanding.reasons,
            prompt_version=understanding.prompt_version,
            model=understanding.model,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            usage=understanding.usage,
            cost_usd=understanding.cost_usd,
        )

    def analyze_text(
        self, text: str, now: datetime | None = None, contact_name: str | None = None
    ) -> Analysis:
        """Analyse a single inbound text as a one-message conversation."""
        now = now or datetime.now(UTC)
        message = Message(id="m1", text=text, timestamp=now)
        conversation = Conversation(contact=Contact(name=contact_name), messages=[message])
        return self.analyze(conversation, now=now)
