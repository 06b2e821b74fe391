"""Trend charts as small inline SVG, drawn on the server so HTML and PDF show the same picture.

Plain rectangles, lines and text only (no scripts, filters or CSS variables), which WeasyPrint renders
as it does browsers. Labels are escaped; the numbers are also printed in a table beside each chart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

WIDTH, HEIGHT = 680, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 40
COLOURS = ("#1f5f99", "#c2410c")


def _nice_max(value: int) -> int:
    """A round upper bound for the axis (1, 2, 5 × 10^n) at or above ``value``."""
    if value <= 0:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def bucket_label(chart: dict[str, Any], iso: str, zone: ZoneInfo) -> str:
    """``08:00``, or ``11-12 08:00`` when the chart spans more than a day."""
    long = len(chart["buckets"]) * chart["bucket_minutes"] > 25 * 60
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%m-%d %H:%M" if long else "%H:%M")


def bar_chart(chart: dict[str, Any], zone: ZoneInfo) -> Markup:
    """Grouped bars: one group per bucket, one bar per series, with a y axis and hour labels."""
    series = chart["series"]
    buckets = chart["buckets"]
    count = max(1, len(buckets))
    peak = _nice_max(max((max(s["values"], default=0) for s in series), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / count
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(chart["title"])}" class="chart">'
    ]
    for tick in (0, peak // 2, peak) if peak >= 2 else (0, peak):
        y = TOP + plot_h - plot_h * tick / peak
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#d0d5db" stroke-width="0.6"/>'
        )
        parts.append(f'<text x="{LEFT - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end" fill="#333">{tick}</text>')
    label_every = max(1, round(count / 12))
    for index, start in enumerate(buckets):
        x0 = LEFT + index * group_w + group_w * 0.1
        for position, item in enumerate(series):
            value = item["values"][index]
            height = plot_h * value / peak
            x = x0 + position * bar_w
            y = TOP + plot_h - height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                f'fill="{COLOURS[position % len(COLOURS)]}"/>'
            )
        if index % label_every == 0:
            hour = bucket_label(chart, start, zone)
            parts.append(
                f'<text x="{LEFT + index * group_w + group_w / 2:.1f}" y="{TOP + plot_h + 12}" font-size="8.5" '
                f'text-anchor="middle" fill="#333">{hour}</text>'
            )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#333" stroke-width="0.8"/>'
    )
    legend_x = LEFT
    for position, item in enumerate(series):
        colour = COLOURS[position % len(COLOURS)]
        parts.append(f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>')
        parts.append(
            f'<text x="{legend_x + 14}" y="{HEIGHT - 5}" font-size="9.5" fill="#111">{escape(item["label"])}</text>'
        )
        legend_x += 24 + 7 * len(item["label"])
    parts.append("</svg>")
    return Markup("".join(parts))
