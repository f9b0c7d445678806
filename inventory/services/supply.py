"""Purchase orders: create (draft), send, confirm (incoming stock with dates), reschedule,
cancel, close short; advance shipping notices. Receiving is in ``receiving``.

Each service owns its transaction, locks the purchase order then its destination levels then
its lines (``supply_stock``), writes the ledger for every incoming change and an outbox event
(``purchase_order.<what>``). Status changes follow ``inventory.supply_statuses``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from inventory.models import (
    Location,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    SupplierProduct,
)
from inventory.services.ledger import Origin
from inventory.services.supply_stock import (
    PURCHASE_ORDER,
    incoming_change,
    incoming_dates_refresh,
    lines_close,
    purchase_order_lines_lock,
    purchase_order_lock,
)
from inventory.supply_statuses import (
    INCOMING,
    PurchaseOrderStatus,
    can_transition,
    over_receipt_tolerance,
)
from omnilog.core.errors import Conflict, FieldError, ValidationFailed
from omnilog.core.outbox import outbox_emit

Status = PurchaseOrderStatus


@dataclass(frozen=True)
class ConfirmLine:
    """What the supplier confirmed for one line (``None``: as ordered / as planned)."""

    line_id: int
    quantity_confirmed: int | None = None
    expected_date: date | None = None


def purchase_order_number_next() -> str:
    """``PO-000123`` from ``inventory_purchase_order_number_seq`` (migration 0006)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('inventory_purchase_order_number_seq')")
        (value,) = cursor.fetchone()
    return f"PO-{value:06d}"


def purchase_order_lines_check(
    *,
    supplier: Supplier,
    location: Location,
    lines: Sequence[tuple[Product, int, date | None]],
) -> tuple[list[FieldError], dict[int, SupplierProduct]]:
    """The rules of a draft's lines (``purchase_order_create``, the admin's line forms): errors
    and the supplier's offers by product id."""
    errors: list[FieldError] = []
    if not supplier.is_active:
        errors.append(FieldError("supplier", "The supplier is not active.", "inactive"))
    if not location.is_active:
        errors.append(FieldError("location", "The location is not active.", "inactive"))
    if not lines:
        errors.append(FieldError("lines", "At least one line is required.", "required"))
    offers = {
        offer.product_id: offer
        for offer in SupplierProduct.objects.filter(
            supplier=supplier, product_id__in=[product.pk for product, _, _ in lines]
        )
    }
    seen: set[int] = set()
    for index, (product, quantity, _) in enumerate(lines):
        offer = offers.get(product.pk)
        if product.pk in seen:
            errors.append(
                FieldError(f"lines.{index}.product", "Already on the order.", "duplicate")
            )
        seen.add(product.pk)
        if offer is None:
            errors.append(
                FieldError(
                    f"lines.{index}.product",
                    f"{supplier.code} does not supply {product.sku}.",
                    "not_supplied",
                )
            )
        if quantity <= 0:
            errors.append(
                FieldError(f"lines.{index}.quantity", "Must be a positive number.", "min_value")
            )
        elif offer is not None and quantity % offer.pack_size:
            errors.append(
                FieldError(
                    f"lines.{index}.quantity",
                    f"Must be a multiple of the pack size ({offer.pack_size}).",
                    "pack_size",
                )
            )
    return errors, offers


def purchase_order_create(
    *,
    supplier: Supplier,
    location: Location,
    lines: Sequence[tuple[Product, int, date | None]],
    actor: str,
    reference: str = "",
    expected_date: date | None = None,
    note: str = "",
) -> PurchaseOrder:
    """A draft purchase order; each line is (product, quantity, expected date or None).

    Every product must be sold by the supplier (a ``SupplierProduct``, which gives the
    supplier SKU and unit cost) and each quantity a positive multiple of its pack size.
    Raises ``ValidationFailed`` with ``lines.N.product`` / ``lines.N.quantity`` errors (codes
    ``not_supplied``, ``duplicate``, ``min_value``, ``pack_size``), ``supplier`` /
    ``location`` errors (``inactive``); nothing is written then.
    """
    errors, offers = purchase_order_lines_check(supplier=supplier, location=location, lines=lines)
    if errors:
        raise ValidationFailed("The purchase order is not valid.", field_errors=errors)
    with transaction.atomic():
        purchase_order = PurchaseOrder.objects.create(
            number=purchase_order_number_next(),
            supplier=supplier,
            location=location,
            reference=reference[:100],
            expected_date=expected_date,
            currency=supplier.currency,
            note=note,
            created_by=actor[:150],
        )
        PurchaseOrderLine.objects.bulk_create(
            PurchaseOrderLine(
                purchase_order=purchase_order,
                line_number=index + 1,
                product=product,
                supplier_sku=offers[product.pk].supplier_sku,
                quantity_ordered=quantity,
                unit_cost=offers[product.pk].cost,
                expected_date=line_date,
            )
            for index, (product, quantity, line_date) in enumerate(lines)
        )
        outbox_emit(
            topic="purchase_order.created",
            aggregate_type=PURCHASE_ORDER,
            aggregate_id=purchase_order.pk,
            payload=purchase_order_payload(purchase_order),
        )
    return purchase_order


def transition_check(purchase_order: PurchaseOrder, target: PurchaseOrderStatus) -> None:
    """Raise ``Conflict`` (``invalid_transition``) unless the table allows the move."""
    if not can_transition(purchase_order.status, target):
        raise Conflict(
            f"A {purchase_order.get_status_display().lower()} purchase order cannot become "
            f"{target.value.replace('_', ' ')}.",
            code="invalid_transition",
            details={"status": purchase_order.status, "target": target.value},
        )


def purchase_order_transition(
    purchase_order: PurchaseOrder,
    target: PurchaseOrderStatus,
    *,
    actor: str,
    topic: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Move a locked order along the table, stamp the time and bump its version; the outbox
    event ``topic`` (default ``purchase_order.<target>``) goes with it, ``details`` added to its
    payload. Raises ``Conflict`` (``invalid_transition``)."""
    transition_check(purchase_order, target)
    now = timezone.now()
    stamp = {
        Status.SENT: "sent_at",
        Status.CONFIRMED: "confirmed_at",
        Status.RECEIVED: "received_at",
        Status.CANCELLED: "cancelled_at",
    }.get(target)
    fields = ["status", "version", "updated_at"]
    if stamp:
        setattr(purchase_order, stamp, now)
        fields.append(stamp)
    purchase_order.status = target.value
    purchase_order.version += 1
    purchase_order.save(update_fields=fields)
    outbox_emit(
        topic=topic or f"purchase_order.{target.value}",
        aggregate_type=PURCHASE_ORDER,
        aggregate_id=purchase_order.pk,
        payload=purchase_order_payload(purchase_order) | {"actor": actor} | (details or {}),
    )


def purchase_order_payload(purchase_order: PurchaseOrder) -> dict[str, object]:
    return {
        "number": purchase_order.number,
        "supplier": purchase_order.supplier.code,
        "location": purchase_order.location.code,
        "status": purchase_order.status,
        "version": purchase_order.version,
    }


def _version_check(purchase_order: PurchaseOrder, version: int | None) -> None:
    if version is not None and version != purchase_order.version:
        raise Conflict(
            "The purchase order changed meanwhile; reload it.",
            code="stale_version",
            details={"version": purchase_order.version},
        )


def purchase_order_send(
    *, purchase_order_id: int, actor: str, version: int | None = None
) -> PurchaseOrder:
    """Draft -> sent. Refused (``below_minimum_order``) under the supplier's minimum value."""
    with transaction.atomic():
        purchase_order = purchase_order_lock(purchase_order_id)
        _version_check(purchase_order, version)
        total = sum(
            (line.unit_cost * line.quantity_ordered for line in purchase_order.lines.all()),
            Decimal(0),
        )
        minimum = purchase_order.supplier.minimum_order_value
        if purchase_order.status == Status.DRAFT and total < minimum:
            raise Conflict(
                f"The order is worth {total:.2f} {purchase_order.currency}; "
                f"{purchase_order.supplier.code} takes orders from {minimum:.2f}.",
                code="below_minimum_order",
                details={"total": str(total), "minimum": str(minimum)},
            )
        purchase_order_transition(purchase_order, Status.SENT, actor=actor)
        return purchase_order


def purchase_order_confirm(
    *,
    purchase_order_id: int,
    actor: str,
    lines: Sequence[ConfirmLine] = (),
    supplier_reference: str = "",
    version: int | None = None,
) -> PurchaseOrder:
    """Sent -> confirmed: confirmed quantities become incoming stock at the destination.

    Lines not given are confirmed as ordered. A line's date is the one given, else its own,
    else the order's, else today + the supplier's lead time. One ``incoming`` ledger row per
    line; the levels' earliest date follows. Raises ``ValidationFailed`` (``lines.N.line_id``
    unknown, ``lines.N.quantity_confirmed`` negative), ``Conflict`` (``invalid_transition``).
    """
    errors: list[FieldError] = []
    for index, item in enumerate(lines):
        if item.quantity_confirmed is not None and item.quantity_confirmed < 0:
            errors.append(
                FieldError(
                    f"lines.{index}.quantity_confirmed", "Must be zero or more.", "min_value"
                )
            )
    if errors:
        raise ValidationFailed("The confirmation is not valid.", field_errors=errors)
    with transaction.atomic():
        purchase_order = purchase_order_lock(purchase_order_id)
        _version_check(purchase_order, version)
        transition_check(purchase_order, Status.CONFIRMED)
        locked = purchase_order_lines_lock(purchase_order)
        by_id = {line.pk: line for line in locked}
        unknown = [
            FieldError(f"lines.{index}.line_id", "Not a line of this order.", "unknown_line")
            for index, item in enumerate(lines)
            if item.line_id not in by_id
        ]
        if unknown:
            raise ValidationFailed("The confirmation is not valid.", field_errors=unknown)
        given = {item.line_id: item for item in lines}
        default_date = purchase_order.expected_date or (
            timezone.localdate() + timedelta(days=purchase_order.supplier.lead_time_days)
        )
        origin = Origin(
            actor=actor,
            reference_type=PURCHASE_ORDER,
            reference_id=purchase_order.number,
            reason="confirmed",
        )
        percent = purchase_order.supplier.over_receipt_percent
        for line in locked:
            confirmed = given.get(line.pk)
            if confirmed is not None and confirmed.quantity_confirmed is not None:
                line.quantity_confirmed = confirmed.quantity_confirmed
            else:
                line.quantity_confirmed = line.quantity_ordered
            line.expected_date = (confirmed.expected_date if confirmed else None) or (
                line.expected_date or default_date
            )
            line.over_receipt_tolerance = over_receipt_tolerance(
                confirmed=line.quantity_confirmed, percent=percent
            )
            incoming_change(
                level_id=line.stock_level_id,  # type: ignore[attr-defined]
                quantity_delta=line.quantity_confirmed,
                origin=origin,
            )
        PurchaseOrderLine.objects.bulk_update(
            locked, ["quantity_confirmed", "expected_date", "over_receipt_tolerance"]
        )
        if supplier_reference:
            purchase_order.supplier_reference = supplier_reference[:64]
            purchase_order.save(update_fields=["supplier_reference"])
        purchase_order_transition(purchase_order, Status.CONFIRMED, actor=actor)
        incoming_dates_refresh(line.stock_level_id for line in locked)  # type: ignore[attr-defined]
        return purchase_order


def purchase_order_cancel(
    *, purchase_order_id: int, actor: str, reason: str = "", version: int | None = None
) -> PurchaseOrder:
    """Draft, sent or confirmed -> cancelled. A confirmed order's incoming units go (ledger)
    and preorders sold against them are released (``preorder.released``)."""
    with transaction.atomic():
        purchase_order = purchase_order_lock(purchase_order_id)
        _version_check(purchase_order, version)
        was_incoming = purchase_order.status in INCOMING
        transition_check(purchase_order, Status.CANCELLED)
        if was_incoming:
            lines_close(
                purchase_order_lines_lock(purchase_order),
                origin=Origin(
                    actor=actor,
                    reference_type=PURCHASE_ORDER,
                    reference_id=purchase_order.number,
                    reason=f"cancelled: {reason}".strip(": "),
                ),
                reason="purchase_order_cancelled",
            )
        purchase_order.close_reason = reason[:200]
        purchase_order.save(update_fields=["close_reason"])
        purchase_order_transition(purchase_order, Status.CANCELLED, actor=actor)
        return purchase_order


def purchase_order_close(*, purchase_order_id: int, actor: str, reason: str) -> PurchaseOrder:
    """Partly received -> received: the rest will not come (closed short). Incoming drops by
    the open units and their preorders are released."""
    if not reason.strip():
        raise ValidationFailed(
            "A reason is required.",
            field_errors=[FieldError("reason", "A reason is required.", "required")],
        )
    with transaction.atomic():
        purchase_order = purchase_order_lock(purchase_order_id)
        if purchase_order.status != Status.PARTLY_RECEIVED:
            raise Conflict(
                "Only a partly received order can be closed short (cancel the others).",
                code="invalid_transition",
                details={"status": purchase_order.status},
            )
        locked = purchase_order_lines_lock(purchase_order)
        lines_close(
            [line for line in locked if not line.is_closed],
            origin=Origin(
                actor=actor,
                reference_type=PURCHASE_ORDER,
                reference_id=purchase_order.number,
                reason=f"closed short: {reason}",
            ),
            reason="purchase_order_closed",
        )
        purchase_order.close_reason = reason[:200]
        purchase_order.save(update_fields=["close_reason"])
        purchase_order_transition(
            purchase_order,
            Status.RECEIVED,
            actor=actor,
            topic="purchase_order.closed",
            details={"reason": reason},
        )
        return purchase_order


def purchase_order_lines_update(
    *, purchase_order_id: int, changes: Sequence[tuple[int, int, date | None]], actor: str
) -> PurchaseOrder:
    """Change (line id, quantity ordered, expected date) of a draft's lines, under the same
    rules as ``purchase_order_create`` (``lines.N.quantity`` errors). Raises ``Conflict``
    (``not_draft``) once the order has been sent."""
    with transaction.atomic():
        purchase_order = purchase_order_lock(purchase_order_id)
        if purchase_order.status != Status.DRAFT:
            raise Conflict("Only a draft's lines can change.", code="not_draft")
        lines = {
            line.pk: line
            for line in PurchaseOrderLine.objects.filter(
                purchase_order=purchase_order
            ).select_related("product")
        }
        unknown = [
            FieldError(f"lines.{index}.line_id", "Not a line of this order.", "unknown_line")
            for index, (line_id, _, _) in enumerate(changes)
            if line_id not in lines
        ]
        if unknown:
            raise ValidationFailed("The change is not valid.", field_errors=unknown)
        errors, _ = purchase_order_lines_check(
            supplier=purchase_order.supplier,
            location=purchase_order.location,
            lines=[(lines[line_id].product, quantity, day) for line_id, quantity, day in changes],
        )
        if errors:
            raise ValidationFailed("The change is not valid.", field_errors=errors)
        for line_id, quantity, day in changes:
            lines[line_id].quantity_ordered = quantity
            lines[line_id].expected_date = day
        PurchaseOrderLine.objects.bulk_update(
            [lines[line_id] for line_id, _, _ in changes], ["quantity_ordered", "expected_date"]
        )
        purchase_order.version += 1
        purchase_order.save(update_fields=["version", "updated_at"])
        outbox_emit(
            topic="purchase_order.updated",
            aggregate_type=PURCHASE_ORDER,
            aggregate_id=purchase_order.pk,
            payload=purchase_order_payload(purchase_order) | {"actor": actor},
        )
        return purchase_order
