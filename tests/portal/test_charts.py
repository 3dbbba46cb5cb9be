"""Server-side SVG charts: what a reader (and a screen reader) gets."""

import itertools
import re
from xml.etree import ElementTree

from portal.charts import (
    HEAT_STOPS,
    Bar,
    LineSeries,
    Series,
    bar_chart,
    column_chart,
    heat_colour,
    line_chart,
    text_width,
)

SVG = "{http://www.w3.org/2000/svg}"


def parsed(markup) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))  # noqa: S314 (our own markup)


def test_a_bar_chart_is_an_image_whose_description_lists_every_figure():
    svg = parsed(
        bar_chart(
            [Bar("区民政局", 12, "12 · 接单率 80%"), Bar("区卫健委", 3)],
            title="各部门点单数",
        )
    )
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "各部门点单数"
    assert svg.find(f"{SVG}desc").text == "区民政局: 12 · 接单率 80%；区卫健委: 3"
    widths = [float(rect.get("width")) for rect in svg.iter(f"{SVG}rect")]
    # Bars scale with their values: the larger is four times the smaller.
    assert widths[0] == max(widths) and round(widths[0] / widths[1]) == 4


def test_labels_are_escaped_and_long_ones_cut_with_the_whole_in_the_title():
    long_name = "上海市普陀区长风新村街道社区党群服务中心（一网通办）"
    markup = bar_chart(
        [Bar("<script>alert(1)</script>", 1), Bar(long_name, 2)], title="t"
    )
    assert "<script>" not in str(markup)
    svg = parsed(markup)
    labels = [text.text for text in svg.iter(f"{SVG}text")][::2]
    assert labels[1].endswith("…") and len(labels[1]) < len(long_name)
    assert any(long_name in (title.text or "") for title in svg.iter(f"{SVG}title"))


def test_a_column_chart_has_a_legend_round_gridlines_and_a_column_per_value():
    svg = parsed(
        column_chart(
            ["9月", "10月", "11月"],
            [Series("点单", [12, 41, 7]), Series("送达", [5, 0, 9])],
            title="按月点单",
        )
    )
    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert texts[:2] == ["点单", "送达"]
    # Gridlines at round steps up to at least the largest value (41).
    axis = [float(t) for t in texts[2:7]]
    assert (
        axis[0] == 0
        and axis[-1] >= 41
        and len({b - a for a, b in itertools.pairwise(axis)}) == 1
    )
    columns = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(columns) == 6
    assert svg.find(f"{SVG}desc").text.startswith("9月 点单 12，送达 5")


def test_empty_charts_still_draw():
    assert parsed(bar_chart([], title="空")).get("role") == "img"
    assert parsed(column_chart([], [], title="空")).get("role") == "img"


def test_chinese_text_is_measured_wider_than_latin():
    assert text_width("民政局") == 3 * text_width("民")
    assert text_width("abc") < text_width("民政局")
    assert re.fullmatch(r"[\d.]+", str(text_width("a")))


def test_heat_colours_run_from_red_to_blue_with_readable_ink():
    assert heat_colour(0) == (HEAT_STOPS[0], "#ffffff")
    assert heat_colour(100)[0] == HEAT_STOPS[-1]
    # Values outside the scale are clipped; the pale middle takes dark ink.
    assert heat_colour(-20) == heat_colour(0) and heat_colour(140) == heat_colour(100)
    assert heat_colour(50) == (HEAT_STOPS[2], "#1f2328")
    assert heat_colour(30) != heat_colour(31)


def test_a_line_chart_marks_each_figure_and_leaves_a_gap_for_a_missing_one():
    svg = parsed(
        line_chart(
            ["第二季度", "第三季度", "第四季度", "明年"],
            [LineSeries("总分", [61.25, None, 70, 82])],
            title="历轮总分",
            top=100,
        )
    )
    assert svg.find(f"{SVG}desc").text == (
        "第二季度 总分 61.2；第三季度 总分 —；第四季度 总分 70；明年 总分 82"
    )
    # Three points; one line joining the last two, none across the gap.
    assert len(list(svg.iter(f"{SVG}circle"))) == 3
    [line] = list(svg.iter(f"{SVG}polyline"))
    assert len(line.get("points").split()) == 2
    # Gridlines from 0 to the top asked for.
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "0" in texts and "100" in texts
