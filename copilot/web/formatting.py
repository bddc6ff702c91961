"""Small display helpers: times in the business's time zone, durations, field values."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from copilot.web.i18n import label


def local_time(moment: datetime | None, tz: tzinfo, now: datetime) -> str:
    """``HH:MM`` for today, ``dd/mm HH:MM`` otherwise (business time zone)."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    if local.date() == now.astimezone(tz).date():
        return local.strftime("%H:%M")
    return local.strftime("%d/%m %H:%M")


def duration(seconds: float | None) -> str:
    """A compact duration: ``45 s``, ``12 min``, ``3 h 05``, ``2 d 4 h``."""
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d}"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def field_value(lang: str, name: str, value: Any) -> str:
    """A qualification field's value as text (timeline with its bucket, budget with
    its amount, next step translated)."""
    if isinstance(value, dict):
        if name == "timeline":
            bucket = value.get("bucket")
            text = value.get("text") or ""
            return f"{text} ({label(lang, 'timeline', bucket)})" if bucket else text
        if name == "budget":
            amount, currency = value.get("amount"), value.get("currency")
            if amount is not None:
                shown = f"{amount:,.0f}".replace(",", ".") if amount >= 1000 else f"{amount:g}"
                return f"{shown} {currency or ''}".strip() + f" ({value.get('text', '')})"
            return str(value.get("text") or "")
        return str(value.get("text") or value)
    if name == "next_step":
        return label(lang, "next_step", value)
    return "" if value is None else str(value)
