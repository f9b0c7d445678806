"""Editing an order before fulfilment: quantities, added and removed lines, delivery mode.

One transaction: validate everything, re-price through the pricing engine, reserve what the
edit adds (before anything is released, so that a refused reservation leaves the order, its
lines, its reservations, the ledger and the outbox exactly as they were), release what it
gives back, save, and write one ``edited`` event with the diff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from channels_app.pricing import CartLine, PricedCart, PricedLine
from channels_app.selectors import cart_price
from inventory.models import Location, Product, Reservation
from inventory.services import ReserveLine, stock_reserve
from omnilog.core.errors import (
    ApplicationError,
    Conflict,
    FieldError,
    InsufficientStock,
    ValidationFailed,
)
from orders.hooks import order_edit_guards, order_edited_hooks
from orders.models import STORE_DELIVERY_MODES, DeliveryMode, Order, OrderEvent, OrderLine
from orders.services.line_stock import (
    ORDER_LINE,
    line_reservations_active,
    release_plan,
    releases_apply,
    reservation_terms,
    reservation_tier,
)
from orders.services.pricing_json import priced_cart_json
from orders.services.timeline import (
    order_event_write,
    order_lines_lock,
    order_lock,
    order_outbox_emit,
    order_version_bump,
)
from orders.statuses import EDITABLE, OrderStatus

MAX_CHANGES = 200
CENT = Decimal("0.01")


@dataclass(frozen=True)
class LineQuantityChange:
    """The line's new ordered quantity (at least its fulfilled + cancelled units + 1)."""

    line_id: int
    quantity: int


@dataclass(frozen=True)
class LineAddition:
    sku: str
    quantity: int


@dataclass(frozen=True)
class OrderEdit:
    """What to change. ``removals`` are line ids: their open units are cancelled.

    ``delivery_mode`` None keeps the mode; ``pickup_location_id`` is the store of a
    click-and-collect order (required when switching to it, optional to change the store).
    """

    quantities: tuple[LineQuantityChange, ...] = ()
    additions: tuple[LineAddition, ...] = ()
    removals: tuple[int, ...] = ()
    delivery_mode: str | None = None
    pickup_location_id: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            self.quantities
            or self.additions
            or self.removals
            or self.delivery_mode is not None
            or self.pickup_location_id is not None
        )


@dataclass
class _Plan:
    """The validated edit, line by line (target quantities, new lines, new delivery).

    The delivery is the order's default one (``Order.delivery_mode``...): it applies to the
    lines of no named delivery group (``OrderLine.delivery_group == ""``) and to added lines;
    lines of a mixed basket's other groups keep theirs.
    """

    quantities: dict[int, int] = field(default_factory=dict)  # line id -> new ordered quantity
    removals: set[int] = field(default_factory=set)
    additions: list[tuple[LineAddition, Product]] = field(default_factory=list)
    delivery_mode: str = ""
    pickup_location_id: int | None = None


def order_edit(
    *,
    order_id: int,
    changes: OrderEdit,
    actor: str,
    channel_id: int | None = None,
    source: str = "",
) -> Order:
    """Apply ``changes`` to an order in an editable status (``orders.statuses.EDITABLE``).

    Raises ``Conflict`` ``not_editable``, a guard's ``Conflict`` (``orders.hooks``; fulfillment
    refuses ``order_in_fulfillment`` while open fulfillment orders hold units of the order: their
    lines and reservations would no longer match), ``ValidationFailed`` (field errors under
    ``lines.<i>`` (quantities), ``added_lines.<i>``, ``removed_lines.<i>``, ``delivery_mode``,
    ``pickup_location_id``) or ``InsufficientStock`` (field errors on the same paths); any of
    them means nothing was written. An edit that changes nothing writes nothing.
    """
    if changes.is_empty:
        raise ValidationFailed(
            "Nothing to change.",
            field_errors=[FieldError("", "Give at least one change.", "empty")],
        )
    with transaction.atomic():
        order = order_lock(order_id=order_id, channel_id=channel_id)
        if OrderStatus(order.status) not in EDITABLE:
            raise Conflict(
                f"Order {order.number} is {order.status}: it can no longer be edited.",
                code="not_editable",
                details={"status": order.status},
            )
        # Higher layers refuse an edit their records cannot follow (fulfillment: units held by
        # open fulfillment orders), before anything is written.
        order_edit_guards(order.pk)
        lines = order_lines_lock(order=order)
        plan = _validate(order, lines, changes)
        diff = _diff(order, lines, plan)
        if not diff:
            return order
        priced = _price(order, lines, plan) if _changes_cart(diff) else None
        new_lines = _lines_add(order, lines, plan)
        _stock_apply(order, lines, new_lines, plan, actor=actor, source=source)
        _save(order, lines, new_lines, plan, priced)
        diff["added"] = [
            {"line_number": line.line_number, "sku": line.sku, "quantity": line.quantity}
            for line in new_lines
        ]
        if not diff["added"]:
            del diff["added"]
        order_version_bump(
            order=order,
            fields=(
                "delivery_mode",
                "pickup_location",
                "pickup_slot_start",
                "pickup_slot_end",
                "subtotal",
                "discount_total",
                "tax_total",
                "grand_total",
                "pricing",
            ),
        )
        event = order_event_write(
            order=order,
            kind=OrderEvent.Kind.EDITED,
            actor=actor,
            channel_id=channel_id,
            source=source,
            message="Order edited",
            details=diff,
        )
        order_outbox_emit(
            order=order, topic="order.edited", payload={"event_id": event.pk, "changes": diff}
        )
        # Once durable, higher layers react to the new version (fulfillment routes again what
        # the edit added or moved: a task queued for the older version does nothing).
        order_id, version = order.pk, order.version
        transaction.on_commit(lambda: order_edited_hooks(order_id, version))
    return order


# --------------------------------------------------------------------------------- validation


def _validate(order: Order, lines: list[OrderLine], changes: OrderEdit) -> _Plan:
    by_id = {line.id: line for line in lines}
    errors: list[FieldError] = []
    plan = _Plan()
    if len(changes.quantities) + len(changes.additions) + len(changes.removals) > MAX_CHANGES:
        raise ValidationFailed(
            f"At most {MAX_CHANGES} line changes.",
            field_errors=[FieldError("", f"At most {MAX_CHANGES} line changes.", "max_length")],
        )
    for index, line_id in enumerate(changes.removals):
        line = by_id.get(line_id)
        path = f"removed_lines.{index}"
        if line is None:
            errors.append(FieldError(path, "Not a line of this order.", "not_found"))
        elif line_id in plan.removals:
            errors.append(FieldError(path, "Line given twice.", "duplicate"))
        elif not line.quantity_open:
            errors.append(FieldError(path, "Nothing open on this line.", "nothing_open"))
        else:
            plan.removals.add(line_id)
    for index, change in enumerate(changes.quantities):
        line = by_id.get(change.line_id)
        if line is None:
            errors.append(
                FieldError(f"lines.{index}.line_id", "Not a line of this order.", "not_found")
            )
            continue
        if change.line_id in plan.quantities or change.line_id in plan.removals:
            errors.append(FieldError(f"lines.{index}.line_id", "Line given twice.", "duplicate"))
            continue
        floor = line.quantity_fulfilled + line.quantity_cancelled + 1
        if change.quantity < floor:
            errors.append(
                FieldError(
                    f"lines.{index}.quantity",
                    f"At least {floor}: fulfilled and cancelled units stay; remove the line "
                    "to drop the rest.",
                    "min_value",
                )
            )
            continue
        plan.quantities[change.line_id] = change.quantity
    products = {
        product.sku: product
        for product in Product.objects.filter(
            sku__in=[addition.sku for addition in changes.additions], is_active=True
        )
    }
    for index, addition in enumerate(changes.additions):
        product = products.get(addition.sku)
        if product is None:
            errors.append(FieldError(f"added_lines.{index}.sku", "Unknown product.", "not_found"))
        elif addition.quantity < 1:
            errors.append(
                FieldError(
                    f"added_lines.{index}.quantity", "Must be a positive number.", "min_value"
                )
            )
        else:
            plan.additions.append((addition, product))
    if not plan.additions and all(
        line.id in plan.removals or not line.quantity_open for line in lines
    ):
        errors.append(
            FieldError(
                "removed_lines",
                "An order keeps at least one open line; cancel the order instead.",
                "no_lines_left",
            )
        )
    errors.extend(_validate_delivery(order, changes, plan))
    if errors:
        raise ValidationFailed("The edit is not valid.", field_errors=errors)
    return plan


def _validate_delivery(order: Order, changes: OrderEdit, plan: _Plan) -> list[FieldError]:
    mode = changes.delivery_mode if changes.delivery_mode is not None else order.delivery_mode
    plan.delivery_mode = mode
    plan.pickup_location_id = order.pickup_location_id
    if mode not in DeliveryMode.values:
        return [FieldError("delivery_mode", "Unknown delivery mode.", "invalid_choice")]
    if mode not in STORE_DELIVERY_MODES:
        plan.pickup_location_id = None
        if changes.pickup_location_id is not None:
            return [
                FieldError(
                    "pickup_location_id",
                    "A pickup store is only for click-and-collect.",
                    "not_applicable",
                )
            ]
        return []
    store_id = changes.pickup_location_id
    if store_id is None:
        store_id = order.pickup_location_id if order.delivery_mode == mode else None
    if store_id is None:
        return [FieldError("pickup_location_id", "Choose the pickup store.", "required")]
    is_store = Location.objects.filter(
        pk=store_id, is_active=True, is_click_and_collect=True, channels=order.channel_id
    ).exists()
    if not is_store:
        return [
            FieldError(
                "pickup_location_id",
                "Not a click-and-collect store of this channel.",
                "invalid_choice",
            )
        ]
    plan.pickup_location_id = store_id
    return []


def _diff(order: Order, lines: list[OrderLine], plan: _Plan) -> dict[str, Any]:
    diff: dict[str, Any] = {}
    changed = [
        {"line_number": line.line_number, "sku": line.sku, "quantity": [line.quantity, new]}
        for line in lines
        if (new := plan.quantities.get(line.id, line.quantity)) != line.quantity
    ]
    if changed:
        diff["lines"] = changed
    removed = [
        {"line_number": line.line_number, "sku": line.sku, "quantity": line.quantity_open}
        for line in lines
        if line.id in plan.removals
    ]
    if removed:
        diff["removed"] = removed
    if plan.additions:
        diff["added"] = []  # filled in once the lines exist
    if plan.delivery_mode != order.delivery_mode:
        diff["delivery_mode"] = [order.delivery_mode, plan.delivery_mode]
    if plan.pickup_location_id != order.pickup_location_id:
        diff["pickup_location_id"] = [order.pickup_location_id, plan.pickup_location_id]
    return diff


def _changes_cart(diff: dict[str, Any]) -> bool:
    return bool({"lines", "removed", "added"} & diff.keys())


# -------------------------------------------------------------------------------------- price


def _price(order: Order, lines: list[OrderLine], plan: _Plan) -> PricedCart:
    """Re-price what the customer will pay for, at the prices of the order's placing time.

    Fully cancelled (or removed) lines are left out of the cart. Pricing problems are reported
    on the edit's own paths (the line's number or the addition's index).
    """
    cart: list[CartLine] = []
    paths: list[str] = []
    for line in lines:
        payable = plan.quantities.get(line.id, line.quantity) - line.quantity_cancelled
        if line.id in plan.removals:
            payable -= line.quantity_open
        if payable > 0:
            cart.append(
                CartLine(
                    sku=line.sku,
                    quantity=payable,
                    category=line.product.category,
                    tax_class=line.product.tax_class,
                )
            )
            paths.append(f"line_{line.line_number}")
    for index, (addition, product) in enumerate(plan.additions):
        cart.append(
            CartLine(
                sku=addition.sku,
                quantity=addition.quantity,
                category=product.category,
                tax_class=product.tax_class,
            )
        )
        paths.append(f"added_lines.{index}")
    try:
        return cart_price(
            channel=order.channel,
            lines=cart,
            # The customer itself, not its id: another channel's customer (a match at capture)
            # prices as no customer, as it did when the order was placed.
            customer=order.customer,
            coupon_codes=list(order.coupon_codes or []),
            at=order.placed_at,
        )
    except ApplicationError as error:
        raise ValidationFailed(
            "The edited order cannot be priced.",
            field_errors=[_repath(problem, paths) for problem in error.field_errors],
        ) from error


def _repath(problem: FieldError, paths: list[str]) -> FieldError:
    head, _, rest = problem.field.partition(".")
    index, _, tail = rest.partition(".")
    if head == "lines" and index.isdigit() and int(index) < len(paths):
        return FieldError(f"{paths[int(index)]}.{tail}".rstrip("."), problem.message, problem.code)
    return problem


# -------------------------------------------------------------------------------------- stock


def _lines_add(order: Order, lines: list[OrderLine], plan: _Plan) -> list[OrderLine]:
    """Create the added lines (priced in ``_save``) so their reservations can name them."""
    number = max((line.line_number for line in lines), default=0)
    new_lines = []
    for addition, product in plan.additions:
        number += 1
        new_lines.append(
            OrderLine(
                order=order,
                line_number=number,
                product=product,
                sku=product.sku,
                name=product.name,
                quantity=addition.quantity,
                unit_price=Decimal(0),
                total=Decimal(0),
                delivery_mode=plan.delivery_mode,
                pickup_location_id=plan.pickup_location_id,
            )
        )
    return OrderLine.objects.bulk_create(new_lines)


def _stock_apply(
    order: Order,
    lines: list[OrderLine],
    new_lines: list[OrderLine],
    plan: _Plan,
    *,
    actor: str,
    source: str,
) -> None:
    """Reserve first (a refusal raises before anything is released), then release.

    Locks: the lines' reservations (ids ascending), then ``stock_reserve``'s levels, then the
    released reservations' levels: two batches, a known deadlock risk against pk-ordered
    lockers that PostgreSQL resolves by aborting one side (409, nothing written); why it is
    kept: docs/architecture.md, "Locking order".
    """
    held = line_reservations_active([line.id for line in lines], lock=True)
    terms = reservation_terms(r for rows in held.values() for r in rows)
    tier = reservation_tier(
        delivery_mode=plan.delivery_mode, pickup_location_id=plan.pickup_location_id
    )
    to_reserve: list[tuple[ReserveLine, str]] = []
    to_release: list[tuple[Reservation, int]] = []
    for line in lines:
        rows = held.get(line.id, [])
        reserved = sum(r.quantity for r in rows)
        quantity = plan.quantities.get(line.id, line.quantity)
        cancelled = line.quantity_cancelled + (
            line.quantity_open if line.id in plan.removals else 0
        )
        open_after = quantity - line.quantity_fulfilled - cancelled
        line_tier = reservation_tier(
            delivery_mode=line.delivery_mode, pickup_location_id=line.pickup_location_id
        )
        # A line of another delivery group keeps its delivery.
        target = line_tier if line.delivery_group else tier
        path = f"line_{line.line_number}.quantity"
        if line_tier != target and open_after > 0:
            # Another place promises the units: reserve them all there, give back the old ones.
            to_reserve.append((_reserve_line(line.product_id, open_after, target, line.id), path))
            to_release.extend((r, r.quantity) for r in rows)
            continue
        if quantity > line.quantity:
            to_reserve.append(
                (_reserve_line(line.product_id, quantity - line.quantity, target, line.id), path)
            )
        to_release.extend(release_plan(rows, reserved - max(open_after, 0)))
    for index, line in enumerate(new_lines):
        to_reserve.append(
            (_reserve_line(line.product_id, line.quantity, tier, line.id), f"added_lines.{index}")
        )
    if to_reserve:
        try:
            stock_reserve(
                lines=[reserve for reserve, _ in to_reserve],
                channel_id=order.channel_id,
                kind=terms.kind,
                reference_type=ORDER_LINE,
                expires_at=terms.expires_at,
                actor=actor,
                source=source,
            )
        except InsufficientStock as error:
            raise _short(error, to_reserve) from error
    releases_apply(to_release, reason=f"order {order.number} edited", actor=actor)


def _reserve_line(product_id: int, quantity: int, tier: int | None, line_id: int) -> ReserveLine:
    return ReserveLine(
        product_id=product_id, quantity=quantity, location_id=tier, reference_id=str(line_id)
    )


def _short(error: InsufficientStock, to_reserve: list[tuple[ReserveLine, str]]) -> Exception:
    """The same refusal, on the edit's paths (``line_<number>.quantity``, ``added_lines.<i>``)."""
    field_errors = []
    for problem in error.field_errors:
        _, index, _ = problem.field.split(".", 2)
        field_errors.append(FieldError(to_reserve[int(index)][1], problem.message, problem.code))
    return InsufficientStock(
        error.message,
        details={
            "lines": [
                {**line, "field": to_reserve[line["index"]][1]}
                for line in error.details.get("lines", [])
            ]
        },
        field_errors=field_errors,
    )


# --------------------------------------------------------------------------------------- save


def _save(
    order: Order,
    lines: list[OrderLine],
    new_lines: list[OrderLine],
    plan: _Plan,
    priced: PricedCart | None,
) -> None:
    tier_changed = (order.delivery_mode, order.pickup_location_id) != (
        plan.delivery_mode,
        plan.pickup_location_id,
    )
    for line in lines:
        line.quantity = plan.quantities.get(line.id, line.quantity)
        if line.id in plan.removals:
            line.quantity_cancelled += line.quantity_open
        line.quantity_allocated = min(
            line.quantity_allocated, line.quantity - line.quantity_cancelled
        )
        if line.quantity_open and not line.delivery_group:
            line.delivery_mode = plan.delivery_mode
            line.pickup_location_id = plan.pickup_location_id
    if priced is not None:
        priced_lines = iter(priced.lines)
        for line in [*lines, *new_lines]:
            if line.quantity - line.quantity_cancelled > 0:
                _line_price(line, next(priced_lines))
            else:
                line.discount_total = line.tax_amount = line.total = Decimal(0)
        order.subtotal = priced.subtotal
        order.discount_total = priced.discount_total
        order.tax_total = priced.tax_total
        order.grand_total = priced.grand_total + order.shipping_total
        order.pricing = priced_cart_json(priced)
    OrderLine.objects.bulk_update(
        [*lines, *new_lines],
        [
            "quantity",
            "quantity_cancelled",
            "quantity_allocated",
            "delivery_mode",
            "pickup_location",
            "unit_price",
            "discount_total",
            "tax_rate",
            "tax_amount",
            "total",
        ],
    )
    if tier_changed:
        order.pickup_slot_start = order.pickup_slot_end = None
    order.delivery_mode = plan.delivery_mode
    order.pickup_location_id = plan.pickup_location_id


def _line_price(line: OrderLine, priced: PricedLine) -> None:
    line.unit_price = priced.unit_price
    line.discount_total = priced.discount_total
    line.tax_rate = (priced.tax_rate / 100).quantize(Decimal("0.0001"))
    line.tax_amount = priced.tax_amount
    line.total = priced.total_including_tax
