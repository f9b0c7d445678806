"""A request that PostgreSQL aborts to break a real deadlock gets a 409 problem, not a 500.

The deadlock is real: a second connection (a thread) and the request lock two rows in
opposite orders. The request waits first, so PostgreSQL's deadlock detector picks it as the
victim (``deadlock_timeout`` is 1 s by default).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from omnilog import urls as project_urls

handler404 = project_urls.handler404
handler500 = project_urls.handler500

request_holds_row_2 = threading.Event()
other_holds_row_1 = threading.Event()


class DeadlockingApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def post(self, request: Request) -> Response:
        with transaction.atomic(), connection.cursor() as cursor:
            other_holds_row_1.wait(10)
            cursor.execute("SELECT id FROM deadlock_probe WHERE id = 2 FOR UPDATE")
            request_holds_row_2.set()
            cursor.execute("SELECT id FROM deadlock_probe WHERE id = 1 FOR UPDATE")
            cursor.execute("UPDATE deadlock_probe SET touched = touched + 1")
        return Response({"status": "done"})


urlpatterns = [
    path("api/v1/_test/deadlock", DeadlockingApi.as_view()),
    *project_urls.urlpatterns,
]


@pytest.fixture
def probe_table() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE deadlock_probe (id int PRIMARY KEY, touched int NOT NULL DEFAULT 0)"
        )
        cursor.execute("INSERT INTO deadlock_probe (id) VALUES (1), (2)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE deadlock_probe")


def _other_client() -> None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM deadlock_probe WHERE id = 1 FOR UPDATE")
            other_holds_row_1.set()
            request_holds_row_2.wait(10)
            # Let the request start waiting for row 1 first, so it is the one PostgreSQL aborts.
            cursor.execute("SELECT pg_sleep(0.3)")
            cursor.execute("SELECT id FROM deadlock_probe WHERE id = 2 FOR UPDATE")
            cursor.execute("UPDATE deadlock_probe SET touched = touched + 10")
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.core.test_transient_conflicts")
def test_a_deadlock_victim_gets_a_retryable_409_and_nothing_is_written(probe_table: None) -> None:
    request_holds_row_2.clear()
    other_holds_row_1.clear()
    other = threading.Thread(target=_other_client)
    other.start()
    response = Client(raise_request_exception=False).post(
        "/api/v1/_test/deadlock", data="{}", content_type="application/json"
    )
    other.join(20)

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "1"
    body = response.json()
    assert (body["code"], body["status"]) == ("concurrent_update", 409)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, touched FROM deadlock_probe ORDER BY id")
        # Only the other client's update survived: the request's was rolled back whole.
        assert cursor.fetchall() == [(1, 10), (2, 10)]
