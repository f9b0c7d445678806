"""Idempotency-Key on order capture: replay, reuse, in-flight, missing, concurrency, purge."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Reservation
from omnilog.core.models import OutboxEvent
from orders.models import IdempotencyRecord, Order
from orders.services.idempotency import idempotency_records_purge, request_fingerprint
from orders.tasks import idempotency_records_purge_task
from tests.orders.capture_helpers import catalogue_build, order_body, post_order


@pytest.fixture
def catalogue(db):  # type: ignore[no-untyped-def]
    return catalogue_build()


@pytest.mark.django_db
def test_a_replay_returns_the_identical_response_and_places_nothing_more(catalogue) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    first = post_order(client, catalogue.key, order_body(catalogue))
    replay = post_order(client, catalogue.key, order_body(catalogue))

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.content == first.content
    assert replay["Location"] == first["Location"]
    assert replay["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Order.objects.count() == 1
    assert Reservation.objects.count() == 2
    record = IdempotencyRecord.objects.get()
    assert (record.state, record.response_status, record.method, record.path) == (
        "completed",
        201,
        "POST",
        "/api/v1/orders/",
    )
    assert record.fingerprint == request_fingerprint(json.dumps(order_body(catalogue)).encode())


@pytest.mark.django_db
def test_a_client_error_is_stored_and_replayed(catalogue) -> None:  # type: ignore[no-untyped-def]
    body = order_body(catalogue, lines=[{"sku": "NOPE", "quantity": 1}])
    first = post_order(Client(), catalogue.key, body)
    replay = post_order(Client(), catalogue.key, body)
    assert (first.status_code, replay.status_code) == (422, 422)
    assert replay.content == first.content
    assert replay["Content-Type"] == "application/problem+json"
    assert IdempotencyRecord.objects.get().response_status == 422


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(catalogue) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert post_order(client, catalogue.key, order_body(catalogue)).status_code == 201
    response = post_order(client, catalogue.key, order_body(catalogue, external_id="other"))
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_a_missing_key_is_400_and_writes_nothing(catalogue) -> None:  # type: ignore[no-untyped-def]
    response = post_order(Client(), catalogue.key, order_body(catalogue), idempotency_key=None)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"
    assert (Order.objects.count(), IdempotencyRecord.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_a_key_in_flight_is_409_with_retry_after(catalogue) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(order_body(catalogue)).encode()
    IdempotencyRecord.objects.create(
        channel=catalogue.channel,
        key="key-1",
        method="POST",
        path="/api/v1/orders/",
        fingerprint=request_fingerprint(body),
        locked_until=timezone.now() + timedelta(seconds=30),
    )
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert (response.json()["code"], response.json()["retry_after"]) == (
        "idempotency_key_in_use",
        1,
    )
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_a_stale_claim_is_taken_over(catalogue) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(order_body(catalogue)).encode()
    IdempotencyRecord.objects.create(
        channel=catalogue.channel,
        key="key-1",
        method="POST",
        path="/api/v1/orders/",
        fingerprint=request_fingerprint(body),
        locked_until=timezone.now() - timedelta(seconds=1),
    )
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 201
    assert IdempotencyRecord.objects.get().state == "completed"


@pytest.mark.django_db
def test_keys_are_per_channel(catalogue) -> None:  # type: ignore[no-untyped-def]
    other = catalogue_build(code="app")
    assert post_order(Client(), catalogue.key, order_body(catalogue)).status_code == 201
    assert post_order(Client(), other.key, order_body(other)).status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_records_older_than_a_day_are_purged(catalogue) -> None:  # type: ignore[no-untyped-def]
    post_order(Client(), catalogue.key, order_body(catalogue))
    post_order(
        Client(), catalogue.key, order_body(catalogue, external_id="B"), idempotency_key="k2"
    )
    IdempotencyRecord.objects.filter(key="key-1").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert idempotency_records_purge_task.apply().get() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k2"]
    assert idempotency_records_purge() == 0


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_posts_with_one_key_place_exactly_one_order(catalogue) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(order_body(catalogue)).encode()
    barrier = threading.Barrier(20)
    results: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def post() -> None:
        try:
            barrier.wait(timeout=30)
            response = post_order(Client(), catalogue.key, body)
            with lock:
                results.append((response.status_code, response.content))
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == 20
    created = [content for status, content in results if status == 201]
    conflicts = [content for status, content in results if status == 409]
    assert len(created) + len(conflicts) == 20
    assert len(created) >= 1
    assert len(set(created)) == 1  # the first response and identical replays
    assert {json.loads(c)["code"] for c in conflicts} <= {"idempotency_key_in_use"}
    assert Order.objects.count() == 1
    assert Reservation.objects.count() == 2
    assert OutboxEvent.objects.filter(topic="order.placed").count() == 1
    # Afterwards the key replays the order.
    replay = post_order(Client(), catalogue.key, body)
    assert (replay.status_code, replay.content) == (201, created[0])


@pytest.mark.django_db(transaction=True)
def test_capture_query_count(catalogue, settings) -> None:  # type: ignore[no-untyped-def]
    """Production shape (no test transaction around the request); a returning customer whose
    key was used a moment ago; three lines, two of the same product (the blocking reservation
    path).

    32 statements: BEGIN/COMMIT 2; SAVEPOINT/RELEASE 6 (order_place inside the idempotency
    transaction 2, stock_reserve 4); idempotency claim 1 + completion 1; products 1; customer 1;
    pricing 3 (price list items with their lists, promotions, tax rates; the customer is passed
    in); order number 1; order 1; lines 1; stock_reserve 5 + 1 per line (pool locations,
    candidate rows, row locks, one conditional UPDATE per line, reservations, ledger); timeline
    event 1; outbox 1; the delivery promise 4 (fulfillment.selectors_promise.order_promise:
    postcode position, candidate locations, their stock levels, carriers). The API key is in
    the process cache (channels_app.api.auth): 0.
    """
    settings.API_KEY_CACHE_SECONDS = 3600  # the warm-up's read must still be fresh, however slow
    client = Client()
    post_order(
        client, catalogue.key, order_body(catalogue, external_id="warm"), idempotency_key="w"
    )
    three_lines = order_body(catalogue)
    three_lines["lines"].append({"sku": catalogue.shirt.sku, "quantity": 1})
    with CaptureQueriesContext(connection) as queries:
        response = post_order(client, catalogue.key, three_lines, idempotency_key="q")
    assert response.status_code == 201
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    assert len(statements) == 32, "\n".join(q["sql"][:120] for q in queries.captured_queries)
