"""The ``rules`` engine: offline, deterministic, fast; Spanish, Portuguese, English.

Lexicons and patterns live as data files in ``lexicons/``; this package only
composes the detectors: language, intent, origin, fields and handoff signals.
"""

from __future__ import annotations

from datetime import datetime

from copilot.engines.base import Understanding, register_engine
from copilot.engines.rules.fields import extract_fields
from copilot.engines.rules.intent import classify_intent
from copilot.engines.rules.language import conversation_language
from copilot.engines.rules.origin import detect_origin
from copilot.engines.rules.signals import detect_signals
from copilot.models import Conversation
from copilot.profile import BusinessProfile


class RulesEngine:
    """The embedded default engine."""

    name = "rules"

    def understand(
        self, conversation: Conversation, profile: BusinessProfile, now: datetime
    ) -> Understanding:
        """Understand the latest inbound message of ``conversation``."""
        language = conversation_language(conversation, profile.default_language)
        last = conversation.last_inbound
        # Identity, not equality: comparing pydantic models field by field is slow.
        history = (
            conversation.messages[
                : next(i for i, m in enumerate(conversation.messages) if m is last)
            ]
            if last
            else []
        )
        intent = classify_intent(last, history, language) if last else None
        fields = extract_fields(conversation, profile, language)
        signals = detect_signals(conversation, intent, language)
        return Understanding(
            language=language,
            intent=intent,
            origin=detect_origin(conversation, profile),
            fields=fields,
            signals=signals,
            engine=self.name,
        )


register_engine("rules", RulesEngine)
