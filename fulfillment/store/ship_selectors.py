"""Ship-from-store reads: the store's carrier orders to pick and pack, and one order's sheet."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Coalesce

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Parcel
from fulfillment.models_shipping import Shipment
from fulfillment.statuses import FulfillmentStatus
from fulfillment.store.ship_services import SHIP_MODES
from inventory.models import Location

# Carrier orders still to prepare or hand to the carrier.
SHIP_LIST_STATUSES = (
    FulfillmentStatus.CREATED,
    FulfillmentStatus.ACCEPTED,
    FulfillmentStatus.PICKING,
    FulfillmentStatus.PICKED,
    FulfillmentStatus.PACKED,
)


def ship_list(*, location: Location) -> QuerySet[FulfillmentOrder]:
    """The store's carrier fulfillment orders to pick, pack or ship, with ``units`` (open
    units) annotated; the order selected. Sorted by the acceptance deadline of those not yet
    accepted, then the promise (earliest first), then id. One query."""
    return (
        FulfillmentOrder.objects.filter(
            location=location,
            delivery_mode__in=SHIP_MODES,
            status__in=list(SHIP_LIST_STATUSES),
        )
        .select_related("order")
        .annotate(units=Coalesce(Sum(F("lines__quantity") - F("lines__quantity_rejected")), 0))
        .order_by(
            F("accept_by").asc(nulls_last=True),
            F("order__promised_at").asc(nulls_last=True),
            "pk",
        )
    )


@dataclass(frozen=True)
class ShipSheetLine:
    line_id: int
    sku: str
    ean: str
    name: str
    quantity: int
    picked: int
    packed: int


@dataclass(frozen=True)
class ShipSheet:
    lines: tuple[ShipSheetLine, ...]
    open_parcel: int | None  # number of the open parcel, if any
    closed_parcels: int
    shipment: Shipment | None  # the live shipment (label bought), if any

    @property
    def units_to_pick(self) -> int:
        return sum(line.quantity - line.picked for line in self.lines)

    @property
    def units_to_pack(self) -> int:
        return sum(line.picked - line.packed for line in self.lines)


def ship_sheet(*, fulfillment_order: FulfillmentOrder) -> ShipSheet:
    """Lines (product selected), parcels and the live shipment of one carrier order."""
    lines = tuple(
        ShipSheetLine(
            line_id=line.pk,
            sku=line.order_line.sku,
            ean=line.order_line.product.ean or "",
            name=line.order_line.name,
            quantity=line.quantity - line.quantity_rejected,
            picked=line.quantity_picked,
            packed=line.quantity_packed,
        )
        for line in FulfillmentOrderLine.objects.filter(fulfillment_order=fulfillment_order)
        .select_related("order_line__product")
        .order_by("id")
    )
    parcels = list(
        Parcel.objects.filter(fulfillment_order=fulfillment_order).values_list("number", "status")
    )
    open_parcel = next((number for number, status in parcels if status == Parcel.Status.OPEN), None)
    return ShipSheet(
        lines=lines,
        open_parcel=open_parcel,
        closed_parcels=sum(1 for _, status in parcels if status != Parcel.Status.OPEN),
        shipment=live_shipment(fulfillment_order_id=fulfillment_order.pk),
    )


def live_shipment(*, fulfillment_order_id: int) -> Shipment | None:
    """The fulfillment order's shipment that is not cancelled (its label), or None."""
    return (
        Shipment.objects.filter(fulfillment_order_id=fulfillment_order_id)
        .exclude(status=Shipment.Status.CANCELLED)
        .select_related("carrier")
        .order_by("-pk")
        .first()
    )
