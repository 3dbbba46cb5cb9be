"""Local development: DEBUG on, a throwaway secret, mail to the console."""

import os

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = (
    os.environ.get("SECRET_KEY") or "dev-only-insecure-secret-key-not-for-production"
)
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
