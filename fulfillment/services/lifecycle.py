"""Fulfillment order lifecycle after packing: ship, ready for pickup, hand over.

Each step moves the fulfillment order along ``fulfillment.statuses`` (one transition table),
writes the order's timeline event and an outbox event ``fulfillment_order.<step>``, and moves
the order along ``orders.statuses`` through ``order_transition`` when the step changes what
the order as a whole is. Stock leaves only here, through ``inventory.services.stock_commit``
(on hand and reserved drop together), once per line: a shipped or collected fulfillment order
is final, so a repeated call is a no-op.

Lock order, as in ``fulfillment_orders``: the order row, its lines, the fulfillment order, its
lines, then every reservation the lines commit (by id) and their stock levels (by primary key),
all taken up front (``routing_rows_lock``) before the first ``stock_commit``, which then only
re-locks rows this transaction holds. Committing line by line without that would lock levels
in line order and wait for a reservation while holding a level: a deadlock with another ship
of the same products in the other order, or with any primary-key-ordered locker (feeds,
transfers). Ship-from-store and click-and-collect stores use the same services.

A stock loss may have shorted a line's reservation after its units were picked (the count did
not see the units in the tote): the sweep ``fulfillment_allocations_check`` withdraws only
unpicked units, so a packed line can hold more units than its reservation. Those units leave
anyway (the parcel is real); only what the reservation still holds is committed, because the
loss already took the rest off on hand. The event details say so (``not_reserved``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Parcel
from fulfillment.models_store import HandoverLine
from fulfillment.services.fulfillment_orders import (
    _fulfillment_order_lock,
    _order_id_of,
    announce,
    set_status,
)
from fulfillment.statuses import OPEN, FulfillmentStatus
from inventory.models import Reservation
from inventory.services import stock_commit
from inventory.services.routing_support import routing_rows_lock
from omnilog.core.errors import Conflict, FieldError, ValidationFailed
from orders.models import DeliveryMode, Order, OrderLine
from orders.services.timeline import order_lines_lock, order_lock
from orders.services.transitions import order_transition
from orders.statuses import OrderStatus, can_transition

PICKUP_MODES = frozenset({DeliveryMode.CLICK_AND_COLLECT, DeliveryMode.SHIP_TO_STORE})


def fulfillment_order_step(
    *,
    order: Order,
    fulfillment_order: FulfillmentOrder,
    target: FulfillmentStatus,
    actor: str,
    moment: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Move a locked fulfillment order to ``target`` (table-checked), stamp ``<target>_at``
    when the model has it, save, and announce it (timeline + outbox ``fulfillment_order.<target>``).

    Precondition: inside the transaction holding the order's and the fulfillment order's locks.
    """
    set_status(fulfillment_order, target)
    fields = ["status", "updated_at"]
    stamp = f"{target}_at"
    if hasattr(fulfillment_order, stamp):
        setattr(fulfillment_order, stamp, moment)
        fields.append(stamp)
    fulfillment_order.save(update_fields=fields)
    announce(
        order=order,
        fulfillment_order=fulfillment_order,
        verb=str(target),
        actor=actor,
        details=details or {},
    )


def order_advance(*, order: Order, target: OrderStatus, actor: str, message: str) -> None:
    """Move the order to ``target`` when its table allows it (a routed order passes through
    ``in_fulfillment``). A target the table refuses (a mixed order already partly shipped
    reaching a pickup step) leaves the status as it is: the fulfillment events tell the story.
    """
    if order.status == target:
        return
    if order.status == OrderStatus.ROUTED and target != OrderStatus.IN_FULFILLMENT:
        order_advance(order=order, target=OrderStatus.IN_FULFILLMENT, actor=actor, message=message)
    if can_transition(order.status, target):
        order_transition(
            order=order, to_status=target, actor=actor, source="fulfillment", message=message
        )


def _lock_lines(fulfillment_order: FulfillmentOrder) -> list[FulfillmentOrderLine]:
    return list(
        FulfillmentOrderLine.objects.select_for_update()
        .filter(fulfillment_order=fulfillment_order)
        .order_by("id")
    )


def _lock_stock(
    lines: list[FulfillmentOrderLine], quantities: Mapping[int, int] | None = None
) -> dict[int, int]:
    """Lock the reservations the lines commit (id order), then their stock levels
    (primary-key order), in the global order; return what each active one still holds.

    Precondition: inside the transaction holding the lines' locks and no stock-level lock.
    """
    reservations = routing_rows_lock(
        reservation_ids=[
            line.reservation_id
            for line in lines
            if line.reservation_id is not None and _units(line, quantities)
        ],
        targets=(),
    )
    return {
        reservation.pk: reservation.quantity
        for reservation in reservations
        if reservation.status == Reservation.Status.ACTIVE
    }


def _units(line: FulfillmentOrderLine, quantities: Mapping[int, int] | None) -> int:
    return line.quantity_packed if quantities is None else quantities.get(line.pk, 0)


def handed_over_units(fulfillment_order_id: int) -> dict[int, int]:
    """{fulfillment order line id: units already handed over} by partial handovers."""
    return dict(
        HandoverLine.objects.filter(
            fulfillment_order_line__fulfillment_order_id=fulfillment_order_id
        )
        .values("fulfillment_order_line_id")
        .annotate(units=Sum("quantity"))
        .values_list("fulfillment_order_line_id", "units")
    )


def _commit_lines(
    *,
    lines: list[FulfillmentOrderLine],
    order_lines: list[OrderLine],
    actor: str,
    quantities: Mapping[int, int] | None = None,
) -> list[dict[str, int]]:
    """Commit each line's packed units, or ``quantities`` ({line id: units}) of them (every
    reservation and level locked first, in the global order) and count them fulfilled. Units
    a stock loss shorted from the reservation after they were picked leave without a commit
    (see the module docstring)."""
    held = _lock_stock(lines, quantities)
    by_id = {line.pk: line for line in order_lines}
    done = []
    for line in sorted(lines, key=lambda item: (item.reservation_id or 0, item.pk)):
        units = _units(line, quantities)
        if units == 0:
            continue
        shipped = {"line_id": line.order_line_id, "quantity": units}
        if line.reservation_id is not None:
            committed = min(units, held.get(line.reservation_id, 0))
            if committed:
                stock_commit(
                    reservation_id=line.reservation_id,
                    quantity=committed,
                    actor=actor,
                    source="fulfillment",
                )
                held[line.reservation_id] -= committed
            if committed < units:
                shipped["not_reserved"] = units - committed
        order_line = by_id[line.order_line_id]
        order_line.quantity_fulfilled += units
        order_line.quantity_allocated = max(0, order_line.quantity_allocated - units)
        order_line.save(update_fields=["quantity_fulfilled", "quantity_allocated"])
        done.append(shipped)
    return done


def _all_fulfilled(order_lines: list[OrderLine]) -> bool:
    return all(
        line.quantity_fulfilled + line.quantity_cancelled >= line.quantity for line in order_lines
    )


def _require_no_open_parcel(fulfillment_order: FulfillmentOrder) -> None:
    open_parcel = (
        Parcel.objects.filter(fulfillment_order=fulfillment_order, status=Parcel.Status.OPEN)
        .values_list("number", flat=True)
        .first()
    )
    if open_parcel is not None:
        raise Conflict(
            f"Parcel {open_parcel} of FO-{fulfillment_order.pk} is still open; close it first.",
            code="parcel_open",
            details={"parcel": open_parcel},
        )


def _require_status(fulfillment_order: FulfillmentOrder, status: FulfillmentStatus) -> None:
    if fulfillment_order.status != status:
        raise Conflict(
            f"FO-{fulfillment_order.pk} is {fulfillment_order.status}, not {status}.",
            code="invalid_transition",
            details={"status": fulfillment_order.status, "expected": str(status)},
        )


def fulfillment_order_ship(
    *, fulfillment_order_id: int, actor: str, now: datetime | None = None
) -> FulfillmentOrder:
    """A packed fulfillment order leaves: every packed unit is committed (stock leaves the
    location), the order lines count it fulfilled, the order becomes ``shipped`` (every unit
    fulfilled or cancelled) or ``partially_shipped``. Shipping a shipped order again is a no-op.
    A pickup order (click-and-collect, ship-to-store) is refused (``Conflict``
    ``not_a_carrier_order``): it is handed over at the store, or sent there by
    ``ship_to_store_dispatch``, never shipped to the customer.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        order_lines = order_lines_lock(order=order)
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if fulfillment_order.status == FulfillmentStatus.SHIPPED:
            return fulfillment_order
        if fulfillment_order.delivery_mode in PICKUP_MODES:
            raise Conflict(
                f"FO-{fulfillment_order.pk} is {fulfillment_order.delivery_mode}: it is handed "
                "over in store (or sent there by ship-to-store), not shipped.",
                code="not_a_carrier_order",
                details={"delivery_mode": fulfillment_order.delivery_mode},
            )
        _require_status(fulfillment_order, FulfillmentStatus.PACKED)
        _require_no_open_parcel(fulfillment_order)
        lines = _lock_lines(fulfillment_order)
        shipped = _commit_lines(
            lines=lines,
            order_lines=order_lines,
            actor=actor,
        )
        parcels = fulfillment_order.parcels.count()
        fulfillment_order_step(
            order=order,
            fulfillment_order=fulfillment_order,
            target=FulfillmentStatus.SHIPPED,
            actor=actor,
            moment=moment,
            details={"lines": shipped, "parcels": parcels},
        )
        target = (
            OrderStatus.SHIPPED if _all_fulfilled(order_lines) else OrderStatus.PARTIALLY_SHIPPED
        )
        order_advance(
            order=order,
            target=target,
            actor=actor,
            message=f"FO-{fulfillment_order.pk} shipped from {fulfillment_order.location.code}",
        )
    return fulfillment_order


def fulfillment_order_ready_for_pickup(
    *, fulfillment_order_id: int, actor: str, now: datetime | None = None
) -> FulfillmentOrder:
    """A packed click-and-collect (or ship-to-store) order waits at the store. The order is
    ``ready_for_pickup`` once every one of its open fulfillment orders is. Idempotent."""
    moment = now or timezone.now()
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if fulfillment_order.status == FulfillmentStatus.READY_FOR_PICKUP:
            return fulfillment_order
        if fulfillment_order.delivery_mode not in PICKUP_MODES:
            raise Conflict(
                f"FO-{fulfillment_order.pk} is {fulfillment_order.delivery_mode}: only pickup "
                "orders wait in store; ship it instead.",
                code="not_a_pickup_order",
                details={"delivery_mode": fulfillment_order.delivery_mode},
            )
        _require_status(fulfillment_order, FulfillmentStatus.PACKED)
        _require_no_open_parcel(fulfillment_order)
        fulfillment_order_step(
            order=order,
            fulfillment_order=fulfillment_order,
            target=FulfillmentStatus.READY_FOR_PICKUP,
            actor=actor,
            moment=moment,
        )
        waiting = (
            FulfillmentOrder.objects.filter(order=order, status__in=OPEN)
            .exclude(status=FulfillmentStatus.READY_FOR_PICKUP)
            .exists()
        )
        if not waiting:
            order_advance(
                order=order,
                target=OrderStatus.READY_FOR_PICKUP,
                actor=actor,
                message=f"Ready for pickup at {fulfillment_order.location.code}",
            )
    return fulfillment_order


def fulfillment_order_handover(
    *,
    fulfillment_order_id: int,
    actor: str,
    lines: Sequence[tuple[int, int]] | None = None,
    now: datetime | None = None,
) -> FulfillmentOrder:
    """The customer collects: every packed unit not yet handed over is committed, the order is
    ``collected`` once every unit is fulfilled or cancelled. ``lines`` ((fulfillment order line
    id, quantity)), when given, must name every line with the units it has left: a partial
    handover goes through ``fulfillment.services.handover.pickup_handover`` (code-checked, it
    records what was handed over). Handing over twice is a no-op.

    The pickup-code check (store screens) belongs in front of this service. A cancelled
    order is refused (``Conflict`` ``order_cancelled``): its units are no longer the customer's.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        if order.status == OrderStatus.CANCELLED:
            raise Conflict(
                f"Order {order.number} is cancelled: nothing to hand over.",
                code="order_cancelled",
                details={"status": order.status},
            )
        order_lines = order_lines_lock(order=order)
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if fulfillment_order.status == FulfillmentStatus.COLLECTED:
            return fulfillment_order
        _require_status(fulfillment_order, FulfillmentStatus.READY_FOR_PICKUP)
        own = _lock_lines(fulfillment_order)
        handed = handed_over_units(fulfillment_order.pk)
        left = {line.pk: line.quantity_packed - handed.get(line.pk, 0) for line in own}
        if lines is not None:
            expected = {key: value for key, value in left.items() if value}
            if dict(lines) != expected or len(lines) != len(expected):
                raise ValidationFailed(
                    "A handover gives every packed unit of the order.",
                    field_errors=[
                        FieldError(
                            "lines",
                            "Expected "
                            + ", ".join(f"line {key}: {value}" for key, value in expected.items())
                            + ".",
                            "partial_handover",
                        )
                    ],
                )
        collected = _commit_lines(
            lines=own,
            order_lines=order_lines,
            actor=actor,
            quantities=left if handed else None,
        )
        fulfillment_order_step(
            order=order,
            fulfillment_order=fulfillment_order,
            target=FulfillmentStatus.COLLECTED,
            actor=actor,
            moment=moment,
            details={"lines": collected},
        )
        if _all_fulfilled(order_lines):
            order_advance(
                order=order,
                target=OrderStatus.COLLECTED,
                actor=actor,
                message=f"Collected at {fulfillment_order.location.code}",
            )
    return fulfillment_order
