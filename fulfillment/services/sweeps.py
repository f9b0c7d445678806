"""Beat sweeps: fulfillment orders past their SLA, lost allocations, orders waiting for stock.

Each sweep selects ids set-wise, then handles one order per short transaction (the services
re-check everything under lock, so a row that changed meanwhile is skipped, not mishandled).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, RoutingDecision
from fulfillment.services.fulfillment_orders import (
    ALLOCATION_CANCELLED_REASON,
    SLA_TIMEOUT_REASON,
    fulfillment_order_withdraw,
)
from fulfillment.services.routing import ACTOR, RoutingRaceLost, order_route
from fulfillment.statuses import OPEN
from inventory.models import Reservation, StockLevel
from orders.models import Order
from orders.statuses import OrderStatus

# A placed order not routed this long after placement lost its task (or was released from a
# hold): the sweep routes it.
UNROUTED_GRACE = timedelta(seconds=60)
WAITING_OUTCOMES = (
    RoutingDecision.Outcome.PARKED,
    RoutingDecision.Outcome.BACKORDERED,
    RoutingDecision.Outcome.PARTIAL,
)


def fulfillment_orders_sla_sweep(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Withdraw fulfillment orders still ``created`` past ``accept_by`` and re-route their
    orders (trigger ``sla_timeout``). Returns how many were withdrawn."""
    moment = now or timezone.now()
    ids = list(
        FulfillmentOrder.objects.filter(
            status=FulfillmentOrder.Status.CREATED, accept_by__lte=moment
        )
        .order_by("accept_by", "id")
        .values_list("id", flat=True)[:batch_size]
    )
    done = 0
    for fulfillment_order_id in ids:
        before = FulfillmentOrder.objects.filter(pk=fulfillment_order_id).values_list(
            "status", flat=True
        )
        fulfillment_order_withdraw(
            fulfillment_order_id=fulfillment_order_id,
            reason=SLA_TIMEOUT_REASON,
            trigger=RoutingDecision.Trigger.SLA_TIMEOUT,
            actor=ACTOR,
            now=moment,
        )
        if before.first() != FulfillmentOrder.Status.CREATED:
            done += 1
    return done


def fulfillment_allocations_check(*, batch_size: int = 200) -> int:
    """Open fulfillment orders whose reservations no longer hold what their lines promise: a
    stock loss released them, or shorted part of them (the reservation stays active with fewer
    units), behind their back. Withdraw the units they lack (unpicked ones: a picked unit
    ships, see ``lifecycle``) and re-route (``allocation_cancelled``)."""
    open_lines = FulfillmentOrderLine.objects.filter(
        fulfillment_order__status__in=list(OPEN), quantity__gt=F("quantity_rejected")
    )
    promised = (
        open_lines.filter(reservation_id=OuterRef("reservation_id"))
        .order_by()
        .values("reservation_id")
        .annotate(units=Sum(F("quantity") - F("quantity_rejected")))
        .values("units")
    )
    ids = list(
        open_lines.filter(quantity__gt=F("quantity_rejected") + F("quantity_picked"))
        .annotate(promised=Subquery(promised))
        .filter(
            Q(reservation__status__in=[Reservation.Status.RELEASED, Reservation.Status.EXPIRED])
            | Q(
                reservation__status=Reservation.Status.ACTIVE,
                reservation__quantity__lt=F("promised"),
            )
        )
        .order_by("fulfillment_order_id")
        .values_list("fulfillment_order_id", flat=True)
        .distinct()[:batch_size]
    )
    for fulfillment_order_id in ids:
        fulfillment_order_withdraw(
            fulfillment_order_id=fulfillment_order_id,
            reason=ALLOCATION_CANCELLED_REASON,
            trigger=RoutingDecision.Trigger.ALLOCATION_CANCELLED,
            actor=ACTOR,
        )
    return len(ids)


def orders_retry_parked(*, now: datetime | None = None, limit: int = 200) -> int:
    """Route again the orders that wait: parked, backordered or partly routed ones once stock
    of a short product arrived at one of their channel's locations after their last decision,
    and placed orders that were never routed (lost task, released hold) after a grace period.
    Returns the number of decisions written."""
    moment = now or timezone.now()
    latest = RoutingDecision.objects.filter(order=OuterRef("pk")).order_by("-id")
    orders = Order.objects.annotate(
        last_outcome=Subquery(latest.values("outcome")[:1]),
        last_version=Subquery(latest.values("order_version")[:1]),
        last_at=Subquery(latest.values("created_at")[:1]),
        last_id=Subquery(latest.values("id")[:1]),
    )
    unrouted = orders.filter(
        status=OrderStatus.PLACED, placed_at__lte=moment - UNROUTED_GRACE
    ).filter(Q(last_outcome__isnull=True) | ~Q(last_outcome=RoutingDecision.Outcome.PARKED))
    candidates = set(unrouted.order_by("id").values_list("id", "version")[:limit])
    waiting = list(
        orders.filter(
            status__in=[
                OrderStatus.PLACED,
                OrderStatus.BACKORDERED,
                OrderStatus.ROUTED,
                OrderStatus.IN_FULFILLMENT,
            ],
            last_outcome__in=WAITING_OUTCOMES,
        )
        .order_by("id")
        .values_list("id", "version", "channel_id", "last_at", "last_id")[:limit]
    )
    shortfalls = dict(
        RoutingDecision.objects.filter(id__in=[row[4] for row in waiting]).values_list(
            "id", "shortfalls"
        )
    )
    for order_id, version, channel_id, last_at, last_id in waiting:
        products = {int(item["product_id"]) for item in shortfalls.get(last_id) or []}
        if products and _stock_arrived(channel_id=channel_id, products=products, since=last_at):
            candidates.add((order_id, version))
    written = 0
    for order_id, version in sorted(candidates)[:limit]:
        try:
            decision = order_route(
                order_id=order_id,
                expected_version=version,
                trigger=RoutingDecision.Trigger.RETRY,
                now=moment,
            )
        except RoutingRaceLost:
            continue
        written += decision is not None
    return written


def _stock_arrived(*, channel_id: int, products: set[int], since: datetime) -> bool:
    """Whether a level of ``products`` at an active location of the channel changed after
    ``since`` and now has ATP (one indexed EXISTS query)."""
    return (
        StockLevel.objects.filter(
            location__channels=channel_id,
            location__is_active=True,
            product_id__in=sorted(products),
            updated_at__gt=since,
        )
        .filter(on_hand__gt=F("reserved") + F("damaged") + F("quality_control") + F("safety_stock"))
        .exists()
    )
