"""The eval dataset line formats of ``docs/datasets.md``, as pydantic models.

Labels are the taxonomy enums, so a typo in a gold label is a validation error
that names the valid values. Top-level keys beyond the format (notes, sources)
are tolerated; unknown keys inside ``gold`` are errors, because a misspelt gold
key would silently go unscored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from copilot.models import ConversationState, Referral
from copilot.taxonomy import (
    HandoffReason,
    Intent,
    LostReason,
    MessageType,
    NextStep,
    Origin,
    Stage,
    TemplateKey,
    TimelineBucket,
)

Lang = Literal["es", "pt", "en"]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, use_enum_values=True)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_enum_values=True)


class Turn(_Strict):
    """One earlier message: ``{"id"?, "from": "lead"|"business", "text", "ts"?}``."""

    id: str | None = None
    sender: Literal["lead", "business"] = Field(alias="from")
    text: str
    ts: datetime | None = None


class Item(_Loose):
    """What every dataset line has."""

    id: NonEmpty
    lang: Lang
    sector: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


def _text_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty")
    return value


Text = Annotated[str, AfterValidator(_text_not_blank)]


class IntentGold(_Strict):
    intent: Intent
    also: list[Intent] = Field(default_factory=list)


class IntentItem(Item):
    """``intents``: the intent of ``text`` said after ``context``."""

    context: list[Turn] = Field(default_factory=list)
    text: Text
    gold: IntentGold


class OriginMetadata(_Loose):
    referral: Referral | None = None
    context_template: bool = False


class OriginGold(_Strict):
    origin: Origin
    also: list[Origin] = Field(default_factory=list)


class OriginItem(Item):
    """``origins``: where the lead of the first message came from."""

    context: list[Turn] = Field(default_factory=list)
    text: Text
    metadata: OriginMetadata = Field(default_factory=OriginMetadata)
    entry_points: dict[str, Origin] = Field(default_factory=dict)
    gold: OriginGold


class BudgetGold(_Strict):
    amount: float | None = Field(None, ge=0)
    currency: str = Field(..., pattern=r"^[A-Z]{3}$")


KeyTerms = list[NonEmpty] | NonEmpty | None


class FieldsGold(_Strict):
    """Gold qualification fields; only the keys given are scored."""

    need: KeyTerms = None
    timeline_bucket: TimelineBucket | None = None
    prior_solution: KeyTerms = None
    pain: KeyTerms = None
    next_step: NextStep | None = None
    budget: BudgetGold | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    city: str | None = None


class FieldsItem(Item):
    """``fields``: qualification fields merged over ``messages``."""

    messages: list[Turn] = Field(..., min_length=1)
    gold: FieldsGold

    def gold_fields(self) -> dict[str, Any]:
        """The gold values of the keys this line gives (plain JSON values)."""
        return self.gold.model_dump(mode="json", include=self.gold.model_fields_set)


class HandoffGold(_Strict):
    needed: bool
    reason: HandoffReason | None = None


class HandoffItem(Item):
    """``handoff``: must a person take over after ``text``?"""

    context: list[Turn] = Field(default_factory=list)
    text: Text
    gold: HandoffGold


class TemplateGold(_Strict):
    template: TemplateKey
    also: list[TemplateKey] = Field(default_factory=list)


class TemplateItem(Item):
    """``templates``: the template to suggest in ``state`` after ``messages``."""

    state: ConversationState
    messages: list[Turn] = Field(default_factory=list)
    gold: TemplateGold


class ReplyTurn(_Strict):
    """One message of a ``replies`` case: a turn, plus its WhatsApp type (``audio``,
    ``image``... for media without text) and, for business turns, its author."""

    id: str | None = None
    sender: Literal["lead", "business"] = Field(alias="from")
    text: str = ""
    ts: datetime | None = None
    type: MessageType = MessageType.TEXT
    author: Literal["agent", "bot", "phone_echo"] | None = None


class Moment(_Strict):
    """When the suggestion is read: minutes after the last message."""

    minutes_after: float = Field(1, ge=0)


class ReplyGold(_Strict):
    """What the suggested reply must do; only the keys given are checked, plus
    the checks every reply gets (no unfilled placeholder, the length limit, one
    language, no stale promise, none of the lead's first-person phrases)."""

    template: TemplateKey | None = None
    also: list[TemplateKey] = Field(default_factory=list)
    must: list[NonEmpty] = Field(default_factory=list)
    must_not: list[NonEmpty] = Field(default_factory=list)
    answerable: bool = False
    turn: Literal["loss", "objection", "complaint", "media", "courtesy"] | None = None
    propose_stage: Stage | None = None
    lost_reason: LostReason | None = None
    language: Lang | None = Field(None, description="The reply's language, if not the lead's")
    max_chars: int = Field(420, gt=0)


class ReplyItem(Item):
    """``replies``: the suggested reply to ``messages`` at ``moment``, for the demo
    profile or ``profile`` (a TOML file, relative to the shipped datasets folder)."""

    messages: list[ReplyTurn] = Field(..., min_length=1)
    moment: Moment = Field(default_factory=Moment)
    profile: str | None = None
    owner: str | None = None
    contact_name: str | None = None
    stage: Stage = Stage.NEW
    gold: ReplyGold


#: Dataset kind -> line model.
ITEM_MODELS: dict[str, type[Item]] = {
    "intents": IntentItem,
    "origins": OriginItem,
    "fields": FieldsItem,
    "handoff": HandoffItem,
    "templates": TemplateItem,
    "replies": ReplyItem,
}

_FIELD_KEYS = frozenset(FieldsGold.model_fields)
_REPLY_KEYS = frozenset({"must", "must_not", "turn", "max_chars", "answerable"})


def detect_kind(line: dict[str, Any]) -> str | None:
    """The dataset kind a parsed line belongs to, by its keys; ``None`` if unclear."""
    gold = line.get("gold")
    if isinstance(gold, dict):
        if gold.keys() & _REPLY_KEYS:
            return "replies"
        if "intent" in gold:
            return "intents"
        if "origin" in gold:
            return "origins"
        if "needed" in gold:
            return "handoff"
        if "template" in gold:
            return "templates"
        if gold.keys() & _FIELD_KEYS:
            return "fields"
    if "state" in line:
        return "templates"
    if "messages" in line:
        return "fields"
    return None
