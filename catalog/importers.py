"""Bulk import of offerings from CSV or XLSX files (docs/import-offerings.md).

Departments keep their project lists in spreadsheets; each row becomes an
offering page under its department's page. Like the org-tree import
(``portal.importers``, whose file reading, row checking, transaction and
report this module reuses):

* **All-or-nothing.** Every row is checked and written in one transaction; any
  row error, or a dry run, rolls everything back. Checking goes on after an
  error, so one run reports every bad row with its row, column and reason.
* **Re-import updates.** A row is matched to an offering by department and
  title; its sessions are matched by start time, so seats already taken stay.
* **Drafts unless published.** Rows become a new revision awaiting approval;
  with ``publish`` they are published, which only the department's approvers
  and administrators may do.

Files of offerings are small (a department lists tens of projects), so rows are
written one by one through Wagtail's page API: revisions, audit log and
workflow see an imported offering exactly as one typed in the CMS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.rich_text import RichText

from catalog.models import (
    Availability,
    Category,
    CommunityTypeOption,
    DeliveryMode,
    DepartmentPage,
    OfferingKind,
    OfferingPage,
    OfferingSession,
)
from portal.importers import (
    PHONE,
    BatchImport,
    FileFormat,
    ImportReport,
    SheetKind,
    all_or_nothing,
    choices_text,
    example_xlsx,
    read_sheets,
    words_lookup,
)
from portal.models import Department, Region, RegionLevel, Role, User

OFFERINGS = "offerings"

# Header names accepted for each field, Chinese first (the first is written in
# examples and error reports).
COLUMNS: dict[str, tuple[str, ...]] = {
    "department_code": ("部门代码", "department_code"),
    "title": ("项目名称", "title"),
    "kind": ("类别", "kind"),
    "category": ("分类", "category"),
    "tags": ("标签", "tags"),
    "summary": ("摘要", "summary"),
    "body": ("正文", "body"),
    "community_types": ("适用社区类型", "community_types"),
    "streets": ("服务街镇", "service_streets"),
    "delivery_mode": ("服务方式", "delivery_mode"),
    "duration_hours": ("时长(小时)", "时长（小时）", "时长", "duration_hours"),
    "lead_time_days": ("提前天数", "lead_time_days"),
    "min_participants": ("最少人数", "min_participants"),
    "max_participants": ("最多人数", "max_participants"),
    "fee": ("费用(元)", "费用（元）", "费用", "fee"),
    "contact_name": ("联系人", "contact_name"),
    "contact_phone": ("联系电话", "contact_phone"),
    "availability": ("供给方式", "availability"),
    "monthly_capacity": ("每月可接单数", "monthly_capacity"),
    "sessions": ("场次", "sessions"),
}
REQUIRED_COLUMNS = (
    "department_code",
    "title",
    "kind",
    "category",
    "summary",
    "delivery_mode",
)

KIND_WORDS = {
    OfferingKind.TRAINING: ("培训课程", "培训", "training"),
    OfferingKind.SERVICE: ("服务项目", "服务", "service"),
    OfferingKind.PROJECT: ("赋能项目", "项目", "project"),
    OfferingKind.VENUE: ("场地", "venue"),
    OfferingKind.EQUIPMENT: ("设备", "equipment"),
    OfferingKind.EXPERT: ("专家", "expert"),
    OfferingKind.MATERIAL: ("资料", "material"),
}
DELIVERY_MODE_WORDS = {
    DeliveryMode.AT_COMMUNITY: ("到社区", "上门", "at_community"),
    DeliveryMode.ONLINE: ("线上", "online"),
    DeliveryMode.AT_DEPARTMENT: ("到部门场地", "到部门", "at_department"),
}
AVAILABILITY_WORDS = {
    Availability.SCHEDULED: ("按场次", "scheduled"),
    Availability.ON_REQUEST: ("按需预约", "按需", "on_request"),
}
KINDS_BY_WORD = words_lookup(KIND_WORDS)
DELIVERY_MODES_BY_WORD = words_lookup(DELIVERY_MODE_WORDS)
AVAILABILITIES_BY_WORD = words_lookup(AVAILABILITY_WORDS)
FREE_WORDS = ("", "0", "免费", "free")

LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")
SESSION_SEPARATORS = re.compile(r"[;；\n]+")
CATEGORY_SEPARATOR = re.compile(r"\s*[/／›>]\s*")
# 2026-12-05 14:00-16:00@社区活动室#30 (the place is optional, the seats are not).
SESSION = re.compile(
    r"^(?P<date>\d{4}-\d{1,2}-\d{1,2})\s+(?P<start>\d{1,2}:\d{2})\s*[-–~～至]\s*"
    r"(?P<end>\d{1,2}:\d{2})\s*(?:[@＠]\s*(?P<place>[^#＃]*?))?\s*[#＃]\s*"
    r"(?P<seats>\d+)$"
)
SESSION_FORMAT = "2026-12-05 14:00-16:00@社区活动室#30"

# Row errors, as tests assert them.
ERROR_UNKNOWN_DEPARTMENT = gettext_lazy("Unknown department code.")
ERROR_NO_CATALOG_PAGE = gettext_lazy(
    "This department has no catalog page; only functional departments publish offerings."
)
ERROR_OTHER_DEPARTMENT = gettext_lazy(
    "You may import offerings only for your own department."
)
ERROR_MAY_NOT_PUBLISH = gettext_lazy(
    "Only the department's approvers and administrators may publish; import without publishing to save drafts for approval."
)
ERROR_DUPLICATE = gettext_lazy(
    "Duplicate: the same department and title are on row %(row)s."
)
ERROR_UNKNOWN_KIND = gettext_lazy("Unknown kind; use one of %(choices)s.")
ERROR_UNKNOWN_CATEGORY = gettext_lazy(
    "Unknown category; write “top category/subcategory”, e.g. 安全应急/消防安全."
)
ERROR_AMBIGUOUS_CATEGORY = gettext_lazy(
    "Several top categories have this subcategory; write it as %(choices)s."
)
ERROR_TOP_CATEGORY = gettext_lazy(
    "Offerings are filed under a subcategory, e.g. %(example)s."
)
ERROR_UNKNOWN_DELIVERY_MODE = gettext_lazy(
    "Unknown delivery mode; use one of %(choices)s."
)
ERROR_UNKNOWN_AVAILABILITY = gettext_lazy(
    "Unknown availability; use one of %(choices)s."
)
ERROR_UNKNOWN_COMMUNITY_TYPE = gettext_lazy(
    "Unknown community type “%(value)s”; use %(choices)s."
)
ERROR_STREET_OUTSIDE_AREA = gettext_lazy(
    "“%(value)s” is not a street or town the department serves."
)
ERROR_WHOLE_NUMBER = gettext_lazy("Enter a whole number.")
ERROR_HOURS = gettext_lazy("Enter the hours as a number with at most one decimal.")
ERROR_FEE = gettext_lazy("Enter an amount in yuan, or 免费.")
ERROR_MIN_ABOVE_MAX = gettext_lazy(
    "The minimum number of participants is above the maximum."
)
ERROR_CAPACITY_NEEDED = gettext_lazy(
    "An offering on request needs the number of orders it can take a month."
)
ERROR_SESSIONS_ON_REQUEST = gettext_lazy(
    "An offering on request has no sessions; leave this empty or use 按场次."
)
ERROR_SESSION_FORMAT = gettext_lazy(
    "Session “%(value)s” is not in the form %(example)s."
)
ERROR_SESSION_DATE = gettext_lazy("Session “%(value)s” has an impossible date or time.")
ERROR_SESSION_ENDS_FIRST = gettext_lazy("Session “%(value)s” ends before it starts.")
ERROR_SESSION_TWICE = gettext_lazy("Two sessions start at %(start)s.")
ERROR_SESSION_SEATS = gettext_lazy("Session “%(value)s” needs at least one seat.")
ERROR_SEATS_BELOW_TAKEN = gettext_lazy(
    "The session at %(start)s already has %(taken)s seats taken."
)
ERROR_BOOKED_SESSION_MISSING = gettext_lazy(
    "The session at %(start)s has seats taken and cannot be removed."
)
ERROR_TOO_LONG = gettext_lazy("At most %(limit)s characters.")
ERROR_PHONE = gettext_lazy("Enter a valid phone number.")
ERROR_HEADER = gettext_lazy(
    "Unrecognised header row: a sheet of offerings needs the column %(key)s."
)

# Model fields whose validation errors are reported under a column.
FIELD_COLUMNS = {
    "title": "title",
    "slug": "title",
    "kind": "kind",
    "category": "category",
    "summary": "summary",
    "delivery_mode": "delivery_mode",
    "duration_hours": "duration_hours",
    "lead_time_days": "lead_time_days",
    "min_participants": "min_participants",
    "max_participants": "max_participants",
    "fee": "fee",
    "contact_name": "contact_name",
    "contact_phone": "contact_phone",
    "availability": "availability",
    "monthly_capacity": "monthly_capacity",
}
LIMITS = {"title": 255, "summary": 300, "contact_name": 50, "contact_phone": 30}


# ---------------------------------------------------------------- who may import


@dataclass(frozen=True)
class ImportRights:
    """What a user may import: offerings of one department (or of any, None),
    as drafts only or also published."""

    department_id: int | None
    may_publish: bool


def offering_import_rights(user: User | None) -> ImportRights | None:
    """The rights of ``user`` to import offerings, or None when they have none.

    Administrators (and the command line, ``user`` None) import for every
    department and may publish; a department's publishers import drafts for
    their own department, its approvers may also publish them unless the
    organization department reviews every offering first.
    """
    role = getattr(user, "role", None)
    if user is None or user.is_superuser or role == Role.ADMINISTRATOR:
        return ImportRights(department_id=None, may_publish=True)
    if (
        role in (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER)
        and user.department_id
    ):
        return ImportRights(
            department_id=user.department_id,
            may_publish=role == Role.DEPARTMENT_APPROVER
            and not settings.CATALOG_ORGANIZATION_APPROVAL,
        )
    return None


# ---------------------------------------------------------------- the report


class OfferingLine(NamedTuple):
    """One imported row, as the preview lists it."""

    row: int
    department: str
    title: str
    created: bool
    published: bool


@dataclass
class OfferingImportReport(ImportReport):
    """portal's import report, counting offerings and listing what each row did."""

    publish: bool = False
    offerings: list[OfferingLine] = field(default_factory=list)

    def summary(self) -> list[dict[str, Any]]:
        if not (self.created[OFFERINGS] or self.updated[OFFERINGS]):
            return []
        label = (
            _("Offerings, published")
            if self.publish
            else _("Offerings, saved as drafts for approval")
        )
        return [
            {
                "kind": OFFERINGS,
                "label": label,
                "created": self.created[OFFERINGS],
                "updated": self.updated[OFFERINGS],
            }
        ]


# ---------------------------------------------------------------- reading files


OFFERINGS_SHEET = SheetKind(
    OFFERINGS,
    gettext_lazy("Offerings"),
    COLUMNS,
    REQUIRED_COLUMNS,
    key="title",
)
OFFERINGS_FILE = FileFormat(
    kinds=(OFFERINGS_SHEET,),
    unrecognised_header=lambda key: ERROR_HEADER % {"key": key},
    other_sheets_allowed=True,
)


# ---------------------------------------------------------------- checking cells


def _split(text: str, separators: re.Pattern = LIST_SEPARATORS) -> list[str]:
    return [part.strip() for part in separators.split(text) if part.strip()]


def _body(text: str) -> list[tuple[str, RichText]]:
    """Plain text as rich-text paragraphs: one per line."""
    return [
        ("paragraph", RichText(f"<p>{escape(line)}</p>"))
        for line in _split(text, re.compile(r"\n+"))
    ]


class _Department(NamedTuple):
    department: Department
    page: DepartmentPage | None
    streets: dict[str, Region]  # by street code and by name


class OfferingImport(BatchImport):
    """Checks one row at a time and writes it as an offering page."""

    # Each row is written as soon as it is checked, and counts as progress.
    batch_size = 1

    def __init__(
        self,
        report: OfferingImportReport,
        *,
        actor: User | None,
        rights: ImportRights,
        publish: bool,
    ) -> None:
        super().__init__(report)
        self.actor = actor
        self.rights = rights
        self.publish = publish
        self.departments: dict[str, _Department | None] = {}
        self.first_row_of_offering: dict[tuple[int, str], int] = {}
        categories = list(Category.objects.select_related("parent"))
        self.categories = {
            (c.parent.name, c.name): c.pk for c in categories if c.parent_id
        }
        self.subcategories: dict[str, list[Category]] = {}
        for category in categories:
            if category.parent_id:
                self.subcategories.setdefault(category.name, []).append(category)
        self.top_categories = {c.name for c in categories if not c.parent_id}
        # Model instances, not ids: a parental many-to-many relation keeps
        # instances in memory until the page (or its revision) is saved.
        options = list(CommunityTypeOption.objects.all())
        self.community_types: dict[str, CommunityTypeOption] = {}
        for option in options:
            self.community_types[option.label] = option
            self.community_types[option.code.lower()] = option
        self.community_type_labels = "、".join(option.label for option in options)

    # -- rows

    def add(self, row: dict[str, Any]) -> None:
        errors_before = self.report.error_count
        checked = self.check(row["_row"], row)
        if self.report.error_count == errors_before:
            self.queue(checked)

    def check(self, number: int, values: dict[str, Any]) -> dict[str, Any]:
        """The row's values, typed; reports every bad cell of the row."""
        self.require(values, *REQUIRED_COLUMNS)
        for name, limit in LIMITS.items():
            if len(values.get(name, "")) > limit:
                self.error(
                    number, name, values[name], ERROR_TOO_LONG % {"limit": limit}
                )
        department = self._department(number, values.get("department_code", ""))
        title = values.get("title", "")
        if department and title:
            key = (department.department.pk, title)
            first = self.first_row_of_offering.setdefault(key, number)
            if first != number:
                self.error(number, "title", title, ERROR_DUPLICATE % {"row": first})
        checked: dict[str, Any] = {
            "_row": number,
            "department": department,
            "title": title,
            "summary": values.get("summary", ""),
            "body": values.get("body", ""),
            "tags": _split(values.get("tags", "")),
            "contact_name": values.get("contact_name", ""),
            "contact_phone": values.get("contact_phone", ""),
        }
        checked["kind"] = self._word(
            number, values, "kind", KINDS_BY_WORD, KIND_WORDS, ERROR_UNKNOWN_KIND
        )
        checked["delivery_mode"] = self._word(
            number,
            values,
            "delivery_mode",
            DELIVERY_MODES_BY_WORD,
            DELIVERY_MODE_WORDS,
            ERROR_UNKNOWN_DELIVERY_MODE,
        )
        checked["availability"] = (
            self._word(
                number,
                values,
                "availability",
                AVAILABILITIES_BY_WORD,
                AVAILABILITY_WORDS,
                ERROR_UNKNOWN_AVAILABILITY,
            )
            if values.get("availability")
            else Availability.SCHEDULED
        )
        checked["category_id"] = self._category(number, values.get("category", ""))
        checked["community_types"] = self._community_types(
            number, values.get("community_types", "")
        )
        checked["streets"] = (
            self._streets(number, department, values.get("streets", ""))
            if department
            else []
        )
        for name in (
            "lead_time_days",
            "min_participants",
            "max_participants",
            "monthly_capacity",
        ):
            checked[name] = self._whole_number(number, values, name)
        checked["duration_hours"] = self._hours(number, values)
        checked["fee"] = self._fee(number, values)
        phone = checked["contact_phone"]
        if phone and not PHONE.match(phone):
            self.error(number, "contact_phone", phone, ERROR_PHONE)
        low, high = checked["min_participants"], checked["max_participants"]
        if low is not None and high is not None and low > high:
            self.error(number, "min_participants", low, ERROR_MIN_ABOVE_MAX)
        on_request = checked["availability"] == Availability.ON_REQUEST
        if on_request and not checked["monthly_capacity"]:
            self.error(
                number,
                "monthly_capacity",
                values.get("monthly_capacity", ""),
                ERROR_CAPACITY_NEEDED,
            )
        sessions_text = values.get("sessions", "")
        if on_request and sessions_text:
            self.error(number, "sessions", sessions_text, ERROR_SESSIONS_ON_REQUEST)
            checked["sessions"] = []
        else:
            checked["sessions"] = self._sessions(number, sessions_text)
        return checked

    def _department(self, number: int, code: str) -> _Department | None:
        if not code:
            return None
        if code not in self.departments:
            department = (
                Department.objects.filter(code=code)
                .select_related("catalog_page", "region")
                .first()
            )
            self.departments[code] = department and _Department(
                department,
                getattr(department, "catalog_page", None),
                self._area_streets(department.region),
            )
        found = self.departments[code]
        if found is None:
            self.error(number, "department_code", code, ERROR_UNKNOWN_DEPARTMENT)
        elif found.page is None:
            self.error(number, "department_code", code, ERROR_NO_CATALOG_PAGE)
        elif self.rights.department_id not in (None, found.department.pk):
            self.error(number, "department_code", code, ERROR_OTHER_DEPARTMENT)
        elif self.publish and not self.rights.may_publish:
            self.error(number, "department_code", code, ERROR_MAY_NOT_PUBLISH)
        else:
            return found
        return None

    @staticmethod
    def _area_streets(region: Region) -> dict[str, Region]:
        if region.level > RegionLevel.STREET:
            return {}
        streets = Region.objects.subtree(region).filter(level=RegionLevel.STREET)
        lookup: dict[str, Region] = {}
        for street in streets.only("pk", "code", "name", "level"):
            lookup[street.code] = lookup[street.name] = street
        return lookup

    def _word(self, number, values, name, by_word, words, message) -> str | None:
        text = values.get(name, "")
        if not text:
            return None
        value = by_word.get(text.lower())
        if value is None:
            self.error(number, name, text, message % {"choices": choices_text(words)})
        return value

    def _category(self, number: int, text: str) -> int | None:
        if not text:
            return None
        parts = CATEGORY_SEPARATOR.split(text)
        if len(parts) == 2 and (found := self.categories.get(tuple(parts))):
            return found
        if len(parts) == 1:
            matches = self.subcategories.get(text, [])
            if len(matches) == 1:
                return matches[0].pk
            if matches:
                self.error(
                    number,
                    "category",
                    text,
                    ERROR_AMBIGUOUS_CATEGORY
                    % {
                        "choices": "、".join(
                            f"{c.parent.name}/{c.name}" for c in matches
                        )
                    },
                )
                return None
            if text in self.top_categories:
                example = next(
                    (f"{top}/{sub}" for top, sub in self.categories if top == text),
                    text,
                )
                self.error(
                    number, "category", text, ERROR_TOP_CATEGORY % {"example": example}
                )
                return None
        self.error(number, "category", text, ERROR_UNKNOWN_CATEGORY)
        return None

    def _community_types(self, number: int, text: str) -> list[CommunityTypeOption]:
        ids = []
        for part in _split(text):
            found = self.community_types.get(part) or self.community_types.get(
                part.lower()
            )
            if found is None:
                self.error(
                    number,
                    "community_types",
                    text,
                    ERROR_UNKNOWN_COMMUNITY_TYPE
                    % {"value": part, "choices": self.community_type_labels},
                )
            else:
                ids.append(found)
        return ids

    def _streets(self, number: int, department: _Department, text: str) -> list[Region]:
        ids = []
        for part in _split(text):
            found = department.streets.get(part)
            if found is None:
                self.error(
                    number,
                    "streets",
                    text,
                    ERROR_STREET_OUTSIDE_AREA % {"value": part},
                )
            else:
                ids.append(found)
        return ids

    def _whole_number(self, number: int, values: dict[str, str], name: str):
        text = values.get(name, "")
        if not text:
            return None
        if not text.isdigit() or int(text) > 32767:
            self.error(number, name, text, ERROR_WHOLE_NUMBER)
            return None
        return int(text)

    def _hours(self, number: int, values: dict[str, str]) -> Decimal | None:
        text = values.get("duration_hours", "")
        if not text:
            return None
        try:
            hours = Decimal(text)
        except InvalidOperation:
            hours = None
        if (
            hours is None
            or not hours.is_finite()
            or hours <= 0
            or hours >= 10000
            or hours != hours.quantize(Decimal("0.1"))
        ):
            self.error(number, "duration_hours", text, ERROR_HOURS)
            return None
        return hours

    def _fee(self, number: int, values: dict[str, str]) -> Decimal:
        text = values.get("fee", "").removesuffix("元").strip()
        if text.lower() in FREE_WORDS:
            return Decimal(0)
        try:
            fee = Decimal(text)
        except InvalidOperation:
            fee = None
        if (
            fee is None
            or not fee.is_finite()
            or fee < 0
            or fee >= 10_000_000
            or fee != fee.quantize(Decimal("0.01"))
        ):
            self.error(number, "fee", values.get("fee", ""), ERROR_FEE)
            return Decimal(0)
        return fee

    def _sessions(self, number: int, text: str) -> list[dict[str, Any]]:
        sessions: list[dict[str, Any]] = []
        starts: set[datetime] = set()
        for part in _split(text, SESSION_SEPARATORS):
            match = SESSION.match(part)
            if not match:
                self.error(
                    number,
                    "sessions",
                    part,
                    ERROR_SESSION_FORMAT % {"value": part, "example": SESSION_FORMAT},
                )
                continue
            try:
                starts_at, ends_at = (
                    timezone.make_aware(
                        datetime.strptime(
                            f"{match['date']} {match[key]}", "%Y-%m-%d %H:%M"
                        )
                    )
                    for key in ("start", "end")
                )
            except ValueError:
                self.error(
                    number, "sessions", part, ERROR_SESSION_DATE % {"value": part}
                )
                continue
            if ends_at <= starts_at:
                self.error(
                    number, "sessions", part, ERROR_SESSION_ENDS_FIRST % {"value": part}
                )
                continue
            seats = int(match["seats"])
            if seats < 1:
                self.error(
                    number, "sessions", part, ERROR_SESSION_SEATS % {"value": part}
                )
                continue
            if starts_at in starts:
                self.error(
                    number,
                    "sessions",
                    part,
                    ERROR_SESSION_TWICE % {"start": _when(starts_at)},
                )
                continue
            starts.add(starts_at)
            sessions.append(
                {
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "place": (match["place"] or "").strip()[:200],
                    "seats": seats,
                }
            )
        return sessions

    # -- writing

    def write(self, batch: list[dict[str, Any]]) -> None:
        for row in batch:
            self._write_offering(row["_row"], row)

    def _write_offering(self, number: int, row: dict[str, Any]) -> None:
        department: _Department = row["department"]
        parent = department.page
        existing = (
            OfferingPage.objects.child_of(parent).filter(title=row["title"]).first()
        )
        offering = (
            existing.get_latest_revision_as_object() if existing else OfferingPage()
        )
        offering.title = row["title"]
        offering.kind = row["kind"]
        offering.category_id = row["category_id"]
        offering.summary = row["summary"]
        if row["body"] or not existing:
            # An empty 正文 keeps what editors wrote in the CMS (images, files).
            offering.body = _body(row["body"])
        offering.target_community_types = row["community_types"]
        offering.whole_area = not row["streets"]
        offering.service_streets = row["streets"]
        offering.delivery_mode = row["delivery_mode"]
        offering.duration_hours = row["duration_hours"]
        offering.lead_time_days = (
            row["lead_time_days"] if row["lead_time_days"] is not None else 7
        )
        offering.min_participants = row["min_participants"]
        offering.max_participants = row["max_participants"]
        offering.fee = row["fee"]
        offering.contact_name = row["contact_name"]
        offering.contact_phone = row["contact_phone"]
        offering.availability = row["availability"]
        offering.monthly_capacity = row["monthly_capacity"]
        offering.tags.set(row["tags"])
        sessions = self._session_objects(number, existing, row["sessions"])
        if sessions is None:
            return
        offering.sessions = sessions
        try:
            # A new page gets its slug from its title when it is added below
            # its department page.
            offering.full_clean(
                exclude=["path", "depth", "numchild"] + ([] if existing else ["slug"])
            )
        except ValidationError as error:
            self._model_errors(number, row, error)
            return
        if existing is None:
            offering.live = False
            offering.has_unpublished_changes = True
            parent.add_child(instance=offering)
        revision = offering.save_revision(user=self.actor, log_action=True)
        if self.publish:
            revision.publish(user=self.actor)
        self.report.created[OFFERINGS] += existing is None
        self.report.updated[OFFERINGS] += existing is not None
        self.report.offerings.append(
            OfferingLine(
                number,
                department.department.name,
                row["title"],
                existing is None,
                self.publish,
            )
        )

    def _session_objects(
        self,
        number: int,
        existing: OfferingPage | None,
        sessions: list[dict[str, Any]],
    ) -> list[OfferingSession] | None:
        """The row's sessions; one that starts when a stored one does is that
        session, keeping its seats taken (orders point at it)."""
        stored = (
            {s.starts_at: s for s in OfferingSession.objects.filter(offering=existing)}
            if existing
            else {}
        )
        objects, ok = [], True
        for order, values in enumerate(sessions):
            session = stored.pop(values["starts_at"], None)
            if session is not None and values["seats"] < session.seats_taken:
                self.error(
                    number,
                    "sessions",
                    values["seats"],
                    ERROR_SEATS_BELOW_TAKEN
                    % {"start": _when(session.starts_at), "taken": session.seats_taken},
                )
                ok = False
                continue
            session = session or OfferingSession()
            for name, value in values.items():
                setattr(session, name, value)
            session.sort_order = order
            objects.append(session)
        for session in stored.values():
            if session.seats_taken:
                self.error(
                    number,
                    "sessions",
                    _when(session.starts_at),
                    ERROR_BOOKED_SESSION_MISSING % {"start": _when(session.starts_at)},
                )
                ok = False
        return objects if ok else None

    def _model_errors(
        self, number: int, row: dict[str, Any], error: ValidationError
    ) -> None:
        """Whatever the model still refuses, reported under the nearest column."""
        for name, messages in error.message_dict.items():
            column = FIELD_COLUMNS.get(name, "title")
            for message in messages:
                self.error(number, column, row.get(name, ""), message)


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------- the entry point


def import_offerings_file(
    path: Path,
    *,
    dry_run: bool,
    publish: bool = False,
    actor: User | None = None,
    progress: Callable[[int], None] = lambda rows: None,
    on_total: Callable[[int | None], None] = lambda total: None,
) -> OfferingImportReport:
    """Check every row of ``path`` and write them all as offering pages, or none.

    Rows become drafts (a new revision awaiting approval), or are published
    when ``publish`` is set; ``actor`` (None: the command line, trusted like an
    administrator) must be allowed to import for each row's department and,
    with ``publish``, to publish there (``offering_import_rights``); other rows
    are errors. ``on_total`` is told the number of data rows of each sheet when
    the file knows it and ``progress`` each row done. Raises ImportFileError
    when the file cannot be read at all, PermissionError when ``actor`` may not
    import offerings at all.
    """
    rights = offering_import_rights(actor)
    if rights is None:
        raise PermissionError(_("You may not import offerings."))
    report = OfferingImportReport(dry_run=dry_run, publish=publish)
    importer = OfferingImport(report, actor=actor, rights=rights, publish=publish)
    with all_or_nothing(report):
        for sheet in read_sheets(path, report, OFFERINGS_FILE):
            on_total(sheet.total)
            importer.add_sheet(sheet, progress)
    return report


# ---------------------------------------------------------------- example


EXAMPLE_ROWS: list[tuple[str, ...]] = [
    (
        "PT-XF",
        "社区消防安全知识培训",
        "培训课程",
        "安全应急/消防安全",
        "消防、灭火器、逃生",
        "消防员到社区讲解家庭火灾预防、灭火器使用和高层住宅逃生要点，并现场演练。",
        "讲解家庭常见火灾隐患：电动自行车入户充电、厨房用火、老旧电线。\n"
        "现场演示干粉灭火器和消防软管卷盘的使用，居民分组实操。",
        "老城区、新城区",
        "",
        "到社区",
        "2",
        "7",
        "20",
        "60",
        "免费",
        "唐亮",
        "021-52560119",
        "按场次",
        "",
        "2026-12-05 14:00-16:00@社区活动室#40；2026-12-12 09:30-11:30@社区活动室#40",
    ),
    (
        "PT-MZ",
        "居民议事会主持技巧培训",
        "培训课程",
        "社区议事",
        "议事会、协商",
        "面向居委会书记和社工，讲授居民议事会的议题收集、会议主持和共识形成方法。",
        "",
        "",
        "310107015000、310107016000",
        "到部门场地",
        "3",
        "10",
        "10",
        "40",
        "0",
        "李强",
        "021-52564588",
        "按需预约",
        "4",
        "",
    ),
]


def example_workbook() -> bytes:
    """An XLSX of offerings with every column and the example rows."""
    return example_xlsx([(OFFERINGS_SHEET, EXAMPLE_ROWS)])
