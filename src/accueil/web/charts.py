"""Geometry of the small SVG charts the pages draw server-side (no chart library, nothing to download).

A chart is bars (one series) and lines (others) over the same intervals; this computes the rectangles,
polyline points and axis ticks, and the template draws them, so every label goes through the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 36, 22, 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    lines: dict[str, str]  # series name -> "x,y x,y ..." for <polyline points>
    y_ticks: list[tuple[float, str]]  # (y, label)
    x_ticks: list[tuple[float, str]]


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return step * 4
    return value * 1.1


def bars_and_lines(labels: list[str], bars: list[float], lines: dict[str, list[float | None]],
                   every: int = 4) -> Chart:
    """``labels`` one per interval (shown every ``every``); ``bars`` and each line share the y scale."""
    count = max(len(labels), 1)
    values = [v for v in bars] + [v for series in lines.values() for v in series if v is not None]
    top = _nice_top(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    slot = plot_w / count

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - min(value, top) / top)

    drawn = [Bar(x=LEFT + i * slot + slot * 0.15, y=y_of(v), width=slot * 0.7, height=TOP + plot_h - y_of(v),
                 value=v) for i, v in enumerate(bars)]
    polylines = {}
    for name, series in lines.items():
        points = [f"{LEFT + (i + 0.5) * slot:.1f},{y_of(v):.1f}" for i, v in enumerate(series) if v is not None]
        polylines[name] = " ".join(points)
    y_ticks = [(y_of(top * k / 4), f"{top * k / 4:g}") for k in range(5)]
    x_ticks = [(LEFT + (i + 0.5) * slot, labels[i]) for i in range(0, len(labels), every)]
    return Chart(width=WIDTH, height=HEIGHT, bars=drawn, lines=polylines, y_ticks=y_ticks, x_ticks=x_ticks)
