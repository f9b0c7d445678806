"""Receiving: scans against a purchase order (or its ASN) posted as one receipt, all or nothing.

``receipt_post`` validates the scans (every code a known EAN or SKU on the order, quantities
not negative, a reason for damaged units), then in one transaction: locks the order, its
destination levels and its lines (``supply_stock``); per product writes a ``receipt`` ledger
movement (on hand up by every unit, incoming down by what the line still expected) and a
``damage`` movement for damaged units; gives received units to waiting preorders
(reservations); updates the lines and the order's status (partly received / received) and the
ASN's; records over / short / damaged discrepancies on the receipt lines; emits
``purchase_order.received``. A replay with the same idempotency key returns the first receipt.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inventory.models import (
    AdvanceShippingNotice,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    StockMovement,
)
from inventory.services.ledger import Deltas, Origin, change
from inventory.services.preorders import preorders_reserve
from inventory.services.supply import purchase_order_transition
from inventory.services.supply_stock import (
    PURCHASE_ORDER,
    incoming_change,
    incoming_dates_refresh,
    preorders_trim,
    purchase_order_lines_lock,
    purchase_order_lock,
)
from inventory.supply_statuses import INCOMING, PurchaseOrderStatus
from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed

DAMAGE_REASONS = frozenset(ReceiptLine.DamageReason.values)
MAX_SCANS = 500


@dataclass(frozen=True)
class Scan:
    """One scanned code: ``quantity`` sound units and ``damaged_quantity`` damaged ones."""

    code: str
    quantity: int
    damaged_quantity: int = 0
    damage_reason: str = ""


@dataclass(frozen=True)
class ReceiptPosted:
    receipt: Receipt
    created: bool  # False: a replay of an earlier post with the same idempotency key


@dataclass
class _Counted:
    codes: list[str]
    first_index: int = 0
    sound: int = 0
    damaged: int = 0
    reasons: set[str] | None = None


def receipt_post(
    *,
    purchase_order_id: int,
    scans: Sequence[Scan],
    idempotency_key: str,
    actor: str,
    source: str = "",
    notice_id: int | None = None,
    note: str = "",
) -> ReceiptPosted:
    """Post a receipt (see the module docstring).

    Raises ``ValidationFailed`` (``scans.N.code`` ``unknown_product`` / ``not_on_order``,
    ``scans.N.quantity`` / ``scans.N.damaged_quantity`` ``min_value``,
    ``scans.N.damage_reason`` ``required`` / ``invalid``, ``idempotency_key`` ``required``),
    ``NotFound`` (order, notice), ``Conflict`` (``purchase_order_not_receivable`` when the
    order is not confirmed or partly received, ``notice_not_receivable``, ``over_receipt``
    beyond the supplier's tolerance, ``idempotency_key_reused`` with other scans). Nothing is
    written when it raises.
    """
    key = idempotency_key.strip()
    fingerprint = _fingerprint(scans, notice_id)
    errors = _shape_errors(scans, key)
    if errors:
        raise ValidationFailed("The receipt is not valid.", field_errors=errors)
    replay = _replay(purchase_order_id, key, fingerprint)
    if replay is not None:
        return replay
    counted = _count(purchase_order_id, scans)
    with transaction.atomic():
        purchase_order = purchase_order_lock(purchase_order_id)
        replay = _replay(purchase_order_id, key, fingerprint)  # a concurrent twin committed
        if replay is not None:
            return replay
        if purchase_order.status not in INCOMING:
            raise Conflict(
                f"{purchase_order.number} is {purchase_order.get_status_display().lower()}; "
                "only a confirmed or partly received order can be received.",
                code="purchase_order_not_receivable",
                details={"status": purchase_order.status},
            )
        notice, announced = _notice(purchase_order, notice_id)
        lines = {line.product_id: line for line in purchase_order_lines_lock(purchase_order)}
        receipt = Receipt.objects.create(
            purchase_order=purchase_order,
            notice=notice,
            location_id=purchase_order.location_id,
            idempotency_key=key,
            fingerprint=fingerprint,
            actor=actor[:150],
            source=source[:64],
            note=note[:200],
            posted_at=timezone.now(),
        )
        receipt_lines = _apply(purchase_order, receipt, lines, counted, announced, actor, source)
        incoming_dates_refresh(line.stock_level_id for line in lines.values())  # type: ignore[attr-defined]
        receipt.has_discrepancies = any(
            line.quantity_over or line.quantity_short or line.quantity_damaged
            for line in receipt_lines
        )
        receipt.save(update_fields=["has_discrepancies"])
        is_complete = all(line.quantity_open == 0 for line in lines.values())
        if notice is not None:
            notice.status = AdvanceShippingNotice.Status.RECEIVED
            notice.save(update_fields=["status", "updated_at"])
        purchase_order_transition(
            purchase_order,
            PurchaseOrderStatus.RECEIVED if is_complete else PurchaseOrderStatus.PARTLY_RECEIVED,
            actor=actor,
            topic="purchase_order.received",
            details={
                "receipt_id": receipt.pk,
                "notice_id": notice_id,
                "is_complete": is_complete,
                "has_discrepancies": receipt.has_discrepancies,
                "lines": [
                    {
                        "sku": lines[line.product_id].product.sku,
                        "expected": line.quantity_expected,
                        "received": line.quantity_received,
                        "damaged": line.quantity_damaged,
                        "over": line.quantity_over,
                        "short": line.quantity_short,
                    }
                    for line in receipt_lines
                ],
            },
        )
        return ReceiptPosted(receipt, True)


def _fingerprint(scans: Sequence[Scan], notice_id: int | None) -> str:
    body = json.dumps(
        [
            notice_id,
            [[s.code.strip(), s.quantity, s.damaged_quantity, s.damage_reason] for s in scans],
        ]
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _shape_errors(scans: Sequence[Scan], key: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not key:
        errors.append(FieldError("idempotency_key", "Required.", "required"))
    elif len(key) > 64:
        errors.append(FieldError("idempotency_key", "At most 64 characters.", "max_length"))
    if not scans:
        errors.append(FieldError("scans", "Scan at least one item.", "required"))
    if len(scans) > MAX_SCANS:
        errors.append(FieldError("scans", f"At most {MAX_SCANS} scans.", "max_length"))
    for index, scan in enumerate(scans):
        if not scan.code.strip():
            errors.append(FieldError(f"scans.{index}.code", "Required.", "required"))
        if scan.quantity < 0:
            errors.append(
                FieldError(f"scans.{index}.quantity", "Must be zero or more.", "min_value")
            )
        if scan.damaged_quantity < 0:
            errors.append(
                FieldError(f"scans.{index}.damaged_quantity", "Must be zero or more.", "min_value")
            )
        if scan.quantity == 0 and scan.damaged_quantity == 0:
            errors.append(
                FieldError(f"scans.{index}.quantity", "Nothing was counted.", "min_value")
            )
        if scan.damaged_quantity > 0 and not scan.damage_reason:
            errors.append(
                FieldError(
                    f"scans.{index}.damage_reason", "Say why the units are damaged.", "required"
                )
            )
        elif scan.damage_reason and scan.damage_reason not in DAMAGE_REASONS:
            errors.append(
                FieldError(
                    f"scans.{index}.damage_reason",
                    f"One of {', '.join(sorted(DAMAGE_REASONS))}.",
                    "invalid",
                )
            )
    return errors


def _replay(purchase_order_id: int, key: str, fingerprint: str) -> ReceiptPosted | None:
    existing = Receipt.objects.filter(
        purchase_order_id=purchase_order_id, idempotency_key=key
    ).first()
    if existing is None:
        return None
    if existing.fingerprint != fingerprint:
        raise Conflict(
            "This idempotency key was used for a different receipt.",
            code="idempotency_key_reused",
            details={"receipt_id": existing.pk},
        )
    return ReceiptPosted(existing, False)


def _count(purchase_order_id: int, scans: Sequence[Scan]) -> dict[int, _Counted]:
    """Scans by product (codes resolved as EAN or SKU, and on the order)."""
    if not PurchaseOrder.objects.filter(pk=purchase_order_id).exists():
        raise NotFound(f"No purchase order {purchase_order_id}.", code="purchase_order_not_found")
    codes = {scan.code.strip() for scan in scans}
    products = Product.objects.filter(Q(sku__in=codes) | Q(ean__in=codes)).values_list(
        "id", "sku", "ean"
    )
    by_code: dict[str, int] = {}
    for product_id, sku, ean in products:
        by_code[sku] = product_id
        if ean:
            by_code.setdefault(ean, product_id)
    ordered = set(
        PurchaseOrderLine.objects.filter(purchase_order_id=purchase_order_id).values_list(
            "product_id", flat=True
        )
    )
    errors: list[FieldError] = []
    counted: dict[int, _Counted] = {}
    for index, scan in enumerate(scans):
        code = scan.code.strip()
        found = by_code.get(code)
        if found is None:
            errors.append(
                FieldError(f"scans.{index}.code", f"Unknown code {code!r}.", "unknown_product")
            )
            continue
        product_id = found
        if product_id not in ordered:
            errors.append(
                FieldError(f"scans.{index}.code", f"{code} is not on this order.", "not_on_order")
            )
            continue
        item = counted.setdefault(product_id, _Counted(codes=[], first_index=index, reasons=set()))
        item.codes.append(code)
        item.sound += scan.quantity
        item.damaged += scan.damaged_quantity
        if scan.damage_reason and item.reasons is not None:
            item.reasons.add(scan.damage_reason)
    if errors:
        raise ValidationFailed("The receipt is not valid.", field_errors=errors)
    return counted


def _notice(
    purchase_order: PurchaseOrder, notice_id: int | None
) -> tuple[AdvanceShippingNotice | None, dict[int, int] | None]:
    if notice_id is None:
        return None, None
    notice = (
        AdvanceShippingNotice.objects.select_for_update()
        .filter(pk=notice_id, purchase_order=purchase_order)
        .first()
    )
    if notice is None:
        raise NotFound(
            f"No shipping notice {notice_id} for {purchase_order.number}.", code="notice_not_found"
        )
    if notice.status != AdvanceShippingNotice.Status.ANNOUNCED:
        raise Conflict(
            f"The shipping notice is already {notice.get_status_display().lower()}.",
            code="notice_not_receivable",
        )
    return notice, dict(notice.lines.values_list("product_id", "quantity"))


def _apply(
    purchase_order: PurchaseOrder,
    receipt: Receipt,
    lines: dict[int, PurchaseOrderLine],
    counted: dict[int, _Counted],
    announced: dict[int, int] | None,
    actor: str,
    source: str,
) -> list[ReceiptLine]:
    """Ledger, preorders and line counters for every counted (or announced) product."""
    origin = Origin(
        actor=actor,
        source=source,
        reference_type=PURCHASE_ORDER,
        reference_id=purchase_order.number,
    )
    over_limit: list[FieldError] = []
    receipt_lines: list[ReceiptLine] = []
    # An ASN line nobody scanned is short by all of it.
    products = sorted(set(counted) | set(announced or {}), key=lambda p: lines[p].line_number)
    totals: dict[int, int] = defaultdict(int)
    for product_id in products:
        item = counted.get(product_id) or _Counted(codes=[], reasons=set())
        line = lines[product_id]
        total = item.sound + item.damaged
        totals[product_id] = total
        limit = line.quantity_confirmed + line.over_receipt_tolerance
        if line.quantity_received + total > limit:
            over_limit.append(
                FieldError(
                    f"scans.{item.first_index}.quantity",
                    f"At most {max(0, limit - line.quantity_received)} more units of "
                    f"{line.product.sku} can be received on this order; {total} scanned.",
                    "over_receipt",
                )
            )
    if over_limit:
        raise Conflict(
            "More units than the order allows (confirmed quantity plus the supplier's "
            "over-receipt tolerance).",
            code="over_receipt",
            field_errors=over_limit,
        )
    for product_id in products:
        item = counted.get(product_id) or _Counted(codes=[], reasons=set())
        line = lines[product_id]
        level_id = line.stock_level_id  # type: ignore[attr-defined]
        total = totals[product_id]
        open_before = line.quantity_open
        expected = announced.get(product_id, 0) if announced is not None else open_before
        over, short = max(0, total - expected), max(0, expected - total)
        note = ", ".join(
            part
            for part in (f"over {over}" if over else "", f"short {short}" if short else "")
            if part
        )
        if total:
            incoming_change(
                level_id=level_id,
                quantity_delta=-min(total, open_before),
                on_hand=total,
                origin=replace(origin, reason=note or "as expected"),
            )
        reason = ",".join(sorted(item.reasons or ()))
        if item.damaged:
            change(
                level_id,
                StockMovement.Kind.DAMAGE,
                Deltas(damaged=item.damaged),
                replace(origin, reason=f"damaged on receipt: {reason}"),
            )
        # Preorders first (the CHECK keeps preordered <= open at every statement): sound units
        # go to waiting preorders; if fewer units remain to come than are still sold
        # (damaged units), the youngest preorders give way.
        preorders_reserve(line, level_id=level_id, units=item.sound, origin=origin)
        open_after = max(0, line.quantity_confirmed - line.quantity_received - total)
        preorders_trim(line, open_after=open_after, reason="damaged_on_receipt")
        line.quantity_received += total
        line.quantity_damaged += item.damaged
        PurchaseOrderLine.objects.filter(pk=line.pk).update(
            quantity_received=line.quantity_received, quantity_damaged=line.quantity_damaged
        )
        receipt_lines.append(
            ReceiptLine(
                receipt=receipt,
                purchase_order_line=line,
                product_id=product_id,
                scanned_codes=item.codes,
                quantity_expected=expected,
                quantity_received=total,
                quantity_damaged=item.damaged,
                quantity_over=over,
                quantity_short=short,
                damage_reason=(reason if "," not in reason else ReceiptLine.DamageReason.OTHER)
                if item.damaged
                else "",
                discrepancy_note=note,
            )
        )
    ReceiptLine.objects.bulk_create(receipt_lines)
    return receipt_lines
