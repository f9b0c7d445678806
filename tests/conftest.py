"""Suite-wide fixtures: real PostgreSQL (pytest-django), real Redis, a real Celery worker.

The worker runs in a subprocess against the test database (its name is fixed in
``omnilog.settings.test``), so tests that need it commit their data
(``django_db(transaction=True)``) and wait for real task execution.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.management.base import CommandError
from django.db.utils import OperationalError
from django.test import TransactionTestCase

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def test_database_url(django_db_setup: None) -> str:
    """A URL for the test database that a child process can use."""
    database = settings.DATABASES["default"]
    parts = os.environ["DATABASE_URL"].rsplit("/", 1)
    name = database["NAME"]
    return f"{parts[0]}/{name}"


@pytest.fixture(scope="session")
def celery_worker(test_database_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """Start one real Celery worker (all queues) for the session; stop it at the end."""
    from omnilog.celery import app

    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.flushdb()  # no stale tasks from an earlier run reach this worker
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url,
        DJANGO_SETTINGS_MODULE="omnilog.settings.test",
        PYTHONUNBUFFERED="1",
    )
    hostname = f"test-worker-{os.getpid()}@%h"
    log_path = BASE_DIR / "var" / f"test-worker-{os.getpid()}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "omnilog",
            "worker",
            "-Q",
            "routing,stock,integrations,default",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "-n",
            hostname,
            "-l",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the test worker exited; see {log_path}")
        if app.control.ping(timeout=0.5):
            break
    else:
        process.kill()
        raise RuntimeError(f"the test worker did not answer within 60 s; see {log_path}")
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def wait_until(predicate, *, timeout: float = 20.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def _is_deadlock(error: BaseException | None) -> bool:
    while error is not None:
        if "deadlock detected" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _fixture_teardown_retrying_deadlocks(self: TransactionTestCase) -> None:
    """Flush after a transactional test, again if PostgreSQL picked the flush as a deadlock
    victim. The session's live Celery worker may still be running a task a test queued (a
    webhook dispatch after commit, say) whose join holds one table while the flush's TRUNCATE
    holds another; the flush is all-or-nothing, so running it again is safe."""
    for attempt in range(5):
        try:
            _original_fixture_teardown(self)
            return
        except (CommandError, OperationalError) as error:
            if attempt == 4 or not _is_deadlock(error):
                raise
            time.sleep(0.2 * (attempt + 1))


# Django's private hook (no stub): the one place every transactional test's flush goes through.
_original_fixture_teardown = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]
TransactionTestCase._fixture_teardown = _fixture_teardown_retrying_deadlocks  # type: ignore[attr-defined]
