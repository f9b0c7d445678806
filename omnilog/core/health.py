"""Liveness of the parts Omnilog needs: database, broker and at least one Celery worker."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class Check:
    name: str
    is_healthy: bool
    detail: str
    milliseconds: float


def _timed(name: str, probe: object) -> Check:
    started = time.perf_counter()
    try:
        detail = probe()  # type: ignore[operator]
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
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
        return "redis ok"
    finally:
        client.close()


def _workers() -> str:
    from omnilog.celery import app

    replies = app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError("no Celery worker answered the ping within 1 s")
    return f"{len(replies)} worker(s): " + ", ".join(
        sorted(name for reply in replies for name in reply)
    )


def health_checks() -> list[Check]:
    """Run every probe; each is bounded by its own short timeout."""
    return [
        _timed("database", _database),
        _timed("broker", _broker),
        _timed("worker", _workers),
    ]
