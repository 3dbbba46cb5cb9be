"""Every project string has its Chinese translation, and pages speak Chinese."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

PROJECT_DIRS = ("portal", "catalog", "matching", "assessments", "search", "templates")
CATALOG = Path("portal/locale/zh_Hans/LC_MESSAGES/django.po")


@pytest.mark.database_independent
def test_every_project_string_has_a_chinese_translation(tmp_path):
    # makemessages rewrites the catalog in place, so it runs on a copy of the
    # sources: any string added to the code without a translation shows up
    # there as an untranslated entry.
    root = Path(settings.BASE_DIR)
    for name in PROJECT_DIRS:
        shutil.copytree(
            root / name,
            tmp_path / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.mo"),
        )
    shutil.copy(root / "manage.py", tmp_path)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            "zh_Hans",
            "--no-obsolete",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "portal.settings.test"},
    )
    catalog = polib.pofile(str(tmp_path / CATALOG))
    missing = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog.fuzzy_entries()]
    assert missing == [], f"Strings without a Chinese translation: {missing}"
    assert fuzzy == [], f"Fuzzy (unchecked) translations: {fuzzy}"


@pytest.mark.django_db
def test_sign_in_page_is_in_chinese_by_default(client):
    response = client.get(reverse("login"))
    assert 'lang="zh-hans"' in response.text
    assert "使用发放给本单位的账号登录" in response.text, (
        "zh_Hans catalog not compiled?"
    )


@pytest.mark.django_db
def test_english_is_available_through_the_language_switch(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("login"))
    assert 'lang="en"' in response.text
    assert "Use the account issued to your unit" in response.text


@pytest.mark.django_db
def test_an_english_browser_still_gets_chinese_until_the_user_switches(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-hans"' in response.text
