"""Picking: plan a location's accepted lines into waves and pick lists, confirm picks by scan,
report short picks.

Planning is the pure core's (``fulfillment.picking.plan_picking``); this module builds its input
from the database and persists its output (``PickWave``, ``PickList``, one ``PickTask`` per stop
allocation). A line is in at most one open task (a partial unique constraint), and planning
runs under the location's ``PickingStrategy`` row lock, so planning twice plans nothing twice.

Lock order: the pick list, then the orders of the fulfillment orders involved (ids ascending),
those fulfillment orders, their lines; the same order-before-fulfillment-order rule as
``fulfillment_orders``. A short pick goes through ``fulfillment_order_reject`` (released at this
location, re-routed elsewhere), then closes the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    PickingStrategy,
    PickList,
    PickTask,
    PickWave,
    ProductBin,
    RoutingDecision,
)
from fulfillment.picking import plan_picking
from fulfillment.picking.types import DeliveryService, OpenLine, Plan, WalkPath
from fulfillment.picking.types import PickingStrategy as StrategySpec
from fulfillment.services.fulfillment_orders import fulfillment_order_reject
from fulfillment.services.lifecycle import fulfillment_order_step
from fulfillment.statuses import FulfillmentStatus
from inventory.models import Location, Product
from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from orders.models import DeliveryMode, Order
from orders.services.timeline import order_lock

SERVICE_OF_MODE = {
    DeliveryMode.HOME_STANDARD: DeliveryService.STANDARD,
    DeliveryMode.HOME_EXPRESS: DeliveryService.EXPRESS,
    DeliveryMode.SAME_DAY: DeliveryService.SAME_DAY,
    DeliveryMode.CLICK_AND_COLLECT: DeliveryService.CLICK_AND_COLLECT,
    DeliveryMode.RELAY_POINT: DeliveryService.RELAY,
    DeliveryMode.SHIP_TO_STORE: DeliveryService.STANDARD,
}
SHORT_REASONS = ("not_found", "damaged")
PLANNABLE = (FulfillmentStatus.ACCEPTED, FulfillmentStatus.PICKING)


@dataclass(frozen=True)
class PickingPlanResult:
    plan: Plan
    pick_list_ids: tuple[int, ...]


@dataclass(frozen=True)
class Put:
    """Where scanned units go: tote (cluster) or sort slot (batch) of one fulfillment order."""

    fulfillment_order_id: int
    fulfillment_order_line_id: int
    quantity: int
    tote: int | None
    sort_slot: int | None


@dataclass(frozen=True)
class NextStop:
    sequence: int
    bin_location: str
    sku: str
    ean: str
    quantity: int


@dataclass(frozen=True)
class ScanResult:
    pick_list_id: int
    pick_list_status: str
    sequence: int
    sku: str
    quantity: int
    puts: tuple[Put, ...]
    next_stop: NextStop | None
    picked_fulfillment_order_ids: tuple[int, ...]


def picking_strategy_of(row: PickingStrategy) -> StrategySpec:
    """The pure core's strategy from the location's row."""
    hot = frozenset(DeliveryService(value) for value in row.hot_services)
    return StrategySpec(
        location_id=row.location_id,
        batch_max_lines=row.batch_max_lines,
        batch_max_units=row.batch_max_units,
        cluster_totes=row.cluster_totes,
        cluster_max_units=row.cluster_max_units,
        max_wave_lines=row.max_wave_lines,
        hot_services=hot or frozenset({DeliveryService.EXPRESS, DeliveryService.SAME_DAY}),
        wave_cutoffs=tuple(sorted(time.fromisoformat(value) for value in row.wave_cutoffs)),
        is_click_and_collect_own_wave=row.is_click_and_collect_own_wave,
        walk_path=WalkPath(row.walk_path),
        wave_lead=timedelta(minutes=row.wave_lead_minutes),
        minimum_lead=timedelta(minutes=row.minimum_lead_minutes),
        aisle_change_bays=row.aisle_change_bays,
    )


def _open_lines(location_id: int) -> list[OpenLine]:
    """Lines of accepted (or picking) fulfillment orders with units left to pick and no open
    task."""
    rows = (
        FulfillmentOrderLine.objects.filter(
            fulfillment_order__location_id=location_id,
            fulfillment_order__status__in=PLANNABLE,
            quantity__gt=F("quantity_rejected") + F("quantity_picked"),
        )
        .exclude(pick_tasks__status=PickTask.Status.OPEN)
        .select_related("fulfillment_order", "order_line__product")
        .order_by("id")
    )
    lines = list(rows)
    bins = dict(
        ProductBin.objects.filter(
            location_id=location_id,
            product_id__in={line.order_line.product_id for line in lines},
        ).values_list("product_id", "bin_location")
    )
    return [
        OpenLine(
            fulfillment_order_id=line.fulfillment_order_id,
            order_id=line.fulfillment_order.order_id,
            line_id=line.pk,
            sku=line.order_line.sku,
            quantity=line.quantity - line.quantity_rejected - line.quantity_picked,
            bin_location=bins.get(line.order_line.product_id, ""),
            ean=line.order_line.product.ean or "",
            weight_grams=line.order_line.product.weight_grams,
            service=SERVICE_OF_MODE.get(
                DeliveryMode(line.fulfillment_order.delivery_mode), DeliveryService.STANDARD
            ),
        )
        for line in lines
    ]


def picking_plan_location(*, location_id: int, now: datetime | None = None) -> PickingPlanResult:
    """Plan the location's open lines and persist the waves, lists and tasks.

    Runs under the location's strategy row lock (created with defaults when missing); lines
    already in an open task are not planned again, so a second call plans only what arrived
    since. ``now`` is taken in the location's time zone (the strategy's fixed cut-offs are
    local times of day).
    """
    location = Location.objects.filter(pk=location_id).first()
    if location is None:
        raise NotFound(f"No location {location_id}.", code="location_not_found")
    moment = (now or timezone.now()).astimezone(ZoneInfo(location.timezone))
    PickingStrategy.objects.get_or_create(location_id=location_id)
    with transaction.atomic():
        strategy_row = PickingStrategy.objects.select_for_update().get(location_id=location_id)
        plan = plan_picking(_open_lines(location_id), picking_strategy_of(strategy_row), now=moment)
        created: list[int] = []
        for wave in plan.waves:
            wave_row = PickWave.objects.create(
                location_id=location_id,
                code=wave.id,
                kind=str(wave.kind),
                cutoff_at=wave.cutoff_at,
                release_at=wave.release_at,
                planned_at=moment,
                carriers=list(wave.carriers),
            )
            for pick_list in wave.pick_lists:
                row = PickList.objects.create(
                    wave=wave_row,
                    location_id=location_id,
                    code=pick_list.id,
                    kind=str(pick_list.kind),
                    order_count=pick_list.order_count,
                    line_count=pick_list.line_count,
                    unit_count=pick_list.unit_count,
                    weight_grams=pick_list.weight_grams,
                    walk_score=pick_list.walk.score,
                )
                PickTask.objects.bulk_create(
                    PickTask(
                        pick_list=row,
                        sequence=stop.sequence,
                        fulfillment_order_line_id=allocation.line_id,
                        bin_location=stop.address.raw,
                        sku=stop.sku,
                        ean=stop.ean,
                        quantity=allocation.quantity,
                        tote=allocation.tote,
                        sort_slot=allocation.sort_slot,
                    )
                    for stop in pick_list.stops
                    for allocation in stop.allocations
                )
                created.append(row.pk)
    return PickingPlanResult(plan=plan, pick_list_ids=tuple(created))


def _pick_list_lock(pick_list_id: int) -> PickList:
    found = PickList.objects.select_for_update().filter(pk=pick_list_id).first()
    if found is None:
        raise NotFound(f"No pick list {pick_list_id}.", code="pick_list_not_found")
    return found


def _lock_orders_and_fulfillment_orders(
    fulfillment_order_ids: set[int],
) -> tuple[dict[int, Order], dict[int, FulfillmentOrder]]:
    """Orders (ids ascending), then their fulfillment orders (ids ascending)."""
    order_ids = sorted(
        set(
            FulfillmentOrder.objects.filter(pk__in=fulfillment_order_ids).values_list(
                "order_id", flat=True
            )
        )
    )
    orders = {order_id: order_lock(order_id=order_id) for order_id in order_ids}
    fulfillment_orders = {
        fo.pk: fo
        for fo in FulfillmentOrder.objects.select_for_update(of=("self",))
        .select_related("location")
        .filter(pk__in=fulfillment_order_ids)
        .order_by("id")
    }
    return orders, fulfillment_orders


def _complete_picked(
    *,
    orders: dict[int, Order],
    fulfillment_orders: dict[int, FulfillmentOrder],
    actor: str,
    moment: datetime,
) -> list[int]:
    """Fulfillment orders in ``picking`` with every open unit picked become ``picked``."""
    done = []
    for fo in fulfillment_orders.values():
        if fo.status != FulfillmentStatus.PICKING:
            continue
        missing = FulfillmentOrderLine.objects.filter(
            fulfillment_order=fo, quantity__gt=F("quantity_rejected") + F("quantity_picked")
        ).exists()
        if not missing:
            fulfillment_order_step(
                order=orders[fo.order_id],
                fulfillment_order=fo,
                target=FulfillmentStatus.PICKED,
                actor=actor,
                moment=moment,
            )
            done.append(fo.pk)
    return done


def _finish_list(pick_list: PickList, moment: datetime) -> None:
    if not PickTask.objects.filter(pick_list=pick_list, status=PickTask.Status.OPEN).exists():
        pick_list.status = PickList.Status.DONE
        pick_list.completed_at = moment
        pick_list.save(update_fields=["status", "completed_at"])


def _next_stop(pick_list: PickList) -> NextStop | None:
    tasks = list(
        PickTask.objects.filter(pick_list=pick_list, status=PickTask.Status.OPEN).order_by(
            "sequence", "id"
        )
    )
    if not tasks:
        return None
    first = tasks[0]
    return NextStop(
        sequence=first.sequence,
        bin_location=first.bin_location,
        sku=first.sku,
        ean=first.ean,
        quantity=sum(task.quantity_remaining for task in tasks if task.sequence == first.sequence),
    )


def _product_label(ean: str) -> str:
    found = Product.objects.filter(ean=ean).values_list("sku", "name").first()
    return f"{ean} ({found[0]} {found[1]})" if found else f"{ean} (unknown EAN)"


def pick_confirm_scan(
    *,
    pick_list_id: int,
    ean: str,
    actor: str,
    quantity: int = 1,
    tote: int | None = None,
    now: datetime | None = None,
) -> ScanResult:
    """Confirm ``quantity`` units scanned at the list's current stop (the lowest sequence with
    units left), optionally into ``tote``.

    The first scan starts the list (``in_progress``, picker = actor) and moves its accepted
    fulfillment orders to ``picking``; a fulfillment order with every open unit picked becomes
    ``picked``; the list is ``done`` when no task is left. A wrong EAN, a tote that takes
    nothing here, or more units than the stop has left are refused (``Conflict``) with nothing
    written. Tasks of fulfillment orders withdrawn meanwhile (cancelled, rejected) are closed
    as they come up, unpicked.
    """
    ean = ean.strip()
    errors = []
    if not ean:
        errors.append(FieldError("ean", "Scan a barcode.", "required"))
    if quantity < 1:
        errors.append(FieldError("quantity", "At least 1.", "min_value"))
    if errors:
        raise ValidationFailed("The scan is not valid.", field_errors=errors)
    moment = now or timezone.now()
    with transaction.atomic():
        pick_list = _pick_list_lock(pick_list_id)
        if pick_list.status == PickList.Status.DONE:
            raise Conflict(
                f"Pick list PL-{pick_list.pk} is done; nothing is left to pick.",
                code="pick_list_done",
            )
        open_tasks = list(
            PickTask.objects.filter(pick_list=pick_list, status=PickTask.Status.OPEN)
            .select_related("fulfillment_order_line")
            .order_by("sequence", "tote", "sort_slot", "id")
        )
        starting = pick_list.status == PickList.Status.OPEN
        involved = {task.fulfillment_order_line.fulfillment_order_id for task in open_tasks}
        orders, fulfillment_orders = _lock_orders_and_fulfillment_orders(involved)
        open_tasks = _close_withdrawn(open_tasks, fulfillment_orders)
        if not open_tasks:
            _finish_list(pick_list, moment)
            raise Conflict(
                f"Pick list PL-{pick_list.pk} has nothing left to pick.", code="pick_list_done"
            )
        sequence = open_tasks[0].sequence
        stop = [task for task in open_tasks if task.sequence == sequence]
        first = stop[0]
        if ean != first.ean:
            raise Conflict(
                f"Wrong item: scanned {_product_label(ean)}; stop {sequence} at "
                f"{first.bin_location or 'no bin'} expects {first.ean} ({first.sku}).",
                code="wrong_item",
                details={"scanned": ean, "expected": first.ean, "sku": first.sku},
            )
        if tote is not None:
            stop = [task for task in stop if task.tote == tote]
            if not stop:
                totes = sorted(
                    {task.tote for task in open_tasks if task.sequence == sequence and task.tote}
                )
                raise Conflict(
                    f"Wrong tote: tote {tote} takes no {first.sku} here; put it into tote(s) "
                    f"{', '.join(str(number) for number in totes)}.",
                    code="wrong_tote",
                    details={"tote": tote, "expected_totes": totes},
                )
        left = sum(task.quantity_remaining for task in stop)
        if quantity > left:
            raise Conflict(
                f"Excess: {quantity} x {first.sku} scanned, only {left} left to pick at stop "
                f"{sequence} ({first.bin_location or 'no bin'}).",
                code="excess_quantity",
                details={"scanned": quantity, "remaining": left, "sku": first.sku},
            )
        if starting:
            pick_list.status = PickList.Status.IN_PROGRESS
            pick_list.picker = actor[:150]
            pick_list.started_at = moment
            pick_list.save(update_fields=["status", "picker", "started_at"])
            for fo in fulfillment_orders.values():
                if fo.status == FulfillmentStatus.ACCEPTED:
                    fulfillment_order_step(
                        order=orders[fo.order_id],
                        fulfillment_order=fo,
                        target=FulfillmentStatus.PICKING,
                        actor=actor,
                        moment=moment,
                        details={"pick_list_id": pick_list.pk},
                    )
        puts = []
        remaining = quantity
        for task in stop:
            take = min(remaining, task.quantity_remaining)
            if take == 0:
                continue
            remaining -= take
            task.quantity_picked += take
            if task.quantity_remaining == 0:
                task.status = PickTask.Status.DONE
            task.save(update_fields=["quantity_picked", "status"])
            FulfillmentOrderLine.objects.filter(pk=task.fulfillment_order_line_id).update(
                quantity_picked=F("quantity_picked") + take
            )
            puts.append(
                Put(
                    fulfillment_order_id=task.fulfillment_order_line.fulfillment_order_id,
                    fulfillment_order_line_id=task.fulfillment_order_line_id,
                    quantity=take,
                    tote=task.tote,
                    sort_slot=task.sort_slot,
                )
            )
        picked = _complete_picked(
            orders=orders,
            fulfillment_orders={
                key: fo
                for key, fo in fulfillment_orders.items()
                if key in {put.fulfillment_order_id for put in puts}
            },
            actor=actor,
            moment=moment,
        )
        _finish_list(pick_list, moment)
        return ScanResult(
            pick_list_id=pick_list.pk,
            pick_list_status=pick_list.status,
            sequence=sequence,
            sku=first.sku,
            quantity=quantity,
            puts=tuple(puts),
            next_stop=_next_stop(pick_list),
            picked_fulfillment_order_ids=tuple(picked),
        )


def _close_withdrawn(
    tasks: list[PickTask], fulfillment_orders: dict[int, FulfillmentOrder]
) -> list[PickTask]:
    """Close the tasks whose fulfillment order left picking (cancelled, rejected) or whose
    line has no unit left to pick; return the others."""
    kept = []
    for task in tasks:
        line = task.fulfillment_order_line
        fo = fulfillment_orders.get(line.fulfillment_order_id)
        line_left = line.quantity - line.quantity_rejected - line.quantity_picked
        if fo is None or (fo.status in PLANNABLE and line_left > 0):
            kept.append(task)
            continue
        task.quantity_short = task.quantity - task.quantity_picked
        task.status = PickTask.Status.DONE
        task.save(update_fields=["quantity_short", "status"])
    return kept


def pick_short(
    *,
    fulfillment_order_line_id: int,
    quantity: int,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> RoutingDecision | None:
    """The picker cannot find ``quantity`` units (or finds them damaged): the units are
    rejected at this location (``fulfillment_order_reject``: released, the order re-routed
    with this location excluded for the line), then the line's open task is closed for them
    and the fulfillment order becomes ``picked`` if nothing else is left to pick. Returns the
    re-route's decision (None when left to the routing task).
    """
    errors = []
    if reason not in SHORT_REASONS:
        errors.append(FieldError("reason", f"One of {', '.join(SHORT_REASONS)}.", "invalid_choice"))
    if quantity < 1:
        errors.append(FieldError("quantity", "At least 1.", "min_value"))
    line = FulfillmentOrderLine.objects.filter(pk=fulfillment_order_line_id).first()
    if line is None:
        raise NotFound(
            f"No fulfillment order line {fulfillment_order_line_id}.",
            code="fulfillment_order_line_not_found",
        )
    # A first check for a clear message; the binding one runs under the line's lock in
    # ``fulfillment_order_reject`` (a scan may pick units meanwhile).
    unpicked = line.quantity - line.quantity_rejected - line.quantity_picked
    if quantity > unpicked:
        errors.append(
            FieldError("quantity", f"At most {unpicked} unit(s) are left to pick.", "out_of_range")
        )
    if errors:
        raise ValidationFailed("The short pick is not valid.", field_errors=errors)
    decision = fulfillment_order_reject(
        fulfillment_order_id=line.fulfillment_order_id,
        lines=[(line.pk, quantity, reason)],
        actor=actor,
    )
    moment = now or timezone.now()
    with transaction.atomic():
        task = (
            PickTask.objects.filter(fulfillment_order_line=line, status=PickTask.Status.OPEN)
            .values_list("pick_list_id", flat=True)
            .first()
        )
        pick_list = _pick_list_lock(task) if task is not None else None
        orders, fulfillment_orders = _lock_orders_and_fulfillment_orders(
            {line.fulfillment_order_id}
        )
        open_task = (
            PickTask.objects.select_for_update()
            .filter(fulfillment_order_line=line, status=PickTask.Status.OPEN)
            .first()
        )
        if open_task is not None:
            open_task.quantity_short += min(quantity, open_task.quantity_remaining)
            if open_task.quantity_remaining == 0:
                open_task.status = PickTask.Status.DONE
            open_task.save(update_fields=["quantity_short", "status"])
        _complete_picked(
            orders=orders, fulfillment_orders=fulfillment_orders, actor=actor, moment=moment
        )
        if pick_list is not None:
            _finish_list(pick_list, moment)
    return decision
