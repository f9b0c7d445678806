"""No-shows: pickup orders left uncollected at the store.

``pickup_no_show_sweep`` (beat, hourly: ``fulfillment.tasks.pickup_no_show_sweep``) looks at
fulfillment orders ``ready_for_pickup`` (click-and-collect and ship-to-store) and, per the
store's ``StorePolicy`` (model defaults without a row):

- ``no_show_reminder_days`` after ``ready_for_pickup_at``: one reminder e-mail to the customer
  (after commit), a ``pickup`` timeline event ("Pickup reminder sent", details
  ``{"no_show": "reminder"}``) and the outbox event ``fulfillment_order.pickup_reminder_sent``.
  "Once" is recorded on ``PickupCode.reminded_at`` when the order has a code, and by that
  timeline event in any case (an order is reminded once, whatever the number of its pickup
  fulfillment orders).
- ``no_show_cancel_days`` after it: the uncollected units are cancelled through
  ``orders.services.cancel.cancel_locked`` with the reason "Cancelled: not collected within N
  days" (timeline event, ``order.cancelled`` or ``order.lines_cancelled``). The cancel releases
  the order's reservations at the store (``release`` ledger movements): the packed units, which
  never left the store's on hand, are sellable again there; staff put the bag's items back on
  the shelf. The fulfillment order becomes ``cancelled`` (``cancel_reason`` "not collected"),
  or ``collected`` when part of it was already handed over (the order is then ``collected``:
  every unit is fulfilled or cancelled), announced as ``fulfillment_order.not_collected``.

Each fulfillment order is handled in its own short transaction. Locks, in the global order:
the order row (``SKIP LOCKED``: an order being handed over or edited is left for the next run),
its lines, the fulfillment order, its pickup code, then (cancel) the reservations and stock
levels. Everything is re-checked under the locks, so overlapping sweeps (or a retried task)
remind and cancel exactly once. Batches of ``batch_size`` candidates, by id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import (
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from fulfillment.models_store import PickupCode, StorePolicy
from fulfillment.services.fulfillment_orders import announce, set_status
from fulfillment.services.lifecycle import PICKUP_MODES, handed_over_units, order_advance
from fulfillment.services.pickup_codes import opening_hours_lines, store_policy_get
from fulfillment.statuses import OPEN, FulfillmentStatus
from inventory.models import Location
from omnilog.core.outbox import outbox_emit
from orders.models import Order, OrderEvent, OrderLine
from orders.services.cancel import cancel_locked
from orders.services.timeline import order_event_write, order_lines_lock
from orders.statuses import OrderStatus

logger = logging.getLogger(__name__)

ACTOR = "system:no-show"
REMINDER_MARK = "reminder"
BATCH_SIZE = 200
_DEFAULTS = StorePolicy()


@dataclass(frozen=True)
class NoShowSweepResult:
    reminded: int = 0
    cancelled: int = 0
    skipped: int = 0  # busy (locked by another transaction) or no longer due


def _days(field: str, default: int) -> Func:
    """``make_interval(days => <the store's field, or the default>)``."""
    return Func(
        Coalesce(F(f"location__store_policy__{field}"), Value(default)),
        function="make_interval",
        template="%(function)s(days => %(expressions)s)",
        output_field=DateTimeField(),
    )


def _due(field: str, default: int) -> ExpressionWrapper[CombinedExpression]:
    return ExpressionWrapper(
        F("ready_for_pickup_at") + _days(field, default), output_field=DateTimeField()
    )


def _reminded_order() -> Exists:
    return Exists(
        OrderEvent.objects.filter(
            order_id=OuterRef("order_id"),
            kind=OrderEvent.Kind.PICKUP,
            details__no_show=REMINDER_MARK,
        )
    )


def no_show_candidates(*, now: datetime, after_id: int = 0, limit: int = BATCH_SIZE) -> list[int]:
    """Ids of ready pickup fulfillment orders due for a cancel, or for a reminder not yet sent
    (one query, id order, after ``after_id``)."""
    code_reminded = Exists(
        PickupCode.objects.filter(fulfillment_order=OuterRef("pk"), reminded_at__isnull=False)
    )
    return list(
        FulfillmentOrder.objects.filter(
            status=FulfillmentStatus.READY_FOR_PICKUP,
            delivery_mode__in=sorted(PICKUP_MODES),
            ready_for_pickup_at__isnull=False,
            pk__gt=after_id,
        )
        .annotate(
            remind_at=_due("no_show_reminder_days", _DEFAULTS.no_show_reminder_days),
            cancel_at=_due("no_show_cancel_days", _DEFAULTS.no_show_cancel_days),
        )
        .filter(
            Q(cancel_at__lte=now)
            | (Q(remind_at__lte=now) & ~Q(code_reminded) & ~Q(_reminded_order()))
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def pickup_no_show_sweep(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE, max_batches: int = 50
) -> NoShowSweepResult:
    """Remind and cancel every due pickup order (module docstring); idempotent."""
    moment = now or timezone.now()
    reminded = cancelled = skipped = 0
    after_id = 0
    for _ in range(max_batches):
        batch = no_show_candidates(now=moment, after_id=after_id, limit=batch_size)
        for fulfillment_order_id in batch:
            outcome = pickup_no_show_handle(fulfillment_order_id=fulfillment_order_id, now=moment)
            reminded += outcome == "reminded"
            cancelled += outcome == "cancelled"
            skipped += outcome == "skipped"
        if len(batch) < batch_size:
            break
        after_id = batch[-1]
    return NoShowSweepResult(reminded=reminded, cancelled=cancelled, skipped=skipped)


def pickup_no_show_handle(*, fulfillment_order_id: int, now: datetime) -> str:
    """Remind or cancel one fulfillment order if it is (still) due: ``"reminded"``,
    ``"cancelled"`` or ``"skipped"`` (busy, or nothing due under the locks)."""
    order_id = (
        FulfillmentOrder.objects.filter(pk=fulfillment_order_id)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        return "skipped"
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk=order_id)
            .first()
        )
        if order is None:
            return "skipped"
        order_lines = order_lines_lock(order=order)
        fulfillment_order = (
            FulfillmentOrder.objects.select_for_update(of=("self",))
            .select_related("location")
            .get(pk=fulfillment_order_id)
        )
        ready_at = fulfillment_order.ready_for_pickup_at
        if (
            fulfillment_order.status != FulfillmentStatus.READY_FOR_PICKUP
            or fulfillment_order.delivery_mode not in PICKUP_MODES
            or ready_at is None
        ):
            return "skipped"
        policy = store_policy_get(fulfillment_order.location_id)
        code = (
            PickupCode.objects.select_for_update()
            .filter(fulfillment_order=fulfillment_order)
            .first()
        )
        waited = now - ready_at
        if waited.total_seconds() >= policy.no_show_cancel_days * 86400:
            _cancel(order, order_lines, fulfillment_order, policy, code, now)
            return "cancelled"
        if waited.total_seconds() >= policy.no_show_reminder_days * 86400:
            is_reminded = (code is not None and code.reminded_at is not None) or (
                OrderEvent.objects.filter(
                    order=order, kind=OrderEvent.Kind.PICKUP, details__no_show=REMINDER_MARK
                ).exists()
            )
            if not is_reminded:
                _remind(order, fulfillment_order, policy, code, now)
                return "reminded"
    return "skipped"


def _remind(
    order: Order,
    fulfillment_order: FulfillmentOrder,
    policy: StorePolicy,
    code: PickupCode | None,
    now: datetime,
) -> None:
    if code is not None:
        code.reminded_at = now
        code.save(update_fields=["reminded_at", "updated_at"])
    ready_at = fulfillment_order.ready_for_pickup_at
    assert ready_at is not None  # checked under the lock by the caller
    last_day = ready_at + timedelta(days=policy.no_show_cancel_days)
    details = {
        "no_show": REMINDER_MARK,
        "fulfillment_order_id": fulfillment_order.pk,
        "emailed": bool(order.customer_email),
        "cancel_at": last_day.isoformat(),
    }
    order_event_write(
        order=order,
        kind=OrderEvent.Kind.PICKUP,
        actor=ACTOR,
        source="fulfillment",
        message="Pickup reminder sent"
        if order.customer_email
        else "Pickup reminder due (no e-mail address on the order)",
        details=details,
    )
    outbox_emit(
        topic="fulfillment_order.pickup_reminder_sent",
        aggregate_type="fulfillment_order",
        aggregate_id=fulfillment_order.pk,
        payload={"order_id": order.pk, **details},
    )
    if order.customer_email:
        location = fulfillment_order.location
        number, email = order.number, order.customer_email
        transaction.on_commit(
            lambda: _send_reminder(number=number, email=email, location=location, last_day=last_day)
        )


def _send_reminder(*, number: str, email: str, location: Location, last_day: datetime) -> None:
    """The reminder e-mail (after commit: no transaction, no lock held). A failure is logged:
    the reminder is recorded once, never re-sent by the sweep."""
    hours = "\n".join(opening_hours_lines(location))
    local_last_day = last_day.astimezone(ZoneInfo(location.timezone)).strftime("%d %B %Y")
    body = (
        f"Hello,\n\nyour order {number} is waiting for you at {location.name}"
        f" ({location.address_line} {location.postcode} {location.city}).\n"
        "Bring the pickup code we e-mailed you when it was ready.\n\n"
        f"If it is not collected by {local_last_day}, we will cancel it and refund you.\n"
        + (f"\nOpening hours:\n{hours}\n" if hours else "")
    )
    try:
        EmailMessage(
            subject=f"Reminder: order {number} is waiting for you",
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email],
        ).send()
    except Exception:
        logger.exception("pickup reminder e-mail for order %s failed", number)


def _cancel(
    order: Order,
    order_lines: list[OrderLine],
    fulfillment_order: FulfillmentOrder,
    policy: StorePolicy,
    code: PickupCode | None,
    now: datetime,
) -> None:
    """Precondition: holding the order's, its lines', the fulfillment order's and its code's
    locks. The fulfillment order leaves the open set first, so that the cancel hook (which
    refuses to withdraw picked units from open fulfillment orders) has nothing to withdraw."""
    fo_lines = list(
        FulfillmentOrderLine.objects.select_for_update()
        .filter(fulfillment_order=fulfillment_order)
        .order_by("id")
    )
    handed = handed_over_units(fulfillment_order.pk)
    by_id = {line.pk: line for line in order_lines}
    wanted: dict[int, int] = {}
    for line in fo_lines:
        left = line.quantity_packed - handed.get(line.pk, 0)
        order_line = by_id[line.order_line_id]
        units = min(left, order_line.quantity_open - wanted.get(order_line.pk, 0))
        if units > 0:
            wanted[order_line.pk] = wanted.get(order_line.pk, 0) + units
    reason = f"Cancelled: not collected within {policy.no_show_cancel_days} days"
    target = FulfillmentStatus.COLLECTED if any(handed.values()) else FulfillmentStatus.CANCELLED
    set_status(fulfillment_order, target)
    fields = ["status", "updated_at"]
    if target == FulfillmentStatus.CANCELLED:
        fulfillment_order.cancel_reason = "not collected"
        fields.append("cancel_reason")
    else:
        fulfillment_order.collected_at = now
        fields.append("collected_at")
    fulfillment_order.save(update_fields=fields)
    if code is not None and code.locked_at is None:
        code.locked_at = now  # the bag is unpacked: the code must not hand anything over
        code.save(update_fields=["locked_at", "updated_at"])
    if wanted:
        cancel_locked(
            order=order,
            lines=sorted(wanted.items()),
            reason=reason,
            actor=ACTOR,
            channel_id=None,
            source="fulfillment",
            details={"fulfillment_order_id": fulfillment_order.pk, "no_show": "cancel"},
        )
        _allocated_refresh(sorted(wanted))
    announce(
        order=order,
        fulfillment_order=fulfillment_order,
        verb="not_collected",
        actor=ACTOR,
        details={
            "reason": reason,
            "lines": [{"line_id": key, "quantity": value} for key, value in sorted(wanted.items())],
        },
    )
    if order.status == OrderStatus.READY_FOR_PICKUP:
        fresh = OrderLine.objects.filter(order=order)
        if all(line.quantity_open == 0 for line in fresh):
            order_advance(
                order=order,
                target=OrderStatus.COLLECTED,
                actor=ACTOR,
                message="Collected in part; the rest was not collected",
            )


def _allocated_refresh(order_line_ids: list[int]) -> None:
    """``quantity_allocated`` = what open fulfillment orders still hold of each line."""
    held = dict(
        FulfillmentOrderLine.objects.filter(
            order_line_id__in=order_line_ids, fulfillment_order__status__in=list(OPEN)
        )
        .values("order_line_id")
        .annotate(units=Sum(F("quantity") - F("quantity_rejected")))
        .values_list("order_line_id", "units")
    )
    for order_line_id in order_line_ids:
        OrderLine.objects.filter(pk=order_line_id).update(
            quantity_allocated=held.get(order_line_id, 0)
        )
