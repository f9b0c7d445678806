"""Fulfillment orders: accept, reject lines, and withdraw them (SLA missed, allocation lost).

Lock order, as everywhere: the order row, its lines, then the fulfillment order, its lines,
then reservations (by id), then stock levels (by primary key). A rejection releasing several
lines takes every reservation and level up front (``routing_rows_lock``) so the per-line
``stock_release`` calls only re-lock rows already held. Rejection and
withdrawal commit first and re-route after (``order_route`` with the rejecting location
excluded for those lines), so that a re-route that loses every race still leaves the
rejection recorded; the task then retries the routing.

What happens to the units:
- rejected (not found, damaged): the units are **released** at the rejecting location (its
  count is wrong; a stock count or damage report there corrects the counters), and the
  re-route reserves fresh units where it sends the line. Keeping them reserved would hold
  phantom units forever if no other location has stock.
- withdrawn because the SLA passed: the units are real, so the reservation stays, unbound;
  the re-route moves it to the next location (``stock_allocate``).
- allocation cancelled (a stock loss shorted the reservation, wholly or in part): nothing is
  left to release; the lines give up the units their reservation no longer holds. Only
  unpicked units can be withdrawn (a picked unit is in a tote: it is never rejected); a packed
  line left holding more than its reservation ships anyway (``lifecycle``).

Only unpicked units can be rejected: the cap (quantity - rejected - picked) is checked under
the line locks, so a pick scan racing a short pick cannot make a unit in a tote sellable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, RoutingDecision
from fulfillment.services.routing import RoutingRaceLost, order_route
from fulfillment.statuses import OPEN, REJECTABLE, FulfillmentStatus, can_transition
from inventory.models import Reservation
from inventory.services import stock_release
from inventory.services.routing_support import routing_rows_lock
from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnilog.core.outbox import outbox_emit
from orders.models import Order, OrderEvent, OrderLine
from orders.services.timeline import (
    order_event_write,
    order_lines_lock,
    order_lock,
    order_version_bump,
)
from orders.services.transitions import order_transition
from orders.statuses import OrderStatus
from orders.statuses import can_transition as order_can_transition

SLA_TIMEOUT_REASON = "sla_timeout"
ALLOCATION_CANCELLED_REASON = "allocation_cancelled"


def route_later(*, order_id: int, version: int, trigger: str) -> None:
    """Queue the routing task once the current transaction commits (by name: no import
    cycle between services and tasks)."""
    from celery import current_app

    transaction.on_commit(
        lambda: current_app.send_task(
            "fulfillment.tasks.order_route_task",
            args=[order_id, version, trigger],
            queue="routing",
        )
    )


def reroute(*, order_id: int, version: int, trigger: str) -> RoutingDecision | None:
    """Re-route now; when every plan loses its race, leave it to the task (retries)."""
    try:
        return order_route(order_id=order_id, expected_version=version, trigger=trigger)
    except RoutingRaceLost:
        route_later(order_id=order_id, version=version, trigger=trigger)
        return None


def _fulfillment_order_lock(fulfillment_order_id: int) -> FulfillmentOrder:
    found = (
        FulfillmentOrder.objects.select_for_update(of=("self",))
        .select_related("location")
        .filter(pk=fulfillment_order_id)
        .first()
    )
    if found is None:
        raise NotFound(
            f"No fulfillment order {fulfillment_order_id}.", code="fulfillment_order_not_found"
        )
    return found


def _order_id_of(fulfillment_order_id: int) -> int:
    order_id = (
        FulfillmentOrder.objects.filter(pk=fulfillment_order_id)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        raise NotFound(
            f"No fulfillment order {fulfillment_order_id}.", code="fulfillment_order_not_found"
        )
    return order_id


def set_status(fulfillment_order: FulfillmentOrder, target: FulfillmentStatus) -> None:
    if not can_transition(fulfillment_order.status, target):
        raise Conflict(
            f"Fulfillment order {fulfillment_order.pk} cannot go from "
            f"{fulfillment_order.status} to {target}.",
            code="invalid_transition",
            details={"from_status": fulfillment_order.status, "to_status": str(target)},
        )
    fulfillment_order.status = target


def announce(
    *,
    order: Order,
    fulfillment_order: FulfillmentOrder,
    verb: str,
    actor: str,
    details: dict[str, Any],
) -> None:
    """Timeline event on the order and an outbox event about the fulfillment order."""
    payload = {
        "fulfillment_order_id": fulfillment_order.pk,
        "order_id": order.pk,
        "location": fulfillment_order.location.code,
        "status": fulfillment_order.status,
        **details,
    }
    order_event_write(
        order=order,
        kind=OrderEvent.Kind.FULFILLMENT,
        actor=actor,
        source="fulfillment",
        message=f"FO-{fulfillment_order.pk} {verb} at {fulfillment_order.location.code}",
        details=payload,
    )
    outbox_emit(
        topic=f"fulfillment_order.{verb}",
        aggregate_type="fulfillment_order",
        aggregate_id=fulfillment_order.pk,
        payload=payload,
    )


def fulfillment_order_accept(
    *, fulfillment_order_id: int, actor: str, now: datetime | None = None
) -> FulfillmentOrder:
    """The location takes the order on. Accepting an accepted order again is a no-op.

    The first acceptance of a ``routed`` order moves it to ``in_fulfillment``
    (``order_transition``: status event, outbox ``order.in_fulfillment``, version bumped);
    later acceptances leave the order's status alone.
    """
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if fulfillment_order.status == FulfillmentStatus.ACCEPTED:
            return fulfillment_order
        set_status(fulfillment_order, FulfillmentStatus.ACCEPTED)
        fulfillment_order.accepted_at = now or timezone.now()
        fulfillment_order.save(update_fields=["status", "accepted_at", "updated_at"])
        announce(
            order=order,
            fulfillment_order=fulfillment_order,
            verb="accepted",
            actor=actor,
            details={},
        )
        if order.status == OrderStatus.ROUTED and order_can_transition(
            order.status, OrderStatus.IN_FULFILLMENT
        ):
            order_transition(
                order=order,
                to_status=OrderStatus.IN_FULFILLMENT,
                actor=actor,
                source="fulfillment",
                message=f"FO-{fulfillment_order.pk} accepted at {fulfillment_order.location.code}",
                details={"fulfillment_order_id": fulfillment_order.pk},
            )
    return fulfillment_order


def fulfillment_order_reject(
    *,
    fulfillment_order_id: int,
    lines: Sequence[tuple[int, int, str]],
    actor: str,
) -> RoutingDecision | None:
    """The location cannot serve ``(fulfillment order line id, quantity, reason)``.

    The rejected units are released there, the order lines' ``quantity_allocated`` drops, the
    fulfillment order becomes ``rejected`` when nothing of it is left, and the order is
    re-routed (trigger ``rejected``) with this location excluded for those lines. Returns the
    new decision (None when the re-route was left to the task). Raises ``ValidationFailed``
    (bad lines, or more units than are left unpicked; nothing written) or ``Conflict`` (the
    fulfillment order is already picked, cancelled...).
    """
    errors: list[FieldError] = []
    if not lines:
        errors.append(FieldError("lines", "At least one line is required.", "required"))
    for index, (_, quantity, reason) in enumerate(lines):
        if quantity <= 0:
            errors.append(FieldError(f"lines.{index}.quantity", "Must be positive.", "min_value"))
        if not reason.strip():
            errors.append(FieldError(f"lines.{index}.reason", "A reason is required.", "required"))
    if errors:
        raise ValidationFailed("The rejection is not valid.", field_errors=errors)
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        order_lines_lock(order=order)
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if fulfillment_order.status not in REJECTABLE:
            raise Conflict(
                f"Fulfillment order {fulfillment_order.pk} is {fulfillment_order.status}; "
                "it can no longer be rejected.",
                code="invalid_transition",
                details={"status": fulfillment_order.status},
            )
        own = {
            line.pk: line
            for line in FulfillmentOrderLine.objects.select_for_update()
            .filter(fulfillment_order=fulfillment_order)
            .order_by("id")
        }
        for index, (line_id, quantity, _) in enumerate(lines):
            found = own.get(line_id)
            if found is None:
                errors.append(FieldError(f"lines.{index}.line_id", "Not a line of it.", "invalid"))
            elif quantity > _unpicked(found):
                # Read under the line's lock: picked units are in a tote, never rejected.
                errors.append(
                    FieldError(
                        f"lines.{index}.quantity",
                        f"At most {_unpicked(found)} can be rejected"
                        + (
                            f" ({found.quantity_picked} already picked)."
                            if found.quantity_picked
                            else "."
                        ),
                        "out_of_range",
                    )
                )
        if errors:
            raise ValidationFailed("The rejection is not valid.", field_errors=errors)
        # Every reservation the release touches, then their levels, in the global order.
        routing_rows_lock(
            reservation_ids=[
                reservation_id
                for line_id, _, _ in lines
                if (reservation_id := own[line_id].reservation_id) is not None
            ],
            targets=(),
        )
        rejected = []
        for line_id, quantity, reason in sorted(
            lines, key=lambda item: own[item[0]].reservation_id or 0
        ):
            line = own[line_id]
            line.quantity_rejected += quantity
            line.rejection_reason = reason.strip()[:200]
            line.save(update_fields=["quantity_rejected", "rejection_reason"])
            _release(
                line, quantity, f"rejected at {fulfillment_order.location.code}: {reason}", actor
            )
            OrderLine.objects.filter(pk=line.order_line_id).update(
                quantity_allocated=F("quantity_allocated") - quantity
            )
            rejected.append({"line_id": line.order_line_id, "quantity": quantity, "reason": reason})
        if all(line.quantity_open == 0 for line in own.values()):
            set_status(fulfillment_order, FulfillmentStatus.REJECTED)
            fulfillment_order.save(update_fields=["status", "updated_at"])
        order_version_bump(order=order)
        announce(
            order=order,
            fulfillment_order=fulfillment_order,
            verb="rejected",
            actor=actor,
            details={"lines": rejected},
        )
        version = order.version
    return reroute(order_id=order.pk, version=version, trigger=RoutingDecision.Trigger.REJECTED)


def _unpicked(line: FulfillmentOrderLine) -> int:
    return line.quantity - line.quantity_rejected - line.quantity_picked


def _release(line: FulfillmentOrderLine, quantity: int, reason: str, actor: str) -> None:
    if line.reservation_id is None:
        return
    held = (
        Reservation.objects.filter(pk=line.reservation_id, status=Reservation.Status.ACTIVE)
        .values_list("quantity", flat=True)
        .first()
    )
    if held:
        stock_release(
            reservation_id=line.reservation_id,
            quantity=min(quantity, held),
            reason=reason[:200],
            actor=actor,
        )


def fulfillment_order_withdraw(
    *, fulfillment_order_id: int, reason: str, trigger: str, actor: str, now: datetime | None = None
) -> RoutingDecision | None:
    """Cancel an open fulfillment order whose location will not serve it and re-route.

    ``trigger`` ``sla_timeout``: only while it is still ``created`` past ``accept_by`` (an
    acceptance that won the race keeps it); the reservations stay, unbound, for the re-route.
    ``allocation_cancelled``: the units the lines' reservations no longer hold (gone, or
    shorted in part by a stock loss), youngest line first, unpicked units only. The location
    is excluded for the withdrawn lines (recorded as rejected with ``reason``).
    """
    moment = now or timezone.now()
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        order_lines_lock(order=order)
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if trigger == RoutingDecision.Trigger.SLA_TIMEOUT and (
            fulfillment_order.status != FulfillmentStatus.CREATED
            or fulfillment_order.accept_by > moment
        ):
            return None
        if fulfillment_order.status not in OPEN:
            return None
        lines = list(
            FulfillmentOrderLine.objects.select_for_update()
            .filter(fulfillment_order=fulfillment_order)
            .order_by("id")
        )
        cuts = (
            _uncovered(fulfillment_order, lines)
            if trigger == RoutingDecision.Trigger.ALLOCATION_CANCELLED
            else {line.pk: _unpicked(line) for line in lines}
        )
        withdrawn = []
        for line in lines:
            units = cuts.get(line.pk, 0)
            if units == 0:
                continue
            line.quantity_rejected += units
            line.rejection_reason = reason
            line.save(update_fields=["quantity_rejected", "rejection_reason"])
            OrderLine.objects.filter(pk=line.order_line_id).update(
                quantity_allocated=F("quantity_allocated") - units
            )
            withdrawn.append({"line_id": line.order_line_id, "quantity": units})
        if not withdrawn:
            return None
        still_open = FulfillmentOrderLine.objects.filter(
            fulfillment_order=fulfillment_order, quantity__gt=F("quantity_rejected")
        ).exists()
        if not still_open:
            set_status(fulfillment_order, FulfillmentStatus.CANCELLED)
            fulfillment_order.cancel_reason = reason
            fulfillment_order.save(update_fields=["status", "cancel_reason", "updated_at"])
        order_version_bump(order=order)
        announce(
            order=order,
            fulfillment_order=fulfillment_order,
            verb="cancelled" if not still_open else "reduced",
            actor=actor,
            details={"reason": reason, "lines": withdrawn},
        )
        version = order.version
    return reroute(order_id=order.pk, version=version, trigger=trigger)


def _uncovered(
    fulfillment_order: FulfillmentOrder, lines: list[FulfillmentOrderLine]
) -> dict[int, int]:
    """{line id: units to withdraw}: per reservation, the open units of the open fulfillment
    orders' lines beyond what it still holds (nothing when released or expired), taken from
    this fulfillment order's lines, youngest first, unpicked units only.

    Precondition: the caller holds the fulfillment order's and its lines' locks. The
    reservations are read without a lock: a loss shorting them further meanwhile is seen by the
    next sweep.
    """
    reservation_ids = {line.reservation_id for line in lines if line.reservation_id is not None}
    held = dict(
        Reservation.objects.filter(
            pk__in=reservation_ids, status=Reservation.Status.ACTIVE
        ).values_list("pk", "quantity")
    )
    elsewhere = dict(
        FulfillmentOrderLine.objects.filter(
            reservation_id__in=reservation_ids,
            fulfillment_order__status__in=list(OPEN),
            quantity__gt=F("quantity_rejected"),
        )
        .exclude(fulfillment_order=fulfillment_order)
        .values("reservation_id")
        .annotate(units=Sum(F("quantity") - F("quantity_rejected")))
        .values_list("reservation_id", "units")
    )
    cuts: dict[int, int] = {}
    for reservation_id in sorted(reservation_ids):
        group = [line for line in lines if line.reservation_id == reservation_id]
        excess = (
            sum(line.quantity_open for line in group)
            + elsewhere.get(reservation_id, 0)
            - held.get(reservation_id, 0)
        )
        for line in sorted(group, key=lambda item: item.pk, reverse=True):
            if excess <= 0:
                break
            cut = min(excess, _unpicked(line))
            if cut:
                cuts[line.pk] = cut
                excess -= cut
    return cuts
