"""Settings for the test suite: fast hashing, tasks run inline, mail kept in memory."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# What the site writes at run time (locks, media, mail files) goes to a folder of this run's
# own: a demo running from the same checkout, or a second test run, shares nothing with it.
VAR_DIR = Path(tempfile.mkdtemp(prefix="broadsheet-test-var-"))
MEDIA_ROOT = VAR_DIR / "media"
EMAIL_FILE_PATH = VAR_DIR / "mail"
WIRE_DIR = VAR_DIR / "wire"
WIRE_STORAGE_DIR = WIRE_DIR / "received"
# Whitenoise warns about a missing STATIC_ROOT on a fresh clone; tests never collect.
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir()
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LOGGING["loggers"]["wagtail"] = {"level": "WARNING"}  # noqa: F405
# Tests answer challenges at once; the minimum fill time has its own test.
BROADSHEET_CHALLENGE_MIN_SECONDS = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # `manage.py makemigrations --check` opens the main database: keep it out of var/.
    DATABASES["default"]["NAME"] = str(Path(tempfile.gettempdir()) / "broadsheet-check.sqlite3")  # noqa: F405
    # A file, not memory: threads in the concurrency tests then share one database with
    # WAL and busy waiting, as the server processes do. In-memory SQLite locks tables.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"broadsheet-test-{os.getpid()}.sqlite3")
    }
# Each test starts from an empty cache (tests/conftest.py); the page cache has its own
# tests, which turn it on.
CACHES = {
    alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": alias}
    for alias in ("default", "keys")
}
BROADSHEET_PAGE_CACHE = False
# Varnish is told once; the repeat has its own test.
BROADSHEET_PURGE_REPEAT_SECONDS = 0
# The email-service webhooks exist only behind a secret (broadsheet/urls.py).
ANYMAIL = {"WEBHOOK_SECRET": "courier:webhook-secret"}
# Tests do not wait between reconnection attempts or before retries they run by hand.
BROADSHEET_NEWSLETTER_RECONNECT_DELAYS = [0, 0]
