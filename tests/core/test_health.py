"""/healthz reports the database, the broker and a live Celery worker; 503 when one is down.

Nothing is mocked: "down" means configuration pointing at an address where nothing answers
(a closed port) or a control exchange that no worker listens on.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from celery import Celery
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from omnilog.core.health import health_checks

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def workerless_app() -> Iterator[Celery]:
    """A Celery app on the test broker whose control messages no worker receives."""
    app = Celery("nobody-listens", broker=settings.CELERY_BROKER_URL, set_as_current=False)
    app.conf.update(control_exchange="omnilog-test-nobody")
    yield app
    app.close()


def _staff_client() -> Client:
    staff = get_user_model().objects.create_user("ops", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def dead_broker_app() -> Iterator[Celery]:
    app = Celery("dead-broker", broker=CLOSED_PORT_REDIS, set_as_current=False)
    yield app
    app.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_healthy_with_database_broker_and_live_worker(
    celery_worker: subprocess.Popen[bytes],
) -> None:
    response = _staff_client().get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "healthy"
    assert list(body["checks"]) == ["database", "broker", "worker"]
    assert all(check["healthy"] for check in body["checks"].values())
    assert body["checks"]["database"]["detail"].startswith("PostgreSQL ")
    assert body["checks"]["broker"]["detail"] == "redis ok"
    assert body["checks"]["worker"]["detail"].startswith(
        f"worker answered: test-worker-{os.getpid()}@"
    )
    assert all(isinstance(check["ms"], float) for check in body["checks"].values())


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_anonymous_callers_get_verdicts_without_details(
    celery_worker: subprocess.Popen[bytes],
) -> None:
    # Versions and worker host names help an attacker; a load balancer needs only the verdicts.
    body = Client().get("/healthz").json()

    assert body["status"] == "healthy"
    assert {name: sorted(check) for name, check in body["checks"].items()} == {
        "database": ["healthy", "ms"],
        "broker": ["healthy", "ms"],
        "worker": ["healthy", "ms"],
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_head_is_answered_too(celery_worker: subprocess.Popen[bytes]) -> None:
    response = Client().head("/healthz")

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.django_db(transaction=True)
def test_worker_absent_is_reported_after_the_bounded_ping(workerless_app: Celery) -> None:
    checks = {check.name: check for check in health_checks(celery_app=workerless_app)}

    assert checks["database"].is_healthy
    assert checks["broker"].is_healthy
    assert not checks["worker"].is_healthy
    assert checks["worker"].detail == (
        "RuntimeError: no Celery worker answered the ping within 1.0 s"
    )


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_no_worker_answers(
    workerless_app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The view pings through the project's app; point that name at the worker-less one.
    monkeypatch.setattr("omnilog.celery.app", workerless_app)

    response = Client().get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["worker"]["healthy"] is False
    assert body["checks"]["database"]["healthy"] is True
    assert body["checks"]["broker"]["healthy"] is True


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_broker_is_down(
    dead_broker_app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("omnilog.celery.app", dead_broker_app)

    with override_settings(REDIS_URL=CLOSED_PORT_REDIS):
        response = _staff_client().get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["healthy"] is True
    assert checks["broker"]["healthy"] is False
    assert checks["broker"]["detail"].startswith("ConnectionError: ")
    assert checks["worker"]["healthy"] is False
    assert "Connection refused" in checks["worker"]["detail"]
