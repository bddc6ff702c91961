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
from typing import Any

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
