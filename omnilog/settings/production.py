"""Production: every secret and URL must come from the environment."""

import os

from django.core.exceptions import ImproperlyConfigured

from omnilog.settings.base import *  # noqa: F403
from omnilog.settings.base import env_bool

for required in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
    if not os.environ.get(required):
        raise ImproperlyConfigured(f"{required} must be set in production")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
