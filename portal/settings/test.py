"""Test run: fast hashing, in-memory mail, no cache, tasks run at once."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests roll their transactions back, so cache invalidation on commit never
# runs; tests of caching switch a real cache on for themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
DIANDAN_TEST_DATABASE = os.environ.get("DATABASE_URL", "sqlite")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as the portal runs: an in-memory database shared between threads
    # locks whole tables and fails at once instead of waiting (no WAL, no busy
    # timeout), so concurrency tests would test that instead. One file per
    # test process, so that two runs in one checkout never share it.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"diandan-test-{os.getpid()}.sqlite3")
    }
# Static files come from the app folders through the finders; nothing is collected.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# PDFs made by tests go to a folder of this test process, removed at its end,
# not among the reports of the development server in var/reports.
TEST_REPORTS_DIR = tempfile.mkdtemp(prefix="diandan-test-reports-")
atexit.register(shutil.rmtree, TEST_REPORTS_DIR, ignore_errors=True)
STORAGES = {
    **STORAGES,  # noqa: F405
    "reports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": TEST_REPORTS_DIR},
    },
}
