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
    top: float | None = None,
) -> SafeString:
    """Grouped columns: one group per entry of ``groups`` (e.g. months), one
    column per series in each, a legend above and gridlines at round steps
    up to ``top`` (by default a round step above the largest value)."""
    legend_height, axis_height, axis_width = 26, 22, 36
    plot_height = height - legend_height - axis_height
    plot_width = width - axis_width
    top = top or _nice_ceiling(max((v for s in series for v in s.values), default=0))
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


# Heat colours and lines --------------------------------------------------------

# From a low value (the accent's red) through a pale middle to a high one (a
# blue): a diverging scale that colour-blind readers still tell apart, and
# whose ends are dark enough for white figures on them.
HEAT_STOPS = ("#9d2a1f", "#e4907f", "#f6f1e7", "#8fb3cf", "#2c5f8a")
HEAT_INK_DARK, HEAT_INK_LIGHT = INK, "#ffffff"


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _luminance(rgb: tuple[int, int, int]) -> float:
    """Relative luminance (WCAG 2) of an sRGB colour."""
    channels = []
    for channel in rgb:
        c = channel / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def heat_colour(value: float, *, low: float = 0, high: float = 100) -> tuple[str, str]:
    """The background of ``value`` on the heat scale from ``low`` to ``high``
    (values outside are clipped), and the ink that reads best on it (dark or
    white, whichever contrasts more): ``("#8fb3cf", "#1f2328")``."""
    span = high - low or 1
    share = min(max((value - low) / span, 0), 1) * (len(HEAT_STOPS) - 1)
    index = min(int(share), len(HEAT_STOPS) - 2)
    start, end = _rgb(HEAT_STOPS[index]), _rgb(HEAT_STOPS[index + 1])
    fraction = share - index
    rgb = tuple(round(a + (b - a) * fraction) for a, b in zip(start, end, strict=True))
    background = "#{:02x}{:02x}{:02x}".format(*rgb)
    light = _luminance(rgb)
    # Contrast ratios against the dark ink and against white.
    on_dark = (light + 0.05) / (_luminance(_rgb(HEAT_INK_DARK)) + 0.05)
    on_white = 1.05 / (light + 0.05)
    return background, HEAT_INK_DARK if on_dark >= on_white else HEAT_INK_LIGHT


@dataclass(frozen=True)
class LineSeries:
    """A line of ``line_chart``: one value per label, None for none."""

    name: str
    values: Sequence[float | None]


def line_chart(
    labels: Sequence[str],
    series: Sequence[LineSeries],
    *,
    title: str,
    width: int = 640,
    height: int = 240,
    top: float | None = None,
) -> SafeString:
    """Lines over ``labels`` (e.g. rounds), one per series, each point marked
    and its figure written above it; a value None leaves a gap in its line.
    The axis runs from 0 to ``top`` (by default a round step above the
    largest value), with a legend above when there are several series."""
    legend_height = 26 if len(series) > 1 else 8
    axis_height, axis_width, margin = 24, 36, 24
    plot_height = height - legend_height - axis_height - 14
    plot_width = width - axis_width - margin
    values = [v for one in series for v in one.values if v is not None]
    top = top or _nice_ceiling(max(values, default=0))
    # The first and last labels are centred on their points: room for half of
    # each inside the chart, and for the figures beside the axis.
    inset = min(max((text_width(label) for label in labels), default=0) / 2 + 4, 90)
    inset = max(inset, 20)
    step = (plot_width - 2 * inset) / max(len(labels) - 1, 1)
    parts = []

    def x(index: int) -> float:
        if len(labels) == 1:
            return round(axis_width + plot_width / 2, 1)
        return round(axis_width + inset + index * step, 1)

    def y(value: float) -> float:
        return round(legend_height + 14 + plot_height * (1 - value / top), 1)

    if len(series) > 1:
        legend_x = axis_width
        for index, one in enumerate(series):
            parts.append(
                format_html(
                    '<rect x="{}" y="4" width="12" height="12" rx="2" fill="{}"/>'
                    '<text x="{}" y="10" dominant-baseline="central" fill="{}">'
                    "{}</text>",
                    legend_x,
                    PALETTE[index % len(PALETTE)],
                    legend_x + 16,
                    INK,
                    one.name,
                )
            )
            legend_x += 16 + text_width(one.name) + 18
    for grid in range(5):
        value = top * grid / 4
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="central" '
                'fill="{}">{}</text>',
                axis_width,
                width - margin / 2,
                y(value),
                y(value),
                GRID,
                axis_width - 6,
                y(value),
                MUTED,
                _number(round(value, 1)),
            )
        )
    for index, label in enumerate(labels):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                x(index),
                height - 6,
                MUTED,
                _fit(label, max(step - 6, 2 * inset - 4)),
            )
        )
    for s, one in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        runs: list[list[tuple[float, float]]] = [[]]
        for index, value in enumerate(one.values):
            if value is None:
                runs.append([])
            else:
                runs[-1].append((x(index), y(value)))
        for run in runs:
            if len(run) > 1:
                parts.append(
                    format_html(
                        '<polyline fill="none" stroke="{}" stroke-width="2.5" '
                        'points="{}"/>',
                        colour,
                        " ".join(f"{px},{py}" for px, py in run),
                    )
                )
        for index, value in enumerate(one.values):
            if value is None:
                continue
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="4" fill="{}"><title>{} {}: {}</title>'
                    '</circle><text x="{}" y="{}" text-anchor="middle" fill="{}">'
                    "{}</text>",
                    x(index),
                    y(value),
                    colour,
                    labels[index],
                    one.name,
                    _number(round(value, 1)),
                    x(index),
                    round(y(value) - 9, 1),
                    INK,
                    _number(round(value, 1)),
                )
            )
    description = "；".join(
        f"{label} "
        + "，".join(
            f"{one.name} {_number(round(one.values[i], 1))}"
            if one.values[i] is not None
            else f"{one.name} —"
            for one in series
        )
        for i, label in enumerate(labels)
    )
    return _frame(
        width=width,
        height=height,
        title=title,
        description=description,
        body=SafeString("".join(parts)),
    )
