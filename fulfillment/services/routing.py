"""Route an order: build the core's inputs, ask the core, apply its plan under locks.

``order_route`` is the one entry point (the routing task, re-routing after a rejection, an SLA
miss or a lost allocation, the retry sweep, the admin). In one short transaction it locks, in
the global order, the order row, its lines, its free reservations (ids ascending), then every
stock level the plan touches (primary key order, ``inventory.services.routing_support``); moves
pool reservations to their assigned locations (``stock_allocate`` re-checks ATP under the lock);
reserves fresh units where the order holds none; creates one ``FulfillmentOrder`` per location;
stores the ``RoutingDecision``; moves the order along its status table and writes the timeline
event and the outbox event. Nothing slow runs inside: the core is pure and in memory.

A plan refused under lock (another order took the stock between our read and our lock) is
rolled back to its savepoint and the order is routed again with fresh candidates: the next
best plan. After ``MAX_ATTEMPTS`` refusals ``RoutingRaceLost`` (a retryable 409) is raised and
nothing is written; the task retries later.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, RoutingDecision
from fulfillment.routing import route
from fulfillment.routing.types import Candidate, Decision, Demand, Outcome, Policy
from fulfillment.services.decisions import decision_fields, decision_summary, lost_race
from fulfillment.services.routing_inputs import (
    LineToRoute,
    candidates_build,
    demand_build,
    excluded_pairs,
    lines_to_route,
)
from fulfillment.services.rule_sets import routing_policy_live
from fulfillment.statuses import OPEN
from inventory.models import Reservation
from inventory.services import ReserveLine, stock_allocate, stock_reserve
from inventory.services.routing_support import reservations_bind_in_place, routing_levels_lock
from omnilog.core.errors import Conflict, InsufficientStock
from orders.models import Order, OrderEvent, OrderLine, PaymentStatus
from orders.services.cancel import cancel_locked
from orders.services.line_stock import ORDER_LINE
from orders.services.timeline import (
    order_event_write,
    order_lines_lock,
    order_lock,
    order_outbox_emit,
    order_version_bump,
)
from orders.services.transitions import order_transition
from orders.statuses import OrderStatus, can_transition

ACTOR = "system:routing"
MAX_ATTEMPTS = 3
# Orders routing may (re-)route; on hold, cancelled and finished orders are left alone.
ROUTABLE = frozenset(
    {OrderStatus.PLACED, OrderStatus.BACKORDERED, OrderStatus.ROUTED, OrderStatus.IN_FULFILLMENT}
)
# An order that ends up holding no allocation goes to: parked -> placed, else backordered.
_TOPIC_WITHOUT_TRANSITION = {
    OrderStatus.ROUTED: "order.routed",
    OrderStatus.PLACED: "order.parked",
    OrderStatus.BACKORDERED: "order.backordered",
}


class RoutingRaceLost(Conflict):
    """Every plan tried was refused under lock; nothing was written. Retry later."""

    code = "routing_race_lost"


def accept_sla() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "FULFILLMENT_ACCEPT_SLA_MINUTES", 60)))


def order_route(
    *,
    order_id: int,
    expected_version: int,
    trigger: str,
    now: datetime | None = None,
    plan: Decision | None = None,
    policy: Policy | None = None,
) -> RoutingDecision | None:
    """Route what ``order_id`` still needs; return the stored decision, or None for a no-op.

    No-op (nothing written) when the order does not exist, its ``version`` is no longer
    ``expected_version`` (the task was queued for an older state, or this version was already
    routed: routing bumps the version, so a redelivered task lands here), it is not routable
    (on hold, cancelled, shipped...), or it has nothing left to route. ``plan`` replaces the
    core's answer on the first attempt (tests, what-if replays); ``policy`` the live rule sets.
    Precondition: the caller holds no stock-level lock.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("channel", "pickup_location")
            .filter(pk=order_id)
            .first()
        )
        if order is None or order.version != expected_version or order.status not in ROUTABLE:
            return None
        if RoutingDecision.objects.filter(order=order, order_version=order.version).exists():
            return None
        lines = order_lines_lock(order=order)
        live_policy = policy or routing_policy_live()
        lost: list[dict[str, Any]] = []
        for attempt in range(MAX_ATTEMPTS):
            to_route = lines_to_route(lines, _free_reservations(lines))
            if not to_route:
                return None
            demand = demand_build(
                order=order,
                lines=to_route,
                now=moment,
                days_waiting=max(0, (moment - order.placed_at).days),
            )
            candidates = candidates_build(
                order=order, lines=to_route, now=moment, excluded=excluded_pairs(order_id=order.pk)
            )
            started = time.perf_counter()
            decision = (
                plan
                if attempt == 0 and plan is not None
                else route(demand, candidates, live_policy, now=moment)
            )
            elapsed_ms = (time.perf_counter() - started) * 1000
            try:
                with transaction.atomic():
                    return _apply(
                        order=order,
                        lines=lines,
                        to_route=to_route,
                        demand=demand,
                        candidates=candidates,
                        decision=decision,
                        trigger=trigger,
                        now=moment,
                        lost=lost,
                        duration_ms=elapsed_ms,
                    )
            except InsufficientStock as error:
                lost.append(lost_race(decision, error.details))
        raise RoutingRaceLost(
            f"Order {order.number}: {MAX_ATTEMPTS} plans refused under lock; retry later.",
            details={"order_id": order.pk, "lost_races": lost},
        )


def _free_reservations(lines: list[OrderLine]) -> dict[int, list[Reservation]]:
    """Active reservations of ``lines`` not bound to an open fulfillment order, locked (id
    order), by line id. Precondition: the caller holds the order's and the lines' locks."""
    bound = FulfillmentOrderLine.objects.filter(
        order_line_id__in=[line.pk for line in lines],
        fulfillment_order__status__in=list(OPEN),
        quantity__gt=F("quantity_rejected"),
        reservation_id__isnull=False,
    ).values("reservation_id")
    rows = (
        Reservation.objects.select_for_update(of=("self",))
        .filter(
            reference_type=ORDER_LINE,
            reference_id__in=[str(line.pk) for line in lines],
            status=Reservation.Status.ACTIVE,
        )
        .exclude(id__in=bound)
        .order_by("id")
    )
    by_line: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in rows:
        by_line[int(reservation.reference_id)].append(reservation)
    return by_line


def _apply(
    *,
    order: Order,
    lines: list[OrderLine],
    to_route: list[LineToRoute],
    demand: Demand,
    candidates: tuple[Candidate, ...],
    decision: Decision,
    trigger: str,
    now: datetime,
    lost: list[dict[str, Any]],
    duration_ms: float,
) -> RoutingDecision:
    """Apply ``decision`` (caller: inside a savepoint, holding the order, line and free
    reservation locks). Raises ``InsufficientStock`` when a location's ATP no longer covers it."""
    by_line = {item.line.pk: item for item in to_route}
    wanted: dict[int, list[tuple[int, int]]] = defaultdict(list)  # line -> [(location, units)]
    for assignment in decision.assignments:
        item = by_line.get(assignment.line_id)
        if item is None or assignment.quantity <= 0:
            continue
        wanted[assignment.line_id].append((assignment.location_id, assignment.quantity))
    for line_id, parts in wanted.items():
        if sum(units for _, units in parts) > by_line[line_id].quantity:
            raise Conflict(
                f"The plan assigns more units of line {line_id} than it needs.",
                code="routing_plan_invalid",
                details={"line_id": line_id, "needed": by_line[line_id].quantity},
            )
    # The free reservations were locked (ids ascending) by ``_free_reservations``; now their
    # stock levels and the targets', in primary-key order: the global order.
    routing_levels_lock(
        reservations=[r for item in to_route for r in item.reservations],
        targets=[
            (by_line[line_id].line.product_id, location_id)
            for line_id, parts in wanted.items()
            for location_id, _ in parts
        ],
    )
    record = RoutingDecision.objects.create(
        order=order,
        order_version=order.version,
        trigger=trigger,
        lost_races=lost,
        duration_ms=round(duration_ms, 3),
        **decision_fields(demand=demand, candidates=candidates, decision=decision),
    )
    pieces: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # loc -> (line, res, units)
    in_place: list[Reservation] = []
    for line_id in sorted(wanted):
        for location_id, reservation_id, units in _bind_line(
            order=order,
            item=by_line[line_id],
            parts=sorted(wanted[line_id]),
            now=now,
            in_place=in_place,
        ):
            pieces[location_id].append((line_id, reservation_id, units))
    reservations_bind_in_place(reservations=in_place)
    accept_by = now + accept_sla()
    fulfillment_orders = []
    for location_id in sorted(pieces):
        fulfillment_order = FulfillmentOrder.objects.create(
            order=order,
            location_id=location_id,
            routing_decision=record,
            delivery_mode=order.delivery_mode,
            accept_by=accept_by,
        )
        fulfillment_orders.append(fulfillment_order)
        FulfillmentOrderLine.objects.bulk_create(
            FulfillmentOrderLine(
                fulfillment_order=fulfillment_order,
                order_line_id=line_id,
                reservation_id=reservation_id,
                quantity=units,
            )
            for line_id, reservation_id, units in pieces[location_id]
        )
    allocated = {line_id: sum(units for _, units in parts) for line_id, parts in wanted.items()}
    assigned = sum(allocated.values())
    if allocated:
        # One statement for every line (their rows are locked by ``order_lines_lock``).
        OrderLine.objects.filter(pk__in=sorted(allocated)).update(
            quantity_allocated=F("quantity_allocated")
            + Case(
                *(When(pk=line_id, then=Value(units)) for line_id, units in allocated.items()),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
    codes = {candidate.location_id: candidate.code for candidate in candidates}
    details = {
        "decision_id": record.pk,
        "trigger": trigger,
        "outcome": str(decision.outcome),
        "rule_set": decision.rule_set,
        "rule_set_version": decision.rule_set_version,
        "rule": decision.rule,
        "locations": [codes.get(location_id, str(location_id)) for location_id in sorted(pieces)],
        "fulfillment_orders": [fulfillment_order.pk for fulfillment_order in fulfillment_orders],
        "total_cost": record.total_cost,
        "cost_components": record.cost_components,
        "shortfalls": record.shortfalls,
    }
    has_allocation = assigned + sum(line.quantity_allocated for line in lines) > 0
    _order_follow(
        order=order,
        decision=decision,
        has_allocation=has_allocation,
        summary=decision_summary(decision, codes),
        details=details,
    )
    return record


def _bind_line(
    *,
    order: Order,
    item: LineToRoute,
    parts: list[tuple[int, int]],
    now: datetime,
    in_place: list[Reservation],
) -> list[tuple[int, int, int]]:
    """Bind units of one line to its assigned locations: the order's reservations already at
    the location first (no counter moves), then its reservations elsewhere (moved, ATP
    re-checked), then fresh units reserved there. Returns (location, reservation, units).

    A reservation bound whole where it sits is appended to ``in_place`` instead (the caller
    binds them all in one statement: ``reservations_bind_in_place``, what ``stock_allocate``
    does for that case); every other piece goes through ``stock_allocate`` / ``stock_reserve``.
    """
    remaining = {r.pk: r.quantity for r in item.reservations}
    located = {r.pk: r.location_id for r in item.reservations}
    by_id = {r.pk: r for r in item.reservations}
    bound: list[tuple[int, int, int]] = []
    for location_id, units in parts:
        need = units
        here = [pk for pk in remaining if located[pk] == location_id]
        elsewhere = [pk for pk in remaining if located[pk] != location_id]
        for reservation_id in here + elsewhere:
            take = min(need, remaining[reservation_id])
            if take <= 0:
                continue
            reservation = by_id[reservation_id]
            if located[reservation_id] == location_id and take == reservation.quantity:
                in_place.append(reservation)
                target_id = reservation_id
            else:
                target_id = stock_allocate(
                    reservation_id=reservation_id,
                    location_id=location_id,
                    quantity=take,
                    actor=ACTOR,
                ).pk
            remaining[reservation_id] -= take
            need -= take
            bound.append((location_id, target_id, take))
            if need == 0:
                break
        if need > 0:
            pending = order.payment_status == PaymentStatus.PENDING
            (fresh,) = stock_reserve(
                lines=[
                    ReserveLine(
                        product_id=item.line.product_id,
                        quantity=need,
                        location_id=location_id,
                        reference_id=str(item.line.pk),
                    )
                ],
                kind=Reservation.Kind.HOLD if pending else Reservation.Kind.ORDER,
                reference_type=ORDER_LINE,
                expires_at=now + timedelta(seconds=settings.RESERVATION_PAYMENT_TTL)
                if pending
                else None,
                actor=ACTOR,
                source="routing",
            )
            bound.append((location_id, fresh.pk, need))
    return bound


def _order_follow(
    *,
    order: Order,
    decision: Decision,
    has_allocation: bool,
    summary: str,
    details: dict[str, Any],
) -> None:
    """Move the order along its table after a routing run and write its timeline and outbox.

    Anything allocated -> routed; nothing, parked -> placed; nothing otherwise -> backordered;
    where the table does not allow the move, the status stays and a ``routed`` event says what
    happened. Either way ``version`` is bumped (a redelivered task for it is a no-op).
    """
    status = OrderStatus(order.status)
    if has_allocation:
        target = OrderStatus.ROUTED
    elif decision.outcome == Outcome.PARKED:
        target = OrderStatus.PLACED
    else:
        target = OrderStatus.BACKORDERED
    if target != status and can_transition(status, target):
        order_transition(
            order=order,
            to_status=target,
            actor=ACTOR,
            source="routing",
            message=summary,
            details=details,
            kind=OrderEvent.Kind.ROUTED,
        )
    else:
        order_version_bump(order=order)
        event = order_event_write(
            order=order,
            kind=OrderEvent.Kind.ROUTED,
            actor=ACTOR,
            source="routing",
            message=summary,
            details=details,
        )
        topic = _TOPIC_WITHOUT_TRANSITION.get(OrderStatus(order.status), "order.routed")
        if not has_allocation and decision.outcome == Outcome.PARKED:
            topic = "order.parked"
        order_outbox_emit(order=order, topic=topic, payload={"event_id": event.pk, **details})
    if has_allocation and decision.shortfalls:
        units = sum(shortfall.quantity for shortfall in decision.shortfalls)
        event = order_event_write(
            order=order,
            kind=OrderEvent.Kind.ROUTED,
            actor=ACTOR,
            source="routing",
            message=f"{units} unit(s) backordered",
            details={"decision_id": details["decision_id"], "shortfalls": details["shortfalls"]},
        )
        order_outbox_emit(
            order=order,
            topic="order.lines_backordered",
            payload={"event_id": event.pk, "shortfalls": details["shortfalls"]},
        )
    if decision.outcome == Outcome.CANCEL and not has_allocation:
        # Not here: cancelling locks the lines' reservations, and this transaction already
        # holds stock-level locks (the global order is reservations first). Once routing has
        # committed, a transaction of its own cancels the order as routing left it.
        order_id, version = order.pk, order.version
        reason = f"Still short after the routing rule's deadline ({decision.rule})"
        transaction.on_commit(
            lambda: _order_cancel_short(order_id=order_id, version=version, reason=reason),
            robust=True,
        )


def _order_cancel_short(*, order_id: int, version: int, reason: str) -> None:
    """Cancel an order routing found still short after its rule's deadline, in a transaction
    of its own. Nothing happens when the order changed since (``version`` moved on: stock may
    have arrived or the order was edited; the retry sweep routes it again and decides anew),
    or can no longer be cancelled. Precondition: the caller holds no lock."""
    try:
        with transaction.atomic():
            order = order_lock(order_id=order_id)
            if order.version != version:
                return
            cancel_locked(
                order=order,
                lines=None,
                reason=reason,
                actor=ACTOR,
                channel_id=None,
                source="routing",
            )
    except Conflict:
        return  # not cancellable any more, or nothing left open: rolled back, nothing written
