"""Server-rendered SVG charts for the dashboard: no script, no inline style (the CSP
forbids both), only presentation attributes, and every text escaped."""

from __future__ import annotations

from html import escape

from villageaffairs.campaigns.schemas import Dashboard

COLOURS = {"done": "#1f6f3a", "on_time": "#7cb342", "open": "#d5dbe0", "late": "#b3261e"}
BAR_HEIGHT = 16
GAP = 8
LABEL_WIDTH = 150
PLOT_WIDTH = 300
MAX_TOWNSHIP_BARS = 30
"""A province-wide chart of hundreds of bars reads as noise: beyond this, the chart shows
the townships furthest behind (the matrix above still lists every township)."""


def _bar(x: float, y: float, width: float, fill: str, title: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{BAR_HEIGHT}" '
        f'fill="{fill}"><title>{escape(title)}</title></rect>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="12" text-anchor="{anchor}" '
        f'fill="#1d2329">{escape(text)}</text>'
    )


def task_totals_chart(board: Dashboard, labels: dict[str, str]) -> str:
    """One pair of bars per task: completeness (dark) and timeliness (light), county-wide."""
    rows = board.totals
    height = len(rows) * (2 * BAR_HEIGHT + GAP) + 30
    width = LABEL_WIDTH + PLOT_WIDTH + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(labels['chart_totals'])}</title>",
    ]
    y = 10.0
    for total in rows:
        parts.append(_text(LABEL_WIDTH - 6, y + BAR_HEIGHT, total.task.title[:14], "end"))
        parts.append(_bar(LABEL_WIDTH, y, PLOT_WIDTH, COLOURS["open"], ""))
        parts.append(
            _bar(
                LABEL_WIDTH,
                y,
                PLOT_WIDTH * total.completeness,
                COLOURS["done"],
                f"{labels['completeness']} {total.completeness:.0%}",
            )
        )
        parts.append(_text(LABEL_WIDTH + PLOT_WIDTH + 4, y + 12, f"{total.completeness:.0%}"))
        y += BAR_HEIGHT
        parts.append(
            _bar(
                LABEL_WIDTH,
                y,
                PLOT_WIDTH * total.timeliness,
                COLOURS["on_time"],
                f"{labels['timeliness']} {total.timeliness:.0%}",
            )
        )
        parts.append(_text(LABEL_WIDTH + PLOT_WIDTH + 4, y + 12, f"{total.timeliness:.0%}"))
        y += BAR_HEIGHT + GAP
    parts.append(
        _text(LABEL_WIDTH, y + 14, f"■ {labels['completeness']}  □ {labels['timeliness']}")
    )
    parts.append("</svg>")
    return "".join(parts)


def township_chart(board: Dashboard, task_index: int, labels: dict[str, str]) -> str:
    """For one task: each township's villages done on time, done late, and not done."""
    task = board.campaign.tasks[task_index]
    rows = board.townships
    if len(rows) > MAX_TOWNSHIP_BARS:
        rows = sorted(
            rows, key=lambda r: (r.cells[task_index].completeness, r.cells[task_index].timeliness)
        )[:MAX_TOWNSHIP_BARS]
    height = len(rows) * (BAR_HEIGHT + 4) + 40
    width = LABEL_WIDTH + PLOT_WIDTH + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(task.title)}</title>",
        _text(0, 14, task.title[:40]),
    ]
    y = 24.0
    for row in rows:
        cell = row.cells[task_index]
        parts.append(_text(LABEL_WIDTH - 6, y + 12, row.name[:12], "end"))
        if cell.expected:
            unit = PLOT_WIDTH / cell.expected
            late = cell.done - cell.on_time
            x = float(LABEL_WIDTH)
            for count, key, label in (
                (cell.on_time, "done", labels["on_time"]),
                (late, "late", labels["late"]),
                (cell.expected - cell.done, "open", labels["open"]),
            ):
                if count:
                    parts.append(_bar(x, y, unit * count, COLOURS[key], f"{label} {count}"))
                    x += unit * count
            parts.append(
                _text(LABEL_WIDTH + PLOT_WIDTH + 4, y + 12, f"{cell.done}/{cell.expected}")
            )
        y += BAR_HEIGHT + 4
    parts.append("</svg>")
    return "".join(parts)


def matrix_rows(board: Dashboard, labels: dict[str, str]) -> str:
    """The matrix body as HTML, built here rather than in Jinja: at province scale (200
    townships) the template spent most of its time escaping numbers one by one. Only
    the township names and the labels are text; they are escaped."""
    on_time, in_progress, overdue = (
        escape(labels["on_time"]),
        escape(labels["in_progress"]),
        escape(labels["overdue"]),
    )
    parts = []
    for row in board.townships:
        parts.append(f'<tr><th scope="row">{escape(row.name)}</th>')
        for cell in row.cells:
            parts.append(
                f'<td class="cell cell-{cell.colour}" id="cell-{cell.task_id}-{cell.township_id}">'
            )
            if cell.expected:
                parts.append(
                    f'<a href="/villageaffairs/dashboard/tasks/{cell.task_id}/townships/'
                    f'{cell.township_id}">{cell.done}/{cell.expected}</a>'
                    f'<br><span class="small">{on_time} {cell.on_time}'
                )
                if cell.in_progress:
                    parts.append(f" · {in_progress} {cell.in_progress}")
                if cell.overdue:
                    parts.append(f" · {overdue} {cell.overdue}")
                parts.append("</span>")
            else:
                parts.append("–")
            parts.append("</td>")
        parts.append("</tr>")
    return "".join(parts)
