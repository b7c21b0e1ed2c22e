"""Server-rendered SVG charts: bars and a line, with a title, a description and no script.

Charts are drawn on the server so the statistics page works without JavaScript and
loads nothing from other hosts; the CSP forbids inline styles, so every colour is an
SVG presentation attribute, never a ``style``. Each chart names itself for screen
readers (``role="img"`` with ``<title>`` and ``<desc>``), and the page puts the same
numbers in a table below it (WCAG 2.1, 1.1.1 non-text content).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

WIDTH = 640
BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 160
VALUE_WIDTH = 60
LINE_HEIGHT = 240
FILL = "#2f5d8a"
AXIS = "#666666"
_ids = itertools.count(1)


def _svg(parts: list[str]) -> Markup:
    # Every label and title was escaped as it was written into ``parts``.
    return Markup("\n".join(parts))  # noqa: S704


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _header(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _describe(items: Sequence[tuple[str, float]], empty: str) -> str:
    if not items:
        return empty
    return "; ".join(f"{label}: {_number(value)}" for label, value in items)


def bar_chart(
    title: str, items: Sequence[tuple[str, float]], *, empty: str = "-", unit: str = ""
) -> Markup:
    """Horizontal bars, one per ``(label, value)``, longest bar = largest value."""
    chart_id = f"chart-{next(_ids)}"
    rows = max(len(items), 1)
    height = rows * (BAR_HEIGHT + GAP) + GAP
    top = max((value for _, value in items), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = _header(chart_id, title, _describe(items, empty), height)
    if not items:
        parts.append(
            f'<text x="{GAP}" y="{GAP + BAR_HEIGHT - 6}" fill="{AXIS}">{escape(empty)}</text>'
        )
    for index, (label, value) in enumerate(items):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = round(span * max(value, 0) / top, 1)
        parts.append(
            f'<text x="{LABEL_WIDTH - GAP}" y="{y + BAR_HEIGHT - 6}" text-anchor="end" '
            f'font-size="13">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" '
            f'fill="{FILL}"><title>{escape(label)}: {_number(value)}{escape(unit)}</title></rect>'
        )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 4}" y="{y + BAR_HEIGHT - 6}" '
            f'font-size="13">{_number(value)}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return _svg(parts)


def line_chart(title: str, items: Sequence[tuple[str, float]], *, empty: str = "-") -> Markup:
    """A line through ``(label, value)`` points in order (months left to right)."""
    chart_id = f"chart-{next(_ids)}"
    parts = _header(chart_id, title, _describe(items, empty), LINE_HEIGHT)
    left, right, top_margin, bottom = 40, WIDTH - 20, 20, LINE_HEIGHT - 40
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{AXIS}"/>'
        f'<line x1="{left}" y1="{top_margin}" x2="{left}" y2="{bottom}" stroke="{AXIS}"/>'
    )
    if not items:
        parts.append(f'<text x="{left + 8}" y="{bottom - 8}" fill="{AXIS}">{escape(empty)}</text>')
        parts.append("</svg>")
        return _svg(parts)
    top = max(value for _, value in items) or 1
    step = (right - left) / max(len(items) - 1, 1)
    points = []
    for index, (label, value) in enumerate(items):
        x = round(left + index * step if len(items) > 1 else (left + right) / 2, 1)
        y = round(bottom - (bottom - top_margin) * max(value, 0) / top, 1)
        points.append(f"{x},{y}")
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="4" fill="{FILL}">'
            f"<title>{escape(label)}: {_number(value)}</title></circle>"
        )
        parts.append(
            f'<text x="{x}" y="{bottom + 16}" text-anchor="middle" font-size="11">'
            f"{escape(label)}</text>"
        )
        parts.append(
            f'<text x="{x}" y="{y - 8}" text-anchor="middle" font-size="11">{_number(value)}</text>'
        )
    parts.insert(
        4,
        f'<polyline points={quoteattr(" ".join(points))} fill="none" stroke="{FILL}" '
        'stroke-width="2"/>',
    )
    parts.append(
        f'<text x="{left - 6}" y="{top_margin + 4}" text-anchor="end" font-size="11">'
        f"{_number(top)}</text>"
    )
    parts.append("</svg>")
    return _svg(parts)
