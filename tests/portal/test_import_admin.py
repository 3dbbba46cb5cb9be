"""The import page in the CMS: upload, dry-run preview with every row error,
confirm, import — for administrators only."""

import csv
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.models import Department, ImportRun, Region, User
from tests.portal.test_import_units import ACCOUNT_HEADER, REGION_HEADER, TREE

pytestmark = pytest.mark.django_db

BAD_TREE = [
    TREE[0],
    ["310107000000", "普陀区", "省", "310100000000", "", "", ""],
    ["310107015000", "长风新村街道", "街镇", "310107099000", "", "", ""],
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def import_url():
    return reverse("portal_units_import")


def csv_upload(rows, header=REGION_HEADER, name="units.csv"):
    text = StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(
        name, text.getvalue().encode("utf-8"), content_type="text/csv"
    )


def stored_files(var_dir):
    folder = var_dir / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def counts():
    return Region.objects.count(), Department.objects.count(), User.objects.count()


def page_messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def preview(client, upload):
    return client.post(import_url(), {"file": upload})


def confirm(client, **kwargs):
    return client.post(import_url(), {"confirm": "1"}, **kwargs)


def test_import_page_is_under_the_cms():
    assert import_url().startswith("/cms/")


def test_administrator_sees_the_upload_form(admin_client):
    response = admin_client.get(import_url())

    assert response.status_code == 200
    assert "form" in response.context
    assert 'type="file"' in response.text
    assert reverse("portal_units_import_example") in response.text


@pytest.mark.parametrize("who", ["publisher", "approver", "organization_officer"])
def test_cms_users_without_the_import_permission_are_refused(client, request, who):
    client.force_login(request.getfixturevalue(who))

    response = client.get(import_url())
    upload = preview(client, csv_upload(TREE))

    assert response.status_code in (302, 403)
    assert upload.status_code in (302, 403)
    assert Region.objects.filter(code__startswith="3101").count() == 0
    assert client.get(reverse("portal_units_import_example")).status_code in (302, 403)


def test_community_operator_and_visitors_do_not_reach_the_page(client, operator):
    assert client.get(import_url()).status_code == 302  # to sign in

    client.force_login(operator)
    response = client.get(import_url())

    assert response.status_code in (302, 403)


def test_preview_of_a_file_with_errors_lists_every_error_and_writes_nothing(
    admin_client, var_dir
):
    before = counts()

    response = preview(admin_client, csv_upload(BAD_TREE))

    assert response.status_code == 200
    report = response.context["report"]
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "层级"),
        (4, "上级区划代码"),
    ]
    page = response.text
    assert "层级" in page and "上级区划代码" in page
    assert "310107099000" in page  # the bad value is shown
    for error in report.errors:
        assert error.message in page
    assert 'name="confirm"' not in page
    assert counts() == before
    assert stored_files(var_dir) == []
    assert not ImportRun.objects.exists()


def test_preview_of_a_valid_file_offers_to_confirm_and_writes_nothing(
    admin_client, var_dir
):
    before = counts()

    response = preview(admin_client, csv_upload(TREE))

    assert response.status_code == 200
    report = response.context["report"]
    assert report.ok and report.dry_run
    assert report.created["regions"] == 4
    assert 'name="confirm"' in response.text
    assert counts() == before
    assert len(stored_files(var_dir)) == 1
    assert not ImportRun.objects.exists()


def test_confirm_imports_the_previewed_file_and_removes_it(
    admin_client, administrator, var_dir
):
    preview(admin_client, csv_upload(TREE, name="普陀区.csv"))

    response = confirm(admin_client)

    assert response.status_code == 200
    report = response.context["report"]
    assert report.committed
    assert Region.objects.get(code="310107015001").street.code == "310107015000"
    run = ImportRun.objects.get()
    assert (run.user, run.file_name, run.rows) == (administrator, "普陀区.csv", 4)
    assert stored_files(var_dir) == []
    assert "普陀区.csv" in response.text  # listed under recent imports


def test_confirmed_import_shows_the_set_password_links_of_new_accounts(
    admin_client, community
):
    rows = [["wangli", "王丽", community.code, "社区工作者", "wl@example.cn", ""]]
    preview(admin_client, csv_upload(rows, header=ACCOUNT_HEADER))

    response = confirm(admin_client)

    user = User.objects.get(username="wangli")
    assert user.region == community and not user.has_usable_password()
    [invitation] = response.context["report"].invitations
    assert invitation.username == "wangli"
    assert invitation.url in response.text


def test_confirm_twice_imports_once(admin_client):
    preview(admin_client, csv_upload(TREE))
    confirm(admin_client)

    again = confirm(admin_client)

    assert again.status_code == 302
    assert again.url == import_url()
    assert ImportRun.objects.count() == 1


def test_confirm_without_a_preview_redirects_with_a_message(admin_client):
    before = counts()

    response = confirm(admin_client, follow=True)

    assert response.redirect_chain == [(import_url(), 302)]
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and messages[0]
    assert counts() == before
    assert not ImportRun.objects.exists()


def test_confirm_after_the_stored_file_is_gone_redirects_with_a_message(
    admin_client, var_dir
):
    preview(admin_client, csv_upload(TREE))
    for path in stored_files(var_dir):
        path.unlink()

    response = confirm(admin_client)

    assert response.status_code == 302
    assert page_messages(response)
    assert Region.objects.filter(code="310100000000").count() == 0


def test_confirm_imports_the_file_previewed_last_and_leaves_no_file_behind(
    admin_client, var_dir
):
    preview(admin_client, csv_upload(TREE[:2], name="first.csv"))
    preview(admin_client, csv_upload(TREE, name="second.csv"))

    confirm(admin_client)

    assert ImportRun.objects.get().file_name == "second.csv"
    assert Region.objects.filter(code="310107015001").exists()
    assert stored_files(var_dir) == []


def test_a_txt_upload_is_refused_by_the_form(admin_client, var_dir):
    upload = SimpleUploadedFile("units.txt", b"310100000000", content_type="text/plain")

    response = preview(admin_client, upload)

    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert response.context.get("report") is None
    assert stored_files(var_dir) == []


def test_a_broken_xlsx_upload_shows_a_message_and_is_not_kept(admin_client, var_dir):
    upload = SimpleUploadedFile(
        "units.xlsx", b"PK\x03\x04 not a workbook", content_type=XLSX
    )

    response = preview(admin_client, upload)

    assert response.status_code == 200
    assert response.context["report"] is None
    assert page_messages(response)
    assert 'name="confirm"' not in response.text
    assert stored_files(var_dir) == []


def test_example_workbook_downloads_and_previews_cleanly(admin_client):
    download = admin_client.get(reverse("portal_units_import_example"))

    assert download.status_code == 200
    assert download["Content-Type"] == XLSX
    assert "attachment" in download["Content-Disposition"]

    upload = SimpleUploadedFile("example.xlsx", download.content, content_type=XLSX)
    report = preview(admin_client, upload).context["report"]
    assert report.ok, report.errors
    assert report.created["regions"] >= 4
