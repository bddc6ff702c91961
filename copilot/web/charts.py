"""Chart geometry for the metrics page. Python computes the coordinates; the
templates draw them as inline SVG (autoescaped like everything else), so the
charts need no JavaScript and no network."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 16, 16, 36


@dataclass
class Point:
    x: float
    y: float
    label: str
    value: float


@dataclass
class Tick:
    pos: float
    label: str


@dataclass
class LineChart:
    """A line over days (gaps where a day has no value)."""

    width: int = WIDTH
    height: int = HEIGHT
    segments: list[str] = field(default_factory=list)  # SVG polyline point lists
    points: list[Point] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    baseline: float = HEIGHT - PAD_BOTTOM
    left: float = PAD_LEFT
    right: float = WIDTH - PAD_RIGHT
    threshold_y: float | None = None
    empty: bool = True


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str
    value: float
    kind: str = ""


@dataclass
class BarChart:
    """Vertical bars (one per category) on a 0..max scale."""

    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    baseline: float = HEIGHT - PAD_BOTTOM
    left: float = PAD_LEFT
    right: float = WIDTH - PAD_RIGHT
    empty: bool = True


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 15, 20, 30, 50, 60, 100, 120, 200, 300, 500, 1000, 2000, 5000):
        if value <= step:
            return float(step)
    return float(int(value * 1.1) + 1)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def line_chart(
    series: list[tuple[str, float | None]],
    *,
    y_max: float | None = None,
    threshold: float | None = None,
) -> LineChart:
    """A line chart of ``(label, value)`` pairs; ``None`` values break the line.
    ``threshold`` draws a dashed reference line (e.g. the SLA minutes)."""
    chart = LineChart()
    values = [v for _, v in series if v is not None]
    if not series or not values:
        return chart
    chart.empty = False
    top = y_max if y_max is not None else _nice_max(max([*values, threshold or 0]))
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    n = len(series)
    step = inner_w / max(n - 1, 1)

    def y_of(v: float) -> float:
        return round(PAD_TOP + inner_h * (1 - min(v, top) / top), 1)

    current: list[str] = []
    for i, (label, value) in enumerate(series):
        x = round(PAD_LEFT + (step * i if n > 1 else inner_w / 2), 1)
        if value is None:
            if current:
                chart.segments.append(" ".join(current))
            current = []
            continue
        y = y_of(value)
        current.append(f"{x},{y}")
        chart.points.append(Point(x, y, label, round(value, 1)))
    if current:
        chart.segments.append(" ".join(current))
    chart.y_ticks = [Tick(y_of(top * f), _fmt(top * f)) for f in (0, 0.5, 1)]
    every = max(1, n // 8)
    chart.x_ticks = [
        Tick(round(PAD_LEFT + (step * i if n > 1 else inner_w / 2), 1), label)
        for i, (label, _) in enumerate(series)
        if i % every == 0 or i == n - 1
    ]
    if threshold is not None:
        chart.threshold_y = y_of(threshold)
    return chart


def bar_chart(series: list[tuple[str, float | None]], *, y_max: float | None = None) -> BarChart:
    """Vertical bars of ``(label, value)`` pairs (``None``: no bar)."""
    chart = BarChart()
    values = [v for _, v in series if v is not None]
    if not series or not values:
        return chart
    chart.empty = False
    top = y_max if y_max is not None else _nice_max(max(values))
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = inner_w / len(series)
    width = max(2.0, slot * 0.7)
    for i, (label, value) in enumerate(series):
        x = round(PAD_LEFT + slot * i + (slot - width) / 2, 1)
        if value is not None:
            # A zero still shows as a sliver, so it differs from a day without data.
            h = max(2.0, round(inner_h * min(value, top) / top, 1))
            chart.bars.append(
                Bar(
                    x, round(HEIGHT - PAD_BOTTOM - h, 1), round(width, 1), h, label, round(value, 1)
                )
            )
    chart.y_ticks = [
        Tick(round(PAD_TOP + inner_h * (1 - f), 1), _fmt(top * f)) for f in (0, 0.5, 1)
    ]
    every = max(1, len(series) // 8)
    chart.x_ticks = [
        Tick(round(PAD_LEFT + slot * i + slot / 2, 1), label)
        for i, (label, _) in enumerate(series)
        if i % every == 0 or i == len(series) - 1
    ]
    return chart


@dataclass
class Segment:
    x: float
    w: float
    value: int
    pct: float
    kind: str


def stacked(parts: list[tuple[str, int]], width: float = 400) -> list[Segment]:
    """A horizontal 100 % bar split into ``(kind, count)`` parts."""
    total = sum(v for _, v in parts)
    out: list[Segment] = []
    x = 0.0
    for kind, value in parts:
        w = width * value / total if total else 0.0
        out.append(
            Segment(
                round(x, 1),
                round(w, 1),
                value,
                round(100 * value / total, 1) if total else 0.0,
                kind,
            )
        )
        x += w
    return out
