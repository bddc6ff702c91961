"""The output schema of the ``analyze`` prompt, as pydantic models.

Every field is required (nullable where the model may not know), labels are
the taxonomy's enums and no extra keys are allowed, so OpenAI's strict
JSON-schema mode accepts it as is. Lists have ``maxItems`` and strings
``maxLength``: servers that turn the schema into a grammar (llama.cpp, vLLM,
Ollama) then cannot let a small model repeat a label or a phrase until the
token limit, and the same bounds are checked locally in JSON mode. No
descriptions: each would cost input tokens on every call (the prompt explains
the fields instead).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
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

#: Alternative intents an answer may give (``also``).
MAX_ALSO = 2
#: Characters of a field value or evidence quoted from the conversation ("short,
#: as written", the prompts say).
MAX_TEXT = 100
#: Fields one v2 answer may list: more than a lead gives in one message, few
#: enough that a small model repeating a pair stops well before the token limit.
MAX_FIELDS = 6
#: Characters of a reply slot or free text (the prompt asks for at most 300).
MAX_REPLY = 300

Text = Annotated[str, Field(max_length=MAX_TEXT)]
Reply = Annotated[str, Field(max_length=MAX_REPLY)]
Currency = Annotated[str, Field(max_length=8)]
Also = Annotated[list[Intent], Field(max_length=MAX_ALSO)]


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
    also: Also


class OriginOut(_Out):
    """Where the lead came from and the words that say so."""

    label: Origin
    evidence: Text | None


class TimelineOut(_Out):
    """For when, as written, and its bucket."""

    text: Text
    bucket: TimelineBucket


class BudgetOut(_Out):
    """Money the lead can spend."""

    amount: float | None
    currency: Currency | None
    text: Text


class FieldsOut(_Out):
    """Qualification fields; null when the lead did not say."""

    need: Text | None
    timeline: TimelineOut | None
    prior_solution: Text | None
    pain: Text | None
    next_step: NextStep | None
    budget: BudgetOut | None
    name: Text | None
    email: Text | None
    phone: Text | None
    company: Text | None
    city: Text | None


class HandoffOut(_Out):
    """Whether a person must take over now, and why."""

    needed: bool
    reason: HandoffReason | None


class SlotsOut(_Out):
    """Template variables the model may fill; the library fills the others."""

    question: Reply | None
    answer: Reply | None
    need: Text | None
    next_step: Text | None


class ReplyOut(_Out):
    """The reply: a template key with slot values, or a short free text."""

    template: TemplateKey
    slots: SlotsOut
    free_text: Reply | None


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


def _tighten(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline ``$defs`` used once and write ``anyOf [{type: T, ...}, {type: null}]``
    as ``{type: [T, null], ...}`` (both valid in strict mode, the second far shorter).

    Every label list stays an enum: a server that compiles the schema into a
    grammar (llama.cpp, vLLM) can then only produce taxonomy labels."""
    defs = schema.get("$defs", {})
    text = json.dumps(schema)
    inline = {name for name in defs if text.count(f'"#/$defs/{name}"') == 1}

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
            and isinstance(options[0].get("type"), str)
            and options[0]["type"] != "object"
        ):
            rest = {key: value for key, value in node.items() if key != "anyOf"}
            out = {**rest, **options[0], "type": [options[0]["type"], "null"]}
            if "enum" in out:  # a nullable label: null is one more allowed value
                out["enum"] = [*out["enum"], None]
            return out
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
    v: Text


class SlotsV2(_Compact):
    """Template variables the model may fill."""

    question: Reply | None
    answer: Reply | None
    need: Text | None
    next_step: Text | None


class AnalyzeV2(_Compact):
    """The flat answer of ``analyze@v2``."""

    lang: Language
    intent: Intent
    conf: float
    also: Also
    origin: Origin
    evidence: Text | None
    fields: Annotated[list[FieldV2], Field(max_length=MAX_FIELDS)]
    bucket: TimelineBucket | None
    amount: float | None
    currency: Currency | None
    handoff: HandoffReason | None
    injection: bool
    template: TemplateKey
    slots: SlotsV2
    free_text: Reply | None

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
