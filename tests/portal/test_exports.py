"""The XLSX writer behind every "Export to Excel": each file is opened again
with openpyxl and read the way a spreadsheet program reads it."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES

from portal.exports import XLSX_CONTENT_TYPE, Sheet, xlsx_response


def workbook_of(response):
    return load_workbook(BytesIO(response.content))


def single_sheet(headers, rows, **fields):
    response = xlsx_response(
        filename="x.xlsx", sheets=[Sheet(title="表", headers=headers, rows=rows)]
    )
    return workbook_of(response).active


def test_headers_come_first_bold_and_frozen():
    sheet = single_sheet(["编号", "名称"], [[1, "消防培训"]])
    assert [c.value for c in sheet[1]] == ["编号", "名称"]
    assert all(c.font.b for c in sheet[1])
    assert not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"


def test_values_keep_their_types():
    posted = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    sheet = single_sheet(
        ["a"] * 9,
        [
            [
                "文本",
                42,
                2.5,
                Decimal("1.25"),
                True,
                date(2026, 11, 23),
                posted,
                datetime(2026, 1, 2, 3, 4),
                None,
            ]
        ],
    )
    text, number, real, decimal, flag, day, aware, naive, empty = sheet[2]
    assert (text.value, text.data_type) == ("文本", "s")
    assert (number.value, real.value, decimal.value) == (42, 2.5, 1.25)
    assert flag.value is True
    assert day.value == datetime(2026, 11, 23)
    assert day.number_format == "yyyy-mm-dd"
    # Aware times are written as the site's local time (Asia/Shanghai, UTC+8).
    assert aware.value == datetime(2026, 11, 23, 9, 30)
    assert aware.number_format == "yyyy-mm-dd hh:mm"
    assert naive.value == datetime(2026, 1, 2, 3, 4)
    assert empty.value is None


@pytest.mark.parametrize("text", ["=1+1", "+86 138 0000 0001", "-2", "@SUM(A1:A9)"])
def test_text_that_looks_like_a_formula_stays_text(text):
    cell = single_sheet(["备注"], [[text]])["A2"]
    assert (cell.value, cell.data_type) == (text, "s")
    # Excel's quote prefix: editing the cell does not turn it into a formula.
    assert cell.quotePrefix


def test_ordinary_text_is_not_marked_and_error_codes_stay_text():
    plain, error = single_sheet(["a", "b"], [["社区 = 居委会", "#N/A"]])[2]
    assert not plain.quotePrefix
    assert (error.value, error.data_type) == ("#N/A", "s")


def test_characters_excel_refuses_are_left_out():
    assert single_sheet(["a"], [["行\x00一\x1f二"]])["A2"].value == "行一二"


def test_lazy_translations_are_written_as_text():
    from django.utils.translation import gettext_lazy

    assert single_sheet(["a"], [[gettext_lazy("Orders")]])["A2"].data_type == "s"


def test_a_value_of_another_type_is_refused_and_nothing_is_left_behind():
    def rows():
        yield from ([n] for n in range(200))
        yield [object()]

    before = list(ALL_TEMP_FILES)
    with pytest.raises(TypeError):
        xlsx_response(
            filename="x.xlsx",
            sheets=[
                Sheet(title="a", headers=["a"], rows=[[1]]),
                Sheet(title="b", headers=["a"], rows=rows()),
            ],
        )
    # The temporary files each sheet streams its rows to are gone.
    assert [path for path in ALL_TEMP_FILES if path not in before] == []


def test_columns_are_as_wide_as_their_text_and_chinese_counts_double():
    sheet = single_sheet(
        ["abc", "名称", "x", "y"],
        [["abcdef", "消防安全知识", None, "z" * 500]],
    )
    widths = [sheet.column_dimensions[c].width for c in "ABCD"]
    # Widest text plus two; never narrower than 6 or wider than 60.
    assert widths == [8, 14, 6, 60]


def test_rows_stream_from_a_generator():
    rows = ([n, f"第{n}行"] for n in range(5000))
    sheet = single_sheet(["n", "文本"], rows)
    assert sheet.max_row == 5001
    assert [c.value for c in sheet[5001]] == [4999, "第4999行"]


def test_every_sheet_is_written_in_order_with_names_excel_accepts():
    response = xlsx_response(
        filename="x.xlsx",
        sheets=[
            Sheet(title="按分类", headers=["a"], rows=[[1]]),
            Sheet(title="2026/11: [汇总]?", headers=["a"], rows=[]),
            Sheet(title="很长" * 20, headers=["a"], rows=[]),
            Sheet(title="很长" * 20, headers=["a"], rows=[]),
            Sheet(title="History", headers=["a"], rows=[]),
        ],
    )
    titles = workbook_of(response).sheetnames
    assert titles[:2] == ["按分类", "2026-11- -汇总--"]
    assert titles[2] == ("很长" * 20)[:31]
    assert titles[3] == ("很长" * 20)[:27] + " (2)"
    assert titles[4] == "History (2)"
    assert all(len(title) <= 31 for title in titles)


def test_a_workbook_needs_a_sheet():
    with pytest.raises(ValueError, match="at least one sheet"):
        xlsx_response(filename="x.xlsx", sheets=[])


def test_a_chinese_filename_is_sent_in_utf8_with_an_ascii_fallback():
    response = xlsx_response(
        filename="点单订单-2026-11-23.xlsx",
        sheets=[Sheet(title="点单", headers=["a"], rows=[])],
    )
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="export-2026-11-23.xlsx"; ')
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == "点单订单-2026-11-23.xlsx"
    assert encoded.isascii()
    # Exports carry names and phone numbers: nothing may keep a copy.
    assert "no-store" in response["Cache-Control"]


def test_an_ascii_filename_stays_itself_and_gets_its_suffix():
    response = xlsx_response(
        filename="orders 2026", sheets=[Sheet(title="a", headers=["a"], rows=[])]
    )
    assert response["Content-Disposition"] == (
        "attachment; filename=\"orders-2026.xlsx\"; filename*=UTF-8''orders%202026.xlsx"
    )
