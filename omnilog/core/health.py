"""Liveness of the parts Omnilog needs: database, broker and at least one Celery worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from celery import Celery
from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class Check:
    name: str
    is_healthy: bool
    detail: str
    milliseconds: float


def _timed(name: str, probe: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail = probe()
        healthy = True
    except Exception as error:  # a health probe reports every failure, it never raises
        detail, healthy = f"{type(error).__name__}: {error}", False
    return Check(name, healthy, str(detail), round((time.perf_counter() - started) * 1000, 1))


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version')")
        row = cursor.fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


def _broker() -> str:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
        return "redis ok"
    finally:
        client.close()


# Every probe gives up within about a second, so that /healthz answers quickly when a part is
# down (load balancers time out) instead of waiting on the client libraries' retries.
PROBE_TIMEOUT_SECONDS = 1.0


def _workers(app: Celery) -> str:
    # A connection of our own: the app's pool would retry a dead broker for several seconds.
    with app.connection_for_write(
        connect_timeout=PROBE_TIMEOUT_SECONDS,
        transport_options={
            "socket_connect_timeout": PROBE_TIMEOUT_SECONDS,
            "socket_timeout": PROBE_TIMEOUT_SECONDS,
        },
    ) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        # limit=1: one live worker is enough, and the probe returns on its reply instead of
        # waiting out the timeout to collect every worker's (a web worker is blocked meanwhile).
        replies = app.control.ping(timeout=PROBE_TIMEOUT_SECONDS, connection=broker, limit=1)
    if not replies:
        raise RuntimeError(f"no Celery worker answered the ping within {PROBE_TIMEOUT_SECONDS} s")
    return "worker answered: " + ", ".join(sorted(name for reply in replies for name in reply))


def health_checks(*, celery_app: Celery | None = None) -> list[Check]:
    """Run every probe (database, broker, worker); each gives up within about a second.

    ``celery_app`` defaults to the project's app; the worker probe pings its workers.
    """
    if celery_app is None:
        from omnilog.celery import app as project_app

        celery_app = project_app
    app = celery_app
    return [
        _timed("database", _database),
        _timed("broker", _broker),
        _timed("worker", lambda: _workers(app)),
    ]
