"""Prices per million tokens and the cost of a call.

The table is configurable: pass ``prices={"my-model": {"input": 0.1, ...}}`` or
the path of a TOML file with one table per model. Models served locally
(Ollama, vLLM, llama.cpp) cost nothing: give them zero prices. An unknown model
has no cost (``None``), never a guessed one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.llm.provider import Usage


class Price(BaseModel):
    """USD per million tokens: fresh input, cached input and output."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(..., ge=0)
    cached_input: float | None = Field(None, ge=0)
    output: float = Field(..., ge=0)


#: List prices (USD per 1M tokens, standard tier) of common small models.
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(input=0.15, cached_input=0.075, output=0.60),
    "gpt-4.1-mini": Price(input=0.40, cached_input=0.10, output=1.60),
    "gpt-4.1-nano": Price(input=0.10, cached_input=0.025, output=0.40),
    "gpt-4o": Price(input=2.50, cached_input=1.25, output=10.00),
}


def load_prices(source: dict[str, Any] | str | Path | None) -> dict[str, Price]:
    """The price table: the defaults updated with ``source`` (a dict or a TOML file)."""
    table = dict(DEFAULT_PRICES)
    if source is None:
        return table
    if isinstance(source, str | Path):
        try:
            data = tomllib.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read the price table {source}: {exc}") from exc
    else:
        data = source
    for model, price in data.items():
        table[model] = price if isinstance(price, Price) else Price.model_validate(price)
    return table


def price_for(model: str, prices: dict[str, Price]) -> Price | None:
    """The price of ``model``; a dated snapshot ("gpt-4o-mini-2024-07-18") uses its
    base model's price."""
    if model in prices:
        return prices[model]
    matches = [name for name in prices if model.startswith(f"{name}-")]
    return prices[max(matches, key=len)] if matches else None


def cost_usd(usage: Usage, model: str, prices: dict[str, Price]) -> float | None:
    """Cost of ``usage`` on ``model`` in USD; ``None`` when the model has no price."""
    price = price_for(model, prices)
    if price is None:
        return None
    cached = min(usage.cached_tokens, usage.input_tokens)
    cached_rate = price.input if price.cached_input is None else price.cached_input
    total = (
        (usage.input_tokens - cached) * price.input
        + cached * cached_rate
        + usage.output_tokens * price.output
    )
    return round(total / 1_000_000, 8)
