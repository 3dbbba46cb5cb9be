"""Charts drawn on the server as SVG markup: no script to load, they print,
and WeasyPrint puts the same markup into PDFs.

A chart is an image to a screen reader (``role="img"`` with a title and a
description listing every figure); pages show the same figures in a table
next to it, so nothing is only in the picture.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString

# One accent and its tints: the site's colour, and a grey-blue for a second
# series that stays apart from it for colour-blind readers.
PALETTE = ("#b3261e", "#4a6785", "#d9a19c", "#9fb3c8")
INK = "#1f2328"
MUTED = "#57606a"
GRID = "#d8dee4"
FONT = (
    '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
)
FONT_SIZE = 13


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    # How the value is written at the end of the bar (e.g. "82%"); the number.
    text: str = ""


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Roughly how wide ``text`` is drawn: a CJK character takes a full em,
    other characters a bit more than half of one."""
    return sum(
        size if unicodedata.east_asian_width(char) in "WF" else size * 0.6
        for char in text
    )


def _fit(text: str, width: float) -> str:
    """``text`` cut to ``width`` with an ellipsis (the whole label stays in
    the bar's title)."""
    if text_width(text) <= width:
        return text
    while text and text_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _frame(
    *, width: float, height: float, title: str, description: str, body: SafeString
) -> SafeString:
    return format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        'viewBox="0 0 {width} {height}" width="100%" '
        'style="max-width:{width}px" font-family=\'{font}\' font-size="{size}">'
        "<title>{title}</title><desc>{description}</desc>{body}</svg>",
        width=round(width),
        height=round(height),
        font=FONT,
        size=FONT_SIZE,
        title=title,
        description=description,
        body=body,
    )


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    width: int = 640,
    label_width: int = 170,
    bar_height: int = 20,
    gap: int = 10,
) -> SafeString:
    """Horizontal bars, one per row of ``bars`` in the given order, scaled to
    the largest value; the label on the left, the figure at the bar's end."""
    top = max((bar.value for bar in bars), default=0) or 1
    figure_width = max((text_width(_bar_text(bar)) for bar in bars), default=0) + 8
    track = max(width - label_width - figure_width - 8, 40)
    parts = []
    for index, bar in enumerate(bars):
        length = round(track * max(bar.value, 0) / top, 1)
        parts.append(
            format_html(
                '<g transform="translate(0 {})"><title>{}: {}</title>'
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="central" '
                'fill="{}">{}</text>'
                '<rect x="{}" y="0" width="{}" height="{}" rx="3" fill="{}"/>'
                '<text x="{}" y="{}" dominant-baseline="central" fill="{}">{}</text>'
                "</g>",
                index * (bar_height + gap),
                bar.label,
                _bar_text(bar),
                label_width - 8,
                bar_height / 2,
                INK,
                _fit(bar.label, label_width - 10),
                label_width,
                length,
                bar_height,
                PALETTE[0],
                round(label_width + length + 6, 1),
                bar_height / 2,
                MUTED,
                _bar_text(bar),
            )
        )
    height = max(len(bars) * (bar_height + gap) - gap, bar_height)
    description = "；".join(f"{bar.label}: {_bar_text(bar)}" for bar in bars)
    return _frame(
        width=width,
        height=height,
        title=title,
        description=description,
        body=SafeString("".join(parts)),
    )


def _bar_text(bar: Bar) -> str:
    return bar.text or _number(bar.value)


def column_chart(
    groups: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
) -> SafeString:
    """Grouped columns: one group per entry of ``groups`` (e.g. months), one
    column per series in each, a legend above and gridlines at round steps."""
    legend_height, axis_height, axis_width = 26, 22, 36
    plot_height = height - legend_height - axis_height
    plot_width = width - axis_width
    top = _nice_ceiling(max((v for s in series for v in s.values), default=0))
    group_width = plot_width / max(len(groups), 1)
    column = min(group_width * 0.8 / max(len(series), 1), 28)
    parts = []
    legend_x = axis_width
    for index, one in enumerate(series):
        parts.append(
            format_html(
                '<rect x="{}" y="4" width="12" height="12" rx="2" fill="{}"/>'
                '<text x="{}" y="10" dominant-baseline="central" fill="{}">{}</text>',
                legend_x,
                PALETTE[index % len(PALETTE)],
                legend_x + 16,
                INK,
                one.name,
            )
        )
        legend_x += 16 + text_width(one.name) + 18
    for step in range(5):
        value = top * step / 4
        y = legend_height + plot_height - plot_height * step / 4
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="central" '
                'fill="{}">{}</text>',
                axis_width,
                width,
                round(y, 1),
                round(y, 1),
                GRID,
                axis_width - 6,
                round(y, 1),
                MUTED,
                _number(round(value, 1)),
            )
        )
    for g, group in enumerate(groups):
        left = axis_width + g * group_width + (group_width - column * len(series)) / 2
        for s, one in enumerate(series):
            value = one.values[g]
            bar = plot_height * value / top
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{} {}: {}</title></rect>",
                    round(left + s * column, 1),
                    round(legend_height + plot_height - bar, 1),
                    round(column - 2, 1),
                    round(bar, 1),
                    PALETTE[s % len(PALETTE)],
                    group,
                    one.name,
                    _number(value),
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                round(axis_width + (g + 0.5) * group_width, 1),
                height - 6,
                MUTED,
                group,
            )
        )
    description = "；".join(
        f"{group} "
        + "，".join(f"{one.name} {_number(one.values[g])}" for one in series)
        for g, group in enumerate(groups)
    )
    return _frame(
        width=width,
        height=height,
        title=title,
        description=description,
        body=SafeString("".join(parts)),
    )


def _nice_ceiling(value: float) -> float:
    """The top of an axis with four gridlines at round steps (0, 15, 30, 45,
    60 rather than 0, 13.25, 26.5 …), at least ``value``; steps of at least 1,
    since most charts count things."""
    step = max(value / 4, 1)
    magnitude = 10 ** math.floor(math.log10(step))
    factor = next(f for f in (1, 1.5, 2, 2.5, 3, 4, 5, 10) if f * magnitude >= step)
    return 4 * factor * magnitude
