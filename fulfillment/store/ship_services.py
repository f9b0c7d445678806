"""Ship-from-store writes: pick one carrier order at the counter by scanning.

Packing, labels and the ship step are the existing services (``fulfillment.services.packing``,
``shipping.shipment_create``, ``lifecycle.fulfillment_order_ship``); only picking needs a
store flavour: a store picks one order at a time by scanning its items (EAN or SKU), not a
warehouse wave. Lock order, as in ``fulfillment.services.picking``: the order row, the
fulfillment order, its lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.models import FulfillmentOrderLine, PickTask
from fulfillment.services.fulfillment_orders import (
    _fulfillment_order_lock,
    _order_id_of,
    _unpicked,
    fulfillment_order_accept,
)
from fulfillment.services.lifecycle import fulfillment_order_step
from fulfillment.services.picking import _complete_picked
from fulfillment.statuses import FulfillmentStatus
from fulfillment.store.services import scanned_line
from omnilog.core.errors import Conflict, FieldError, ValidationFailed
from orders.models import DeliveryMode
from orders.services.timeline import order_lock

# Carrier deliveries a ship-from-store store prepares.
SHIP_MODES = (
    DeliveryMode.HOME_STANDARD,
    DeliveryMode.HOME_EXPRESS,
    DeliveryMode.SAME_DAY,
    DeliveryMode.RELAY_POINT,
)


@dataclass(frozen=True)
class ShipPickResult:
    sku: str
    line_picked: int
    line_quantity: int
    units_left: int
    status: str


def ship_pick_scan(
    *, fulfillment_order_id: int, code: str, actor: str, now: datetime | None = None
) -> ShipPickResult:
    """Pick one unit of the carrier order's line whose product has EAN or SKU ``code``.

    Accepts the fulfillment order first when it is ``created``; the first pick moves it to
    ``picking``, the last to ``picked``. Refused with nothing written: an empty code
    (``ValidationFailed``), a pickup order (``Conflict`` ``not_a_carrier_order``), an order not
    being picked (``invalid_transition``), lines already on a warehouse pick list
    (``on_pick_list``: pick them from the list), a code not in the order (``wrong_item``), a
    line with every unit picked (``excess_item``).
    """
    code = code.strip()
    if not code:
        raise ValidationFailed(
            "Scan or type a barcode.", field_errors=[FieldError("code", "Required.", "required")]
        )
    moment = now or timezone.now()
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if fulfillment_order.delivery_mode not in SHIP_MODES:
            raise Conflict(
                f"Order {order.number} is collected in store: pick it from the queue.",
                code="not_a_carrier_order",
            )
        if fulfillment_order.status == FulfillmentStatus.CREATED:
            fulfillment_order_accept(fulfillment_order_id=fulfillment_order.pk, actor=actor)
            fulfillment_order.refresh_from_db()
        if fulfillment_order.status not in (FulfillmentStatus.ACCEPTED, FulfillmentStatus.PICKING):
            raise Conflict(
                f"Order {order.number} is {fulfillment_order.get_status_display().lower()}: "
                "nothing is left to pick.",
                code="invalid_transition",
                details={"status": fulfillment_order.status},
            )
        planned = (
            PickTask.objects.filter(
                fulfillment_order_line__fulfillment_order=fulfillment_order,
                status=PickTask.Status.OPEN,
            )
            .values_list("pick_list_id", flat=True)
            .first()
        )
        if planned is not None:
            raise Conflict(
                f"Order {order.number} is on pick list PL-{planned}: pick it from the list.",
                code="on_pick_list",
                details={"pick_list_id": planned},
            )
        lines = list(
            FulfillmentOrderLine.objects.select_for_update(of=("self",))
            .select_related("order_line__product")
            .filter(fulfillment_order=fulfillment_order)
            .order_by("id")
        )
        line = scanned_line(lines, code, order_number=order.number)
        FulfillmentOrderLine.objects.filter(pk=line.pk).update(
            quantity_picked=F("quantity_picked") + 1
        )
        line.quantity_picked += 1
        if fulfillment_order.status == FulfillmentStatus.ACCEPTED:
            fulfillment_order_step(
                order=order,
                fulfillment_order=fulfillment_order,
                target=FulfillmentStatus.PICKING,
                actor=actor,
                moment=moment,
            )
        _complete_picked(
            orders={order.pk: order},
            fulfillment_orders={fulfillment_order.pk: fulfillment_order},
            actor=actor,
            moment=moment,
        )
        return ShipPickResult(
            sku=line.order_line.sku,
            line_picked=line.quantity_picked,
            line_quantity=line.quantity - line.quantity_rejected,
            units_left=sum(_unpicked(item) for item in lines),
            status=fulfillment_order.status,
        )
