"""Webhook delivery against a local HTTP receiver (the fake external system), with committed
data: order, filters, cursor, retries, disabling, replay, outbox id gaps, no transaction held
during HTTP, and the real Celery worker end to end."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from omnilog.core.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from omnilog.core.outbox import outbox_emit
from omnilog.core.tasks import webhook_deliver_task, webhooks_dispatch_task
from omnilog.core.webhook_services import (
    webhook_replay,
    webhook_send_test,
    webhook_subscription_create,
)
from omnilog.core.webhooks import verify, webhook_deliver
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP endpoint: answers with the queued status codes (then 200), records all."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    gate: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)

    def ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            state.arrived.set()
            if state.gate is not None:
                state.gate.wait(timeout=10)
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"boom " * 200)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    if state.gate is not None:
        state.gate.set()
    server.shutdown()
    server.server_close()


def emit(topic: str, key: int = 1) -> OutboxEvent:
    with transaction.atomic():
        return outbox_emit(
            topic=topic, aggregate_type="order", aggregate_id=key, payload={"number": key}
        )


def subscribe(
    url: str, topics: list[str] | None = None, *, first: OutboxEvent | None = None
) -> WebhookSubscription:
    """A subscriber whose cursor is just before ``first`` (or at the newest event).

    Transactional tests truncate tables but not sequences: ids of earlier tests are gaps, and
    a cursor below them would wait for the gap rule instead of testing the intended path.
    """
    return webhook_subscription_create(
        name="erp", url=url, topics=topics or [], from_event_id=first.pk if first else None
    )


def state_of(subscription: WebhookSubscription) -> WebhookSubscription:
    subscription.refresh_from_db()
    return subscription


def test_delivers_matching_events_in_order_signed_with_exact_bodies(receiver: Receiver) -> None:
    events = [
        emit("order.placed", 1),
        emit("stock.low", 2),
        emit("order.routed", 1),
        emit("stock.out_of_stock", 3),
        emit("order.shipped", 1),
        emit("stock.changed", 4),
    ]
    subscription = subscribe(receiver.url, ["order.*", "stock.out_of_stock"], first=events[0])

    result = webhook_deliver(subscription_id=subscription.pk)

    matching = [events[0], events[2], events[3], events[4]]
    assert (result.claimed, result.delivered, result.failed) == (True, 4, False)
    assert receiver.ids() == [str(event.pk) for event in matching]
    for request, event in zip(receiver.requests, matching, strict=True):
        expected = {
            "id": str(event.pk),
            "type": event.topic,
            "timestamp": event.occurred_at.isoformat(),
            "data": {
                "aggregate_type": "order",
                "aggregate_id": event.aggregate_id,
                "payload": {"number": int(event.aggregate_id)},
            },
        }
        assert json.loads(request.body) == expected
        assert request.body == json.dumps(expected, separators=(",", ":"), sort_keys=True).encode()
        assert request.headers["content-type"] == "application/json"
        verify(secret=subscription.secret, headers=request.headers, body=request.body)
    # The trailing non-matching event is skipped silently: the cursor covers it.
    assert state_of(subscription).cursor == events[-1].pk
    log = list(WebhookDelivery.objects.order_by("id").values_list("event_id", "status_code"))
    assert log == [(event.pk, 200) for event in matching]

    again = webhook_deliver(subscription_id=subscription.pk)
    assert (again.claimed, again.delivered) == (True, 0)
    assert len(receiver.requests) == 4


def test_batches_resume_from_the_cursor(receiver: Receiver) -> None:
    events = [emit("order.placed", key) for key in range(1, 6)]
    subscription = subscribe(receiver.url, first=events[0])
    first = webhook_deliver(subscription_id=subscription.pk, batch_size=2)
    assert (first.delivered, first.has_more, first.cursor) == (2, True, events[1].pk)
    webhook_deliver(subscription_id=subscription.pk, batch_size=2)
    last = webhook_deliver(subscription_id=subscription.pk, batch_size=2)
    assert (last.delivered, last.has_more) == (1, False)
    assert receiver.ids() == [str(event.pk) for event in events]


def test_a_500_is_retried_after_backoff_with_the_same_webhook_id(
    receiver: Receiver, settings: Any
) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    first, second = emit("order.placed", 1), emit("order.routed", 1)
    subscription = subscribe(receiver.url, first=first)
    receiver.statuses = [500]
    start = timezone.now()

    failed = webhook_deliver(subscription_id=subscription.pk, now=start)

    assert (failed.failed, failed.delivered) == (True, 0)
    subscription = state_of(subscription)
    assert subscription.cursor == first.pk - 1
    assert subscription.consecutive_failures == 1
    assert subscription.next_attempt_at is not None
    delay = (subscription.next_attempt_at - start).total_seconds()
    assert 10 <= delay < 12.1
    assert subscription.lease_token is None
    attempt = WebhookDelivery.objects.get()
    assert (attempt.event_id, attempt.attempt, attempt.status_code, attempt.is_success) == (
        first.pk,
        1,
        500,
        False,
    )
    assert attempt.error == "HTTP 500"
    assert attempt.response_excerpt == ("boom " * 100)

    early = webhook_deliver(subscription_id=subscription.pk, now=start + timedelta(seconds=5))
    assert early.claimed is False
    assert len(receiver.requests) == 1

    later = subscription.next_attempt_at + timedelta(milliseconds=1)
    retried = webhook_deliver(subscription_id=subscription.pk, now=later)

    assert (retried.delivered, retried.failed) == (2, False)
    assert receiver.ids() == [str(first.pk), str(first.pk), str(second.pk)]
    retry_request = receiver.requests[1]
    assert retry_request.body == receiver.requests[0].body
    verify(
        secret=subscription.secret,
        headers=retry_request.headers,
        body=retry_request.body,
        now=later.timestamp(),
    )
    subscription = state_of(subscription)
    assert (subscription.cursor, subscription.consecutive_failures) == (second.pk, 0)
    assert subscription.next_attempt_at is None
    assert list(WebhookDelivery.objects.order_by("id").values_list("attempt", "is_success")) == [
        (1, False),
        (2, True),
        (1, True),
    ]


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


def test_receiver_down_logs_the_failure_and_keeps_the_cursor() -> None:
    event = emit("order.placed")
    subscription = subscribe(closed_port_url(), first=event)

    result = webhook_deliver(subscription_id=subscription.pk)

    assert result.failed is True
    assert state_of(subscription).cursor == event.pk - 1
    attempt = WebhookDelivery.objects.get()
    assert attempt.status_code is None
    assert attempt.is_success is False
    assert "Connection refused" in attempt.error


def test_disabled_after_n_consecutive_failures_with_a_reason(settings: Any) -> None:
    settings.WEBHOOK_MAX_CONSECUTIVE_FAILURES = 3
    subscription = subscribe(closed_port_url(), first=emit("order.placed"))
    at = timezone.now()
    for _ in range(3):
        assert webhook_deliver(subscription_id=subscription.pk, now=at).failed
        next_attempt_at = state_of(subscription).next_attempt_at
        assert next_attempt_at is not None
        at = next_attempt_at + timedelta(seconds=1)

    subscription = state_of(subscription)
    assert subscription.is_active is False
    assert subscription.consecutive_failures == 3
    assert subscription.disabled_reason.startswith("Disabled after 3 consecutive failures; last: ")
    assert webhook_deliver(subscription_id=subscription.pk, now=at).claimed is False
    assert WebhookDelivery.objects.count() == 3


def test_replay_redelivers_the_same_event_ids(receiver: Receiver) -> None:
    events = [emit("order.placed", key) for key in range(1, 5)]
    subscription = subscribe(receiver.url, first=events[0])
    webhook_deliver(subscription_id=subscription.pk)

    webhook_replay(subscription_id=subscription.pk, from_event_id=events[1].pk)
    webhook_deliver(subscription_id=subscription.pk)

    ids = [str(event.pk) for event in events]
    assert receiver.ids() == ids + ids[1:]
    assert receiver.requests[1].body == receiver.requests[4].body
    assert state_of(subscription).cursor == events[-1].pk


def test_no_transaction_or_row_lock_is_held_while_the_receiver_is_slow(
    receiver: Receiver,
) -> None:
    event = emit("order.placed")
    subscription = subscribe(receiver.url, first=event)
    receiver.gate = threading.Event()
    outcome: list[Any] = []

    def deliver() -> None:
        try:
            outcome.append(webhook_deliver(subscription_id=subscription.pk))
        finally:
            connection.close()

    worker = threading.Thread(target=deliver)
    worker.start()
    try:
        assert receiver.arrived.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
            )
            assert cursor.fetchone()[0] == 0
        with transaction.atomic():
            # NOWAIT fails at once if the delivering thread held the subscription row.
            locked = (
                WebhookSubscription.objects.select_for_update(nowait=True)
                .filter(pk=subscription.pk)
                .get()
            )
            assert locked.lease_token is not None  # it is leased, not locked
        # A second worker cannot deliver the same subscription meanwhile.
        assert webhook_deliver(subscription_id=subscription.pk).claimed is False
    finally:
        receiver.gate.set()
        worker.join(timeout=10)
    assert outcome[0].delivered == 1
    assert state_of(subscription).cursor == event.pk
    assert len(receiver.requests) == 1


def test_webhook_deliver_refuses_to_run_inside_a_transaction(receiver: Receiver) -> None:
    subscription = subscribe(receiver.url)
    with transaction.atomic(), pytest.raises(RuntimeError, match="inside a transaction"):
        webhook_deliver(subscription_id=subscription.pk)


def raw_connection() -> psycopg.Connection[Any]:
    """A second, independent session on the test database (not Django's)."""
    params = connection.settings_dict
    return psycopg.connect(
        dbname=str(params["NAME"]),
        host=str(params["HOST"] or "127.0.0.1"),
        port=str(params["PORT"] or 5432),
        user=str(params["USER"]),
        password=str(params["PASSWORD"] or ""),
    )


INSERT_EVENT = (
    "INSERT INTO core_outboxevent (topic, aggregate_type, aggregate_id, payload, occurred_at)"
    " VALUES ('order.placed', 'order', 'slow', '{}', now()) RETURNING id"
)


@pytest.mark.parametrize("ending", ["commit", "rollback"])
def test_an_id_still_in_flight_holds_back_the_later_ids(receiver: Receiver, ending: str) -> None:
    """Ids are allocated at insert and visible at commit: event N+1 may commit before N."""
    before = emit("order.placed", 1)
    subscription = subscribe(receiver.url, first=before)
    with raw_connection() as slow:
        slow_id = slow.execute(INSERT_EVENT).fetchone()[0]  # type: ignore[index]
        after = emit("order.routed", 2)
        assert after.pk == slow_id + 1

        held = webhook_deliver(subscription_id=subscription.pk)

        assert receiver.ids() == [str(before.pk)]
        assert held.cursor == before.pk
        if ending == "commit":
            slow.commit()
        else:
            slow.rollback()

    webhook_deliver(subscription_id=subscription.pk)

    expected = [before.pk, slow_id, after.pk] if ending == "commit" else [before.pk, after.pk]
    assert receiver.ids() == [str(pk) for pk in expected]
    assert state_of(subscription).cursor == after.pk


def test_send_test_event_posts_a_signed_test_message_and_leaves_the_cursor(
    receiver: Receiver,
) -> None:
    subscription = subscribe(receiver.url)
    cursor = subscription.cursor
    delivery = webhook_send_test(subscription_id=subscription.pk)
    assert (delivery.is_success, delivery.status_code, delivery.event_id) == (True, 200, None)
    request = receiver.requests[0]
    verify(secret=subscription.secret, headers=request.headers, body=request.body)
    document = json.loads(request.body)
    assert document["type"] == "webhook.test"
    assert document["id"] == request.headers["webhook-id"] == delivery.message_id
    assert state_of(subscription).cursor == cursor


def test_admin_send_test_event_action(receiver: Receiver, admin_client: Any) -> None:
    subscription = subscribe(receiver.url)
    response = admin_client.post(
        "/admin/core/webhooksubscription/",
        {"action": "send_test_event", "_selected_action": [subscription.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Erp: 200 in" in response.content.decode()  # the admin capitalises messages
    assert len(receiver.requests) == 1


@pytest.mark.worker
def test_the_celery_worker_delivers_outbox_events(receiver: Receiver, celery_worker: Any) -> None:
    first = emit("order.placed", 1)
    subscription = subscribe(receiver.url, ["order.*"], first=first)

    webhook_deliver_task.delay(subscription.pk)

    wait_until(lambda: len(receiver.requests) == 1)
    verify(
        secret=subscription.secret,
        headers=receiver.requests[0].headers,
        body=receiver.requests[0].body,
    )
    assert receiver.ids() == [str(first.pk)]
    wait_until(lambda: state_of(subscription).cursor == first.pk)

    emit("stock.low", 2)
    second = emit("order.shipped", 1)
    webhooks_dispatch_task.delay()

    wait_until(lambda: state_of(subscription).cursor == second.pk)
    assert receiver.ids() == [str(first.pk), str(second.pk)]
