"""A cancelled order (or cancelled lines) withdraws its open fulfillment orders.

``orders.services.cancel`` gives the units back to stock itself (youngest reservation first)
and then calls the ``orders.hooks`` cancellation hooks in the same transaction;
``FulfillmentConfig.ready`` registers :func:`fulfillment_orders_order_lines_cancelled`. It
releases nothing (stock is released once, by the cancel); it makes the fulfillment order
lines follow the reservations: the units a line's reservation no longer holds are withdrawn
from it (recorded, like an SLA withdrawal, in ``quantity_rejected`` with the reason), a
fulfillment order with nothing open left becomes ``cancelled`` with ``cancel_reason``, and the
order lines' ``quantity_allocated`` is set to what their open fulfillment orders still hold.

Only unpicked units are withdrawn (youngest line first). A cancel whose released units can only
come from units already picked (in a tote, or packed in a parcel) is refused with ``Conflict``
``units_already_picked``, which rolls the whole cancel back: the units are physically on their
way, so the line would otherwise promise more than its reservation holds and could never ship.
Unpacking them, or a return once they arrive, is a warehouse or customer-service decision.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F, Sum

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from fulfillment.services.fulfillment_orders import announce, set_status
from fulfillment.statuses import OPEN, FulfillmentStatus
from inventory.models import Reservation
from omnilog.core.errors import Conflict
from orders.models import Order, OrderLine

CANCELLED_REASON = "order cancelled"


def fulfillment_orders_order_lines_cancelled(
    order_id: int, order_line_ids: tuple[int, ...], reason: str, actor: str
) -> list[FulfillmentOrder]:
    """Withdraw the cancelled units of ``order_line_ids`` from the order's open fulfillment
    orders; return the fulfillment orders changed (id order).

    Precondition: inside the cancelling transaction, which holds the order's row lock, its
    lines' locks and the lines' reservation locks, and has already released the units.
    Fulfillment orders are locked here (id order), then their lines. Raises ``Conflict``
    ``units_already_picked`` when the units to withdraw are already picked (module docstring).
    """
    fulfillment_orders = {
        fo.pk: fo
        for fo in FulfillmentOrder.objects.select_for_update(of=("self",))
        .select_related("location")
        .filter(
            order_id=order_id,
            status__in=list(OPEN),
            pk__in=FulfillmentOrderLine.objects.filter(order_line_id__in=order_line_ids).values(
                "fulfillment_order_id"
            ),
        )
        .order_by("id")
    }
    if not fulfillment_orders:
        return []
    lines = list(
        FulfillmentOrderLine.objects.select_for_update()
        .filter(
            fulfillment_order_id__in=list(fulfillment_orders),
            order_line_id__in=order_line_ids,
            quantity__gt=F("quantity_rejected"),
        )
        .order_by("id")
    )
    held = dict(
        Reservation.objects.filter(
            pk__in={line.reservation_id for line in lines if line.reservation_id},
            status=Reservation.Status.ACTIVE,
        ).values_list("pk", "quantity")
    )
    by_reservation: dict[int | None, list[FulfillmentOrderLine]] = defaultdict(list)
    for line in lines:
        by_reservation[line.reservation_id].append(line)
    withdrawn: dict[int, list[dict[str, int]]] = defaultdict(list)
    text = f"{CANCELLED_REASON}: {reason}"[:200]
    for reservation_id, group in sorted(by_reservation.items(), key=lambda item: item[0] or 0):
        if reservation_id is None:
            continue  # routing binds every line to a reservation; nothing to follow otherwise
        excess = sum(line.quantity_open for line in group) - held.get(reservation_id, 0)
        for line in sorted(group, key=lambda item: item.pk, reverse=True):
            if excess <= 0:
                break
            cut = min(excess, line.quantity - line.quantity_rejected - line.quantity_picked)
            if cut <= 0:
                continue
            line.quantity_rejected += cut
            line.rejection_reason = text
            line.save(update_fields=["quantity_rejected", "rejection_reason"])
            withdrawn[line.fulfillment_order_id].append(
                {"line_id": line.order_line_id, "quantity": cut}
            )
            excess -= cut
        if excess > 0:
            picked = sorted(group, key=lambda item: item.pk)
            raise Conflict(
                f"{excess} unit(s) to cancel are already picked at "
                f"{fulfillment_orders[picked[0].fulfillment_order_id].location.code} "
                f"(FO-{picked[0].fulfillment_order_id}); they can no longer be cancelled.",
                code="units_already_picked",
                details={
                    "fulfillment_order_ids": sorted({line.fulfillment_order_id for line in group}),
                    "order_line_ids": sorted({line.order_line_id for line in group}),
                    "units": excess,
                },
            )
    allocated = dict(
        FulfillmentOrderLine.objects.filter(
            order_line_id__in=order_line_ids, fulfillment_order__status__in=list(OPEN)
        )
        .values("order_line_id")
        .annotate(units=Sum(F("quantity") - F("quantity_rejected")))
        .values_list("order_line_id", "units")
    )
    for order_line_id in order_line_ids:
        OrderLine.objects.filter(pk=order_line_id).update(
            quantity_allocated=allocated.get(order_line_id, 0)
        )
    if not withdrawn:
        return []
    order = Order.objects.get(pk=order_id)
    changed = []
    for fulfillment_order_id in sorted(withdrawn):
        fulfillment_order = fulfillment_orders[fulfillment_order_id]
        still_open = FulfillmentOrderLine.objects.filter(
            fulfillment_order=fulfillment_order, quantity__gt=F("quantity_rejected")
        ).exists()
        if not still_open:
            set_status(fulfillment_order, FulfillmentStatus.CANCELLED)
            fulfillment_order.cancel_reason = text
            fulfillment_order.save(update_fields=["status", "cancel_reason", "updated_at"])
        announce(
            order=order,
            fulfillment_order=fulfillment_order,
            verb="reduced" if still_open else "cancelled",
            actor=actor,
            details={"reason": text, "lines": withdrawn[fulfillment_order_id]},
        )
        changed.append(fulfillment_order)
    return changed
