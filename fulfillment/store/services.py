"""Store writes: pick one pickup order by scanning, report a line not found or damaged, bag
it and make it ready (pickup code e-mailed).

A store picks one customer's order at a time from the counter: a scan of any of its items
(EAN or SKU) picks one unit of the matching line, in whatever order the shelves come. That is
``store_pick_scan``; it moves the fulfillment order along the same table as the warehouse
scanner (accepted -> picking -> picked, ``fulfillment_order_step``) and keeps any pick task
planned for the line in step, under the same locks in the same order as
``fulfillment.services.picking`` (pick lists, the order, the fulfillment order, its lines).
Short picks go through ``picking.pick_short`` (``fulfillment_order_reject``: released here,
re-routed or shortened by the routing rules with the customer's partial-delivery consent);
a damaged unit is then set aside as damaged stock (``stock_damage``).

Scans are idempotent by the screen's scan id: the first request with an id claims it in the
cache (``SET NX``), a repeat is answered "duplicate" and changes nothing; a scan that fails
releases its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    PickList,
    PickTask,
    RoutingDecision,
)
from fulfillment.models_store import PickupCode
from fulfillment.services.fulfillment_orders import (
    _fulfillment_order_lock,
    _order_id_of,
    _unpicked,
    fulfillment_order_accept,
)
from fulfillment.services.lifecycle import (
    PICKUP_MODES,
    fulfillment_order_ready_for_pickup,
    fulfillment_order_step,
)
from fulfillment.services.picking import _complete_picked, _finish_list, pick_short
from fulfillment.services.pickup_codes import IssuedCode, pickup_code_issue
from fulfillment.statuses import FulfillmentStatus
from inventory.services.operations import stock_damage
from omnilog.core.errors import ApplicationError, Conflict, FieldError, ValidationFailed
from orders.services.timeline import order_lock

SCAN_ID_SECONDS = 600
PICKABLE = (FulfillmentStatus.ACCEPTED, FulfillmentStatus.PICKING)


@dataclass(frozen=True)
class StoreScanResult:
    is_duplicate: bool
    sku: str = ""
    name: str = ""
    line_picked: int = 0
    line_quantity: int = 0
    units_left: int = 0
    status: str = ""


@dataclass(frozen=True)
class StoreShortResult:
    decision: RoutingDecision | None
    damaged_recorded: int
    damage_error: str


def _scan_key(fulfillment_order_id: int, scan_id: str) -> str:
    return f"store:scan:{fulfillment_order_id}:{scan_id[:64]}"


def store_order_accept(*, fulfillment_order_id: int, actor: str) -> None:
    """Accept a pickup order that is still ``created`` (the store takes it on by opening it)."""
    if _fulfillment_order_status(fulfillment_order_id) == FulfillmentStatus.CREATED:
        fulfillment_order_accept(fulfillment_order_id=fulfillment_order_id, actor=actor)


def _fulfillment_order_status(fulfillment_order_id: int) -> str:
    status = (
        FulfillmentOrder.objects.filter(pk=fulfillment_order_id)
        .values_list("status", flat=True)
        .first()
    )
    return str(status or "")


def store_pick_scan(
    *,
    fulfillment_order_id: int,
    code: str,
    scan_id: str,
    actor: str,
    now: datetime | None = None,
) -> StoreScanResult:
    """Pick one unit of the line whose product has EAN or SKU ``code``.

    Accepts the fulfillment order first when it is ``created``. Refused with nothing written:
    an empty code (``ValidationFailed``), a code not in the order (``Conflict`` ``wrong_item``),
    a line with every unit picked (``excess_item``), an order that is not being picked
    (``invalid_transition``). A repeated ``scan_id`` returns ``is_duplicate`` and writes nothing.
    """
    code = code.strip()
    if not code:
        raise ValidationFailed(
            "Scan or type a barcode.", field_errors=[FieldError("code", "Required.", "required")]
        )
    key = _scan_key(fulfillment_order_id, scan_id) if scan_id else ""
    if key and not cache.add(key, 1, timeout=SCAN_ID_SECONDS):
        return StoreScanResult(is_duplicate=True)
    try:
        store_order_accept(fulfillment_order_id=fulfillment_order_id, actor=actor)
        return _pick_one(
            fulfillment_order_id=fulfillment_order_id,
            code=code,
            actor=actor,
            moment=now or timezone.now(),
        )
    except BaseException:
        if key:
            cache.delete(key)
        raise


def _pick_one(
    *, fulfillment_order_id: int, code: str, actor: str, moment: datetime
) -> StoreScanResult:
    with transaction.atomic():
        # Pick lists first (ids ascending), as pick_confirm_scan does: a task planned for one
        # of the lines is kept in step.
        list_ids = sorted(
            set(
                PickTask.objects.filter(
                    fulfillment_order_line__fulfillment_order_id=fulfillment_order_id,
                    status=PickTask.Status.OPEN,
                ).values_list("pick_list_id", flat=True)
            )
        )
        pick_lists = list(
            PickList.objects.select_for_update().filter(pk__in=list_ids).order_by("id")
        )
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if fulfillment_order.delivery_mode not in PICKUP_MODES:
            raise Conflict(
                f"FO-{fulfillment_order.pk} is a {fulfillment_order.delivery_mode} order: pick "
                "it from the ship-from-store screen.",
                code="not_a_pickup_order",
            )
        if fulfillment_order.status not in PICKABLE:
            raise Conflict(
                f"Order {order.number} is {fulfillment_order.get_status_display().lower()}: "
                "nothing is left to pick.",
                code="invalid_transition",
                details={"status": fulfillment_order.status},
            )
        lines = list(
            FulfillmentOrderLine.objects.select_for_update(of=("self",))
            .select_related("order_line__product")
            .filter(fulfillment_order=fulfillment_order)
            .order_by("id")
        )
        line = scanned_line(lines, code, order_number=order.number)
        if fulfillment_order.status == FulfillmentStatus.ACCEPTED:
            fulfillment_order_step(
                order=order,
                fulfillment_order=fulfillment_order,
                target=FulfillmentStatus.PICKING,
                actor=actor,
                moment=moment,
                details={"store": True},
            )
        FulfillmentOrderLine.objects.filter(pk=line.pk).update(
            quantity_picked=F("quantity_picked") + 1
        )
        line.quantity_picked += 1
        task = (
            PickTask.objects.select_for_update()
            .filter(fulfillment_order_line=line, status=PickTask.Status.OPEN)
            .first()
        )
        if task is not None:
            task.quantity_picked += 1
            if task.quantity_remaining <= 0:
                task.status = PickTask.Status.DONE
            task.save(update_fields=["quantity_picked", "status"])
        _complete_picked(
            orders={order.pk: order},
            fulfillment_orders={fulfillment_order.pk: fulfillment_order},
            actor=actor,
            moment=moment,
        )
        for pick_list in pick_lists:
            _finish_list(pick_list, moment)
        return StoreScanResult(
            is_duplicate=False,
            sku=line.order_line.sku,
            name=line.order_line.name,
            line_picked=line.quantity_picked,
            line_quantity=line.quantity_open,
            units_left=sum(_unpicked(item) for item in lines),
            status=fulfillment_order.status,
        )


def scanned_line(
    lines: list[FulfillmentOrderLine], code: str, *, order_number: str
) -> FulfillmentOrderLine:
    """The line a counter scan picks from: the first line whose product has EAN ``code`` or
    SKU ``code`` (any case) with units left. Shared by the pickup and ship-from-store screens.

    Raises ``Conflict`` ``wrong_item`` when no line has the product and ``excess_item`` when
    every unit of it is picked. ``lines`` come with ``order_line__product`` selected.
    """
    folded = code.casefold()
    matches = [
        line
        for line in lines
        if code == (line.order_line.product.ean or "") or folded == line.order_line.sku.casefold()
    ]
    if not matches:
        raise Conflict(
            f"Wrong item: {code} is not in order {order_number}.",
            code="wrong_item",
            details={"code": code},
        )
    line = next((item for item in matches if _unpicked(item) > 0), None)
    if line is None:
        first = matches[0].order_line
        raise Conflict(
            f"Already picked: every unit of {first.sku} {first.name} is already picked.",
            code="excess_item",
            details={"sku": first.sku},
        )
    return line


def store_line_short(
    *,
    fulfillment_order_id: int,
    line_id: int,
    quantity: int,
    reason: str,
    actor: str,
) -> StoreShortResult:
    """``quantity`` unpicked units of the line are not found or damaged: rejected here
    (``pick_short``: released, the order re-routed or shortened per its consent), then, when
    damaged, set aside as damaged stock. A damage the stock cannot take any more (the freed
    units were promised again meanwhile) is reported, not raised: the rejection stands and a
    stock count fixes the counters.
    """
    line = (
        FulfillmentOrderLine.objects.select_related("order_line")
        .filter(pk=line_id, fulfillment_order_id=fulfillment_order_id)
        .first()
    )
    if line is None:
        raise ValidationFailed(
            "Not a line of this order.",
            field_errors=[FieldError("line_id", "Not a line of this order.", "invalid")],
        )
    store_order_accept(fulfillment_order_id=fulfillment_order_id, actor=actor)
    decision = pick_short(
        fulfillment_order_line_id=line_id, quantity=quantity, reason=reason, actor=actor
    )
    damaged, damage_error = 0, ""
    if reason == "damaged":
        location_id = (
            FulfillmentOrderLine.objects.filter(pk=line_id)
            .values_list("fulfillment_order__location_id", flat=True)
            .get()
        )
        try:
            stock_damage(
                product_id=line.order_line.product_id,
                location_id=location_id,
                quantity=quantity,
                reason=f"damaged at pick, FO-{fulfillment_order_id}",
                actor=actor,
            )
            damaged = quantity
        except ApplicationError as error:
            damage_error = error.message
    return StoreShortResult(decision=decision, damaged_recorded=damaged, damage_error=damage_error)


def store_order_ready(
    *, fulfillment_order_id: int, actor: str, now: datetime | None = None
) -> IssuedCode:
    """A picked pickup order is bagged (every picked unit packed, no parcel: it is not
    shipped), made ready for pickup, and its pickup code issued and e-mailed, in one
    transaction (the e-mail leaves after commit). A ready order without a code (a ship-to-store
    arrival) just gets its code. Refused (``Conflict``) unless picked, packed or ready without
    a code (``already_ready``: re-sending a code is ``pickup_code_issue``, managers only).
    """
    moment = now or timezone.now()
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if fulfillment_order.delivery_mode not in PICKUP_MODES:
            raise Conflict(
                f"FO-{fulfillment_order.pk} is not a pickup order.", code="not_a_pickup_order"
            )
        if fulfillment_order.status == FulfillmentStatus.PICKED:
            lines = list(
                FulfillmentOrderLine.objects.select_for_update()
                .filter(fulfillment_order=fulfillment_order)
                .order_by("id")
            )
            for line in lines:
                if line.quantity_packed != line.quantity_picked:
                    line.quantity_packed = line.quantity_picked
                    line.save(update_fields=["quantity_packed"])
            fulfillment_order_step(
                order=order,
                fulfillment_order=fulfillment_order,
                target=FulfillmentStatus.PACKED,
                actor=actor,
                moment=moment,
                details={"bagged": sum(line.quantity_packed for line in lines)},
            )
        elif (
            fulfillment_order.status == FulfillmentStatus.READY_FOR_PICKUP
            and PickupCode.objects.filter(fulfillment_order=fulfillment_order).exists()
        ):
            raise Conflict(
                f"Order {order.number} is already ready and its code was sent; a store manager "
                "can send a new code.",
                code="already_ready",
            )
        elif fulfillment_order.status not in (
            FulfillmentStatus.PACKED,
            FulfillmentStatus.READY_FOR_PICKUP,
        ):
            raise Conflict(
                f"Order {order.number} is {fulfillment_order.get_status_display().lower()}: "
                "pick every item first.",
                code="not_picked",
                details={"status": fulfillment_order.status},
            )
        fulfillment_order_ready_for_pickup(
            fulfillment_order_id=fulfillment_order_id, actor=actor, now=moment
        )
        return pickup_code_issue(fulfillment_order_id=fulfillment_order_id, actor=actor, now=moment)
