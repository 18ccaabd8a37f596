"""Charts as server-rendered SVG: no JavaScript, no third-party library, nothing from a CDN.

Every chart is an <svg role="img"> with a title and a description pointing at the data table
printed beside it, so a screen reader user gets the same figures as text. Labels are escaped.

Drawn 360 units wide, about a phone's width, so that a label of 14 units reads at about 12 px on a
360 px phone; the stylesheets cap a chart's width on a desktop so its text is not oversized there.
Bars carry their label above them (long group names need no truncation on a phone).
"""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 360
VALUE_WIDTH = 84  # room right of the longest bar for its figure ("suppressed", "1,234.5 min")
ROW = 42  # a label line, then the bar
BAR = 14
FONT = 14
MONTH_LABELS = 6  # at most this many month names under a line chart
INK, ACCENT, MUTED, LINE = "#1b1f24", "#0b5cad", "#505a66", "#d0d7de"


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None  # None: no bar (suppressed or no data)
    text: str  # the value as printed, e.g. "14.2 min" or "suppressed"


def _short(label: str, limit: int = 44) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _open(chart_id: str, title: str, height: int) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" font-size="{FONT}" '
        f'font-family="system-ui, sans-serif">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">The same figures are in the table next to this chart.</desc>'
    )


def bar_chart(chart_id: str, title: str, points: list[Point]) -> SafeString:
    """Horizontal bars, one per group with its label above it, scaled to the largest value."""
    chart_id = escape(chart_id)
    height = max(len(points), 1) * ROW + 4
    top = max((p.value for p in points if p.value is not None), default=0) or 1
    span = WIDTH - VALUE_WIDTH
    parts = [_open(chart_id, title, height)]
    if not points:
        parts.append(f'<text x="0" y="18" fill="{MUTED}">No data for this period.</text>')
    for k, point in enumerate(points):
        y = k * ROW
        parts.append(
            f'<text x="0" y="{y + FONT + 1}" fill="{INK}"><title>{escape(point.label)}</title>'
            f"{escape(_short(point.label))}</text>"
        )
        bar_top = y + FONT + 8
        width = 0.0
        if point.value is not None and point.value > 0:
            width = max(1.0, span * point.value / top)
            parts.append(f'<rect x="0" y="{bar_top}" width="{width:.1f}" height="{BAR}" fill="{ACCENT}"/>')
        colour = INK if point.value is not None else MUTED
        parts.append(f'<text x="{width + 6:.1f}" y="{bar_top + BAR - 2}" fill="{colour}">{escape(point.text)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every piece of text above is escaped)


def line_chart(chart_id: str, title: str, points: list[Point]) -> SafeString:
    """A line over time (months), from zero to the largest value; gaps where a value is missing."""
    chart_id = escape(chart_id)
    height, left, right, top_pad, bottom = 200, 44, 24, 16, 36
    inner_w, inner_h = WIDTH - left - right, height - top_pad - bottom
    top = max((p.value for p in points if p.value is not None), default=0) or 1
    parts = [_open(chart_id, title, height)]
    parts.append(
        f'<line x1="{left}" y1="{top_pad + inner_h}" x2="{WIDTH - right}" y2="{top_pad + inner_h}" stroke="{LINE}"/>'
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end" fill="{MUTED}">{escape(_number(top))}</text>'
        f'<text x="{left - 6}" y="{top_pad + inner_h + 4}" text-anchor="end" fill="{MUTED}">0</text>'
    )
    step = inner_w / max(len(points) - 1, 1)
    every = -(-len(points) // MONTH_LABELS)  # label every n-th month so the names never overlap
    runs, run = [], []
    for k, point in enumerate(points):
        x = left + (k * step if len(points) > 1 else inner_w / 2)
        if k % every == 0:
            label = escape(_short(point.label, 8))
            parts.append(f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" fill="{MUTED}">{label}</text>')
        if point.value is None:
            runs.append(run)
            run = []
            continue
        y = top_pad + inner_h - inner_h * point.value / top
        run.append((x, y))
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{ACCENT}"><title>{escape(point.label)}: '
            f"{escape(point.text)}</title></circle>"
        )
    runs.append(run)
    for segment in runs:
        if len(segment) > 1:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every piece of text above is escaped)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or float(value).is_integer() else f"{value:,.1f}"
