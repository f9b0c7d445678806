"""Curbside pickup: the customer says "I'm here" (tracking page) with a bay and a note.

The store queue shows ``Order.curbside_arrived_at`` / ``curbside_bay`` / ``curbside_note`` on
its next poll. The number of bays is the store's (fulfillment's ``StorePolicy``), asked through
``orders.hooks.order_curbside_bays``: orders cannot import fulfillment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from orders.hooks import order_curbside_bays
from orders.models import DeliveryMode, Order, OrderEvent
from orders.services.timeline import order_event_write, order_outbox_emit
from orders.statuses import OrderStatus

NOTE_MAX_LENGTH = 200


@dataclass(frozen=True)
class CurbsideCheck:
    """Whether an order may check in at the curb now, and with how many bays to choose from."""

    is_allowed: bool
    bays: int
    reason: str = ""


def curbside_check(*, delivery_mode: str, status: str, store_id: int | None) -> CurbsideCheck:
    """Whether an order with this mode, status and pickup store may check in. Reads only (the
    bays provider: two queries, none when refused earlier). ``reason`` is for the customer."""
    if delivery_mode != DeliveryMode.CLICK_AND_COLLECT or store_id is None:
        return CurbsideCheck(False, 0, "Curbside pickup is for click-and-collect orders.")
    if status != OrderStatus.READY_FOR_PICKUP:
        return CurbsideCheck(False, 0, "Your order is not ready for pickup yet.")
    bays = order_curbside_bays(store_id)
    if bays <= 0:
        return CurbsideCheck(False, 0, "This store offers no curbside pickup.")
    return CurbsideCheck(True, bays)


def order_curbside_arrive(
    *, tracking_token: str, bay: int, note: str = "", now: datetime | None = None
) -> Order:
    """The customer of the order with ``tracking_token`` waits at curbside ``bay``.

    Sets ``curbside_arrived_at`` (the first arrival's time), ``curbside_bay`` and
    ``curbside_note``, writes a ``pickup`` timeline event and the outbox event
    ``order.curbside_arrived``. A repeat with another bay or note updates them (new event); a
    repeat with the same ones changes nothing. Raises ``NotFound`` (unknown token),
    ``Conflict`` ``curbside_not_allowed`` (not click-and-collect, not ready, no bays),
    ``ValidationFailed`` (``bay`` outside 1..bays, ``note`` too long); a refusal writes nothing.
    """
    note = note.strip()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .filter(tracking_token=tracking_token)
            .first()
            if tracking_token and len(tracking_token) <= 64
            else None
        )
        if order is None:
            raise NotFound("No such order.")
        check = curbside_check(
            delivery_mode=order.delivery_mode,
            status=order.status,
            store_id=order.pickup_location_id,
        )
        if not check.is_allowed:
            raise Conflict(
                check.reason, code="curbside_not_allowed", details={"status": order.status}
            )
        errors = []
        if not 1 <= bay <= check.bays:
            errors.append(FieldError("bay", f"Choose a bay from 1 to {check.bays}.", "invalid"))
        if len(note) > NOTE_MAX_LENGTH:
            errors.append(
                FieldError("note", f"At most {NOTE_MAX_LENGTH} characters.", "max_length")
            )
        if errors:
            raise ValidationFailed("Check the bay and the note.", field_errors=errors)
        if order.curbside_arrived_at is not None and (order.curbside_bay, order.curbside_note) == (
            bay,
            note,
        ):
            return order
        is_repeat = order.curbside_arrived_at is not None
        if not is_repeat:
            order.curbside_arrived_at = now or timezone.now()
        order.curbside_bay = bay
        order.curbside_note = note
        order.save(update_fields=["curbside_arrived_at", "curbside_bay", "curbside_note"])
        details = {
            "bay": bay,
            "note": note,
            "arrived_at": order.curbside_arrived_at.isoformat(),  # type: ignore[union-attr]
            "is_repeat": is_repeat,
        }
        order_event_write(
            order=order,
            kind=OrderEvent.Kind.PICKUP,
            actor="customer",
            source="tracking page",
            message=(
                f"Customer moved to curbside bay {bay}"
                if is_repeat
                else f"Customer arrived at curbside bay {bay}"
            ),
            details=details,
        )
        order_outbox_emit(order=order, topic="order.curbside_arrived", payload=details)
    return order
