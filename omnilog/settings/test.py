"""Test run: same database engine and broker as production, faster hashing, captured e-mail."""

from omnilog.settings.base import *  # noqa: F403
from omnilog.settings.base import DATABASES, STATIC_ROOT

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A fixed test database name so that the live Celery worker started by the tests can reach it.
DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}"}
DATABASES["default"]["CONN_MAX_AGE"] = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# WhiteNoise serves from the finders in tests; an existing (empty) root keeps it quiet.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
