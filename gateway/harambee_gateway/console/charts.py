"""Charts drawn on the server as SVG: a few kilobytes each, no script, readable by screen readers.

Each chart is an `<svg role="img">` with a title; the page puts the same figures in a table beside
it. A suppressed cell is drawn as an outlined, empty bar (or a gap in a line) labelled as suppressed
— never as a zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

INK, BAR, ACCENT, MUTED, GRID = "#1a1a1a", "#1f5f99", "#b3261e", "#595959", "#d0d7de"
WIDTH = 640


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (None when suppressed), and whether to flag it."""

    label: str
    value: float | None
    shown: str
    flagged: bool = False


def bar_chart(bars: list[Bar], *, title: str, suppressed: str) -> Markup:
    """Horizontal bars, one per row, the figure written at the bar's end."""
    row, label_width, top = 30, 210, 8
    height = top * 2 + row * max(len(bars), 1)
    largest = max((b.value for b in bars if b.value is not None), default=0) or 1
    room = WIDTH - label_width - 90
    parts = [_open(title, height)]
    for index, bar in enumerate(bars):
        y = top + index * row
        parts.append(f'<text x="{label_width - 8}" y="{y + 19}" text-anchor="end" fill="{INK}" '
                     f'font-size="13">{escape(bar.label)}</text>')
        if bar.value is None:
            parts.append(f'<rect x="{label_width}" y="{y + 5}" width="{room // 3}" height="20" fill="none" '
                         f'stroke="{MUTED}" stroke-dasharray="4 3"/>')
            parts.append(f'<text x="{label_width + room // 3 + 6}" y="{y + 19}" fill="{MUTED}" font-size="12" '
                         f'font-style="italic">{escape(suppressed)}</text>')
            continue
        width = max(2, round(room * bar.value / largest))
        colour = ACCENT if bar.flagged else BAR
        parts.append(f'<rect x="{label_width}" y="{y + 5}" width="{width}" height="20" fill="{colour}"/>')
        parts.append(f'<text x="{label_width + width + 6}" y="{y + 19}" fill="{INK}" '
                     f'font-size="13">{escape(bar.shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(points: list[tuple[str, float | None]], *, title: str, suppressed: str) -> Markup:
    """A line over time; a suppressed point breaks the line and is marked, never drawn at zero."""
    height, left, right, top, bottom = 220, 48, 16, 16, 40
    largest = max((v for _, v in points if v is not None), default=0) or 1
    step = (WIDTH - left - right) / max(len(points) - 1, 1)

    def y_of(value: float) -> float:
        return top + (height - top - bottom) * (1 - value / largest)

    parts = [_open(title, height),
             f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - right}" y2="{height - bottom}" stroke="{GRID}"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="{MUTED}" font-size="11">'
             f'{escape(_figure(largest))}</text>',
             f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" fill="{MUTED}" font-size="11">0</text>']
    segment: list[str] = []
    for index, (label, value) in enumerate(points):
        x = left + index * step
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="middle" fill="{INK}" '
                     f'font-size="11">{escape(label)}</text>')
        if value is None:
            if segment:
                parts.append(_polyline(segment))
            segment = []
            parts.append(f'<text x="{x:.1f}" y="{height - bottom - 6}" text-anchor="middle" fill="{MUTED}" '
                         f'font-size="11" font-style="italic">{escape(suppressed)}</text>')
            continue
        segment.append(f"{x:.1f},{y_of(value):.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y_of(value):.1f}" r="3.5" fill="{BAR}"/>')
    if segment:
        parts.append(_polyline(segment))
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(title: str, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" preserveAspectRatio="xMinYMin meet" class="chart"><title>{escape(title)}</title>')


def _polyline(points: list[str]) -> str:
    return f'<polyline points="{" ".join(points)}" fill="none" stroke="{BAR}" stroke-width="2"/>'


def _figure(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
