"""Bulk import of regions, departments and accounts from CSV or XLSX files.

The format is documented in docs/import-units.md. Three properties matter:

* **Streaming.** Rows are read, checked and written in batches. Memory holds the
  codes seen so far and the regions that can be parents (cities, districts,
  streets), never the rows themselves, so the national tree (about 710,000
  rows) imports well under 1.5 GB.
* **All-or-nothing.** Everything runs in one transaction; any row error, or a
  dry run, rolls it back. Checking continues after an error so that one run
  reports every bad row.
* **Re-import updates.** Rows are matched by code (regions, departments) or
  username (accounts); a region that gets a new parent takes its subtree along.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import (
    ANCESTOR_FIELDS,
    CommunityType,
    Department,
    DepartmentFamily,
    DepartmentKind,
    ImportRun,
    Region,
    RegionLevel,
    Role,
    User,
)
from portal.roles import role_unit_error
from portal.services import account_invitation_url, role_groups_assign
from portal.signals import units_changed
from portal.tasks import invitations_mail

BATCH_SIZE = 2000
MAX_REPORTED_ERRORS = 500
REGION_CODE = re.compile(r"^\d{12}$")
PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")

REGIONS, DEPARTMENTS, ACCOUNTS = "regions", "departments", "accounts"
KIND_ORDER = (REGIONS, DEPARTMENTS, ACCOUNTS)
KIND_LABELS = {
    REGIONS: gettext_lazy("Regions"),
    DEPARTMENTS: gettext_lazy("Departments"),
    ACCOUNTS: gettext_lazy("Accounts"),
}

# Header names accepted for each field, Chinese first. The first field of each
# kind identifies the kind of a sheet.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    REGIONS: {
        "code": ("区划代码", "region_code"),
        "name": ("区划名称", "region_name"),
        "level": ("层级", "level"),
        "parent_code": ("上级区划代码", "parent_code"),
        "community_type": ("社区类型", "community_type"),
        "households": ("户数", "households"),
        "population": ("人口", "population"),
    },
    DEPARTMENTS: {
        "code": ("部门代码", "department_code"),
        "name": ("部门名称", "department_name"),
        "family": ("条线", "family"),
        "region_code": ("服务区域代码", "service_region_code"),
        "kind": ("单位类别", "unit_kind"),
        "duties": ("职责", "duties", "部门职责", "职责描述", "description"),
    },
    ACCOUNTS: {
        "username": ("用户名", "username"),
        "name": ("姓名", "name"),
        "unit_code": ("单位代码", "unit_code"),
        "role": ("角色", "role"),
        "email": ("邮箱", "email"),
        "phone": ("手机", "phone"),
    },
}
REQUIRED_COLUMNS = {
    REGIONS: ("code", "name", "level"),
    DEPARTMENTS: ("code", "name", "region_code"),
    ACCOUNTS: ("username", "name", "unit_code", "role"),
}

LEVEL_WORDS = {
    RegionLevel.CITY: ("市", "city"),
    RegionLevel.DISTRICT: ("区", "县", "区县", "区/县", "district", "county"),
    RegionLevel.STREET: ("街道", "镇", "乡", "街镇", "街道/乡镇", "street", "town"),
    RegionLevel.COMMUNITY: (
        "社区",
        "村",
        "居委会",
        "村委会",
        "居村",
        "community",
        "village",
    ),
}
COMMUNITY_TYPE_WORDS = {
    CommunityType.NEW_URBAN: ("新城区", "new_urban"),
    CommunityType.OLD_URBAN: ("老城区", "old_urban"),
    CommunityType.CONVERTED_VILLAGE: ("村改居", "converted_village"),
    CommunityType.RURAL: ("农村", "rural"),
}
DEPARTMENT_KIND_WORDS = {
    DepartmentKind.FUNCTIONAL: ("职能部门", "functional"),
    DepartmentKind.ORGANIZATION: ("组织部", "组织部门", "减负办", "organization"),
}
ROLE_WORDS = {
    Role.COMMUNITY_OPERATOR: ("社区工作者", "居村委会", "community_operator"),
    Role.DEPARTMENT_PUBLISHER: ("部门经办人", "经办人", "department_publisher"),
    Role.DEPARTMENT_APPROVER: ("部门负责人", "负责人", "department_approver"),
    Role.STREET_OFFICE: ("街道", "街道工作人员", "乡镇", "street_office"),
    Role.ORGANIZATION_DEPARTMENT: ("组织部", "减负办", "organization_department"),
    Role.ADMINISTRATOR: ("系统管理员", "管理员", "administrator"),
}


def words_lookup(words: dict[Any, tuple[str, ...]]) -> dict[str, Any]:
    return {
        word.lower(): value for value, synonyms in words.items() for word in synonyms
    }


LEVELS_BY_WORD = words_lookup(LEVEL_WORDS)
COMMUNITY_TYPES_BY_WORD = words_lookup(COMMUNITY_TYPE_WORDS)
DEPARTMENT_KINDS_BY_WORD = words_lookup(DEPARTMENT_KIND_WORDS)
ROLES_BY_WORD = words_lookup(ROLE_WORDS)


def choices_text(words: dict[Any, tuple[str, ...]]) -> str:
    return "、".join(synonyms[0] for synonyms in words.values())


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    column: str
    value: str
    message: str


class Invitation(NamedTuple):
    username: str
    name: str
    email: str
    url: str


@dataclass
class ImportReport:
    """What an import did or, for a dry run, would do."""

    dry_run: bool
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    invitations: list[Invitation] = field(default_factory=list)
    # What the import wrote, for the apps that listen to ``units_changed``.
    department_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def committed(self) -> bool:
        return self.ok and not self.dry_run

    def add_error(
        self, sheet: str, row: int, column: str, value: Any, message: str | Promise
    ) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(
                RowError(sheet, row, column, str(value or ""), str(message))
            )

    def summary(self) -> list[dict[str, Any]]:
        return [
            {
                "kind": kind,
                "label": KIND_LABELS[kind],
                "created": self.created[kind],
                "updated": self.updated[kind],
            }
            for kind in KIND_ORDER
            if self.created[kind] or self.updated[kind]
        ]


class ImportFileError(Exception):
    """The file as a whole cannot be read; nothing was imported."""


# ---------------------------------------------------------------- reading files


@dataclass(frozen=True)
class SheetKind:
    """One kind of sheet an import reads, told apart from others by its header row."""

    name: str
    label: str | Promise  # the sheet's name in the example workbook
    # Header names accepted for each field, the usual (Chinese) one first: it
    # heads the example workbook and names a column the file lacks.
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    key: str  # the field whose column marks a sheet of this kind


@dataclass(frozen=True)
class FileFormat:
    """The kinds of sheet a file of one import may hold."""

    # In the order their sheets are imported: a row may refer to what an
    # earlier kind's sheet creates, whatever the order of a workbook's tabs.
    kinds: tuple[SheetKind, ...]
    # The error for a header row of no kind, given the key columns' usual names.
    unrecognised_header: Callable[[str], str]
    # True: a sheet whose header row is of no kind is passed over, and only a
    # file without any sheet of a known kind is an error. False: each such
    # sheet is an error.
    other_sheets_allowed: bool


UNITS_FILE = FileFormat(
    kinds=tuple(
        SheetKind(
            kind,
            KIND_LABELS[kind],
            COLUMNS[kind],
            REQUIRED_COLUMNS[kind],
            key=REQUIRED_COLUMNS[kind][0],
        )
        for kind in KIND_ORDER
    ),
    unrecognised_header=lambda keys: (
        _("Unrecognised header row: it needs one of the columns %(keys)s.")
        % {"keys": keys}
    ),
    other_sheets_allowed=False,
)


@dataclass
class Sheet:
    name: str
    kind: SheetKind
    headers: dict[str, str]  # field -> header text as written in the file
    positions: dict[str, int]  # field -> column index
    rows: Iterator[tuple[int, list[str]]]  # (row number as the user sees it, cells)
    total: int | None


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel stores a code typed as a number as a float: 310101002001.0.
        return str(int(value))
    return str(value).strip()


def _key_columns(file_format: FileFormat) -> str:
    return "、".join(kind.columns[kind.key][0] for kind in file_format.kinds)


def _sheet_from_rows(
    name: str,
    rows: Iterator[list[Any]],
    total: int | None,
    report: ImportReport,
    file_format: FileFormat,
) -> Sheet | None:
    header = next(rows, None)
    if header is None:
        return None
    header = [cell_text(cell) for cell in header]
    normalised = [cell.lower() for cell in header]
    kind = next(
        (
            kind
            for kind in file_format.kinds
            if any(alias.lower() in normalised for alias in kind.columns[kind.key])
        ),
        None,
    )
    if kind is None:
        if not file_format.other_sheets_allowed:
            report.add_error(
                name,
                1,
                "",
                "",
                file_format.unrecognised_header(_key_columns(file_format)),
            )
        return None
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    for field_name, aliases in kind.columns.items():
        for index, cell in enumerate(normalised):
            if cell in (alias.lower() for alias in aliases):
                positions[field_name] = index
                headers[field_name] = header[index]
                break
    missing = [kind.columns[f][0] for f in kind.required if f not in positions]
    for column in missing:
        report.add_error(name, 1, column, "", _("Required column is missing."))
    if missing:
        return None
    numbered = (
        (number, [cell_text(c) for c in cells])
        for number, cells in enumerate(rows, start=2)
    )
    return Sheet(name, kind, headers, positions, numbered, total)


def csv_encoding_and_lines(path: Path) -> tuple[str, int]:
    """UTF-8 (with or without BOM) or, as saved by Excel on Chinese Windows, GB18030."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    utf8 = True
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    return ("utf-8-sig" if utf8 else "gb18030"), lines


def read_sheets(
    path: Path, report: ImportReport, file_format: FileFormat
) -> Iterator[Sheet]:
    """The sheets of a CSV or XLSX file, in the order of ``file_format.kinds``
    so that a row may refer to what a sheet of an earlier kind creates.

    A sheet with a bad header row is skipped, and reported as ``file_format``
    says. Rows are read as the caller iterates a sheet's ``rows``, never all at
    once. Raises ImportFileError when the file is neither a CSV file nor a
    readable workbook.
    """
    found = False
    for sheet in _file_sheets(path, report, file_format):
        found = True
        yield sheet
    if file_format.other_sheets_allowed and not found and report.ok:
        report.add_error(
            "", 1, "", "", file_format.unrecognised_header(_key_columns(file_format))
        )


def _file_sheets(
    path: Path, report: ImportReport, file_format: FileFormat
) -> Iterator[Sheet]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        encoding, lines = csv_encoding_and_lines(path)
        with path.open(encoding=encoding, newline="") as handle:
            rows = iter(csv.reader(handle))
            sheet = _sheet_from_rows("", rows, max(lines - 1, 0), report, file_format)
            if sheet:
                yield sheet
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a broken file
            raise ImportFileError(
                _("The file is not a readable XLSX workbook.")
            ) from error
        try:
            sheets: Iterable[Sheet] = (
                sheet
                for worksheet in workbook.worksheets
                if (sheet := _sheet_from_worksheet(worksheet, report, file_format))
            )
            if len(file_format.kinds) > 1:
                # Ordering reads every header row before any data row (the rows
                # still stream). A single kind needs no order: each sheet is
                # read whole in turn, its header errors after the rows before.
                sheets = sorted(sheets, key=lambda s: file_format.kinds.index(s.kind))
            yield from sheets
        finally:
            workbook.close()
    else:
        raise ImportFileError(_("Only .csv and .xlsx files can be imported."))


def _sheet_from_worksheet(
    worksheet: Any, report: ImportReport, file_format: FileFormat
) -> Sheet | None:
    total = (worksheet.max_row - 1) if worksheet.max_row else None
    rows = (list(r) for r in worksheet.iter_rows(values_only=True))
    return _sheet_from_rows(worksheet.title, rows, total, report, file_format)


def example_xlsx(sheets: Iterable[tuple[SheetKind, Iterable[Sequence[str]]]]) -> bytes:
    """An XLSX with a sheet for each kind, headed by the usual name of every
    column, holding the rows given for that kind."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for kind, rows in sheets:
        sheet = workbook.create_sheet(str(kind.label))
        sheet.append([aliases[0] for aliases in kind.columns.values()])
        for row in rows:
            sheet.append(list(row))
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- checking and writing


class _Rollback(Exception):
    pass


@contextmanager
def all_or_nothing(report: ImportReport) -> Iterator[None]:
    """Runs the block in one transaction, rolled back as the block ends unless
    ``report.committed``: any row error, or a dry run, undoes every write.

    Errors raised in the block roll back too and propagate.
    """
    try:
        with transaction.atomic():
            yield
            if not report.committed:
                raise _Rollback
    except _Rollback:
        pass


class BatchImport:
    """Checks the rows of sheets of one kind and writes them ``batch_size`` at
    a time.

    A row is a dict of field -> cell text, with its row number under "_row".
    Subclasses check it in ``add``, reporting each bad cell with ``error`` and
    handing a good row to ``queue``, and write the rows queued in ``write``.
    """

    batch_size = BATCH_SIZE

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.batch: list[dict[str, Any]] = []
        self.first_row_of: dict[str, int] = {}
        self.sheet: Sheet | None = None

    def error(
        self, row: int, field_name: str, value: Any, message: str | Promise
    ) -> None:
        """Reports a bad cell under its column's header as the file writes it,
        or the column's usual name where the file lacks the column."""
        header = self.sheet.headers.get(
            field_name, self.sheet.kind.columns[field_name][0]
        )
        self.report.add_error(self.sheet.name, row, header, value, message)

    def add_sheet(self, sheet: Sheet, progress: Callable[[int], None]) -> None:
        """Checks and writes every row of ``sheet``, telling ``progress`` the
        rows done after each batch."""
        self.sheet = sheet
        done = 0
        for number, cells in sheet.rows:
            if not any(cells):
                continue
            values: dict[str, Any] = {
                name: (cells[index] if index < len(cells) else "")
                for name, index in sheet.positions.items()
            }
            values["_row"] = number
            self.report.rows += 1
            self.add(values)
            done += 1
            if done % self.batch_size == 0:
                progress(self.batch_size)
        self.flush()
        if done % self.batch_size:
            progress(done % self.batch_size)

    def check_unique(self, row: dict[str, Any], key: str) -> bool:
        value = row[key]
        first = self.first_row_of.get(value)
        if first is not None:
            self.error(
                row["_row"],
                key,
                value,
                _("Duplicate: the same value is on row %(row)s.") % {"row": first},
            )
            return False
        self.first_row_of[value] = row["_row"]
        return True

    def require(self, row: dict[str, Any], *fields: str) -> bool:
        ok = True
        for field_name in fields:
            if not row.get(field_name):
                self.error(row["_row"], field_name, "", _("This value is required."))
                ok = False
        return ok

    def queue(self, row: dict[str, Any]) -> None:
        self.batch.append(row)
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            batch, self.batch = self.batch, []
            self.write(batch)

    def add(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def write(self, batch: list[dict[str, Any]]) -> None:
        raise NotImplementedError


def _whole_number(value: str) -> int | None:
    if value == "":
        return None
    if not value.isdigit():
        raise ValueError(value)
    return int(value)


class _ParentRef(NamedTuple):
    id: int
    level: int
    ancestors: dict[str, int | None]

    @classmethod
    def of(cls, region: Region) -> _ParentRef:
        return cls(
            region.pk,
            region.level,
            {f: getattr(region, f"{f}_id") for f in ANCESTOR_FIELDS.values()},
        )


class RegionImport(BatchImport):
    update_fields = [
        "name",
        "level",
        "parent",
        "city",
        "district",
        "street",
        "community_type",
        "households",
        "population",
        "updated_at",
    ]

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report)
        self.parents: dict[str, _ParentRef] = {}  # regions that may have children
        self.failed: dict[str, int] = {}  # code -> row of a rejected row

    def add(self, row: dict[str, Any]) -> None:
        number = row["_row"]
        ok = self.require(row, "code", "name", "level")
        code = row["code"]
        if code and not REGION_CODE.match(code):
            self.error(number, "code", code, _("A region code has exactly 12 digits."))
            ok = False
        elif code and not self.check_unique(row, "code"):
            return
        level = LEVELS_BY_WORD.get(row["level"].lower()) if row["level"] else None
        if row["level"] and level is None:
            self.error(
                number,
                "level",
                row["level"],
                _("Unknown level; use one of %(choices)s.")
                % {"choices": "市、区县、街镇、社区（村）"},
            )
            ok = False
        row["level_text"], row["level"] = row["level"], level
        ok &= self._check_type(row)
        for count_field in ("households", "population"):
            try:
                row[count_field] = _whole_number(row.get(count_field, ""))
            except ValueError:
                self.error(
                    number,
                    count_field,
                    row[count_field],
                    _("Enter a whole number of 0 or more."),
                )
                ok = False
        parent_code = row.get("parent_code", "")
        if level == RegionLevel.CITY and parent_code:
            self.error(
                number,
                "parent_code",
                parent_code,
                _("A city is at the top of the tree; leave its parent code empty."),
            )
            ok = False
        elif level and level > RegionLevel.CITY and not parent_code:
            self.error(
                number,
                "parent_code",
                "",
                _("Every region below a city needs a parent code."),
            )
            ok = False
        if not ok:
            if code:
                self.failed[code] = number
            return
        self.queue(row)

    def _check_type(self, row: dict[str, Any]) -> bool:
        text = row.get("community_type", "")
        if row["level"] == RegionLevel.COMMUNITY:
            if not text:
                self.error(
                    row["_row"],
                    "community_type",
                    "",
                    _("A community or village needs a community type."),
                )
                return False
            row["community_type"] = COMMUNITY_TYPES_BY_WORD.get(text.lower())
            if row["community_type"] is None:
                self.error(
                    row["_row"],
                    "community_type",
                    text,
                    _("Unknown community type; use one of %(choices)s.")
                    % {"choices": choices_text(COMMUNITY_TYPE_WORDS)},
                )
                return False
        elif text:
            self.error(
                row["_row"],
                "community_type",
                text,
                _("Only communities and villages have a community type."),
            )
            return False
        else:
            row["community_type"] = ""
        return True

    def write(self, batch: list[dict[str, Any]]) -> None:
        codes = [row["code"] for row in batch]
        wanted_parents = {
            row["parent_code"] for row in batch if row.get("parent_code")
        } - self.parents.keys()
        existing = {}
        for found in Region.objects.filter(code__in=[*codes, *wanted_parents]).values(
            "id", "code", "level", "parent_id", "city_id", "district_id", "street_id"
        ):
            existing[found["code"]] = found
            if (
                found["code"] in wanted_parents
                and found["level"] < RegionLevel.COMMUNITY
            ):
                self.parents[found["code"]] = _ParentRef(
                    found["id"],
                    found["level"],
                    {f: found[f"{f}_id"] for f in ANCESTOR_FIELDS.values()},
                )
        # A row whose parent is on an earlier row of this batch learns the
        # parent's id only once the parent is written, so the batch is written
        # in generations: rows with a known parent first, then their children…
        generations: list[list[tuple[Region, Region | None]]] = []
        in_batch: dict[str, tuple[Region, int]] = {}  # code -> (region, generation)
        built: list[tuple[Region, dict | None]] = []
        for row in batch:
            made = self._region(row, existing, in_batch)
            if made is None:
                self.failed[row["code"]] = row["_row"]
                continue
            region, batch_parent = made
            generation = (
                0 if batch_parent is None else in_batch[batch_parent.code][1] + 1
            )
            if generation == len(generations):
                generations.append([])
            generations[generation].append((region, batch_parent))
            if region.level < RegionLevel.COMMUNITY:
                in_batch[region.code] = (region, generation)
            before = existing.get(row["code"])
            self.report.updated[REGIONS] += bool(before)
            self.report.created[REGIONS] += not before
            built.append((region, before))
        for generation in generations:
            for region, batch_parent in generation:
                if batch_parent is not None:
                    self._attach(region, _ParentRef.of(batch_parent))
            Region.objects.bulk_create(
                [region for region, _parent in generation],
                update_conflicts=True,
                unique_fields=["code"],
                update_fields=self.update_fields,
            )
        moved = []
        for region, before in built:
            if region.level < RegionLevel.COMMUNITY:
                self.parents[region.code] = _ParentRef.of(region)
            if before and before["parent_id"] != region.parent_id:
                moved.append(region)
        if moved:
            self._carry_subtrees(moved)

    def _region(
        self,
        row: dict[str, Any],
        existing: dict[str, dict],
        in_batch: dict[str, tuple[Region, int]],
    ) -> tuple[Region, Region | None] | None:
        """The region of a row and, when its parent is in the same batch and not
        written yet, that parent; None after reporting an error."""
        number, level = row["_row"], row["level"]
        before = existing.get(row["code"])
        if before and before["level"] != level:
            self.error(
                number,
                "level",
                row["level_text"],
                _("This code is already a %(level)s; a region's level cannot change.")
                % {"level": RegionLevel(before["level"]).label},
            )
            return None
        region = Region(
            code=row["code"],
            name=row["name"],
            level=level,
            community_type=row["community_type"],
            households=row["households"],
            population=row["population"],
        )
        if level == RegionLevel.CITY:
            return region, None
        parent_code = row["parent_code"]
        batch_parent, _generation = in_batch.get(parent_code, (None, 0))
        parent = self.parents.get(parent_code) if batch_parent is None else None
        if batch_parent is None and parent is None:
            if parent_code in self.failed:
                message = _("The parent region (row %(row)s) has errors.") % {
                    "row": self.failed[parent_code]
                }
            elif (
                parent_code in existing
                or self.first_row_of.get(parent_code, number) < number
            ):
                message = _("A community or village cannot have regions under it.")
            else:
                message = _(
                    "Unknown parent code: it is neither in the system nor on an earlier row."
                )
            self.error(number, "parent_code", parent_code, message)
            return None
        parent_level = batch_parent.level if batch_parent is not None else parent.level
        if parent_level != level - 1:
            self.error(
                number,
                "parent_code",
                parent_code,
                _(
                    "A %(level)s must be under a %(expected)s, but this parent is a %(actual)s."
                )
                % {
                    "level": RegionLevel(level).label,
                    "expected": RegionLevel(level - 1).label,
                    "actual": RegionLevel(parent_level).label,
                },
            )
            return None
        if parent is not None:
            self._attach(region, parent)
        return region, batch_parent

    @staticmethod
    def _attach(region: Region, parent: _ParentRef) -> None:
        region.parent_id = parent.id
        for ancestor_field, ancestor_id in parent.ancestors.items():
            setattr(region, f"{ancestor_field}_id", ancestor_id)
        setattr(region, f"{ANCESTOR_FIELDS[parent.level]}_id", parent.id)

    def _carry_subtrees(self, moved: list[Region]) -> None:
        """Regions moved under new parents: their descendants' ancestor columns
        follow, in the database and among the parents remembered for later rows."""
        carried: dict[tuple[str, int], dict[str, int | None]] = {}
        for region in moved:
            if region.level == RegionLevel.COMMUNITY:
                continue
            above = {
                f: getattr(region, f"{f}_id")
                for lvl, f in ANCESTOR_FIELDS.items()
                if lvl < region.level
            }
            Region.objects.filter(**{ANCESTOR_FIELDS[region.level]: region.pk}).update(
                **{f"{f}_id": value for f, value in above.items()}
            )
            carried[ANCESTOR_FIELDS[region.level], region.pk] = above
        if carried:
            for parent in self.parents.values():
                for ancestor_field, ancestor_id in list(parent.ancestors.items()):
                    above = carried.get((ancestor_field, ancestor_id))
                    if above is not None:
                        parent.ancestors.update(above)


class DepartmentImport(BatchImport):
    def __init__(self, report: ImportReport) -> None:
        super().__init__(report)
        self.families = {
            family.name: family.pk for family in DepartmentFamily.objects.all()
        }

    def add(self, row: dict[str, Any]) -> None:
        number = row["_row"]
        ok = self.require(row, "code", "name", "region_code")
        code = row["code"]
        if code and REGION_CODE.match(code):
            self.error(
                number,
                "code",
                code,
                _(
                    "A department code must not be 12 digits: that is the form of a region code."
                ),
            )
            ok = False
        elif len(code) > 32:
            self.error(
                number, "code", code, _("A department code has at most 32 characters.")
            )
            ok = False
        elif code and not self.check_unique(row, "code"):
            return
        kind_text = row.get("kind", "")
        row["kind"] = (
            DEPARTMENT_KINDS_BY_WORD.get(kind_text.lower())
            if kind_text
            else DepartmentKind.FUNCTIONAL
        )
        if row["kind"] is None:
            self.error(
                number,
                "kind",
                kind_text,
                _("Unknown unit kind; use one of %(choices)s.")
                % {"choices": choices_text(DEPARTMENT_KIND_WORDS)},
            )
            ok = False
        family = row.get("family", "")
        if family:
            row["family_id"] = self.families.get(family)
            if row["family_id"] is None:
                self.error(
                    number,
                    "family",
                    family,
                    _("Unknown family; known families: %(families)s.")
                    % {"families": "、".join(self.families)},
                )
                ok = False
        elif row["kind"] == DepartmentKind.FUNCTIONAL:
            self.error(
                number, "family", "", _("A functional department needs a family.")
            )
            ok = False
        else:
            row["family_id"] = None
        if ok:
            self.queue(row)

    def write(self, batch: list[dict[str, Any]]) -> None:
        regions = dict(
            Region.objects.filter(
                code__in={row["region_code"] for row in batch}
            ).values_list("code", "id")
        )
        levels = dict(
            Region.objects.filter(id__in=regions.values()).values_list("id", "level")
        )
        existing = set(
            Department.objects.filter(
                code__in=[row["code"] for row in batch]
            ).values_list("code", flat=True)
        )
        departments = []
        # Codes of the rows read from a sheet with a duties column.
        with_duties: set[str] = set()
        for row in batch:
            region_id = regions.get(row["region_code"])
            if region_id is None:
                self.error(
                    row["_row"],
                    "region_code",
                    row["region_code"],
                    _("Unknown region code."),
                )
                continue
            if levels[region_id] == RegionLevel.COMMUNITY:
                self.error(
                    row["_row"],
                    "region_code",
                    row["region_code"],
                    _(
                        "A department serves a city, district or street, not a single community."
                    ),
                )
                continue
            departments.append(
                Department(
                    code=row["code"],
                    name=row["name"],
                    kind=row["kind"],
                    family_id=row["family_id"],
                    region_id=region_id,
                    duties=row.get("duties", ""),
                )
            )
            if "duties" in row:
                with_duties.add(row["code"])
            self.report.updated[DEPARTMENTS] += row["code"] in existing
            self.report.created[DEPARTMENTS] += row["code"] not in existing
        # A sheet without a duties column leaves the duties already recorded
        # as they are; one with it sets them, empty cells included.
        fields = ["name", "kind", "family", "region", "updated_at"]
        for written, update_fields in (
            ([d for d in departments if d.code in with_duties], [*fields, "duties"]),
            ([d for d in departments if d.code not in with_duties], fields),
        ):
            if written:
                Department.objects.bulk_create(
                    written,
                    update_conflicts=True,
                    unique_fields=["code"],
                    update_fields=update_fields,
                )
        self.report.department_ids.extend(department.pk for department in departments)


class AccountImport(BatchImport):
    username_validator = UnicodeUsernameValidator()

    def add(self, row: dict[str, Any]) -> None:
        number = row["_row"]
        ok = self.require(row, "username", "name", "unit_code", "role")
        username = row["username"]
        if username:
            try:
                self.username_validator(username)
                if len(username) > 150:
                    raise ValidationError("too long")
            except ValidationError:
                self.error(
                    number,
                    "username",
                    username,
                    _(
                        "A username has at most 150 letters, digits and the characters @ . + - _."
                    ),
                )
                ok = False
            else:
                if not self.check_unique(row, "username"):
                    return
        role_text = row["role"]
        row["role_text"] = role_text
        row["role"] = ROLES_BY_WORD.get(role_text.lower()) if role_text else None
        if role_text and row["role"] is None:
            self.error(
                number,
                "role",
                role_text,
                _("Unknown role; use one of %(choices)s.")
                % {"choices": choices_text(ROLE_WORDS)},
            )
            ok = False
        if len(row["name"]) > 50:
            self.error(
                number, "name", row["name"], _("A name has at most 50 characters.")
            )
            ok = False
        email = row.get("email", "")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                self.error(number, "email", email, _("Enter a valid e-mail address."))
                ok = False
        phone = row.get("phone", "")
        if phone and not PHONE.match(phone):
            self.error(number, "phone", phone, _("Enter a valid phone number."))
            ok = False
        if ok:
            self.queue(row)

    def write(self, batch: list[dict[str, Any]]) -> None:
        codes = {row["unit_code"] for row in batch}
        units: dict[str, Region | Department] = {
            region.code: region
            for region in Region.objects.filter(code__in=codes).only(
                "id", "code", "level"
            )
        }
        units.update(
            (department.code, department)
            for department in Department.objects.filter(code__in=codes).only(
                "id", "code", "kind"
            )
        )
        existing = {
            user.username: user
            for user in User.objects.filter(username__in=[r["username"] for r in batch])
        }
        created, updated = [], []
        for row in batch:
            unit = units.get(row["unit_code"])
            if unit is None:
                self.error(
                    row["_row"], "unit_code", row["unit_code"], _("Unknown unit code.")
                )
                continue
            mismatch = role_unit_error(row["role"], unit)
            if mismatch:
                self.error(row["_row"], "role", row["role_text"], mismatch)
                continue
            user = existing.get(row["username"]) or User(
                username=row["username"], password=make_password(None)
            )
            user.name, user.role = row["name"], row["role"]
            user.email, user.phone = row.get("email", ""), row.get("phone", "")
            user.region = unit if isinstance(unit, Region) else None
            user.department = unit if isinstance(unit, Department) else None
            (updated if user.pk else created).append(user)
        User.objects.bulk_create(created)
        User.objects.bulk_update(
            updated, ["name", "role", "email", "phone", "region", "department"]
        )
        role_groups_assign(users=[*created, *updated])
        self.report.user_ids.extend(user.pk for user in [*created, *updated])
        self.report.created[ACCOUNTS] += len(created)
        self.report.updated[ACCOUNTS] += len(updated)
        self.report.invitations.extend(
            Invitation(
                user.username, user.name, user.email, account_invitation_url(user)
            )
            for user in created
        )


EXAMPLE_ROWS: dict[str, list[tuple[str, ...]]] = {
    REGIONS: [
        ("310100000000", "上海市", "市", "", "", "", ""),
        ("310107000000", "普陀区", "区县", "310100000000", "", "", ""),
        ("310107015000", "长风新村街道", "街镇", "310107000000", "", "", ""),
        (
            "310107015001",
            "天山新村第一居委会",
            "社区",
            "310107015000",
            "老城区",
            "1820",
            "4310",
        ),
    ],
    DEPARTMENTS: [
        (
            "PT-MZ",
            "普陀区民政局",
            "民政",
            "310107000000",
            "职能部门",
            "负责养老服务、社会救助、社区建设和社会组织管理。",
        ),
        ("PT-ZZB", "中共普陀区委组织部", "", "310107000000", "组织部", ""),
    ],
    ACCOUNTS: [
        (
            "tianshan1",
            "王丽",
            "310107015001",
            "社区工作者",
            "wangli@example.cn",
            "13800000001",
        ),
        ("ptmz_li", "李强", "PT-MZ", "部门经办人", "liqiang@example.cn", ""),
    ],
}


def example_workbook() -> bytes:
    """An XLSX with one sheet per kind, every column and a few sample rows."""
    return example_xlsx((kind, EXAMPLE_ROWS[kind.name]) for kind in UNITS_FILE.kinds)


IMPORTS = {
    REGIONS: RegionImport,
    DEPARTMENTS: DepartmentImport,
    ACCOUNTS: AccountImport,
}


def import_units_file(
    path: Path,
    *,
    dry_run: bool,
    mail_invitations: bool = True,
    actor: User | None = None,
    file_name: str = "",
    progress: Callable[[int], None] = lambda rows: None,
    on_total: Callable[[int | None], None] = lambda total: None,
) -> ImportReport:
    """Check every row of ``path`` and write them all, or nothing.

    ``on_total`` is told the number of data rows of each sheet when the file
    knows it, and ``progress`` the rows done after each batch. A committed
    import is recorded as an ImportRun by ``actor``; once it has committed, new
    accounts are e-mailed their set-password links where mail is configured,
    unless ``mail_invitations`` is off (demo data has no real addresses).
    Raises ImportFileError when the file cannot be read at all.
    """
    report = ImportReport(dry_run=dry_run)
    importers: dict[str, BatchImport] = {}  # one per kind, over all its sheets
    with all_or_nothing(report):
        for sheet in read_sheets(path, report, UNITS_FILE):
            on_total(sheet.total)
            if sheet.kind.name not in importers:
                importers[sheet.kind.name] = IMPORTS[sheet.kind.name](report)
            importers[sheet.kind.name].add_sheet(sheet, progress)
        if report.committed:
            units_changed.send(
                sender=ImportRun,
                department_ids=report.department_ids,
                user_ids=report.user_ids,
            )
            ImportRun.objects.create(
                user=actor,
                file_name=file_name or path.name,
                rows=report.rows,
                created=dict(report.created),
                updated=dict(report.updated),
            )
            if (
                mail_invitations
                and settings.PORTAL_MAIL_INVITATIONS
                and report.invitations
            ):
                usernames = [invitation.username for invitation in report.invitations]
                transaction.on_commit(
                    lambda: invitations_mail.enqueue(usernames=usernames)
                )
    if not report.committed:
        # Rolled back: the accounts these links were for do not exist.
        report.invitations.clear()
    return report


def report_lines(report: ImportReport) -> list[str]:
    """The report as a person reads it: each row error, then the counts."""
    lines = [
        _("%(where)srow %(row)s, column “%(column)s”: %(message)s (value: “%(value)s”)")
        % {
            "where": f"{error.sheet} " if error.sheet else "",
            "row": error.row,
            "column": error.column,
            "message": error.message,
            "value": error.value,
        }
        for error in report.errors
    ]
    if report.error_count > len(report.errors):
        lines.append(
            _("… and %(count)s more errors.")
            % {"count": report.error_count - len(report.errors)}
        )
    lines += [
        _("%(label)s: %(created)s new, %(updated)s updated")
        % {key: line[key] for key in ("label", "created", "updated")}
        for line in report.summary()
    ]
    return lines
