"""Test run: same database engine and broker as production, faster hashing, captured e-mail."""

import os

from omnilog.settings.base import *  # noqa: F403
from omnilog.settings.base import CELERY_BROKER_TRANSPORT_OPTIONS, DATABASES, STATIC_ROOT

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

# Placing an order queues no routing task in tests unless a test asks for it
# (``settings.FULFILLMENT_ROUTE_ON_PLACE = True``, tests/fulfillment/test_worker.py): the
# session's live worker would otherwise route other tests' orders while they run or are flushed.
FULFILLMENT_ROUTE_ON_PLACE = False

# Every test client signs in from 127.0.0.1: wrong-password tests across the suite must not
# lock each other out. The lockout's own test lowers it (tests/core/test_basic_auth_lockout.py).
BASIC_AUTH_MAX_FAILURES = 100_000
# The webhook tests' receivers listen on 127.0.0.1 (the refusal has its own test).
WEBHOOK_ALLOW_PRIVATE_URLS = True

# A test worker may restore unacknowledged messages sooner (the SIGKILL redelivery test,
# tests/fulfillment/test_worker.py sets it for the workers it starts): the Redis transport
# redelivers a message whose worker died once it has been unacknowledged this many seconds,
# scanning every second instead of every 100.
if os.environ.get("OMNILOG_TEST_VISIBILITY_TIMEOUT"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "visibility_timeout": int(os.environ["OMNILOG_TEST_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
