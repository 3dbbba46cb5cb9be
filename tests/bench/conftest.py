"""Benchmark smoke runs start from a database migrated once per test process:
migrating takes most of a small run."""

import os
import shutil
import subprocess
import sys

import pytest
from django.conf import settings


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench-template")
    path = folder / "template.sqlite3"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite:///{path}",
            "DIANDAN_VAR_DIR": str(folder),
            "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        },
        check=True,
        capture_output=True,
    )
    return path


@pytest.fixture
def bench_database(migrated_sqlite, tmp_path) -> str:
    """The URL of a fresh copy of the migrated database, for ``--database-url``."""
    copy = tmp_path / "bench.sqlite3"
    shutil.copyfile(migrated_sqlite, copy)
    return f"sqlite:///{copy}"
