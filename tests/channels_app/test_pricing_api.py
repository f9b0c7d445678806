"""Prices and promotions through the database: selectors, the quote API, demo data, constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from channels_app.demo import seed_prices
from channels_app.models import PriceList, PriceListItem, Promotion, SalesChannel, TaxRate
from channels_app.pricing import CartLine
from channels_app.selectors import cart_price
from omnilog.core.errors import ValidationFailed
from tests.core.helpers import problem_of
from tests.factories import CustomerFactory, SalesChannelFactory, channel_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/prices/quote"
AT = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def catalogue() -> dict[str, Any]:
    """FR rates, a base list, a B2B customer list, a category sale and a coupon."""
    web = SalesChannelFactory(code="web")
    app = SalesChannelFactory(code="app")
    business = CustomerFactory(company_name="Acme SAS", first_channel=web)
    TaxRate.objects.create(country="FR", tax_class="standard", rate=Decimal("20.00"))
    TaxRate.objects.create(country="FR", tax_class="reduced", rate=Decimal("5.50"))
    base = PriceList.objects.create(code="base", name="Base")
    PriceListItem.objects.bulk_create(
        [
            PriceListItem(price_list=base, sku="TEE", unit_price=Decimal("24.00")),
            PriceListItem(price_list=base, sku="BOOK", unit_price=Decimal("10.55")),
            PriceListItem(price_list=base, sku="MUG", unit_price=Decimal("9.99")),
        ]
    )
    acme = PriceList.objects.create(
        code="acme", name="Acme", customer=business, prices_include_tax=False
    )
    PriceListItem.objects.create(price_list=acme, sku="TEE", unit_price=Decimal("15.00"))
    PriceListItem.objects.create(
        price_list=acme, sku="TEE", unit_price=Decimal("14.00"), min_quantity=10
    )
    sale = Promotion.objects.create(
        code="apparel-sale",
        name="Apparel -20 %",
        kind=Promotion.Kind.PERCENT_OFF,
        target=Promotion.Target.CATEGORY,
        categories=["apparel"],
        value=Decimal("20"),
        starts_at=AT - timedelta(days=1),
        ends_at=AT + timedelta(days=1),
        customer_segment=Promotion.Segment.B2C,
    )
    sale.channels.add(web)
    Promotion.objects.create(
        code="welcome",
        name="Welcome 5 EUR",
        kind=Promotion.Kind.AMOUNT_OFF,
        target=Promotion.Target.CART,
        value=Decimal("5"),
        coupon_code="WELCOME5",
        usage_limit=1,
        times_used=0,
    )
    Promotion.objects.create(
        code="spent",
        name="Spent",
        kind=Promotion.Kind.PERCENT_OFF,
        target=Promotion.Target.CART,
        value=Decimal("50"),
        coupon_code="SPENT",
        usage_limit=1,
        times_used=1,
    )
    return {"web": web, "app": app, "business": business}


LINES = [
    CartLine(sku="TEE", quantity=2, category="apparel"),
    CartLine(sku="BOOK", quantity=1, category="books", tax_class="reduced"),
]


def test_cart_price_reads_in_a_constant_number_of_queries(catalogue: dict[str, Any]) -> None:
    many = [CartLine(sku=f"SKU{i}", quantity=1) for i in range(40)]
    base = PriceList.objects.get(code="base")
    PriceListItem.objects.bulk_create(
        [PriceListItem(price_list=base, sku=line.sku, unit_price=Decimal("1.00")) for line in many]
    )
    counts = []
    for lines, customer in ((LINES, None), (many, catalogue["business"].pk)):
        with CaptureQueriesContext(connection) as queries:
            cart_price(
                channel=catalogue["web"],
                lines=lines,
                customer_id=customer,
                coupon_codes=["WELCOME5", "SPENT"],
                at=AT,
            )
        counts.append(len(queries))
    # price list items with their lists, promotions (channels aggregated), tax rates; + the
    # customer when only its id is given.
    assert counts == [3, 4]


def test_cart_price_for_a_consumer(catalogue: dict[str, Any]) -> None:
    cart = cart_price(
        channel=catalogue["web"], lines=LINES, coupon_codes=["welcome5", "SPENT"], at=AT
    )
    tee, book = cart.lines
    assert (tee.subtotal, tee.line_discounts[0].amount) == (Decimal("48.00"), Decimal("9.60"))
    # 5.00 off the cart, prorated over 38.40 and 10.55.
    assert [share.amount for share in (tee.cart_discounts[0], book.cart_discounts[0])] == [
        Decimal("3.92"),
        Decimal("1.08"),
    ]
    assert cart.grand_total == Decimal("43.95")
    assert cart.applied_coupons == ("WELCOME5",)
    assert [(r.code, r.reason.value) for r in cart.rejected_coupons] == [
        ("SPENT", "usage_limit_reached")
    ]


def test_cart_price_for_a_business_uses_its_list_tax_excluded(catalogue: dict[str, Any]) -> None:
    cart = cart_price(
        channel=catalogue["web"],
        lines=[CartLine(sku="TEE", quantity=10, category="apparel")],
        customer_id=catalogue["business"].pk,
        at=AT,
    )
    (tee,) = cart.lines
    assert cart.prices_include_tax is False
    assert (tee.price_list_code, tee.unit_price, tee.discount_total) == (
        "acme",
        Decimal("14.00"),
        Decimal("0.00"),  # the sale is for consumers only
    )
    assert (cart.total_excluding_tax, cart.tax_total, cart.grand_total) == (
        Decimal("140.00"),
        Decimal("28.00"),
        Decimal("168.00"),
    )


def test_the_sale_is_scoped_to_its_channel(catalogue: dict[str, Any]) -> None:
    cart = cart_price(channel=catalogue["app"], lines=LINES, at=AT)
    assert cart.discounts == ()


def test_cart_price_errors_name_the_fields(catalogue: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        cart_price(channel=catalogue["web"], lines=[CartLine(sku="NOPE", quantity=1)], at=AT)
    assert [(e.field, e.code) for e in caught.value.field_errors] == [("lines.0.sku", "no_price")]
    with pytest.raises(ValidationFailed) as caught:
        cart_price(channel=catalogue["web"], lines=LINES, customer_id=999_999, at=AT)
    assert [(e.field, e.code) for e in caught.value.field_errors] == [("customer_id", "not_found")]


# ------------------------------------------------------------------------------------- API


def post(body: dict[str, Any], key: str | None) -> Any:
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_X_API_KEY=key)
    return client.post(URL, body, format="json")


BODY = {
    "lines": [
        {"sku": "TEE", "quantity": 2, "category": "apparel"},
        {"sku": "BOOK", "quantity": 1, "category": "books", "tax_class": "reduced"},
    ],
    "coupon_codes": ["welcome5", "NOPE"],
    "at": "2025-06-01T12:00:00Z",
}


def test_quote_returns_the_priced_cart(catalogue: dict[str, Any]) -> None:
    response = post(BODY, channel_api_key(catalogue["web"]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["lines"][0] == {
        "sku": "TEE",
        "quantity": 2,
        "category": "apparel",
        "tax_class": "standard",
        "price_list_code": "base",
        "unit_price": "24.00",
        "subtotal": "48.00",
        "line_discounts": [{"promotion_code": "apparel-sale", "amount": "9.60"}],
        "cart_discounts": [{"promotion_code": "welcome", "amount": "3.92"}],
        "discount_total": "13.52",
        "total": "34.48",
        "tax_rate": "20.00",
        "tax_amount": "5.75",
        "total_excluding_tax": "28.73",
        "total_including_tax": "34.48",
    }
    assert {key: body[key] for key in body if key != "lines"} == {
        "currency": "EUR",
        "prices_include_tax": True,
        "subtotal": "58.55",
        "discounts": [
            {
                "code": "apparel-sale",
                "name": "Apparel -20 %",
                "level": "line",
                "amount": "9.60",
                "line_indexes": [0],
                "coupon_code": "",
            },
            {
                "code": "welcome",
                "name": "Welcome 5 EUR",
                "level": "cart",
                "amount": "5.00",
                "line_indexes": [0, 1],
                "coupon_code": "WELCOME5",
            },
        ],
        "discount_total": "14.60",
        "total": "43.95",
        "total_excluding_tax": "37.71",
        "tax_total": "6.24",
        "total_including_tax": "43.95",
        "grand_total": "43.95",
        "taxes": [
            {"tax_class": "reduced", "rate": "5.50", "base": "8.98", "amount": "0.49"},
            {"tax_class": "standard", "rate": "20.00", "base": "28.73", "amount": "5.75"},
        ],
        "applied_coupons": ["WELCOME5"],
        "rejected_coupons": [{"code": "NOPE", "reason": "unknown"}],
    }


def test_quote_needs_a_channel_key(catalogue: dict[str, Any]) -> None:
    problem_of(post(BODY, None), 401, "not_authenticated")
    problem_of(post(BODY, "garbage"), 401, "authentication_failed")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({"lines": []}, ["lines"], id="empty"),
        pytest.param(
            {"lines": [{"sku": "TEE", "quantity": 0}, {"quantity": 1}]},
            ["lines.0.quantity", "lines.1.sku"],
            id="bad-lines",
        ),
        pytest.param(
            {"lines": [{"sku": "TEE", "quantity": 1}], "at": "yesterday", "customer_id": "x"},
            ["customer_id", "at"],
            id="bad-fields",
        ),
    ],
)
def test_quote_rejects_bad_input_field_by_field(
    catalogue: dict[str, Any], body: dict[str, Any], fields: list[str]
) -> None:
    document = problem_of(post(body, channel_api_key(catalogue["web"])), 400, "validation_failed")
    assert sorted(e["field"] for e in document["errors"]) == sorted(fields)


def test_quote_of_unpriced_lines_is_422_with_field_errors(catalogue: dict[str, Any]) -> None:
    body = {
        "lines": [
            {"sku": "TEE", "quantity": 1},
            {"sku": "NOPE", "quantity": 1, "tax_class": "luxury"},
        ]
    }
    document = problem_of(post(body, channel_api_key(catalogue["web"])), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in document["errors"]] == [
        ("lines.1.tax_class", "no_tax_rate"),
        ("lines.1.sku", "no_price"),
    ]


# ------------------------------------------------------------------------- demo and models


def test_seed_prices_is_deterministic_and_idempotent() -> None:
    SalesChannelFactory(code="b2b", kind=SalesChannel.Kind.B2B)
    skus = [("DEMO-1", "apparel"), ("DEMO-2", "books"), ("DEMO-3", "home")]
    assert seed_prices(sku_categories=skus, seed=7) == 9

    def snapshot() -> list[tuple[str, str, int, Decimal]]:
        return list(
            PriceListItem.objects.order_by("price_list__code", "sku", "min_quantity").values_list(
                "price_list__code", "sku", "min_quantity", "unit_price"
            )
        )

    first = snapshot()
    counts = (PriceList.objects.count(), Promotion.objects.count(), TaxRate.objects.count())
    seed_prices(sku_categories=list(reversed(skus)), seed=7)
    assert snapshot() == first
    assert (PriceList.objects.count(), Promotion.objects.count(), TaxRate.objects.count()) == counts
    assert counts == (2, 4, 4)
    cart = cart_price(
        channel=SalesChannelFactory(code="web"),
        lines=[CartLine(sku="DEMO-2", quantity=1, category="books", tax_class="reduced")],
        coupon_codes=["welcome10"],
    )
    assert cart.applied_coupons == ("WELCOME10",)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"kind": "percent_off", "value": Decimal("120")}, id="percent-over-100"),
        pytest.param({"kind": "amount_off", "value": Decimal("0")}, id="amount-zero"),
        pytest.param({"kind": "buy_x_get_y", "value": Decimal("100")}, id="bxgy-no-quantities"),
        pytest.param({"target": "product", "skus": []}, id="product-without-skus"),
        pytest.param({"starts_at": AT, "ends_at": AT}, id="empty-window"),
        pytest.param({"usage_limit": 1, "times_used": 2}, id="over-used"),
    ],
)
def test_promotion_constraints(fields: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "code": "p",
        "name": "P",
        "kind": "percent_off",
        "target": "cart",
        "value": Decimal("10"),
    }
    values.update(fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Promotion.objects.create(**values)


def test_coupon_codes_are_unique_ignoring_case() -> None:
    common = {"name": "P", "kind": "percent_off", "target": "cart", "value": Decimal("10")}
    Promotion.objects.create(code="a", coupon_code="SAVE", **common)
    Promotion.objects.create(code="b", **common)
    Promotion.objects.create(code="c", **common)  # many promotions without a coupon
    with pytest.raises(IntegrityError), transaction.atomic():
        Promotion.objects.create(code="d", coupon_code="save", **common)


@pytest.mark.parametrize("model", ["pricelist", "promotion", "taxrate"])
def test_admin_pages_render(admin_client: Any, catalogue: dict[str, Any], model: str) -> None:
    for url in (f"/admin/channels_app/{model}/", f"/admin/channels_app/{model}/add/"):
        assert admin_client.get(url).status_code == 200
    models: dict[str, type[PriceList] | type[Promotion] | type[TaxRate]] = {
        "pricelist": PriceList,
        "promotion": Promotion,
        "taxrate": TaxRate,
    }
    first = models[model]._default_manager.first()
    assert first is not None
    assert admin_client.get(f"/admin/channels_app/{model}/{first.pk}/change/").status_code == 200
