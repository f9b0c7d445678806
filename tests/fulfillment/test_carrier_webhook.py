"""The carrier's signed status webhook: signatures, idempotency, the shipment's table, the
order delivered."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from fulfillment.models import FulfillmentOrder, Shipment, ShipmentEvent
from fulfillment.services.shipping import ParcelInput, shipment_create
from fulfillment.shipping_statuses import SHIPMENT_TRANSITIONS, ShipmentStatus
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent
from tests.fulfillment.shipping_support import (
    accepted_fulfillment_order,
    builtin_carrier,
    mark_shipped,
    signed_event,
)

URL = "/api/v1/carriers/omnilog-rates/events"


def _shipment() -> tuple[Order, FulfillmentOrder, Shipment]:
    builtin_carrier()
    _, order, fo = accepted_fulfillment_order("FR")
    shipment = shipment_create(
        fulfillment_order_id=fo.pk,
        carrier_code="omnilog-rates",
        service="standard",
        parcels=[ParcelInput(900, 300, 200, 100)],
        actor="t",
    )
    return order, fo, shipment


def _post(headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
    extra: dict[str, Any] = {
        f"HTTP_{key.upper().replace('-', '_')}": value for key, value in headers.items()
    }
    return APIClient().post(URL, data=body, content_type="application/json", **extra)


def _state() -> tuple[list[tuple[str, str]], int, int, list[str]]:
    return (
        list(Shipment.objects.values_list("status", "tracking_number")),
        ShipmentEvent.objects.count(),
        OrderEvent.objects.count(),
        list(OutboxEvent.objects.order_by("id").values_list("topic", flat=True)),
    )


def test_status_choices_match_the_table() -> None:
    assert set(Shipment.Status.values) == {str(status) for status in ShipmentStatus}
    assert set(SHIPMENT_TRANSITIONS) == set(ShipmentStatus)


@pytest.mark.django_db
def test_good_signature_moves_the_shipment_and_a_duplicate_changes_nothing() -> None:
    order, _, shipment = _shipment()
    carrier = shipment.carrier
    headers, body = signed_event(
        carrier,
        event_id="evt_1",
        tracking_number=shipment.tracking_number,
        status="in_transit",
        description="Taken over at Paris hub",
        location="Paris",
    )
    response = _post(headers, body)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response.json()["shipment_status"] == "in_transit"
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"
    assert shipment.shipped_at is not None
    assert shipment.shipped_at.isoformat() == "2026-03-02T09:15:00+00:00"
    event = ShipmentEvent.objects.get(carrier_event_id="evt_1")
    assert (event.from_status, event.status, event.place, event.description) == (
        "label_created",
        "in_transit",
        "Paris",
        "Taken over at Paris hub",
    )
    assert event.raw_payload["location"] == "Paris"
    assert OrderEvent.objects.filter(order=order, kind="shipment").count() == 2
    before = _state()

    duplicate = _post(headers, body)
    assert duplicate.status_code == 200
    assert duplicate.json()["status"] == "duplicate"
    assert duplicate.json()["event_id"] == event.pk
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["wrong_secret", "stale", "tampered", "missing"])
def test_bad_or_stale_signature_is_401_and_writes_nothing(case: str) -> None:
    _, _, shipment = _shipment()
    carrier = shipment.carrier
    kwargs = {
        "wrong_secret": {"secret": "whsec_" + "QUJD" * 8},
        "stale": {"timestamp": int(time.time()) - 301},
    }.get(case, {})
    headers, body = signed_event(
        carrier,
        event_id="evt_x",
        tracking_number=shipment.tracking_number,
        status="in_transit",
        **kwargs,  # type: ignore[arg-type]
    )
    if case == "tampered":
        body = body.replace(b"in_transit", b"delivered")
    if case == "missing":
        headers.pop("webhook-signature")
    before = _state()

    response = _post(headers, body)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_signature"
    assert _state() == before


@pytest.mark.django_db
def test_bad_payload_is_a_problem_and_writes_nothing() -> None:
    _, _, shipment = _shipment()
    headers, body = signed_event(
        shipment.carrier,
        event_id="evt_bad",
        tracking_number=shipment.tracking_number,
        status="teleported",
        occurred_at="yesterday",
    )
    before = _state()
    response = _post(headers, body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_payload"
    assert sorted(error["field"] for error in problem["errors"]) == ["occurred_at", "status"]
    assert _state() == before

    raw = b"not json"
    headers, _ = signed_event(shipment.carrier, event_id="evt_raw", tracking_number="x", status="x")
    from omnilog.core.webhooks import signed_headers

    headers = signed_headers(
        secret=shipment.carrier.webhook_secret,
        message_id="evt_raw",
        timestamp=int(time.time()),
        body=raw,
    )
    assert _post(headers, raw).status_code == 400
    assert _state() == before


@pytest.mark.django_db
def test_illegal_move_is_refused_with_nothing_written() -> None:
    _, _, shipment = _shipment()
    headers, body = signed_event(
        shipment.carrier,
        event_id="evt_rts",
        tracking_number=shipment.tracking_number,
        status="returned_to_sender",
    )
    before = _state()
    response = _post(headers, body)
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert _state() == before


@pytest.mark.django_db
def test_delivered_moves_the_fulfillment_order_and_the_order() -> None:
    order, fo, shipment = _shipment()
    mark_shipped(order, fo)
    carrier = shipment.carrier
    number = shipment.tracking_number
    steps = [
        ("e1", "in_transit", True),
        ("e2", "in_transit", False),  # another hub scan: recorded, no move
        ("e3", "out_for_delivery", True),
        ("e4", "failed_attempt", True),
        ("e5", "out_for_delivery", True),
        ("e6", "delivered", True),
    ]
    for event_id, status, moved in steps:
        response = _post(
            *signed_event(carrier, event_id=event_id, tracking_number=number, status=status)
        )
        assert response.status_code == 200, response.content
        assert response.json()["is_status_change"] is moved

    shipment.refresh_from_db()
    fo.refresh_from_db()
    order.refresh_from_db()
    assert (shipment.status, fo.status, order.status) == ("delivered", "delivered", "delivered")
    assert list(shipment.events.order_by("id").values_list("status", flat=True)) == [
        "label_created",
        "in_transit",
        "in_transit",
        "out_for_delivery",
        "failed_attempt",
        "out_for_delivery",
        "delivered",
    ]
    delivered = OrderEvent.objects.filter(order=order, to_status="delivered").get()
    assert (delivered.from_status, delivered.actor, delivered.source) == (
        "shipped",
        "carrier:omnilog-rates",
        "carrier",
    )
    topics = list(
        OutboxEvent.objects.filter(topic__startswith="shipment.")
        .order_by("id")
        .values_list("topic", flat=True)
    )
    assert topics == [
        "shipment.label_created",
        "shipment.in_transit",
        "shipment.in_transit",
        "shipment.out_for_delivery",
        "shipment.failed_attempt",
        "shipment.out_for_delivery",
        "shipment.delivered",
    ]
    assert (
        OutboxEvent.objects.filter(topic="order.delivered", aggregate_id=str(order.pk)).count() == 1
    )
    assert OutboxEvent.objects.filter(topic="fulfillment_order.delivered").count() == 1

    late = _post(*signed_event(carrier, event_id="e7", tracking_number=number, status="in_transit"))
    assert late.status_code == 409


@pytest.mark.django_db
def test_returned_to_sender_is_an_event_and_an_outbox_message() -> None:
    order, _, shipment = _shipment()
    carrier = shipment.carrier
    for event_id, status in (("r1", "in_transit"), ("r2", "returned_to_sender")):
        assert (
            _post(
                *signed_event(
                    carrier,
                    event_id=event_id,
                    tracking_number=shipment.tracking_number,
                    status=status,
                )
            ).status_code
            == 200
        )
    order.refresh_from_db()
    assert Shipment.objects.get(pk=shipment.pk).status == "returned_to_sender"
    assert order.status != "delivered"
    message = OutboxEvent.objects.get(topic="shipment.returned_to_sender")
    assert message.payload["order_id"] == order.pk
    assert json.loads(json.dumps(message.payload))["from_status"] == "in_transit"


@pytest.mark.django_db
def test_an_impossible_date_is_a_field_error_not_a_500() -> None:
    _, _, shipment = _shipment()
    headers, body = signed_event(
        shipment.carrier,
        event_id="evt_date",
        tracking_number=shipment.tracking_number,
        status="in_transit",
        occurred_at="2026-02-30T00:00:00+00:00",  # well formed, no such day
    )
    before = _state()
    response = _post(headers, body)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_payload")
    assert [error["field"] for error in response.json()["errors"]] == ["occurred_at"]
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "extra",
    [{"description": "Left at\u0000door"}, {"meta": {"hub\u0000": "x"}}, {"scans": [["a\u0000"]]}],
)
def test_a_nul_character_anywhere_is_refused_with_nothing_written(extra: dict[str, Any]) -> None:
    """PostgreSQL text and jsonb cannot hold U+0000: refused as input, not a database 500."""
    _, _, shipment = _shipment()
    headers, body = signed_event(
        shipment.carrier,
        event_id="evt_nul",
        tracking_number=shipment.tracking_number,
        status="in_transit",
        **extra,
    )
    before = _state()
    response = _post(headers, body)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_payload")
    assert response["Content-Type"] == "application/problem+json"
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "secret", ["", "whsec_", "whsec_" + "QUJD" * 7, "QUJD" * 8, "whsec_not base64!", "whsec_!"]
)
def test_an_empty_or_short_carrier_secret_verifies_nothing(secret: str) -> None:
    """Signed with the carrier's own (weak) secret: still refused, a 401 and nothing written."""
    from django.core.exceptions import ValidationError

    from fulfillment.models import Carrier

    _, _, shipment = _shipment()
    Carrier.objects.filter(pk=shipment.carrier_id).update(webhook_secret=secret)
    carrier = Carrier.objects.get(pk=shipment.carrier_id)
    with pytest.raises(ValidationError) as refused:
        carrier.full_clean()
    assert list(refused.value.message_dict) == ["webhook_secret"]
    headers, body = signed_event(
        carrier,
        event_id="evt_weak",
        tracking_number=shipment.tracking_number,
        status="in_transit",
        # Signed with the weak secret itself (anyone could): it must not be accepted.
        secret="whsec_" + "QUJD" * 8 if "!" in secret else secret,
    )
    before = _state()
    response = _post(headers, body)
    assert (response.status_code, response.json()["code"]) == (401, "invalid_signature")
    assert _state() == before


@pytest.mark.django_db
def test_a_24_byte_whsec_secret_is_valid() -> None:
    from fulfillment.models import Carrier

    carrier = Carrier(code="c24", name="C24", webhook_secret="whsec_" + "QUJD" * 8)
    carrier.full_clean()
