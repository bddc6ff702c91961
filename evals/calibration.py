"""Is the engine's intent confidence a probability? Expected calibration error,
the coverage–accuracy curve, and a picture of it.

The curve answers the question the ``engine_threshold`` profile setting asks:
if every line below confidence *t* goes to a second tier (a model or a person),
what share is kept (coverage) and how accurate is what is kept?
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

#: Confidence thresholds shown in the report's table.
THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: The accuracy a kept line should reach for :func:`suggest_threshold`.
TARGET_ACCURACY = 0.95


def calibration(
    confidences: Sequence[float | None], correct: Sequence[bool], bins: int = 10
) -> dict[str, Any]:
    """ECE over ``bins`` equal-width bins, the bins themselves and the curve.

    A missing confidence (no intent) counts as 0."""
    conf = [float(c or 0.0) for c in confidences]
    n = len(conf)
    table = []
    ece = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(conf) if low <= c < high or (b == bins - 1 and c == 1.0)]
        if not idx:
            continue
        mean_conf = sum(conf[i] for i in idx) / len(idx)
        acc = sum(correct[i] for i in idx) / len(idx)
        ece += len(idx) / n * abs(acc - mean_conf)
        table.append(
            {"low": low, "high": high, "n": len(idx), "confidence": mean_conf, "accuracy": acc}
        )
    curve = []
    for t in sorted({0.0, *THRESHOLDS, *conf}):
        kept = [i for i, c in enumerate(conf) if c >= t]
        if kept:
            curve.append(
                {
                    "threshold": t,
                    "coverage": len(kept) / n,
                    "accuracy": sum(correct[i] for i in kept) / len(kept),
                }
            )
    return {"n": n, "ece": ece if n else 0.0, "bins": table, "curve": curve}


def suggest_threshold(curve: Sequence[dict[str, float]], target: float = TARGET_ACCURACY):
    """The lowest threshold whose kept lines reach ``target`` accuracy (``None`` if none)."""
    for point in curve:
        if point["accuracy"] >= target:
            return point["threshold"]
    return None


def table_rows(calib: dict[str, Any]) -> list[list[Any]]:
    """Rows ``threshold, coverage, accuracy`` at :data:`THRESHOLDS`."""
    rows = []
    for t in THRESHOLDS:
        kept = [p for p in calib["curve"] if p["threshold"] >= t]
        if kept:
            rows.append([t, kept[0]["coverage"], kept[0]["accuracy"]])
    return rows


def svg_name(dataset_name: str) -> str:
    """File name of a dataset's coverage–accuracy picture in a report folder."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", dataset_name).strip("-") + "-coverage.svg"


def coverage_svg(calib: dict[str, Any], title: str) -> str:
    """An SVG line chart of accuracy (y) against coverage (x), thresholds marked."""
    w, h, pad = 420, 300, 40
    # The accuracy axis starts at the tenth below the worst point, so a curve
    # between 0.9 and 1 is not a flat line at the top.
    floor = min([int(p["accuracy"] * 10) / 10 for p in calib["curve"]] or [0.0])
    span = max(1.0 - floor, 0.1)

    def xy(coverage: float, accuracy: float) -> str:
        y = h - pad - (accuracy - floor) / span * (h - 2 * pad)
        return f"{pad + coverage * (w - 2 * pad):.1f},{y:.1f}"

    points = " ".join(xy(p["coverage"], p["accuracy"]) for p in calib["curve"])
    marks = []
    for t, coverage, accuracy in table_rows(calib):
        x, y = xy(coverage, accuracy).split(",")
        marks.append(f'<circle cx="{x}" cy="{y}" r="3" fill="#c33"/>')
        marks.append(f'<text x="{x}" y="{float(y) - 6:.1f}" font-size="9">{t:.1f}</text>')
    safe = re.sub(r"[<>&\"']", "", title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'font-family="sans-serif">'
        f'<rect width="{w}" height="{h}" fill="white"/>'
        f'<text x="{pad}" y="20" font-size="12">{safe}: accuracy vs coverage '
        f"(ECE {calib['ece']:.3f})</text>"
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="black"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="black"/>'
        f'<text x="{w / 2:.0f}" y="{h - 8}" font-size="10">coverage (share of lines kept)</text>'
        f'<text x="4" y="{pad - 6}" font-size="10">accuracy</text>'
        f'<text x="{pad - 4}" y="{h - pad + 14}" font-size="9">0</text>'
        f'<text x="{w - pad - 4}" y="{h - pad + 12}" font-size="9">1</text>'
        f'<text x="{pad - 12}" y="{pad + 4}" font-size="9">1</text>'
        f'<text x="{pad - 22}" y="{h - pad}" font-size="9">{floor:.1f}</text>'
        f'<polyline points="{points}" fill="none" stroke="#36c" stroke-width="2"/>'
        + "".join(marks)
        + "</svg>\n"
    )
