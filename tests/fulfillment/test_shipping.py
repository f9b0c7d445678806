"""Shipments: label through the built-in rate-table carrier, PDF label, refusals write nothing,
relay-point shipments honour the point's limits, cancellation, staff API."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from fulfillment.carriers import Service, tracking_number
from fulfillment.models import RelayPoint, Shipment, ShipmentEvent
from fulfillment.services.shipping import ParcelInput, shipment_cancel, shipment_create
from fulfillment.shipping_statuses import ShipmentStatus
from omnilog.core.errors import ApplicationError, Conflict, ValidationFailed
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent
from tests.fulfillment.shipping_support import accepted_fulfillment_order, builtin_carrier

PARCEL = ParcelInput(weight_grams=900, length_mm=300, width_mm=200, height_mm=100)


@pytest.fixture(autouse=True)
def _uncompressed_pdfs(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SHIPPING_PDF_COMPRESS = False


def _counts() -> tuple[int, int, int, int]:
    return (
        Shipment.objects.count(),
        ShipmentEvent.objects.count(),
        OrderEvent.objects.count(),
        OutboxEvent.objects.count(),
    )


@pytest.mark.django_db
def test_shipment_create_quotes_labels_and_records_everything() -> None:
    builtin_carrier()
    _, order, fo = accepted_fulfillment_order("FR")
    outbox_before = OutboxEvent.objects.count()

    shipment = shipment_create(
        fulfillment_order_id=fo.pk,
        carrier_code="omnilog-rates",
        service="standard",
        parcels=[PARCEL],
        actor="staff:ana",
    )

    shipment.refresh_from_db()
    number = tracking_number(service=Service.STANDARD, sequence=shipment.pk, parcel_index=1)
    assert shipment.tracking_number == number
    assert (shipment.status, shipment.service, shipment.zone) == (
        "label_created",
        "standard",
        "national",
    )
    assert shipment.price == Decimal("7.90")  # national, chargeable 1,200 g: the 2 kg band
    assert (shipment.weight_grams, shipment.length_mm, shipment.width_mm, shipment.height_mm) == (
        900,
        300,
        200,
        100,
    )
    assert shipment.parcels == [
        {
            "tracking_number": number,
            "weight_grams": 900,
            "length_mm": 300,
            "width_mm": 200,
            "height_mm": 100,
            "chargeable_weight_grams": 1200,  # 300 x 200 x 100 mm / 5000
        }
    ]
    assert (shipment.customs_form, shipment.customs_data, shipment.commercial_invoice_pdf) == (
        "",
        {},
        None,
    )
    pdf = bytes(shipment.label_pdf)
    assert pdf.startswith(b"%PDF")
    assert f"({number})".encode() in pdf
    assert b"(Camille Martin)" in pdf
    assert list(shipment.events.values_list("status", "from_status")) == [("label_created", "")]
    event = OrderEvent.objects.filter(order=order, kind="shipment").get()
    assert event.message == f"Shipment {number}: label created"
    topics = list(
        OutboxEvent.objects.filter(id__gt=0).order_by("id").values_list("topic", flat=True)
    )[outbox_before:]
    assert topics == ["shipment.label_created"]


@pytest.mark.django_db
def test_a_second_live_shipment_and_a_refused_parcel_write_nothing() -> None:
    builtin_carrier()
    _, _, fo = accepted_fulfillment_order("FR")
    shipment_create(
        fulfillment_order_id=fo.pk,
        carrier_code="omnilog-rates",
        service="standard",
        parcels=[PARCEL],
        actor="t",
    )
    before = _counts()
    with pytest.raises(Conflict) as exists:
        shipment_create(
            fulfillment_order_id=fo.pk,
            carrier_code="omnilog-rates",
            service="express",
            parcels=[PARCEL],
            actor="t",
        )
    assert exists.value.code == "shipment_exists"
    assert _counts() == before

    Shipment.objects.update(status="cancelled")
    heavy = ParcelInput(weight_grams=31_000, length_mm=300, width_mm=200, height_mm=100)
    with pytest.raises(ApplicationError) as refused:
        shipment_create(
            fulfillment_order_id=fo.pk,
            carrier_code="omnilog-rates",
            service="standard",
            parcels=[heavy],
            actor="t",
        )
    assert (refused.value.code, refused.value.status) == ("label_refused", 422)
    assert refused.value.details["refusals"] == [
        {
            "code": "too_heavy",
            "message": "31000 g is above the 30000 g limit of standard",
            "parcel_index": "0",
        }
    ]
    assert _counts() == before


@pytest.mark.django_db
def test_relay_shipment_goes_to_the_point_and_respects_its_limits() -> None:
    carrier = builtin_carrier()
    _, order, fo = accepted_fulfillment_order("FR")
    Order.objects.filter(pk=order.pk).update(
        delivery_mode="relay_point", relay_point_code="PAR-002"
    )
    big = ParcelInput(weight_grams=5_000, length_mm=700, width_mm=300, height_mm=300)
    before = _counts()
    with pytest.raises(ValidationFailed) as refused:
        shipment_create(
            fulfillment_order_id=fo.pk,
            carrier_code="omnilog-rates",
            service="relay",
            parcels=[big],
            actor="t",
        )
    assert refused.value.code == "relay_point_refused"
    assert [(e.field, e.message) for e in refused.value.field_errors] == [
        ("parcels.0", "700x300x300 mm does not fit the 600x400x400 mm limits of PAR-002")
    ]
    assert _counts() == before

    shipment = shipment_create(
        fulfillment_order_id=fo.pk,
        carrier_code="omnilog-rates",
        service="relay",
        parcels=[PARCEL],
        actor="t",
    )
    assert shipment.relay_point == RelayPoint.objects.get(carrier=carrier, point_id="PAR-002")
    assert (shipment.service, shipment.price) == ("relay", Decimal("4.90"))
    assert b"(Relay point PAR-002)" in bytes(shipment.label_pdf)


@pytest.mark.django_db
def test_cancel_voids_an_unscanned_label_only_once() -> None:
    builtin_carrier()
    _, _, fo = accepted_fulfillment_order("FR")
    shipment = shipment_create(
        fulfillment_order_id=fo.pk,
        carrier_code="omnilog-rates",
        service="express",
        parcels=[PARCEL],
        actor="t",
    )
    shipment_cancel(shipment_id=shipment.pk, actor="t")
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.CANCELLED
    with pytest.raises(Conflict):
        shipment_cancel(shipment_id=shipment.pk, actor="t")
    assert list(ShipmentEvent.objects.order_by("id").values_list("status", flat=True)) == [
        "label_created",
        "cancelled",
    ]


@pytest.mark.django_db
def test_staff_api_creates_a_shipment_and_serves_its_label() -> None:
    builtin_carrier()
    _, _, fo = accepted_fulfillment_order("FR")
    User.objects.create_user("ana", password="pw", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"ana:pw").decode())

    response = client.post(
        "/api/v1/shipments",
        {
            "fulfillment_order_id": fo.pk,
            "carrier": "omnilog-rates",
            "service": "standard",
            "parcels": [{"weight_grams": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["price"], body["carrier"]) == (
        "label_created",
        "7.90",
        "omnilog-rates",
    )
    label = client.get(f"/api/v1/shipments/{body['id']}/label")
    assert label.status_code == 200
    assert label["Content-Type"] == "application/pdf"
    assert label.content.startswith(b"%PDF")
    assert f"({body['tracking_number']})".encode() in label.content
    missing = client.get(f"/api/v1/shipments/{body['id']}/commercial-invoice")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"

    anonymous = APIClient().post("/api/v1/shipments", {}, format="json")
    assert anonymous.status_code == 403
    assert "WWW-Authenticate" not in anonymous


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/shipments",
            {
                "fulfillment_order_id": 1,
                "carrier": "omnilog-rates",
                "service": "standard",
                "parcels": [
                    {"weight_grams": 2**31, "length_mm": 300, "width_mm": 200, "height_mm": 1}
                ],
            },
            "parcels.0.weight_grams",
        ),
        (
            "/api/v1/shipments",
            {
                "fulfillment_order_id": 1,
                "carrier": "omnilog-rates",
                "service": "standard",
                "parcels": [
                    {"weight_grams": 9, "length_mm": 10_001, "width_mm": 2, "height_mm": 1}
                ],
            },
            "parcels.0.length_mm",
        ),
        (
            "/api/v1/transfers",
            {
                "from_location_id": 1,
                "to_location_id": 2,
                "reason": "replenishment",
                "lines": [{"product_id": 1, "quantity": 2**31}],
            },
            "lines.0.quantity",
        ),
        (
            "/api/v1/transfers/1/receive",
            {"lines": [{"line_id": 1, "quantity_received": 1_000_001}]},
            "lines.0.quantity_received",
        ),
    ],
)
def test_numbers_past_their_columns_are_field_errors(path: str, body: dict, field: str) -> None:  # type: ignore[type-arg]
    User.objects.create_user("ana", password="pw", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"ana:pw").decode())
    response = client.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, "max_value")]
