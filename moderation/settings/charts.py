"""Server-side SVG charts for the policy page: score histograms with thresholds, the queue over time (pure).

No script and no style attributes (the page runs under a strict CSP): shapes carry CSS classes
and presentation attributes. Thresholds are told apart without colour: the current one is a
solid line, the proposed one dashed, each with its label. Every chart has a <title>, a <desc>
summing it up, and the numbers behind it in a table (`rows`) for the page to show.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from markupsafe import Markup

from .queue_history import QueuePoint

WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 34, 28
BINS = 20


@dataclass(frozen=True)
class Chart:
    svg: Markup
    summary: str                       # one sentence, also the figure's caption
    headers: tuple[str, ...]           # the data table behind the chart
    rows: list[tuple[str, ...]] = field(default_factory=list)


def _fmt(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f}"


def _svg(chart_id: str, title: str, desc: str, body: list[str], css_class: str) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'
            f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _axes(y_label: str, y_max_label: str) -> list[str]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    return [
        f'<line class="chart-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="currentColor"/>',
        f'<line class="chart-axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="currentColor"/>',
        f'<text class="chart-label" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{escape(y_max_label)}</text>',
        f'<text class="chart-label" x="{LEFT - 4}" y="{bottom}" text-anchor="end">0</text>',
        f'<text class="chart-label" x="4" y="{TOP - 22}">{escape(y_label)}</text>',
    ]


def histogram(category: str, scores: Sequence[float], current: float | None, proposed: float | None,
              *, chart_id: str | None = None, bins: int = BINS, title: str | None = None) -> Chart:
    """Scores of one category in `bins` bins, the current (solid) and proposed (dashed) flag levels drawn.

    `title`: the category as the pages name it ("Obscenity" for obscene); the code by default."""
    chart_id = chart_id or f"hist-{category}"
    counts = [0] * bins
    for score in scores:
        counts[min(bins - 1, max(0, int(float(score) * bins)))] += 1
    peak = max(counts, default=0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bottom = HEIGHT - BOTTOM
    # Square-root heights: most comments score near 0, and a linear scale would hide the rest.
    scale = (lambda n: plot_h * math.sqrt(n / peak)) if peak else (lambda n: 0.0)
    body = _axes("comments (square-root scale)", str(peak))
    bar_w = plot_w / bins
    for i, count in enumerate(counts):
        if count:
            height = scale(count)
            body.append(f'<rect class="chart-bar" x="{LEFT + i * bar_w + 1:.1f}" y="{bottom - height:.1f}" '
                        f'width="{bar_w - 2:.1f}" height="{height:.1f}"><title>{i / bins:.2f}-{(i + 1) / bins:.2f}: '
                        f'{count}</title></rect>')
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = LEFT + tick * plot_w
        body.append(f'<text class="chart-label" x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{tick:g}</text>')
    lines = [("current", current, "chart-threshold chart-threshold-current", "", TOP - 10),
             ("proposed", proposed, "chart-threshold chart-threshold-proposed", ' stroke-dasharray="6 4"', TOP - 1)]
    if current is not None and current == proposed:
        lines = [("current = proposed", current, "chart-threshold chart-threshold-current", "", TOP - 10)]
    for name, level, css, dash, label_y in lines:
        if level is None:
            continue
        x = LEFT + level * plot_w
        anchor = "end" if level > 0.7 else "start"
        dx = -3 if anchor == "end" else 3
        body.append(f'<line class="{css}" x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{bottom}" '
                    f'stroke="currentColor" stroke-width="2"{dash}/>')
        body.append(f'<text class="chart-label" x="{x + dx:.1f}" y="{label_y}" text-anchor="{anchor}">'
                    f'{escape(name)} {level:.2f}</text>')
    total = len(scores)
    above = [sum(1 for s in scores if level is not None and s >= level) for level in (current, proposed)]
    named = title or category
    comments = "1 scored comment" if total == 1 else f"{total} scored comments"
    summary = (f"{named}: {comments}; {above[0]} at or above the current level "
               f"({_fmt(current)}), {above[1]} at or above the proposed level ({_fmt(proposed)}).")
    rows = [(f"{i / bins:.2f}–{(i + 1) / bins:.2f}", str(count)) for i, count in enumerate(counts)]
    return Chart(_svg(chart_id, f"Distribution of {named.lower()} scores", summary, body, "chart-histogram"),
                 summary, ("score", "comments"), rows)


def _line(points: Sequence[tuple[float, float]], css: str) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline class="{css}" points="{path}" fill="none" stroke="currentColor" stroke-width="2"/>'


def _time_label(moment: datetime, hourly: bool) -> str:
    return moment.strftime("%d %b %H:%M" if hourly else "%d %b")


def queue_charts(points: Sequence[QueuePoint], *, hourly: bool, chart_id: str = "queue") -> tuple[Chart, Chart]:
    """Two line charts over the window: the queue's size, and the age in hours of its oldest comment."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bottom = HEIGHT - BOTTOM
    count = max(len(points) - 1, 1)
    x_of = [LEFT + plot_w * i / count for i in range(len(points))]
    ages = [(p.oldest_seconds or 0.0) / 3600 for p in points]
    charts = []
    for key, values, title, unit in (
            ("size", [float(p.size) for p in points], "Comments waiting in the queue", "comments"),
            ("age", ages, "Age of the oldest queued comment", "hours")):
        peak = max(values, default=0.0)
        y_of = [bottom - (plot_h * v / peak if peak else 0.0) for v in values]
        body = _axes(unit, f"{peak:.0f}" if key == "size" else f"{peak:.1f}")
        if points:
            body.append(_line(list(zip(x_of, y_of)), f"chart-line chart-line-{key}"))
            for x, y, value in zip(x_of, y_of, values):
                body.append(f'<circle class="chart-point" cx="{x:.1f}" cy="{y:.1f}" r="2.5">'
                            f'<title>{value:.1f} {unit}</title></circle>')
            for i in sorted({0, len(points) // 2, len(points) - 1}):
                anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
                body.append(f'<text class="chart-label" x="{x_of[i]:.1f}" y="{HEIGHT - 10}" '
                            f'text-anchor="{anchor}">{escape(_time_label(points[i].at, hourly))}</text>')
        if points:
            last = values[-1]
            summary = (f"{title}: {last:.1f} {unit} at the end of the window, at most {peak:.1f}, "
                       f"sampled {'hourly' if hourly else 'daily'} ({len(points)} points).")
        else:
            summary = f"{title}: nothing in this window."
        charts.append(Chart(_svg(f"{chart_id}-{key}", title, summary, body, f"chart-queue-{key}"), summary,
                            ("time (UTC)", unit),
                            [(_time_label(p.at, hourly), f"{v:.1f}" if key == "age" else str(int(v)))
                             for p, v in zip(points, values)]))
    return charts[0], charts[1]
