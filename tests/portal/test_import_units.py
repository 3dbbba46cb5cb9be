"""Bulk import of regions, departments and accounts: what an administrator sees
when a file is good, when rows are bad, on a dry run and on a re-import."""

import csv
import re
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from portal.importers import (
    KIND_LABELS,
    ImportFileError,
    example_workbook,
    import_units_file,
)
from portal.models import (
    CommunityType,
    Department,
    DepartmentKind,
    ImportRun,
    Region,
    RegionLevel,
    Role,
    User,
)
from portal.roles import ROLE_GROUP_NAMES
from tests.conftest import PASSWORD
from tests.factories import (
    CommunityFactory,
    DepartmentFactory,
    DistrictFactory,
    OrganizationDepartmentFactory,
    StreetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

REGION_HEADER = [
    "区划代码",
    "区划名称",
    "层级",
    "上级区划代码",
    "社区类型",
    "户数",
    "人口",
]
DEPARTMENT_HEADER = ["部门代码", "部门名称", "条线", "服务区域代码", "单位类别"]
ACCOUNT_HEADER = ["用户名", "姓名", "单位代码", "角色", "邮箱", "手机"]

NEW_PASSWORD = "Tianshan-new-pass-2024"


def region(
    code, name, level, parent="", community_type="", households="", population=""
):
    return [code, name, level, parent, community_type, households, population]


CITY = region("310100000000", "上海市", "市")
DISTRICT = region("310107000000", "普陀区", "区县", "310100000000")
OTHER_DISTRICT = region("310105000000", "长宁区", "区县", "310100000000")
STREET = region("310107015000", "长风新村街道", "街镇", "310107000000")
COMMUNITY = region(
    "310107015001",
    "天山新村第一居委会",
    "社区",
    "310107015000",
    "老城区",
    "1820",
    "4310",
)
TREE = [CITY, DISTRICT, STREET, COMMUNITY]

DEPARTMENTS = [
    ["PT-MZ", "普陀区民政局", "民政", "310107000000", "职能部门"],
    ["PT-ZZB", "中共普陀区委组织部", "", "310107000000", "组织部"],
]
ACCOUNTS = [
    [
        "tianshan1",
        "王丽",
        "310107015001",
        "社区工作者",
        "wangli@example.cn",
        "13800000001",
    ],
    ["ptmz_li", "李强", "PT-MZ", "部门经办人", "liqiang@example.cn", ""],
]


def write_csv(path: Path, header, rows, *, encoding="utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """One worksheet per entry, in the given order; the first row is the header."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def import_csv(tmp_path, header, rows, *, dry_run=False, name="units.csv", **kwargs):
    return import_units_file(
        write_csv(tmp_path / name, header, rows), dry_run=dry_run, **kwargs
    )


def full_workbook(path: Path) -> Path:
    """Regions, departments and accounts, with the sheets deliberately out of order."""
    return write_xlsx(
        path,
        {
            "账号": [ACCOUNT_HEADER, *ACCOUNTS],
            "部门": [DEPARTMENT_HEADER, *DEPARTMENTS],
            "区划": [REGION_HEADER, *TREE],
        },
    )


def counts():
    return Region.objects.count(), Department.objects.count(), User.objects.count()


def where(report):
    return [(error.row, error.column) for error in report.errors]


def assert_nothing_written(before, report):
    assert not report.ok
    assert counts() == before
    assert not report.invitations
    assert not ImportRun.objects.exists()
    assert all(error.message for error in report.errors)


def relative(url: str) -> str:
    return urlsplit(url).path


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


# ---------------------------------------------------------------- good files


def test_csv_of_regions_builds_the_tree_with_every_ancestor_column(tmp_path):
    report = import_csv(tmp_path, REGION_HEADER, TREE)

    assert report.ok, report.errors
    assert report.created["regions"] == 4
    city = Region.objects.get(code="310100000000")
    district = Region.objects.get(code="310107000000")
    street = Region.objects.get(code="310107015000")
    community = Region.objects.get(code="310107015001")
    assert (city.level, city.parent, city.city) == (RegionLevel.CITY, None, None)
    assert (district.parent, district.city, district.district) == (city, city, None)
    assert (street.parent, street.city, street.district, street.street) == (
        district,
        city,
        district,
        None,
    )
    assert (community.parent, community.city, community.district, community.street) == (
        street,
        city,
        district,
        street,
    )
    assert community.name == "天山新村第一居委会"
    assert community.community_type == CommunityType.OLD_URBAN
    assert (community.households, community.population) == (1820, 4310)
    assert street.community_type == ""


def test_xlsx_sheets_are_imported_regions_then_departments_then_accounts(tmp_path):
    report = import_units_file(full_workbook(tmp_path / "units.xlsx"), dry_run=False)

    assert report.ok, report.errors
    assert report.created == {"regions": 4, "departments": 2, "accounts": 2}
    civil = Department.objects.get(code="PT-MZ")
    assert (civil.kind, civil.family.name, civil.region.code) == (
        DepartmentKind.FUNCTIONAL,
        "民政",
        "310107000000",
    )
    organization = Department.objects.get(code="PT-ZZB")
    assert (organization.kind, organization.family) == (
        DepartmentKind.ORGANIZATION,
        None,
    )
    operator = User.objects.get(username="tianshan1")
    assert (
        operator.name,
        operator.role,
        operator.region.code,
        operator.department,
    ) == (
        "王丽",
        Role.COMMUNITY_OPERATOR,
        "310107015001",
        None,
    )
    assert (operator.email, operator.phone) == ("wangli@example.cn", "13800000001")
    publisher = User.objects.get(username="ptmz_li")
    assert (publisher.role, publisher.department, publisher.region) == (
        Role.DEPARTMENT_PUBLISHER,
        civil,
        None,
    )


def test_imported_accounts_get_their_role_group_and_no_usable_password(tmp_path):
    import_units_file(full_workbook(tmp_path / "units.xlsx"), dry_run=False)

    for username, role in [
        ("tianshan1", Role.COMMUNITY_OPERATOR),
        ("ptmz_li", Role.DEPARTMENT_PUBLISHER),
    ]:
        user = User.objects.get(username=username)
        assert ROLE_GROUP_NAMES[role] in user.groups.values_list("name", flat=True)
        assert not user.has_usable_password()
    publisher = User.objects.get(username="ptmz_li")
    assert publisher.has_perm("wagtailadmin.access_admin")
    # …and the catalog put the publisher in its department's own group.
    assert publisher.groups.filter(name="普陀区民政局·经办人").exists()


def test_each_new_account_gets_a_set_password_link(tmp_path):
    report = import_units_file(full_workbook(tmp_path / "units.xlsx"), dry_run=False)

    assert [(i.username, i.name, i.email) for i in report.invitations] == [
        ("tianshan1", "王丽", "wangli@example.cn"),
        ("ptmz_li", "李强", "liqiang@example.cn"),
    ]
    assert all("/accounts/activate/" in i.url for i in report.invitations)
    assert len({i.url for i in report.invitations}) == 2


def test_invitation_link_sets_a_password_once_and_the_account_can_then_sign_in(
    tmp_path, client
):
    report = import_units_file(full_workbook(tmp_path / "units.xlsx"), dry_run=False)
    link = relative(
        next(i.url for i in report.invitations if i.username == "tianshan1")
    )

    assert sign_in(client, "tianshan1", NEW_PASSWORD).status_code == 200  # not yet

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"]
    set_password = client.post(
        form_page.redirect_chain[-1][0],  # the token moves to the session
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert set_password.status_code == 302
    assert User.objects.get(username="tianshan1").check_password(NEW_PASSWORD)

    client.logout()
    signed_in = sign_in(client, "tianshan1", NEW_PASSWORD)
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(
        User.objects.get(username="tianshan1").pk
    )

    client.logout()
    again = client.get(link, follow=True)
    assert not again.context["validlink"]


def test_csv_saved_as_gb18030_by_excel_is_read(tmp_path):
    report = import_units_file(
        write_csv(tmp_path / "gb.csv", REGION_HEADER, TREE, encoding="gb18030"),
        dry_run=False,
    )

    assert report.ok, report.errors
    assert Region.objects.get(code="310107015001").name == "天山新村第一居委会"
    assert Region.objects.get(code="310107015000").name == "长风新村街道"


def test_csv_with_a_utf8_byte_order_mark_is_read(tmp_path):
    report = import_units_file(
        write_csv(tmp_path / "bom.csv", REGION_HEADER, TREE, encoding="utf-8-sig"),
        dry_run=False,
    )

    assert report.ok, report.errors
    assert Region.objects.count() == 4


def test_codes_and_counts_typed_as_numbers_in_xlsx_work(tmp_path):
    rows = [
        [310100000000, "上海市", "市", None, None, None, None],
        [310107000000, "普陀区", "区县", 310100000000, None, None, None],
        [310107015000, "长风新村街道", "街镇", 310107000000, None, None, None],
        [
            310107015001,
            "天山新村第一居委会",
            "社区",
            310107015000,
            "老城区",
            1820,
            4310.0,
        ],
    ]
    accounts = [[10086, "王丽", 310107015001, "社区工作者", None, 13800000001]]
    path = write_xlsx(
        tmp_path / "numbers.xlsx",
        {"区划": [REGION_HEADER, *rows], "账号": [ACCOUNT_HEADER, *accounts]},
    )

    report = import_units_file(path, dry_run=False)

    assert report.ok, report.errors
    community = Region.objects.get(code="310107015001")
    assert community.street.code == "310107015000"
    assert (community.households, community.population) == (1820, 4310)
    user = User.objects.get(username="10086")
    assert (user.region, user.phone) == (community, "13800000001")


def test_english_headers_are_accepted_and_errors_name_them(tmp_path):
    header = ["region_code", "region_name", "level", "parent_code", "community_type"]
    rows = [
        ["310100000000", "上海市", "city", "", ""],
        ["310107000000", "普陀区", "district", "310199000000", ""],
    ]

    report = import_csv(tmp_path, header, rows)

    assert where(report) == [(3, "parent_code")]
    assert Region.objects.count() == 0


def test_blank_rows_are_skipped(tmp_path):
    report = import_csv(tmp_path, REGION_HEADER, [CITY, [""] * 7, DISTRICT, []])

    assert report.ok, report.errors
    assert report.rows == 2
    assert Region.objects.count() == 2


def test_example_workbook_imports_cleanly(tmp_path):
    path = tmp_path / "example.xlsx"
    path.write_bytes(example_workbook())

    report = import_units_file(path, dry_run=False)

    assert report.ok, report.errors
    assert report.created["regions"] >= 4
    assert report.created["departments"] >= 1
    assert report.created["accounts"] >= 1
    assert len(report.invitations) == report.created["accounts"]


# ---------------------------------------------------------------- bad region rows


REGION_ERRORS = [
    pytest.param(
        [CITY, DISTRICT, region("310107016000", "新街道", "街镇", "310107099000")],
        [(4, "上级区划代码")],
        id="unknown-parent-code",
    ),
    pytest.param(
        [CITY, DISTRICT, region("310107015000", "", "街镇", "310107000000"), COMMUNITY],
        [(4, "区划名称"), (5, "上级区划代码")],
        id="parent-with-errors-earlier",
    ),
    pytest.param(
        [
            CITY,
            DISTRICT,
            region("310107000000", "普陀区（重复）", "区县", "310100000000"),
        ],
        [(4, "区划代码")],
        id="duplicate-code-in-file",
    ),
    pytest.param(
        [CITY, region("310107015000", "长风新村街道", "街镇", "310100000000")],
        [(3, "上级区划代码")],
        id="street-directly-under-a-city",
    ),
    pytest.param(
        [*TREE, region("310107015002", "第二居委会", "社区", "310107015001", "老城区")],
        [(6, "上级区划代码")],
        id="region-under-a-community",
    ),
    pytest.param(
        [CITY, region("310107000000", "", "区县", "310100000000")],
        [(3, "区划名称")],
        id="missing-name",
    ),
    pytest.param(
        [CITY, region("31010700000", "普陀区", "区县", "310100000000")],
        [(3, "区划代码")],
        id="code-of-11-digits",
    ),
    pytest.param(
        [CITY, region("3101070000AB", "普陀区", "区县", "310100000000")],
        [(3, "区划代码")],
        id="code-with-letters",
    ),
    pytest.param(
        [CITY, region("310107000000", "普陀区", "省", "310100000000")],
        [(3, "层级")],
        id="unknown-level-word",
    ),
    pytest.param(
        [CITY, DISTRICT, STREET, [*COMMUNITY[:4], "城中村", "", ""]],
        [(5, "社区类型")],
        id="unknown-community-type",
    ),
    pytest.param(
        [CITY, DISTRICT, STREET, [*COMMUNITY[:4], "", "", ""]],
        [(5, "社区类型")],
        id="community-without-type",
    ),
    pytest.param(
        [
            CITY,
            DISTRICT,
            region("310107015000", "长风新村街道", "街镇", "310107000000", "老城区"),
        ],
        [(4, "社区类型")],
        id="type-on-a-street",
    ),
    pytest.param(
        [CITY, DISTRICT, STREET, [*COMMUNITY[:5], "约1800", "4310"]],
        [(5, "户数")],
        id="households-not-a-number",
    ),
    pytest.param(
        [CITY, DISTRICT, STREET, [*COMMUNITY[:6], "-5"]],
        [(5, "人口")],
        id="negative-population",
    ),
    pytest.param(
        [CITY, region("320100000000", "南京市", "市", "310100000000")],
        [(3, "上级区划代码")],
        id="city-with-a-parent",
    ),
    pytest.param(
        [CITY, region("310107000000", "普陀区", "区县", "")],
        [(3, "上级区划代码")],
        id="district-without-parent",
    ),
    pytest.param(
        [CITY, DISTRICT, COMMUNITY, STREET],
        [(4, "上级区划代码")],
        id="parent-on-a-later-row",
    ),
]


@pytest.mark.parametrize(("rows", "expected"), REGION_ERRORS)
def test_bad_region_row_is_reported_at_its_row_and_column_and_nothing_is_written(
    tmp_path, rows, expected
):
    before = counts()

    report = import_csv(tmp_path, REGION_HEADER, rows)

    assert where(report) == expected
    assert report.error_count == len(expected)
    assert_nothing_written(before, report)


def test_error_for_a_child_of_a_bad_row_points_to_that_row(tmp_path):
    rows = [
        CITY,
        DISTRICT,
        region("310107015000", "", "街镇", "310107000000"),
        COMMUNITY,
    ]

    report = import_csv(tmp_path, REGION_HEADER, rows)

    assert "4" in report.errors[1].message


def test_duplicate_code_error_points_to_the_first_row(tmp_path):
    rows = [
        CITY,
        DISTRICT,
        region("310107000000", "普陀区（重复）", "区县", "310100000000"),
    ]

    report = import_csv(tmp_path, REGION_HEADER, rows)

    assert "3" in report.errors[0].message


def test_a_parent_on_a_later_row_is_reported_as_unknown_not_as_a_community(tmp_path):
    """Parents must come first; the message must say so, not blame a community."""
    unknown = import_csv(
        tmp_path, REGION_HEADER, [CITY, DISTRICT, COMMUNITY], name="unknown.csv"
    )
    later = import_csv(tmp_path, REGION_HEADER, [CITY, DISTRICT, COMMUNITY, STREET])

    assert where(later) == [(4, "上级区划代码")]
    assert later.errors[0].message == unknown.errors[0].message


def test_error_value_shows_the_cell_as_typed(tmp_path):
    rows = [CITY, DISTRICT, STREET, [*COMMUNITY[:5], "约1800", "4310"]]

    report = import_csv(tmp_path, REGION_HEADER, rows)

    assert report.errors[0].value == "约1800"


def test_reimport_cannot_change_a_regions_level(tmp_path):
    import_csv(tmp_path, REGION_HEADER, [CITY, DISTRICT], name="first.csv")
    before = counts()

    report = import_csv(
        tmp_path,
        REGION_HEADER,
        [CITY, region("310107000000", "普陀区", "街镇", "310100000000")],
    )

    assert where(report) == [(3, "层级")]
    assert report.errors[0].value == "街镇"
    assert counts() == before
    assert Region.objects.get(code="310107000000").level == RegionLevel.DISTRICT


# ---------------------------------------------------------------- bad department rows


@pytest.fixture
def units(db):
    """Existing units for department and account rows to refer to."""
    district = DistrictFactory()
    street = StreetFactory(parent=district)
    community = CommunityFactory(parent=street)
    department = DepartmentFactory(region=district)
    organization = OrganizationDepartmentFactory(code="ORG-1", region=district)
    return {
        "district": district,
        "street": street,
        "community": community,
        "department": department,
        "organization": organization,
    }


DEPARTMENT_ERRORS = [
    pytest.param(
        ["PT-XX", "普陀区宇航局", "宇航", "{district}", "职能部门"],
        "条线",
        id="unknown-family",
    ),
    pytest.param(
        ["310107000001", "普陀区卫健委", "卫健", "{district}", "职能部门"],
        "部门代码",
        id="department-code-of-12-digits",
    ),
    pytest.param(
        ["PT-WJ", "普陀区卫健委", "卫健", "310199000000", "职能部门"],
        "服务区域代码",
        id="unknown-region-code",
    ),
    pytest.param(
        ["PT-WJ", "居委会卫生室", "卫健", "{community}", "职能部门"],
        "服务区域代码",
        id="region-is-a-community",
    ),
    pytest.param(
        ["PT-WJ", "普陀区卫健委", "", "{district}", "职能部门"],
        "条线",
        id="functional-without-family",
    ),
    pytest.param(
        ["PT-WJ", "普陀区卫健委", "卫健", "{district}", "事业单位"],
        "单位类别",
        id="unknown-unit-kind",
    ),
    pytest.param(
        ["PT-WJ", "", "卫健", "{district}", "职能部门"], "部门名称", id="missing-name"
    ),
    pytest.param(
        ["PT-MZ", "普陀区民政局（重复）", "民政", "{district}", "职能部门"],
        "部门代码",
        id="duplicate-code-in-file",
    ),
]


@pytest.mark.parametrize(("bad_row", "column"), DEPARTMENT_ERRORS)
def test_bad_department_row_is_reported_and_nothing_is_written(
    tmp_path, units, bad_row, column
):
    codes = {"district": units["district"].code, "community": units["community"].code}
    good = ["PT-MZ", "普陀区民政局", "民政", units["district"].code, "职能部门"]
    before = counts()

    report = import_csv(
        tmp_path, DEPARTMENT_HEADER, [good, [cell.format(**codes) for cell in bad_row]]
    )

    assert where(report) == [(3, column)]
    assert_nothing_written(before, report)
    assert not Department.objects.filter(code="PT-MZ").exists()


# ---------------------------------------------------------------- bad account rows


ACCOUNT_ERRORS = [
    pytest.param(
        ["li", "李明", "NO-SUCH-UNIT", "社区工作者", "", ""],
        "单位代码",
        id="unknown-unit-code",
    ),
    pytest.param(
        ["li", "李明", "{department}", "社区工作者", "", ""],
        "角色",
        id="community-operator-on-a-department",
    ),
    pytest.param(
        ["li", "李明", "{community}", "街道", "", ""],
        "角色",
        id="street-office-on-a-community",
    ),
    pytest.param(
        ["li", "李明", "{organization}", "部门经办人", "", ""],
        "角色",
        id="publisher-on-the-organization-department",
    ),
    pytest.param(
        ["li", "李明", "{department}", "组织部", "", ""],
        "角色",
        id="organization-role-on-a-functional-department",
    ),
    pytest.param(
        ["wangli", "另一个王丽", "{community}", "社区工作者", "", ""],
        "用户名",
        id="duplicate-username-in-file",
    ),
    pytest.param(
        ["li", "李明", "{community}", "社区工作者", "li@", ""],
        "邮箱",
        id="invalid-email",
    ),
    pytest.param(
        ["li", "李明", "{community}", "书记", "", ""], "角色", id="unknown-role"
    ),
    pytest.param(
        ["li ming!", "李明", "{community}", "社区工作者", "", ""],
        "用户名",
        id="invalid-username",
    ),
    pytest.param(
        ["li", "李明", "{community}", "社区工作者", "", "call me"],
        "手机",
        id="invalid-phone",
    ),
    pytest.param(
        ["li", "", "{community}", "社区工作者", "", ""], "姓名", id="missing-name"
    ),
]


@pytest.mark.parametrize(("bad_row", "column"), ACCOUNT_ERRORS)
def test_bad_account_row_is_reported_and_nothing_is_written(
    tmp_path, units, bad_row, column
):
    codes = {kind: unit.code for kind, unit in units.items()}
    good = [
        "wangli",
        "王丽",
        units["community"].code,
        "社区工作者",
        "wl@example.cn",
        "",
    ]
    before = counts()

    report = import_csv(
        tmp_path, ACCOUNT_HEADER, [good, [cell.format(**codes) for cell in bad_row]]
    )

    assert where(report) == [(3, column)]
    assert_nothing_written(before, report)
    assert not User.objects.filter(username="wangli").exists()


def test_role_error_shows_the_role_as_typed(tmp_path, units):
    rows = [["li", "李明", units["department"].code, "社区工作者", "", ""]]

    report = import_csv(tmp_path, ACCOUNT_HEADER, rows)

    assert where(report) == [(2, "角色")]
    assert report.errors[0].value == "社区工作者"


def test_account_row_can_refer_to_a_unit_created_earlier_in_the_same_workbook(tmp_path):
    path = write_xlsx(
        tmp_path / "units.xlsx",
        {
            "账号": [
                ACCOUNT_HEADER,
                ["jiedao", "赵敏", "310107015000", "街道", "", ""],
            ],
            "区划": [REGION_HEADER, *TREE],
        },
    )

    report = import_units_file(path, dry_run=False)

    assert report.ok, report.errors
    assert User.objects.get(username="jiedao").region.code == "310107015000"


# ---------------------------------------------------------------- whole-file problems


def test_unrecognised_header_is_reported_on_row_1(tmp_path):
    report = import_csv(tmp_path, ["编号", "名字"], [["1", "上海市"]])

    assert [error.row for error in report.errors] == [1]
    assert_nothing_written((0, 0, 0), report)


def test_missing_required_column_is_named(tmp_path):
    header = ["区划代码", "区划名称", "上级区划代码"]

    report = import_csv(tmp_path, header, [["310100000000", "上海市", ""]])

    assert where(report) == [(1, "层级")]
    assert_nothing_written((0, 0, 0), report)


def test_unsupported_extension_is_refused(tmp_path):
    path = tmp_path / "units.txt"
    path.write_text(
        "区划代码,区划名称,层级\n310100000000,上海市,市\n", encoding="utf-8"
    )

    with pytest.raises(ImportFileError) as refused:
        import_units_file(path, dry_run=False)

    assert str(refused.value)
    assert Region.objects.count() == 0


def test_broken_xlsx_is_refused(tmp_path):
    path = tmp_path / "units.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")

    with pytest.raises(ImportFileError) as refused:
        import_units_file(path, dry_run=False)

    assert str(refused.value)
    assert Region.objects.count() == 0


def test_every_bad_row_is_reported_in_one_run(tmp_path):
    rows = [
        CITY,
        region("310107000000", "普陀区", "省", "310100000000"),
        OTHER_DISTRICT,
        region("310105001000", "", "街镇", "310105000000"),
        region("31010500200", "某街道", "街镇", "310105000000"),
    ]

    report = import_csv(tmp_path, REGION_HEADER, rows)

    assert where(report) == [(3, "层级"), (5, "区划名称"), (6, "区划代码")]
    assert report.error_count == 3
    assert_nothing_written((0, 0, 0), report)


def test_errors_in_several_sheets_are_reported_together_with_the_sheet_name(tmp_path):
    path = write_xlsx(
        tmp_path / "units.xlsx",
        {
            "区划": [
                REGION_HEADER,
                CITY,
                region("310107000000", "", "区县", "310100000000"),
            ],
            "账号": [ACCOUNT_HEADER, ["li", "李明", "310100000000", "书记", "", ""]],
        },
    )

    report = import_units_file(path, dry_run=False)

    assert [(e.sheet, e.row, e.column) for e in report.errors] == [
        ("区划", 3, "区划名称"),
        ("账号", 2, "角色"),
    ]
    assert_nothing_written((0, 0, 0), report)


# ---------------------------------------------------------------- dry run and re-import


def test_dry_run_writes_nothing_but_reports_what_it_would_create(tmp_path):
    report = import_units_file(full_workbook(tmp_path / "units.xlsx"), dry_run=True)

    assert report.ok, report.errors
    assert report.dry_run and not report.committed
    assert report.created == {"regions": 4, "departments": 2, "accounts": 2}
    assert counts() == (0, 0, 0)
    assert not report.invitations
    assert not ImportRun.objects.exists()


def test_reimporting_the_same_file_updates_and_does_not_duplicate(tmp_path):
    path = full_workbook(tmp_path / "units.xlsx")
    import_units_file(path, dry_run=False)
    before = counts()

    report = import_units_file(path, dry_run=False)

    assert report.ok, report.errors
    assert sum(report.created.values()) == 0
    assert report.updated == {"regions": 4, "departments": 2, "accounts": 2}
    assert counts() == before
    assert not report.invitations


def test_duties_are_imported_and_kept_by_a_sheet_without_them(tmp_path):
    import_csv(tmp_path, REGION_HEADER, TREE, name="regions.csv")
    duties = "负责养老服务、社会救助和社区建设。"
    import_csv(
        tmp_path,
        [*DEPARTMENT_HEADER, "职责"],
        [[*DEPARTMENTS[0], duties]],
        name="with-duties.csv",
    )
    assert Department.objects.get(code="PT-MZ").duties == duties

    report = import_csv(
        tmp_path, DEPARTMENT_HEADER, [DEPARTMENTS[0]], name="without-duties.csv"
    )

    assert report.ok, report.errors
    assert Department.objects.get(code="PT-MZ").duties == duties


def test_reimport_with_a_changed_name_renames(tmp_path):
    import_csv(tmp_path, REGION_HEADER, TREE, name="first.csv")
    renamed = [*TREE[:3], [COMMUNITY[0], "天山一居", *COMMUNITY[2:]]]

    report = import_csv(tmp_path, REGION_HEADER, renamed)

    assert report.updated["regions"] == 4
    community = Region.objects.get(code="310107015001")
    assert community.name == "天山一居"
    assert community.street.code == "310107015000"


def test_moving_a_street_to_another_district_takes_its_communities_along(tmp_path):
    import_csv(tmp_path, REGION_HEADER, [*TREE, OTHER_DISTRICT], name="first.csv")
    moved = region("310107015000", "长风新村街道", "街镇", "310105000000")

    report = import_csv(tmp_path, REGION_HEADER, [moved])

    assert report.ok, report.errors
    other = Region.objects.get(code="310105000000")
    street = Region.objects.get(code="310107015000")
    community = Region.objects.get(code="310107015001")
    assert (street.parent, street.district) == (other, other)
    assert (community.street, community.district, community.city.code) == (
        street,
        other,
        "310100000000",
    )
    assert list(Region.objects.filter(district=other).order_by("code")) == [
        street,
        community,
    ]


def test_moving_a_district_to_another_city_takes_its_streets_and_communities_along(
    tmp_path,
):
    other_city = region("320100000000", "南京市", "市")
    import_csv(tmp_path, REGION_HEADER, [*TREE, other_city], name="first.csv")

    report = import_csv(
        tmp_path,
        REGION_HEADER,
        [region("310107000000", "普陀区", "区县", "320100000000")],
    )

    assert report.ok, report.errors
    nanjing = Region.objects.get(code="320100000000")
    for code in ("310107000000", "310107015000", "310107015001"):
        assert Region.objects.get(code=code).city == nanjing, code
    assert Region.objects.get(code="310107015001").district.code == "310107000000"


def test_reimported_account_keeps_its_password_and_takes_the_new_role_and_unit(
    tmp_path,
):
    path = full_workbook(tmp_path / "units.xlsx")
    import_units_file(path, dry_run=False)
    user = User.objects.get(username="tianshan1")
    user.set_password(NEW_PASSWORD)
    user.save()
    moved = ["tianshan1", "王丽", "310107015000", "街道", "wangli@example.cn", ""]

    report = import_csv(tmp_path, ACCOUNT_HEADER, [moved])

    assert report.ok, report.errors
    assert report.updated["accounts"] == 1 and not report.created["accounts"]
    assert not report.invitations
    user = User.objects.get(username="tianshan1")
    assert user.check_password(NEW_PASSWORD)
    assert (user.role, user.region.code, user.department) == (
        Role.STREET_OFFICE,
        "310107015000",
        None,
    )
    assert list(user.groups.values_list("name", flat=True)) == [
        ROLE_GROUP_NAMES[Role.STREET_OFFICE]
    ]


def test_account_moved_from_a_department_to_a_community(tmp_path, units):
    user = UserFactory(
        username="mover",
        role=Role.DEPARTMENT_PUBLISHER,
        region=None,
        department=units["department"],
    )
    rows = [["mover", "王丽", units["community"].code, "社区工作者", "", ""]]

    report = import_csv(tmp_path, ACCOUNT_HEADER, rows)

    assert report.ok, report.errors
    user.refresh_from_db()
    assert (user.region, user.department) == (units["community"], None)
    assert user.check_password(PASSWORD)
    assert not user.has_perm("wagtailadmin.access_admin")


# ---------------------------------------------------------------- import runs and mail


def test_committed_import_is_recorded_with_who_ran_it(tmp_path, administrator):
    report = import_units_file(
        full_workbook(tmp_path / "units.xlsx"),
        dry_run=False,
        actor=administrator,
        file_name="普陀区.xlsx",
    )

    run = ImportRun.objects.get()
    assert (run.user, run.file_name, run.rows) == (
        administrator,
        "普陀区.xlsx",
        report.rows,
    )
    assert run.created == {"regions": 4, "departments": 2, "accounts": 2}


def test_no_import_run_is_recorded_for_a_dry_run_or_a_file_with_errors(
    tmp_path, administrator
):
    import_units_file(
        full_workbook(tmp_path / "good.xlsx"), dry_run=True, actor=administrator
    )
    import_csv(
        tmp_path, REGION_HEADER, [CITY, [*DISTRICT[:3], ""]], actor=administrator
    )

    assert not ImportRun.objects.exists()


def test_invitations_are_mailed_only_after_a_committed_import(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_MAIL_INVITATIONS = True
    path = full_workbook(tmp_path / "units.xlsx")

    with django_capture_on_commit_callbacks(execute=True):
        import_units_file(path, dry_run=True)
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        import_units_file(path, dry_run=False)
    assert sorted(message.to[0] for message in mail.outbox) == [
        "liqiang@example.cn",
        "wangli@example.cn",
    ]


# ---------------------------------------------------------------- the command


def run_command(*args):
    out, err = StringIO(), StringIO()
    call_command(
        "import_units", *map(str, args), "--no-progress", stdout=out, stderr=err
    )
    return out.getvalue()


def summary_line(output: str, kind: str) -> str:
    """The first number on the summary line of ``kind``: the rows created."""
    label = str(KIND_LABELS[kind])
    line = next(line for line in output.splitlines() if line.startswith(label))
    return re.search(r"\d+", line).group()


def line_about(output: str, row: int, column: str) -> str | None:
    """The output line reporting ``row`` and ``column``, whatever the language."""
    number = re.compile(rf"(?<!\d){row}(?!\d)")
    return next(
        (
            line
            for line in output.splitlines()
            if column in line and number.search(line)
        ),
        None,
    )


def test_command_imports_and_prints_a_summary_and_the_set_password_links(
    tmp_path, client
):
    output = run_command(full_workbook(tmp_path / "units.xlsx"))

    assert counts() == (4, 2, 2)
    assert ImportRun.objects.get().file_name == "units.xlsx"
    assert summary_line(output, "regions") == "4"
    assert summary_line(output, "accounts") == "2"
    links = re.findall(r"https?://\S+/accounts/activate/\S+", output)
    assert len(links) == 2
    line = next(line for line in output.splitlines() if "tianshan1" in line)
    link = relative(re.search(r"https?://\S+", line).group())
    assert client.get(link, follow=True).context["validlink"]


def test_command_with_errors_prints_each_bad_row_and_fails(tmp_path):
    rows = [CITY, region("310107000000", "普陀区", "省", "310100000000"), STREET]
    path = write_csv(tmp_path / "bad.csv", REGION_HEADER, rows)
    out = StringIO()

    with pytest.raises(CommandError):
        call_command(
            "import_units", str(path), "--no-progress", stdout=out, stderr=StringIO()
        )

    output = out.getvalue()
    assert line_about(output, 3, "层级")
    assert line_about(output, 4, "上级区划代码")
    assert "省" in output
    assert Region.objects.count() == 0


def test_command_dry_run_writes_nothing(tmp_path):
    output = run_command(full_workbook(tmp_path / "units.xlsx"), "--dry-run")

    assert counts() == (0, 0, 0)
    assert not ImportRun.objects.exists()
    assert "/accounts/activate/" not in output
    assert summary_line(output, "regions") == "4"  # what it would create


def test_command_records_the_user_who_ran_it(tmp_path, administrator):
    run_command(
        write_csv(tmp_path / "t.csv", REGION_HEADER, TREE),
        "--user",
        administrator.username,
    )

    assert ImportRun.objects.get().user == administrator


def test_command_refuses_an_unknown_user_a_missing_file_and_a_txt_file(tmp_path):
    txt = tmp_path / "units.txt"
    txt.write_text("区划代码\n", encoding="utf-8")
    good = write_csv(tmp_path / "t.csv", REGION_HEADER, TREE)

    for args in ([good, "--user", "nobody"], [tmp_path / "missing.csv"], [txt]):
        with pytest.raises(CommandError):
            run_command(*args)
    assert Region.objects.count() == 0


def test_empty_extra_sheet_in_a_workbook_is_ignored(tmp_path):
    path = write_xlsx(
        tmp_path / "units.xlsx", {"Sheet1": [], "区划": [REGION_HEADER, *TREE]}
    )

    report = import_units_file(path, dry_run=False)

    assert report.ok, report.errors
    assert Region.objects.count() == 4


def test_xlsx_error_row_numbers_match_excel_rows_across_blank_rows(tmp_path):
    rows = [
        REGION_HEADER,
        CITY,
        [None] * 7,
        [None] * 7,
        [*DISTRICT[:3], "310199000000"],
    ]
    path = write_xlsx(tmp_path / "units.xlsx", {"区划": rows})

    report = import_units_file(path, dry_run=False)

    assert [(e.sheet, e.row, e.column) for e in report.errors] == [
        ("区划", 5, "上级区划代码")
    ]
