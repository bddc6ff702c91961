"""One task per dataset kind: how to run the copilot on a line and how to score it.

A task turns a dataset item into the copilot's input (``docs/datasets.md``), reads
the prediction in the predictions-file shape, and scores lists of them. The
runner only talks to the :class:`Task` interface, so a new kind is one class.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, ClassVar

from copilot.engines.base import Engine, Understanding
from copilot.evals import metrics as m
from copilot.evals.calibration import calibration
from copilot.evals.conversations import analysis_time, build_conversation, turns_to_messages
from copilot.evals.datasets_io import shipped_datasets_dir
from copilot.evals.items import (
    FieldsItem,
    HandoffItem,
    IntentItem,
    OriginItem,
    ReplyItem,
    TemplateItem,
)
from copilot.evals.reply_checks import check_case, reply_metrics
from copilot.facade import Copilot
from copilot.facts import response_time_phrase
from copilot.models import Analysis, Contact, Conversation
from copilot.profile import BusinessProfile, load_profile
from copilot.taxonomy import Author, Language, MessageType

_CASE_TEXT_CHARS = 160


@dataclass
class Case:
    """One scored line, for per-case reports and diffs."""

    id: str
    lang: str
    text: str
    gold: str
    pred: str
    correct: bool
    detail: str | None = None


@dataclass
class RunContext:
    """What a task needs to predict: the engine and the business profile."""

    engine: Engine
    profile: BusinessProfile
    #: The analyses (or understandings) of the current item: the runner reads who
    #: decided, why, and the tokens spent from them.
    seen: list[Analysis | Understanding] = dataclasses.field(default_factory=list)

    def analyze(
        self, conversation: Conversation, profile: BusinessProfile | None = None
    ) -> Analysis:
        """The full analysis of ``conversation`` as of one minute after its last turn."""
        copilot = Copilot(profile=profile or self.profile, engine=self.engine)
        analysis = copilot.analyze(conversation, now=analysis_time(conversation))
        self.seen.append(analysis)
        return analysis

    def understand(self, conversation: Conversation) -> Understanding:
        """The engine's understanding of ``conversation`` (without the copilot's policies)."""
        understanding = self.engine.understand(
            conversation, self.profile, analysis_time(conversation)
        )
        self.seen.append(understanding)
        return understanding


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _CASE_TEXT_CHARS else text[: _CASE_TEXT_CHARS - 1] + "…"


def _lead_text(turns: list[Any]) -> str:
    return " / ".join(t.text for t in turns if t.sender == "lead")


class Task:
    """Base class: ``predict`` one item, build its ``case``, score a list."""

    kind: ClassVar[str]
    #: Prediction keys a failed item gets as null.
    keys: ClassVar[tuple[str, ...]]
    #: Metrics shown side by side, per language and gated.
    headline: ClassVar[tuple[str, ...]]

    def predict(self, item: Any, ctx: RunContext) -> dict[str, Any]:
        """The prediction for ``item`` (without ``id``) in the predictions-file shape."""
        raise NotImplementedError

    def case(self, item: Any, prediction: dict[str, Any]) -> Case:
        """``item`` with its prediction, scored."""
        raise NotImplementedError

    def score(self, items: list[Any], predictions: list[dict[str, Any]]) -> dict[str, Any]:
        """All metrics of the kind over ``items`` and their predictions (same order)."""
        raise NotImplementedError


class _LabelTask(Task):
    """Single-label kinds: the gold label with ``also`` alternatives."""

    label_key: ClassVar[str]
    headline = ("accuracy", "macro_f1")

    def _gold(self, item: Any) -> tuple[str, list[str]]:
        gold = item.gold
        return getattr(gold, self.label_key), list(gold.also)

    def case(self, item: Any, prediction: dict[str, Any]) -> Case:
        gold, also = self._gold(item)
        pred = prediction.get(self.label_key)
        shown_gold = gold + (f" (also {', '.join(also)})" if also else "")
        return Case(
            id=item.id,
            lang=item.lang,
            text=self._text(item),
            gold=shown_gold,
            pred=pred or m.NONE_LABEL,
            correct=m.is_correct(pred, gold, also),
            detail=prediction.get("error"),
        )

    def _text(self, item: Any) -> str:
        return _short(item.text)

    def score(self, items: list[Any], predictions: list[dict[str, Any]]) -> dict[str, Any]:
        golds = [self._gold(item) for item in items]
        return m.label_metrics(
            [g for g, _ in golds],
            [a for _, a in golds],
            [p.get(self.label_key) for p in predictions],
        )


class IntentsTask(_LabelTask):
    """``intents``: context turns, then ``text`` as the lead's latest message."""

    kind = "intents"
    label_key = "intent"
    keys = ("intent", "confidence")

    def predict(self, item: IntentItem, ctx: RunContext) -> dict[str, Any]:
        conversation = build_conversation(
            [*item.context, {"from": "lead", "text": item.text}], conversation_id=item.id
        )
        intent = ctx.analyze(conversation).intent
        return {
            "intent": intent.label.value if intent else None,
            "confidence": intent.confidence if intent else None,
        }

    def score(self, items: list[Any], predictions: list[dict[str, Any]]) -> dict[str, Any]:
        metrics = super().score(items, predictions)
        correct = [
            m.is_correct(p.get("intent"), *self._gold(item))
            for item, p in zip(items, predictions, strict=True)
        ]
        metrics["calibration"] = calibration([p.get("confidence") for p in predictions], correct)
        return metrics


class OriginsTask(_LabelTask):
    """``origins``: the first message with its webhook metadata and entry points."""

    kind = "origins"
    label_key = "origin"
    keys = ("origin",)
    headline = ("accuracy",)

    def predict(self, item: OriginItem, ctx: RunContext) -> dict[str, Any]:
        conversation = build_conversation(
            [*item.context, {"from": "lead", "text": item.text}],
            conversation_id=item.id,
            referral=item.metadata.referral,
            template_reply=item.metadata.context_template,
        )
        # The line's entry points are the business's configuration for this case.
        profile = ctx.profile.model_copy(update={"entry_points": dict(item.entry_points)})
        origin = ctx.analyze(conversation, profile).origin
        return {
            "origin": origin.label.value,
            "origin_source": origin.source.value,
            "evidence": origin.evidence,
        }


class TemplatesTask(_LabelTask):
    """``templates``: the template choice for a given state (and the engine's understanding)."""

    kind = "templates"
    label_key = "template"
    keys = ("template",)
    headline = ("accuracy",)

    def predict(self, item: TemplateItem, ctx: RunContext) -> dict[str, Any]:
        from copilot.replies import choose_template

        conversation = build_conversation(item.messages, conversation_id=item.id)
        understanding, text = None, None
        last = conversation.last_inbound
        if last is not None:
            understanding = ctx.understand(conversation)
            text = last.analysed_text
        state = item.state.model_copy(deep=True)
        # The lead's text lets the choice check that the facts really answer it.
        key = choose_template(state, understanding, ctx.profile, text=text)
        return {"template": key.value}

    def _text(self, item: TemplateItem) -> str:
        state = item.state
        facts = f"[{state.stage.value}, last={state.last_message_from}]"
        return _short(f"{facts} {_lead_text(item.messages)}")


class FieldsTask(Task):
    """``fields``: qualification fields merged over the conversation."""

    kind = "fields"
    keys = ("fields",)
    headline = ("micro_precision", "micro_recall", "micro_f1")

    def predict(self, item: FieldsItem, ctx: RunContext) -> dict[str, Any]:
        conversation = build_conversation(item.messages, conversation_id=item.id)
        return {"fields": ctx.analyze(conversation).fields.flat()}

    def case(self, item: FieldsItem, prediction: dict[str, Any]) -> Case:
        gold = item.gold_fields()
        pred = prediction.get("fields") or {}
        problems = []
        for field, want in gold.items():
            outcome = m.field_outcome(field, want, pred.get(field))
            if outcome in ("fp", "fn", "wrong"):
                got = json.dumps(pred.get(field), ensure_ascii=False)
                problems.append(
                    f"{field}: {outcome} (gold {json.dumps(want, ensure_ascii=False)}, got {got})"
                )
        if prediction.get("error"):
            problems.insert(0, prediction["error"])
        return Case(
            id=item.id,
            lang=item.lang,
            text=_short(_lead_text(item.messages)),
            gold=_short(json.dumps(gold, ensure_ascii=False)),
            pred=_short(json.dumps({k: pred.get(k) for k in gold}, ensure_ascii=False)),
            correct=not problems,
            detail="; ".join(problems) or None,
        )

    def score(self, items: list[FieldsItem], predictions: list[dict[str, Any]]) -> dict[str, Any]:
        return m.field_metrics(
            [item.gold_fields() for item in items],
            [p.get("fields") or {} for p in predictions],
        )


class HandoffTask(Task):
    """``handoff``: context turns, then ``text``; read ``Analysis.handoff``."""

    kind = "handoff"
    keys = ("handoff",)
    headline = ("precision", "recall", "f1", "reason_accuracy")

    def predict(self, item: HandoffItem, ctx: RunContext) -> dict[str, Any]:
        conversation = build_conversation(
            [*item.context, {"from": "lead", "text": item.text}], conversation_id=item.id
        )
        handoff = ctx.analyze(conversation).handoff
        return {
            "handoff": {
                "needed": handoff.needed,
                "reason": handoff.reason.value if handoff.reason else None,
            }
        }

    @staticmethod
    def _pair(handoff: dict[str, Any] | None) -> tuple[bool, str | None]:
        handoff = handoff or {}
        return bool(handoff.get("needed")), handoff.get("reason")

    @staticmethod
    def _show(needed: bool, reason: str | None) -> str:
        return f"needed ({reason or m.NONE_LABEL})" if needed else "not needed"

    def case(self, item: HandoffItem, prediction: dict[str, Any]) -> Case:
        gold = (item.gold.needed, item.gold.reason)
        pred = self._pair(prediction.get("handoff"))
        correct = gold[0] == pred[0] and (not gold[0] or gold[1] == pred[1])
        return Case(
            id=item.id,
            lang=item.lang,
            text=_short(item.text),
            gold=self._show(*gold),
            pred=self._show(*pred),
            correct=correct,
            detail=prediction.get("error"),
        )

    def score(self, items: list[HandoffItem], predictions: list[dict[str, Any]]) -> dict[str, Any]:
        return m.handoff_metrics(
            [(item.gold.needed, item.gold.reason) for item in items],
            [self._pair(p.get("handoff")) for p in predictions],
        )


@lru_cache(maxsize=16)
def _case_profile(name: str) -> BusinessProfile:
    # A case's own profile, relative to the shipped datasets folder.
    return load_profile(shipped_datasets_dir() / name)


class RepliesTask(Task):
    """``replies``: the suggested reply's text, checked (``copilot.evals.reply_checks``)."""

    kind = "replies"
    keys = ("template", "text", "language", "turn")
    headline = ("pass_rate", "answered", "first_answered", "purity", "fitting", "no_stale")

    def _profile(self, item: ReplyItem, ctx: RunContext) -> BusinessProfile:
        return _case_profile(item.profile) if item.profile else ctx.profile

    def predict(self, item: ReplyItem, ctx: RunContext) -> dict[str, Any]:
        profile = self._profile(item, ctx)
        messages = turns_to_messages([t.model_dump(by_alias=True) for t in item.messages])
        for message, turn in zip(messages, item.messages, strict=True):
            message.type = MessageType(turn.type)
            message.text = turn.text or None
            if turn.author is not None:
                message.author = Author(turn.author)
        conversation = Conversation(
            id=item.id,
            contact=Contact(name=item.contact_name),
            messages=messages,
            stage=item.stage,
            owner_name=item.owner,
        )
        now = messages[-1].timestamp + timedelta(minutes=item.moment.minutes_after)
        analysis = Copilot(profile=profile, engine=ctx.engine).analyze(conversation, now=now)
        reply = analysis.reply
        if reply is None:
            return dict.fromkeys(self.keys) | {"stale_promise": False}
        sla = profile.first_response_sla_minutes
        waited = analysis.state.minutes_waiting_for_first_reply if analysis.state else None
        promised = any(
            response_time_phrase(sla, lang) in reply.text
            for lang in (Language.ES, Language.PT, Language.EN)
        )
        return {
            "template": reply.template.value,
            "text": reply.text,
            "language": reply.language.value,
            "turn": reply.turn,
            "propose_stage": reply.propose_stage.value if reply.propose_stage else None,
            "lost_reason": reply.propose_lost_reason.value if reply.propose_lost_reason else None,
            "stale_promise": promised and waited is not None and waited > sla,
        }

    def _checks(self, item: ReplyItem, prediction: dict[str, Any]) -> dict[str, Any]:
        profile = _case_profile(item.profile) if item.profile else _demo_profile()
        return check_case(item, prediction, profile)

    def case(self, item: ReplyItem, prediction: dict[str, Any]) -> Case:
        checks = self._checks(item, prediction)
        return Case(
            id=item.id,
            lang=item.lang,
            text=_short(
                " / ".join(t.text or f"[{t.type}]" for t in item.messages if t.sender == "lead")
            ),
            gold=_short(
                json.dumps(
                    item.gold.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False
                )
            ),
            pred=_short(prediction.get("text") or m.NONE_LABEL),
            correct=not checks["problems"],
            detail="; ".join(checks["problems"]) or None,
        )

    def score(self, items: list[ReplyItem], predictions: list[dict[str, Any]]) -> dict[str, Any]:
        checks = [self._checks(i, p) for i, p in zip(items, predictions, strict=True)]
        first = [len(i.messages) == 1 and i.messages[0].sender == "lead" for i in items]
        return reply_metrics(checks, first)


@lru_cache(maxsize=1)
def _demo_profile() -> BusinessProfile:
    return load_profile()


TASKS: dict[str, Task] = {
    task.kind: task
    for task in (
        IntentsTask(),
        OriginsTask(),
        FieldsTask(),
        HandoffTask(),
        TemplatesTask(),
        RepliesTask(),
    )
}


def task_for(kind: str) -> Task:
    """The task of a dataset kind."""
    return TASKS[kind]
