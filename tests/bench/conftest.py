"""Benchmark smoke runs start from the test database as migrated, copied
(``tests.conftest.django_db_setup``): migrating takes most of a small run."""

import shutil

import pytest

from tests.conftest import migrated_copy


@pytest.fixture
def bench_database(db, tmp_path_factory, tmp_path) -> str:
    """The URL of a fresh copy of the migrated database, for ``--database-url``
    (``db`` has the test database, and so the copy, made however few tests
    run)."""
    copy = tmp_path / "bench.sqlite3"
    shutil.copyfile(migrated_copy(tmp_path_factory), copy)
    return f"sqlite:///{copy}"
