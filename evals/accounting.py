"""Who answered each eval item, and what the model spent: the honest part of a score.

An ``llm`` or ``hybrid`` engine that cannot get a usable answer from its model
falls back to the rules engine. Scored blindly, a run that is all fallbacks
looks exactly like the rules engine. So every prediction says who decided
(``decided_by``: ``model``, ``reask`` or ``fallback``) and why (``reasons``,
in order), and a run adds them up: model answers, fallbacks by reason,
tokens, cost and cache hits. Items where no model was asked (the rules engine)
carry none of this.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

#: Decisions, from the best to the worst: an item analysed twice keeps the worst.
DECISIONS = ("model", "reask", "fallback")
_USAGE = ("input_tokens", "cached_tokens", "output_tokens", "calls", "cache_hits")


def item_record(seen: Sequence[Any], label: str) -> dict[str, Any]:
    """The accounting keys of one prediction row, from the analyses of its item.

    Empty when no model was asked. ``engine`` names the fallback engine when the
    model gave no usable answer, so a fallback never passes as the model's answer."""
    asked = [a for a in seen if getattr(a, "decision", None)]
    if not asked:
        return {}
    decision = max((a.decision for a in asked), key=DECISIONS.index)
    usage = Counter[str]()
    for analysis in asked:
        usage.update({k: int(v) for k, v in (analysis.usage or {}).items() if k in _USAGE})
    costs = [a.cost_usd for a in asked if a.cost_usd is not None]
    record: dict[str, Any] = {
        "decided_by": decision,
        "reasons": [reason for a in asked for reason in a.reasons],
        "usage": {k: usage.get(k, 0) for k in _USAGE},
        "cost_usd": round(sum(costs), 8) if costs else None,
        "model": asked[-1].model,
    }
    if decision == "fallback":
        fallback = next(
            (a.decided_by.get("intent") for a in asked if a.decision == "fallback"), None
        )
        record["engine"] = f"{fallback or 'fallback'} (fallback of {label})"
    return record


def spec_label(rows: Sequence[dict[str, Any]], default: str) -> str:
    """The engine a predictions file was made with (a fallback row names it too)."""
    for row in rows:
        engine = str(row.get("engine") or "")
        if engine:
            found = re.search(r"\(fallback of (.+)\)$", engine)
            return found.group(1) if found else engine
    return default


def reason_kind(reason: str) -> str:
    """A reason's kind, for counting: its text up to the first colon or parenthesis."""
    head = re.split(r"[:(]", reason, maxsplit=1)[0].strip()
    return head[:80] or "unknown"


def model_decided(predictions: Sequence[dict[str, Any]]) -> list[int]:
    """Positions of the items the model answered (first answer or re-ask)."""
    return [i for i, p in enumerate(predictions) if p.get("decided_by") in ("model", "reask")]


def account(predictions: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """A run's figures: items the model was asked on, answers by decision, fallbacks by
    reason kind (the reason that ended each), tokens, cost and cache hits.

    ``None`` when no model was asked on any item (a rules run)."""
    asked = [p for p in predictions if p.get("decided_by") in DECISIONS]
    if not asked:
        return None
    decisions = Counter(p["decided_by"] for p in asked)
    fallbacks = [p for p in asked if p["decided_by"] == "fallback"]
    usage = Counter[str]()
    for row in asked:
        usage.update({k: int(v) for k, v in (row.get("usage") or {}).items() if k in _USAGE})
    costs = [p["cost_usd"] for p in asked if p.get("cost_usd") is not None]
    return {
        "items": len(predictions),
        "asked": len(asked),
        "model": decisions["model"],
        "reask": decisions["reask"],
        "fallback": decisions["fallback"],
        "fallback_reasons": dict(
            Counter(reason_kind((p.get("reasons") or ["unknown"])[-1]) for p in fallbacks)
        ),
        "fallback_items": [
            {"id": p["id"], "reasons": list(p.get("reasons") or [])} for p in fallbacks
        ],
        "tokens": {k: usage.get(k, 0) for k in _USAGE[:3]},
        "calls": usage.get("calls", 0),
        "cache_hits": usage.get("cache_hits", 0),
        "cost_usd": round(sum(costs), 8) if costs else None,
    }


def describe(accounting: dict[str, Any]) -> list[str]:
    """Lines for people: model answers, fallbacks and their reasons, tokens, cost, cache."""
    a = accounting
    used = a["model"] + a["reask"]
    lines = [
        f"model answers used: {used} of {a['items']} items"
        f" ({a['reask']} after a re-ask); fallbacks: {a['fallback']}"
    ]
    if a["fallback_reasons"]:
        kinds = ", ".join(f"{kind} ×{n}" for kind, n in sorted(a["fallback_reasons"].items()))
        lines.append(f"fallback reasons: {kinds}")
    t = a["tokens"]
    cost = f"${a['cost_usd']:.6f}" if a["cost_usd"] is not None else "unknown (no price)"
    lines.append(
        f"tokens: {t['input_tokens']} in ({t['cached_tokens']} cached), "
        f"{t['output_tokens']} out; {a['calls']} calls, {a['cache_hits']} cache hits; cost {cost}"
    )
    return lines
