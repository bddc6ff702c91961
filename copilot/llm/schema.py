"""The output schema of the ``analyze`` prompt, as pydantic models.

Every field is required (nullable where the model may not know), labels are
the taxonomy's enums and no extra keys are allowed, so OpenAI's strict
JSON-schema mode accepts it as is. No numeric bounds or descriptions: strict
mode rejects some keywords, and every description would cost input tokens on
every call (the prompt explains the fields instead).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from pydantic_core import CoreSchema

from copilot.taxonomy import (
    HandoffReason,
    Intent,
    Language,
    NextStep,
    Origin,
    TemplateKey,
    TimelineBucket,
)


def _strip(node: Any) -> Any:
    """Drop ``title`` and ``description`` strings everywhere (not property names)."""
    if isinstance(node, dict):
        return {
            key: _strip(value)
            for key, value in node.items()
            if not (key in ("title", "description") and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


class CompactJsonSchema(GenerateJsonSchema):
    """JSON schema without titles and descriptions: fewer input tokens per call."""

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> dict:
        return _strip(super().generate(schema, mode=mode))


@lru_cache(maxsize=32)
def _schema_text(model: type[BaseModel]) -> str:
    schema = BaseModel.model_json_schema.__func__(model, schema_generator=CompactJsonSchema)
    return json.dumps(schema)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The compact schema (the SDK sends this one in strict mode).

        The default form is generated once per class and handed out as a fresh
        copy: the SDK builds it on every call and may mutate what it gets.
        """
        if args or kwargs:
            kwargs.setdefault("schema_generator", CompactJsonSchema)
            return super().model_json_schema(*args, **kwargs)
        return json.loads(_schema_text(cls))


class IntentOut(_Out):
    """The primary intent, the model's confidence and acceptable alternatives."""

    label: Intent
    confidence: float
    also: list[Intent]


class OriginOut(_Out):
    """Where the lead came from and the words that say so."""

    label: Origin
    evidence: str | None


class TimelineOut(_Out):
    """For when, as written, and its bucket."""

    text: str
    bucket: TimelineBucket


class BudgetOut(_Out):
    """Money the lead can spend."""

    amount: float | None
    currency: str | None
    text: str


class FieldsOut(_Out):
    """Qualification fields; null when the lead did not say."""

    need: str | None
    timeline: TimelineOut | None
    prior_solution: str | None
    pain: str | None
    next_step: NextStep | None
    budget: BudgetOut | None
    name: str | None
    email: str | None
    phone: str | None
    company: str | None
    city: str | None


class HandoffOut(_Out):
    """Whether a person must take over now, and why."""

    needed: bool
    reason: HandoffReason | None


class SlotsOut(_Out):
    """Template variables the model may fill; the library fills the others."""

    question: str | None
    answer: str | None
    need: str | None
    next_step: str | None


class ReplyOut(_Out):
    """The reply: a template key with slot values, or a short free text."""

    template: TemplateKey
    slots: SlotsOut
    free_text: str | None


class AnalyzeOutput(_Out):
    """Everything one ``analyze`` call returns."""

    language: Language
    intent: IntentOut
    origin: OriginOut
    fields: FieldsOut
    handoff: HandoffOut
    injection_suspected: bool
    reply: ReplyOut


#: Output schemas by the name prompt files give in their front matter.
SCHEMAS: dict[str, type[BaseModel]] = {"AnalyzeOutput": AnalyzeOutput}


def schema_for(name: str) -> type[BaseModel]:
    """The schema model a prompt names; ``KeyError`` with the known names if unknown."""
    try:
        return SCHEMAS[name]
    except KeyError:
        raise KeyError(f"unknown output schema {name!r}; known: {', '.join(SCHEMAS)}") from None


def compact_schema(model: type[BaseModel]) -> str:
    """The model's JSON schema as compact text, for JSON mode (where the prompt
    must carry the schema because the server does not enforce one)."""
    return json.dumps(model.model_json_schema(), separators=(",", ":"), ensure_ascii=False)


# -- analyze@v2: the compact schema -------------------------------------------------
#
# Providers bill the schema in ``response_format`` as input on every call, so v2's
# answer is one flat object: short keys, the qualification fields as a list of
# ``{k, v}`` pairs (only what the lead said; no eleven nulls), nullable scalars as
# ``{"type": [T, "null"]}`` and every label list inlined, except the intents (used
# twice, so kept once in ``$defs``). Still strict: every key required, no extra keys,
# labels constrained to the taxonomy. :meth:`AnalyzeV2.to_output` maps it onto
# :class:`AnalyzeOutput`, which the rest of the engine reads.

FieldKey = Literal[
    "need",
    "timeline",
    "prior_solution",
    "pain",
    "next_step",
    "budget",
    "name",
    "email",
    "phone",
    "company",
    "city",
]


#: Label lists the v2 prompt spells out with their meanings: the schema says
#: ``string`` for them instead of repeating each list on every call. The pydantic
#: model still holds the taxonomy enums, so an answer with any other label fails
#: validation and is re-asked, exactly like malformed JSON.
LISTED_IN_PROMPT = frozenset({"Intent", "HandoffReason", "TemplateKey", "TimelineBucket"})


def _tighten(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline ``$defs`` used once, write ``anyOf [{type: T}, {type: null}]`` as
    ``{type: [T, null]}`` (both valid in strict mode, the second far shorter) and
    drop the label lists of :data:`LISTED_IN_PROMPT`."""
    defs = {
        name: {"type": "string"} if name in LISTED_IN_PROMPT else body
        for name, body in schema.get("$defs", {}).items()
    }
    text = json.dumps(schema)
    # Loosened lists are inlined wherever used; other lists only where used once.
    inline = {
        name for name in defs if name in LISTED_IN_PROMPT or text.count(f'"#/$defs/{name}"') == 1
    }

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        name = node.get("$ref", "").removeprefix("#/$defs/")
        if name in inline:
            return walk(defs[name])
        node = {key: walk(value) for key, value in node.items() if key != "$defs"}
        options = node.get("anyOf")
        if (
            isinstance(options, list)
            and len(options) == 2
            and options[1] == {"type": "null"}
            and set(options[0]) == {"type"}
            and isinstance(options[0]["type"], str)
        ):
            rest = {key: value for key, value in node.items() if key != "anyOf"}
            return {**rest, "type": [options[0]["type"], "null"]}
        return node

    out = walk(schema)
    kept = {name: walk(body) for name, body in defs.items() if name not in inline}
    return {"$defs": kept, **out} if kept else out


class _Compact(_Out):
    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The tightened compact schema (what the SDK sends in strict mode)."""
        if args or kwargs:
            return super().model_json_schema(*args, **kwargs)
        return json.loads(_tight_text(cls))


@lru_cache(maxsize=8)
def _tight_text(model: type[BaseModel]) -> str:
    return json.dumps(_tighten(json.loads(_schema_text(model))))


class FieldV2(_Compact):
    """One qualification field the lead gave: its key and the value as written."""

    k: FieldKey
    v: str


class SlotsV2(_Compact):
    """Template variables the model may fill."""

    question: str | None
    answer: str | None
    need: str | None
    next_step: str | None


class AnalyzeV2(_Compact):
    """The flat answer of ``analyze@v2``."""

    lang: Language
    intent: Intent
    conf: float
    also: list[Intent]
    origin: Origin
    evidence: str | None
    fields: list[FieldV2]
    bucket: TimelineBucket | None
    amount: float | None
    currency: str | None
    handoff: HandoffReason | None
    injection: bool
    template: TemplateKey
    slots: SlotsV2
    free_text: str | None

    def to_output(self) -> AnalyzeOutput:
        """The same answer as :class:`AnalyzeOutput` (first value per field wins; a
        ``next_step`` outside the taxonomy is dropped, as strict decoding cannot check it)."""
        said: dict[str, str] = {}
        for item in self.fields:
            said.setdefault(item.k, item.v)
        step = said.get("next_step", "").strip().lower()
        timeline = said.get("timeline")
        budget = said.get("budget")
        return AnalyzeOutput(
            language=self.lang,
            intent=IntentOut(label=self.intent, confidence=self.conf, also=self.also),
            origin=OriginOut(label=self.origin, evidence=self.evidence),
            fields=FieldsOut(
                need=said.get("need"),
                timeline=TimelineOut(text=timeline, bucket=self.bucket or TimelineBucket.UNKNOWN)
                if timeline
                else None,
                prior_solution=said.get("prior_solution"),
                pain=said.get("pain"),
                next_step=NextStep(step) if step in NextStep._value2member_map_ else None,
                budget=BudgetOut(amount=self.amount, currency=self.currency, text=budget)
                if budget
                else None,
                name=said.get("name"),
                email=said.get("email"),
                phone=said.get("phone"),
                company=said.get("company"),
                city=said.get("city"),
            ),
            handoff=HandoffOut(needed=self.handoff is not None, reason=self.handoff),
            injection_suspected=self.injection,
            reply=ReplyOut(
                template=self.template,
                slots=SlotsOut(**self.slots.model_dump()),
                free_text=self.free_text,
            ),
        )


SCHEMAS["AnalyzeV2"] = AnalyzeV2
