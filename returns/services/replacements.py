"""Replacement orders (exchanges, reshipped claims): placed like any order through the capture
service, so their stock is reserved at once, for the original order's channel, customer snapshot
and delivery; a reshipped claim's replacement is then made free of charge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from omnilog.core.errors import FieldError, ValidationFailed
from omnilog.core.models import OutboxEvent
from orders.models import DeliveryMode, Order, OrderEvent, OrderLine
from orders.services.capture import order_place_for_channel
from orders.services.inputs import (
    AddressInput,
    CustomerInput,
    DeliveryInput,
    LineInput,
    OrderInput,
)
from orders.services.timeline import order_event_write
from returns.services.common import Actor


@dataclass(frozen=True)
class ReplacementLineInput:
    sku: str
    quantity: int


def actor_event_write(
    *, order: Order, kind: str, actor: Actor, message: str, details: Mapping[str, Any]
) -> None:
    """One timeline entry of ``order`` by ``actor`` (name, channel, source)."""
    order_event_write(
        order=order,
        kind=kind,
        actor=actor.name,
        channel_id=actor.channel_id,
        source=actor.source,
        message=message,
        details=details,
    )


def replacement_delivery(order: Order) -> DeliveryInput:
    """The original order's (default) delivery, as capture takes it."""
    address = None
    if order.shipping_address:
        fields = order.shipping_address
        address = AddressInput(
            line1=str(fields.get("line1", "")),
            postcode=str(fields.get("postcode", "")),
            city=str(fields.get("city", "")),
            country=str(fields.get("country", "FR")),
            name=str(fields.get("name", "")),
            line2=str(fields.get("line2", "")),
            phone=str(fields.get("phone", "")),
            latitude=fields.get("latitude"),
            longitude=fields.get("longitude"),
        )
    store_modes = {DeliveryMode.CLICK_AND_COLLECT, DeliveryMode.SHIP_TO_STORE}
    store = order.pickup_location if order.delivery_mode in store_modes else None
    return DeliveryInput(
        mode=order.delivery_mode,
        address=address,
        store_code=store.code if store is not None else "",
        relay_point_code=order.relay_point_code,
    )


def replacement_order_place(
    *,
    order: Order,
    lines: Sequence[ReplacementLineInput],
    actor: Actor,
    external_id: str,
    payment_status: str,
    field_prefix: str = "replacement_lines",
) -> Order:
    """Place a replacement of ``order`` (same channel, customer snapshot and delivery) for
    ``lines`` through the capture service: priced, and its stock reserved at once.

    Capture's errors come back with their paths moved under ``field_prefix``
    (``lines.0.sku`` -> ``replacement_lines.0.sku``); ``InsufficientStock`` is raised as is
    (409, every short line). Precondition: inside the caller's transaction, no stock-level
    lock held (capture reserves).
    """
    data = OrderInput(
        customer=CustomerInput(
            email=order.customer_email,
            phone=order.customer_phone,
            first_name=order.customer_first_name,
            last_name=order.customer_last_name,
            company_name=order.customer_company_name,
        ),
        lines=tuple(LineInput(sku=line.sku, quantity=line.quantity) for line in lines),
        delivery=replacement_delivery(order),
        external_id=external_id,
        payment_status=payment_status,
        is_partial_delivery_allowed=order.is_partial_delivery_allowed,
    )
    try:
        return order_place_for_channel(
            channel=order.channel, data=data, actor=actor.name, source=actor.source or "returns"
        )
    except ValidationFailed as error:
        raise ValidationFailed(
            f"The replacement order cannot be placed: {error.message}",
            code=error.code,
            details=error.details,
            field_errors=[_repath(problem, field_prefix) for problem in error.field_errors],
        ) from error


def _repath(problem: FieldError, prefix: str) -> FieldError:
    head, dot, rest = problem.field.partition(".")
    if head == "lines" and dot:
        return FieldError(f"{prefix}.{rest}", problem.message, problem.code)
    return FieldError(f"replacement.{problem.field}", problem.message, problem.code)


def replacement_free_of_charge(
    *, order: Order, reason: str, actor: Actor, details: Mapping[str, Any]
) -> Order:
    """Make a just-placed order free: every line fully discounted, totals zero, nothing to pay.

    Capture priced it like any order; the replacement is not charged, so its lines keep their
    list price (``unit_price``) with a discount of the whole line, and its stored pricing says
    why. The ``order.placed`` event written by capture in this same transaction (not yet
    delivered) is corrected so that no subscriber sees a price to collect. Precondition:
    inside the transaction that placed ``order``.
    """
    lines = list(OrderLine.objects.filter(order=order).order_by("line_number"))
    for line in lines:
        line.discount_total = line.unit_price * line.quantity
        line.tax_amount = Decimal("0.00")
        line.total = Decimal("0.00")
    OrderLine.objects.bulk_update(lines, ["discount_total", "tax_amount", "total"])
    Order.objects.filter(pk=order.pk).update(
        discount_total=order.subtotal,
        shipping_total=0,
        tax_total=0,
        grand_total=0,
        pricing={
            "currency": order.currency,
            "free_of_charge": True,
            "reason": reason,
            "lines": [],
            "grand_total": "0.00",
        },
    )
    placed = OutboxEvent.objects.filter(
        topic="order.placed", aggregate_type="order", aggregate_id=str(order.pk)
    ).first()
    if placed is not None:
        placed.payload = {**placed.payload, "grand_total": "0.00", "free_of_charge": True}
        placed.save(update_fields=["payload"])
    actor_event_write(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        actor=actor,
        message=reason,
        details=dict(details),
    )
    return Order.objects.get(pk=order.pk)
