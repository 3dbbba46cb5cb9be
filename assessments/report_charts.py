"""The charts only the PDF reports draw, as SVG markup in the look of
``portal.charts`` (its palette, font and text equivalents): a score's trend
over the rounds, where a score stands among its peers, and the colours of the
bulletin's dimension overview.

Scores run from 0 to 100, so these charts keep a fixed scale: a trend of 70,
71, 72 does not look like a leap, and every card reads the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from portal.charts import FONT, FONT_SIZE, GRID, INK, MUTED, PALETTE, text_width

SCORE_MAX = 100
# Light enough to write ink on; one step per ten points from 60, and the
# shade below 60 warm, since that is where rectification starts by default.
# Each band is also written as its number, so colour is never the only cue.
SCORE_BANDS = (
    (90, "#9fb3c8"),
    (80, "#c3d2e1"),
    (70, "#e1e9f1"),
    (60, "#f3efe4"),
    (0, "#f2d3cf"),
)


@dataclass(frozen=True)
class Point:
    """One round of a trend: its label and its score, None where too few
    answered (a gap in the line)."""

    label: str
    value: float | None
    text: str = ""


def score_band(value: float | None) -> str:
    """The class tinting a score's cell in the dimension overview ("" for
    none): ``band-90`` for 90 and over, and so on (``band_css``)."""
    if value is None:
        return ""
    return next(f"band-{floor}" for floor, _colour in SCORE_BANDS if value >= floor)


def band_css() -> str:
    """The background of each ``score_band``: a class per band rather than a
    style per cell, which WeasyPrint would parse for every cell."""
    return "".join(
        f"td.band-{floor},i.band-{floor}{{background:{colour}}}"
        for floor, colour in SCORE_BANDS
    )


def score_legend() -> list[tuple[str, str]]:
    """The bands of ``score_band``, best first, as (class, range)."""
    legend = []
    upper = SCORE_MAX
    for floor, _colour in SCORE_BANDS:
        legend.append((f"band-{floor}", f"{floor}–{upper}"))
        upper = floor
    return legend


def _frame(
    *, width: float, height: float, title: str, description: str, body: SafeString
) -> SafeString:
    return format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        "font-family='{font}' font-size=\"{size}\">"
        "<title>{title}</title><desc>{description}</desc>{body}</svg>",
        width=round(width),
        height=round(height),
        font=FONT,
        size=FONT_SIZE,
        title=title,
        description=description,
        body=body,
    )


def trend_chart(
    points: Sequence[Point],
    *,
    title: str,
    missing: str,
    width: int = 640,
    height: int = 200,
) -> SafeString:
    """A line over ``points`` in their order on a 0–100 scale, each score
    written above its dot; a round without a score breaks the line and
    says ``missing`` in its place."""
    axis_width, axis_height, top_gap = 34, 24, 18
    plot_width = width - axis_width - 16
    plot_height = height - axis_height - top_gap
    step = plot_width / max(len(points), 1)

    def x(index: int) -> float:
        return round(axis_width + step * (index + 0.5), 1)

    def y(value: float) -> float:
        return round(top_gap + plot_height * (1 - value / SCORE_MAX), 1)

    parts = [
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
            '<text x="{}" y="{}" text-anchor="end" dominant-baseline="central" '
            'fill="{}">{}</text>',
            axis_width,
            width,
            y(value),
            y(value),
            GRID,
            axis_width - 6,
            y(value),
            MUTED,
            value,
        )
        for value in (0, 25, 50, 75, 100)
    ]
    run: list[str] = []
    runs = [run]
    for index, point in enumerate(points):
        if point.value is None:
            run = []
            runs.append(run)
            continue
        run.append(f"{x(index)},{y(point.value)}")
    parts.extend(
        format_html(
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"/>',
            " ".join(run),
            PALETTE[1],
        )
        for run in runs
        if len(run) > 1
    )
    for index, point in enumerate(points):
        if point.value is None:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                    x(index),
                    y(SCORE_MAX / 2),
                    MUTED,
                    missing,
                )
            )
        else:
            last = index == len(points) - 1
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="{}" fill="{}"/>'
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                    x(index),
                    y(point.value),
                    5 if last else 4,
                    PALETTE[0] if last else PALETTE[1],
                    x(index),
                    round(y(point.value) - 9, 1),
                    INK,
                    point.text or f"{point.value:.1f}",
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                x(index),
                height - 6,
                MUTED,
                _fit(point.label, step - 4),
            )
        )
    description = "；".join(
        f"{point.label}: {missing if point.value is None else point.text or f'{point.value:.1f}'}"
        for point in points
    )
    return _frame(
        width=width,
        height=height,
        title=title,
        description=description,
        body=SafeString("".join(parts)),
    )


def position_chart(
    values: Sequence[float],
    mine: float,
    *,
    title: str,
    label: str,
    width: int = 640,
    height: int = 64,
) -> SafeString:
    """Where ``mine`` stands among ``values`` (its peers, itself included) on
    a 0–100 scale: a tick per peer, unnamed, and a marked dot with ``label``
    for itself."""
    left, right, line_y = 14, 14, 34
    track = width - left - right

    def x(value: float) -> float:
        return round(left + track * max(0, min(value, SCORE_MAX)) / SCORE_MAX, 1)

    ticks = format_html_join(
        "",
        '<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="{3}" stroke-width="2"/>',
        ((x(value), line_y - 9, line_y + 9, PALETTE[3]) for value in values),
    )
    scale = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
        ((x(value), height - 2, MUTED, value) for value in (0, 25, 50, 75, 100)),
    )
    label_x = min(max(x(mine), text_width(label) / 2), width - text_width(label) / 2)
    body = format_html(
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>{}{}'
        '<circle cx="{}" cy="{}" r="6" fill="{}"/>'
        '<text x="{}" y="12" text-anchor="middle" fill="{}">{}</text>',
        left,
        width - right,
        line_y,
        line_y,
        GRID,
        ticks,
        scale,
        x(mine),
        line_y,
        PALETTE[0],
        round(label_x, 1),
        INK,
        label,
    )
    description = "，".join(f"{value:.1f}" for value in sorted(values, reverse=True))
    return _frame(
        width=width,
        height=height,
        title=title,
        description=f"{label}；{description}",
        body=body,
    )


def _fit(text: str, width: float) -> str:
    if text_width(text) <= width:
        return text
    while text and text_width(text + "…") > width:
        text = text[:-1]
    return text + "…"
