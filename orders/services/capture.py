"""Order capture: validate, price, reserve and write an order in one transaction.

``order_place`` is the one way an order enters Omnilog (API, till import, call centre tool).
In one transaction: resolve the customer, price the cart with the channel's engine, check
agreed prices, write the order and its lines, reserve stock (click-and-collect lines at their
store, the others in the channel pool), write the first timeline event and the
``order.placed`` outbox event; the order stores its promise (``promised_at``,
``promised_date``) from the provider registered in ``orders.hooks`` (fulfillment's promise
core). After commit, ``orders.hooks.order_placed_hooks`` runs (where routing will be queued).
Any error raises before commit: nothing is written.

The customer is matched across channels (one customer, one order history in the back office),
but a match proves no ownership: the order keeps its own customer snapshot (the contacts and
names of this request, all that the order API shows), and the matched customer fills its
blanks and prices the cart only when it is linked to the channel
(``channels_app.customers.customer_is_linked``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from channels_app.customers import customer_resolve, normalise_email, normalise_phone
from channels_app.models import Customer, SalesChannel
from channels_app.pricing import CartLine, PricedCart
from channels_app.selectors import cart_price
from inventory.models import Location, Product, Reservation
from inventory.services import ReserveLine, stock_reserve
from inventory.services.preorders import PreorderLine, stock_preorder
from inventory.services.reservations import pool_location_ids
from omnilog.core.errors import Conflict, FieldError, InsufficientStock, NotFound, ValidationFailed
from omnilog.core.outbox import outbox_emit
from orders.hooks import (
    order_delivery_refusals,
    order_pickup_slot_book,
    order_placed_hooks,
    order_promise,
)
from orders.models import STORE_DELIVERY_MODES, DeliveryMode, Order, OrderEvent, OrderLine
from orders.models import PaymentStatus as Payment
from orders.services.inputs import DeliveryInput, OrderInput
from orders.services.pricing_json import priced_cart_json

# Payment states a channel may report at capture (failed/refunded arrive later, if ever).
CAPTURE_PAYMENT_STATUSES = frozenset({Payment.PENDING, Payment.AUTHORISED, Payment.CAPTURED})
AGREED_PRICE_CHANNEL_KINDS = frozenset({SalesChannel.Kind.B2B, SalesChannel.Kind.MARKETPLACE})
HOME_MODES = frozenset(
    {DeliveryMode.HOME_STANDARD, DeliveryMode.HOME_EXPRESS, DeliveryMode.SAME_DAY}
)
STORE_MODES = frozenset({DeliveryMode.CLICK_AND_COLLECT, DeliveryMode.SHIP_TO_STORE})
EXTERNAL_ID_CONSTRAINT = "order_channel_external_id_unique"


@dataclass(frozen=True)
class _Delivery:
    """A validated delivery: the input plus its store."""

    key: str
    mode: str
    store: Location | None
    source: DeliveryInput


def order_number_next() -> str:
    """``OM-000123`` from the ``orders_order_number_seq`` sequence (migration orders/0002)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('orders_order_number_seq')")
        (value,) = cursor.fetchone()
    return f"OM-{value:06d}"


def order_place(*, channel_id: int, data: OrderInput, actor: str, source: str = "api") -> Order:
    """Place an order on channel ``channel_id``; return it with ``lines`` loaded.

    Raises ``ValidationFailed`` (422, one field error per bad field: ``lines.N.sku``,
    ``delivery.store``...), ``ValidationFailed`` code ``price_mismatch`` (agreed prices off by
    more than ``ORDER_PRICE_TOLERANCE`` per unit), ``InsufficientStock`` (409, every short
    line), ``Conflict`` code ``duplicate_external_id`` (409). Precondition: the caller holds no
    stock-level lock (an enclosing transaction is fine; this runs in a savepoint then).
    """
    channel = SalesChannel.objects.filter(pk=channel_id, is_active=True).first()
    if channel is None:
        raise NotFound("No such channel.")
    return order_place_for_channel(channel=channel, data=data, actor=actor, source=source)


def order_place_for_channel(
    *, channel: SalesChannel, data: OrderInput, actor: str, source: str = "api"
) -> Order:
    """``order_place`` for a channel the caller already loaded (the API's key carries it)."""
    errors = _check_shape(channel, data)
    products = _products_by_sku(data, errors)
    deliveries = _deliveries(channel, data, errors)
    _check_deliveries(data, products, deliveries, errors)
    if errors:
        raise ValidationFailed("The order is not valid.", field_errors=errors)

    now = timezone.now()
    try:
        with transaction.atomic():
            order = _write(channel, data, products, deliveries, actor, source, now)
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
        if constraint != EXTERNAL_ID_CONSTRAINT:
            raise
        existing = (
            Order.objects.filter(channel=channel, external_id=data.external_id)
            .values_list("id", flat=True)
            .first()
        )
        raise Conflict(
            f"The channel already has an order with external id {data.external_id!r}.",
            code="duplicate_external_id",
            details={"order_id": existing},
            field_errors=[FieldError("external_id", "Already used.", "unique")],
        ) from error
    transaction.on_commit(lambda: order_placed_hooks(order.pk))
    return order


def _check_shape(channel: SalesChannel, data: OrderInput) -> list[FieldError]:
    errors: list[FieldError] = []
    maximum = int(settings.ORDER_MAX_LINES)
    if not data.lines:
        errors.append(FieldError("lines", "At least one line is required.", "required"))
    elif len(data.lines) > maximum:
        errors.append(FieldError("lines", f"At most {maximum} lines.", "max_length"))
    if data.payment_status not in CAPTURE_PAYMENT_STATUSES:
        allowed = ", ".join(sorted(CAPTURE_PAYMENT_STATUSES))
        errors.append(FieldError("payment_status", f"One of: {allowed}.", "invalid_choice"))
    keys = [group.key for group in data.delivery_groups]
    for index, key in enumerate(keys):
        if not key or keys.index(key) != index:
            errors.append(
                FieldError(f"delivery_groups.{index}.key", "Keys are non-empty, unique.", "unique")
            )
    for index, line in enumerate(data.lines):
        if line.quantity <= 0:
            errors.append(FieldError(f"lines.{index}.quantity", "Must be positive.", "min_value"))
        if line.delivery_group and line.delivery_group not in keys:
            errors.append(
                FieldError(f"lines.{index}.delivery_group", "No such delivery group.", "invalid")
            )
        if line.agreed_unit_price is not None and channel.kind not in AGREED_PRICE_CHANNEL_KINDS:
            errors.append(
                FieldError(
                    f"lines.{index}.agreed_unit_price",
                    "Only B2B and marketplace channels send agreed prices; Omnilog prices "
                    "this channel's orders.",
                    "not_allowed",
                )
            )
    return errors


def _products_by_sku(data: OrderInput, errors: list[FieldError]) -> dict[str, Product]:
    """Every line's product in one query; unknown or inactive SKUs become field errors."""
    skus = sorted({line.sku for line in data.lines})
    products = {
        product.sku: product
        for product in Product.objects.filter(sku__in=skus).only(
            "id",
            "sku",
            "name",
            "category",
            "tax_class",
            "is_active",
            # The promise provider quotes the parcel from these (orders.hooks.order_promise).
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
        )
    }
    for index, line in enumerate(data.lines):
        product = products.get(line.sku)
        if product is None:
            errors.append(FieldError(f"lines.{index}.sku", "Unknown SKU.", "unknown_sku"))
        elif not product.is_active:
            errors.append(FieldError(f"lines.{index}.sku", "The product is not sold.", "inactive"))
    return products


def _deliveries(
    channel: SalesChannel, data: OrderInput, errors: list[FieldError]
) -> dict[str, _Delivery]:
    """The order's delivery (key ``""``) and its groups, checked; stores in one query."""
    named = [("", "delivery", data.delivery)] + [
        (group.key, f"delivery_groups.{index}", group.delivery)
        for index, group in enumerate(data.delivery_groups)
    ]
    codes = sorted({item.store_code for _, _, item in named if item.store_code})
    stores: dict[str, Location] = {}
    if codes:
        sells = Location.channels.through.objects.filter(
            location_id=OuterRef("pk"), saleschannel_id=channel.pk
        )
        stores = {
            store.code: store
            for store in Location.objects.filter(code__in=codes, is_active=True)
            .annotate(sells_to_channel=Exists(sells))
            .only("id", "code", "name", "kind", "is_click_and_collect", "city")
        }
    result: dict[str, _Delivery] = {}
    for key, prefix, item in named:
        store = None
        if item.mode not in DeliveryMode.values:
            errors.append(FieldError(f"{prefix}.mode", "Unknown delivery mode.", "invalid_choice"))
            continue
        if item.mode in HOME_MODES and item.address is None:
            errors.append(FieldError(f"{prefix}.address", "An address is required.", "required"))
        if item.mode == DeliveryMode.RELAY_POINT and not item.relay_point_code:
            errors.append(FieldError(f"{prefix}.relay_point_id", "Required.", "required"))
        if item.mode in STORE_MODES:
            store = stores.get(item.store_code)
            if not item.store_code:
                errors.append(FieldError(f"{prefix}.store", "A store is required.", "required"))
            elif store is None or not store.sells_to_channel:  # type: ignore[attr-defined]
                errors.append(FieldError(f"{prefix}.store", "Unknown store.", "unknown_store"))
                store = None
            elif item.mode == DeliveryMode.CLICK_AND_COLLECT and not store.is_click_and_collect:
                errors.append(
                    FieldError(f"{prefix}.store", "No click-and-collect here.", "not_allowed")
                )
        slot = (item.pickup_slot_start, item.pickup_slot_end)
        if any(slot):
            if item.mode != DeliveryMode.CLICK_AND_COLLECT:
                errors.append(
                    FieldError(f"{prefix}.pickup_slot", "Only for click-and-collect.", "invalid")
                )
            elif slot[0] is None:
                errors.append(FieldError(f"{prefix}.pickup_slot.start", "Required.", "required"))
            elif slot[1] is not None and slot[0] >= slot[1]:
                errors.append(FieldError(f"{prefix}.pickup_slot", "Start before end.", "invalid"))
        result[key] = _Delivery(key=key, mode=item.mode, store=store, source=item)
    return result


def _check_deliveries(
    data: OrderInput,
    products: dict[str, Product],
    deliveries: dict[str, _Delivery],
    errors: list[FieldError],
) -> None:
    """Ask the registered delivery checks (``orders.hooks``: fulfillment's relay point limits)
    about every relay-point delivery and its lines' units; each reason is a field error."""
    prefixes = {"": "delivery"} | {
        group.key: f"delivery_groups.{index}" for index, group in enumerate(data.delivery_groups)
    }
    for key, delivery in deliveries.items():
        if delivery.mode != DeliveryMode.RELAY_POINT or not delivery.source.relay_point_code:
            continue
        units = [
            (
                product.sku,
                product.weight_grams,
                (product.length_mm, product.width_mm, product.height_mm),
            )
            for product in (
                products.get(line.sku) for line in data.lines if line.delivery_group == key
            )
            if product is not None
        ]
        for reason in order_delivery_refusals(
            mode=delivery.mode, relay_point_code=delivery.source.relay_point_code, units=units
        ):
            errors.append(
                FieldError(f"{prefixes[key]}.relay_point_id", reason, "relay_point_refused")
            )


def _pickup_slots_book(data: OrderInput, deliveries: dict[str, _Delivery]) -> dict[str, _Delivery]:
    """Book every click-and-collect slot through ``orders.hooks.order_pickup_slot_book`` (store
    id order: the booker locks per store), inside the capture transaction and before anything
    is written; the slot's end comes from the booker. A slot not offered or full is a field
    error on ``<delivery>.pickup_slot.start`` and the order is refused."""
    prefixes = {"": "delivery"} | {
        group.key: f"delivery_groups.{index}" for index, group in enumerate(data.delivery_groups)
    }
    slotted = sorted(
        (
            (delivery.store.pk, key)
            for key, delivery in deliveries.items()
            if delivery.store is not None
            and delivery.mode == DeliveryMode.CLICK_AND_COLLECT
            and delivery.source.pickup_slot_start is not None
        ),
    )
    errors = []
    booked = dict(deliveries)
    for store_id, key in slotted:
        source = deliveries[key].source
        assert source.pickup_slot_start is not None
        answer = order_pickup_slot_book(
            store_id=store_id, start=source.pickup_slot_start, end=source.pickup_slot_end
        )
        if answer.code or answer.end is None:
            errors.append(
                FieldError(
                    f"{prefixes[key]}.pickup_slot.start",
                    answer.message or "This pickup slot cannot be booked.",
                    answer.code or "slot_not_offered",
                )
            )
            continue
        booked[key] = dataclass_replace(
            deliveries[key], source=dataclass_replace(source, pickup_slot_end=answer.end)
        )
    if errors:
        raise ValidationFailed("The pickup slot cannot be booked.", field_errors=errors)
    return booked


def _price(
    channel: SalesChannel, customer: Customer, data: OrderInput, products: dict[str, Product]
) -> PricedCart:
    cart = cart_price(
        channel=channel,
        lines=[
            CartLine(
                sku=line.sku,
                quantity=line.quantity,
                category=products[line.sku].category,
                tax_class=products[line.sku].tax_class,
            )
            for line in data.lines
        ],
        customer=customer,
        coupon_codes=data.coupon_codes,
    )
    if cart.rejected_coupons:
        index_of = {code.strip().upper(): index for index, code in enumerate(data.coupon_codes)}
        raise ValidationFailed(
            "Some coupon codes do not apply.",
            code="coupon_rejected",
            field_errors=[
                FieldError(
                    f"coupon_codes.{index_of.get(rejected.code.strip().upper(), 0)}",
                    f"The coupon does not apply ({rejected.reason}).",
                    str(rejected.reason),
                )
                for rejected in cart.rejected_coupons
            ],
        )
    tolerance = Decimal(str(settings.ORDER_PRICE_TOLERANCE))
    mismatches = []
    for index, (line, priced) in enumerate(zip(data.lines, cart.lines, strict=True)):
        if line.agreed_unit_price is None:
            continue
        expected = (priced.total / line.quantity).quantize(Decimal("0.01"))
        if abs(line.agreed_unit_price - expected) > tolerance:
            mismatches.append((index, line.sku, line.agreed_unit_price, expected))
    if mismatches:
        basis = "tax included" if cart.prices_include_tax else "tax excluded"
        raise ValidationFailed(
            f"{len(mismatches)} agreed price(s) differ from Omnilog's price by more than "
            f"{tolerance} per unit ({basis}).",
            code="price_mismatch",
            details={
                "tolerance": str(tolerance),
                "prices_include_tax": cart.prices_include_tax,
                "lines": [
                    {"index": i, "sku": sku, "agreed": str(agreed), "expected": str(expected)}
                    for i, sku, agreed, expected in mismatches
                ],
            },
            field_errors=[
                FieldError(
                    f"lines.{i}.agreed_unit_price",
                    f"Agreed {agreed}, Omnilog's price is {expected} per unit.",
                    "price_mismatch",
                )
                for i, sku, agreed, expected in mismatches
            ],
        )
    return cart


def _write(
    channel: SalesChannel,
    data: OrderInput,
    products: dict[str, Product],
    deliveries: dict[str, _Delivery],
    actor: str,
    source: str,
    now: Any,
) -> Order:
    deliveries = _pickup_slots_book(data, deliveries)
    person = data.customer
    customer = customer_resolve(
        email=person.email,
        phone=person.phone,
        loyalty_id=person.loyalty_id,
        first_name=person.first_name,
        last_name=person.last_name,
        company_name=person.company_name,
        vat_number=person.vat_number,
        channel_id=channel.pk,
    )
    cart = _price(channel, customer, data, products)
    main = deliveries[""]
    address = main.source.address or next(
        (d.source.address for d in deliveries.values() if d.source.address), None
    )
    order = Order(
        number=order_number_next(),
        channel=channel,
        external_id=data.external_id,
        customer=customer,
        payment_status=data.payment_status,
        currency=cart.currency,
        subtotal=cart.subtotal,
        discount_total=cart.discount_total,
        tax_total=cart.tax_total,
        grand_total=cart.grand_total,
        coupon_codes=list(cart.applied_coupons),
        delivery_mode=main.mode,
        pickup_location=main.store,
        pickup_slot_start=main.source.pickup_slot_start,
        pickup_slot_end=main.source.pickup_slot_end,
        relay_point_code=main.source.relay_point_code,
        shipping_address=address.as_dict() if address else {},
        delivery_groups=[_group_json(d) for key, d in deliveries.items() if key],
        billing_address=data.billing_address.as_dict() if data.billing_address else {},
        # The order's own snapshot: what this request gave, never the matched customer's data.
        customer_email=normalise_email(person.email),
        customer_phone=normalise_phone(person.phone),
        customer_first_name=person.first_name.strip(),
        customer_last_name=person.last_name.strip(),
        customer_company_name=person.company_name.strip(),
        purchase_order_number=data.purchase_order_number,
        is_partial_delivery_allowed=data.is_partial_delivery_allowed,
        pricing=priced_cart_json(cart),
        placed_at=now,
    )
    lines = []
    for index, (line, priced) in enumerate(zip(data.lines, cart.lines, strict=True)):
        delivery = deliveries[line.delivery_group]
        product = products[line.sku]
        lines.append(
            OrderLine(
                order=order,
                line_number=index + 1,
                product=product,
                sku=product.sku,
                name=product.name,
                quantity=line.quantity,
                unit_price=priced.unit_price,
                agreed_unit_price=line.agreed_unit_price,
                discount_total=priced.discount_total,
                tax_rate=(priced.tax_rate / 100).quantize(Decimal("0.0001")),
                tax_amount=priced.tax_amount,
                total=priced.total_including_tax,
                delivery_mode=delivery.mode,
                pickup_location=delivery.store,
                delivery_group=line.delivery_group,
            )
        )
    # The promise reads the stock before this order's reservation takes it.
    promised_at = order_promise(order, lines)
    if promised_at is not None:
        order.promised_at = promised_at
        order.promised_date = promised_at.date()  # local to the place of delivery or pickup
    order.save(force_insert=True)
    OrderLine.objects.bulk_create(lines)
    preordered = _reserve(channel, data, order, lines, actor, source, now)
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.PLACED,
        to_status=order.status,
        actor=actor,
        channel=channel,
        source=source,
        message=f"Placed on {channel.name}."
        + (f" Preordered: line(s) {', '.join(map(str, preordered))}." if preordered else ""),
        details={"payment_status": data.payment_status, "lines": len(lines)}
        | ({"preordered_lines": preordered} if preordered else {}),
    )
    outbox_emit(
        topic="order.placed",
        aggregate_type="order",
        aggregate_id=order.pk,
        payload=_placed_payload(order, lines),
    )
    # The caller renders the order: hand it over with its lines, without another query.
    order._prefetched_objects_cache = {"lines": lines}  # type: ignore[attr-defined]
    return order


def _reserve(
    channel: SalesChannel,
    data: OrderInput,
    order: Order,
    lines: list[OrderLine],
    actor: str,
    source: str,
    now: Any,
) -> list[int]:
    """Click-and-collect lines at their store, the others in the pool; a pending payment holds
    the stock for ``RESERVATION_PAYMENT_TTL`` (extended while it stays pending).

    Preorders: when the only short lines are of preorderable products (``is_backorderable``
    or a ``preorder_date``), the others are reserved and those are sold against confirmed
    supplier units coming to the same locations (``inventory.services.preorders``, never more
    than are coming); a receipt turns them into reservations. Returns their line numbers.
    """
    is_pending = data.payment_status == Payment.PENDING

    def reserve(chosen: list[OrderLine]) -> None:
        stock_reserve(
            lines=[
                ReserveLine(
                    product_id=line.product_id,
                    quantity=line.quantity,
                    location_id=(
                        line.pickup_location_id
                        if line.delivery_mode in STORE_DELIVERY_MODES
                        else None
                    ),
                    reference_id=str(line.pk),
                )
                for line in chosen
            ],
            channel_id=channel.pk,
            kind=Reservation.Kind.HOLD if is_pending else Reservation.Kind.ORDER,
            reference_type="order_line",
            expires_at=now + timedelta(seconds=settings.RESERVATION_PAYMENT_TTL)
            if is_pending
            else None,
            actor=actor,
            source=source,
        )

    try:
        reserve(lines)
        return []
    except InsufficientStock as error:
        short = [lines[item["index"]] for item in error.details.get("lines", [])]
        if not all(_is_preorderable(line.product) for line in short):
            raise _short_lines(error, lines, lines) from None
    rest = [line for line in lines if all(line is not item for item in short)]
    try:
        if rest:
            reserve(rest)
        pool = pool_location_ids(channel.pk)
        stock_preorder(
            lines=[
                PreorderLine(
                    product_id=line.product_id,
                    quantity=line.quantity,
                    reference_id=str(line.pk),
                    location_ids=(line.pickup_location_id,)
                    if line.delivery_mode in STORE_DELIVERY_MODES and line.pickup_location_id
                    else tuple(pool),
                )
                for line in short
            ],
            reference_type="order_line",
            channel_id=channel.pk,
        )
    except InsufficientStock as error:
        raise _short_lines(
            error, rest if error.code == "insufficient_stock" else short, lines
        ) from None
    return [line.line_number for line in short]


def _is_preorderable(product: Product) -> bool:
    return product.is_backorderable or product.preorder_date is not None


def _short_lines(
    error: InsufficientStock, chosen: list[OrderLine], lines: list[OrderLine]
) -> InsufficientStock:
    """``error`` about ``chosen`` restated about the order's ``lines`` (indexes, SKUs)."""
    items = [
        {**item, "index": lines.index(chosen[item["index"]]), "sku": chosen[item["index"]].sku}
        for item in error.details.get("lines", [])
    ]
    return InsufficientStock(
        error.message,
        code=error.code,
        details={**error.details, "lines": items},
        field_errors=[
            FieldError(f"lines.{item['index']}.quantity", field.message, field.code)
            for item, field in zip(items, error.field_errors, strict=False)
        ],
    )


def _group_json(delivery: _Delivery) -> dict[str, Any]:
    item = delivery.source
    return {
        "key": delivery.key,
        "mode": delivery.mode,
        "pickup_location_id": delivery.store.pk if delivery.store else None,
        "pickup_slot_start": _utc(item.pickup_slot_start),
        "pickup_slot_end": _utc(item.pickup_slot_end),
        "relay_point_code": item.relay_point_code,
        "shipping_address": item.address.as_dict() if item.address else {},
    }


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _placed_payload(order: Order, lines: list[OrderLine]) -> dict[str, Any]:
    return {
        "order_id": order.pk,
        "number": order.number,
        "channel_id": order.channel_id,
        "external_id": order.external_id,
        "customer_id": order.customer_id,
        "customer_email": order.customer_email,
        "status": order.status,
        "payment_status": order.payment_status,
        "currency": order.currency,
        "grand_total": str(order.grand_total),
        "delivery_mode": order.delivery_mode,
        "version": order.version,
        "lines": [
            {
                "line_id": line.pk,
                "sku": line.sku,
                "quantity": line.quantity,
                "delivery_mode": line.delivery_mode,
                "pickup_location_id": line.pickup_location_id,
            }
            for line in lines
        ],
    }
