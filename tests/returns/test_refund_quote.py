"""``refund_quote`` on orders placed through the real capture: stored pricing -> calculator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnilog.core.errors import ValidationFailed
from orders.models import Order, OrderLine
from returns.models import Refund, ReturnPolicy, ReturnReason
from returns.refunds import SELLER_FAULT_REASONS
from returns.services.refunds import CLAIM_POLICY, refund_quote
from tests.returns.refunds.shop import line_of, place, shop

pytestmark = pytest.mark.django_db
D = Decimal


def stacked_order(net):
    order = place(net["web"], {"SHIRT-S": 3, "BAG": 1}, coupons=("SAVE5",))
    assert [(li.sku, li.total, li.tax_amount) for li in order.lines.order_by("line_number")] == [
        ("SHIRT-S", D("47.59"), D("7.93")),
        ("BAG", D("22.88"), D("3.81")),
    ]
    return order


def record(order, quote, *, status=Refund.Status.CONFIRMED, reference="RF-T1"):
    """Given: an earlier refund of this quote was stored (as the return lifecycle does)."""
    from django.utils import timezone

    return Refund.objects.create(
        reference=reference,
        return_request=None,
        claim=_claim(order),
        order=order,
        status=status,
        requested_at=timezone.now(),
        confirmed_at=timezone.now() if status == Refund.Status.CONFIRMED else None,
        **quote.refund_fields(),
    )


def _claim(order):
    from returns.models import Claim

    return Claim.objects.create(
        number=f"CL-T{Claim.objects.count() + 1}", order=order, kind="lost", resolution="refund"
    )


def test_reason_codes_agree_with_the_models():
    assert set(ReturnReason.values) >= SELLER_FAULT_REASONS


def test_stacked_promotions_partial_then_rest_with_fee_policy():
    net = shop()
    order = stacked_order(net)
    ReturnPolicy.objects.create(
        channel=net["web"], restocking_fee_percent=D("10"), shipping_refund_rule="whole_order"
    )
    shirt, bag = line_of(order, "SHIRT-S"), line_of(order, "BAG")

    first = refund_quote(order=order, lines=[(shirt, 1, "changed_mind")])
    (line,) = first.lines
    assert (line.key, line.gross, line.tax, line.fee, line.amount) == (
        shirt.pk,
        D("15.86"),
        D("2.64"),
        D("1.59"),
        D("14.27"),
    )
    assert (first.total, first.tax_total, first.document) == (D("14.27"), D("2.38"), "refund")
    record(order, first)

    rest = refund_quote(order=order, lines=[(shirt, 2, "defective"), (bag, 1, "changed_mind")])
    assert [(li.gross, li.fee, li.amount) for li in rest.lines] == [
        (D("31.73"), D("0.00"), D("31.73")),
        (D("22.88"), D("2.29"), D("20.59")),
    ]
    assert rest.is_whole_order_returned is True
    assert rest.shipping == 0  # free shipping: nothing was paid for it
    assert rest.total == D("52.32")
    assert first.total + rest.total == order.grand_total - D("1.59") - D("2.29")
    assert rest.breakdown_json()["lines"][0] == {
        "order_line_id": shirt.pk,
        "quantity": 2,
        "reason_code": "defective",
        "gross": "31.73",
        "tax": "5.29",
        "net": "26.44",
        "fee": "0.00",
        "fee_tax": "0.00",
        "is_fee_exempt": True,
        "amount": "31.73",
    }


def test_category_policy_fee_and_paid_shipping_on_whole_return():
    net = shop()
    order = stacked_order(net)
    Order.objects.filter(pk=order.pk).update(
        shipping_total=D("4.90"), grand_total=order.grand_total + D("4.90")
    )
    order.refresh_from_db()
    ReturnPolicy.objects.create(channel=None, shipping_refund_rule="whole_order")
    ReturnPolicy.objects.create(channel=net["web"], category="bags", restocking_fee_percent=D("20"))
    shirt, bag = line_of(order, "SHIRT-S"), line_of(order, "BAG")
    quote = refund_quote(order=order, lines=[(shirt, 3, "changed_mind"), (bag, 1, "changed_mind")])
    # Shirts: no fee (the all-channels default); bag: 20 % of 22.88 = 4.576 -> 4.58.
    assert [li.fee for li in quote.lines] == [D("0.00"), D("4.58")]
    assert (quote.shipping, quote.shipping_tax) == (D("4.90"), D("0.82"))
    assert quote.total == order.grand_total - D("4.58")


def test_pending_refunds_count_failed_ones_do_not():
    net = shop()
    order = stacked_order(net)
    shirt = line_of(order, "SHIRT-S")
    whole = refund_quote(order=order, lines=[(shirt, 3, "changed_mind")])
    failed = record(order, whole, status=Refund.Status.FAILED, reference="RF-F")
    again = refund_quote(order=order, lines=[(shirt, 3, "changed_mind")])
    assert again.total == D("47.59")
    pending = record(order, again, status=Refund.Status.REQUESTED, reference="RF-P")
    with pytest.raises(ValidationFailed) as caught:
        refund_quote(order=order, lines=[(shirt, 1, "changed_mind")])
    assert [(e.field, e.code) for e in caught.value.field_errors] == [
        ("lines.0.quantity", "over_refundable")
    ]
    requote = refund_quote(
        order=order, lines=[(shirt, 3, "changed_mind")], exclude_refund_ids=[pending.pk, failed.pk]
    )
    assert requote.total == D("47.59")


def test_claim_policy_refunds_shipping_without_fees():
    net = shop()
    order = stacked_order(net)
    Order.objects.filter(pk=order.pk).update(shipping_total=D("4.90"))
    order.refresh_from_db()
    ReturnPolicy.objects.create(channel=net["web"], restocking_fee_percent=D("50"))
    bag = line_of(order, "BAG")
    quote = refund_quote(order=order, lines=[(bag, 1, "damaged_in_transit")], policy=CLAIM_POLICY)
    assert (quote.lines[0].fee, quote.shipping, quote.total) == (
        D("0.00"),
        D("4.90"),
        D("27.78"),
    )


def test_business_order_gets_a_credit_note():
    net = shop()
    order = place(net["pro"], {"BAG": 4}, email="buyer@acme.example", company="Acme")
    bag = line_of(order, "BAG")
    # 24.50 incl. tax -> 20.42 net a unit, 81.68 for 4, tax 16.34, paid 98.02.
    assert (bag.unit_price, bag.tax_amount, bag.total) == (D("20.42"), D("16.34"), D("98.02"))
    quote = refund_quote(order=order, lines=[(bag, 1, "wrong_item")])
    assert quote.document == "credit_note"
    assert (quote.net_total, quote.tax_total, quote.total) == (D("20.42"), D("4.08"), D("24.50"))


def test_order_with_only_an_order_level_discount_is_prorated():
    """An order whose pricing was not stored (imported): 5.00 off the order, lines undiscounted."""
    net = shop()
    order = place(net["web"], {"SHIRT-S": 1, "CAP": 2})
    Order.objects.filter(pk=order.pk).update(
        pricing={},
        discount_total=order.discount_total + D("5.00"),
        grand_total=order.grand_total - D("5.00"),
    )
    order.refresh_from_db()
    shirt, cap = line_of(order, "SHIRT-S"), line_of(order, "CAP")
    # Shirt 19.99 - 15 % = 16.99 (line discount 3.00); caps 18.00: 5.00 split 2.43 / 2.57.
    quote = refund_quote(order=order, lines=[(shirt, 1, "changed_mind"), (cap, 2, "changed_mind")])
    assert [(li.gross, li.tax) for li in quote.lines] == [
        (D("14.56"), D("2.43")),
        (D("15.43"), D("2.57")),
    ]
    assert quote.total == order.grand_total


def test_bad_lines_are_refused_with_field_paths():
    net = shop()
    order = stacked_order(net)
    other = place(net["web"], {"CAP": 1}, email="other@example.com")
    shirt = line_of(order, "SHIRT-S")
    with pytest.raises(ValidationFailed) as caught:
        refund_quote(
            order=order,
            lines=[
                (line_of(other, "CAP"), 1, "changed_mind"),
                (shirt, 4, "changed_mind"),
                (shirt, 0, "changed_mind"),
            ],
        )
    assert [(e.field, e.code) for e in caught.value.field_errors] == [
        ("lines.0.line", "unknown_line"),
        ("lines.1.quantity", "over_refundable"),
        ("lines.2.line", "duplicate"),
        ("lines.2.quantity", "min_value"),
    ]
    assert not Refund.objects.exists()
    assert OrderLine.objects.filter(order=order, quantity_returned__gt=0).count() == 0
