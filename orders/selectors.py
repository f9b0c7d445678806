"""Reads of orders: a channel's orders (scoped by channel, always) and tracking."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from omnilog.core.errors import FieldError, NotFound, ValidationFailed
from orders.filters import OrderFilter
from orders.models import Order, OrderEvent, OrderLine
from orders.statuses import OrderStatus


def _orders_for_channel(channel_id: int) -> QuerySet[Order]:
    return Order.objects.filter(channel_id=channel_id).select_related("customer", "pickup_location")


def order_get_for_channel(*, channel_id: int, order_id: int) -> Order:
    """The order with its lines (2 queries). Another channel's order is ``NotFound``: a
    channel learns nothing about orders it does not own."""
    order = (
        _orders_for_channel(channel_id)
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("pickup_location"))
        )
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound("No such order.")
    return order


def order_list_for_channel(
    *, channel_id: int, filters: Mapping[str, Any] | None = None
) -> QuerySet[Order]:
    """The channel's orders, filtered (``OrderFilter``); lines prefetched when evaluated.

    Raises ``ValidationFailed`` with one field error per bad filter value.
    """
    queryset = _orders_for_channel(channel_id).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("pickup_location"))
    )
    filterset = OrderFilter(data=filters or {}, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationFailed(
            "Some filters are not valid.",
            field_errors=[
                FieldError(name, str(message), "invalid")
                for name, messages in filterset.errors.items()
                for message in messages
            ],
        )
    orders: QuerySet[Order] = filterset.qs
    return orders


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    label: str
    status: str
    message: str


@dataclass(frozen=True)
class TrackingLine:
    line_number: int
    sku: str
    name: str
    quantity: int
    quantity_fulfilled: int
    quantity_cancelled: int
    delivery_mode: str
    pickup_store: str


@dataclass(frozen=True)
class Tracking:
    """What a customer may see of an order on any device (no prices of other parties, no ids
    of internal systems). Shipments and pickup codes arrive with fulfillment: empty today."""

    order_id: int
    number: str
    status: str
    status_label: str
    placed_at: datetime
    promised_date: date | None
    delivery_mode: str
    delivery_mode_label: str
    pickup_store: str
    pickup_slot_start: datetime | None
    pickup_slot_end: datetime | None
    relay_point_code: str
    currency: str
    grand_total: str
    lines: tuple[TrackingLine, ...]
    timeline: tuple[TimelineEntry, ...]
    shipments: tuple[dict[str, Any], ...] = ()
    pickup_code: str | None = None
    pickup_store_id: int | None = None
    # Curbside check-in ("I'm here" on the tracking page).
    curbside_arrived_at: datetime | None = None
    curbside_bay: int | None = None
    curbside_note: str = ""


# What the public tracking page shows of the timeline: fixed labels, never an event's
# ``message`` (hold reasons, merge notes, location codes are for the back office).
_PUBLIC_STATUS_LABELS: dict[str, str] = {
    OrderStatus.IN_FULFILLMENT: "Being prepared",
    OrderStatus.PARTIALLY_SHIPPED: "Partly shipped",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.READY_FOR_PICKUP: "Ready for pickup",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.COLLECTED: "Collected",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CANCELLED: "Cancelled",
}
_PUBLIC_KIND_LABELS: dict[str, str] = {
    OrderEvent.Kind.PLACED: "Order placed",
    OrderEvent.Kind.SHIPMENT: "Shipment update",
    OrderEvent.Kind.PICKUP: "Pickup update",
}


def _public_timeline_entry(event: OrderEvent) -> TimelineEntry | None:
    label = _PUBLIC_STATUS_LABELS.get(event.to_status) or _PUBLIC_KIND_LABELS.get(event.kind)
    if label is None:
        return None
    return TimelineEntry(
        at=event.created_at, kind=event.kind, label=label, status=event.to_status, message=""
    )


def _tracking(order: Order, *, is_public: bool = False) -> Tracking:
    kinds = dict(OrderEvent.Kind.choices)
    if is_public:
        entries = (_public_timeline_entry(event) for event in order.events.all())
        timeline = tuple(entry for entry in entries if entry is not None)
    else:
        timeline = tuple(
            TimelineEntry(
                at=event.created_at,
                kind=event.kind,
                label=kinds.get(event.kind, event.kind),
                status=event.to_status,
                message=event.message,
            )
            for event in order.events.all()
        )
    return Tracking(
        order_id=order.pk,
        number=order.number,
        status=order.status,
        status_label=order.get_status_display(),
        placed_at=order.placed_at,
        promised_date=order.promised_date,
        delivery_mode=order.delivery_mode,
        delivery_mode_label=order.get_delivery_mode_display(),
        pickup_store=order.pickup_location.name if order.pickup_location else "",
        pickup_slot_start=order.pickup_slot_start,
        pickup_slot_end=order.pickup_slot_end,
        relay_point_code=order.relay_point_code,
        currency=order.currency,
        grand_total=str(order.grand_total),
        lines=tuple(
            TrackingLine(
                line_number=line.line_number,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                quantity_fulfilled=line.quantity_fulfilled,
                quantity_cancelled=line.quantity_cancelled,
                delivery_mode=line.delivery_mode,
                pickup_store=line.pickup_location.name if line.pickup_location else "",
            )
            for line in order.lines.all()
        ),
        timeline=timeline,
        pickup_store_id=order.pickup_location_id,
        curbside_arrived_at=order.curbside_arrived_at,
        curbside_bay=order.curbside_bay,
        curbside_note=order.curbside_note,
    )


def _tracking_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("pickup_location").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("pickup_location")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("id")),
    )


def order_tracking(*, channel_id: int, order_id: int) -> Tracking:
    """Tracking of one of the channel's orders (3 queries); ``NotFound`` otherwise."""
    order = _tracking_queryset().filter(channel_id=channel_id, pk=order_id).first()
    if order is None:
        raise NotFound("No such order.")
    return _tracking(order)


def order_tracking_by_token(*, token: str) -> Tracking:
    """Tracking for the customer's link (3 queries); ``NotFound`` for an unknown token.

    Anyone holding the link sees it: the timeline keeps customer-facing events only."""
    if not token or len(token) > 64:
        raise NotFound("No such order.")
    order = _tracking_queryset().filter(tracking_token=token).first()
    if order is None:
        raise NotFound("No such order.")
    return _tracking(order, is_public=True)
