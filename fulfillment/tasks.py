"""Fulfillment's Celery tasks (queue ``routing``): thin, idempotent, one service each.

``order_route_task`` runs with ``acks_late`` and ``reject_on_worker_lost``: a worker killed
mid-routing leaves the message unacknowledged, the broker redelivers it (after the Redis
transport's ``visibility_timeout``), and the transaction the dead worker had open was rolled
back by PostgreSQL. The redelivered task routes the order exactly once, because ``order_route``
does nothing when the order's version is no longer the one the task was queued for (every
routing run bumps it, and at most one ``RoutingDecision`` exists per version).
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from fulfillment.services.routing import RoutingRaceLost, order_route
from fulfillment.services.sweeps import (
    fulfillment_allocations_check,
    fulfillment_orders_sla_sweep,
    orders_retry_parked,
)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # Lost races and deadlocks / serialization failures can succeed on retry; nothing else can.
    autoretry_for=(RoutingRaceLost, OperationalError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=8,
)
def order_route_task(order_id: int, version: int, trigger: str = "placed") -> int | None:
    """Route ``order_id`` as of ``version``; the decision id, or None when nothing was done."""
    decision = order_route(order_id=order_id, expected_version=version, trigger=trigger)
    return decision.pk if decision is not None else None


@shared_task(acks_late=True, ignore_result=True, expires=50)
def fulfillment_sla_sweep_task() -> int:
    """Beat (every minute): withdraw fulfillment orders not accepted in time, re-route."""
    return fulfillment_orders_sla_sweep()


@shared_task(acks_late=True, ignore_result=True, expires=50)
def fulfillment_allocations_check_task() -> int:
    """Beat (every minute): re-route lines whose reservation a stock loss took away."""
    return fulfillment_allocations_check()


@shared_task(acks_late=True, ignore_result=True, expires=240)
def orders_retry_parked_task() -> int:
    """Beat (every 5 minutes): route parked / backordered orders when stock arrived, and
    placed orders whose routing task never ran."""
    return orders_retry_parked()


@shared_task(acks_late=True, ignore_result=True, expires=3000)
def pickup_no_show_sweep_task() -> int:
    """Beat (hourly, queue ``default``): remind customers of uncollected pickup orders, then
    cancel and restock them (``fulfillment.services.no_show``); the number of orders changed."""
    from fulfillment.services.no_show import pickup_no_show_sweep

    result = pickup_no_show_sweep()
    return result.reminded + result.cancelled
