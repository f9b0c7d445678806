"""Packing and quality control: every unit is scanned into a parcel, then the parcel is closed
with its measured weight and dimensions and a box (suggested by ``fulfillment.picking.boxes``).

A wrong item (an EAN that is not in the fulfillment order) or an excess (more units of a line
than were picked) is refused with a message naming the item, and nothing is written. When the
last parcel closes with every picked unit packed, the fulfillment order is ``packed``.
Lock order: the order row, then the fulfillment order, then its lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from fulfillment.carriers import Parcel as CarrierParcel
from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    PackedItem,
    Parcel,
    RelayPoint,
)
from fulfillment.picking.boxes import BOX_CATALOGUE, Box, PackItem, box_by_code, box_suggest
from fulfillment.services.fulfillment_orders import _fulfillment_order_lock, _order_id_of
from fulfillment.services.lifecycle import fulfillment_order_step
from fulfillment.services.relay_points import relay_point_refusals
from fulfillment.statuses import FulfillmentStatus
from inventory.models import Product
from omnilog.core.errors import Conflict, FieldError, ValidationFailed
from orders.models import DeliveryMode, Order
from orders.services.timeline import order_lock


@dataclass(frozen=True)
class PackScanResult:
    parcel_id: int
    parcel_number: int
    fulfillment_order_line_id: int
    sku: str
    line_packed: int
    line_picked: int
    units_left: int  # picked units of the fulfillment order not yet packed


def _lock(
    fulfillment_order_id: int,
) -> tuple[Order, FulfillmentOrder, list[FulfillmentOrderLine]]:
    order = order_lock(order_id=_order_id_of(fulfillment_order_id))
    fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
    if fulfillment_order.status != FulfillmentStatus.PICKED:
        raise Conflict(
            f"FO-{fulfillment_order.pk} is {fulfillment_order.status}; only a picked order "
            "is packed.",
            code="invalid_transition",
            details={"status": fulfillment_order.status},
        )
    lines = list(
        FulfillmentOrderLine.objects.select_for_update(of=("self",))
        .select_related("order_line__product")
        .filter(fulfillment_order=fulfillment_order)
        .order_by("id")
    )
    return order, fulfillment_order, lines


def _units_left(lines: list[FulfillmentOrderLine]) -> int:
    return sum(line.quantity_picked - line.quantity_packed for line in lines)


def pack_scan(*, fulfillment_order_id: int, ean: str, actor: str) -> PackScanResult:
    """One unit scanned into the open parcel (opened when there is none).

    Refused (``Conflict``, nothing written): an EAN that is not in the order (``wrong_item``),
    one more unit of a line than was picked (``excess_item``).
    """
    ean = ean.strip()
    if not ean:
        raise ValidationFailed(
            "The scan is not valid.",
            field_errors=[FieldError("ean", "Scan a barcode.", "required")],
        )
    with transaction.atomic():
        _, fulfillment_order, lines = _lock(fulfillment_order_id)
        matches = [line for line in lines if line.order_line.product.ean == ean]
        if not matches:
            product = Product.objects.filter(ean=ean).values_list("sku", "name").first()
            label = f"{product[0]} {product[1]}" if product else "unknown EAN"
            raise Conflict(
                f"Wrong item: {ean} ({label}) is not part of FO-{fulfillment_order.pk}.",
                code="wrong_item",
                details={"ean": ean, "sku": product[0] if product else ""},
            )
        line = next((item for item in matches if item.quantity_packed < item.quantity_picked), None)
        if line is None:
            item_product = matches[0].order_line.product
            picked = sum(item.quantity_picked for item in matches)
            raise Conflict(
                f"Excess item: {item_product.sku} {item_product.name}: all {picked} picked "
                f"unit(s) of FO-{fulfillment_order.pk} are already packed.",
                code="excess_item",
                details={"ean": ean, "sku": item_product.sku, "picked": picked},
            )
        parcel = Parcel.objects.filter(
            fulfillment_order=fulfillment_order, status=Parcel.Status.OPEN
        ).first()
        if parcel is None:
            last = Parcel.objects.filter(fulfillment_order=fulfillment_order).aggregate(
                number=Max("number")
            )["number"]
            parcel = Parcel.objects.create(
                fulfillment_order=fulfillment_order, number=(last or 0) + 1, packed_by=actor[:150]
            )
        item, _ = PackedItem.objects.get_or_create(parcel=parcel, fulfillment_order_line=line)
        PackedItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + 1)
        line.quantity_packed += 1
        line.save(update_fields=["quantity_packed"])
        return PackScanResult(
            parcel_id=parcel.pk,
            parcel_number=parcel.number,
            fulfillment_order_line_id=line.pk,
            sku=line.order_line.sku,
            line_packed=line.quantity_packed,
            line_picked=line.quantity_picked,
            units_left=_units_left(lines),
        )


def parcel_items(parcel: Parcel) -> list[PackItem]:
    """The box core's items: packed units with their product's dimensions and weight."""
    return [
        PackItem(
            length_mm=product.length_mm,
            width_mm=product.width_mm,
            height_mm=product.height_mm,
            weight_grams=product.weight_grams,
            quantity=quantity,
        )
        for product, quantity in (
            (item.fulfillment_order_line.order_line.product, item.quantity)
            for item in parcel.items.select_related("fulfillment_order_line__order_line__product")
        )
    ]


def pack_close(
    *,
    fulfillment_order_id: int,
    weight_grams: int,
    actor: str,
    dimensions: tuple[int, int, int] | None = None,
    box_code: str = "",
    now: datetime | None = None,
) -> Parcel:
    """Close the open parcel with its measured weight, the box used (default: the suggested
    one) and its dimensions (length, width, height in mm; default: the box's). When every
    picked unit is packed, the fulfillment order becomes ``packed``.
    """
    errors = []
    if weight_grams < 1:
        errors.append(FieldError("weight_grams", "Weigh the parcel (grams, > 0).", "min_value"))
    if dimensions is not None and min(dimensions) < 1:
        errors.append(FieldError("dimensions", "Each side in mm, > 0.", "min_value"))
    box: Box | None = None
    if box_code:
        box = box_by_code(box_code)
        if box is None:
            known = ", ".join(item.code for item in BOX_CATALOGUE)
            errors.append(FieldError("box_code", f"Unknown box; one of {known}.", "invalid_choice"))
    if errors:
        raise ValidationFailed("The parcel cannot be closed.", field_errors=errors)
    moment = now or timezone.now()
    with transaction.atomic():
        order, fulfillment_order, lines = _lock(fulfillment_order_id)
        parcel = Parcel.objects.filter(
            fulfillment_order=fulfillment_order, status=Parcel.Status.OPEN
        ).first()
        if parcel is None:
            raise Conflict(
                f"FO-{fulfillment_order.pk} has no open parcel: scan the items first.",
                code="no_open_parcel",
            )
        suggested = box_suggest(parcel_items(parcel))
        box = box or suggested
        if box is None:
            raise ValidationFailed(
                "No box of the catalogue fits these items; choose one or split the parcel.",
                field_errors=[FieldError("box_code", "Required: no box fits.", "required")],
            )
        length, width, height = dimensions or (box.length_mm, box.width_mm, box.height_mm)
        if order.delivery_mode == DeliveryMode.RELAY_POINT:
            _require_relay_point_fits(order, weight_grams, (length, width, height))
        parcel.status = Parcel.Status.CLOSED
        parcel.box_code = box.code
        parcel.suggested_box_code = suggested.code if suggested else ""
        parcel.weight_grams = weight_grams
        parcel.length_mm, parcel.width_mm, parcel.height_mm = length, width, height
        parcel.closed_at = moment
        parcel.save()
        every_unit_packed = all(
            line.quantity_packed == line.quantity - line.quantity_rejected for line in lines
        )
        if every_unit_packed:
            fulfillment_order_step(
                order=order,
                fulfillment_order=fulfillment_order,
                target=FulfillmentStatus.PACKED,
                actor=actor,
                moment=moment,
                details={"parcels": parcel.number},
            )
    return parcel


def _require_relay_point_fits(order: Order, weight_grams: int, sides: tuple[int, int, int]) -> None:
    """Refuse (nothing written) a relay-point order's parcel that its point cannot take: the
    same rule as ``shipment_create`` (``relay_point_refusals``), caught at the packing bench
    instead of at the label. A point no carrier knows is left to ``shipment_create``."""
    points = list(
        RelayPoint.objects.select_related("carrier").filter(
            point_id=order.relay_point_code, carrier__is_active=True
        )
    )
    if not points:
        return
    parcel = CarrierParcel(weight_grams, *sides)
    refusals = [relay_point_refusals(point, parcel) for point in points]
    if all(refusals):
        reasons = [reason for found in refusals for reason in found]
        raise ValidationFailed(
            f"Relay point {order.relay_point_code} cannot take this parcel: "
            + "; ".join(reasons)
            + ". Split it into smaller parcels.",
            code="relay_point_refused",
            details={"relay_point": order.relay_point_code, "reasons": reasons},
            field_errors=[
                FieldError("parcel", reason, "relay_point_refused") for reason in reasons
            ],
        )


def parcel_box_suggestion(*, fulfillment_order_id: int) -> Box | None:
    """The box suggested for the open parcel (None: no open parcel, or nothing fits)."""
    parcel = Parcel.objects.filter(
        fulfillment_order_id=fulfillment_order_id, status=Parcel.Status.OPEN
    ).first()
    return box_suggest(parcel_items(parcel)) if parcel is not None else None
