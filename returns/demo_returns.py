"""Demo returns for ``manage.py seed_demo_returns``: a few RMAs in several states, played
through the return services on delivered or collected demo orders (``seed_demo_flows``).

Deterministic (orders by number, fixed plan) and idempotent: an order that already has a
return is skipped, so a second run adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from inventory.models import Location
from omnilog.core.errors import ApplicationError
from orders.models import Order
from returns.models import ReturnMode, ReturnRequest
from returns.selectors import order_returnable
from returns.services.common import Actor
from returns.services.inspection import (
    InspectionInput,
    return_disposition,
    return_inspect,
)
from returns.services.labels import relay_point_find
from returns.services.receiving import return_receive
from returns.services.requests import (
    ReturnInput,
    ReturnLineInput,
    return_approve,
    return_request_create,
)
from returns.services.settlement import refund_confirmation_record, return_refund_request

ACTOR = Actor(name="demo", source="seed_demo_returns")
# The state each demo return is left in, in order: one of each.
PLAN = ("requested", "approved", "inspected", "refund_requested", "closed", "quarantined")


@dataclass(frozen=True)
class DemoReport:
    created: int
    skipped: int


def _store() -> Location | None:
    return (
        Location.objects.filter(kind=Location.Kind.STORE, is_active=True, accepts_returns=True)
        .order_by("code")
        .first()
    )


def _play(order: Order, target: str, store: Location) -> ReturnRequest | None:
    returnable = order_returnable(order=order, now=timezone.now())
    line = next((line for line in returnable.lines if line.is_returnable), None)
    if line is None:
        return None
    reason = "damaged_in_transit" if target == "quarantined" else "wrong_size"
    point = relay_point_find(order.relay_point_code) if order.relay_point_code else None
    mode = ReturnMode.RELAY_DROP_OFF if target == "requested" and point else ReturnMode.STORE
    rma = return_request_create(
        order_id=order.pk,
        data=ReturnInput(
            lines=(ReturnLineInput(line.line_number, 1, reason),),
            mode=mode,
            location_id=None if mode != ReturnMode.STORE else store.pk,
            relay_point_code=point.point_id if point else "",
            note="Demo return",
        ),
        actor=ACTOR,
    )
    steps: list[Callable[[], object]] = [
        lambda: return_approve(return_id=rma.pk, actor=ACTOR),
        lambda: return_receive(return_id=rma.pk, location_id=store.pk, actor=ACTOR),
        lambda: return_inspect(
            return_id=rma.pk,
            lines=[
                InspectionInput(pk, "damaged" if target == "quarantined" else "sellable")
                for pk in rma.lines.values_list("pk", flat=True)
            ],
            actor=ACTOR,
        ),
        lambda: return_disposition(return_id=rma.pk, actor=ACTOR),
        lambda: return_refund_request(return_id=rma.pk, actor=ACTOR),
        lambda: refund_confirmation_record(
            reference=rma.refunds.get().reference,
            is_confirmed=True,
            actor=Actor("payment-system"),
            external_reference=f"psp-{rma.number}",
        ),
    ]
    depth = {
        "requested": 0,
        "approved": 1,
        "inspected": 3,
        "quarantined": 4,
        "refund_requested": 5,
        "closed": 6,
    }[target]
    for step in steps[:depth]:
        step()
    return rma


def returns_seed() -> DemoReport:
    """One demo return per planned state, on the first returnable demo orders."""
    store = _store()
    if store is None:
        return DemoReport(0, 0)
    already = ReturnRequest.objects.filter(source=ACTOR.source).count()
    if already >= len(PLAN):
        return DemoReport(0, already)
    candidates = iter(
        Order.objects.filter(
            status__in=["delivered", "collected"], return_requests__isnull=True
        ).order_by("number")[:200]
    )
    created = 0
    for target in PLAN[already:]:
        for order in candidates:
            try:
                if _play(order, target, store) is not None:
                    created += 1
                    break
            except ApplicationError:
                continue  # this order cannot take this path (window, stock...): the next one
    return DemoReport(created, already)
