"""Shared by the order services: lock an order, write its timeline event and outbox event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import F

from omnilog.core.errors import NotFound
from omnilog.core.outbox import outbox_emit
from orders.models import Order, OrderEvent, OrderLine


def order_lock(*, order_id: int, channel_id: int | None = None) -> Order:
    """Lock one order row (``SELECT ... FOR UPDATE``) and return it fresh.

    Precondition: inside ``transaction.atomic``. With ``channel_id`` the order must belong to
    that channel: another channel's order is "not found", never "forbidden" (a channel learns
    nothing about orders that are not its own). Lock order for the lifecycle: the order row,
    then its lines (by id), then their reservations, then stock levels (inventory's order).
    """
    queryset = Order.objects.select_for_update(of=("self",)).select_related("channel")
    if channel_id is not None:
        queryset = queryset.filter(channel_id=channel_id)
    order = queryset.filter(pk=order_id).first()
    if order is None:
        raise NotFound(f"No order {order_id}.", code="order_not_found")
    return order


def order_lines_lock(*, order: Order) -> list[OrderLine]:
    """Lock the order's lines in id order. Precondition: the caller holds the order's lock."""
    return list(
        OrderLine.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(order=order)
        .order_by("id")
    )


def order_version_bump(*, order: Order, fields: tuple[str, ...] = ()) -> None:
    """Save ``fields`` and bump ``version`` (routing ignores tasks queued for an older one)."""
    Order.objects.filter(pk=order.pk).update(
        version=F("version") + 1, **{name: getattr(order, name) for name in fields}
    )
    order.version += 1


def order_event_write(
    *,
    order: Order,
    kind: str,
    actor: str,
    channel_id: int | None = None,
    source: str = "",
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    details: Mapping[str, Any] | None = None,
) -> OrderEvent:
    """Append one timeline event. Precondition: inside the transaction making the change."""
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor[:150],
        channel_id=channel_id,
        source=source[:64],
        message=message[:300],
        details=dict(details or {}),
    )


def order_outbox_emit(*, order: Order, topic: str, payload: Mapping[str, Any]) -> None:
    """One outbox event about ``order``; every payload carries the order's identity, its
    channel and its customer (id, and the e-mail this order's channel gave)."""
    outbox_emit(
        topic=topic,
        aggregate_type="order",
        aggregate_id=order.pk,
        payload={
            "order_id": order.pk,
            "number": order.number,
            "channel_id": order.channel_id,
            # The CRM follows a customer's orders on every channel (docs/supply.md, "CRM").
            "customer_id": order.customer_id,
            "customer_email": order.customer_email,
            "status": order.status,
            "version": order.version,
            **payload,
        },
    )
