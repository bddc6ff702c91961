"""The business profile: who the business is, when it answers, what it knows.

One TOML file, validated by pydantic. The copilot never states a fact, price or
promise that is not in this file. A demo profile ships inside the package.
"""

from __future__ import annotations

import re
import tomllib
from datetime import datetime, time
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from copilot.taxonomy import (
    FIELD_NAMES,
    KEY_FIELDS,
    QUALIFYING_FIELDS,
    Language,
    Origin,
    TemplateCategory,
    TemplateKey,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_VARIABLE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class ProfileError(ValueError):
    """A business profile that cannot be used; the message names file, field and problem."""


class _Strict(BaseModel):
    # Frozen: caches in facts.py and the rules engine key on a profile object, so
    # one must never change under them; make a changed copy (model_copy) instead.
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpeningSpan(_Strict):
    """One opening span of a day, e.g. 09:00-13:00."""

    start: time
    end: time


def _parse_spans(value: object) -> list[OpeningSpan]:
    if value in (None, "", "closed"):
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError("expected 'HH:MM-HH:MM', a list of them, or 'closed'")
    spans = []
    for item in items:
        match = _SPAN.match(str(item).strip())
        if not match:
            raise ValueError(f"{item!r} is not a span like '09:00-18:00'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"{item!r} has an impossible time")
        end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        if end <= time(h1, m1):
            raise ValueError(f"{item!r} ends before it starts")
        spans.append(OpeningSpan(start=time(h1, m1), end=end))
    return spans


class BusinessHours(_Strict):
    """Opening spans per weekday; a missing day is closed."""

    mon: list[OpeningSpan] = Field(default_factory=list)
    tue: list[OpeningSpan] = Field(default_factory=list)
    wed: list[OpeningSpan] = Field(default_factory=list)
    thu: list[OpeningSpan] = Field(default_factory=list)
    fri: list[OpeningSpan] = Field(default_factory=list)
    sat: list[OpeningSpan] = Field(default_factory=list)
    sun: list[OpeningSpan] = Field(default_factory=list)

    @field_validator(*WEEKDAYS, mode="before")
    @classmethod
    def _spans(cls, value: object) -> list[OpeningSpan]:
        return _parse_spans(value)

    def spans_for(self, weekday: int) -> list[OpeningSpan]:
        """Opening spans of a weekday (0 = Monday)."""
        return getattr(self, WEEKDAYS[weekday])


#: The languages a fact may be written in (the reply languages).
LANGUAGES = ("es", "pt", "en")
_Lang = Literal["es", "pt", "en"]

#: A fact written once (in the profile's ``default_language``) or per language:
#: ``"unidad"`` or ``{ es = "unidad", pt = "unidade", en = "unit" }``.
LocalText = str | dict[_Lang, str]
#: A list of facts written once or per language.
LocalList = list[str] | dict[_Lang, list[str]]


def versions(value: LocalText | LocalList | None, default: Language) -> dict[str, object]:
    """The versions of a fact by language code; a fact written once is in ``default``."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {lang: text for lang, text in value.items() if text}
    return {default.value: value} if value else {}


def in_default(value: LocalText | LocalList | None, default: Language) -> str | list[str] | None:
    """A fact in the profile's default language (or its first version)."""
    found = versions(value, default)
    if not found:
        return None
    return found.get(default.value) or next(iter(found.values()))  # type: ignore[return-value]


def all_versions(value: LocalText | LocalList | None) -> list[str]:
    """Every version of a fact, flattened: what any reply may say of it."""
    if value is None:
        return []
    found = value.values() if isinstance(value, dict) else [value]
    texts: list[str] = []
    for version in found:
        texts += version if isinstance(version, list) else [version]
    return texts


class PriceItem(_Strict):
    """One line of the price list; ``aliases`` are other names a lead may use
    for it, in any language ("sofá de 3 lugares", "3 seater sofa")."""

    item: LocalText
    price: float = Field(..., ge=0)
    unit: LocalText | None = None
    note: LocalText | None = None
    aliases: list[str] = Field(default_factory=list)


class Facts(_Strict):
    """What the business knows and may say. Nothing else is ever stated.

    The facts that are words (item names, units, notes, hours text, payment
    methods, delivery time, catalog) may be given per language; place names,
    the address and links are the same in every language."""

    address: str | None = None
    hours_text: LocalText | None = Field(None, description="Opening hours as people read them")
    maps_url: str | None = None
    website: str | None = None
    price_list: list[PriceItem] = Field(default_factory=list)
    payment_methods: LocalList = Field(default_factory=list)
    delivery_areas: list[str] = Field(default_factory=list)
    delivery_time: LocalText | None = None
    catalog: LocalList = Field(default_factory=list)
    value: LocalText | None = Field(
        None, description="Why buy here, in one sentence: said after a price objection"
    )
    extra: dict[str, str] = Field(default_factory=dict)


class TemplateText(_Strict):
    """A reply template in the three languages, with its Meta category."""

    category: TemplateCategory = TemplateCategory.UTILITY
    approved_name: str | None = Field(
        None, description="Name of the Meta-approved template, for sends outside the 24 h window"
    )
    es: str
    pt: str | None = None
    en: str | None = None

    def text_for(self, language: Language) -> str:
        """The template in ``language``, falling back to Spanish."""
        return getattr(self, language.value, None) or self.es

    @model_validator(mode="after")
    def _known_variables(self) -> TemplateText:
        for lang in ("es", "pt", "en"):
            text = getattr(self, lang)
            for name in _VARIABLE.findall(text or ""):
                if name not in TEMPLATE_VARIABLES:
                    raise ValueError(
                        f"unknown variable {{{name}}} in the {lang} text; "
                        f"known: {', '.join(sorted(TEMPLATE_VARIABLES))}"
                    )
        return self


#: Variables a template may use; each is filled from the profile or the analysis.
TEMPLATE_VARIABLES = frozenset(
    {
        "business_name",
        "agent_name",
        "lead_name",
        "response_time",
        "question",
        "answer",
        "need",
        "next_step",
        "hours",
        "address",
        "opening_time",
    }
)


class FollowUps(_Strict):
    """When follow-ups fall due (the taxonomy's defaults)."""

    soft_followup_hours: float = Field(24, gt=0)
    proposal_followup_days: float = Field(3, gt=0)
    reactivation_days: float = Field(30, gt=0)


class Qualification(_Strict):
    """When a lead counts as qualified, and which missing fields are asked for."""

    qualified_when: list[str] = Field(default_factory=lambda: list(QUALIFYING_FIELDS))
    ask_for: list[str] = Field(default_factory=lambda: list(KEY_FIELDS))

    @field_validator("qualified_when", "ask_for")
    @classmethod
    def _known_fields(cls, names: list[str]) -> list[str]:
        # A misspelt name would silently never be asked for nor count.
        unknown = [name for name in names if name not in FIELD_NAMES]
        if unknown:
            raise ValueError(
                f"unknown field {', '.join(map(repr, unknown))}; known: {', '.join(FIELD_NAMES)}"
            )
        return names


class BusinessProfile(_Strict):
    """A business, as the copilot needs to know it."""

    name: str = Field(..., min_length=1)
    country: str = Field(..., pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    currency: str = Field(..., pattern=r"^[A-Z]{3}$", description="ISO 4217")
    timezone: str
    default_language: Language = Language.ES
    sector: str | None = None
    business_hours: BusinessHours
    first_response_sla_minutes: int = Field(15, gt=0, le=7 * 24 * 60)
    entry_points: dict[str, Origin] = Field(
        default_factory=dict, description="Prefilled text or code -> origin"
    )
    facts: Facts = Field(default_factory=Facts)
    templates: dict[TemplateKey, TemplateText]
    follow_ups: FollowUps = Field(default_factory=FollowUps)
    qualification: Qualification = Field(default_factory=Qualification)
    agent_name: str | None = Field(
        None,
        description="Kept for old profiles; replies name the conversation's owner, never this",
    )
    engine_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Intent confidence below which the hybrid and semantic engines consult "
        "their second tier (default: the engine's own, 0.6; see docs/calibration.md)",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("templates")
    @classmethod
    def _all_templates(cls, value: dict[TemplateKey, TemplateText]) -> dict:
        missing = [key.value for key in TemplateKey if key not in value]
        if missing:
            raise ValueError(f"missing templates: {', '.join(missing)}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The business's time zone."""
        return ZoneInfo(self.timezone)

    def is_open(self, moment: datetime) -> bool:
        """True when ``moment`` falls within business hours (in the business's zone)."""
        local = moment.astimezone(self.tz)
        now = local.time()
        return any(s.start <= now < s.end for s in self.business_hours.spans_for(local.weekday()))


def missing_languages(profile: BusinessProfile) -> list[str]:
    """Warnings for facts that lack a language another fact of the profile has:
    a lead in that language gets the whole reply in the default language."""
    facts = profile.facts
    default = profile.default_language
    named: list[tuple[str, object]] = [
        ("facts.hours_text", facts.hours_text),
        ("facts.payment_methods", facts.payment_methods),
        ("facts.delivery_time", facts.delivery_time),
        ("facts.catalog", facts.catalog),
        ("facts.value", facts.value),
    ]
    for i, item in enumerate(facts.price_list):
        named += [
            (f"facts.price_list[{i}].item", item.item),
            (f"facts.price_list[{i}].unit", item.unit),
            (f"facts.price_list[{i}].note", item.note),
        ]
    present = [(name, versions(value, default)) for name, value in named]  # type: ignore[arg-type]
    wanted = {lang for _, found in present for lang in found} | {default.value}
    warnings = []
    for name, found in present:
        lacking = [lang for lang in LANGUAGES if lang in wanted and found and lang not in found]
        if lacking:
            warnings.append(
                f"{name}: no {'/'.join(lacking)} version (replies in "
                f"{'/'.join(lacking)} that use it fall back to {default.value})"
            )
    return warnings


def _location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not isinstance(part, int)) or "(top level)"


def load_profile(path: str | Path | None = None) -> BusinessProfile:
    """Load and validate a profile from a TOML file; ``None`` loads the demo profile.

    Raises :class:`ProfileError` naming the file, the field and the problem.
    """
    if path is None:
        source = resources.files("copilot") / "data" / "demo_profile.toml"
        label, text = "demo_profile.toml", source.read_text(encoding="utf-8")
    else:
        label = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ProfileError(f"{label}: cannot read the profile: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ProfileError(f"{label}: the profile is not UTF-8 text") from exc
    return parse_profile(text, label)


def parse_profile(text: str, label: str = "<profile>") -> BusinessProfile:
    """Validate a profile given as TOML text; ``label`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{label}: not valid TOML: {exc}") from exc
    try:
        return BusinessProfile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ProfileError(f"{label}: {problems}") from exc
