"""Reads of the returns app: policies, what an order may still return, RMA lists.

``order_returnable`` answers, per order line, how many units may still come back and why not:
units delivered or collected (the line's fulfillment orders that reached the customer, dated by
the shipment's delivery or the collection), minus units already in a return request that is not
refused or cancelled (approved quantity once approved, requested before), minus units in a claim
that is not refused; the return window of the line's policy counts from that date. It reads in a
constant number of queries whatever the number of lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Case, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce, Greatest

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Shipment
from inventory.models import Product
from omnilog.core.errors import NotFound
from orders.models import Order, OrderLine
from returns.models import ClaimLine, ReturnLine, ReturnPolicy, ReturnReason, ReturnRequest
from returns.statuses import OPEN_OR_DONE, ReturnStatus


@dataclass(frozen=True)
class Policy:
    """The return rules that apply to one product on one channel (a row, or the defaults)."""

    policy_id: int | None
    window_days: int = 30
    is_returnable: bool = True
    restocking_fee_percent: Decimal = Decimal("0")
    shipping_refund_rule: str = "whole_order"
    fee_exempt_reasons: frozenset[str] = frozenset()
    is_auto_approved: bool = False


DEFAULT_POLICY = Policy(policy_id=None)


def _policy(row: ReturnPolicy) -> Policy:
    return Policy(
        policy_id=row.pk,
        window_days=row.window_days,
        is_returnable=row.is_returnable,
        restocking_fee_percent=row.restocking_fee_percent,
        shipping_refund_rule=row.shipping_refund_rule,
        fee_exempt_reasons=frozenset(str(code) for code in row.fee_exempt_reasons or ()),
        is_auto_approved=row.is_auto_approved,
    )


def return_policies_for(*, channel_id: int, products: Iterable[Product]) -> dict[int, Policy]:
    """Product id -> its policy on the channel, in one query.

    The most specific active row wins: the product's, then its category's, then the channel's
    default; at each level a row of this channel beats an all-channels row.
    """
    products = list(products)
    categories = {product.category for product in products if product.category}
    rows = list(
        ReturnPolicy.objects.filter(is_active=True)
        .filter(Q(channel_id=channel_id) | Q(channel__isnull=True))
        .filter(
            Q(product_id__in=[product.pk for product in products])
            | Q(product__isnull=True, category__in=categories)
            | Q(product__isnull=True, category="")
        )
    )

    def rank(row: ReturnPolicy, product: Product) -> int | None:
        if row.product_id is not None:
            level = 0 if row.product_id == product.pk else None
        elif row.category:
            level = 2 if row.category == product.category else None
        else:
            level = 4
        if level is None:
            return None
        return level + (0 if row.channel_id == channel_id else 1)

    chosen: dict[int, Policy] = {}
    for product in products:
        ranked = [(rank(row, product), row.pk, row) for row in rows]
        candidates = sorted((level, pk, row) for level, pk, row in ranked if level is not None)
        chosen[product.pk] = _policy(candidates[0][2]) if candidates else DEFAULT_POLICY
    return chosen


@dataclass(frozen=True)
class ReturnableLine:
    order_line_id: int
    line_number: int
    sku: str
    name: str
    quantity_delivered: int
    quantity_in_returns: int
    quantity_claimed: int
    quantity_returnable: int
    delivered_at: datetime | None
    return_deadline: datetime | None
    refusal_code: str  # "" when units may come back
    policy: Policy

    @property
    def is_returnable(self) -> bool:
        return self.quantity_returnable > 0


@dataclass(frozen=True)
class Returnable:
    order: Order
    lines: tuple[ReturnableLine, ...]
    reasons: tuple[tuple[str, str], ...]

    def line(self, order_line_id: int) -> ReturnableLine | None:
        return next((line for line in self.lines if line.order_line_id == order_line_id), None)


REACHED = (FulfillmentOrder.Status.DELIVERED, FulfillmentOrder.Status.COLLECTED)


def _delivered(order: Order) -> dict[int, tuple[int, datetime]]:
    """Order line id -> (units that reached the customer, latest date they did)."""
    delivered_at = Subquery(
        Shipment.objects.filter(fulfillment_order=OuterRef("fulfillment_order"))
        .exclude(status=Shipment.Status.CANCELLED)
        .order_by()
        .values("fulfillment_order")
        .annotate(latest=Max("delivered_at"))
        .values("latest")[:1]
    )
    rows = (
        FulfillmentOrderLine.objects.filter(
            fulfillment_order__order=order, fulfillment_order__status__in=REACHED
        )
        .annotate(reached_at=Coalesce(delivered_at, F("fulfillment_order__collected_at")))
        .filter(reached_at__isnull=False)
        .values_list("order_line_id", "quantity", "quantity_rejected", "reached_at")
    )
    found: dict[int, tuple[int, datetime]] = {}
    for line_id, quantity, rejected, reached_at in rows:
        units, latest = found.get(line_id, (0, reached_at))
        found[line_id] = (units + quantity - rejected, max(latest, reached_at))
    return found


def _in_returns(order: Order, *, exclude_return_id: int | None = None) -> dict[int, int]:
    """Order line id -> units held by return requests that still count."""
    rows = (
        ReturnLine.objects.filter(
            return_request__order=order, return_request__status__in=list(OPEN_OR_DONE)
        )
        .exclude(return_request_id=exclude_return_id)
        .values("order_line_id")
        .annotate(
            units=Sum(
                Case(
                    When(
                        return_request__status=ReturnStatus.REQUESTED,
                        then=F("quantity_requested"),
                    ),
                    default=Greatest(F("quantity_approved"), F("quantity_received")),
                    output_field=IntegerField(),
                )
            )
        )
    )
    return {row["order_line_id"]: int(row["units"] or 0) for row in rows}


def _claimed(order: Order) -> dict[int, int]:
    rows = (
        ClaimLine.objects.filter(claim__order=order)
        .exclude(claim__status="refused")
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["order_line_id"]: int(row["units"] or 0) for row in rows}


def order_returnable(
    *, order: Order, now: datetime, exclude_return_id: int | None = None
) -> Returnable:
    """What each line of ``order`` may still return at ``now`` (see the module docstring).

    ``exclude_return_id`` leaves one return request out of the count (re-checking it). For a
    decision that must hold, call it under the order's lock (``order_lock``).
    """
    lines: Sequence[OrderLine] = list(
        OrderLine.objects.filter(order=order).select_related("product").order_by("line_number")
    )
    policies = return_policies_for(
        channel_id=order.channel_id, products={line.product for line in lines}
    )
    delivered = _delivered(order)
    in_returns = _in_returns(order, exclude_return_id=exclude_return_id)
    claimed = _claimed(order)
    result = []
    for line in lines:
        policy = policies[line.product_id]
        units, reached_at = delivered.get(line.id, (0, None))
        units = min(units, line.quantity_fulfilled)
        deadline = reached_at + timedelta(days=policy.window_days) if reached_at else None
        taken = in_returns.get(line.id, 0)
        lost = claimed.get(line.id, 0)
        left = max(0, units - taken - lost)
        if not policy.is_returnable:
            code = "not_returnable"
        elif units == 0:
            code = "not_delivered"
        elif deadline is not None and now > deadline:
            code = "window_closed"
        elif left == 0:
            code = "nothing_left"
        else:
            code = ""
        result.append(
            ReturnableLine(
                order_line_id=line.id,
                line_number=line.line_number,
                sku=line.sku,
                name=line.name,
                quantity_delivered=units,
                quantity_in_returns=taken,
                quantity_claimed=lost,
                quantity_returnable=0 if code else left,
                delivered_at=reached_at,
                return_deadline=deadline,
                refusal_code=code,
                policy=policy,
            )
        )
    return Returnable(order=order, lines=tuple(result), reasons=tuple(ReturnReason.choices))


def order_get_by_number(*, number: str, channel_id: int | None) -> Order:
    """The order with this number; with ``channel_id``, only that channel's (else not found)."""
    queryset = Order.objects.select_related("channel", "customer")
    if channel_id is not None:
        queryset = queryset.filter(channel_id=channel_id)
    order = queryset.filter(number=number).first()
    if order is None:
        raise NotFound(f"No order {number}.", code="order_not_found")
    return order


def return_list(*, channel_id: int | None = None) -> QuerySet[ReturnRequest]:
    """Return requests, newest first; a channel sees those of its own orders only."""
    queryset = ReturnRequest.objects.select_related(
        "order", "channel", "location", "received_location", "customer"
    ).prefetch_related(
        "lines__order_line",
        "lines__proposed_location",
        "lines__disposition_location",
        "refunds",
    )
    if channel_id is not None:
        queryset = queryset.filter(order__channel_id=channel_id)
    return queryset


def return_get(*, number: str, channel_id: int | None = None) -> ReturnRequest:
    found = return_list(channel_id=channel_id).filter(number=number)
    rma = found.first()
    if rma is None:
        raise NotFound(f"No return {number}.", code="return_not_found")
    return rma
