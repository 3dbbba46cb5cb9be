"""Bulk import of offerings: a department's spreadsheet becomes offering pages
under its department page, as drafts or published, all rows or none."""

import csv
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from catalog.importers import (
    COLUMNS,
    ERROR_BOOKED_SESSION_MISSING,
    ERROR_CAPACITY_NEEDED,
    ERROR_MAY_NOT_PUBLISH,
    ERROR_MIN_ABOVE_MAX,
    ERROR_NO_CATALOG_PAGE,
    ERROR_OTHER_DEPARTMENT,
    ERROR_UNKNOWN_CATEGORY,
    ERROR_UNKNOWN_DEPARTMENT,
    import_offerings_file,
)
from catalog.models import (
    Availability,
    DeliveryMode,
    DepartmentPage,
    OfferingKind,
    OfferingPage,
    OfferingSession,
)
from catalog.services import department_catalog_sync, department_staff_groups_sync
from portal.models import Role
from tests.factories import (
    DepartmentFactory,
    OrganizationDepartmentFactory,
    StreetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HEADER = [aliases[0] for aliases in COLUMNS.values()]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def corner(department):
    department_catalog_sync(department_ids=[department.pk])
    return DepartmentPage.objects.get(department=department)


def staff(department, role):
    user = UserFactory(role=role, region=None, department=department)
    department_staff_groups_sync(user_ids=[user.pk])
    return user


@pytest.fixture
def page(street):
    return corner(DepartmentFactory(code="PT-XF", region=street.district))


def soon(days=10, hour=14):
    moment = timezone.localtime() + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def session_cell(start, hours=2, place="社区活动室", seats=30):
    return (
        f"{start:%Y-%m-%d %H:%M}-{start + timedelta(hours=hours):%H:%M}@{place}#{seats}"
    )


def row(**values):
    base = {
        "部门代码": "PT-XF",
        "项目名称": "社区消防安全知识培训",
        "类别": "培训课程",
        "分类": "安全应急/消防安全",
        "标签": "消防、灭火器",
        "摘要": "消防员到社区讲解火灾预防和灭火器使用。",
        "正文": "讲解家庭常见火灾隐患。\n现场演示灭火器使用。",
        "适用社区类型": "老城区、新城区",
        "服务街镇": "",
        "服务方式": "到社区",
        "时长(小时)": "2",
        "提前天数": "7",
        "最少人数": "20",
        "最多人数": "60",
        "费用(元)": "免费",
        "联系人": "唐亮",
        "联系电话": "021-52560119",
        "供给方式": "按场次",
        "每月可接单数": "",
        "场次": session_cell(soon()),
    }
    base.update(values)
    return [base[column] for column in HEADER]


def write_csv(tmp_path: Path, rows, name="offerings.csv") -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def write_xlsx(tmp_path: Path, rows, name="offerings.xlsx") -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "项目清单"
    sheet.append(HEADER)
    for values in rows:
        sheet.append(values)
    path = tmp_path / name
    workbook.save(path)
    return path


def errors_of(report):
    return [(e.row, e.column, e.message) for e in report.errors]


# ---------------------------------------------------------------- good files


def test_a_good_csv_becomes_a_draft_offering_under_its_department(tmp_path, page):
    report = import_offerings_file(write_csv(tmp_path, [row()]), dry_run=False)

    assert report.ok, report.errors
    offering = OfferingPage.objects.get()
    assert offering.get_parent().pk == page.pk
    assert not offering.live
    assert offering.has_unpublished_changes
    draft = offering.get_latest_revision_as_object()
    assert draft.kind == OfferingKind.TRAINING
    assert draft.category.name == "消防安全"
    assert draft.delivery_mode == DeliveryMode.AT_COMMUNITY
    assert draft.fee == 0
    assert draft.whole_area
    assert {t.label for t in draft.target_community_types.all()} == {"老城区", "新城区"}
    assert sorted(t.name for t in draft.tags.all()) == ["消防", "灭火器"]
    assert [block.block_type for block in draft.body] == ["paragraph", "paragraph"]
    assert OfferingSession.objects.get(offering=offering).seats == 30
    assert report.created["offerings"] == 1


def test_a_good_xlsx_imports_too_and_streets_restrict_the_area(tmp_path, page, street):
    other_street = StreetFactory(parent=street.district)
    path = write_xlsx(
        tmp_path,
        [
            row(服务街镇=f"{street.code}、{other_street.name}"),
            row(
                项目名称="应急照明设备借用",
                类别="设备",
                分类="应急演练",
                供给方式="按需预约",
                每月可接单数="5",
                场次="",
                最少人数="",
                最多人数="",
            ),
        ],
    )

    report = import_offerings_file(path, dry_run=False, publish=True)

    assert report.ok, report.errors
    training = OfferingPage.objects.get(title="社区消防安全知识培训")
    assert training.live
    assert not training.whole_area
    assert set(training.service_streets.all()) == {street, other_street}
    lending = OfferingPage.objects.get(title="应急照明设备借用")
    assert lending.availability == Availability.ON_REQUEST
    assert lending.monthly_capacity == 5
    assert lending.is_shared_resource


def test_a_dry_run_checks_everything_and_writes_nothing(tmp_path, page):
    report = import_offerings_file(write_csv(tmp_path, [row()]), dry_run=True)

    assert report.ok
    assert report.created["offerings"] == 1
    assert not OfferingPage.objects.exists()


def test_english_headers_are_accepted(tmp_path, page):
    path = tmp_path / "en.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([aliases[-1] for aliases in COLUMNS.values()])
        writer.writerow(row())
    report = import_offerings_file(path, dry_run=False)
    assert report.ok, report.errors
    assert OfferingPage.objects.count() == 1


# ---------------------------------------------------------------- bad rows


BAD_ROWS = [
    ({"部门代码": "NOPE"}, "部门代码", ERROR_UNKNOWN_DEPARTMENT),
    ({"分类": "安全应急/不存在"}, "分类", ERROR_UNKNOWN_CATEGORY),
    ({"分类": "安全应急"}, "分类", None),
    ({"类别": "讲座"}, "类别", None),
    ({"服务方式": "快递"}, "服务方式", None),
    ({"适用社区类型": "郊区"}, "适用社区类型", None),
    ({"服务街镇": "999999999000"}, "服务街镇", None),
    ({"场次": "下周三下午#30"}, "场次", None),
    ({"场次": "2026-02-30 14:00-16:00#30"}, "场次", None),
    ({"场次": "2026-12-05 16:00-14:00#30"}, "场次", None),
    ({"场次": "2026-12-05 14:00-16:00@活动室#0"}, "场次", None),
    ({"最少人数": "80"}, "最少人数", ERROR_MIN_ABOVE_MAX),
    ({"最多人数": "很多"}, "最多人数", None),
    ({"时长(小时)": "1.25"}, "时长(小时)", None),
    ({"费用(元)": "-5"}, "费用(元)", None),
    ({"供给方式": "按需预约", "场次": ""}, "每月可接单数", ERROR_CAPACITY_NEEDED),
    ({"供给方式": "按需预约", "每月可接单数": "3"}, "场次", None),
    ({"供给方式": "随便"}, "供给方式", None),
    ({"摘要": ""}, "摘要", None),
    ({"摘要": "长" * 301}, "摘要", None),
    ({"联系电话": "call me"}, "联系电话", None),
]


@pytest.mark.parametrize(("values", "column", "message"), BAD_ROWS)
def test_each_bad_row_is_reported_and_nothing_is_written(
    tmp_path, page, values, column, message
):
    path = write_csv(tmp_path, [row(项目名称="好的一行"), row(**values)])

    report = import_offerings_file(path, dry_run=False, publish=True)

    assert [(e.row, e.column) for e in report.errors] == [(3, column)]
    if message is not None:
        assert report.errors[0].message == str(message)
    assert not OfferingPage.objects.exists()


def test_bad_rows_are_reported_with_their_value_in_chinese(tmp_path, page):
    report = import_offerings_file(
        write_csv(tmp_path, [row(类别="讲座")]), dry_run=True
    )
    error = report.errors[0]
    assert (error.row, error.column, error.value) == (2, "类别", "讲座")
    assert "培训课程" in error.message


def test_a_department_without_a_catalog_page_is_an_error(tmp_path, street):
    OrganizationDepartmentFactory(code="PT-ZZB", region=street.district)
    report = import_offerings_file(
        write_csv(tmp_path, [row(部门代码="PT-ZZB")]), dry_run=True
    )
    assert errors_of(report) == [(2, "部门代码", str(ERROR_NO_CATALOG_PAGE))]


def test_the_same_title_twice_in_one_department_is_an_error(tmp_path, page):
    report = import_offerings_file(write_csv(tmp_path, [row(), row()]), dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [(3, "项目名称")]


def test_a_file_without_the_title_column_is_rejected(tmp_path, page):
    path = tmp_path / "wrong.csv"
    path.write_text("部门代码,部门名称\nPT-XF,普陀区消防救援支队\n", encoding="utf-8")
    report = import_offerings_file(path, dry_run=True)
    assert not report.ok
    assert report.errors[0].row == 1


# ---------------------------------------------------------------- re-import


def test_re_import_updates_the_offering_and_keeps_booked_sessions(tmp_path, page):
    first, second = soon(10), soon(17)
    import_offerings_file(
        write_csv(
            tmp_path, [row(场次=f"{session_cell(first)}；{session_cell(second)}")]
        ),
        dry_run=False,
        publish=True,
    )
    booked = OfferingSession.objects.get(starts_at=first)
    OfferingSession.objects.filter(pk=booked.pk).update(seats_taken=12)
    later = soon(24)

    report = import_offerings_file(
        write_csv(
            tmp_path,
            [
                row(
                    摘要="新的简介",
                    场次=f"{session_cell(first, seats=50)}；{session_cell(later)}",
                )
            ],
        ),
        dry_run=False,
        publish=True,
    )

    assert report.ok, report.errors
    assert report.updated["offerings"] == 1
    offering = OfferingPage.objects.get()
    assert offering.summary == "新的简介"
    sessions = {s.starts_at: s for s in offering.sessions.all()}
    assert set(sessions) == {first, later}
    assert sessions[first].pk == booked.pk
    assert (sessions[first].seats, sessions[first].seats_taken) == (50, 12)


def test_re_import_cannot_drop_a_session_with_seats_taken(tmp_path, page):
    first = soon(10)
    import_offerings_file(
        write_csv(tmp_path, [row(场次=session_cell(first))]),
        dry_run=False,
        publish=True,
    )
    OfferingSession.objects.update(seats_taken=3)

    report = import_offerings_file(
        write_csv(tmp_path, [row(场次=session_cell(soon(20)))]),
        dry_run=False,
        publish=True,
    )

    assert not report.ok
    assert str(ERROR_BOOKED_SESSION_MISSING).split("%")[0] in report.errors[0].message
    assert OfferingSession.objects.get().starts_at == first


def test_a_draft_re_import_leaves_the_live_page_alone(tmp_path, page):
    import_offerings_file(write_csv(tmp_path, [row()]), dry_run=False, publish=True)
    import_offerings_file(
        write_csv(tmp_path, [row(摘要="草稿里的新简介")]), dry_run=False
    )
    offering = OfferingPage.objects.get()
    assert offering.live
    assert offering.summary != "草稿里的新简介"
    assert offering.has_unpublished_changes
    assert offering.get_latest_revision_as_object().summary == "草稿里的新简介"


# ---------------------------------------------------------------- who may import


def test_an_approver_publishes_for_their_department(tmp_path, page):
    approver = staff(page.department, Role.DEPARTMENT_APPROVER)
    report = import_offerings_file(
        write_csv(tmp_path, [row()]), dry_run=False, publish=True, actor=approver
    )
    assert report.ok, report.errors
    offering = OfferingPage.objects.get()
    assert offering.live
    assert offering.latest_revision.user == approver


def test_a_publisher_imports_drafts_but_may_not_publish(tmp_path, page):
    publisher = staff(page.department, Role.DEPARTMENT_PUBLISHER)
    path = write_csv(tmp_path, [row()])

    refused = import_offerings_file(path, dry_run=False, publish=True, actor=publisher)
    assert errors_of(refused) == [(2, "部门代码", str(ERROR_MAY_NOT_PUBLISH))]
    assert not OfferingPage.objects.exists()

    drafted = import_offerings_file(path, dry_run=False, actor=publisher)
    assert drafted.ok
    assert not OfferingPage.objects.get().live


def test_a_publisher_cannot_import_into_another_department(tmp_path, page, street):
    other = corner(DepartmentFactory(code="PT-MZ", region=street.district))
    outsider = staff(other.department, Role.DEPARTMENT_PUBLISHER)

    report = import_offerings_file(
        write_csv(tmp_path, [row(项目名称="自己的", 部门代码="PT-MZ"), row()]),
        dry_run=False,
        actor=outsider,
    )

    assert errors_of(report) == [(3, "部门代码", str(ERROR_OTHER_DEPARTMENT))]
    assert not OfferingPage.objects.exists()


def test_a_community_operator_may_not_import_at_all(tmp_path, page, operator):
    with pytest.raises(PermissionError):
        import_offerings_file(
            write_csv(tmp_path, [row()]), dry_run=True, actor=operator
        )


# ---------------------------------------------------------------- the command


def test_the_command_imports_and_publishes(tmp_path, page):
    out = StringIO()
    call_command(
        "import_offerings",
        str(write_csv(tmp_path, [row()])),
        "--publish",
        "--no-progress",
        stdout=out,
    )
    assert OfferingPage.objects.get().live
    assert "1" in out.getvalue()


def test_the_command_dry_run_writes_nothing(tmp_path, page):
    out = StringIO()
    call_command(
        "import_offerings",
        str(write_csv(tmp_path, [row()])),
        "--dry-run",
        "--no-progress",
        stdout=out,
    )
    assert not OfferingPage.objects.exists()


def test_the_command_lists_row_errors_and_fails(tmp_path, page):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_offerings",
            str(write_csv(tmp_path, [row(部门代码="NOPE")])),
            "--no-progress",
            stdout=out,
        )
    assert "NOPE" in out.getvalue()


def test_the_command_runs_as_a_user(tmp_path, page):
    publisher = staff(page.department, Role.DEPARTMENT_PUBLISHER)
    with pytest.raises(CommandError):
        call_command(
            "import_offerings",
            str(write_csv(tmp_path, [row()])),
            "--publish",
            "--user",
            publisher.username,
            "--no-progress",
            stdout=StringIO(),
        )
    assert not OfferingPage.objects.exists()


# ---------------------------------------------------------------- the CMS page


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def upload(rows, name="offerings.csv"):
    text = StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode("utf-8"), "text/csv")


def import_url():
    return reverse("catalog_offerings_import")


def test_the_upload_page_previews_then_imports_on_confirmation(client, page):
    approver = staff(page.department, Role.DEPARTMENT_APPROVER)
    client.force_login(approver)
    assert client.get(import_url()).status_code == 200

    preview = client.post(import_url(), {"file": upload([row()]), "publish": "on"})

    assert preview.status_code == 200
    assert preview.context["report"].ok
    assert "社区消防安全知识培训" in preview.text
    assert not OfferingPage.objects.exists()

    done = client.post(import_url(), {"confirm": "1"})

    assert done.context["report"].committed
    assert OfferingPage.objects.get().live


def test_the_upload_page_shows_row_errors_and_offers_no_confirmation(client, page):
    client.force_login(staff(page.department, Role.DEPARTMENT_PUBLISHER))
    response = client.post(import_url(), {"file": upload([row(类别="讲座")])})
    assert not response.context["report"].ok
    assert "讲座" in response.text
    assert 'name="confirm"' not in response.text


def test_the_upload_page_is_closed_to_community_operators(client, operator):
    client.force_login(operator)
    assert client.get(import_url()).status_code in (302, 403)


def test_a_publisher_is_not_offered_publishing(client, page):
    client.force_login(staff(page.department, Role.DEPARTMENT_PUBLISHER))
    response = client.get(import_url())
    assert "publish" not in response.context["form"].fields


# ---------------------------------------------------------------- demo data


@pytest.mark.database_independent  # the demo of `make run`, on SQLite
def test_the_demo_catalog_has_about_seventy_offerings_and_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    example = Path(settings.BASE_DIR) / "docs" / "examples" / "offerings.csv"
    documented = import_offerings_file(example, dry_run=True)
    assert documented.ok, documented.errors
    assert documented.created["offerings"] == 5

    call_command("seed_catalog_demo", stdout=StringIO())
    offerings = OfferingPage.objects.live()
    assert 60 <= offerings.count() <= 80
    assert offerings.filter(kind=OfferingKind.VENUE).exists()
    assert offerings.filter(kind=OfferingKind.EQUIPMENT).exists()
    assert OfferingSession.objects.filter(starts_at__gt=timezone.now()).count() > 30
    revisions = OfferingPage.objects.values_list("latest_revision_id", flat=True)
    before = sorted(revisions)

    call_command("seed_catalog_demo", stdout=StringIO())

    assert sorted(revisions) == before
