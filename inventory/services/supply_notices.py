"""Dates from the supplier: a moved delivery date, advance shipping notices (ASN).

Both move the expected date of purchase order lines, so incoming stock and delivery promises
follow (``supply_stock.incoming_dates_refresh``). Same locking as ``supply``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db import transaction
from django.db.models import F

from inventory.models import (
    AdvanceShippingNotice,
    AdvanceShippingNoticeLine,
    PurchaseOrder,
    PurchaseOrderLine,
)
from inventory.services.supply import purchase_order_payload
from inventory.services.supply_stock import (
    PURCHASE_ORDER,
    incoming_dates_refresh,
    purchase_order_lines_lock,
    purchase_order_lock,
)
from inventory.supply_statuses import INCOMING
from omnilog.core.errors import Conflict, FieldError, ValidationFailed
from omnilog.core.outbox import outbox_emit


def purchase_order_reschedule(
    *,
    purchase_order_id: int,
    expected_date: date,
    actor: str,
    line_ids: Sequence[int] = (),
) -> PurchaseOrder:
    """The supplier moves its date: the lines (all, or ``line_ids``) get ``expected_date``;
    the levels' earliest dates follow. Only for confirmed or partly received orders."""
    with transaction.atomic():
        purchase_order = purchase_order_lock(purchase_order_id)
        if purchase_order.status not in INCOMING:
            raise Conflict(
                "Only a confirmed order has dates to move.",
                code="not_incoming",
                details={"status": purchase_order.status},
            )
        locked = purchase_order_lines_lock(purchase_order)
        chosen = [line for line in locked if not line_ids or line.pk in set(line_ids)]
        PurchaseOrderLine.objects.filter(pk__in=[line.pk for line in chosen]).update(
            expected_date=expected_date
        )
        incoming_dates_refresh(line.stock_level_id for line in chosen)  # type: ignore[attr-defined]
        PurchaseOrder.objects.filter(pk=purchase_order.pk).update(version=F("version") + 1)
        outbox_emit(
            topic="purchase_order.rescheduled",
            aggregate_type=PURCHASE_ORDER,
            aggregate_id=purchase_order.pk,
            payload=purchase_order_payload(purchase_order)
            | {"expected_date": expected_date.isoformat(), "lines": [line.pk for line in chosen]},
        )
        purchase_order.refresh_from_db()
        return purchase_order


def asn_create(
    *,
    purchase_order_id: int,
    supplier_reference: str,
    expected_arrival: date,
    lines: Sequence[tuple[int, int]],
    actor: str,
) -> AdvanceShippingNotice:
    """The supplier announces a delivery: (product id, quantity) lines of a confirmed order.

    The announced lines take ``expected_arrival`` as their expected date (the freshest news),
    so incoming stock and promises move with it. Raises ``ValidationFailed``
    (``lines.N.product_id`` not on the order, ``lines.N.quantity`` not positive,
    ``supplier_reference`` missing), ``Conflict`` (order not confirmed, reference already
    used: ``duplicate_notice``).
    """
    errors: list[FieldError] = []
    if not supplier_reference.strip():
        errors.append(FieldError("supplier_reference", "Required.", "required"))
    if not lines:
        errors.append(FieldError("lines", "At least one line is required.", "required"))
    for index, (_, quantity) in enumerate(lines):
        if quantity <= 0:
            errors.append(
                FieldError(f"lines.{index}.quantity", "Must be a positive number.", "min_value")
            )
    if errors:
        raise ValidationFailed("The shipping notice is not valid.", field_errors=errors)
    with transaction.atomic():
        purchase_order = purchase_order_lock(purchase_order_id)
        if purchase_order.status not in INCOMING:
            raise Conflict(
                "Shipping notices are for confirmed purchase orders.",
                code="not_incoming",
                details={"status": purchase_order.status},
            )
        if AdvanceShippingNotice.objects.filter(
            purchase_order=purchase_order, supplier_reference=supplier_reference
        ).exists():
            raise Conflict(
                f"Notice {supplier_reference!r} already exists for {purchase_order.number}.",
                code="duplicate_notice",
            )
        locked = purchase_order_lines_lock(purchase_order)
        by_product = {line.product_id: line for line in locked}
        unknown = [
            FieldError(f"lines.{index}.product_id", "Not on this order.", "not_on_order")
            for index, (product_id, _) in enumerate(lines)
            if product_id not in by_product
        ]
        if unknown:
            raise ValidationFailed("The shipping notice is not valid.", field_errors=unknown)
        notice = AdvanceShippingNotice.objects.create(
            purchase_order=purchase_order,
            supplier_reference=supplier_reference[:64],
            expected_arrival=expected_arrival,
            created_by=actor[:150],
        )
        AdvanceShippingNoticeLine.objects.bulk_create(
            AdvanceShippingNoticeLine(notice=notice, product_id=product_id, quantity=quantity)
            for product_id, quantity in lines
        )
        announced = [by_product[product_id] for product_id, _ in lines]
        PurchaseOrderLine.objects.filter(pk__in=[line.pk for line in announced]).update(
            expected_date=expected_arrival
        )
        incoming_dates_refresh(line.stock_level_id for line in announced)  # type: ignore[attr-defined]
        outbox_emit(
            topic="purchase_order.notice_received",
            aggregate_type=PURCHASE_ORDER,
            aggregate_id=purchase_order.pk,
            payload=purchase_order_payload(purchase_order)
            | {
                "notice_id": notice.pk,
                "supplier_reference": notice.supplier_reference,
                "expected_arrival": expected_arrival.isoformat(),
            },
        )
        return notice
