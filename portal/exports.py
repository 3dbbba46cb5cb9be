"""XLSX downloads of tables: lists, summaries, anything rows of plain values.

Callers hand over sheets of rows and get a ready ``HttpResponse``; what goes in
the rows (and whom they may show) is the caller's business, done through its
own selectors. Workbooks are write-only: openpyxl streams each row to a
temporary file as it comes, so rows may be a generator over a large query.
Text is written as text, never as a formula (see ``FORMULA_TRIGGERS``).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from itertools import chain, islice
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Characters that make a spreadsheet read typed-in text as a formula (OWASP's
# "CSV injection"). Such text is stored as a string cell with Excel's quote
# prefix, so it stays text even when someone edits the cell and presses Enter.
FORMULA_TRIGGERS = ("=", "+", "-", "@")
# Excel's limits: sheet names, and characters in one cell.
SHEET_TITLE_LENGTH = 31
CELL_TEXT_LENGTH = 32767
# Column widths are measured on the header and this many first rows: a write-
# only sheet must declare its columns before its first row is written.
WIDTH_SAMPLE_ROWS = 100
MIN_COLUMN_WIDTH = 6
MAX_COLUMN_WIDTH = 60
# Characters Excel refuses in sheet names.
_INVALID_TITLE = re.compile(r"[\\/*?:\[\]]")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_BOLD = Font(bold=True)


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its name, its column titles (already
    translated) and its rows. Values may be str (or a lazy translation), int,
    float, Decimal, bool, date, datetime or None; aware datetimes are written
    in the current time zone, without it (Excel has no time zones)."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]


def xlsx_response(*, filename: str, sheets: Sequence[Sheet]) -> HttpResponse:
    """An attachment ``filename`` (``.xlsx`` added if missing) holding
    ``sheets`` in order, each with a bold, frozen header row.

    Rows are consumed once, as they are written. Sheet names are made valid
    for Excel (31 characters, no ``\\ / * ? : [ ]``, unique). The response is
    never cached: exports hold names and phone numbers.

    Raises ValueError without sheets (Excel cannot open a workbook without
    one), TypeError for a value of another type than those of ``Sheet``.
    """
    if not sheets:
        raise ValueError("A workbook needs at least one sheet.")
    workbook = Workbook(write_only=True)
    # Excel reserves "History" for its change tracking.
    taken = {"history"}
    buffer = BytesIO()
    try:
        for sheet in sheets:
            title = _sheet_title(sheet.title, taken)
            taken.add(title.casefold())
            _write_sheet(workbook.create_sheet(title), sheet)
        workbook.save(buffer)
    except BaseException:
        _discard(workbook)
        raise
    if not filename.lower().endswith(".xlsx"):
        filename += ".xlsx"
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = attachment_header(filename)
    add_never_cache_headers(response)
    return response


def attachment_header(filename: str) -> str:
    """A Content-Disposition for downloading ``filename``: the UTF-8 name
    (RFC 5987, which every current browser reads) and an ASCII one for older
    clients. Chinese cannot be transliterated, so its ASCII name says
    ``export`` and keeps what ASCII there was (the date)."""
    return (
        f'attachment; filename="{_ascii_filename(filename)}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )


def _ascii_filename(filename: str) -> str:
    stem, suffix = os.path.splitext(filename)
    # Decomposing first keeps the letters of accented Latin names (é → e).
    letters = "".join(
        char
        for char in unicodedata.normalize("NFKD", stem)
        if not unicodedata.combining(char)
    )
    ascii_stem = _UNSAFE_FILENAME.sub("-", letters).strip("-._")
    if not letters.isascii():
        ascii_stem = f"export-{ascii_stem}".rstrip("-")
    return f"{ascii_stem or 'export'}{_UNSAFE_FILENAME.sub('', suffix)}"


def _discard(workbook: Workbook) -> None:
    """Remove the temporary files of a workbook given up half-way (a bad
    value, a failed query): openpyxl removes them only on saving, or when the
    process exits, and a web process runs for long."""
    for worksheet in workbook.worksheets:
        writer = worksheet._writer
        if writer is None:
            continue
        # The error being raised is what matters, not one from tidying up.
        with suppress(Exception):
            if worksheet._rows is not None:
                worksheet._rows.close()
            writer.close()
            writer.cleanup()


def _sheet_title(title: str, taken: set[str]) -> str:
    """``title`` as Excel accepts it, numbered when another sheet has it
    (Excel compares names without case)."""
    clean = ILLEGAL_CHARACTERS_RE.sub("", _INVALID_TITLE.sub("-", str(title)))
    # A quote may not start or end a name: Excel quotes names with it.
    clean = clean.strip().strip("'").strip() or "Sheet"
    candidate, number = clean[:SHEET_TITLE_LENGTH], 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = clean[: SHEET_TITLE_LENGTH - len(suffix)] + suffix
    return candidate


def _write_sheet(worksheet: WriteOnlyWorksheet, sheet: Sheet) -> None:
    rows = iter(sheet.rows)
    sample = list(islice(rows, WIDTH_SAMPLE_ROWS))
    for index, width in enumerate(_column_widths(sheet.headers, sample), 1):
        worksheet.column_dimensions[get_column_letter(index)].width = width
    worksheet.freeze_panes = "A2"
    worksheet.append([_header_cell(worksheet, header) for header in sheet.headers])
    for row in chain(sample, rows):
        worksheet.append([_cell(worksheet, value) for value in row])


def _header_cell(worksheet: WriteOnlyWorksheet, header: str) -> WriteOnlyCell:
    cell = _text_cell(worksheet, _clean_text(str(header)))
    cell.font = _BOLD
    return cell


def _cell(worksheet: WriteOnlyWorksheet, value: Any) -> Any:
    """What openpyxl is given for ``value``: the value itself for numbers,
    booleans, None (an empty cell) and plain text; a cell for dates (their
    format) and text openpyxl would take for something else."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str):
        text = _clean_text(value)
        if text.startswith(FORMULA_TRIGGERS) or text in ERROR_CODES:
            return _text_cell(worksheet, text)
        # Most cells: a cell object for each would about double the time taken.
        return text
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.make_naive(value)
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    raise TypeError(f"Cannot write {type(value).__name__} to a spreadsheet cell.")


def _clean_text(text: str) -> str:
    # openpyxl refuses control characters, and Excel longer text.
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:CELL_TEXT_LENGTH]


def _text_cell(worksheet: WriteOnlyWorksheet, text: str) -> WriteOnlyCell:
    """A string cell holding exactly ``text``: openpyxl alone would write
    "=…" as a formula and "#N/A" as an error."""
    cell = WriteOnlyCell(worksheet, value=text)
    cell.data_type = "s"
    cell.quotePrefix = text.startswith(FORMULA_TRIGGERS)
    return cell


def _column_widths(
    headers: Sequence[str], sample: Sequence[Sequence[Any]]
) -> Iterator[float]:
    columns = max([len(headers), *(len(row) for row in sample)])
    for index in range(columns):
        values = [row[index] for row in (headers, *sample) if index < len(row)]
        # Bold header text and cell padding need about two characters more.
        widest = max(_display_width(value) for value in values) + 2
        yield min(max(widest, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH)


def _display_width(value: Any) -> int:
    """About how many Excel width units ``value`` needs: a CJK character is
    as wide as two Latin ones."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len("2026-01-01 00:00")
    if isinstance(value, date):
        return len("2026-01-01")
    return max(
        sum(
            2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
            for char in line
        )
        for line in str(value).splitlines() or [""]
    )
