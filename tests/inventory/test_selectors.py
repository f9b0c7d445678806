"""ATP policy (pure core) and the availability selectors, with exact values."""

from __future__ import annotations

from datetime import date

import pytest

from inventory.availability import (
    BufferRule,
    ChannelPolicy,
    StockFigures,
    channel_atp,
    network_atp,
)
from inventory.geocoding import city_locate, postcode_locate
from inventory.selectors import (
    AvailabilityStep,
    PendingStock,
    channel_availability,
    channel_policy_get,
    future_availability,
    product_location_availability,
    stores_nearby,
)
from inventory.services import (
    ReserveLine,
    stock_damage,
    stock_incoming_expect,
    stock_qc_hold,
    stock_receive,
    stock_reserve,
    stock_safety_set,
    stock_transfer_ship,
)
from omnilog.core.errors import NotFound, ValidationFailed
from tests.factories import (
    ChannelStockRuleFactory,
    LocationFactory,
    ProductFactory,
    SalesChannelFactory,
    StoreFactory,
)

# --- pure core ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "buffer", "policy", "expected"),
    [
        (100, BufferRule(units=2, percent=10), ChannelPolicy(), 88),
        (0, BufferRule(units=2, percent=10), ChannelPolicy(), 0),
        (5, BufferRule(units=10), ChannelPolicy(), 0),  # buffer larger than the stock
        (10, BufferRule(percent=15), ChannelPolicy(), 8),  # 1.5 held back, rounded up to 2
        (7, BufferRule(percent=1), ChannelPolicy(), 6),  # any percent holds at least one unit
        (100, BufferRule(), ChannelPolicy(rationing_percent=30), 30),
        (100, BufferRule(units=5), ChannelPolicy(rationing_percent=30), 30),
        (10, BufferRule(units=8), ChannelPolicy(rationing_percent=30), 2),  # buffer bites first
        (9, BufferRule(), ChannelPolicy(rationing_percent=50), 4),  # 4.5 rounded down
        (2, BufferRule(), ChannelPolicy(last_unit_threshold=3), 0),
        (3, BufferRule(), ChannelPolicy(last_unit_threshold=3), 3),
        (10, BufferRule(units=8), ChannelPolicy(last_unit_threshold=3), 0),
        (100, BufferRule(), ChannelPolicy(rationing_percent=0), 0),
    ],
)
def test_channel_atp_table(
    network: int, buffer: BufferRule, policy: ChannelPolicy, expected: int
) -> None:
    assert channel_atp(network=network, buffer=buffer, policy=policy) == expected


def test_location_atp_never_negative_and_network_ignores_shortfalls() -> None:
    short = StockFigures(on_hand=5, reserved=2, damaged=1, quality_control=1, safety_stock=4)
    assert (short.free, short.atp_raw, short.atp) == (1, -3, 0)
    full = StockFigures(on_hand=10, reserved=1, safety_stock=2)
    assert network_atp([short, full]) == 7
    assert network_atp([]) == 0


def test_buffer_for_prefers_product_then_category_then_default() -> None:
    policy = ChannelPolicy(
        default_buffer=BufferRule(units=1),
        product_buffers={7: BufferRule(units=5)},
        category_buffers={"shoes": BufferRule(percent=20)},
    )
    assert policy.buffer_for(product_id=7, category="shoes") == BufferRule(units=5)
    assert policy.buffer_for(product_id=8, category="shoes") == BufferRule(percent=20)
    assert policy.buffer_for(product_id=8, category="apparel") == BufferRule(units=1)
    assert BufferRule(units=3, percent=50).held_back(0) == 0


# --- selectors ---------------------------------------------------------------------------


def put_stock(  # type: ignore[no-untyped-def]
    product, location, on_hand, *, reserved=0, damaged=0, qc=0, safety=0
) -> None:
    """Bring one level to these counters through the services (the ledger stays true)."""
    stock_receive(product_id=product.id, location_id=location.id, quantity=on_hand)
    if reserved:
        stock_reserve(
            lines=[ReserveLine(product_id=product.id, quantity=reserved, location_id=location.id)]
        )
    if damaged:
        stock_damage(
            product_id=product.id, location_id=location.id, quantity=damaged, reason="test"
        )
    if qc:
        stock_qc_hold(product_id=product.id, location_id=location.id, quantity=qc, reason="test")
    if safety:
        stock_safety_set(product_id=product.id, location_id=location.id, safety_stock=safety)


@pytest.fixture
def network(db):  # type: ignore[no-untyped-def]
    """Web (1 unit + 10 % buffer) and a marketplace (30 % rationing, last-unit 2)."""
    web = SalesChannelFactory(code="web", buffer_units=1, buffer_percent=10)
    market = SalesChannelFactory(
        code="market", kind="marketplace", rationing_percent=30, last_unit_threshold=2
    )
    other = SalesChannelFactory(code="b2b", kind="b2b")
    warehouse = LocationFactory(code="wh-paris", channels=[web, market])
    paris = StoreFactory(
        code="st-paris", channels=[web], postcode="75001", latitude=48.8606, longitude=2.3376
    )
    lyon = StoreFactory(
        code="st-lyon", channels=[web], postcode="69002", latitude=45.7578, longitude=4.8320
    )
    closed = StoreFactory(code="st-closed", channels=[web], is_active=False)
    b2b_only = LocationFactory(code="wh-b2b", channels=[other])
    shirt = ProductFactory(sku="SHIRT", category="apparel")
    shoes = ProductFactory(sku="SHOES", category="shoes")
    put_stock(shirt, warehouse, 20, reserved=3, damaged=1, qc=1, safety=2)  # ATP 13
    put_stock(shirt, paris, 5)  # ATP 5
    put_stock(shirt, lyon, 2, safety=4)  # ATP 0 (short of its safety stock)
    put_stock(shirt, closed, 7)  # inactive: never counted
    put_stock(shirt, b2b_only, 100)  # another channel's location
    put_stock(shoes, warehouse, 4)
    return {
        "web": web,
        "market": market,
        "other": other,
        "warehouse": warehouse,
        "paris": paris,
        "lyon": lyon,
        "shirt": shirt,
        "shoes": shoes,
    }


def test_channel_availability_applies_buffers_rationing_and_last_unit(network) -> None:  # type: ignore[no-untyped-def]
    web = channel_availability(channel_id=network["web"].id, skus=["SHIRT", "SHOES", "NOPE"])
    assert [(p.sku, p.network_atp, p.atp, p.locations_in_stock) for p in web.products] == [
        ("SHIRT", 18, 15, 2),  # 18 - (1 + ceil(1.8))
        ("SHOES", 4, 2, 1),  # 4 - (1 + ceil(0.4))
    ]
    assert web.unknown_skus == ("NOPE",)
    market = channel_availability(channel_id=network["market"].id, skus=["SHIRT", "SHOES"])
    # The marketplace sells from the warehouse only: 13 -> 30 % = 3; 4 -> 1 < 2 -> 0.
    assert [(p.sku, p.network_atp, p.atp) for p in market.products] == [
        ("SHIRT", 13, 3),
        ("SHOES", 4, 0),
    ]
    b2b = channel_availability(channel_id=network["other"].id, skus=["SHIRT", "SHOES"])
    assert [(p.sku, p.atp, p.locations_in_stock) for p in b2b.products] == [
        ("SHIRT", 100, 1),
        ("SHOES", 0, 0),
    ]


def test_category_and_product_rules_override_the_channel_default(network) -> None:  # type: ignore[no-untyped-def]
    web = network["web"]
    ChannelStockRuleFactory(channel=web, category="apparel", buffer_units=5)
    ChannelStockRuleFactory(channel=web, product=network["shoes"], buffer_percent=50)
    ChannelStockRuleFactory(channel=network["market"], category="shoes", buffer_units=4)
    result = channel_availability(channel_id=web.id, skus=["SHOES", "SHIRT", "SHOES"])
    assert [(p.sku, p.atp) for p in result.products] == [("SHOES", 2), ("SHIRT", 13)]
    policy = channel_policy_get(channel_id=web.id)
    assert policy.category_buffers == {"apparel": BufferRule(units=5)}
    assert policy.product_buffers == {network["shoes"].id: BufferRule(percent=50)}
    assert (policy.default_buffer, policy.rationing_percent) == (BufferRule(1, 10), 100)
    narrowed = channel_policy_get(channel_id=web.id, product_ids=[network["shirt"].id])
    assert narrowed.product_buffers == {}


def test_inactive_products_are_unknown_and_the_limit_is_enforced(network) -> None:  # type: ignore[no-untyped-def]
    ProductFactory(sku="OLD", is_active=False)
    result = channel_availability(channel_id=network["web"].id, skus=["OLD", " ", "SHIRT"])
    assert result.unknown_skus == ("OLD",)
    with pytest.raises(ValidationFailed) as caught:
        channel_availability(channel_id=network["web"].id, skus=[f"S{n}" for n in range(101)])
    assert (caught.value.status, caught.value.field_errors[0].field) == (400, "sku")
    with pytest.raises(NotFound):
        channel_policy_get(channel_id=999_999)


def test_product_location_availability_lists_the_channel_locations(network) -> None:  # type: ignore[no-untyped-def]
    rows = product_location_availability(channel_id=network["web"].id, sku="SHIRT")
    # ``atp`` is an annotation of the selector's queryset.
    assert [(row.code, row.atp, row.is_click_and_collect) for row in rows] == [  # type: ignore[attr-defined]
        ("st-lyon", 0, True),
        ("st-paris", 5, True),
        ("wh-paris", 13, False),
    ]
    in_stores = product_location_availability(
        channel_id=network["web"].id, sku="SHIRT", filters={"kind": "store", "in_stock": "true"}
    )
    assert [row.code for row in in_stores] == ["st-paris"]
    with pytest.raises(ValidationFailed) as caught:
        product_location_availability(
            channel_id=network["web"].id, sku="SHIRT", filters={"kind": "castle"}
        )
    assert [error.field for error in caught.value.field_errors] == ["kind"]
    with pytest.raises(NotFound):
        product_location_availability(channel_id=network["web"].id, sku="NOPE")


def test_stores_nearby_measures_haversine_distance_in_sql(network) -> None:  # type: ignore[no-untyped-def]
    put_stock(network["shirt"], network["lyon"], 10)  # now 12 on hand, 4 safety: ATP 8
    louvre = (48.8611, 2.3364)
    near = stores_nearby(
        channel_id=network["web"].id,
        sku="SHIRT",
        latitude=louvre[0],
        longitude=louvre[1],
        radius_km=1000,
        limit=10,
    )
    assert [(s.code, s.atp, round(s.distance_km, 1)) for s in near] == [  # type: ignore[attr-defined]
        ("st-paris", 5, 0.1),
        ("st-lyon", 8, 393.0),  # Python haversine: 392.98 km
    ]
    close = stores_nearby(
        channel_id=network["web"].id,
        sku="SHIRT",
        latitude=louvre[0],
        longitude=louvre[1],
        radius_km=50,
        limit=10,
    )
    assert [s.code for s in close] == ["st-paris"]
    # A store without stock is not "nearby with stock".
    assert (
        stores_nearby(
            channel_id=network["web"].id,
            sku="SHOES",
            latitude=louvre[0],
            longitude=louvre[1],
            radius_km=1000,
            limit=10,
        )
        == []
    )


def test_future_availability_schedules_dated_supplier_units(network) -> None:  # type: ignore[no-untyped-def]
    shirt, web = network["shirt"], network["web"]
    stock_incoming_expect(
        product_id=shirt.id,
        location_id=network["paris"].id,
        quantity_delta=10,
        expected_date=date(2031, 5, 2),
    )
    stock_incoming_expect(
        product_id=shirt.id,
        location_id=network["lyon"].id,
        quantity_delta=6,
        expected_date=date(2031, 5, 9),
    )
    stock_transfer_ship(
        product_id=shirt.id,
        from_location_id=network["warehouse"].id,
        to_location_id=network["paris"].id,
        quantity=3,
        transfer_reference="TR-1",
    )
    future = future_availability(channel_id=web.id, sku="SHIRT")
    # Now: warehouse 10, Paris 5, Lyon 0 -> network 15 -> 15 - (1 + 2) = 12.
    assert (future.atp, future.in_transit, future.incoming) == (12, 3, 16)
    assert future.pending == (  # by location code
        PendingStock(
            network["lyon"].id, "st-lyon", "Location st-lyon", "store", 0, 6, date(2031, 5, 9)
        ),
        PendingStock(
            network["paris"].id, "st-paris", "Location st-paris", "store", 3, 10, date(2031, 5, 2)
        ),
    )
    # 2 May: Paris 15 -> network 25 -> 25 - 4 = 21. 9 May: Lyon 8 on hand, 4 safety -> ATP 4
    # (the first 2 units refill its safety stock) -> network 29 -> 29 - 4 = 25.
    assert future.schedule == (
        AvailabilityStep(date(2031, 5, 2), 10, 25, 21),
        AvailabilityStep(date(2031, 5, 9), 6, 29, 25),
    )


def test_postcode_and_city_geocoding(network) -> None:  # type: ignore[no-untyped-def]
    point = postcode_locate(postcode="75001", country="fr")
    assert point is not None
    assert (point.latitude, point.longitude, point.precision) == (48.8606, 2.3376, "postcode")
    assert postcode_locate(postcode="75002", country="FR") is None
    lyon = city_locate(city="lyon", country="FR")
    assert lyon is not None
    assert (lyon.latitude, lyon.longitude, lyon.precision) == (45.74906, 4.84789, "city")
    assert city_locate(city="Atlantis", country="FR") is None
