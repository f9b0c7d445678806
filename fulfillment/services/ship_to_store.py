"""Ship-to-store: the glue between routing's fulfillment order at another location and the
pickup store.

Routing serves a ship-to-store order (or a click-and-collect order whose pickup store is short)
from another location, usually a warehouse: its fulfillment order there is accepted, picked and
packed as usual. Then:

1. ``ship_to_store_dispatch`` (one transaction): a click-and-collect ``TransferOrder`` to the
   pickup store for the packed units, carrying their reservations, is created and shipped: the
   reservations are committed at the origin (on hand and reserved drop there, in transit rises
   at the store). The origin's fulfillment order becomes ``shipped``; the order lines keep
   their allocation and are not fulfilled yet (the customer has nothing yet).
2. ``ship_to_store_receive``: the store counts the transfer (``transfer_receive``, its own
   transaction: in transit -> on hand), then ``ship_to_store_ready`` reserves the units
   received again for the order at the store (``stock_reserve`` with location lines, in a
   second transaction, because inventory requires that no other stock lock is held), creates
   the store's fulfillment order holding them (created ``packed``: the parcel arrives packed),
   makes it ready for pickup and settles the origin's fulfillment order as ``delivered`` (to
   the store). ``fulfillment_order_handover`` then commits the store reservation once.

Between the two transactions of step 2 the received units are free at the store; should
another order take them first, ``ship_to_store_ready`` raises ``InsufficientStock`` and writes
nothing, and can be called again (the transfer stays received). A short receipt reserves only
what came: the missing units stay allocated on the order lines and the order cannot be
collected whole (no automatic re-route yet). Units cancelled while in transit are not reserved
again (each line is capped at what the order still owes, read under the order's lock): they
stay free stock at the store, and an order cancelled whole gets no store fulfillment order.

Lock order: the order row, its lines, the fulfillment orders, then (inside the transfer and
inventory services) the transfer, reservations by id and stock levels by primary key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, TransferOrder
from fulfillment.services.fulfillment_orders import _fulfillment_order_lock, _order_id_of
from fulfillment.services.lifecycle import (
    PICKUP_MODES,
    _require_no_open_parcel,
    _require_status,
    fulfillment_order_ready_for_pickup,
    fulfillment_order_step,
)
from fulfillment.services.transfers import (
    ReceivedLine,
    TransferLineInput,
    transfer_create,
    transfer_receive,
    transfer_ship,
)
from fulfillment.shipping_statuses import TransferStatus
from fulfillment.statuses import FulfillmentStatus
from inventory.models import Reservation
from inventory.services import ReserveLine, stock_reserve
from omnilog.core.errors import Conflict, NotFound
from orders.services.line_stock import ORDER_LINE
from orders.services.timeline import order_lines_lock, order_lock


def ship_to_store_dispatch(
    *,
    fulfillment_order_id: int,
    actor: str,
    expected_arrival: datetime | None = None,
    now: datetime | None = None,
) -> TransferOrder:
    """Send a packed pickup-order fulfillment order from its location to the order's pickup
    store: a click-and-collect transfer with the packed units and their reservations, shipped
    (the reservations are committed at the origin). Returns the shipped transfer.

    Raises ``Conflict``: ``not_a_ship_to_store_order`` (not a pickup order, or already at the
    pickup store: make it ready for pickup there), ``invalid_transition`` (not packed),
    ``parcel_open``; ``InsufficientStock`` from the transfer. Nothing is written then.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if (
            fulfillment_order.delivery_mode not in PICKUP_MODES
            or order.pickup_location_id is None
            or order.pickup_location_id == fulfillment_order.location_id
        ):
            raise Conflict(
                f"FO-{fulfillment_order.pk} is not a pickup order prepared away from its "
                "pickup store: nothing to transfer.",
                code="not_a_ship_to_store_order",
                details={
                    "delivery_mode": fulfillment_order.delivery_mode,
                    "location": fulfillment_order.location.code,
                },
            )
        _require_status(fulfillment_order, FulfillmentStatus.PACKED)
        _require_no_open_parcel(fulfillment_order)
        lines = [
            line
            for line in FulfillmentOrderLine.objects.select_for_update(of=("self",))
            .select_related("order_line")
            .filter(fulfillment_order=fulfillment_order)
            .order_by("id")
            if line.quantity_packed > 0
        ]
        transfer = transfer_create(
            from_location_id=fulfillment_order.location_id,
            to_location_id=order.pickup_location_id,
            reason=TransferOrder.Reason.CLICK_AND_COLLECT,
            lines=[
                TransferLineInput(
                    product_id=line.order_line.product_id,
                    quantity=line.quantity_packed,
                    reservation_id=line.reservation_id,
                )
                for line in lines
            ],
            order_id=order.pk,
            expected_arrival=expected_arrival,
            note=f"FO-{fulfillment_order.pk}",
            actor=actor,
        )
        transfer = transfer_ship(
            transfer_id=transfer.pk, actor=actor, expected_arrival=expected_arrival
        )
        fulfillment_order_step(
            order=order,
            fulfillment_order=fulfillment_order,
            target=FulfillmentStatus.SHIPPED,
            actor=actor,
            moment=moment,
            details={"transfer_id": transfer.pk, "to_location": transfer.to_location.code},
        )
    return transfer


def ship_to_store_receive(
    *, transfer_id: int, lines: Sequence[ReceivedLine], actor: str, now: datetime | None = None
) -> FulfillmentOrder:
    """The pickup store receives a click-and-collect transfer (``transfer_receive``), then the
    units are reserved for the order there and wait for pickup (``ship_to_store_ready``).
    Returns the store's fulfillment order, ``ready_for_pickup``."""
    transfer_receive(transfer_id=transfer_id, lines=lines, actor=actor)
    return ship_to_store_ready(transfer_id=transfer_id, actor=actor, now=now)


def ship_to_store_ready(
    *, transfer_id: int, actor: str, now: datetime | None = None
) -> FulfillmentOrder:
    """Reserve a received click-and-collect transfer's units for its order at the store, hold
    them in a store fulfillment order and make it ready for pickup; the origin's fulfillment
    order is settled ``delivered``. Only the units the order still owes (ordered minus
    fulfilled minus cancelled, read under the order's lock) are reserved: when the order was
    cancelled in transit nothing is reserved, no store fulfillment order is created, the
    origin's is settled and returned. Idempotent: once done, returns the store's fulfillment
    order (or the settled origin's). Precondition: no stock-level lock held (``stock_reserve``).
    """
    moment = now or timezone.now()
    transfer = TransferOrder.objects.select_related("to_location").filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound(f"No transfer {transfer_id}.", code="transfer_not_found")
    if (
        transfer.reason != TransferOrder.Reason.CLICK_AND_COLLECT
        or transfer.order_id is None
        or transfer.status != TransferStatus.RECEIVED
    ):
        raise Conflict(
            f"Transfer {transfer.reference} is not a received click-and-collect transfer.",
            code="transfer_not_received",
            details={"status": transfer.status, "reason": transfer.reason},
        )
    transfer_lines = list(transfer.lines.order_by("id"))
    origin_id = (
        FulfillmentOrderLine.objects.filter(
            reservation_id__in=[line.reservation_id for line in transfer_lines],
            fulfillment_order__order_id=transfer.order_id,
        )
        .values_list("fulfillment_order_id", flat=True)
        .first()
    )
    if origin_id is None:
        raise Conflict(
            f"Transfer {transfer.reference} carries no fulfillment order's units.",
            code="transfer_without_fulfillment_order",
        )
    with transaction.atomic():
        order = order_lock(order_id=transfer.order_id)
        order_lines = {line.pk: line for line in order_lines_lock(order=order)}
        origin = _fulfillment_order_lock(origin_id)
        store_order = FulfillmentOrder.objects.filter(
            order=order, location=transfer.to_location, routing_decision=origin.routing_decision
        ).first()
        if store_order is not None:
            if origin.status == FulfillmentStatus.DELIVERED:
                return store_order
            raise Conflict(
                f"Order {order.number} already has FO-{store_order.pk} at "
                f"{transfer.to_location.code} from the same routing decision; a split between "
                "the store and a transfer is not merged yet.",
                code="ship_to_store_split",
                details={"fulfillment_order_id": store_order.pk},
            )
        if origin.status == FulfillmentStatus.DELIVERED:
            return origin  # settled earlier with nothing left to hold (order cancelled)
        _require_status(origin, FulfillmentStatus.SHIPPED)
        received: dict[int, int] = defaultdict(int)
        for sent in transfer_lines:
            received[sent.product_id] += sent.quantity_received or 0
        # Units still owed per order line, read under the order's and its lines' locks: the
        # order may have been cancelled (wholly or partly) while the units were in transit.
        # Cancelled units are not reserved again: they stay free stock at the store.
        owed = {line_id: line.quantity_open for line_id, line in order_lines.items()}
        pieces: list[tuple[int, int, int]] = []  # (order line, product, units)
        missing: list[dict[str, int]] = []
        for line in origin.lines.select_related("order_line").order_by("id"):
            product_id = line.order_line.product_id
            came = min(line.quantity_packed, received[product_id])
            received[product_id] -= came
            needed = min(line.quantity_packed, max(0, owed.get(line.order_line_id, 0)))
            units = min(came, needed)
            owed[line.order_line_id] = owed.get(line.order_line_id, 0) - units
            if units:
                pieces.append((line.order_line_id, product_id, units))
            if units < needed:
                missing.append({"line_id": line.order_line_id, "quantity": needed - units})
        for item in missing:
            # Units that never came are no longer held for the order anywhere.
            order_lines[item["line_id"]].quantity_allocated = max(
                0, order_lines[item["line_id"]].quantity_allocated - item["quantity"]
            )
            order_lines[item["line_id"]].save(update_fields=["quantity_allocated"])
        if not pieces and not missing:
            # Nothing is owed any more (the order was cancelled in transit): reserve nothing,
            # create no store fulfillment order; the origin's is settled, delivered to the store.
            fulfillment_order_step(
                order=order,
                fulfillment_order=origin,
                target=FulfillmentStatus.DELIVERED,
                actor=actor,
                moment=moment,
                details={
                    "transfer_id": transfer.pk,
                    "to_location": transfer.to_location.code,
                    "store_fulfillment_order_id": None,
                    "missing": missing,
                },
            )
            return origin
        reservations: list[Reservation] = (
            stock_reserve(
                lines=[
                    ReserveLine(
                        product_id=product_id,
                        quantity=units,
                        location_id=transfer.to_location_id,
                        reference_id=str(line_id),
                    )
                    for line_id, product_id, units in pieces
                ],
                kind=Reservation.Kind.ORDER,
                reference_type=ORDER_LINE,
                actor=actor,
                source=f"transfer:{transfer.reference}",
            )
            if pieces
            else []
        )
        store_order = FulfillmentOrder.objects.create(
            order=order,
            location=transfer.to_location,
            routing_decision=origin.routing_decision,
            status=FulfillmentStatus.PACKED,
            delivery_mode=origin.delivery_mode,
            accept_by=moment,
            accepted_at=moment,
            picked_at=moment,
            packed_at=moment,
        )
        FulfillmentOrderLine.objects.bulk_create(
            FulfillmentOrderLine(
                fulfillment_order=store_order,
                order_line_id=line_id,
                reservation=reservation,
                quantity=units,
                quantity_picked=units,
                quantity_packed=units,
            )
            for (line_id, _, units), reservation in zip(pieces, reservations, strict=True)
        )
        fulfillment_order_step(
            order=order,
            fulfillment_order=origin,
            target=FulfillmentStatus.DELIVERED,
            actor=actor,
            moment=moment,
            details={
                "transfer_id": transfer.pk,
                "to_location": transfer.to_location.code,
                "store_fulfillment_order_id": store_order.pk,
                "missing": missing,
            },
        )
        store_order = fulfillment_order_ready_for_pickup(
            fulfillment_order_id=store_order.pk, actor=actor, now=moment
        )
    return store_order


__all__ = [
    "ReceivedLine",
    "ship_to_store_dispatch",
    "ship_to_store_ready",
    "ship_to_store_receive",
]
